#!/usr/bin/env bash
# make bench, the host sampler's budget: top, serve and listeners read every
# listening socket of the host 10 times a second (tools/sample_host.h: one
# sock_diag dump of LISTEN sockets per tick), which must cost <= 1 % of one
# core. Measured on `acceptwatch serve` left alone (no scrape: the sampling
# is all it does) with 50 and 200 listeners, some with connections queued,
# and 2,000 established connections beside them (a dump of listeners must
# not walk them). CPU is the exporter's own, every thread's (schedstat,
# nanoseconds), over its wall time. Runs as root in a private network
# namespace; prints a small table with the load average it ran at and
# writes it to build/bench/host.txt.
set -u
cd "$(dirname "$0")/../.."
if [ -z "${AW_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null || {
		echo "host sampler bench: skipped (needs root and unshare -n)"
		exit 0
	}
	AW_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
sysctl -q -w net.core.somaxconn=4096
TOOL=tools/acceptwatch
SECONDS_RUN=${AW_HOST_BENCH_SECONDS:-10}
TMP=$(mktemp -d /tmp/aw-host-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

# N listeners (every tenth with 3 connections queued), and 1,000
# connections established on one more (2,000 sockets); prints "ready".
# exec: the background job is the interpreter itself, which kill reaches.
sockets() {
	exec python3 - "$1" <<'PY'
import socket, sys, time
n = int(sys.argv[1])
keep = []
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    keep.append(s)
    if i % 10 == 0:
        for _ in range(3):
            c = socket.socket()
            c.connect(s.getsockname())
            keep.append(c)
big = socket.socket()
big.bind(("127.0.0.1", 0))
big.listen(4096)
for _ in range(1000):
    c = socket.socket()
    c.connect(big.getsockname())
    keep.append(c)
    keep.append(big.accept()[0])
print("ready", flush=True)
time.sleep(3600)
PY
}

# The CPU time of every thread of PID, in ns.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# N -> one result line
run() {
	local n=$1
	sockets "$n" >"$TMP/s.out" &
	local s=$!
	for _ in $(seq 600); do [ -s "$TMP/s.out" ] && break; sleep 0.05; done
	"$TOOL" serve --listen 127.0.0.1:19437 2>"$TMP/e.out" &
	local e=$!
	for _ in $(seq 200); do grep -q serving "$TMP/e.out" && break; sleep 0.05; done
	local listeners
	listeners=$(ss -Hltn | wc -l)
	sleep 1 # past its start-up
	local c0 t0 c1 t1
	c0=$(cpu_ns "$e")
	t0=$(date +%s%N)
	sleep "$SECONDS_RUN"
	c1=$(cpu_ns "$e")
	t1=$(date +%s%N)
	kill "$e" "$s" 2>/dev/null
	wait "$e" "$s" 2>/dev/null
	awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v n="$listeners" -v hz=10 'BEGIN {
		ticks = t / 1e9 * hz
		printf "%4d listeners: %5.2f%% of a core, %6.1f us a tick\n",
			n, 100 * c / t, c / ticks / 1000 }'
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
r50=$(run 50)
r200=$(run 200)
worst=$(printf '%s\n%s\n' "$r50" "$r200" | awk '{print $3}' | tr -d % | sort -g | tail -1)
verdict=$(awk -v p="$worst" 'BEGIN{print (p <= 1.0) ? "within" : "OVER"}')
{
	echo "host sampler (serve idle, 10 Hz, 2,000 connections beside), ${SECONDS_RUN} s, load average $load:"
	echo "  $r50"
	echo "  $r200  [$verdict the 1% budget]"
} | tee "$TMP/table"
mkdir -p build/bench
cp "$TMP/table" build/bench/host.txt
