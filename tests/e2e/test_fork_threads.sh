#!/usr/bin/env bash
# Fork while other threads are inside the shim (accept, listen and close,
# dup and fcntl): 200 forks, each child going through the wrappers once,
# none may hang on a lock another thread held at fork. Sanitized and
# release builds; every child's segment is gone after it exits.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"

run() { # label preload program
	timeout 120 env LD_PRELOAD="$2" ACCEPTWATCH_LOG=none "$3" 200 \
		>"$AW_TMP/$1.out" 2>"$AW_TMP/$1.err"
	local rc=$?
	[ "$rc" = 0 ] || aw_fail "$1: exit $rc: $(cat "$AW_TMP/$1.err")"
	grep -q "^forks 200 ok$" "$AW_TMP/$1.out" || aw_fail "$1: $(cat "$AW_TMP/$1.out")"
	local left
	left=$(find /dev/shm -name 'acceptwatch.*' | wc -l)
	[ "$left" = 0 ] || aw_fail "$1: $left segments left"
	echo "ok: $1: 200 forks"
}
run asan "$AW_SHIM" "$AW_BIN/forkstorm"
run release "$AW_REL_SHIM" "$AW_ROOT/build/rel/tests/forkstorm"
