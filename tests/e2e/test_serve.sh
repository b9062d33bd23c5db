#!/usr/bin/env bash
# acceptwatch serve, scraped by a real Prometheus server (Debian's
# `prometheus`) in this private network namespace, with its own storage:
#  - a pre-fork server (parent + 2 children on one socket) and a single
#    one; N clients counted by burst;
#  - GET /metrics passes `promtool check metrics`; GET / answers, other
#    paths 404, other methods 405; a bad --listen is exit 2, a taken port
#    exit 1, both with one line;
#  - a scraper that sends half a request and waits, and one that asks and
#    never reads, do not hold up the next scrape;
#  - Prometheus scrapes every 0.5 s; its query API then returns up == 1,
#    the accepts summed over processes equal to the clients counted, the
#    socket series once per socket (3 processes on the pre-fork socket),
#    build_info;
#  - SIGTERM stops the exporter with status 0;
#  - under ThreadSanitizer, concurrent scrapes and the stop report nothing.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
for t in prometheus promtool curl python3; do
	command -v "$t" >/dev/null || aw_skip "$t is not installed (make deps)"
done

LD_PRELOAD=$AW_SHIM aw_start_server F --backlog 128 --fork 2
LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 8
read -r _ c1 _ <<<"$("$AW_BIN/burst" --port "$F_PORT" -n 20)"
read -r _ c2 _ <<<"$("$AW_BIN/burst" --port "$S_PORT" -n 7)"
[ "$c1" = 20 ] && [ "$c2" = 7 ] || aw_fail "burst completed $c1 of 20, $c2 of 7"

# Bad invocations: one line, defined status.
"$AW_TOOL" serve --listen nonsense 2>"$AW_TMP/e1"
[ $? = 2 ] && [ "$(wc -l <"$AW_TMP/e1")" = 1 ] || aw_fail "bad --listen: $(cat "$AW_TMP/e1")"
"$AW_TOOL" serve --listen "127.0.0.1:$F_PORT" 2>"$AW_TMP/e2"
[ $? = 1 ] && grep -q "cannot listen on 127.0.0.1:$F_PORT: Address already in use" "$AW_TMP/e2" ||
	aw_fail "taken port: $(cat "$AW_TMP/e2")"

aw_start_exporter SERVE "$AW_TOOL" serve --listen 127.0.0.1:9437
url=$SERVE_URL
base=${url%/metrics}
hostport=${base#http://}
echo "exporter at $url"

curl -sf -D "$AW_TMP/h" -o "$AW_TMP/m.prom" "$url" || aw_fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$AW_TMP/h" ||
	aw_fail "content type: $(cat "$AW_TMP/h")"
promtool check metrics <"$AW_TMP/m.prom" || aw_fail "promtool check metrics"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/")" = 200 ] || aw_fail "GET / not 200"
[ "$(code "$base/nope")" = 404 ] || aw_fail "GET /nope not 404"
[ "$(code -X POST "$url")" = 405 ] || aw_fail "POST not 405"
[ "$(code -I "$url")" = 200 ] || aw_fail "HEAD not 200"

# Slow scrapers: one sends half a request, one never reads its answer
# (a tiny receive buffer); both stay connected while a third scrapes.
python3 - "$hostport" >"$AW_TMP/slow.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
half = socket.create_connection((host, int(port)))
half.sendall(b"GET /metr")
mute = socket.socket()
mute.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
mute.connect((host, int(port)))
mute.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
print("holding", flush=True)
time.sleep(4)
PY
SLOW_PID=$!
aw_register_pid "$SLOW_PID"
aw_wait_for 30 grep -q holding "$AW_TMP/slow.out" ||
	aw_fail "slow scrapers: $(cat "$AW_TMP/slow.out")"
curl -sf --max-time 3 -o "$AW_TMP/m2.prom" "$url" ||
	aw_fail "a scrape behind two slow scrapers did not complete in 3 s"
kill "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null

# A real Prometheus server scrapes it.
mkdir -p "$AW_TMP/tsdb"
cat >"$AW_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: acceptwatch
    static_configs:
      - targets: ['$hostport']
