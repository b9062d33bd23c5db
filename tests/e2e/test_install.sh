#!/usr/bin/env bash
# make install / uninstall honour PREFIX and DESTDIR; the installed reader's
# `run` finds the installed shim wherever the prefix is.
. "$AW_ROOT/tests/lib.sh"
dest=$AW_TMP/stage
make -s -C "$AW_ROOT" install DESTDIR="$dest" PREFIX=/opt/aw >"$AW_TMP/log" 2>&1 ||
	aw_fail "install failed: $(cat "$AW_TMP/log")"
for f in bin/acceptwatch lib/acceptwatch/libacceptwatch.so \
	share/man/man1/acceptwatch.1 share/man/man7/libacceptwatch.7; do
	[ -f "$dest/opt/aw/$f" ] || aw_fail "not installed: $f"
done
# The staged reader runs a program under the staged shim.
ACCEPTWATCH_LOG=none "$dest/opt/aw/bin/acceptwatch" run -- \
	/bin/sh -c 'echo "$LD_PRELOAD"' >"$AW_TMP/preload" ||
	aw_fail "installed run failed"
grep -qx "$dest/opt/aw/lib/acceptwatch/libacceptwatch.so" "$AW_TMP/preload" ||
	aw_fail "run preloaded: $(cat "$AW_TMP/preload")"
make -s -C "$AW_ROOT" uninstall DESTDIR="$dest" PREFIX=/opt/aw >"$AW_TMP/log" 2>&1 ||
	aw_fail "uninstall failed"
left=$(find "$dest" -type f | wc -l)
[ "$left" = 0 ] || aw_fail "uninstall left $left files"
echo ok
