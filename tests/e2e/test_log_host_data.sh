#!/usr/bin/env bash
# The shim's lines never land in the host's data. Preloaded without
# ACCEPTWATCH_LOG it writes nothing anywhere (its figures are in the
# segment): not to a server's stderr, not into a daemon's data file or
# client socket that sits on fd 2 after it closed 0-2, while the shim sees
# slow events (the lines it would have said). `acceptwatch run` turns the
# stderr lines on, since a person is watching, unless --log says otherwise.
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

# acceptwatch run: lines on stderr, unless --log none.
aw_start RUN "$AW_REL_TOOL" run -- "$AW_ROOT/build/rel/tests/server" --backlog 9
grep -q "^acceptwatch\[$RUN_PID\]: listen fd=.*requested=9" "$RUN_ERR" ||
	aw_fail "run: no listen line on stderr: $(cat "$RUN_ERR")"
aw_stop "$RUN_PID"
aw_start RUN "$AW_REL_TOOL" run --log none -- "$AW_ROOT/build/rel/tests/server" --backlog 9
aw_stop "$RUN_PID"
[ -s "$RUN_ERR" ] && aw_fail "run --log none: $(cat "$RUN_ERR")"
echo "nothing written by the shim into stderr, a data file or a client on fd 2"
