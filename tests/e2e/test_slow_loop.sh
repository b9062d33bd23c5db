#!/usr/bin/env bash
# Known truth: a server that sleeps 200 ms after each accept, hit by a burst
# of 20 connections with somaxconn 16. The loop is away 200 ms per accept, so
# the k-th queued connection waits about (k-1) x 200 ms; the 17 that fit in
# the queue (backlog 16 holds 17) are accepted over 3.2 s. A fast server
# under the same burst has no slow event at all.
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 16 "$@"
L="processes[0]['listeners'][0]"

LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 128 --delay-ms 200
read -r _ completed _ failed < <("$AW_BIN/burst" --port "$S_PORT" -n 20 --timeout-ms 15000)
[ "$completed" = 20 ] || aw_fail "client completed $completed of 20 (failed $failed)"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat failed"
cat "$AW_TMP/s.json" >&2
aw_expect "$AW_TMP/s.json" "$L['accepts']" 20
# Every accept after a 200 ms absence finds a connection that waited: the
# first one does not (the loop was in accept); retried SYNs that land in an
# idle loop do not either.
aw_range "$AW_TMP/s.json" "$L['slow_events']" 15 19
aw_range "$AW_TMP/s.json" "$L['queue']['peak']" 16 17
aw_range "$AW_TMP/s.json" "$L['queue']['full_events']" 1 19
# Queue wait: the 17th queued connection waited 16 x 200 ms = 3.2 s.
aw_range "$AW_TMP/s.json" "$L['queue_wait_ms']['max']" 2900 3700
# Gap and away: 200 ms a piece (sleep overshoot and ASan: +10%).
aw_range "$AW_TMP/s.json" "$L['gap_ns']['p50']" 195000000 225000000
aw_range "$AW_TMP/s.json" "$L['away_ns']['p50']" 195000000 225000000
aw_range "$AW_TMP/s.json" "$L['away_ns']['max']" 195000000 400000000
grep -q "slow accept loop on 127.0.0.1:$S_PORT" "$S_ERR" ||
	aw_fail "no slow-loop warning in the log"
# The warning is rate-limited: at most one a second (about 4 s of burst).
n=$(grep -c "slow accept loop" "$S_ERR")
[ "$n" -le 6 ] || aw_fail "$n warning lines in ~4 s: not rate-limited"
"$AW_TOOL" stat "$S_PID" | grep -q "slow events [0-9]*, last" ||
	aw_fail "text output lacks the last slow event"
aw_stop "$S_PID"

LD_PRELOAD=$AW_SHIM aw_start_server F --backlog 128
read -r _ completed _ failed < <("$AW_BIN/burst" --port "$F_PORT" -n 20 --timeout-ms 15000)
[ "$completed" = 20 ] || aw_fail "client completed $completed of 20 (failed $failed)"
"$AW_TOOL" stat --json "$F_PID" >"$AW_TMP/f.json"
aw_expect "$AW_TMP/f.json" "$L['accepts']" 20
aw_expect "$AW_TMP/f.json" "$L['slow_events']" 0
aw_expect "$AW_TMP/f.json" "$L['stalled']" False
aw_range "$AW_TMP/f.json" "$L['queue_wait_ms']['max']" 0 49
echo ok
