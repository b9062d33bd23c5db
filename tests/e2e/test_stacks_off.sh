#!/usr/bin/env bash
# "Stacks off, and why", in stat and its JSON (stacks_off), for the two
# causes met in production, each provoked for real:
#  - a seccomp filter that kills mincore(2) (systemd's SystemCallFilter=
#    @system-service, Debian's redis unit): libunwind's start-up, run in a
#    child of the shim's, dies; the server itself is untouched and counts
#    its accepts;
#  - libunwind.so.8 that cannot be loaded (an empty file first on
#    LD_LIBRARY_PATH);
# and a server with stacks on says nothing (stacks_off null).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
command -v python3 >/dev/null || aw_skip "python3 is not installed (make deps)"

# stacks_off of PID's segment (stat --json), printed as JSON.
stacks_off() {
	"$AW_TOOL" stat --json "$1" | python3 -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["processes"][0]["stacks_off"]))'
}

LD_PRELOAD=$AW_SHIM aw_start_server ON --backlog 8
[ "$(stacks_off "$ON_PID")" = null ] || aw_fail "stacks on, yet: $(stacks_off "$ON_PID")"
"$AW_TOOL" stat "$ON_PID" | grep -q "stacks: off" && aw_fail "stat says stacks off"

"$AW_BIN/seccomp_deny" true 2>"$AW_TMP/sd.err"
rc=$?
[ "$rc" = 126 ] && aw_skip "no seccomp filter here: $(cat "$AW_TMP/sd.err")"
ACCEPTWATCH_LOG=$AW_TMP/sc.log LD_PRELOAD=$AW_SHIM \
	aw_start SC "$AW_BIN/seccomp_deny" "$AW_BIN/server" --backlog 8
read -r _ done _ <<<"$("$AW_BIN/burst" --port "$SC_PORT" -n 5)"
[ "$done" = 5 ] || aw_fail "under the filter: $done of 5 connections"
got=$(stacks_off "$SC_PID")
[[ $got == *"start-up did not finish"*SystemCallFilter* ]] ||
	aw_fail "seccomp: stacks_off $got; log: $(cat "$AW_TMP/sc.log" 2>&1)"
"$AW_TOOL" stat "$SC_PID" >"$AW_TMP/sc.txt"
grep -q "stacks: off, libunwind's start-up did not finish" "$AW_TMP/sc.txt" ||
	aw_fail "stat: $(cat "$AW_TMP/sc.txt")"
grep -q "accepts 5\b\|accepts *5 " "$AW_TMP/sc.txt" ||
	"$AW_TOOL" stat --json "$SC_PID" | python3 -c 'import json,sys
assert json.load(sys.stdin)["processes"][0]["listeners"][0]["accepts"] == 5' ||
	aw_fail "accepts under the filter: $(cat "$AW_TMP/sc.txt")"

mkdir "$AW_TMP/nolib"
: >"$AW_TMP/nolib/libunwind.so.8"
LD_LIBRARY_PATH=$AW_TMP/nolib LD_PRELOAD=$AW_SHIM aw_start_server NL --backlog 8
got=$(stacks_off "$NL_PID")
[[ $got == *"libunwind.so.8 could not be loaded"* ]] || aw_fail "no library: stacks_off $got"
echo ok
