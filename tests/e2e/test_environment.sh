#!/usr/bin/env bash
# The shim's environment: ACCEPTWATCH_SLOW_MS sets the threshold,
# ACCEPTWATCH_LOG sends lines to a file or nowhere (the default), ACCEPTWATCH_KEEP keeps
# the segment after exit, and `acceptwatch run` sets them up.
. "$AW_ROOT/tests/lib.sh"
L="processes[0]['listeners'][0]"

# A file log and a threshold of 300 ms. Five connections at once on a loop
# that takes 200 ms each: they wait 0, 200, 400, 600 and 800 ms, so exactly
# three waited past 300 ms (100 ms of margin either side).
ACCEPTWATCH_LOG=$AW_TMP/aw.log ACCEPTWATCH_SLOW_MS=300 LD_PRELOAD=$AW_SHIM \
	aw_start_server A --backlog 64 --delay-ms 200
read -r _ completed _ < <("$AW_BIN/burst" --port "$A_PORT" -n 5)
[ "$completed" = 5 ] || aw_fail "client completed $completed of 5"
"$AW_TOOL" stat --json "$A_PID" >"$AW_TMP/a.json"
aw_expect "$AW_TMP/a.json" "processes[0]['slow_ms']" 300
aw_expect "$AW_TMP/a.json" "$L['slow_events']" 3
aw_expect "$AW_TMP/a.json" "$L['accepts']" 5
grep -q "listen fd=.*requested=64" "$AW_TMP/aw.log" || aw_fail "no listen line in the log file"
grep -q "acceptwatch" "$A_ERR" && aw_fail "logged to stderr too: $(cat "$A_ERR")"

# none: silence.
ACCEPTWATCH_LOG=none LD_PRELOAD=$AW_SHIM aw_start_server N --backlog 8
aw_stop "$N_PID"
grep -q "acceptwatch" "$N_ERR" && aw_fail "ACCEPTWATCH_LOG=none still logged"

# An unwritable log file: the host runs on, its stderr untouched, and the
# segment says lines were lost (a sink that works says nothing).
aw_expect "$AW_TMP/a.json" "processes[0]['log_failed']" False
ACCEPTWATCH_LOG=/nonexistent-dir/aw.log LD_PRELOAD=$AW_SHIM aw_start_server W --backlog 8
"$AW_BIN/burst" --port "$W_PORT" -n 2 >/dev/null
"$AW_TOOL" stat --json "$W_PID" >"$AW_TMP/w.json"
aw_expect "$AW_TMP/w.json" "processes[0]['log_failed']" True
"$AW_TOOL" stat "$W_PID" | grep -q "^  log: lines lost" || aw_fail "text: no lost lines"
aw_stop "$W_PID"
[ -s "$W_ERR" ] && aw_fail "unwritable log: stderr got $(cat "$W_ERR")"

# Without KEEP the segment goes with the process; with it, it stays and the
# reader shows it as exited.
LD_PRELOAD=$AW_SHIM aw_start_server G --backlog 8
pid=$G_PID
[ -e "/dev/shm/acceptwatch.$pid" ] || aw_fail "no segment while running"
aw_stop "$pid"
[ -e "/dev/shm/acceptwatch.$pid" ] && aw_fail "segment left after exit"
ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_SHIM aw_start_server K --backlog 8
pid=$K_PID
aw_register_file "/dev/shm/acceptwatch.$pid"
"$AW_BIN/burst" --port "$K_PORT" -n 3 >/dev/null
aw_stop "$pid"
[ -e "/dev/shm/acceptwatch.$pid" ] || aw_fail "kept segment removed at exit"
"$AW_TOOL" stat --json "$pid" >"$AW_TMP/k.json" || aw_fail "cannot read kept segment"
aw_expect "$AW_TMP/k.json" "processes[0]['alive']" False
aw_expect "$AW_TMP/k.json" "$L['accepts']" 3

# A program that never listens leaves no trace.
before=$(ls /dev/shm | grep -c '^acceptwatch\.')
LD_PRELOAD=$AW_SHIM "$AW_BIN/burst" --port 9 -n 1 --timeout-ms 200 >/dev/null
after=$(ls /dev/shm | grep -c '^acceptwatch\.')
[ "$before" = "$after" ] || aw_fail "a client-only program left a segment"

# acceptwatch run: preloads the shim and passes the settings.
aw_start RUN "$AW_REL_TOOL" run --slow-ms 120 --log "$AW_TMP/run.log" -- \
	"$AW_ROOT/build/rel/tests/server" --backlog 9 --count 2
# run waits for its command: the server is its child.
read -r run_pid _ <"/proc/$RUN_PID/task/$RUN_PID/children"
port=$RUN_PORT
"$AW_REL_TOOL" stat --json "$run_pid" >"$AW_TMP/run.json"
aw_expect "$AW_TMP/run.json" "processes[0]['slow_ms']" 120
aw_expect "$AW_TMP/run.json" "$L['requested_backlog']" 9
"$AW_BIN/burst" --port "$port" -n 2 >/dev/null
wait "$RUN_PID" || aw_fail "run: server failed"
grep -q "listen fd=.*requested=9" "$AW_TMP/run.log" || aw_fail "run: --log not honoured"
echo ok
