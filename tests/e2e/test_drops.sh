#!/usr/bin/env bash
# Socket drops as the shim reads them itself (the reader asks the kernel
# while the socket lives): a listener of backlog 1 is flooded until the
# kernel's own count (SO_MEMINFO, read by the test: the truth) is past
# zero; then the process closes it, and the closed row shows exactly the
# count the socket had at close. A second listener, flooded the same way
# and left open when the process exits with ACCEPTWATCH_KEEP=1, shows the
# count at exit. Private network namespace.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"

ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_SHIM python3 - "$AW_TOOL" "$AW_TMP" <<'PY' || aw_fail "flood"
import json, os, socket, struct, subprocess, sys, time
tool, tmp = sys.argv[1:]
SO_MEMINFO, SK_MEMINFO_DROPS = 55, 8

def drops(s):
    mem = s.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * 9)
    return struct.unpack("9I", mem)[SK_MEMINFO_DROPS]

def flooded():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    clients = []
    for _ in range(40):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        clients.append(c)
        if drops(s) >= 3:
            break
    time.sleep(0.3)  # retransmitted SYNs are not due for a second
    return s, clients

def rows():
    out = subprocess.run([tool, "stat", "--json", str(os.getpid())],
                         capture_output=True, text=True, env={})
    return json.loads(out.stdout)["processes"][0]["listeners"]

a, ca = flooded()
truth_a = drops(a)
assert truth_a > 0, "no drops on a full queue"
a.close()
r = rows()
assert len(r) == 1 and r[0]["closed"], r
assert r[0]["socket_drops"] == truth_a, (r[0]["socket_drops"], truth_a)
print("closed: %d socket drops at close, as the kernel said" % truth_a)
# The next listener takes the closed row's slot; left open at exit.
b, cb = flooded()
truth_b = drops(b)
assert truth_b > 0, "no drops on a full queue"
with open(tmp + "/truth.json", "w") as f:
    json.dump({"pid": os.getpid(), "truth_b": truth_b}, f)
sys.stdout.flush()
os._exit(0)  # b still open: no close, the exit reads it
PY
# The process has exited, b still open: its count at exit.
pid=$(aw_json_get "$AW_TMP/truth.json" "pid")
want=$(aw_json_get "$AW_TMP/truth.json" "truth_b")
"$AW_TOOL" stat --json --all "$pid" >"$AW_TMP/exit.json" || aw_fail "stat --all"
python3 - "$AW_TMP/exit.json" "$want" <<'PY' || aw_fail "drops at exit"
import json, sys
d = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
rows = [l for l in d["processes"][0]["listeners"] if not l["closed"]]
assert len(rows) == 1, d["processes"][0]["listeners"]
got = rows[0]["socket_drops"]
assert got >= want, (got, want)  # retransmitted SYNs may add before exit
assert got <= want + 8, (got, want)
print("exited: %d socket drops at exit (%d when last read by the test)" % (got, want))
PY
