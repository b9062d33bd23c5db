#!/usr/bin/env bash
# The shim's histogram index converts a value to a double (shim/
# acceptwatch_abi.h). A host whose accept loops round upward and trap every
# floating-point exception must see no SIGFPE and find its rounding mode and
# exception flags as it left them after every accept, on the common path
# (a storm), the slow path (a loop slower than the threshold) and the shared
# stripe (more threads than a listener has stripes); and every accept counts.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
REL=$AW_ROOT/build/rel

sum_accepts() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(l["accepts"] for p in d["processes"] for l in p["listeners"]))' "$1"
}

# The server's own count, the shim's and the clients' agree; the server
# stopped on SIGTERM (exit 0), not on SIGFPE or its own check.
counts_exact() { # NAME N WHAT
	local pid_var=$1_PID got own rc
	"$AW_TOOL" stat --json "${!pid_var}" >"$AW_TMP/$1.json"
	got=$(sum_accepts "$AW_TMP/$1.json")
	kill -TERM "${!pid_var}"
	wait "${!pid_var}"
	rc=$?
	own=$(awk '/^accepted/ {print $2}' "$AW_TMP/$1.out")
	[ "$rc" = 0 ] || aw_fail "$3: server exit $rc: $(cat "$AW_TMP/$1.err")"
	[ "$got" = "$2" ] && [ "$own" = "$2" ] ||
		aw_fail "$3: shim $got, server $own, clients $2"
	echo "$3: $2 connections, shim $got, server $own, exit $rc"
}

# Common path: 2 threads, 20,000 connections.
LD_PRELOAD=$AW_REL_SHIM aw_start C "$REL/tests/server" --fp-traps \
	--threads 2 --backlog 4096
out=$("$REL/bench/storm" --port "$C_PORT" --threads 4 --max-conns 20000 \
	--duration-ms 120000)
read -r _ _ conns _ failed _ <<<"$out"
[ "$conns" = 20000 ] && [ "$failed" = 0 ] || aw_fail "storm: $out"
counts_exact C 20000 "common path"

# Slow path: each connection takes 30 ms, the threshold is 10 ms (slow
# checks, probes, events); 12 threads share the listener's last stripe.
ACCEPTWATCH_SLOW_MS=10 LD_PRELOAD=$AW_REL_SHIM aw_start S \
	"$REL/tests/server" --fp-traps --threads 12 --delay-ms 30
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 48)
[ "$completed" = 48 ] || aw_fail "client completed $completed of 48"
counts_exact S 48 "slow path, shared stripe"
