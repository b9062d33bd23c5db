#!/usr/bin/env bash
# acceptwatch top: --once prints one plain frame (no escape codes) with a
# row per listener sorted by trouble (STALLED first, OK last), STATE first,
# and rates over the interval; interactively, in a pseudo-terminal, it
# quits on 'q' and on Ctrl-C with the terminal restored (canonical mode and
# echo back, the alternate screen left, the cursor shown), colours the
# STATE (not with NO_COLOR set), and in a 40-column terminal every line
# fits and still shows the STATE; into a file it writes frames one after
# the other without any escape code.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

LD_PRELOAD=$AW_SHIM aw_start_server OK --backlog 8
LD_PRELOAD=$AW_SHIM aw_start_server SLOW --backlog 16 --delay-ms 300
LD_PRELOAD=$AW_SHIM aw_start_server STOP --backlog 8
aw_sigstop "$STOP_PID"
"$AW_BIN/burst" --port "$STOP_PORT" -n 3 --timeout-ms 20000 >/dev/null &
aw_register_pid $!
# 16 connections (the queue holds 17) at 300 ms each: the slow loop is
# still accepting, with a queue, through top's interval.
"$AW_BIN/burst" --port "$SLOW_PORT" -n 16 --timeout-ms 150000 >/dev/null &
aw_register_pid $!
# The three connections queued on the stopped server, the slow one busy.
aw_wait_queue "$STOP_PORT" 3
aw_wait_queue "$SLOW_PORT" 10
"$AW_TOOL" top --once --interval 1 >"$AW_TMP/top.txt" || aw_fail "top --once failed"
cat "$AW_TMP/top.txt"
if grep -q $'\033' "$AW_TMP/top.txt"; then aw_fail "escape codes in --once"; fi
# Other tests' servers may run meanwhile (segments are machine-wide): the
# counts are at least ours, and only our rows are checked.
head -1 "$AW_TMP/top.txt" | grep -Eq "^acceptwatch top .* every 1.0s  ([3-9]|[1-9][0-9]+) listeners: ([3-9]|[1-9][0-9]+) in [0-9]+ processes under the shim, [0-9]+ without \(kernel figures\)$" ||
	aw_fail "header line"
grep -q "^STATE  *PID *COMM *ADDRESS *ACC/s *QUEUE n/pk/bl *FILL *GAP99 *AWAY99 *WAIT99 *SLOW/s *DROP/s$" \
	"$AW_TMP/top.txt" || aw_fail "column header"
# STATE is 16 columns wide, then a space.
rows=$(tail -n +4 "$AW_TMP/top.txt" | grep -E "^.{17}($OK_PID|$SLOW_PID|$STOP_PID) ")
[ "$(wc -l <<<"$rows")" = 3 ] || aw_fail "want 3 rows"
# Sorted by trouble: the stopped server, the slow one, the idle one.
[ "$(cut -c18- <<<"$rows" | awk '{print $1}' | tr '\n' ' ')" = "$STOP_PID $SLOW_PID $OK_PID " ] ||
	aw_fail "order: $(cut -c18- <<<"$rows" | awk '{print $1}' | tr '\n' ' ')"
grep -q "^STALLED  *$STOP_PID .*127.0.0.1:$STOP_PORT .* 3/3/8 *\[### *\] " <<<"$rows" ||
	aw_fail "stalled row"
grep -q "^OK  *$OK_PID .* 0\.0 0/0/8 " <<<"$rows" || aw_fail "ok row"
# The slow loop accepts at most 3.3/s (300 ms away between accepts, at
# least; a loaded machine makes it fewer, never more).
python3 - "$rows" "$SLOW_PID" <<'PY' || aw_fail "slow row"
import sys
line = [l for l in sys.argv[1].splitlines() if l[17:].split()[0] == sys.argv[2]][0]
state, rest = line[:16].strip(), line[17:]
acc = float(rest.split()[3])
assert 0 < acc <= 4, line
# After the bar: GAP99 AWAY99 WAIT99 SLOW/s DROP/s
gap, away, wait, slow, drop = rest.split("]", 1)[1].split()
assert state == "SLOW ACCEPT LOOP", line
assert (away.endswith("ms") and float(away[:-2]) >= 290) or away.endswith("s"), line
assert float(slow) > 0 and wait.endswith("s"), line
print("slow row ok:", line)
PY

# Interactive, in a pseudo-terminal: 'q', then Ctrl-C (with NO_COLOR set),
# then 'q' in 40 columns.
for key in q ctrl-c narrow; do
	python3 - "$AW_TOOL" "$key" "$STOP_PID" <<'PY' || aw_fail "interactive top ($key)"
import fcntl, os, pty, re, select, signal, struct, sys, termios, time
tool, key, stop_pid = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    if key == "ctrl-c":
        os.environ["NO_COLOR"] = "1"
    else:
        os.environ.pop("NO_COLOR", None)
    os.execv(tool, [tool, "top", "--interval", "0.2"])
cols = 40 if key == "narrow" else 200
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
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
# The STATE of the stopped server's row: red, unless NO_COLOR.
red = re.search(rb"\x1b\[1;31mSTALLED\x1b\[0m +" + stop_pid.encode(), out)
if key == "ctrl-c":
    assert b"\x1b[1;31m" not in out and b"\x1b[0m" not in out, "colour with NO_COLOR"
else:
    assert red, out[-400:]
if key == "narrow":
    # Every line of every frame fits in 40 columns, colour aside.
    frame = out.split(b"\x1b[H\x1b[2J", 1)[-1]
    plain = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", frame)
    lines = plain.replace(b"\r", b"").split(b"\n")
    assert all(len(l) <= 40 for l in lines), [l for l in lines if len(l) > 40]
    assert any(l.startswith(b"STALLED ") for l in lines), lines
os.write(fd, b"\x03" if key == "ctrl-c" else b"q")
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
# Into a file: frames one after the other, no escape code at all.
"$AW_TOOL" top --interval 0.2 </dev/null >"$AW_TMP/top.pipe" 2>&1 &
T_PID=$!
aw_register_pid "$T_PID"
sleep 1
kill -INT "$T_PID"
wait "$T_PID" || aw_fail "top into a file: exit $?"
if grep -q $'\033' "$AW_TMP/top.pipe"; then aw_fail "escape codes into a file"; fi
[ "$(grep -c '^acceptwatch top ' "$AW_TMP/top.pipe")" -ge 2 ] ||
	aw_fail "top into a file: $(head -5 "$AW_TMP/top.pipe")"
"$AW_TOOL" top --interval 0 >/dev/null 2>&1
[ $? = 2 ] || aw_fail "--interval 0: want exit 2"
echo ok
