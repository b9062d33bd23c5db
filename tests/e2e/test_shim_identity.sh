#!/usr/bin/env bash
# "Runs the shim" is decided by what the process maps, not by a file name:
# a live process maps its own segment (the very file: device and inode),
# whatever the shim's library is called. A server preloading a copy of the
# shim under another name, or the shim bind-mounted as a container would
# (-v .../libacceptwatch.so:/preload/aw.so), is shown live with its figures
# by stat, check and the exposition, and gc keeps its segment; the same
# server after it exec'd a program without the shim is still stale (gc
# removes its segment, if the shim did not at the exec).
# Private mount namespace (bind mounts, /dev/shm): needs root.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"

mkdir -p "$AW_TMP/copy" "$AW_TMP/preload"
cp "$AW_SHIM" "$AW_TMP/copy/hook.so"
: >"$AW_TMP/preload/aw.so"
mount --bind "$AW_SHIM" "$AW_TMP/preload/aw.so" || aw_skip "mount --bind is not permitted here"
# The mount goes first (lazily: the servers still map the file).
trap 'umount -l "$AW_TMP/preload/aw.so"; aw_cleanup' EXIT

LD_PRELOAD=$AW_TMP/copy/hook.so aw_start_server C --backlog 8
LD_PRELOAD=$AW_TMP/preload/aw.so aw_start_server B --backlog 8
"$AW_BIN/burst" --port "$C_PORT" -n 4 >/dev/null || aw_fail "burst C"
"$AW_BIN/burst" --port "$B_PORT" -n 6 >/dev/null || aw_fail "burst B"
grep -q "libacceptwatch" "/proc/$C_PID/maps" "/proc/$B_PID/maps" &&
	aw_fail "a server maps a file named libacceptwatch: the test proves nothing"

for p in "$C_PID:4" "$B_PID:6"; do
	pid=${p%:*}
	"$AW_TOOL" stat --json "$pid" >"$AW_TMP/s.json" || aw_fail "stat $pid exited $?"
	aw_expect "$AW_TMP/s.json" "processes[0]['exited']" False
	aw_expect "$AW_TMP/s.json" "processes[0]['listeners'][0]['accepts']" "${p#*:}"
done
"$AW_TOOL" stat --json >"$AW_TMP/all.json" || aw_fail "stat exited $?"
aw_expect "$AW_TMP/all.json" "len(processes)" 2
aw_expect "$AW_TMP/all.json" "skipped_exited" 0
"$AW_TOOL" stat --prometheus >"$AW_TMP/m.prom" || aw_fail "stat --prometheus exited $?"
grep -q "^acceptwatch_processes 2$" "$AW_TMP/m.prom" ||
	aw_fail "exposition: $(grep '^acceptwatch_processes' "$AW_TMP/m.prom")"
# (A verdict, whichever a busy machine earns, shows it judged live.)
"$AW_TOOL" check --interval 0 >"$AW_TMP/c.txt"
grep -q "^pid $C_PID (server) 127.0.0.1:$C_PORT fd 3: " "$AW_TMP/c.txt" &&
	grep -q "^pid $B_PID (server) 127.0.0.1:$B_PORT fd 3: " "$AW_TMP/c.txt" ||
	aw_fail "check does not see both servers: $(cat "$AW_TMP/c.txt")"

"$AW_TOOL" gc >"$AW_TMP/gc.out" || aw_fail "gc exited $?"
[ -f "/dev/shm/acceptwatch.$C_PID" ] && [ -f "/dev/shm/acceptwatch.$B_PID" ] ||
	aw_fail "gc removed a live server's segment: $(cat "$AW_TMP/gc.out")"
grep -q "kept 2 in use" "$AW_TMP/gc.out" || aw_fail "gc: $(cat "$AW_TMP/gc.out")"

# Under a copy of the shim, then exec'd without it: stale, removed.
# The exec is a raw system call: the shim's execve (which removes the
# segment) never runs.
LD_PRELOAD=$AW_TMP/copy/hook.so python3 "$AW_ROOT/tests/e2e/listen_raw_exec.py" \
	>"$AW_TMP/x.out" 2>"$AW_TMP/x.err" &
X_PID=$!
aw_register_pid "$X_PID"
for ((i = 0; i < 200; i++)); do
	[ "$(readlink "/proc/$X_PID/exe")" = /usr/bin/sleep ] && break
	sleep 0.05
done
"$AW_TOOL" gc >"$AW_TMP/gc2.out" || aw_fail "gc exited $?"
# The shim may remove its segment itself at the exec; if it is there, gc
# removes it.
[ ! -e "/dev/shm/acceptwatch.$X_PID" ] ||
	aw_fail "the exec'd process's segment stays: $(cat "$AW_TMP/gc2.out")"
[ -f "/dev/shm/acceptwatch.$C_PID" ] && [ -f "/dev/shm/acceptwatch.$B_PID" ] ||
	aw_fail "the second gc removed a live segment"
echo ok
