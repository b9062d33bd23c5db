#!/usr/bin/env bash
# Containers: two servers, each the first process (pid 1) of its own PID
# namespace, sharing one /dev/shm with the host (unshare --pid --fork
# --mount-proc; docker and podman work the same way when /dev/shm is
# shared). Each must keep its own segment (acceptwatch.<pidns>.1), the host
# reader must show both under their host pids with their own figures, gc
# must keep both, listeners must not call them "(no shim)". A sidecar
# reader (the PID namespace and /dev/shm of the first server) sees its
# server as pid 1 and leaves the other namespace's segment alone.
# Private /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"
unshare --pid --fork --mount-proc true 2>/dev/null ||
	aw_skip "unshare --pid --fork --mount-proc is not permitted here"

# The host pid of the server: unshare's only child.
child_of() {
	local i c
	for ((i = 0; i < 100; i++)); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
		[ -n "$c" ] && echo "${c%% *}" && return 0
		sleep 0.05
	done
	return 1
}
start_in_pidns() { # VAR
	LD_PRELOAD=$AW_SHIM aw_start "$1" unshare --pid --kill-child --mount-proc \
		"$AW_BIN/server" --backlog 8
}
# LD_PRELOAD reaches unshare too, harmlessly: it never listens.
start_in_pidns A
start_in_pidns B
A_HOST=$(child_of "$A_PID") || aw_fail "no child of unshare $A_PID"
B_HOST=$(child_of "$B_PID") || aw_fail "no child of unshare $B_PID"
for p in "$A_HOST" "$B_HOST"; do
	grep -q "^NSpid:.*[[:space:]]1$" "/proc/$p/status" || aw_fail "pid $p is not pid 1 in its namespace"
done
A_NS=$(stat -L -c %i "/proc/$A_HOST/ns/pid")
B_NS=$(stat -L -c %i "/proc/$B_HOST/ns/pid")
[ "$A_NS" != "$B_NS" ] || aw_fail "both servers in one PID namespace"

"$AW_BIN/burst" --port "$A_PORT" -n 3 >/dev/null || aw_fail "burst A"
"$AW_BIN/burst" --port "$B_PORT" -n 5 >/dev/null || aw_fail "burst B"
for ns in "$A_NS" "$B_NS"; do
	[ -f "/dev/shm/acceptwatch.$ns.1" ] || aw_fail "no segment acceptwatch.$ns.1: $(ls /dev/shm)"
done

# The host: both, under their host pids, each with its own figures.
"$AW_TOOL" stat --json >"$AW_TMP/s.json" || aw_fail "stat exited $?"
aw_expect "$AW_TMP/s.json" "len(processes)" 2
aw_expect "$AW_TMP/s.json" "sorted((p['pid'], p['listeners'][0]['accepts']) for p in processes) == sorted([($A_HOST, 3), ($B_HOST, 5)])" True
aw_expect "$AW_TMP/s.json" "skipped_exited" 0
"$AW_TOOL" stat --json "$B_HOST" >"$AW_TMP/b.json" || aw_fail "stat $B_HOST exited $?"
aw_expect "$AW_TMP/b.json" "processes[0]['listeners'][0]['accepts']" 5
aw_expect "$AW_TMP/b.json" "processes[0]['exited']" False
"$AW_TOOL" stat "$B_HOST" >"$AW_TMP/b.txt" || aw_fail "stat $B_HOST (text) exited $?"
grep -q "^  pid 1 in its PID namespace $B_NS$" "$AW_TMP/b.txt" || aw_fail "stat text: $(cat "$AW_TMP/b.txt")"
"$AW_TOOL" check --interval 0 >"$AW_TMP/c.txt" || aw_fail "check exited $?: $(cat "$AW_TMP/c.txt")"
grep -q "^2 listeners in 2 processes: 2 OK" "$AW_TMP/c.txt" || aw_fail "check: $(cat "$AW_TMP/c.txt")"
"$AW_TOOL" listeners >"$AW_TMP/l.txt" || aw_fail "listeners exited $?"
for port in "$A_PORT" "$B_PORT"; do
	grep -q ":$port .* OK " "$AW_TMP/l.txt" || aw_fail "listeners: port $port not OK: $(cat "$AW_TMP/l.txt")"
done
"$AW_TOOL" gc >"$AW_TMP/gc" || aw_fail "gc exited $?"
grep -q "^gc: removed 0 stale segments, kept 2 in use, skipped 0$" "$AW_TMP/gc" || aw_fail "gc: $(cat "$AW_TMP/gc")"

# The sidecar: A's PID namespace and mounts (its /proc, the shared /dev/shm).
side() { nsenter --target "$A_HOST" --pid --mount "$AW_TOOL" "$@"; }
side stat --json >"$AW_TMP/side.json" 2>"$AW_TMP/side.err" || aw_fail "sidecar stat exited $?: $(cat "$AW_TMP/side.err")"
aw_expect "$AW_TMP/side.json" "[(p['pid'], p['listeners'][0]['accepts']) for p in processes] == [(1, 3)]" True
side stat --json 1 >"$AW_TMP/side1.json" || aw_fail "sidecar stat 1 exited $?"
aw_expect "$AW_TMP/side1.json" "processes[0]['listeners'][0]['accepts']" 3
side check --interval 0 >"$AW_TMP/side.txt" || aw_fail "sidecar check exited $?: $(cat "$AW_TMP/side.txt")"
grep -q "^pid 1 (server) .*: OK$" "$AW_TMP/side.txt" || aw_fail "sidecar check: $(cat "$AW_TMP/side.txt")"
side gc >"$AW_TMP/side.gc" || aw_fail "sidecar gc exited $?"
grep -q "^skip acceptwatch\.$B_NS\.1: written in PID namespace $B_NS, not visible from here" "$AW_TMP/side.gc" ||
	aw_fail "sidecar gc: $(cat "$AW_TMP/side.gc")"
[ -f "/dev/shm/acceptwatch.$B_NS.1" ] || aw_fail "the sidecar removed the other namespace's segment"

# A namespace whose server is gone: its segment is stale, from the host.
kill -KILL "$B_PID"
for ((i = 0; i < 100; i++)); do aw__alive "$B_HOST" || break; sleep 0.05; done
[ -f "/dev/shm/acceptwatch.$B_NS.1" ] || aw_fail "the killed server's segment is gone already"
"$AW_TOOL" gc >"$AW_TMP/gc2" || aw_fail "gc exited $?"
grep -q "^removed acceptwatch\.$B_NS\.1 (process exited)$" "$AW_TMP/gc2" || aw_fail "gc after B exited: $(cat "$AW_TMP/gc2")"
grep -q "kept 1 in use" "$AW_TMP/gc2" || aw_fail "gc after B exited: $(cat "$AW_TMP/gc2")"
echo PASS