EOF
prometheus --config.file="$AW_TMP/prometheus.yml" \
	--storage.tsdb.path="$AW_TMP/tsdb" \
	--web.listen-address=127.0.0.1:9090 --log.level=warn \
	>"$AW_TMP/prom.out" 2>&1 &
PROM_PID=$!
aw_register_pid "$PROM_PID"
api=http://127.0.0.1:9090/api/v1/query

# query EXPR -> the values of the result, one per line (sorted).
query() {
	curl -sf --max-time 2 --data-urlencode "query=$1" "$api" |
		python3 -c 'import json,sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
print("\n".join(sorted(r["value"][1] for r in d["data"]["result"])))'
}
for ((i = 0; i < 200; i++)); do
	[ "$(query 'up{job="acceptwatch"}' 2>/dev/null)" = 1 ] &&
		[ -n "$(query 'acceptwatch_accepts_total' 2>/dev/null)" ] && break
	sleep 0.1
done
[ "$(query 'up{job="acceptwatch"}')" = 1 ] ||
	aw_fail "Prometheus did not scrape the exporter: $(tail -5 "$AW_TMP/prom.out")"
sleep 1 # a few more scrapes

F_INO=$(stat -L -c %i "/proc/$F_PID/fd/3" 2>/dev/null)
[ -n "$F_INO" ] || F_INO=$("$AW_TOOL" stat --json "$F_PID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["processes"][0]["listeners"][0]["ino"])')
want() { # EXPR WANT
	local got
	got=$(query "$1") || aw_fail "query $1 failed"
	[ "$got" = "$2" ] || aw_fail "$1 = '$got', want '$2'"
	echo "$1 = $got"
}
want "sum by (inode) (acceptwatch_accepts_total{inode=\"$F_INO\"})" 20
want "sum(acceptwatch_accepts_total{address=\"127.0.0.1:$S_PORT\"})" 7
# Summed per socket by default: one series for the three processes.
want "count(acceptwatch_accepts_total{inode=\"$F_INO\"})" 1
want "count(acceptwatch_socket_drops_total{inode=\"$F_INO\"})" 1
want "count(acceptwatch_socket_processes > 0)" 2
# The exporter's and Prometheus's own listeners, without the shim: the
# kernel's figures, socket series only.
want "count(acceptwatch_socket_backlog_effective)" 4
want "count(acceptwatch_socket_queue_peak)" 2
want "acceptwatch_socket_processes{inode=\"$F_INO\"}" 3
want "acceptwatch_socket_backlog_effective{inode=\"$F_INO\"}" 16
want "acceptwatch_socket_backlog_clamped{inode=\"$F_INO\"}" 1
want "acceptwatch_socket_backlog_requested{address=\"127.0.0.1:$S_PORT\"}" 8
want "count(acceptwatch_build_info)" 1
want "acceptwatch_processes" 4
# More than one scrape was stored.
n=$(query "count_over_time(acceptwatch_processes[1m])")
[ "${n:-0}" -ge 2 ] || aw_fail "only $n scrapes stored"

aw_stop "$SERVE_PID"
rc=$?
[ "$rc" = 0 ] || aw_fail "serve exited $rc on SIGTERM"

# The server's thread and the reader's gather threads under
# ThreadSanitizer: concurrent scrapes, a clean stop, no report.
TSAN_TOOL=${AW_TSAN_TOOL:-$AW_ROOT/build/tsan/acceptwatch}
TSAN_OPTIONS="halt_on_error=1:exitcode=66" \
	aw_start_exporter T "$TSAN_TOOL" serve --listen 127.0.0.1:9438
turl=$T_URL
cpids=()
for i in 1 2 3 4; do
	curl -sf -o "$AW_TMP/t$i.prom" "$turl" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do
	wait "$p" || aw_fail "a concurrent scrape failed: $(cat "$T_ERR")"
done
grep -q "^acceptwatch_processes 4$" "$AW_TMP/t4.prom" || aw_fail "TSan scrape: $(head "$AW_TMP/t4.prom")"
aw_stop "$T_PID"
rc=$?
[ "$rc" = 0 ] || aw_fail "TSan serve exited $rc: $(cat "$T_ERR")"
if grep -q "ThreadSanitizer" "$T_ERR"; then aw_fail "$(cat "$T_ERR")"; fi
echo ok
