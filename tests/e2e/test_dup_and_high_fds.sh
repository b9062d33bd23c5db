#!/usr/bin/env bash
# One socket, one row, whatever its descriptors. A listener moved with
# dup2 (or fcntl F_DUPFD, or dup) and its original closed keeps its row:
# requested backlog, CLAMPED, not closed, every accept counted (before: a
# closed row kept the backlog and an adopted row "requested ?" took the
# accepts). A descriptor the shim never saw made (a raw dup syscall) joins
# the row when first used (while the row is there: a closed row gives way
# to the next listener). A failed dup2 changes nothing (before: it marked
# the open listener closed). Descriptors past the flat fd map (65535; 1023
# in the test build used here, so that they fit under any fd limit) work
# the same, and 1000 accepts on one take the shim's table lock no more than
# a few times (before: on every accept).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"
[ "$(ulimit -Hn)" -gt 3000 ] || aw_skip "the fd limit $(ulimit -Hn) is below 3001"

LD_PRELOAD="$AW_ROOT/build/rel/tests/liblockcount.so $AW_ROOT/build/smallmap/libacceptwatch.so" \
	ACCEPTWATCH_LOG=none \
	/usr/bin/python3 - "$AW_REL_TOOL" >"$AW_TMP/out" 2>"$AW_TMP/err" <<'PY' ||
import ctypes, json, os, resource, socket, subprocess, sys

libc = ctypes.CDLL(None, use_errno=True)
F_DUPFD = 0

def listener(backlog):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s

def serve(fd, port, n):
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a = libc.accept(fd, None, None)
        assert a >= 0, ctypes.get_errno()
        os.close(a)
        c.close()

def rows():
    out = subprocess.run([sys.argv[1], "stat", "--json", str(os.getpid())],
                         capture_output=True, text=True, env={})
    return {l["requested_backlog"]: l for l in json.loads(out.stdout)["processes"][0]["listeners"]}

def check(cond, what, row=None):
    if not cond:
        print("FAIL:", what, json.dumps(row, indent=1)[:2000] if row else "")
        sys.exit(1)

def moved(backlog, move):
    s = listener(backlog)
    port = s.getsockname()[1]
    fd = move(s.fileno())
    assert fd >= 0, ctypes.get_errno()
    s.close()
    return fd, port

hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
a, pa = moved(100, lambda fd: libc.dup2(fd, 50))
b, pb = moved(7, lambda fd: libc.fcntl(fd, F_DUPFD, 60))
c, pc = moved(8, lambda fd: libc.dup(fd))
# SYS_dup: unseen. Used before the next listener is made: a closed row
# gives way to the next listener.
d, pd = moved(9, lambda fd: libc.syscall(32, fd))
serve(d, pd, 4)
h, ph = moved(11, lambda fd: libc.dup2(fd, 1500))
for fd, port, n in ((a, pa, 3), (b, pb, 2), (c, pc, 1)):
    serve(fd, port, n)
e = listener(12)
check(libc.dup2(999, e.fileno()) == -1 and ctypes.get_errno() == 9, "dup2(999) fails EBADF")
serve(e.fileno(), e.getsockname()[1], 1)
# A listener made at a high number.
raw = socket.socket()
raw.bind(("127.0.0.1", 0))
hi = libc.dup2(raw.fileno(), 3000)
raw.close()
check(libc.listen(hi, 13) == 0, "listen on fd 3000")
phi = socket.socket(fileno=libc.dup(hi)).getsockname()[1]
serve(hi, phi, 2)
# An unseen dup of a listener this thread has accepted on: its accepts
# count on the row, and the time away between them is the loop's (well
# under a second here), not counted from some older origin.
f = listener(14)
serve(f.fileno(), f.getsockname()[1], 2)
fu = libc.syscall(32, f.fileno())
serve(fu, f.getsockname()[1], 1)
before = libc.aw_test_shim_locks()
serve(h, ph, 1000)
locks = libc.aw_test_shim_locks() - before
r = rows()
check(r[100]["accepts"] == 3 and r[100]["clamped"] and not r[100]["closed"]
      and not r[100]["adopted"] and r[100]["effective_backlog"] == 64 and r[100]["fd"] == 50,
      "dup2 + close: requested 100, CLAMPED, open, 3 accepts, fd 50", r[100])
check(r[7]["accepts"] == 2 and not r[7]["closed"] and r[7]["fd"] == b, "fcntl F_DUPFD: 2 accepts", r[7])
check(r[8]["accepts"] == 1 and not r[8]["closed"], "dup: 1 accept", r[8])
check(r[9]["accepts"] == 4 and not r[9]["closed"] and r[9]["descriptors"] == 1,
      "an unseen dup joins the row: 4 accepts", r[9])
check(r[12]["accepts"] == 1 and not r[12]["closed"], "failed dup2: the listener stays open", r[12])
check(r[11]["accepts"] == 1000 and not r[11]["closed"] and r[11]["fd"] == 1500,
      "fd 1500: 1000 accepts", r[11])
check(r[13]["accepts"] == 2 and r[13]["fd"] == 3000, "listen at fd 3000: 2 accepts", r[13])
check(r[14]["accepts"] == 3 and r[14]["away_ns"]["count"] == 2
      and r[14]["away_ns"]["max"] < 10**9,
      "an unseen dup after accepts: 3 accepts, away under 1 s", r[14])
check(len(r) == 8 and all(not l["adopted"] for l in r.values()), "eight rows, none adopted")
check(locks <= 3, "1000 accepts at fd 1500 took the table lock %d times" % locks)
os.close(h)
check(rows()[11]["closed"], "closing fd 1500 closes its row", rows()[11])
print("ok: moved listeners keep their rows; fd 1500: 1000 accepts, %d table locks" % locks)
PY
	aw_fail "$(cat "$AW_TMP/out" "$AW_TMP/err")"
cat "$AW_TMP/out"
