#!/usr/bin/env bash
# The shim loads into a server run under valgrind (memcheck) with no error
# attributed to it: listen, accepts, probes, a slow event, and exit.
# Valgrind runs clone(CLONE_VM|CLONE_VFORK) as a fork, so libunwind's init
# (run apart from the host's descriptors, stacks.c) does not reach the
# shim's memory: stacks are off, and the shim says so once.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
command -v valgrind >/dev/null || aw_skip "valgrind is not installed"
# The shim's lines on the server's stderr (the check on stacks below).
ACCEPTWATCH_LOG=stderr LD_PRELOAD=$AW_REL_SHIM AW_READY_SECONDS=60 \
	aw_start V valgrind --error-exitcode=9 \
	--log-file="$AW_TMP/vg.log" --suppressions="$AW_ROOT/tests/e2e/valgrind.supp" \
	"$AW_ROOT/build/rel/tests/server" --backlog 32 --delay-ms 80
pid=$V_PID port=$V_PORT
read -r _ completed _ < <("$AW_BIN/burst" --port "$port" -n 6 --timeout-ms 30000)
[ "$completed" = 6 ] || aw_fail "completed $completed of 6"
"$AW_TOOL" stat --json "$pid" >"$AW_TMP/s.json" || aw_fail "no segment"
aw_expect "$AW_TMP/s.json" "processes[0]['listeners'][0]['accepts']" 6
aw_range "$AW_TMP/s.json" "processes[0]['listeners'][0]['slow_events']" 1 6
kill -TERM "$pid"
wait "$pid"
rc=$?
grep -q "ERROR SUMMARY: 0 errors" "$AW_TMP/vg.log" ||
	aw_fail "valgrind errors: $(grep -A20 'Invalid\|uninitialised\|ERROR SUMMARY' "$AW_TMP/vg.log" | head -60)"
[ "$rc" = 0 ] || aw_fail "server under valgrind exited $rc"
stacks=$(aw_json_get "$AW_TMP/s.json" "len(processes[0]['stacks'])")
[ "$stacks" != 0 ] || [ "$(grep -c "call-site stacks off" "$V_ERR")" = 1 ] ||
	aw_fail "no stacks, and not said once: $(cat "$V_ERR")"
grep "ERROR SUMMARY" "$AW_TMP/vg.log"
