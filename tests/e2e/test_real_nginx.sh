#!/usr/bin/env bash
# Debian's nginx, unmodified, under the release shim, in a private network
# namespace with somaxconn 16. nginx as packaged: started as root, it calls
# listen() in a short-lived process that daemonizes and exits; the master
# forks workers that switch to nobody, clear their environment and accept.
#  - `listen 127.0.0.1:P1 backlog=511` and a default `listen 127.0.0.1:P2`
#    (nginx's default backlog on Linux is 511 too): requested 511,
#    effective 16, CLAMPED, in every worker's segment (the workers never
#    called listen()); accepts counted in the workers, one row per worker,
#    added up equal to what the client completed;
#  - configuration read at load survives the cleared environment
#    (ACCEPTWATCH_SLOW_MS reaches the workers);
#  - the overflow scenario on P1 (master and workers stopped); then the
#    Prometheus exposition has the socket's drops once, equal to the d of
#    `ss -tmnl`, and one accepts series per process;
#  - a reload (SIGHUP) with backlog=8 on P1: the master's relisten, and the
#    new workers' segments, show requested 8, effective 8, not clamped; the
#    old workers' segments go with them;
#  - stopping nginx removes every segment.
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || aw_skip "nginx is not installed (make deps)"
rs_need python3 ss pgrep
P1=18080 P2=18081 WORKERS=2
D=$AW_TMP/nginx
mkdir -p "$D"

write_conf() {
	rs_nginx_conf "$D" "$WORKERS" \
		"listen 127.0.0.1:$P1 backlog=$1; return 200 \"p1\\n\";" \
		"listen 127.0.0.1:$P2; return 200 \"p2\\n\";"
}

# The master's children, each registered to be stopped at exit.
workers() {
	local w
	for w in $(pgrep -P "$MASTER"); do
		aw_register_pid "$w"
		echo "$w"
	done
}

# Connections on both ports until every worker has accepted (and so has a
# segment): nginx does not say which worker takes a connection. Bounded.
warm_up() {
	local i w c missing
	for ((i = 0; i < 20; i++)); do
		rs_client c "$P1" 10 http
		DONE1=$((DONE1 + c))
		rs_client c "$P2" 10 http
		DONE2=$((DONE2 + c))
		missing=0
		for w in "$@"; do
			[ -e "/dev/shm/acceptwatch.$w" ] || missing=1
		done
		[ "$missing" = 0 ] && return 0
	done
	aw_fail "after $((i * 20)) connections some worker of $* has no segment: $(ls /dev/shm)"
}

write_conf 511
ACCEPTWATCH_SLOW_MS=80 ACCEPTWATCH_LOG=$D/aw.log rs_nginx_start "$D" "$WORKERS"
rs_wait_listen "$P1" 16
rs_wait_listen "$P2" 16
echo "nginx $("$NGINX" -v 2>&1 | sed 's,.*/,,'): master $MASTER, workers ${W[*]}"

# listen() was called by the process that daemonized, as root: its lines in
# the log file; its segment went with it.
for p in "$P1" "$P2"; do
	grep -q "listen fd=[0-9]* 127.0.0.1:$p requested=511 effective=16 somaxconn=16 CLAMPED" \
		"$D/aw.log" || aw_fail "no CLAMPED listen line for $p: $(cat "$D/aw.log" "$D/start.err")"
done
first=$(sed -n 's/^acceptwatch\[\([0-9]*\)\]: listen .*/\1/p' "$D/aw.log" | head -1)
[ -n "$first" ] && [ "$first" != "$MASTER" ] ||
	aw_fail "listen() not in a short-lived process? ($first, master $MASTER)"
[ -e "/dev/shm/acceptwatch.$first" ] && aw_fail "segment of the exited pid $first left behind"

DONE1=0 DONE2=0
warm_up "${W[@]}"
rs_stat "$AW_TMP/w.json" "${W[@]}"
for p in "$P1" "$P2"; do
	rs_check "$AW_TMP/w.json" "$p" "sorted(ps) == sorted([$(IFS=,; echo "${W[*]}")])" \
		"not one row per worker"
	rs_check "$AW_TMP/w.json" "$p" "all(l['requested_backlog'] == 511 and l['effective_backlog'] == 16 and l['clamped'] and l['inherited'] for l in ls)" \
		"workers' segments lack requested 511 / effective 16 / CLAMPED"
done
# Per-process rows; their sum is the listener's total (the reader prints no
# total line of its own).
rs_check "$AW_TMP/w.json" "$P1" "sum(l['accepts'] for l in ls) == $DONE1" \
	"accepts on $P1 differ from the $DONE1 connections completed"
rs_check "$AW_TMP/w.json" "$P2" "sum(l['accepts'] for l in ls) == $DONE2" \
	"accepts on $P2 differ from the $DONE2 connections completed"
rs_check "$AW_TMP/w.json" "$P1" "all(l['errors'] == {'eintr': 0, 'econnaborted': 0, 'emfile': 0, 'other': 0} for l in ls)" \
	"errors counted"
# nginx leaves its workers only TZ; the threshold was read at load.
aw_expect "$AW_TMP/w.json" "[p['slow_ms'] for p in processes]" "[80, 80]"
"$AW_REL_TOOL" stat "${W[@]}" | grep -q "backlog requested 511 effective 16  CLAMPED" ||
	aw_fail "text output lacks the clamp"
# The workers run as nobody: their segments are theirs, and root reads them.
for w in "${W[@]}"; do
	[ "$(stat -c %U "/dev/shm/acceptwatch.$w")" = "$(ps -o user= -p "$w")" ] ||
		aw_fail "segment of worker $w not owned by its user"
done
echo "accepts: $P1 $DONE1 over ${W[*]}, $P2 $DONE2"

