#!/usr/bin/env bash
# Control bytes in what the shim logs are escaped (\xNN, and a backslash as
# \\): a Unix socket path holding a newline, a forged "acceptwatch[...]"
# line and a terminal escape sequence gives one line, and no raw control
# byte, on the stderr sink and in a log file.
. "$AW_ROOT/tests/lib.sh"

path="$AW_TMP/a"$'\n'"acceptwatch[1]: forged"$'\e'"[31mred\\x"
want='/a\x0aacceptwatch[1]: forged\x1b[31mred\\x requested=8'
check() {
	local f=$1 n
	n=$(grep -c '' "$f")
	[ "$n" = 1 ] || aw_fail "$2: $n lines, want 1: $(cat -A "$f")"
	grep -qF "$want" "$f" || aw_fail "$2: not escaped as $want: $(cat -A "$f")"
	LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$f" &&
		aw_fail "$2: a raw control byte: $(cat -A "$f")"
	return 0
}

ACCEPTWATCH_LOG=stderr LD_PRELOAD=$AW_SHIM aw_start_server S --unix "$path" --backlog 8
aw_stop "$S_PID"
check "$S_ERR" stderr
rm -f "$path"
ACCEPTWATCH_LOG=$AW_TMP/aw.log LD_PRELOAD=$AW_SHIM aw_start_server F --unix "$path" --backlog 8
aw_stop "$F_PID"
check "$AW_TMP/aw.log" "log file"
echo "one escaped line: $(cat "$S_ERR")"
