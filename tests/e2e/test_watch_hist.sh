#!/usr/bin/env bash
# acceptwatch watch --hist: the sampled distributions drawn as stat --hist
# draws them (bpftrace's hist() layout), against known truth. A server not
# under the shim sleeps 100 ms after each accept (backlog 16, private
# network namespace); 10 connections arrive at once. Truth: each stretch
# away is at least 100 ms (a sleep never ends early; sampled at 100 Hz, at
# most 10 ms is lost at its ends), so every away_us count lies in [64K, ...);
# the k-th connection waits about (k-1) x 100 ms, so the waits seen fill
# ranges up to [512, 1K) ms or beyond, and there are at most 10 of them (at
# least 3: the sampler's accepts lean low, a loaded machine starves it).
# gap_us says it is not sampled (only the shim sees each accept).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

aw_start A "$AW_BIN/watch_target" --backlog 16 --sleep-ms 100
"$AW_TOOL" watch --hist --for 120 "$A_PID" >"$AW_TMP/h.txt" 2>"$AW_TMP/h.err" &
W=$!
aw_register_pid "$W"
# Its first tick opens the sock_diag socket: sampling has begun. A watch
# that ended (refused its options) is said at once.
watching() {
	aw__alive "$W" || aw_fail "watch --hist ended: $(cat "$AW_TMP/h.err")"
	local f
	for f in /proc/"$W"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == socket:* ]] && return 0
	done
	return 1
}
aw_wait_for 30 watching || aw_fail "watch never read the listener"
python3 "$AW_ROOT/tests/e2e/watch_client.py" --port "$A_PORT" --rate 100 \
	--seconds 0.1 >"$AW_TMP/client" || aw_fail "client"
cat "$AW_TMP/client"
grep -q '^completed 10 failed 0 ' "$AW_TMP/client" || aw_fail "not all served"
kill -INT "$W"
wait "$W" || aw_fail "watch --hist ended $?: $(cat "$AW_TMP/h.err")"
aw_stop "$A_PID"
cat "$AW_TMP/h.txt"

python3 - "$AW_TMP/h.txt" "$A_PID" <<'PY' || aw_fail "bars off the truth (above)"
import re, sys
text = open(sys.argv[1]).read()
pid = sys.argv[2]
bad = []

def check(what, cond):
    print("%-52s %s" % (what, "ok" if cond else "FAILED"))
    if not cond:
        bad.append(what)

def value(s):
    m = re.fullmatch(r"(\d+)([KMG]?)", s)
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1 << 20, "G": 1 << 30}[m.group(2)]

def block(name):
    """[(low, count, bar)] of the block @name."""
    m = re.search(r"^@%s:\n((?:.+\n)*)" % name, text, re.M)
    if not m:
        return None
    rows = []
    for line in m.group(1).splitlines():
        r = re.fullmatch(r"(\[0\]|\[(\S+), (\S+)\)) +(\d+) \|([@ ]{52})\|", line)
        if not r:
            rows.append((None, line, None))
            continue
        rows.append((0 if r.group(1) == "[0]" else value(r.group(2)),
                     int(r.group(4)), r.group(5)))
    return rows

check("the listener's block, marked sampled", re.search(
    r"^pid %s \(watch_target\) 127\.0\.0\.1:\d+ fd \d+ \(sampled\):$" % pid,
    text, re.M) is not None)
gap = block("gap_us")
check("gap_us: not sampled, said so", gap is not None and len(gap) == 1 and
      "not sampled" in gap[0][1])
for name, floor in (("away_us", 64 * 1024), ("queue_wait_ms", None)):
    rows = block(name)
    check(name + ": drawn in bpftrace's layout", rows and
          all(r[0] is not None for r in rows))
    if not rows or any(r[0] is None for r in rows):
        continue
    counts = [r[1] for r in rows]
    check(name + ": the largest count has the full bar",
          rows[counts.index(max(counts))][2] == "@" * 52)
    check(name + ": between 3 and 10 seen", 3 <= sum(counts) <= 10)
    if floor:
        check(name + ": every stretch away >= 64 ms",
              all(r[0] >= floor for r in rows if r[1]))
    else:
        check(name + ": the later connections waited >= 512 ms",
              any(r[0] >= 512 and r[1] for r in rows))
sys.exit(1 if bad else 0)
PY
echo ok
