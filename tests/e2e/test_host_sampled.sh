#!/usr/bin/env bash
# top, serve and listeners give every listener of the host its kernel
# figures over time, preloaded or not. Known truth, in a private network
# namespace: a server without the shim, stopped, with 5 counted clients in
# its queue (queue now 5, peak 5 of backlog 8); another without the shim,
# stopped, backlog 2, with clients arriving all along (its queue past the
# backlog and socket drops rising: drops a second > 0); a preloaded server,
# which shows once, from its segment.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
command -v curl >/dev/null || aw_skip "needs curl"

aw_start_server BARE --backlog 8
aw_sigstop "$BARE_PID"
"$AW_BIN/burst" --port "$BARE_PORT" -n 5 --timeout-ms 60000 >/dev/null &
aw_register_pid $!
aw_wait_queue "$BARE_PORT" 5
LD_PRELOAD=$AW_SHIM aw_start_server SHIM --backlog 8
aw_start_server DROP --backlog 2
aw_sigstop "$DROP_PID"
# A new connection every 50 ms for at most 60 s: the queue stays past its
# backlog and each new SYN is dropped.
python3 - "$DROP_PORT" <<'PY' &
import socket, sys, time
held = []
for _ in range(1200):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", int(sys.argv[1])))
    except BlockingIOError:
        pass
    held.append(c)
    time.sleep(0.05)
PY
aw_register_pid $!
aw_wait_queue "$DROP_PORT" 3 1

# top, batch mode: the bare servers' rows are the kernel's (no pid, no
# accept figures), the preloaded one's its segment's, once.
"$AW_TOOL" top --once --interval 1 </dev/null >"$AW_TMP/top.txt" ||
	aw_fail "top --once failed"
cat "$AW_TMP/top.txt"
head -1 "$AW_TMP/top.txt" | grep -Eq "listeners: [0-9]+ in [0-9]+ process(es)? under the shim, [2-9][0-9]* without \(kernel figures\)$" ||
	aw_fail "top header"
grep -Eq "^OK +- +\(no shim\) +127\.0\.0\.1:$BARE_PORT +- +5/5/8 " "$AW_TMP/top.txt" ||
	aw_fail "top: the bare server's row (queue 5, peak 5, backlog 8)"
[ "$(grep -c ":$SHIM_PORT " "$AW_TMP/top.txt")" = 1 ] || aw_fail "top: the preloaded server not shown once"
grep -Eq "^OK +$SHIM_PID +server +127\.0\.0\.1:$SHIM_PORT " "$AW_TMP/top.txt" ||
	aw_fail "top: the preloaded server's row is not its segment's"
python3 - "$AW_TMP/top.txt" "$DROP_PORT" <<'PY' || aw_fail "top: the overflowing server's row"
import sys
row = [l for l in open(sys.argv[1]) if ":%s " % sys.argv[2] in l]
assert len(row) == 1, row
state, rest = row[0][:16].strip(), row[0][17:].split()
# PID COMM(2 words) ADDRESS ACC/s QUEUE ... DROP/s last
assert state == "OVERFLOWING", row
assert rest[0] == "-" and float(rest[-1]) > 0, row
print("overflowing row ok:", row[0].rstrip())
PY

# listeners: every socket once, the kernel's peak and drops rate.
"$AW_TOOL" listeners --json >"$AW_TMP/l.json" || aw_fail "listeners failed"
"$AW_TOOL" listeners >"$AW_TMP/l.txt" || aw_fail "listeners (text) failed"
cat "$AW_TMP/l.txt"
python3 - "$AW_TMP/l.json" "$BARE_PORT" "$DROP_PORT" "$SHIM_PORT" "$SHIM_PID" <<'PY' || aw_fail "listeners"
import json, sys
doc = json.load(open(sys.argv[1]))
bare, drop, shim, shim_pid = (int(a) for a in sys.argv[2:])
rows = {}
for r in doc["listeners"]:
    rows.setdefault(r["port"], []).append(r)
assert 0.9 <= doc["interval_s"] < 30, doc["interval_s"]
(b,) = rows[bare]
assert b["recv_q"] == 5 and b["queue_peak"] == 5 and b["send_q"] == 8, b
assert b["drops_per_s"] == 0, b
(d,) = rows[drop]
assert d["queue_peak"] == 3 and d["drops_per_s"] > 0, d
(s,) = rows[shim]
assert [o["pid"] for o in s["owners"] if o["shim"]] == [shim_pid], s
print("listeners ok")
PY
grep -Eq "^127\.0\.0\.1:$BARE_PORT +5 +8 +5 +0\.0 " "$AW_TMP/l.txt" ||
	aw_fail "listeners text: the bare server's row"

# serve: two scrapes; the bare sockets' series are the kernel's (queue,
# peak since the previous scrape, drops), the preloaded socket's once.
aw_start_exporter SERVE "$AW_TOOL" serve --listen "127.0.0.1:$(aw_free_port)"
curl -sf -o "$AW_TMP/m1.prom" "$SERVE_URL" || aw_fail "scrape 1"
sleep 1
curl -sf -o "$AW_TMP/m2.prom" "$SERVE_URL" || aw_fail "scrape 2"
python3 - "$AW_TMP/m1.prom" "$AW_TMP/m2.prom" "$BARE_PORT" "$DROP_PORT" "$SHIM_PORT" <<'PY' || aw_fail "serve"
import re, sys
def load(path):
    out = {}
    for line in open(path):
        if line.startswith("#"):
            continue
        m = re.match(r'(\w+)\{address="127\.0\.0\.1:(\d+)"[^}]*\} (\S+)$', line)
        if m:
            out.setdefault((m[1], int(m[2])), []).append(float(m[3]))
    return out
m1, m2 = load(sys.argv[1]), load(sys.argv[2])
bare, drop, shim = (int(a) for a in sys.argv[3:])
for m in (m1, m2):
    assert m[("acceptwatch_socket_queue_length", bare)] == [5], m
    assert m[("acceptwatch_socket_queue_peak", bare)] == [5], m
    assert m[("acceptwatch_socket_processes", bare)] == [0], m
    assert ("acceptwatch_accepts_total", bare) not in m, "process series for a bare socket"
    assert m[("acceptwatch_socket_queue_peak", drop)] == [3], m
    assert m[("acceptwatch_socket_processes", shim)] == [1], m
    assert len(m[("acceptwatch_socket_drops_total", shim)]) == 1, m
    assert ("acceptwatch_socket_queue_peak", shim) not in m, "the preloaded socket twice"
d1 = m1[("acceptwatch_socket_drops_total", drop)][0]
d2 = m2[("acceptwatch_socket_drops_total", drop)][0]
assert d2 > d1, (d1, d2)
print("serve ok: drops %d -> %d" % (d1, d2))
PY
echo ok
