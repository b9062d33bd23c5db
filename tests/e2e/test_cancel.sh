#!/usr/bin/env bash
# A thread cancelled in a blocking accept(), or taken out of it by
# siglongjmp (then ending, or calling accept() again), is no longer counted
# as in accept: with connections waiting and no thread left in accept(),
# the listener reads STALLED. (Before the fix the count kept the thread
# forever and the listener could never be STALLED.) Release builds: ASan
# keeps the frames a siglongjmp out of a signal handler skips poisoned,
# and then takes the thread's own exit for a stack overflow.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"

for mode in cancel jump-exit jump-again; do
	LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_SLOW_MS=50 \
		aw_start S "$AW_ROOT/build/rel/tests/cancel" "$mode"
	python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
time.sleep(30)' "$S_PORT" &
	aw_register_pid $!
	# The three queued, and then past the 50 ms threshold since listen().
	aw_wait_queue "$S_PORT" 3
	sleep 0.1
	"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/$mode.json" ||
		aw_fail "$mode: stat: $(cat "$AW_TMP/$mode.json")"
	aw_expect "$AW_TMP/$mode.json" "processes[0]['listeners'][0]['in_accept']" 0
	aw_expect "$AW_TMP/$mode.json" "processes[0]['listeners'][0]['queue']['now']" 3
	aw_expect "$AW_TMP/$mode.json" "processes[0]['listeners'][0]['stalled']" True
	aw_stop "$S_PID"
	echo "ok: $mode: in accept 0, queue 3, STALLED"
done
