#!/usr/bin/env bash
# An event loop: a non-blocking listener driven by epoll, accepting until
# EAGAIN. EAGAIN counts as drained (never an error), the idle time after a
# drain is never away time, and a handler that blocks the loop past the
# threshold while connections wait is flagged.
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
# Away is measured only from a successful return to the next call: never
# across the 0.5 s idle after a drain. A fast handler: well under 50 ms.
aw_range "$AW_TMP/e.json" "$L['away_ns']['max']" 0 50000000
aw_expect "$AW_TMP/e.json" "$L['slow_events']" 0
aw_stop "$E_PID"

# The handler blocks the loop 120 ms per connection: the loop comes back
# late while connections wait, and that is flagged.
LD_PRELOAD=$AW_SHIM aw_start_server B --mode epoll --backlog 128 --delay-ms 120
read -r _ completed _ < <("$AW_BIN/burst" --port "$B_PORT" -n 8)
[ "$completed" = 8 ] || aw_fail "blocking handler: completed $completed of 8"
"$AW_TOOL" stat --json "$B_PID" >"$AW_TMP/b.json"
aw_expect "$AW_TMP/b.json" "$L['accepts']" 8
aw_range "$AW_TMP/b.json" "$L['slow_events']" 5 7
# The 8th connection waited for 7 handlers of 120 ms: 840 ms.
aw_range "$AW_TMP/b.json" "$L['queue_wait_ms']['max']" 780 1000
aw_range "$AW_TMP/b.json" "$L['away_ns']['p50']" 115000000 135000000
echo ok
