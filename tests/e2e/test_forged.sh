#!/usr/bin/env bash
# A local user plants /dev/shm/acceptwatch.<pid> for a root server's pid
# before the server listens: a valid segment, its header naming that pid
# and that process's start time, with forged figures. The server cannot
# create its own segment (the name is taken by another user's file): it
# says so on stderr and keeps serving. Root's stat and check must refuse
# the planted file (its owner is not the process's user) with a one-line
# message and a non-zero exit, never show its figures as the server's.
# Private /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"
S=/dev/shm/acceptwatch

aw_kept_segment E "$AW_TMP/real"
rm -f "$S.$E_PID"
# The stripes of slot 0 (listener_offset, then its stripe_ref[8] of
# segment offsets; accepts at 8 in a stripe) claim 999999 accepts.
inflate='lo = struct.unpack("<I", b[24:28])[0]
refs = [r for r in struct.unpack("<8I", b[lo + 272:lo + 304]) if r]
for r in refs:
    b[r + 8:r + 16] = struct.pack("<Q", 999999 // len(refs))'
# The root server: its segment name planted by uid 65534 before exec.
aw_start F bash -c 'python3 "$1" "$2" /dev/shm/acceptwatch.$$ $$ "$5" &&
	chown 65534:65534 /dev/shm/acceptwatch.$$ &&
	exec env ACCEPTWATCH_LOG=stderr LD_PRELOAD="$3" "$4" --backlog 8' \
	_ "$(aw_forge_py)" "$AW_TMP/real" "$AW_SHIM" "$AW_BIN/server" "$inflate"
[ "$(stat -c %u "$S.$F_PID")" = 65534 ] || aw_fail "the planted file is not nobody's"
read -r _ completed _ < <("$AW_BIN/burst" --port "$F_PORT" -n 5)
[ "$completed" = 5 ] || aw_fail "the server completed $completed of 5 under a planted segment"
grep -q "cannot create shared memory segment /acceptwatch.$F_PID: File exists; counting in process memory only" "$F_ERR" ||
	aw_fail "the server did not say it could not create its segment: $(cat "$F_ERR")"

refused() { # command...
	"$AW_TOOL" "$@" >"$AW_TMP/o" 2>"$AW_TMP/e"
	local rc=$?
	[ "$rc" != 0 ] || aw_fail "$*: exit 0 on a planted segment: $(cat "$AW_TMP/o")"
	grep -q 999 "$AW_TMP/o" && aw_fail "$*: showed the planted figures: $(cat "$AW_TMP/o")"
	[ "$(wc -l <"$AW_TMP/e")" = 1 ] || aw_fail "$*: not one line: $(cat "$AW_TMP/e")"
	grep -q "acceptwatch\.$F_PID: owned by uid 65534, but process $F_PID runs as uid 0" "$AW_TMP/e" ||
		aw_fail "$*: not named planted: $(cat "$AW_TMP/e")"
}
refused stat "$F_PID"
refused stat --json "$F_PID"
refused check --interval 0 "$F_PID"
# Scanning: the planted file is named unreadable, not counted as a process.
"$AW_TOOL" stat --json >"$AW_TMP/all.json" 2>"$AW_TMP/all.err"
aw_expect "$AW_TMP/all.json" "len(processes)" 0
grep -q "owned by uid 65534, but process $F_PID runs as uid 0" "$AW_TMP/all.err" ||
	aw_fail "scan: not named planted: $(cat "$AW_TMP/all.err")"
"$AW_TOOL" check --interval 0 >"$AW_TMP/c.txt" 2>&1 && aw_fail "check (scan) exit 0 on a planted segment"
aw_stop "$F_PID"
# The planted figures are readable as such: once its pid names no process,
# the file is an exited process's segment, and shows them (with --all).
"$AW_TOOL" stat --json --all "$F_PID" >"$AW_TMP/dead.json" || aw_fail "stat --all of the planted file"
aw_expect "$AW_TMP/dead.json" "processes[0]['exited']" True
aw_range "$AW_TMP/dead.json" "processes[0]['listeners'][0]['accepts']" 999996 999999
echo PASS
