#!/usr/bin/env bash
# An upgrade replaces libacceptwatch.so under running servers: they keep
# the old file mapped, which /proc/PID/maps then shows as
# ".../libacceptwatch.so (deleted)". Such a server still runs the shim:
# stat, check, gc and the Prometheus exposition must see it live, with its
# figures. The server here preloads a copy of the shim that the test
# replaces (a new file renamed over it, as install(1) and package managers
# do) and then deletes. Private /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"

mkdir -p "$AW_TMP/lib"
LIB=$AW_TMP/lib/libacceptwatch.so
cp "$AW_SHIM" "$LIB"
LD_PRELOAD=$LIB aw_start_server U --backlog 8
"$AW_BIN/burst" --port "$U_PORT" -n 5 >/dev/null || aw_fail "burst"

# The upgrade: a new file renamed over the old one, then removed.
cp "$AW_SHIM" "$LIB.new" && mv -f "$LIB.new" "$LIB" || aw_fail "replace"
grep -q 'libacceptwatch\.so (deleted)$' "/proc/$U_PID/maps" ||
	aw_fail "the replaced shim is not shown deleted in maps"
rm -f "$LIB"

"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/s.json" || aw_fail "stat exited $?"
aw_expect "$AW_TMP/s.json" "processes[0]['exited']" False
aw_expect "$AW_TMP/s.json" "processes[0]['listeners'][0]['accepts']" 5
"$AW_TOOL" stat --json >"$AW_TMP/all.json" || aw_fail "stat (scan) exited $?"
aw_expect "$AW_TMP/all.json" "len(processes)" 1
aw_expect "$AW_TMP/all.json" "skipped_exited" 0

"$AW_TOOL" check --interval 0 >"$AW_TMP/c.txt"
rc=$?
grep -q "no process runs under acceptwatch" "$AW_TMP/c.txt" &&
	aw_fail "check does not see the server: $(cat "$AW_TMP/c.txt")"
grep -q "^pid $U_PID (server) .*: OK$" "$AW_TMP/c.txt" ||
	aw_fail "check: no OK line for $U_PID: $(cat "$AW_TMP/c.txt")"
[ "$rc" = 0 ] || aw_fail "check exited $rc"

"$AW_TOOL" stat --prometheus --by-process >"$AW_TMP/m.prom" || aw_fail "prometheus exited $?"
grep -q "pid=\"$U_PID\"" "$AW_TMP/m.prom" ||
	aw_fail "no series for pid $U_PID: $(head -20 "$AW_TMP/m.prom")"

"$AW_TOOL" gc --dry-run >"$AW_TMP/gc" || aw_fail "gc --dry-run exited $?"
grep -q "^gc: would remove 0 stale segments, kept 1 in use, skipped 0$" "$AW_TMP/gc" ||
	aw_fail "gc: $(cat "$AW_TMP/gc")"
"$AW_TOOL" gc >"$AW_TMP/gc2" || aw_fail "gc exited $?"
[ -f "/dev/shm/acceptwatch.$U_PID" ] || aw_fail "gc removed a live server's segment"
aw_stop "$U_PID"
echo "PASS"
