#!/usr/bin/env bash
# acceptwatch top: --once prints one plain frame (no escape codes) with a
# row per listener sorted by trouble (STALLED first, OK last) and rates over
# the interval; interactively, in a pseudo-terminal, it quits on 'q' and on
# Ctrl-C with the terminal restored (canonical mode and echo back, the
# alternate screen left, the cursor shown).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

LD_PRELOAD=$AW_SHIM aw_start_server OK --backlog 8
LD_PRELOAD=$AW_SHIM aw_start_server SLOW --backlog 16 --delay-ms 100
LD_PRELOAD=$AW_SHIM aw_start_server STOP --backlog 8
kill -STOP "$STOP_PID"
"$AW_BIN/burst" --port "$STOP_PORT" -n 3 --timeout-ms 20000 >/dev/null &
aw_register_pid $!
"$AW_BIN/burst" --port "$SLOW_PORT" -n 12 --timeout-ms 20000 >/dev/null &
aw_register_pid $!
sleep 0.3
"$AW_TOOL" top --once --interval 1 >"$AW_TMP/top.txt" || aw_fail "top --once failed"
cat "$AW_TMP/top.txt"
if grep -q $'\033' "$AW_TMP/top.txt"; then aw_fail "escape codes in --once"; fi
# Other tests' servers may run meanwhile (segments are machine-wide): the
# counts are at least ours, and only our rows are checked.
head -1 "$AW_TMP/top.txt" | grep -Eq "^acceptwatch top .* every 1.0s  ([3-9]|[1-9][0-9]+) listeners in [0-9]+ processes$" ||
	aw_fail "header line"
grep -q "^PID *COMM *ADDRESS *ACC/s *QUEUE n/pk/bl *FILL *GAP99 *AWAY99 *WAIT99 *SLOW/s *DROP/s *STATE$" \
	"$AW_TMP/top.txt" || aw_fail "column header"
rows=$(tail -n +4 "$AW_TMP/top.txt" | grep -E "^($OK_PID|$SLOW_PID|$STOP_PID) ")
[ "$(wc -l <<<"$rows")" = 3 ] || aw_fail "want 3 rows"
# Sorted by trouble: the stopped server, the slow one, the idle one.
[ "$(awk '{print $1}' <<<"$rows" | tr '\n' ' ')" = "$STOP_PID $SLOW_PID $OK_PID " ] ||
	aw_fail "order: $(awk '{print $1}' <<<"$rows" | tr '\n' ' ')"
grep -q "^$STOP_PID .*127.0.0.1:$STOP_PORT .* 3/3/8 *\[### *\] .*STALLED$" <<<"$rows" ||
	aw_fail "stalled row"
grep -q "^$OK_PID .* 0\.0 0/0/8 .*OK$" <<<"$rows" || aw_fail "ok row"
# The slow loop accepts ~10/s with ~100 ms away between accepts.
python3 - "$rows" "$SLOW_PID" <<'PY' || aw_fail "slow row"
import sys
line = [l for l in sys.argv[1].splitlines() if l.split()[0] == sys.argv[2]][0]
acc = float(line.split()[3])
assert 5 <= acc <= 12, line
# After the bar: GAP99 AWAY99 WAIT99 SLOW/s DROP/s STATE
gap, away, wait, slow, drop, *state = line.split("]", 1)[1].split()
assert " ".join(state) == "SLOW ACCEPT LOOP", line
assert away.endswith("ms") and 90 <= float(away[:-2]) <= 150, line
assert float(slow) > 0 and wait.endswith("s"), line
print("slow row ok:", line)
PY

# Interactive, in a pseudo-terminal: 'q', then Ctrl-C.
for key in q ctrl-c; do
	python3 - "$AW_TOOL" "$key" <<'PY' || aw_fail "interactive top ($key)"
import os, pty, select, signal, sys, termios, time
tool, key = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tool, [tool, "top", "--interval", "0.2"])
out = b""
def drain(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return
drain(1.0)
attrs = termios.tcgetattr(fd)
assert not attrs[3] & termios.ICANON and not attrs[3] & termios.ECHO, "not raw"
assert b"\x1b[?1049h" in out and b"acceptwatch top" in out, out[:200]
os.write(fd, b"q" if key == "q" else b"\x03")
deadline = time.time() + 5
while True:
    drain(0.1)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    assert time.time() < deadline, "top did not quit"
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
assert out.rstrip().endswith(b"\x1b[?25h\x1b[?1049l"), out[-40:]
attrs = termios.tcgetattr(fd)
assert attrs[3] & termios.ICANON and attrs[3] & termios.ECHO, "terminal not restored"
print(key, "quit, terminal restored")
PY
done
"$AW_TOOL" top --interval 0 >/dev/null 2>&1
[ $? = 2 ] || aw_fail "--interval 0: want exit 2"
echo ok
