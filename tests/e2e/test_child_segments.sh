#!/usr/bin/env bash
# Segments cost only what is in use, and children leave nothing behind.
#  - A process with a listener forks 200 children that _exit() and 200
#    that exec /bin/true, then 100 that accept one connection and exit(),
#    and 100 that accept one and _exit() (as multiprocessing's children
#    end), then 100 that accept one and are killed (SIGKILL, SIGTERM) and
#    reaped, and 10 that drop root for nobody before they are killed: only
#    the parent's segment remains (before: one per child, 59 KB per used
#    slot each, never unlinked by _exit, exec or a signal).
#  - A listener opened and closed 100 times: the closed slot serves the
#    next listener (a new generation), the segment's memory stays that of
#    one listener in use, and the last one's figures are exact.
#  - Ten listeners in use, each accepted on by one thread: at most 16 KiB
#    of segment each, beyond the fixed part (the header, the table, the
#    event ring and the stacks).
# A private /dev/shm, so that the count is of this test's segments only.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"

LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none /usr/bin/python3 - "$AW_REL_TOOL" \
	>"$AW_TMP/out" 2>"$AW_TMP/err" <<'PY' || aw_fail "$(cat "$AW_TMP/out" "$AW_TMP/err")"
import glob, json, os, signal, socket, subprocess, sys, time

FIXED = 56 * 1024  # the fixed part, rounded to pages
def segments():
    return sorted(glob.glob("/dev/shm/acceptwatch.*"))

def listener(backlog):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    return s

def serve(s, n):
    cs = [socket.create_connection(s.getsockname()) for _ in range(n)]
    for _ in range(n):
        s.accept()[0].close()
    for c in cs:
        c.close()

def footprint():
    st = os.stat("/dev/shm/acceptwatch.%d" % os.getpid())
    return st.st_blocks * 512

def stat():
    out = subprocess.run([sys.argv[1], "stat", "--json", str(os.getpid())],
                         capture_output=True, text=True, env={})
    return json.loads(out.stdout)["processes"][0]

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

# Listener churn: one slot, its generation rising.
for i in range(100):
    s = listener(5 + i)
    serve(s, 1)
    if i < 99:
        s.close()
p = stat()
ls = p["listeners"]
check(len(ls) == 1, "one row after 100 cycles: %d" % len(ls))
check(ls[0]["requested_backlog"] == 104 and ls[0]["accepts"] == 1,
      "the last listener's figures: %s" % ls[0])
check(ls[0]["generation"] == 100, "generation %d, want 100" % ls[0]["generation"])
check(p["listeners_lost"] == 0, "listeners lost")
churn = footprint()
check(churn <= FIXED + 16 * 1024, "after 100 cycles: %d bytes" % churn)

# Children: none may leave a segment.
for i in range(200):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
for i in range(200):
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/true", ["true"])
    os.waitpid(pid, 0)
for end in (sys.exit, os._exit):
    for i in range(100):
        c = socket.create_connection(s.getsockname())
        pid = os.fork()
        if pid == 0:
            s.accept()[0].close()
            end(0)
        os.waitpid(pid, 0)
        c.close()
def waiting_child(then):
    """A child that accepts one connection, runs then(), and waits to be
    killed; returned once it is waiting, with the client socket."""
    c = socket.create_connection(s.getsockname())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        s.accept()[0].close()
        then()
        os.write(w, b"x")
        time.sleep(30)
        os._exit(0)
    os.read(r, 1)
    os.close(r)
    os.close(w)
    return pid, c

# Children killed by a signal run no exit path: the parent that reaps
# them (waitpid, wait) removes what they left.
for sig, reap in ((signal.SIGKILL, lambda pid: os.waitpid(pid, 0)),
                  (signal.SIGTERM, lambda pid: os.wait())):
    for i in range(50):
        pid, c = waiting_child(lambda: None)
        os.kill(pid, sig)
        reap(pid)
        c.close()
# A worker that dropped root for nobody (its segment is nobody's now),
# then killed: its root parent removes what it left all the same.
for i in range(10):
    pid, c = waiting_child(lambda: os.setuid(65534))
    mine = "/dev/shm/acceptwatch.%d" % pid
    check(os.stat(mine).st_uid == 65534, "the worker's segment is nobody's")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    c.close()
check(segments() == ["/dev/shm/acceptwatch.%d" % os.getpid()],
      "segments left: %d" % len(segments()))

# Ten listeners in use.
more = [listener(10 + i) for i in range(10)]
for m in more:
    serve(m, 2)
used = footprint()
check(used <= FIXED + 11 * 16 * 1024, "11 listeners in use: %d bytes" % used)
p = stat()
check(sum(l["accepts"] for l in p["listeners"]) == 1 + 20, "accepts")
print("ok: segments 1 after 710 children; %d bytes after 100 cycles, %d with 11 listeners"
      % (churn, used))
PY
cat "$AW_TMP/out"
