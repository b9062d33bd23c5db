#!/usr/bin/env bash
# acceptwatch listeners: every listening TCP socket of the namespace, checked
# against `ss -ntl` on the same sockets (Recv-Q, Send-Q), with the owners
# found through /proc/*/fd and, for those under the shim, the requested
# backlog, the clamp and the verdict. Then, as an unprivileged user: its own
# server is matched, root's are counted as unreadable /proc entries.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

LD_PRELOAD=$AW_SHIM aw_start_server A --backlog 128          # clamped to 16
aw_start_server B --backlog 8                                # no shim
LD_PRELOAD=$AW_SHIM aw_start_server C --addr ::1 --backlog 4 # IPv6
# Connections waiting in B's queue: Recv-Q 3.
kill -STOP "$B_PID"
"$AW_BIN/burst" --port "$B_PORT" -n 3 --timeout-ms 20000 >/dev/null &
aw_register_pid $!
sleep 0.5

"$AW_TOOL" listeners --json >"$AW_TMP/l.json" || aw_fail "listeners failed"
ss -ntlH >"$AW_TMP/ss.txt"
"$AW_TOOL" listeners >"$AW_TMP/l.txt" || aw_fail "listeners (text) failed"
cat "$AW_TMP/l.txt" "$AW_TMP/ss.txt"
python3 - "$AW_TMP/l.json" "$AW_TMP/ss.txt" "$A_PID" "$B_PID" "$C_PID" \
	"$A_PORT" "$B_PORT" "$C_PORT" <<'PY' || aw_fail "listeners disagree"
import json, sys
doc = json.load(open(sys.argv[1]))
apid, bpid, cpid, aport, bport, cport = map(int, sys.argv[3:])
ss = {}
for line in open(sys.argv[2]):
    state, rq, sq, local = line.split()[:4]
    ss[local] = (int(rq), int(sq))
mine = {l["address"]: l for l in doc["listeners"]}
assert set(mine) == set(ss), (sorted(mine), sorted(ss))
for addr, (rq, sq) in ss.items():
    assert (mine[addr]["recv_q"], mine[addr]["send_q"]) == (rq, sq), (addr, mine[addr], rq, sq)
assert doc["sockets"] == len(ss) and doc["proc_unreadable"] == 0, doc
a = mine["127.0.0.1:%d" % aport]
b = mine["127.0.0.1:%d" % bport]
c = mine["[::1]:%d" % cport]
assert (a["send_q"], b["recv_q"], b["send_q"], c["send_q"]) == (16, 3, 8, 4)
[ao] = a["owners"]; [bo] = b["owners"]; [co] = c["owners"]
assert ao["pid"] == apid and ao["shim"] and ao["requested_backlog"] == 128, ao
assert ao["clamped"] and ao["verdict"] == "clamped", ao
assert bo["pid"] == bpid and not bo["shim"] and bo["comm"] == "server", bo
assert bo["stopped"] and b["stalled_by_holders"], b
assert not a["stalled_by_holders"] and not c["stalled_by_holders"], (a, c)
assert co["pid"] == cpid and co["shim"] and not co["clamped"], co
assert co["verdict"] == "ok" and c["family"] == "inet6", co
assert doc["with_shim"] == 2, doc
print("agrees with ss on", len(ss), "sockets")
PY
grep -q "^127.0.0.1:$A_PORT *0 *16 *0 *0\.0  128 *yes *CLAMPED *$A_PID/server" "$AW_TMP/l.txt" ||
	aw_fail "text row of A"
# B runs no shim, but the kernel tells enough: connections wait and its
# only holder is stopped.
grep -q "^127.0.0.1:$B_PORT *3 *8 *3 *0\.0  - *- *STALLED (holders stopped) *$B_PID/server" "$AW_TMP/l.txt" ||
	aw_fail "text row of B"
grep -q "3 listening sockets, 2 under acceptwatch;.* 0 could not be read$" "$AW_TMP/l.txt" ||
	aw_fail "text summary"
kill -CONT "$B_PID"

# Unprivileged: its own shimmed server is matched (segment and fds are its
# own), root's processes are counted as unreadable, their sockets listed.
chmod 0755 "$AW_TMP"
aw_public "$AW_TOOL" "$AW_SHIM" "$AW_BIN/server"
nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
# Not through the function: $! must be the server (setpriv and env exec).
setpriv --reuid 65534 --regid 65534 --clear-groups \
	env LD_PRELOAD="$AW_PUB/libacceptwatch.so" ASAN_OPTIONS="$ASAN_OPTIONS" "$AW_PUB/server" --backlog 32 >"$AW_TMP/n.out" 2>"$AW_TMP/n.err" &
N_PID=$!
aw_register_pid "$N_PID"
for ((i = 0; i < 100; i++)); do
	read -r line <"$AW_TMP/n.out" && [[ $line == "ready "* ]] && break
	sleep 0.05
done
N_PORT=${line#ready }
[ -n "$N_PORT" ] || aw_fail "nobody's server not ready: $(cat "$AW_TMP/n.err")"
nobody "$AW_PUB/acceptwatch" listeners --json >"$AW_TMP/n.json" || aw_fail "unprivileged listeners failed"
python3 - "$AW_TMP/n.json" "$N_PID" "$N_PORT" "$A_PORT" <<'PY' || aw_fail "unprivileged view wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
npid, nport, aport = map(int, sys.argv[2:])
mine = {l["address"]: l for l in doc["listeners"]}
[no] = mine["127.0.0.1:%d" % nport]["owners"]
assert no["pid"] == npid and no["shim"] and no["requested_backlog"] == 32, no
assert no["clamped"] and no["verdict"] == "clamped", no
assert mine["127.0.0.1:%d" % aport]["owners"] == [], "root's owner visible"
assert doc["proc_unreadable"] >= 3, doc
print("unprivileged: %d /proc entries unreadable" % doc["proc_unreadable"])
PY
nobody "$AW_PUB/acceptwatch" listeners | grep -q "could not be read (their sockets show no owner" ||
	aw_fail "text does not say /proc entries were unreadable"
"$AW_TOOL" listeners --bogus >/dev/null 2>&1
[ $? = 2 ] || aw_fail "bad option: want exit 2"
echo ok