rs_overflow "$P1" 16 30 http "$MASTER" "${W[@]}"
DONE1=$((DONE1 + 30))
# Prometheus: the socket's drops once per socket, not once per process
# holding it, and equal to the kernel's count as `ss -tmnl` shows it (d in
# skmem). Every process's accepts are there, one series each.
"$AW_REL_TOOL" stat --prometheus --by-process >"$AW_TMP/n.prom" || aw_fail "stat --prometheus failed"
if command -v promtool >/dev/null; then
	promtool check metrics <"$AW_TMP/n.prom" || aw_fail "promtool check metrics"
fi
sel="{address=\"127.0.0.1:$P1\","
drops=$(grep "^acceptwatch_socket_drops_total$sel" "$AW_TMP/n.prom")
[ "$(wc -l <<<"$drops")" = 1 ] || aw_fail "socket drops not once per socket: $drops"
ss_d=$(ss -Htmnl "sport = :$P1" | sed -n 's/.*skmem:(.*,d\([0-9]*\)).*/\1/p')
[ -n "$ss_d" ] && [ "${drops##* }" = "$ss_d" ] ||
	aw_fail "socket drops ${drops##* }, ss -tmnl d $ss_d"
procs=$(sed -n "s/^acceptwatch_socket_processes$sel.* //p" "$AW_TMP/n.prom")
accepts=$(grep -c "^acceptwatch_accepts_total{pid=.*address=\"127.0.0.1:$P1\"" "$AW_TMP/n.prom")
[ "${procs:-0}" -ge "$WORKERS" ] && [ "$accepts" = "$procs" ] ||
	aw_fail "$procs processes on the socket, $accepts accepts series"
echo "prometheus: socket drops ${drops##* } = ss d $ss_d, once, over $procs processes"
# The workers (nobody) cannot open the log file in our private directory:
# their lines are dropped, never sent to their stderr (which nginx points at
# its error_log), and the segment of each worker that had a line to write
# (a slow event: the overflow above made at least one) says lines were lost.
grep -q "acceptwatch\[" "$D/error.log" &&
	aw_fail "the shim wrote into nginx's error log: $(grep acceptwatch "$D/error.log")"
logged=0
for w in "${W[@]}"; do
	"$AW_REL_TOOL" stat --json "$w" >"$AW_TMP/lf.json" || aw_fail "stat $w"
	[ "$(aw_json_get "$AW_TMP/lf.json" "processes[0]['events_total'] > 0")" = True ] || continue
	aw_expect "$AW_TMP/lf.json" "processes[0]['log_failed']" True
	logged=$((logged + 1))
done
[ "$logged" -ge 1 ] || aw_fail "no worker had a slow event to log"

# Reload with backlog=8 on P1: the master calls listen() again on the
# socket it has, new workers replace the old.
write_conf 8
kill -HUP "$MASTER"
rs_wait_listen "$P1" 8
for ((i = 0; i < 200; i++)); do
	mapfile -t NW < <(workers)
	old=0
	for w in "${W[@]}"; do
		aw__alive "$w" && old=1
	done
	[ "$old" = 0 ] && [ "${#NW[@]}" = "$WORKERS" ] && break
	sleep 0.05
done
[ "$old" = 0 ] || aw_fail "old workers ${W[*]} still running 10 s after reload"
[ "${#NW[@]}" = "$WORKERS" ] || aw_fail "want $WORKERS new workers, have ${NW[*]}"
for w in "${W[@]}"; do
	[ -e "/dev/shm/acceptwatch.$w" ] && aw_fail "exited worker $w left its segment"
done
grep -q "acceptwatch\[$MASTER\]: relisten fd=[0-9]* 127.0.0.1:$P1 requested=8 effective=8 somaxconn=16 (was requested=511 effective=16)" \
	"$D/aw.log" || aw_fail "no relisten line from the master: $(cat "$D/aw.log")"
DONE1=0 DONE2=0
warm_up "${NW[@]}"
rs_stat "$AW_TMP/r.json" "$MASTER" "${NW[@]}"
rs_check "$AW_TMP/r.json" "$P1" "sorted(ps) == sorted([$MASTER,$(IFS=,; echo "${NW[*]}")])" \
	"not one row for the master and each new worker"
rs_check "$AW_TMP/r.json" "$P1" "all(l['requested_backlog'] == 8 and l['effective_backlog'] == 8 and not l['clamped'] for l in ls)" \
	"after reload: not requested 8 / effective 8 / unclamped"
rs_check "$AW_TMP/r.json" "$P2" "all(l['requested_backlog'] == 511 and l['effective_backlog'] == 16 and l['clamped'] for l in ls)" \
	"after reload: $P2 changed"
rs_check "$AW_TMP/r.json" "$P1" "sum(l['accepts'] for l in ls) == $DONE1" \
	"accepts after reload differ from the $DONE1 connections completed"
"$AW_REL_TOOL" stat "$MASTER" | grep -q "backlog requested 8 effective 8$" ||
	aw_fail "text output lacks the new backlog: $("$AW_REL_TOOL" stat "$MASTER")"

kill -TERM "$MASTER"
for ((i = 0; i < 100; i++)); do
	left=0
	for p in "$MASTER" "${NW[@]}"; do
		aw__alive "$p" && left=1
	done
	[ "$left" = 0 ] && break
	sleep 0.05
done
[ "$left" = 0 ] || aw_fail "nginx did not stop within 5 s"
for p in "$MASTER" "${NW[@]}"; do
	[ -e "/dev/shm/acceptwatch.$p" ] && aw_fail "segment of $p left after nginx stopped"
done
grep acceptwatch "$D/error.log" "$D/aw.log" >&2
echo ok
