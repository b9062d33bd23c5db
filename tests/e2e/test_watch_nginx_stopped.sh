#!/usr/bin/env bash
# acceptwatch watch on Debian's nginx, without the shim, one of its two
# workers stopped about 300 ms of each second by this test: watch's time
# stopped for that worker matches the truth the test measured itself, and
# the other worker was never stopped.
#
# The truth: each stop starts between the SIGSTOP sent and the worker seen
# in state T in /proc (polled every millisecond), and ends at the SIGCONT
# (a stopped task is woken as the signal is sent). watch ran somewhere in
# the wall time from just before its start to just after its exit, for
# the duration its report says: the truth is bounded below by the least
# certain stop any placement of that span holds, above by the most
# possible stop one holds.
# The tolerance: watch counts a reading that finds every thread stopped as
# stopped for the time since the reading before, so each stop is seen at
# most one reading late at its start (counted) and its end (missed): per
# stop, two of its mean intervals between readings, tripled for a loaded
# machine's uneven readings (at 100 Hz: 60 ms a stop, 0.3 s of ~1.5 s).
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
rs_need pgrep
P=18081
D=$AW_TMP/nginx
mkdir -p "$D"
rs_nginx_conf "$D" 2 "listen 127.0.0.1:$P; return 200 \"ok\\n\";"
RS_NGINX_PRELOAD='' rs_nginx_start "$D" 2
rs_wait_listen "$P"
for p in "$MASTER" "${W[@]}"; do
	[ -e "/dev/shm/acceptwatch.$p" ] && aw_fail "nginx $p runs the shim"
done

"$RS_PY" - "$AW_TOOL" "${W[0]}" "${W[1]}" "$AW_TMP/w.json" <<'PY' || aw_fail "watch's time stopped"
import json, os, signal, subprocess, sys, threading, time
tool, stopped, other, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
STOP_S, PERIOD_S = 0.3, 1.0

def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]

episodes = []  # (SIGSTOP sent, seen stopped, SIGCONT sent), monotonic
done = threading.Event()

def stopper():
    start = time.monotonic()
    k = 0
    while not done.is_set():
        t_kill = time.monotonic()
        os.kill(stopped, signal.SIGSTOP)
        while state(stopped) not in "Tt":
            time.sleep(0.001)
        t_seen = time.monotonic()
        time.sleep(max(0.0, t_kill + STOP_S - time.monotonic()))
        t_cont = time.monotonic()
        os.kill(stopped, signal.SIGCONT)
        episodes.append((t_kill, t_seen, t_cont))
        k += 1
        done.wait(max(0.0, start + k * PERIOD_S - time.monotonic()))

th = threading.Thread(target=stopper)
th.start()
time.sleep(0.5)
t_a = time.monotonic()
w = subprocess.run([tool, "watch", "--for", "5", "--json", str(stopped), str(other)],
                   stdout=subprocess.PIPE)
t_b = time.monotonic()
done.set()
th.join()
os.kill(stopped, signal.SIGCONT)
assert w.returncode == 0, w.returncode
open(out, "wb").write(w.stdout)
procs = {p["pid"]: p["sampled"] for p in json.loads(w.stdout)["processes"]}
s, o = procs[stopped], procs[other]
dur = s["duration_ns"] / 1e9
got = s["stopped_ns"] / 1e9

def overlap(a, b, lo, hi):
    return max(0.0, min(b, hi) - max(a, lo))

# Every placement of the watch's span in [t_a, t_b], by the millisecond.
slack = max(0.0, (t_b - t_a) - dur)
starts = [t_a + slack * i / 1000 for i in range(1001)]
lo = min(sum(overlap(e[1], e[2], x, x + dur) for e in episodes) for x in starts)
hi = max(sum(overlap(e[0], e[2], x, x + dur) for e in episodes) for x in starts)
n = sum(1 for e in episodes if overlap(e[0], e[2], t_a, t_b) > 0)
tick = dur / max(1, s["samples"])
tol = n * 2 * tick * 3
print("watch %.3f s of %.3f s: stopped %.3f s (%.1f %%); truth %.3f..%.3f s over %d stops; "
      "reading every %.1f ms; tolerance %.3f s; the other worker %.3f s"
      % (t_b - t_a, dur, got, 100 * got / dur, lo, hi, n, tick * 1000, tol,
         o["stopped_ns"] / 1e9))
assert n >= 4, episodes
assert lo - tol <= got <= hi + tol, (got, lo, hi, tol)
assert o["stopped_ns"] == 0, o["stopped_ns"]
PY
echo ok
