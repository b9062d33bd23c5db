#!/usr/bin/env bash
# The host never notices: every listen/accept/accept4 case of errcases
# (errors, EAGAIN, EINTR, EMFILE, EFAULT, flags of accepted fds) returns the
# same value and errno with the shim preloaded as without it.
. "$AW_ROOT/tests/lib.sh"
"$AW_BIN/errcases" >"$AW_TMP/bare.out" 2>"$AW_TMP/bare.err" ||
	aw_fail "errcases failed without the shim: $(cat "$AW_TMP/bare.err")"
LD_PRELOAD=$AW_SHIM ACCEPTWATCH_LOG=none "$AW_BIN/errcases" \
	>"$AW_TMP/shim.out" 2>"$AW_TMP/shim.err" ||
	aw_fail "errcases failed under the shim: $(cat "$AW_TMP/shim.err")"
[ "$(wc -l <"$AW_TMP/bare.out")" -ge 10 ] || aw_fail "too few cases ran"
diff -u "$AW_TMP/bare.out" "$AW_TMP/shim.out" >&2 ||
	aw_fail "results differ with the shim"
# The cases themselves mean what they say (not two identical wrong runs).
grep -q "EBADF" "$AW_TMP/bare.out" || aw_fail "no EBADF case"
grep -q "EAGAIN" "$AW_TMP/bare.out" || aw_fail "no EAGAIN case"
grep -q "ENOTSOCK" "$AW_TMP/bare.out" || aw_fail "no ENOTSOCK case"
cat "$AW_TMP/shim.out"
