#!/usr/bin/env bash
# The page size is the kernel's, not 4096: under a 64 KiB-page kernel
# (libbigpage.so: sysconf says 65536, shared mappings start on such a page,
# madvise refuses a range that does not) the shim backs its segment's
# header and each stripe it claims (15488 bytes apiece, not page-aligned)
# with no refused madvise, keeps the segment shared and counts every
# accept of four threads.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"
big=$AW_ROOT/build/rel/tests/libbigpage.so
[ -f "$big" ] || aw_fail "$big not built (make test-build)"
L="processes[0]['listeners'][0]"

LD_PRELOAD="$big $AW_REL_SHIM" AW_BIGPAGE_LOG=$AW_TMP/refused \
	ACCEPTWATCH_LOG=stderr aw_start S "$AW_ROOT/build/rel/tests/server" \
	--threads 4 --backlog 128
read -r _ completed _ failed < <("$AW_BIN/burst" --port "$S_PORT" -n 400 --threads 4 --timeout-ms 60000)
[ "$completed" = 400 ] || aw_fail "client completed $completed of 400 (failed $failed)"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat failed"
aw_stop "$S_PID"
[ ! -s "$AW_TMP/refused" ] ||
	aw_fail "$(wc -l <"$AW_TMP/refused") madvise calls off a page: $(head -3 "$AW_TMP/refused")"
aw_expect "$AW_TMP/s.json" "$L['accepts']" 400
aw_expect "$AW_TMP/s.json" "processes[0]['detached']" None
grep -q "cannot" "$S_ERR" && aw_fail "the shim complained: $(cat "$S_ERR")"
echo ok
