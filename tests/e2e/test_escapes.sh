#!/usr/bin/env bash
# Any local user chooses its process name (comm) and its Unix socket paths:
# no control byte from them may reach a terminal through acceptwatch's text
# output (listeners, stat, stat --hist, check, top --once; listeners lists TCP
# sockets, the others show the Unix one too). A server names itself
# ESC [ 3 1 m ... BEL and listens on a Unix socket whose path holds ESC and
# BEL; every text output must show them escaped (\x1b, \x07), never raw.
# Private /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"
[ -f "$AW_REL_SHIM" ] || aw_skip "no release shim at $AW_REL_SHIM"

SOCK=$AW_TMP/$'s\e]0;pwned\a'.sock
cat >"$AW_TMP/evil.py" <<'PY'
import socket, sys, time
with open("/proc/self/comm", "w") as f:
    f.write("\x1b[31mevil\x07")
u = socket.socket(socket.AF_UNIX)
u.bind(sys.argv[1])
u.listen(4)
t = socket.socket()
t.bind(("127.0.0.1", 0))
t.listen(4)
print("ready %d" % t.getsockname()[1], flush=True)
time.sleep(60)
PY
LD_PRELOAD=$AW_REL_SHIM aw_start X python3 "$AW_TMP/evil.py" "$SOCK"
aw_register_file "$SOCK"
grep -q $'\e' "/proc/$X_PID/comm" || aw_fail "the server could not set its comm"

clean() { # name file
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$2"; then
		aw_fail "$1: a control byte reached the text output: $(od -c "$2" | head -20)"
	fi
	grep -qF '\x1b' "$2" || aw_fail "$1: the escape byte is not shown as \\x1b: $(cat "$2")"
}

"$AW_TOOL" listeners >"$AW_TMP/l.txt" 2>&1
clean listeners "$AW_TMP/l.txt"
grep -qF '\x1b[31mevil\x07' "$AW_TMP/l.txt" ||
	aw_fail "listeners: the comm is not shown escaped: $(cat "$AW_TMP/l.txt")"
"$AW_TOOL" stat "$X_PID" >"$AW_TMP/s.txt" 2>&1
clean stat "$AW_TMP/s.txt"
grep -qF '\x1b]0;pwned\x07.sock' "$AW_TMP/s.txt" ||
	aw_fail "stat: the socket path is not shown escaped: $(cat "$AW_TMP/s.txt")"
"$AW_TOOL" stat --hist "$X_PID" >"$AW_TMP/h.txt" 2>&1
clean "stat --hist" "$AW_TMP/h.txt"
grep -qF '\x1b]0;pwned\x07.sock' "$AW_TMP/h.txt" ||
	aw_fail "stat --hist: the socket path is not shown escaped: $(cat "$AW_TMP/h.txt")"
"$AW_TOOL" check --interval 0 "$X_PID" >"$AW_TMP/c.txt" 2>&1
clean check "$AW_TMP/c.txt"
"$AW_TOOL" top --once >"$AW_TMP/t.txt" 2>&1
clean top "$AW_TMP/t.txt"
echo PASS
