#!/usr/bin/env bash
# ACCEPTWATCH_LOG=syslog: each line goes to /dev/log on a socket of the
# shim's own, closed at once. libc's syslog() would keep its socket open in
# the host, where a daemon that closes descriptors and reuses the number
# would get our lines in its data. Here /dev/log is a test receiver, on a
# /dev of this test's own (a private mount namespace).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"

# A /dev of our own, in this private mount namespace only: a fresh tmpfs
# with the few nodes the programs need (bound from the real /dev) and a
# fresh /dev/shm, moved over /dev. It is assembled outside $AW_TMP and its
# mount point is empty once moved: the cleanup's rm -rf must never meet a
# bind of the real /dev.
dev=$(mktemp -d /tmp/aw-dev.XXXXXX) || aw_fail "mktemp"
mount -t tmpfs -o mode=0755 tmpfs "$dev" || aw_fail "tmpfs for /dev"
for n in null zero random urandom; do
	touch "$dev/$n" && mount --bind "/dev/$n" "$dev/$n" || aw_fail "/dev/$n"
done
mkdir "$dev/shm" && mount -t tmpfs -o mode=1777 tmpfs "$dev/shm" || aw_fail "/dev/shm"
ln -s /proc/self/fd "$dev/fd"
mount --move "$dev" /dev || aw_fail "cannot move a tmpfs over /dev"
rmdir "$dev" || aw_fail "$dev not empty after the move"

cat >"$AW_TMP/receiver.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
print("ready /dev/log", flush=True)
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(4096) + b"\n")
PY
aw_start LOG python3 "$AW_TMP/receiver.py" "$AW_TMP/syslog"

ACCEPTWATCH_LOG=syslog ACCEPTWATCH_SLOW_MS=20 LD_PRELOAD=$AW_SHIM \
	aw_start_server S --backlog 8 --delay-ms 100
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 3)
[ "$completed" = 3 ] || aw_fail "client completed $completed of 3"
for ((i = 0; i < 100; i++)); do
	grep -q "slow accept loop" "$AW_TMP/syslog" 2>/dev/null && break
	sleep 0.05
done
grep -q "^<28>acceptwatch\[$S_PID\]: listen fd=[0-9]* 127.0.0.1:$S_PORT requested=8" "$AW_TMP/syslog" ||
	aw_fail "no listen line at /dev/log: $(cat -A "$AW_TMP/syslog")"
grep -q "^<28>acceptwatch\[$S_PID\]: slow accept loop" "$AW_TMP/syslog" ||
	aw_fail "no slow-loop line at /dev/log: $(cat -A "$AW_TMP/syslog")"
# The server's sockets: its listener, nothing of ours.
socks=$(find "/proc/$S_PID/fd" -lname 'socket:*' | wc -l)
[ "$socks" = 1 ] || aw_fail "the server holds $socks sockets: $(ls -l "/proc/$S_PID/fd")"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat"
aw_expect "$AW_TMP/s.json" "processes[0]['log_failed']" False
aw_stop "$S_PID"
[ -s "$S_ERR" ] && aw_fail "syslog sink wrote to stderr: $(cat "$S_ERR")"

# No /dev/log: the lines are lost, and the segment says so.
aw_stop "$LOG_PID"
rm -f /dev/log
ACCEPTWATCH_LOG=syslog LD_PRELOAD=$AW_SHIM aw_start_server N --backlog 8
"$AW_TOOL" stat --json "$N_PID" >"$AW_TMP/n.json" || aw_fail "stat"
aw_expect "$AW_TMP/n.json" "processes[0]['log_failed']" True
aw_stop "$N_PID"
echo "syslog: $(grep -c '' "$AW_TMP/syslog") lines at /dev/log, no descriptor left in the server"
