#!/usr/bin/env bash
# make bench, watch's budget: `acceptwatch watch` at its defaults (100 Hz
# thread samples, connections at 10 Hz while a queue holds any) on a
# 10-thread server under light load (20 connections a second, accepted at
# once) must cost <= 3 % of one core; then the same server kept busy (it
# sleeps 100 ms per accept, 15 connections a second: the queue never
# empties), where the connection dumps run all along, with their time.
# CPU is the watcher's own (getrusage, in its JSON), over its wall time.
# Runs as root in a private network namespace; prints a small table and
# writes it to build/bench/watch.txt.
set -u
cd "$(dirname "$0")/../.."
if [ -z "${AW_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null || {
		echo "watch bench: skipped (needs root and unshare -n)"
		exit 0
	}
	AW_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
TOOL=tools/acceptwatch
T=build/rel/tests/watch_target
CLIENT=tests/e2e/watch_client.py
SECONDS_RUN=${AW_WATCH_BENCH_SECONDS:-10}
TMP=$(mktemp -d /tmp/aw-watch-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

# ARGS... for the server, RATE -> one result line
run() {
	local rate=$1
	shift
	"$T" "$@" >"$TMP/s.out" &
	local s=$!
	for _ in $(seq 100); do [ -s "$TMP/s.out" ] && break; sleep 0.05; done
	local port
	port=$(awk '{print $2; exit}' "$TMP/s.out")
	python3 "$CLIENT" --port "$port" --rate "$rate" \
		--seconds $((SECONDS_RUN + 3)) >/dev/null &
	local c=$!
	sleep 1
	"$TOOL" watch --for "$SECONDS_RUN" --json "$s" >"$TMP/w.json"
	kill "$c" "$s" 2>/dev/null
	wait "$c" "$s" 2>/dev/null
	python3 - "$TMP/w.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
c, s = p["sampled"]["cost"], p["sampled"]
dur = s["duration_ns"]
cpu = 100.0 * c["cpu_ns"] / dur
threads = len(s["threads"])
tr = c["thread_read_ns"] / max(1, c["thread_reads"]) / 1000
ld = c["listener_read_ns"] / max(1, c["listener_reads"]) / 1000
cd = c["connection_dump_ns"] / max(1, c["connection_dumps"]) / 1000
print("%5.2f%% of a core  %2d threads  %4d ticks  thread read %5.1f us  "
      "listeners %5.1f us  connection dumps %3d, mean %6.0f us, max %6.0f us"
      % (cpu, threads, c["ticks"], tr, ld, c["connection_dumps"], cd,
         c["connection_dump_max_ns"] / 1000))
PY
}

light=$(run 20 --idle-threads 9)
busy=$(run 15 --idle-threads 9 --backlog 16 --sleep-ms 100)
pct=${light%%%*}
verdict=$(awk -v p="$pct" 'BEGIN{print (p <= 3.0) ? "within" : "OVER"}')
{
	echo "watch, defaults (100 Hz, connections at 10 Hz while queued), ${SECONDS_RUN} s:"
	echo "  light load: $light  [$verdict the 3% budget]"
	echo "  busy queue: $busy"
} | tee "$TMP/table"
mkdir -p build/bench
cp "$TMP/table" build/bench/watch.txt
