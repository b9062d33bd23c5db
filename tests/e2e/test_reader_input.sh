#!/usr/bin/env bash
# Bad input to the reader gets one clear line and a defined exit code:
# usage errors and unknown PIDs exit 2; corrupt, foreign or planted segments
# are named with their reason and never crash it.
. "$AW_ROOT/tests/lib.sh"

expect_exit() {
	local want=$1
	shift
	"$@" >"$AW_TMP/out" 2>"$AW_TMP/err"
	local rc=$?
	[ "$rc" = "$want" ] || aw_fail "'$*' exited $rc, want $want: $(cat "$AW_TMP/err")"
}

expect_exit 2 "$AW_TOOL"
expect_exit 2 "$AW_TOOL" frobnicate
grep -q "^acceptwatch: " "$AW_TMP/err" || aw_fail "no one-line error"
expect_exit 0 "$AW_TOOL" --help
expect_exit 2 "$AW_TOOL" stat --bogus
expect_exit 2 "$AW_TOOL" stat 12abc
expect_exit 2 "$AW_TOOL" stat 2147483646
[ "$(wc -l <"$AW_TMP/err")" = 1 ] || aw_fail "unknown pid: not one line"
grep -q "2147483646" "$AW_TMP/err" || aw_fail "unknown pid not named"
expect_exit 2 "$AW_TOOL" run
expect_exit 2 "$AW_TOOL" run --slow-ms abc -- true

# Planted segments: garbage, a truncated header, a symlink. Big pids that
# no process has.
base=/dev/shm/acceptwatch
printf 'garbage' >"$base.2147483601"
head -c 4096 /dev/zero >"$base.2147483602"
ln -sf /etc/passwd "$base.2147483603"
aw_register_file "$base.2147483601" "$base.2147483602" "$base.2147483603"
expect_exit 0 "$AW_TOOL" stat
for n in 2147483601 2147483602 2147483603; do
	grep -q "acceptwatch.$n: " "$AW_TMP/err" || aw_fail "segment $n not named: $(cat "$AW_TMP/err")"
done
expect_exit 0 "$AW_TOOL" stat --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["unreadable"]) >= 3' \
	"$AW_TMP/out" || aw_fail "JSON lacks the unreadable segments"
expect_exit 2 "$AW_TOOL" stat 2147483602
grep -q "2147483602" "$AW_TMP/err" || aw_fail "asked-for corrupt segment not named"
# The symlink was not followed, and its target is untouched.
[ -L "$base.2147483603" ] || aw_fail "symlink replaced"

# Bad environment values: one warning line each, defaults kept.
ACCEPTWATCH_LOG=stderr ACCEPTWATCH_SLOW_MS=soon ACCEPTWATCH_KEEP=perhaps LD_PRELOAD=$AW_SHIM \
	aw_start_server B --backlog 8
"$AW_TOOL" stat --json "$B_PID" >"$AW_TMP/b.json"
aw_expect "$AW_TMP/b.json" "processes[0]['slow_ms']" 50
grep -q "ACCEPTWATCH_SLOW_MS='soon' is not" "$B_ERR" || aw_fail "no warning for SLOW_MS"
grep -q "ACCEPTWATCH_KEEP='perhaps' is not" "$B_ERR" || aw_fail "no warning for KEEP"
echo ok
