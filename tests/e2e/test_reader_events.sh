#!/usr/bin/env bash
# stat --json shows each slow event's stack: events[].stack (and the
# listener's last_slow.stack) are the frames of the stack table entry the
# event refers to (aw_event.stack, index + 1), null when it has none. Slow
# events given up by the writer are counted in every format.
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

# events_lost: slow events a writer gave up (their ring entry busy with a
# descheduled writer; not something a test can provoke on demand). A kept
# segment of an exited server, its header's count set to 3, shows 3 in
# JSON, in the text and in Prometheus.
ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_SHIM aw_start_server K --backlog 8
"$AW_BIN/burst" --port "$K_PORT" -n 2 >/dev/null
aw_stop "$K_PID"
seg=/dev/shm/acceptwatch.$K_PID
AW_FILES+=("$seg")
"$AW_TOOL" stat --json "$K_PID" >"$AW_TMP/k0.json" || aw_fail "stat failed"
aw_expect "$AW_TMP/k0.json" "processes[0]['events_lost']" 0
python3 - "$seg" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(152)  # aw_seg_header.events_lost (test_abi pins it)
    f.write(struct.pack("<Q", 3))
PY
"$AW_TOOL" stat --json "$K_PID" >"$AW_TMP/k.json" || aw_fail "stat failed"
aw_expect "$AW_TMP/k.json" "processes[0]['events_lost']" 3
"$AW_TOOL" stat "$K_PID" >"$AW_TMP/k.txt" || aw_fail "stat failed"
grep -q "^  3 slow events missing from the list" "$AW_TMP/k.txt" ||
	aw_fail "text lacks the lost events: $(cat "$AW_TMP/k.txt")"
"$AW_TOOL" stat -p "$K_PID" >"$AW_TMP/k.prom" || aw_fail "stat -p failed"
grep -qx "acceptwatch_events_lost_total 3" "$AW_TMP/k.prom" ||
	aw_fail "no events_lost in: $(grep lost "$AW_TMP/k.prom")"
"$AW_TOOL" stat -p --by-process "$K_PID" >"$AW_TMP/kp.prom" ||
	aw_fail "stat -p --by-process failed"
grep -qx "acceptwatch_events_lost_total{pid=\"$K_PID\",comm=\"server\"} 3" \
	"$AW_TMP/kp.prom" || aw_fail "no events_lost in: $(grep lost "$AW_TMP/kp.prom")"
echo ok
