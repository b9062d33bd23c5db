#!/usr/bin/env bash
# make install / uninstall honour PREFIX and DESTDIR (the systemd units and
# the preload drop-in name the installed paths); the installed reader's
# `run` finds the installed shim wherever the prefix is.
. "$AW_ROOT/tests/lib.sh"
dest=$AW_TMP/stage
make -s -C "$AW_ROOT" install DESTDIR="$dest" PREFIX=/opt/aw >"$AW_TMP/log" 2>&1 ||
	aw_fail "install failed: $(cat "$AW_TMP/log")"
for f in bin/acceptwatch lib/acceptwatch/libacceptwatch.so \
	share/man/man1/acceptwatch.1 share/man/man7/libacceptwatch.7 \
	lib/systemd/system/acceptwatch-exporter.service \
	lib/systemd/system/acceptwatch-gc.timer \
	lib/systemd/system/acceptwatch-textfile.timer \
	share/acceptwatch/acceptwatch-preload.conf; do
	[ -f "$dest/opt/aw/$f" ] || aw_fail "not installed: $f"
done
# The systemd files name the installed paths, not the defaults.
grep -qx "ExecStart=/opt/aw/bin/acceptwatch serve --listen 127.0.0.1:9437" \
	"$dest/opt/aw/lib/systemd/system/acceptwatch-exporter.service" ||
	aw_fail "exporter unit: $(grep ExecStart "$dest/opt/aw/lib/systemd/system/acceptwatch-exporter.service")"
grep -qx "Environment=LD_PRELOAD=/opt/aw/lib/acceptwatch/libacceptwatch.so" \
	"$dest/opt/aw/share/acceptwatch/acceptwatch-preload.conf" || aw_fail "drop-in paths"
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
