#!/usr/bin/env bash
# The reader's command line follows the usual conventions:
#  - --version (and -V) prints the version and the segment layout, exit 0;
#  - options may follow PIDs: `stat PID --json` (the README's example);
#  - each command's --help lists every option with its short form, and
#    the short forms work (stat -j = stat --json);
#  - a mistyped command gets "did you mean", one line, exit 2;
#  - stat PID for a pid that does not exist says so; for a process without
#    the shim, says that; for another user's segment read as non-root,
#    names the user and what to run.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"

expect() { # STATUS CMD... : run, keep stdout/stderr, check the status
	local want=$1
	shift
	"$@" >"$AW_TMP/out" 2>"$AW_TMP/err"
	local rc=$?
	[ "$rc" = "$want" ] || aw_fail "'$*' exited $rc, want $want: $(cat "$AW_TMP/err")"
}
one_line() { # PATTERN : stderr is one line matching PATTERN
	[ "$(wc -l <"$AW_TMP/err")" = 1 ] || aw_fail "not one line: $(cat "$AW_TMP/err")"
	grep -q -- "$1" "$AW_TMP/err" || aw_fail "want '$1', got: $(cat "$AW_TMP/err")"
}

for v in --version -V; do
	expect 0 "$AW_TOOL" "$v"
	grep -Eq '^acceptwatch [0-9]+\.[0-9]+\.[0-9]+ \(segment layout [0-9]+\)$' "$AW_TMP/out" ||
		aw_fail "$v: $(cat "$AW_TMP/out")"
done

# Every option of every command, with its short form, in its --help.
declare -A OPTS=(
	[stat]="-j,--json -p,--prometheus -P,--by-process -o,--output -a,--all -h,--help"
	[check]="-j,--json -i,--interval -w,--window -s,--state -h,--help"
	[top]="-i,--interval -1,--once -w,--window -h,--help"
	[listeners]="-j,--json -w,--window -h,--help"
	[serve]="-l,--listen -P,--by-process -h,--help"
	[gc]="-n,--dry-run -h,--help"
	[run]="-s,--slow-ms -l,--log -k,--keep -h,--help"
)
for cmd in "${!OPTS[@]}"; do
	expect 0 "$AW_TOOL" "$cmd" --help
	head -1 "$AW_TMP/out" | grep -q "^usage: acceptwatch $cmd " ||
		aw_fail "$cmd --help: $(head -1 "$AW_TMP/out")"
	for pair in ${OPTS[$cmd]}; do
		grep -Eq "^  ${pair%%,*}, ${pair#*,}( |$)" "$AW_TMP/out" ||
			aw_fail "$cmd --help lacks '${pair/,/, }': $(cat "$AW_TMP/out")"
	done
	expect 0 "$AW_TOOL" "$cmd" -h
	grep -q "^usage: acceptwatch $cmd " "$AW_TMP/out" || aw_fail "$cmd -h"
	grep -q "^  $cmd " < <("$AW_TOOL" --help) || aw_fail "--help does not list $cmd"
done
expect 0 "$AW_TOOL" help serve
grep -q "^usage: acceptwatch serve " "$AW_TMP/out" || aw_fail "help serve"

# Options after PIDs, short forms the same as long ones.
LD_PRELOAD=$AW_SHIM aw_start_server A --backlog 8
"$AW_BIN/burst" --port "$A_PORT" -n 3 >/dev/null
expect 0 "$AW_TOOL" stat "$A_PID" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["processes"][0]["pid"] == int(sys.argv[2])' \
	"$AW_TMP/out" "$A_PID" || aw_fail "stat PID --json: $(head -c 300 "$AW_TMP/out")"
cp "$AW_TMP/out" "$AW_TMP/long.json"
expect 0 "$AW_TOOL" stat -j "$A_PID"
python3 - "$AW_TMP/long.json" "$AW_TMP/out" <<'PY' || aw_fail "stat -j differs from stat --json"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
pick = lambda d: [(p["pid"], [(l["address"], l["accepts"]) for l in p["listeners"]]) for p in d["processes"]]
assert pick(a) == pick(b), (pick(a), pick(b))
PY
expect 0 "$AW_TOOL" stat "$A_PID" --prometheus --by-socket
grep -q '^acceptwatch_accepts_total{address="127.0.0.1:'"$A_PORT"'",inode="[0-9]*",netns="[0-9]*"} 3$' "$AW_TMP/out" ||
	aw_fail "stat PID -p -s: $(grep accepts_total "$AW_TMP/out")"
expect 0 "$AW_TOOL" check "$A_PID" --interval 0 --json
expect 0 "$AW_TOOL" check "$A_PID" -i 0
# run still stops at its command: CMD's options are CMD's.
expect 0 "${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch}" run -- /bin/echo --json -h
[ "$(cat "$AW_TMP/out")" = "--json -h" ] || aw_fail "run took CMD's options: $(cat "$AW_TMP/out")"

# Mistyped commands.
for typo in stst sta lsteners chekc srve; do
	expect 2 "$AW_TOOL" "$typo"
	one_line "did you mean '"
done
expect 2 "$AW_TOOL" stst
one_line "unknown command 'stst'; did you mean 'stat'?"
expect 2 "$AW_TOOL" qqqqqq
one_line "unknown command 'qqqqqq' (try --help)"

# PIDs without a segment.
expect 2 "$AW_TOOL" stat 2147483646
one_line "no process with pid 2147483646"
sleep 30 &
S_PID=$!
aw_register_pid "$S_PID"
expect 2 "$AW_TOOL" stat "$S_PID"
one_line "pid $S_PID (sleep) runs without the shim"

# Another user's segment, read as nobody: whose it is, what to run.
aw_public "$AW_TOOL"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env ASAN_OPTIONS="$ASAN_OPTIONS" "$AW_PUB/acceptwatch" stat "$A_PID" >"$AW_TMP/out" 2>"$AW_TMP/err"
[ $? = 2 ] || aw_fail "stat as nobody: $(cat "$AW_TMP/err")"
one_line "acceptwatch.$A_PID: Permission denied: the segment belongs to root; run as root (sudo acceptwatch stat $A_PID)"
echo ok
