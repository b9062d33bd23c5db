#!/usr/bin/env bash
# stat --json shows each slow event's stack: events[].stack (and the
# listener's last_slow.stack) are the frames of the stack table entry the
# event refers to (aw_event.stack, index + 1), null when it has none.
. "$AW_ROOT/tests/lib.sh"

ACCEPTWATCH_SLOW_MS=20 LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 64 --delay-ms 60
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 8 --timeout-ms 15000)
[ "$completed" = 8 ] || aw_fail "client completed $completed of 8"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat failed"
P="processes[0]"
aw_expect "$AW_TMP/s.json" "len($P['events']) > 0" True
aw_expect "$AW_TMP/s.json" "all('stack' in e for e in $P['events'])" True
# Each non-null stack is the frames of a slow-kind entry of the table.
aw_expect "$AW_TMP/s.json" \
	"all(e['stack'] is None or e['stack'] in [s['frames'] for s in $P['stacks'] if s['kind'] == 'slow'] for e in $P['events'])" True
aw_expect "$AW_TMP/s.json" "any(e['stack'] for e in $P['events'])" True
aw_expect "$AW_TMP/s.json" "'stack' in $P['listeners'][0]['last_slow']" True
aw_stop "$S_PID"
echo ok
