#!/usr/bin/env bash
# The clock is ready before the shim reads a tick: a process whose first
# wrapped call is an accept() the shim adopts (libearlyaccept.so's
# constructor, run before the shim's own, on a listener made with a direct
# listen(2)) must not record that call in CLOCK_MONOTONIC nanoseconds and
# the next ones in time-stamp counter ticks. Run with the test build of the
# shim that counts in counter ticks on any x86-64 host. Three connections
# queued up front, accepted 20 ms apart: two gaps of 20 ms (the sleeps are
# at least that; a busy machine makes them longer, never hours), and times
# away of about that too.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
early=$AW_ROOT/build/rel/tests/libearlyaccept.so
shim=$AW_ROOT/build/tsc/libacceptwatch.so
[ -f "$early" ] || aw_fail "no $early"
[ -f "$shim" ] || aw_fail "no $shim"

ACCEPTWATCH_KEEP=1 ACCEPTWATCH_LOG=stderr LD_PRELOAD="$shim $early" \
	/bin/true >"$AW_TMP/out" 2>"$AW_TMP/err" ||
	aw_fail "program failed: $(cat "$AW_TMP/err")"
grep -q "^early accepts=3" "$AW_TMP/err" || aw_fail "early accepts failed: $(cat "$AW_TMP/err")"
pid=$(awk -F'[][]' '/acceptwatch\[[0-9]+\]: adopt/ {print $2; exit}' "$AW_TMP/err")
[ -n "$pid" ] || aw_fail "no adopt line: $(cat "$AW_TMP/err")"
aw_register_file "/dev/shm/acceptwatch.$pid"
"$AW_TOOL" stat --json --all "$pid" >"$AW_TMP/s.json" || aw_fail "no segment"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/s.json" "$L['accepts']" 3
aw_range "$AW_TMP/s.json" "$L['gap_ns']['max']" 20000000 10000000000
aw_range "$AW_TMP/s.json" "$L['away_ns']['max']" 0 10000000000
echo "ok: gap max $(aw_json_get "$AW_TMP/s.json" "$L['gap_ns']['max']") ns"
