#!/usr/bin/env bash
# Threaded accept loops under a storm: N threads blocking in accept() on one
# listener, and one SO_REUSEPORT listener per thread. The count is exact
# (the shim's accepts = the server's own count = connections the clients
# completed), per-thread gap and away times make no idle thread look slow,
# and the same shape runs clean under ThreadSanitizer; with more threads
# than a listener has stripes of their own, and with the monotonic clock.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
REL=$AW_ROOT/build/rel
STORM=$REL/bench/storm

# A release-build server under the release shim; sets PID and PORT.
start_rel() {
	LD_PRELOAD=$AW_REL_SHIM aw_start "$1" "$REL/tests/server" "${@:2}"
	local v=$1_PID p=$1_PORT
	PID=${!v} PORT=${!p}
}

# storm N: N connections from 4 client threads; every one must complete.
storm() {
	local out
	out=$("$STORM" --port "$PORT" --threads 4 --max-conns "$1" --duration-ms 120000)
	read -r _ _ conns _ failed _ <<<"$out"
	[ "$conns" = "$1" ] && [ "$failed" = 0 ] || aw_fail "storm: $out"
}

sum_accepts() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(l["accepts"] for p in d["processes"] for l in p["listeners"]))' "$1"
}

# The shim's accepts (in JSON) and the server's own count (in OUT) are
# both N, the connections the clients completed; stops the server.
counts_exact() { # JSON OUT N WHAT
	local got own
	got=$(sum_accepts "$1")
	aw_stop "$PID"
	own=$(awk '/^accepted/ {print $2}' "$2")
	[ "$got" = "$3" ] && [ "$own" = "$3" ] ||
		aw_fail "$4: shim $got, server $own, clients $3"
	echo "$4: $3 connections, shim $got, server $own"
}

# 4 threads, one listener, 50,000 connections.
start_rel T --threads 4 --backlog 4096
storm 50000
"$AW_TOOL" stat --json "$PID" >"$AW_TMP/t.json"
aw_expect "$AW_TMP/t.json" "len(processes[0]['listeners'])" 1
# No handler delay: slow events only for connections a loaded machine left
# waiting past the threshold.
aw_slow_by_threshold "$AW_TMP/t.json"
aw_expect "$AW_TMP/t.json" "processes[0]['listeners'][0]['errors']['other']" 0
# Gaps and away times are each thread's own: every thread's first accept
# has neither, every later one both (a blocking loop never drains).
L="processes[0]['listeners'][0]"
aw_range "$AW_TMP/t.json" "$L['gap_ns']['count']" 49996 49999
aw_range "$AW_TMP/t.json" "$L['away_ns']['count']" 49996 49999
counts_exact "$AW_TMP/t.json" "$T_OUT" 50000 "4 threads"

# 12 threads on one listener: the first seven to accept own a stripe each,
# the others share the eighth (atomics, off the common path); and the
# clock is CLOCK_MONOTONIC instead of the TSC. The count is still exact.
ACCEPTWATCH_CLOCK=monotonic start_rel M --threads 12 --backlog 4096
storm 20000
sleep 0.3 # every thread back in accept()
"$AW_TOOL" stat --json "$PID" >"$AW_TMP/m.json"
aw_range "$AW_TMP/m.json" "$L['gap_ns']['count']" 19988 19999
aw_expect "$AW_TMP/m.json" "$L['in_accept']" 12
counts_exact "$AW_TMP/m.json" "$M_OUT" 20000 "12 threads, monotonic clock"

# 4 SO_REUSEPORT listeners, a thread each: the kernel spreads the storm.
start_rel R --reuseport 4 --backlog 4096
storm 20000
"$AW_TOOL" stat --json "$PID" >"$AW_TMP/r.json"
aw_expect "$AW_TMP/r.json" "len(processes[0]['listeners'])" 4
counts_exact "$AW_TMP/r.json" "$R_OUT" 20000 "reuseport, 4 listeners"

# ThreadSanitizer: the TSan shim in the TSan server, 12 threads (owned
# stripes and the shared one).
[ -x "$AW_TSAN_BIN/server" ] || aw_fail "no TSan server built"
TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0" \
	LD_PRELOAD=$AW_TSAN_SHIM \
	aw_start Z "$AW_TSAN_BIN/server" --threads 12 --backlog 1024
PID=$Z_PID PORT=$Z_PORT
storm 3000
"$AW_TOOL" stat --json "$PID" >"$AW_TMP/tsan.json"
got=$(sum_accepts "$AW_TMP/tsan.json")
kill -TERM "$PID"
wait "$PID"
rc=$?
grep -q "ThreadSanitizer" "$Z_ERR" && aw_fail "TSan: $(head -30 "$Z_ERR")"
[ "$rc" = 0 ] || aw_fail "TSan server exited $rc: $(tail -5 "$Z_ERR")"
[ "$got" = 3000 ] || aw_fail "TSan: shim counted $got of 3000"
echo "tsan: 3000 connections, 12 threads, clean"
