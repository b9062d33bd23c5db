#!/usr/bin/env bash
# stat's text groups a pre-fork server's workers: Debian's nginx, 3 workers
# under the release shim, one socket (listen backlog=511, somaxconn 16:
# CLAMPED), in a private network namespace. With the workers stopped and 5
# connections queued (the kernel's Recv-Q, truth for the queue now):
#  - one block for the socket, its workers on one line with each one's
#    accepts (equal to its row in stat --json), summed accepts equal to
#    what the clients completed, the backlog line (and CLAMPED) once, the
#    queue now 5 and a peak not below it; no block per worker;
#  - --per-process: a block per worker, then the socket's total;
#  - --json stays per process (3 rows).
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
rs_need ss pgrep
P=18080 WORKERS=3
D=$AW_TMP/nginx
mkdir -p "$D"
rs_nginx_conf "$D" "$WORKERS" "listen 127.0.0.1:$P backlog=511; return 200 \"ok\\n\";"
rs_nginx_start "$D" "$WORKERS"
rs_wait_listen "$P" 16

# Connections until every worker has accepted (and so has a segment):
# nginx does not say which worker takes one. Bounded.
done_n=0
for ((i = 0; i < 30; i++)); do
	rs_client c "$P" 10 http
	done_n=$((done_n + c))
	missing=0
	for w in "${W[@]}"; do
		[ -e "/dev/shm/acceptwatch.$w" ] || missing=1
	done
	[ "$missing" = 0 ] && break
done
[ "$missing" = 0 ] || aw_fail "after $done_n connections a worker of ${W[*]} has no segment"

# Workers stopped, 5 connections queued: figures stand still while read.
for w in "${W[@]}"; do aw_sigstop "$w"; done
"$RS_PY" "$RS_CLIENT" --port "$P" -n 5 --timeout-ms 60000 >"$AW_TMP/client.out" &
cpid=$!
aw_register_pid "$cpid"
aw_wait_queue "$P" 5
"$AW_REL_TOOL" stat "${W[@]}" >"$AW_TMP/s.txt" || aw_fail "stat failed"
"$AW_REL_TOOL" stat --per-process "${W[@]}" >"$AW_TMP/pp.txt" ||
	aw_fail "stat --per-process failed"
rs_stat "$AW_TMP/s.json" "${W[@]}"
read -r q _ <<<"$(aw__queue "$P")"
kill -CONT "${W[@]}"
wait "$cpid"
read -r _ c _ <"$AW_TMP/client.out"
[ "$c" = 5 ] || aw_fail "client completed $c of 5"
cat "$AW_TMP/s.txt"
echo "--- stat --per-process: $(wc -l <"$AW_TMP/pp.txt") lines; stat: $(wc -l <"$AW_TMP/s.txt") lines"

"$RS_PY" - "$AW_TMP/s.txt" "$AW_TMP/pp.txt" "$AW_TMP/s.json" "$P" "$done_n" "$q" \
	"${W[@]}" <<'PY' || aw_fail "stat text (above)"
import json, re, sys
text, pp = open(sys.argv[1]).read(), open(sys.argv[2]).read()
doc = json.load(open(sys.argv[3]))
port, completed, queue = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
pids = sorted(map(int, sys.argv[7:]))
bad = []

def check(what, cond):
    print("%-58s %s" % (what, "ok" if cond else "FAILED"))
    if not cond:
        bad.append(what)

rows = {p["pid"]: l for p in doc["processes"] for l in p["listeners"]
        if l["address"] == "127.0.0.1:" + port}
check("stat --json: one row per worker", sorted(rows) == pids)
check("stat --json: accepts add up to the clients'",
      sum(l["accepts"] for l in rows.values()) == completed)

blocks = re.findall(r"^socket 127\.0\.0\.1:%s .*$" % port, text, re.M)
check("one block for the socket", len(blocks) == 1)
check("no block per worker", not re.search(r"^pids? ", text, re.M))
m = re.search(r"^  (\d+) processes \(nginx\), pid:accepts((?:  \d+:\d+(?: \(\w+\))*)+)$",
              text, re.M)
check("the workers on one line", m is not None)
if m:
    got = {int(a): int(b) for a, b in re.findall(r"(\d+):(\d+)", m.group(2))}
    check("  every worker, once", int(m.group(1)) == 3 and sorted(got) == pids)
    check("  each one's accepts as its JSON row",
          all(got.get(p) == rows[p]["accepts"] for p in pids if p in rows))
    check("  each one said stopped", m.group(2).count("(stopped)") == 3)
a = re.search(r"^    accepts (\d+) ", text, re.M)
check("accepts summed", a is not None and int(a.group(1)) == completed)
check("backlog line once, CLAMPED", len(re.findall(
    r"^    backlog requested 511 effective 16  CLAMPED$", text, re.M)) == 1)
check("CLAMPED said once", text.count("CLAMPED") == 1)
qm = re.search(r"^    queue now (\d+)  peak (\d+) ", text, re.M)
check("queue now the kernel's (%d)" % queue,
      qm is not None and int(qm.group(1)) == queue == 5)
check("peak not below the queue now",
      qm is not None and int(qm.group(2)) >= int(qm.group(1)))
check("listen() stack once", text.count("listen() called from") <= 1)
check("--per-process: a block per worker", sorted(map(int, re.findall(
    r"^pid (\d+) \(nginx\)", pp, re.M))) == pids)
check("--per-process: the socket's total", re.search(
    r"^total 127\.0\.0\.1:%s  \(ino \d+, 3 processes: %s\)$" %
    (port, " ".join(map(str, pids))), pp, re.M) is not None)
check("grouped is shorter", text.count("\n") * 2 < pp.count("\n"))
sys.exit(1 if bad else 0)
PY
"$AW_REL_TOOL" stat --per-process --json "${W[@]}" >/dev/null 2>&1 &&
	aw_fail "stat --per-process --json accepted (JSON is per process)"
echo ok
