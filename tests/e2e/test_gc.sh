#!/usr/bin/env bash
# acceptwatch gc removes the segments of processes that exited or exec'd a
# program without the shim, and only those: a live server's segment stays,
# files planted under a segment's name (a symbolic link, garbage, a FIFO, a
# valid segment under another pid's name) are reported as "skip" and left
# exactly as they were, --dry-run removes nothing, and a user never removes
# another user's segment. Runs in a private mount namespace with its own
# /dev/shm, so other processes' segments on this machine are never touched.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"
S=/dev/shm/acceptwatch

# Live, under the shim: kept.
LD_PRELOAD=$AW_SHIM aw_start_server L --backlog 8
# Exited, its segment kept (ACCEPTWATCH_KEEP): stale.
ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_SHIM aw_start_server E --backlog 8
aw_stop "$E_PID"
[ -f "$S.$E_PID" ] || aw_fail "no kept segment for exited $E_PID"
# Alive but exec'd a program without the shim: stale. The exec is a raw
# system call: the shim's execve (which removes the segment) never runs.
LD_PRELOAD=$AW_REL_SHIM python3 "$AW_ROOT/tests/e2e/listen_raw_exec.py" \
	>"$AW_TMP/x.out" 2>"$AW_TMP/x.err" &
X_PID=$!
aw_register_pid "$X_PID"
for _ in $(seq 100); do
	[ -f "$S.$X_PID" ] && grep -q sleep "/proc/$X_PID/comm" 2>/dev/null && break
	sleep 0.05
done
[ -f "$S.$X_PID" ] || aw_fail "no segment for the exec'd process: $(cat "$AW_TMP/x.err")"
grep -q sleep "/proc/$X_PID/comm" || aw_fail "pid $X_PID did not exec sleep"

# Planted: never removed, never followed.
ln -s /etc/passwd "$S.2147483603"
printf 'garbage' >"$S.2147483601"
mkfifo "$S.2147483604"
cp "$S.$E_PID" "$S.2147483605" # a valid segment under another pid's name
printf 'x' >"$S.notapid"
passwd_sum=$(sha256sum </etc/passwd)

expect_line() { # file regex
	grep -Eq "$2" "$1" || aw_fail "no line /$2/ in: $(cat "$1")"
}

"$AW_TOOL" gc --dry-run >"$AW_TMP/dry" 2>"$AW_TMP/dry.err" ||
	aw_fail "gc --dry-run exited $?: $(cat "$AW_TMP/dry.err")"
expect_line "$AW_TMP/dry" "^would remove acceptwatch\.$E_PID \(process exited\)$"
expect_line "$AW_TMP/dry" "^would remove acceptwatch\.$X_PID \(process no longer runs the shim\)$"
expect_line "$AW_TMP/dry" "^gc: would remove 2 stale segments, kept 1 in use, skipped 4$"
[ -f "$S.$E_PID" ] && [ -f "$S.$X_PID" ] || aw_fail "--dry-run removed something"

"$AW_TOOL" gc >"$AW_TMP/gc" 2>"$AW_TMP/gc.err" ||
	aw_fail "gc exited $?: $(cat "$AW_TMP/gc.err")"
expect_line "$AW_TMP/gc" "^removed acceptwatch\.$E_PID \(process exited\)$"
expect_line "$AW_TMP/gc" "^removed acceptwatch\.$X_PID \(process no longer runs the shim\)$"
expect_line "$AW_TMP/gc" "^skip acceptwatch\.2147483603: a symbolic link, not followed$"
expect_line "$AW_TMP/gc" "^skip acceptwatch\.2147483601: truncated"
expect_line "$AW_TMP/gc" "^skip acceptwatch\.2147483604: not a regular file$"
expect_line "$AW_TMP/gc" "^skip acceptwatch\.2147483605: header pid $E_PID does not match the name$"
expect_line "$AW_TMP/gc" "^gc: removed 2 stale segments, kept 1 in use, skipped 4$"
[ "$(grep -c '^removed ' "$AW_TMP/gc")" = 2 ] || aw_fail "removed more than 2"
[ -e "$S.$E_PID" ] && aw_fail "exited segment still there"
[ -e "$S.$X_PID" ] && aw_fail "exec'd segment still there"
[ -f "$S.$L_PID" ] || aw_fail "live segment removed"
[ -L "$S.2147483603" ] || aw_fail "symlink removed"
[ "$(sha256sum </etc/passwd)" = "$passwd_sum" ] || aw_fail "symlink target changed"
[ -f "$S.2147483601" ] && [ -p "$S.2147483604" ] && [ -f "$S.2147483605" ] &&
	[ -f "$S.notapid" ] || aw_fail "a planted file was removed"
# The live server still reads fine and is not reported as exited.
"$AW_TOOL" stat --json "$L_PID" >"$AW_TMP/l.json" || aw_fail "live segment unreadable"
aw_expect "$AW_TMP/l.json" "processes[0]['alive']" True

# A user never removes another user's segment, stale or not.
ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_SHIM aw_start_server R --backlog 8
aw_stop "$R_PID"
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	aw_public "$AW_TOOL"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$AW_PUB/acceptwatch" gc \
		>"$AW_TMP/nobody" 2>&1 || aw_fail "gc as nobody exited $?"
	[ -f "$S.$R_PID" ] || aw_fail "nobody removed root's segment"
	expect_line "$AW_TMP/nobody" "^skip acceptwatch\.$R_PID: "
	grep -q '^removed ' "$AW_TMP/nobody" && aw_fail "nobody removed: $(cat "$AW_TMP/nobody")"
fi

# Usage errors.
"$AW_TOOL" gc --bogus >/dev/null 2>&1
[ $? = 2 ] || aw_fail "gc --bogus: want exit 2"
"$AW_TOOL" gc extra >/dev/null 2>&1
[ $? = 2 ] || aw_fail "gc extra: want exit 2"
aw_stop "$L_PID"
echo ok
