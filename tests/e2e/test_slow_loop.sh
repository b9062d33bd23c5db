#!/usr/bin/env bash
# Known truth: a server that sleeps 200 ms after each accept, hit by a burst
# of 20 connections with somaxconn 16. The burst lands while the server is
# stopped in accept(), and the loop goes on once the queue is full (17:
# backlog 16 holds 17) and 3 connections were dropped. From then on, however
# loaded the machine: the shim's first probe finds the queue full; every
# queued connection waits its turn, the k-th at least (k-1) x 200 ms; the
# loop is away at least 200 ms per accept. Upper bounds come from the
# burst's own duration, never from an assumed speed. A fast server under
# the same burst has a slow event only for a connection that waited past
# the threshold (on a quiet machine, none).
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 16 "$@"
L="processes[0]['listeners'][0]"
now_ms() { echo $(($(date +%s%N) / 1000000)); }

LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 128 --delay-ms 200
aw_wait_in_accept "$S_PID"
aw_sigstop "$S_PID"
start=$(now_ms)
"$AW_BIN/burst" --port "$S_PORT" -n 20 --timeout-ms 60000 >"$AW_TMP/burst.out" &
burst=$!
aw_register_pid "$burst"
aw_wait_queue "$S_PORT" 17 3
# Each client's byte arrived (a connection's wait counts from the last
# packet it sent), and then 100 ms: the first connection waits past the
# 50 ms threshold too, and the accept call that takes it is one long call.
aw_wait_unread "$S_PORT" 17
sleep 0.1
resumed=$(now_ms)
kill -CONT "$S_PID"
wait "$burst"
end=$(now_ms)
read -r _ completed _ failed <"$AW_TMP/burst.out"
[ "$completed" = 20 ] || aw_fail "client completed $completed of 20 (failed $failed)"
aw__alive "$S_PID" || aw_fail "server exited: $(cat "$S_ERR")"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat failed"
"$AW_TOOL" stat "$S_PID" >"$AW_TMP/s.txt" || aw_fail "stat (text) failed"
cat "$AW_TMP/s.json" "$AW_TMP/s.txt" >&2
grep -q "slow events [0-9]*, last" "$AW_TMP/s.txt" ||
	aw_fail "text output lacks the last slow event"
echo "burst: $((resumed - start)) ms to fill, $((end - resumed)) ms to drain" >&2
python3 - "$AW_TMP/s.json" "$((end - resumed))" "$((end - start))" <<'PY' ||
import json, sys
l = json.load(open(sys.argv[1]))["processes"][0]["listeners"][0]
drain_ms, burst_ms = int(sys.argv[2]), int(sys.argv[3])
ms = 1000000
bad = []
def check(name, v, lo, hi):
    if not lo <= v <= hi:
        bad.append("%s is %s, want %s..%s" % (name, v, lo, hi))
check("accepts", l["accepts"], 20, 20)
# The long call's probe: the 16 left plus the one it took.
check("queue peak", l["queue"]["peak"], 17, 17)
check("queue full_events", l["queue"]["full_events"], 1, 20)
check("drops", l["drops"], 3, 1000)
# The 17 queued waited past 50 ms; a retried connection may or may not.
check("slow_events", l["slow_events"], 17, 20)
# The 17th queued: the 100 ms pause, then 16 accepts of 200 ms (less a
# jiffy, the wait's unit); no connection waited longer than the burst.
check("queue_wait max", l["queue_wait_ms"]["max"], 3290, burst_ms + 10)
# 19 gaps of at least 200 ms within the drain (3.2 % histogram buckets):
# at least 10 of them are past the median.
for k in ("gap_ns", "away_ns"):
    check(k + " p50", l[k]["p50"], 193 * ms, drain_ms * ms // 10 * 1.04)
check("away_ns max", l["away_ns"]["max"], 193 * ms, drain_ms * ms)
check("away p50 <= gap p50", l["away_ns"]["p50"], 0, l["gap_ns"]["p50"])
print("\n".join(bad) or "figures ok")
sys.exit(1 if bad else 0)
PY
	aw_fail "figures of the slow loop (above)"
grep -q "slow accept loop on 127.0.0.1:$S_PORT" "$S_ERR" ||
	aw_fail "no slow-loop warning in the log"
# The warning is rate-limited: at most one a second, and one more.
n=$(grep -c "slow accept loop" "$S_ERR")
[ "$n" -le $(((end - resumed) / 1000 + 2)) ] ||
	aw_fail "$n warning lines in $((end - resumed)) ms: not rate-limited"
aw_stop "$S_PID" || aw_fail "server exit status $?: $(cat "$S_ERR")"

LD_PRELOAD=$AW_SHIM aw_start_server F --backlog 128
read -r _ completed _ failed < <("$AW_BIN/burst" --port "$F_PORT" -n 20 --timeout-ms 60000)
[ "$completed" = 20 ] || aw_fail "client completed $completed of 20 (failed $failed)"
"$AW_TOOL" stat --json "$F_PID" >"$AW_TMP/f.json" || aw_fail "stat failed"
cat "$AW_TMP/f.json" >&2
aw_expect "$AW_TMP/f.json" "$L['accepts']" 20
aw_expect "$AW_TMP/f.json" "$L['stalled']" False
# A slow event is a connection that waited past the threshold: none when
# none waited that long, and each one recorded did.
python3 - "$AW_TMP/f.json" <<'PY' || aw_fail "fast server's slow events"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
l = p["listeners"][0]
slow, wait_max = l["slow_events"], l["queue_wait_ms"]["max"]
assert slow <= 20, slow
assert wait_max > 50 or slow == 0, (slow, wait_max)
for e in p["events"]:
    assert e["queue_wait_ms"] is None or e["queue_wait_ms"] > 50, e
print("fast server: %d slow events, queue wait max %d ms" % (slow, wait_max))
PY
echo ok
