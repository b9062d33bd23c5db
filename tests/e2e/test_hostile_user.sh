#!/usr/bin/env bash
# A hostile local user against root's reader, everything at once. User
# nobody runs three servers under the shim: one from a stripped program
# whose .gnu_debuglink names a FIFO, one whose .gnu_debugdata inflates to
# 384 MiB, one whose own segment nobody rewrites to name //proc/version,
# /./proc/version and junk paths as its modules; and nobody keeps 65
# half-sent requests open to the exporter, opening a new one whenever one
# is closed. Root runs an honest server (12 clients counted) and
# `acceptwatch serve`, scraped by a real Prometheus every second:
#  - every scrape answered (up == 1) in under 0.9 s (the scrape timeout),
#    the honest server's accepts exact in Prometheus;
#  - the exporter's peak RSS under 100 MB; SIGTERM stops it within 2 s;
#  - stat, check and gc each finish in under 5 s, stat with the honest
#    server's figures, gc removing nothing live.
# 20 scrapes at 1 s prove what 60 would: each scrape reads every segment
# afresh, so the 1st and the 60th face the same files and the same
# connections (nobody's are refilled continuously).
# Private network namespace and /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
. "$AW_ROOT/tests/e2e/hostile_files.sh"
for t in prometheus curl strip objcopy setpriv; do
	command -v "$t" >/dev/null || aw_fail "$t is not installed (make deps)"
done
TOOL=${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch} # RSS and time as shipped
SCRAPES=20
AS_NOBODY="setpriv --reuid nobody --regid nogroup --clear-groups"

# nobody's files, in a directory of nobody's.
aw_public "$AW_REL_SHIM" "$HF_SERVER"
H=$AW_PUB/nobody
hf_fifo_debuglink "$H/fifo"
hf_xz_bomb "$H/bomb" 384
cp "$HF_SERVER" "$H/server"
chown -R nobody:nogroup "$H"
chmod -R a+rX "$AW_PUB"

start_nobody() { # VAR PROGRAM
	local var=$1 prog=$2 i line
	: >"$AW_TMP/$var.out"
	$AS_NOBODY env LD_PRELOAD="$AW_PUB/libacceptwatch.so" "$prog" --backlog 8 \
		>"$AW_TMP/$var.out" 2>"$AW_TMP/$var.err" &
	local pid=$!
	aw_register_pid "$pid"
	for ((i = 0; i < 100; i++)); do
		read -r line <"$AW_TMP/$var.out" && [[ $line == "ready "* ]] && break
		sleep 0.05
	done
	[[ $line == "ready "* ]] || aw_fail "nobody's $prog: $(cat "$AW_TMP/$var.err")"
	"$AW_BIN/burst" --port "${line#ready }" -n 2 >/dev/null
	printf -v "${var}_PID" %s "$pid"
}
start_nobody FIFO "$H/fifo/server"
start_nobody BOMB "$H/bomb/server"
start_nobody FORGED "$H/server"
seg=/dev/shm/acceptwatch.$FORGED_PID
[ "$(stat -c %U "$seg")" = nobody ] || aw_fail "nobody's segment: $(ls -l "$seg")"
HF_AS=$AS_NOBODY hf_forge_modules "$seg" "$seg" "$FORGED_PID" //proc/version \
	/./proc/version /sys/../proc/version /nonexistent/junk1.so /nonexistent/junk2.so >/dev/null

# Root's honest server.
LD_PRELOAD=$AW_REL_SHIM aw_start G "$HF_SERVER" --backlog 16
read -r _ completed _ < <("$AW_BIN/burst" --port "$G_PORT" -n 12)
[ "$completed" = 12 ] || aw_fail "honest clients completed $completed of 12"

"$TOOL" serve --listen 127.0.0.1:9437 2>"$AW_TMP/serve.err" &
SERVE_PID=$!
aw_register_pid "$SERVE_PID"
for ((i = 0; i < 100; i++)); do
	grep -q serving "$AW_TMP/serve.err" && break
	sleep 0.05
done
grep -q serving "$AW_TMP/serve.err" || aw_fail "serve did not start: $(cat "$AW_TMP/serve.err")"

# nobody's 65 half-sent requests, refilled as they are closed.
cat >"$AW_TMP/hold.py" <<'PY'
import select, socket, time
held = []
while True:
    while len(held) < 65:
        try:
            s = socket.create_connection(("127.0.0.1", 9437), timeout=1)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            time.sleep(0.01)
    print("holding", flush=True)
    r, _, _ = select.select(held, [], [], 0.5)
    for s in r:
        held.remove(s)
        s.close()
