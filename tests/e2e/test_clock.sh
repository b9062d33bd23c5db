#!/usr/bin/env bash
# The accept path's clock against the wall clock, both ways it can run: the
# time-stamp counter (where the kernel keeps time with it; said and skipped
# otherwise) and CLOCK_MONOTONIC (ACCEPTWATCH_CLOCK=monotonic). A client
# connects, waits 0.5 s, connects again, then nothing for 1 s: the gap
# between the two accepts is 0.5 s, the time away 0.5 s (a blocking loop
# back in accept at once: away is from its return to its next call, well
# under a millisecond), and the last accept's age as the reader tells it
# 1 s. Tolerances: the client's sleeps are at least as long as asked and
# late by scheduling only (tens of ms on a loaded 2-core machine); the
# server's first return may be as late, which shortens the gap as much
# (seen: 497 ms beside a second make check), hence 450 ms at the least.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)

one_run() { # NAME CLOCK
	ACCEPTWATCH_CLOCK=$2 LD_PRELOAD=$AW_SHIM aw_start_server "$1" --backlog 8
	local pid_var=$1_PID port_var=$1_PORT
	local pid=${!pid_var} port=${!port_var}
	python3 - "$port" <<'PY' || aw_fail "client"
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
time.sleep(0.5)
b = socket.create_connection(("127.0.0.1", port))
time.sleep(1.0)
PY
	"$AW_TOOL" stat --json "$pid" >"$AW_TMP/$1.json" || aw_fail "stat $1"
	local L="processes[0]['listeners'][0]"
	aw_expect "$AW_TMP/$1.json" "$L['accepts']" 2
	aw_range "$AW_TMP/$1.json" "$L['gap_ns']['max']" 450000000 600000000
	aw_range "$AW_TMP/$1.json" "$L['gap_ns']['count']" 1 1
	aw_range "$AW_TMP/$1.json" "$L['last_accept_age_ms']" 1000 1400
	echo "$2: gap $(aw_json_get "$AW_TMP/$1.json" "$L['gap_ns']['max']") ns," \
		"last accept $(aw_json_get "$AW_TMP/$1.json" "$L['last_accept_age_ms']") ms ago"
	aw_stop "$pid"
}

one_run M monotonic
[ "$clocksource" = tsc ] || aw_skip "the kernel's clocksource is ${clocksource:-unknown}, not tsc: the monotonic run passed"
one_run T auto
