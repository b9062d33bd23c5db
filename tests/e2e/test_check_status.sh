#!/usr/bin/env bash
# check's exit status follows the monitoring-plugins convention on real
# servers: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
#   haproxy 2.6, stock defaults (asks more than somaxconn 4096): CLAMPED,
#     WARNING 1; accepted with --ignore clamped (or @ its address): OK 0;
#     --ignore for another address leaves it WARNING
#   nginx, two workers with the same CLAMPED: one block, both pids on its
#     line (--per-process: a block each)
#   nginx, its workers stopped with connections queued: STALLED, CRITICAL 2
#   a monitoring user (nobody) who cannot read root's segments (haproxy):
#     UNKNOWN 3, never the false all-clear 0
#   bad usage: UNKNOWN 3
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
aw_enter_private_shm "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need haproxy curl

check() { # OUT ARGS...: the release reader's check, status in $rc
	local out=$1
	shift
	"$AW_REL_TOOL" check --interval 0 "$@" >"$out" 2>&1
	rc=$?
}

# haproxy: no maxconn nor backlog set; it asks its own default.
hp=18080
cat >"$AW_TMP/haproxy.cfg" <<EOF
global
	pidfile $AW_TMP/haproxy.pid
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$hp
	http-request return status 200 content-type text/plain string ok
EOF
rs_start H "$hp" haproxy -db -f "$AW_TMP/haproxy.cfg"
curl -sf --max-time 5 "http://127.0.0.1:$hp/" >/dev/null || aw_fail "haproxy does not answer"
check "$AW_TMP/h1.txt" "$H_PID"
cat "$AW_TMP/h1.txt"
[ "$rc" = 1 ] || aw_fail "haproxy clamped: exit $rc, want 1 (WARNING): $(cat "$AW_TMP/h1.txt")"
grep -q "CLAMPED: requested [0-9]*, got 4096 because net.core.somaxconn = 4096" "$AW_TMP/h1.txt" ||
	aw_fail "no CLAMPED: $(cat "$AW_TMP/h1.txt")"
check "$AW_TMP/h2.txt" --ignore clamped "$H_PID"
[ "$rc" = 0 ] || aw_fail "--ignore clamped: exit $rc, want 0: $(cat "$AW_TMP/h2.txt")"
grep -q "accepted (--ignore), CLAMPED: requested" "$AW_TMP/h2.txt" ||
	aw_fail "the accepted verdict is not shown: $(cat "$AW_TMP/h2.txt")"
check "$AW_TMP/h3.txt" --ignore "clamped@127.0.0.1:$hp" "$H_PID"
[ "$rc" = 0 ] || aw_fail "--ignore clamped@addr: exit $rc, want 0: $(cat "$AW_TMP/h3.txt")"
check "$AW_TMP/h4.txt" --ignore "CLAMPED@127.0.0.1:1" "$H_PID"
[ "$rc" = 1 ] || aw_fail "--ignore for another address: exit $rc, want 1: $(cat "$AW_TMP/h4.txt")"
"$AW_REL_TOOL" check --interval 0 --json --ignore clamped "$H_PID" >"$AW_TMP/h.json"
aw_expect "$AW_TMP/h.json" "listeners[0]['accepted'][0]['verdict']" clamped
aw_expect "$AW_TMP/h.json" "listeners[0]['verdicts']" "[]"
aw_expect "$AW_TMP/h.json" "status" ok
check "$AW_TMP/u.txt" --ignore nosuch "$H_PID"
[ "$rc" = 3 ] || aw_fail "--ignore nosuch: exit $rc, want 3"
grep -q "ignore wants" "$AW_TMP/u.txt" || aw_fail "--ignore nosuch: $(cat "$AW_TMP/u.txt")"
check "$AW_TMP/u.txt" --interval x
[ "$rc" = 3 ] || aw_fail "bad --interval: exit $rc, want 3"
# A monitoring user who cannot read root's segments (haproxy runs as
# root): UNKNOWN, by scan and by pid, never the false all-clear.
aw_public "$AW_REL_TOOL"
U=$(id -u nobody)
nobody_check() { # OUT ARGS...
	local out=$1
	shift
	setpriv --reuid "$U" --regid "$U" --clear-groups "$AW_PUB/acceptwatch" check \
		--interval 0 --state none "$@" >"$out" 2>&1
	rc=$?
}
nobody_check "$AW_TMP/nb.txt"
cat "$AW_TMP/nb.txt"
[ "$rc" = 3 ] || aw_fail "nobody's scan: exit $rc, want 3 (UNKNOWN): $(cat "$AW_TMP/nb.txt")"
grep -q "; UNKNOWN: no segment readable$" "$AW_TMP/nb.txt" || aw_fail "nobody's scan: $(cat "$AW_TMP/nb.txt")"
nobody_check "$AW_TMP/nb2.txt" "$H_PID"
[ "$rc" = 3 ] || aw_fail "nobody's check of haproxy: exit $rc, want 3: $(cat "$AW_TMP/nb2.txt")"
rs_stop TERM "$H_PID"

# nginx, two workers, asking for more than somaxconn: one block for the
# socket with both workers on its line (the same CLAMPED, said once);
# --per-process gives each its own.
np=18081
d=$AW_TMP/nginx
mkdir -p "$d"
rs_nginx_conf "$d" 2 "listen 127.0.0.1:$np backlog=8192; return 200 ok;"
rs_nginx_start "$d" 2
for ((i = 0; i < 100; i++)); do
	curl -sf --max-time 5 "http://127.0.0.1:$np/" >/dev/null || aw_fail "nginx does not answer"
	[ -e "/dev/shm/acceptwatch.${W[0]}" ] && [ -e "/dev/shm/acceptwatch.${W[1]}" ] && break
done
check "$AW_TMP/g.txt" "${W[@]}"
cat "$AW_TMP/g.txt"
[ "$rc" = 1 ] || aw_fail "clamped nginx: exit $rc, want 1: $(cat "$AW_TMP/g.txt")"
[ "$(grep -c "CLAMPED: requested 8192" "$AW_TMP/g.txt")" = 1 ] ||
	aw_fail "the workers' CLAMPED is not said once: $(cat "$AW_TMP/g.txt")"
grep -Eq "^pids (${W[0]} ${W[1]}|${W[1]} ${W[0]}) \(nginx\) 127.0.0.1:$np fd [0-9]+: CLAMPED$" "$AW_TMP/g.txt" ||
	aw_fail "no one block for both workers: $(cat "$AW_TMP/g.txt")"
check "$AW_TMP/g2.txt" --per-process "${W[@]}"
[ "$(grep -c "CLAMPED: requested 8192" "$AW_TMP/g2.txt")" = 2 ] ||
	aw_fail "--per-process: $(cat "$AW_TMP/g2.txt")"

# nginx: the workers stopped with connections waiting.
kill -STOP "${W[@]}"
for i in 1 2 3; do curl -s --max-time 20 "http://127.0.0.1:$np/" >/dev/null & done
for ((i = 0; i < 100; i++)); do
	ss -Hltn "sport = :$np" | grep -q "^LISTEN *3 " && break
	sleep 0.05
done
check "$AW_TMP/n1.txt" "${W[@]}"
cat "$AW_TMP/n1.txt"
[ "$rc" = 2 ] || aw_fail "stopped nginx: exit $rc, want 2 (CRITICAL): $(cat "$AW_TMP/n1.txt")"
grep -q "STALLED" "$AW_TMP/n1.txt" || aw_fail "no STALLED: $(cat "$AW_TMP/n1.txt")"

kill -CONT "${W[@]}"
wait
echo ok
