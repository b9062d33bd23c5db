# shellcheck shell=bash
# tests/e2e/real_lib.sh - helpers shared by the real-server tests
# (test_real_*.sh). Source it after tests/lib.sh and aw_enter_netns.
#
# The servers are Debian's own binaries, not built with sanitizers, so these
# tests preload the RELEASE shim ($AW_REL_SHIM) and read with the release
# reader: the ASan shim cannot be preloaded into a program without ASan.
#
#   rs_need CMD...                skip unless each command exists
#   rs_wait_listen PORT [SENDQ]   wait (5 s) for a listener on 127.0.0.1:PORT,
#                                 with that Send-Q (effective backlog) if given
#   rs_start VAR PORT CMD...      start CMD in the background with the
#                                 release shim preloaded (and nothing else),
#                                 wait for its listener; sets VAR_PID,
#                                 VAR_OUT, VAR_ERR; the pid is stopped and
#                                 its segment removed at exit
#   rs_stop SIG PID               send SIG to PID (a child of this shell),
#                                 wait (5 s) for it to exit; returns its
#                                 exit status
#   rs_client VAR PORT N PROTO    run tests/e2e/client.py; VAR = completed,
#                                 fail if any connection failed
#   rs_stat FILE PID...           reader --json for the PIDs that have a
#                                 segment (a process that never accepted nor
#                                 listened has none)
#   rs_q FILE PORT EXPR           evaluate Python EXPR over `ls`, the list of
#                                 listener objects of 127.0.0.1:PORT in every
#                                 process row, and `ps`, those rows' pids
#                                 (tests/e2e/real_json.py)
#   rs_check FILE PORT EXPR MSG [EXPR MSG]...
#                                 fail with the first MSG whose EXPR is false
#   rs_overflow PORT BACKLOG N PROTO PID...
#                                 the overflow scenario (see below)
#   rs_nginx_conf DIR WORKERS SERVER...
#                                 DIR/nginx.conf: WORKERS workers, one
#                                 server block per SERVER (its inside)
#   rs_prometheus                 the release reader's exporter and a real
#                                 Prometheus scraping it every 500 ms and
#                                 evaluating dist/prometheus's rules every
#                                 second (127.0.0.1:9437, :9090)
#   rs_query EXPR                 Prometheus's answer: one line per series,
#                                 "address alertstate value"
#   rs_nginx_start DIR WORKERS    start Debian's nginx on DIR/nginx.conf
#                                 under the release shim (ACCEPTWATCH_* from
#                                 the caller's environment; RS_NGINX_PRELOAD=''
#                                 for none); sets MASTER and
#                                 W (its workers), all stopped at exit
AW_REL_SHIM=${AW_REL_SHIM:-$AW_ROOT/shim/libacceptwatch.so}
AW_REL_TOOL=${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch}
RS_CLIENT=$AW_ROOT/tests/e2e/client.py
# The interpreter itself, not a wrapper script in front of it (pyenv's shims
# cost a few hundred ms a call, which would blur the timings measured here).
RS_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
	aw_skip "python3 is not installed"

[ -f "$AW_REL_SHIM" ] && [ -x "$AW_REL_TOOL" ] ||
	aw_skip "release shim or reader not built (make)"

rs_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || aw_skip "$c is not installed (make deps)"
	done
}

rs_wait_listen() {
	local port=$1 sendq=${2:-} i
	for ((i = 0; i < 100; i++)); do
		if [ -n "$sendq" ]; then
			ss -Hltn "sport = :$port" | grep -q "^LISTEN *[0-9]* *$sendq " && return 0
		else
			ss -Hltn "sport = :$port" | grep -q "^LISTEN" && return 0
		fi
		sleep 0.05
	done
	aw_fail "no listener on 127.0.0.1:$port${sendq:+ with backlog $sendq} after 5 s: $(ss -Hltn)"
}

rs_start() {
	local var=$1 port=$2 pid
	shift 2
	local out="$AW_TMP/$var.out" err="$AW_TMP/$var.err"
	LD_PRELOAD=$AW_REL_SHIM "$@" >"$out" 2>"$err" &
	pid=$!
	aw_register_pid "$pid"
	aw_register_file "/dev/shm/acceptwatch.$pid"
	printf -v "${var}_PID" %s "$pid"
	printf -v "${var}_OUT" %s "$out"
	printf -v "${var}_ERR" %s "$err"
	rs_wait_listen "$port"
	aw__alive "$pid" || aw_fail "$* exited early: $(cat "$err")"
}

rs_stop() {
	local i
	kill -"$1" "$2" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		aw__alive "$2" || break
		sleep 0.05
	done
	aw__alive "$2" && aw_fail "pid $2 still running 5 s after SIG$1"
	wait "$2"
}

