#!/usr/bin/env bash
# Bad ACCEPTWATCH_* values: the default is kept, and the host's stderr hears
# nothing of it by default; the segment records which variables were
# ignored (acceptwatch stat shows them), and a sink that was asked for gets
# the warning line.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
P="processes[0]"

ACCEPTWATCH_SLOW_MS=soon ACCEPTWATCH_KEEP=perhaps ACCEPTWATCH_LOG=logs/x \
	ACCEPTWATCH_BACKLOG=-3 LD_PRELOAD=$AW_SHIM aw_start_server B --backlog 8
"$AW_TOOL" stat --json "$B_PID" >"$AW_TMP/b.json" || aw_fail "stat"
aw_expect "$AW_TMP/b.json" "$P['slow_ms']" 50
aw_expect "$AW_TMP/b.json" "$P['ignored_env']" \
	'["ACCEPTWATCH_SLOW_MS", "ACCEPTWATCH_LOG", "ACCEPTWATCH_BACKLOG", "ACCEPTWATCH_KEEP"]'
aw_expect "$AW_TMP/b.json" "$P['listeners'][0]['requested_backlog']" 8
aw_expect "$AW_TMP/b.json" "$P['listeners'][0]['raised']" False
"$AW_TOOL" stat "$B_PID" >"$AW_TMP/b.txt"
grep -q "^  ignored bad values of ACCEPTWATCH_SLOW_MS, ACCEPTWATCH_LOG, ACCEPTWATCH_BACKLOG, ACCEPTWATCH_KEEP (defaults used)$" "$AW_TMP/b.txt" ||
	aw_fail "text output: $(cat "$AW_TMP/b.txt")"
aw_stop "$B_PID"
[ -s "$B_ERR" ] && aw_fail "warnings on the host's stderr: $(cat "$B_ERR")"

# A log file asked for: the warning goes there, escaped like any line.
ACCEPTWATCH_SLOW_MS=$'soon\e[2J' ACCEPTWATCH_LOG=$AW_TMP/aw.log LD_PRELOAD=$AW_SHIM \
	aw_start_server F --backlog 8
grep -qF "acceptwatch[$F_PID]: ACCEPTWATCH_SLOW_MS='soon\x1b[2J' is not a whole number" "$AW_TMP/aw.log" ||
	aw_fail "no warning in the log file: $(cat -A "$AW_TMP/aw.log")"
"$AW_TOOL" stat --json "$F_PID" >"$AW_TMP/f.json" || aw_fail "stat"
aw_expect "$AW_TMP/f.json" "$P['ignored_env']" '["ACCEPTWATCH_SLOW_MS"]'
aw_stop "$F_PID"
[ -s "$F_ERR" ] && aw_fail "warnings on the host's stderr: $(cat "$F_ERR")"

# Good values: nothing ignored, nothing said.
ACCEPTWATCH_SLOW_MS=70 LD_PRELOAD=$AW_SHIM aw_start_server G --backlog 8
"$AW_TOOL" stat --json "$G_PID" >"$AW_TMP/g.json" || aw_fail "stat"
aw_expect "$AW_TMP/g.json" "$P['ignored_env']" '[]'
"$AW_TOOL" stat "$G_PID" | grep -q "ignored" && aw_fail "text says something was ignored"
aw_stop "$G_PID"
echo ok
