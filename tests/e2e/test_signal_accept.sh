#!/usr/bin/env bash
# accept() in a signal handler, on the listener the interrupted accept() of
# the same thread is blocked on (sigaccept.c): the handler's connection
# returns after the interrupted call's entry, so that call's time away from
# accept, measured from the thread's previous return, would go backwards.
# Such a call must leave the shim's common path and record no negative
# time: every time away recorded is below 10 s (the rounds take well under
# that each), and the host keeps serving. Run under both clocks:
# CLOCK_MONOTONIC, where a wrapped difference once became a histogram index
# past the stripe, and the time-stamp counter (the test build of the shim
# that takes it whatever the kernel's clocksource; the sanitized shim too
# where the kernel keeps time with it), where it read as hours away.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"

ROUNDS=40
clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)

one_run() { # NAME CLOCK SHIM BINDIR
	ACCEPTWATCH_CLOCK=$2 LD_PRELOAD=$3 aw_start "$1" "$4/sigaccept" "$ROUNDS"
	local pid_var=$1_PID out_var=$1_OUT i
	local pid=${!pid_var} out=${!out_var}
	for ((i = 0; i < 600; i++)); do
		grep -q '^done' "$out" && break
		aw__alive "$pid" || aw_fail "$2: sigaccept died: $(cat "$AW_TMP/$1.err")"
		sleep 0.05
	done
	grep -q "^done $((ROUNDS * 4)) $ROUNDS\$" "$out" ||
		aw_fail "$2: sigaccept did not finish: $(tail -1 "$out") $(cat "$AW_TMP/$1.err")"
	"$AW_TOOL" stat --json "$pid" >"$AW_TMP/$1.json" || aw_fail "stat $1"
	local L="processes[0]['listeners'][0]"
	aw_expect "$AW_TMP/$1.json" "$L['accepts']" $((ROUNDS * 5))
	aw_range "$AW_TMP/$1.json" "$L['away_ns']['max']" 0 10000000000
	aw_range "$AW_TMP/$1.json" "$L['gap_ns']['max']" 0 10000000000
	echo "$2: away max $(aw_json_get "$AW_TMP/$1.json" "$L['away_ns']['max']") ns"
	aw_stop "$pid" || aw_fail "$2: sigaccept exited with status $?"
}

one_run M monotonic "$AW_SHIM" "$AW_BIN"
one_run T auto "$AW_ROOT/build/tsc/libacceptwatch.so" "$AW_ROOT/build/rel/tests"
[ "$clocksource" = tsc ] && one_run A auto "$AW_SHIM" "$AW_BIN"
echo "ok: monotonic and tsc${clocksource:+ (kernel clocksource $clocksource)}"
