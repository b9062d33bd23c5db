#!/usr/bin/env bash
# The shim's lines never land in the host's data. Preloaded without
# ACCEPTWATCH_LOG it writes nothing anywhere (its figures are in the
# segment): not to a server's stderr, not into a daemon's data file or
# client socket that sits on fd 2 after it closed 0-2, while the shim sees
# slow events (the lines it would have said). `acceptwatch run` turns the
# stderr lines on, since a person is watching, unless --log says otherwise;
# even then a line is written only while fd 2 is the file it was at load.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
L="processes[0]['listeners'][0]"
unset ACCEPTWATCH_LOG

# A slow loop under a plain preload: slow events counted, stderr empty.
LD_PRELOAD=$AW_SHIM ACCEPTWATCH_SLOW_MS=20 aw_start_server S --backlog 16 --delay-ms 100
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 5)
[ "$completed" = 5 ] || aw_fail "client completed $completed of 5"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat"
aw_range "$AW_TMP/s.json" "$L['slow_events']" 1 4
aw_stop "$S_PID"
[ -s "$S_ERR" ] && aw_fail "the shim wrote to stderr: $(cat -A "$S_ERR")"

# N clients at once on the daemon's 100 ms loop: all but the first wait
# past 20 ms. With client=1 the first connection comes earlier, alone, and
# is kept: it is the daemon's fd 2; its bytes are saved in FILE.
clients() {
	python3 - "$@" <<'PY' || aw_fail "clients failed"
import socket, sys, time
port, n, first, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
addr = ("127.0.0.1", port)
if first:
    c0 = socket.create_connection(addr)
    time.sleep(0.3)
others = [socket.create_connection(addr) for _ in range(n)]
for o in others:
    o.settimeout(10)
    o.recv(1)
if first:
    c0.settimeout(10)
    data = b""
    while True:
        b = c0.recv(4096)
        if not b:
            break
        data += b
    open(out, "wb").write(data)
PY
}

wait_line() {
	for ((i = 0; i < 200; i++)); do
		grep -q "^$2" "$1" && return 0
		sleep 0.05
	done
	aw_fail "no '$2' in $1: $(cat "$1")"
}

# A daemon: fd 2 is its data file.
LD_PRELOAD=$AW_SHIM ACCEPTWATCH_SLOW_MS=20 aw_start D "$AW_BIN/daemon" file "$AW_TMP/data" 4
wait_line "$D_OUT" "fd 2 taken"
clients "$D_PORT" 4 0 -
wait_line "$D_OUT" done
"$AW_TOOL" stat --json "$D_PID" >"$AW_TMP/d.json" || aw_fail "stat daemon"
aw_range "$AW_TMP/d.json" "$L['slow_events']" 1 3
printf 'data\n' | cmp - "$AW_TMP/data" ||
	aw_fail "data file holds more than the daemon's data: $(cat -A "$AW_TMP/data")"
aw_stop "$D_PID" || aw_fail "daemon exited $?"

# A daemon: fd 2 is a client's socket.
LD_PRELOAD=$AW_SHIM ACCEPTWATCH_SLOW_MS=20 aw_start C "$AW_BIN/daemon" client 4
clients "$C_PORT" 4 1 "$AW_TMP/reply"
wait_line "$C_OUT" done
"$AW_TOOL" stat --json "$C_PID" >"$AW_TMP/c.json" || aw_fail "stat daemon"
aw_range "$AW_TMP/c.json" "$L['slow_events']" 1 3
printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n' | cmp - "$AW_TMP/reply" ||
	aw_fail "the client received more than the reply: $(cat -A "$AW_TMP/reply")"
aw_stop "$C_PID" || aw_fail "daemon exited $?"

# The stderr sink on: fd 2 is checked to be the file it was at load, so
# the daemon's client again gets exactly its reply, the listen line (said
# before the daemon closed fd 2) reaches the original stderr, and the
# segment says the log went silent.
ACCEPTWATCH_LOG=stderr LD_PRELOAD=$AW_SHIM ACCEPTWATCH_SLOW_MS=20 aw_start C "$AW_BIN/daemon" client 4
clients "$C_PORT" 4 1 "$AW_TMP/reply"
wait_line "$C_OUT" done
printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n' | cmp - "$AW_TMP/reply" ||
	aw_fail "stderr sink: the client received more than the reply: $(cat -A "$AW_TMP/reply")"
grep -q "^acceptwatch\[$C_PID\]: listen fd=.*requested=16" "$C_ERR" ||
	aw_fail "stderr sink: no listen line on the original stderr: $(cat "$C_ERR")"
grep -q "slow accept loop" "$C_ERR" && aw_fail "the slow line reached the old stderr?"
"$AW_TOOL" stat --json "$C_PID" >"$AW_TMP/c.json" || aw_fail "stat daemon"
aw_range "$AW_TMP/c.json" "$L['slow_events']" 1 3
aw_expect "$AW_TMP/c.json" "processes[0]['log_fd2_changed']" True
aw_expect "$AW_TMP/c.json" "processes[0]['log_failed']" False
"$AW_TOOL" stat "$C_PID" | grep -q "^  log: silent, fd 2 is no longer the stderr it had at start" ||
	aw_fail "text output does not say the log went silent"
aw_stop "$C_PID" || aw_fail "daemon exited $?"
# A server whose fd 2 stays: lines written, nothing said in the segment.
ACCEPTWATCH_LOG=stderr LD_PRELOAD=$AW_SHIM aw_start_server K --backlog 8
"$AW_TOOL" stat --json "$K_PID" >"$AW_TMP/k.json" || aw_fail "stat"
aw_expect "$AW_TMP/k.json" "processes[0]['log_fd2_changed']" False
grep -q "listen fd=.*requested=8" "$K_ERR" || aw_fail "no listen line: $(cat "$K_ERR")"
aw_stop "$K_PID"

# The stderr sink on a pipe nobody reads: the write fails with EPIPE, and
# the SIGPIPE it raises is the shim's to take, not the daemon's death (it
# leaves SIGPIPE at its default, unlike the test server).
python3 - "$AW_BIN/daemon" "$AW_SHIM" "$AW_TMP/pipe.data" <<'PY' || aw_fail "daemon on a broken stderr pipe"
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
env = dict(os.environ, LD_PRELOAD=sys.argv[2], ACCEPTWATCH_LOG="stderr")
p = subprocess.Popen([sys.argv[1], "file", sys.argv[3], "1"],
                     stdout=subprocess.PIPE, stderr=w, env=env)
os.close(w)
line = p.stdout.readline()
p.kill()
status = p.wait()
if not line.startswith(b"ready"):
    sys.exit("daemon died at listen: status %s" % status)
PY

# acceptwatch run: lines on stderr, unless --log none.
aw_start RUN "$AW_REL_TOOL" run -- "$AW_ROOT/build/rel/tests/server" --backlog 9
# run waits for its command: the server is its child.
read -r server_pid _ <"/proc/$RUN_PID/task/$RUN_PID/children"
grep -q "^acceptwatch\[$server_pid\]: listen fd=.*requested=9" "$RUN_ERR" ||
	aw_fail "run: no listen line on stderr: $(cat "$RUN_ERR")"
aw_stop "$RUN_PID"
aw_start RUN "$AW_REL_TOOL" run --log none -- "$AW_ROOT/build/rel/tests/server" --backlog 9
aw_stop "$RUN_PID"
[ -s "$RUN_ERR" ] && aw_fail "run --log none: $(cat "$RUN_ERR")"
echo "nothing written by the shim into stderr, a data file or a client on fd 2"
