#!/usr/bin/env bash
# An event loop: a non-blocking listener driven by epoll, accepting until
# EAGAIN. EAGAIN counts as drained (never an error), the idle time after a
# drain is never away time, and a handler that blocks the loop past the
# threshold while connections wait is flagged; on a Unix socket (no queue
# wait to read), a loop back from idling is no slow event.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 256 "$@"
L="processes[0]['listeners'][0]"

LD_PRELOAD=$AW_SHIM aw_start_server E --mode epoll --backlog 128
for round in 1 2 3; do
	read -r _ completed _ < <("$AW_BIN/burst" --port "$E_PORT" -n 20)
	[ "$completed" = 20 ] || aw_fail "round $round: completed $completed of 20"
	sleep 0.5 # idle: the loop sits in epoll_wait after its drain
done
"$AW_TOOL" stat --json "$E_PID" >"$AW_TMP/e.json"
cat "$AW_TMP/e.json" >&2
aw_expect "$AW_TMP/e.json" "$L['accepts']" 60
aw_range "$AW_TMP/e.json" "$L['drained']" 3 60
aw_expect "$AW_TMP/e.json" "sum($L['errors'].values())" 0
# Away is measured only from a successful return to the next call: one
# sample per accept, never one across the idle after a drain.
aw_expect "$AW_TMP/e.json" "$L['away_ns']['count']" 60
aw_slow_by_threshold "$AW_TMP/e.json"
aw_stop "$E_PID"

# The handler blocks the loop 120 ms per connection: the loop comes back
# late while connections wait, and that is flagged. The 8 connections are
# queued while the server is stopped (and then 100 ms more), whatever the
# machine's load: the 2nd to 8th each wait at least one handler more.
LD_PRELOAD=$AW_SHIM aw_start_server B --mode epoll --backlog 128 --delay-ms 120
aw_burst_stopped R "$B_PID" "$B_PORT" 8 8 0
[ "$R_COMPLETED" = 8 ] || aw_fail "blocking handler: completed $R_COMPLETED of 8"
"$AW_TOOL" stat --json "$B_PID" >"$AW_TMP/b.json"
cat "$AW_TMP/b.json" >&2
aw_figures "$AW_TMP/b.json" drain_ms=$((R_END - R_RESUMED)) burst_ms=$((R_END - R_START)) <<'PY'
check("accepts", l["accepts"], 8, 8)
# The first connection is taken after the stop, with no probe due
# (the loop was idle, not away); the other 7 waited past 50 ms.
check("slow_events", l["slow_events"], 7, 8)
# The 8th: the 100 ms pause and 7 handlers of 120 ms (less a jiffy);
# none longer than the burst.
check("queue_wait max", l["queue_wait_ms"]["max"], 930, burst_ms + 10)
# 8 aways of at least 120 ms (3.2 % buckets) within the drain: at least 4
# of them are past the median.
check("away p50", l["away_ns"]["p50"], 116 * ms, drain_ms * ms // 4 * 1.04)
PY
aw_stop "$B_PID"

# A Unix socket has no queue wait to read: a connection that meets a loop
# back from idling in epoll_wait past the threshold (its last call drained)
# is no slow event, and the listener is flagged an event loop's.
LD_PRELOAD=$AW_SHIM aw_start_server U --mode epoll --unix "$AW_TMP/u.sock" --backlog 16
for round in 1 2 3; do
	sleep 0.2 # idle in epoll_wait, past the 50 ms threshold
	read -r _ completed _ < <("$AW_BIN/burst" --unix "$AW_TMP/u.sock" -n 1)
	[ "$completed" = 1 ] || aw_fail "unix round $round: completed $completed of 1"
done
"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/u.json"
aw_expect "$AW_TMP/u.json" "$L['accepts']" 3
aw_expect "$AW_TMP/u.json" "$L['event_loop']" True
aw_expect "$AW_TMP/u.json" "$L['slow_events']" 0
echo ok