PY
chmod 0644 "$AW_TMP/hold.py"
chmod 0755 "$AW_TMP"
$AS_NOBODY /usr/bin/python3 "$AW_TMP/hold.py" >"$AW_TMP/hold.out" 2>&1 &
aw_register_pid $!
for ((i = 0; i < 200; i++)); do
	grep -q holding "$AW_TMP/hold.out" && break
	sleep 0.05
done
grep -q holding "$AW_TMP/hold.out" || aw_fail "nobody's connections: $(cat "$AW_TMP/hold.out")"

mkdir -p "$AW_TMP/tsdb"
cat >"$AW_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: aw
    static_configs:
      - targets: ['127.0.0.1:9437']
EOF
prometheus --config.file="$AW_TMP/prometheus.yml" --storage.tsdb.path="$AW_TMP/tsdb" \
	--web.listen-address=127.0.0.1:9090 --log.level=warn >"$AW_TMP/prom.out" 2>&1 &
aw_register_pid $!
query() {
	curl -sf --max-time 2 --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
		python3 -c 'import json,sys
d = json.load(sys.stdin)
print("\n".join(sorted(r["value"][1] for r in d["data"]["result"])))'
}
# While Prometheus scrapes: root's one-shot commands, each under 5 s.
sleep 3
timed() { # OUT CMD...: under 5 s, killed at 30 s
	local out=$1 t0 rc
	shift
	t0=$(date +%s%N)
	timeout 30 "$@" >"$out" 2>"$out.err"
	rc=$?
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$2: ${ms} ms, exit $rc"
	[ "$rc" != 124 ] && [ "$ms" -lt 5000 ] || aw_fail "$*: ${ms} ms, exit $rc"
}
timed "$AW_TMP/stat.json" "$TOOL" stat --json
python3 - "$AW_TMP/stat.json" "$G_PID" <<'PY' || aw_fail "stat: honest figures"
import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["processes"] if p["pid"] == int(sys.argv[2])]
assert p and p[0]["listeners"][0]["accepts"] == 12, p
print("  honest server: 12 accepts; %d processes" % len(d["processes"]))
PY
timed "$AW_TMP/check.txt" "$TOOL" check --interval 0
grep -q "^pid $G_PID (server) .*: OK$" "$AW_TMP/check.txt" ||
	aw_fail "check: $(cat "$AW_TMP/check.txt")"
timed "$AW_TMP/gc.txt" "$TOOL" gc
grep -q "^gc: removed 0 stale segments, kept 4 in use" "$AW_TMP/gc.txt" ||
	aw_fail "gc: $(cat "$AW_TMP/gc.txt")"

for ((i = 0; i < 60; i++)); do
	n=$(query "count_over_time(up{job=\"aw\"}[2m])" 2>/dev/null)
	[ "${n:-0}" -ge "$SCRAPES" ] && break
	sleep 1
done
[ "${n:-0}" -ge "$SCRAPES" ] || aw_fail "only ${n:-0} scrapes in a minute: $(tail -3 "$AW_TMP/prom.out")"
up=$(query "min_over_time(up{job=\"aw\"}[2m])")
slowest=$(query "max_over_time(scrape_duration_seconds{job=\"aw\"}[2m])")
accepts=$(query "acceptwatch_accepts_total{address=\"127.0.0.1:$G_PORT\"}")
echo "Prometheus: $n scrapes, min up $up, slowest ${slowest} s, honest accepts $accepts"
[ "$up" = 1 ] || aw_fail "a scrape failed (up 0)"
python3 -c "import sys; sys.exit(not float('$slowest') < 0.9)" || aw_fail "slowest scrape ${slowest} s"
[ "$accepts" = 12 ] || aw_fail "honest accepts in Prometheus: $accepts"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status")
echo "exporter peak RSS: $((hwm / 1024)) MB"
[ "$hwm" -lt $((100 * 1024)) ] || aw_fail "exporter peak RSS $((hwm / 1024)) MB"

t0=$(date +%s%N)
kill -TERM "$SERVE_PID"
for ((i = 0; i < 40; i++)); do
	aw__alive "$SERVE_PID" || break
	sleep 0.05
done
aw__alive "$SERVE_PID" && aw_fail "serve still runs 2 s after SIGTERM"
wait "$SERVE_PID"
rc=$?
echo "SIGTERM: stopped in $((($(date +%s%N) - t0) / 1000000)) ms, exit $rc"
[ "$rc" = 0 ] || aw_fail "serve exited $rc"
echo ok
