#!/usr/bin/env bash
# Nothing that can take the dynamic loader's lock runs under the shim's
# table lock: a thread in dlopen() whose library constructor listens (the
# loader's lock held, the table lock wanted) runs beside a thread that
# listens from its own code (the table lock held, a call-site stack taken).
# 300 rounds each, no deadlock (a 60 s limit stands for "hung").
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"

timeout 60 env LD_PRELOAD="$AW_REL_SHIM" ACCEPTWATCH_LOG=none \
	"$AW_ROOT/build/rel/tests/loaderlock" "$AW_ROOT/build/rel/tests/libctorlisten.so" 300 \
	>"$AW_TMP/out" 2>"$AW_TMP/err"
rc=$?
[ "$rc" = 124 ] && aw_fail "deadlock: dlopen beside listen hung for 60 s"
[ "$rc" = 0 ] || aw_fail "exit $rc: $(cat "$AW_TMP/err")"
grep -q "^rounds 300 ok$" "$AW_TMP/out" || aw_fail "$(cat "$AW_TMP/out")"
echo "ok: 300 dlopen rounds beside 300 listens"
