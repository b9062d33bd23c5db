#!/usr/bin/env bash
# A worker made with a raw clone() (a process of its own, no fork handlers
# run: rawclone.c) keeps a copy of its parent's memory, the accept path's
# thread state included, and the parent's segment mapped: it must not reach
# the parent's stripes. The parent accepts 200 connections, its child 300
# on the same listener: the parent's segment counts 200, the child's (made
# as a forked child's would be) 300, and neither records a negative time.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"
aw_enter_private_shm "$@"

ACCEPTWATCH_KEEP=1 ACCEPTWATCH_LOG=stderr LD_PRELOAD=$AW_SHIM \
	"$AW_BIN/rawclone" 200 300 >"$AW_TMP/out" 2>"$AW_TMP/err" ||
	aw_fail "rawclone failed: $(cat "$AW_TMP/err")"
read -r _ parent _ child _ status <"$AW_TMP/out"
[ "$status" = 0 ] || aw_fail "child exit status $status: $(cat "$AW_TMP/err")"
! grep -q "Sanitizer\|runtime error" "$AW_TMP/err" || aw_fail "sanitizer: $(head -30 "$AW_TMP/err")"
"$AW_TOOL" stat --json --all "$parent" >"$AW_TMP/p.json" || aw_fail "no parent segment"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/p.json" "$L['accepts']" 200
aw_range "$AW_TMP/p.json" "$L['away_ns']['max']" 0 10000000000
[ -f "/dev/shm/acceptwatch.$child" ] || aw_fail "the child made no segment of its own"
"$AW_TOOL" stat --json --all "$child" >"$AW_TMP/c.json" || aw_fail "no child segment"
aw_expect "$AW_TMP/c.json" "$L['accepts']" 300
aw_range "$AW_TMP/c.json" "$L['away_ns']['max']" 0 10000000000
echo "ok: parent $parent 200 accepts, child $child 300"