rs_client() {
	local _rs_out _rs_c _rs_f
	_rs_out=$("$RS_PY" "$RS_CLIENT" --port "$2" -n "$3" --proto "$4" \
		--timeout-ms 15000) || aw_fail "client.py failed"
	read -r _ _rs_c _ _rs_f <<<"$_rs_out"
	[ "$_rs_c" = "$3" ] || aw_fail "client completed $_rs_c of $3 on port $2 (failed $_rs_f)"
	printf -v "$1" %s "$_rs_c"
}

rs_stat() {
	local file=$1 pid have=()
	shift
	for pid in "$@"; do
		[ -e "/dev/shm/acceptwatch.$pid" ] && have+=("$pid")
	done
	[ ${#have[@]} -gt 0 ] || aw_fail "no segment for any of: $*"
	"$AW_REL_TOOL" stat --json "${have[@]}" >"$file" ||
		aw_fail "reader failed on ${have[*]}: $(cat "$file")"
}

rs_q() {
	"$RS_PY" "$AW_ROOT/tests/e2e/real_json.py" "$1" "$2" q "$3"
}

# rs_check FILE PORT EXPR MSG [EXPR MSG]...: fail with the first MSG whose
# EXPR (as for rs_q) is not true, and the rows' figures. One interpreter
# for them all.
rs_check() {
	local out
	out=$("$RS_PY" "$AW_ROOT/tests/e2e/real_json.py" "$1" "$2" check "${@:3}") ||
		aw_fail "$out"
}

# The overflow scenario, on the listener 127.0.0.1:PORT of effective backlog
# BACKLOG, served by PIDs (every process of the server; each one must have
# accepted before, so that it has a segment and a last accept):
#  - SIGSTOP every PID, open N (> BACKLOG + 1) connections with client.py;
#  - while stopped: every row STALLED, the queue full (BACKLOG + 1, and ss
#    agrees), the kernel's drop count rising as the SYNs that did not fit
#    are retried;
#  - SIGCONT: the client completes all N, and the accepts added up over the
#    rows grew by exactly N; slow events, the queue peak BACKLOG + 1, and a
#    queue wait of about the stopped time.
# Prints one line with the figures, keeps the JSON in $AW_TMP/ov.*.json.
rs_overflow() {
	local port=$1 backlog=$2 n=$3 proto=$4
	shift 4
	local pids=("$@") full=$((backlog + 1)) f=$AW_TMP/ov
	rs_stat "$f.0.json" "${pids[@]}"
	local acc0 cpid stopped_at started_at resumed_at stopped_ms waited_ms drops1 drops2 c failed
	local p queued_at queued_ms done_ms
	acc0=$(rs_q "$f.0.json" "$port" "sum(l['accepts'] for l in ls)")

	for p in "${pids[@]}"; do aw_sigstop "$p"; done
	stopped_at=$(date +%s%N)
	"$RS_PY" "$RS_CLIENT" --port "$port" -n "$n" --proto "$proto" \
		--timeout-ms 150000 --started "$f.started" >"$f.client" &
	cpid=$!
	aw_register_pid "$cpid"
	# The queue full, each queued client's request in, a SYN dropped; then
	# past the 50 ms threshold.
	aw_wait_queue "$port" "$full" 1
	aw_wait_unread "$port" "$full"
	queued_at=$(date +%s%N)
	sleep 0.1
	rs_stat "$f.a.json" "${pids[@]}"
	rs_check "$f.a.json" "$port" \
		"len(ls) > 0 and all(l['stalled'] for l in ls)" "not every row STALLED while stopped" \
		"all(l['queue']['now'] == $full for l in ls)" "queue not full ($full) while stopped"
	drops1=$(rs_q "$f.a.json" "$port" "max(l['drops'] for l in ls)")
	[ "$drops1" -ge 1 ] || aw_fail "no drops while stopped and full ($drops1)"
	"$AW_REL_TOOL" stat "${pids[@]}" 2>/dev/null | grep -qE "STALLED: $full connections waiting now, the process(es are| is) stopped" ||
		aw_fail "text output lacks STALLED: $("$AW_REL_TOOL" stat "${pids[@]}" 2>&1)"
	# The SYNs that did not fit are retried 1 s and 3 s after the first:
	# the kernel's count rises, then the reader's.
	aw_wait_queue "$port" "$full" $((drops1 + 1))
	rs_stat "$f.b.json" "${pids[@]}"
	drops2=$(rs_q "$f.b.json" "$port" "max(l['drops'] for l in ls)")
	[ "$drops2" -gt "$drops1" ] || aw_fail "drops did not rise: $drops1 -> $drops2"
	ss -Hltn "sport = :$port" | grep -q "^LISTEN *$full *$backlog " ||
		aw_fail "ss disagrees: $(ss -Hltn "sport = :$port")"

	kill -CONT "${pids[@]}"
	resumed_at=$(date +%s%N)
	stopped_ms=$(((resumed_at - stopped_at) / 1000000))
	read -r started_at <"$f.started" || aw_fail "client.py did not start"
	waited_ms=$(((resumed_at - started_at) / 1000000))
	wait "$cpid"
	done_ms=$((($(date +%s%N) - stopped_at) / 1000000))
	queued_ms=$(((resumed_at - queued_at) / 1000000))
	read -r _ c _ failed <"$f.client"
	[ "$c" = "$n" ] || aw_fail "client completed $c of $n after SIGCONT (failed $failed)"
	rs_stat "$f.c.json" "${pids[@]}"
	cat "$f.c.json" >&2
	# Queue wait: the queued connections had all sent their request (a
	# wait counts from a connection's last packet) before queued_at, and
	# waited at least until SIGCONT (less a jiffy, the unit of
	# tcpi_last_ack_recv); none longer than the stop and the burst's end.
	rs_check "$f.c.json" "$port" \
		"sum(l['accepts'] for l in ls) - $acc0 == $n" \
		"accepts counted differ from the $n connections the client completed" \
		"not any(l['stalled'] for l in ls)" "still STALLED after SIGCONT" \
		"1 <= sum(l['slow_events'] for l in ls) <= $n" "no slow event recorded" \
		"max(l['queue']['peak'] for l in ls) == $full" "queue peak is not $full" \
		"sum(l['queue']['full_events'] for l in ls) >= 1" "no full-queue event" \
		"$((queued_ms - 10)) <= max(l['queue_wait_ms']['max'] for l in ls) <= $((done_ms + 10))" \
		"queue wait is not the stopped time ($queued_ms..$done_ms ms)"
	RS_OVERFLOW="stopped ${stopped_ms} ms (client connected ${waited_ms} ms before SIGCONT), $(rs_q "$f.c.json" "$port" \
		"'queue full $full/$backlog, drops $drops1 -> $drops2, completed $c = accepts %d, slow events %d, queue peak %d, queue wait max %d ms' % (sum(l['accepts'] for l in ls) - $acc0, sum(l['slow_events'] for l in ls), max(l['queue']['peak'] for l in ls), max(l['queue_wait_ms']['max'] for l in ls))")"
	echo "overflow on $port: $RS_OVERFLOW"
}

rs_nginx_conf() {
	local d=$1 workers=$2 t srv
	shift 2
	{
		printf 'worker_processes %s;\npid %s/nginx.pid;\n' "$workers" "$d"
		printf 'error_log %s/error.log notice;\n' "$d"
		printf 'events { worker_connections 256; }\nhttp {\n\taccess_log off;\n'
		for t in client_body proxy fastcgi uwsgi scgi; do
			printf '\t%s_temp_path %s/%s;\n' "$t" "$d" "$t"
		done
		for srv in "$@"; do
			printf '\tserver { %s }\n' "$srv"
		done
		printf '}\n'
	} >"$d/nginx.conf"
}

rs_nginx_start() {
	local d=$1 workers=$2 i nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || aw_skip "nginx is not installed (make deps)"
	LD_PRELOAD=${RS_NGINX_PRELOAD-$AW_REL_SHIM} "$nginx" -p "$d" -c "$d/nginx.conf" \
		-e "$d/error.log" >"$d/start.out" 2>"$d/start.err" ||
		aw_fail "nginx did not start: $(cat "$d/start.err" "$d/error.log")"
	for ((i = 0; i < 100; i++)); do
		[ -s "$d/nginx.pid" ] && break
		sleep 0.05
	done
	read -r MASTER <"$d/nginx.pid" || aw_fail "no pid file: $(cat "$d/error.log")"
	aw_register_pid "$MASTER"
	for ((i = 0; i < 100; i++)); do
		mapfile -t W < <(pgrep -P "$MASTER")
		[ "${#W[@]}" = "$workers" ] && break
		sleep 0.05
	done
	[ "${#W[@]}" = "$workers" ] || aw_fail "want $workers workers, have: ${W[*]}"
	aw_register_pid "${W[@]}"
}

rs_prometheus() {
	"$AW_REL_TOOL" serve --listen 127.0.0.1:9437 >"$AW_TMP/serve.out" 2>&1 &
	aw_register_pid $!
	mkdir -p "$AW_TMP/tsdb"
	printf '%s\n' "global:" "  scrape_interval: 500ms" "  scrape_timeout: 400ms" \
		"  evaluation_interval: 1s" "rule_files:" \
		"  - $AW_ROOT/dist/prometheus/acceptwatch-rules.yml" "scrape_configs:" \
		"  - job_name: acceptwatch" "    static_configs:" \
		"      - targets: ['127.0.0.1:9437']" >"$AW_TMP/prometheus.yml"
	prometheus --config.file="$AW_TMP/prometheus.yml" \
		--storage.tsdb.path="$AW_TMP/tsdb" \
		--web.listen-address=127.0.0.1:9090 --log.level=warn \
		>"$AW_TMP/prom.out" 2>&1 &
	aw_register_pid $!
}

rs_query() {
	curl -sf --max-time 2 --data-urlencode "query=$1" \
		http://127.0.0.1:9090/api/v1/query | "$RS_PY" -c 'import json,sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
for r in d["data"]["result"]:
    m = r["metric"]
    print(m.get("address", ""), m.get("alertstate", ""), r["value"][1])'
}
