#!/usr/bin/env bash
# Descriptor numbers get reused: a listener is closed, its number is reused
# for a client socket and later for a listener on another port; a dup2()
# puts another listener under an old number. No figure of a listener ever
# lands on the next owner of its number, nor on the next owner of its slot
# (a closed listener's slot is the next listener's, under a new
# generation). Listeners closed by close_range() and closefrom() are seen
# closed; close_range(CLOSE_RANGE_CLOEXEC) closes nothing; a vfork child
# closing its copies closes nothing here.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"

LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none /usr/bin/python3 - "$AW_REL_TOOL" \
	>"$AW_TMP/out.json" 2>"$AW_TMP/err" <<'PY' || aw_fail "script: $(cat "$AW_TMP/err")"
import ctypes, json, os, socket, subprocess, sys

def listener(backlog):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s

def connect(port, n):
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]

def accept_n(s, n):
    for _ in range(n):
        s.accept()[0].close()

a = listener(5)
num = a.fileno()
keep = connect(a.getsockname()[1], 2)
accept_n(a, 2)
a.close()
# The number, reused for a client socket: accept on it fails as usual.
c = socket.socket()
assert c.fileno() == num, (c.fileno(), num)
try:
    c.accept()
except OSError:
    pass
c.close()
# ... and for a new listener on another port.
b = listener(9)
assert b.fileno() == num
keep += connect(b.getsockname()[1], 3)
accept_n(b, 3)
# dup2: a third listener moves under b's number, without listen().
d = listener(7)
keep += connect(d.getsockname()[1], 4)
os.dup2(d.fileno(), num)
moved = socket.socket(fileno=num)
accept_n(moved, 4)
# close_range() and closefrom() close listeners too (called through the
# symbols, as a C program would). With CLOSE_RANGE_CLOEXEC nothing closes.
libc = ctypes.CDLL(None, use_errno=True)
e = listener(11)
keep += connect(e.getsockname()[1], 1)
accept_n(e, 1)
assert libc.close_range(e.fileno(), e.fileno(), 0) == 0
e.detach()
g = listener(13)
keep += connect(g.getsockname()[1], 2)
assert libc.close_range(g.fileno(), g.fileno(), 4) == 0  # CLOSE_RANGE_CLOEXEC
accept_n(g, 2)
# closefrom closes everything from its argument up: f is the newest of
# this script's descriptors (only inherited ones may lie above it).
f = listener(15)
for x in connect(f.getsockname()[1], 1):
    accept_n(f, 1)
    x.close()
mine = keep + [b, c, d, g, moved]
assert all(x.fileno() < f.fileno() for x in mine if x.fileno() >= 0)
libc.closefrom(f.fileno())
f.detach()
# subprocess closes every other descriptor in its child (close_range),
# which CPython makes with vfork: in this very memory. The closes are the
# child's own: no listener here may read closed for them (d below).
out = subprocess.run([sys.argv[1], "stat", "--json", str(os.getpid())],
                     capture_output=True, text=True, env={})
print(out.stdout)
PY
python3 - "$AW_TMP/out.json" <<'PY' || aw_fail "figures crossed owners"
import json, sys
d = json.load(open(sys.argv[1]))
ls = d["processes"][0]["listeners"]
by = {l["requested_backlog"]: l for l in ls}
def check(cond, what):
    if not cond:
        print("FAIL:", what, json.dumps(ls, indent=1)[:3000])
        sys.exit(1)
# Slots: 5, 9, 11 and 13 took one after the other as each closed (13
# holds it now); 7 has its own, which the moved descriptor counts on; 15
# a third, closed by closefrom.
check(sorted(by) == [7, 13, 15], "rows for 7, 13 and 15 only")
dd, g, f = by[7], by[13], by[15]
check(all(sum(l["errors"].values()) == 0 for l in ls),
      "the client socket's failed accept landed on a listener")
check(dd["accepts"] == 4 and not dd["closed"], "dup2'd listener: its 4 accepts")
check(dd["descriptors"] == 2, "dup2'd listener: two descriptors")
check(g["accepts"] == 2 and not g["closed"], "close_range CLOEXEC: open, 2 accepts (none of 5, 9, 11)")
check(g["generation"] == 4, "the slot of 5, 9, 11 and 13 in its fourth generation")
check(f["accepts"] == 1 and f["closed"], "closefrom: 1 accept, closed")
print("ok: 4 accepts on the listener moved under an old number; 2 on the slot's fourth owner; closefrom: 1, closed")
PY
