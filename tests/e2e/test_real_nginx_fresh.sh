#!/usr/bin/env bash
# Debian's nginx under the release shim, stopped before any worker has
# accepted: a worker that is stuck from its start is exactly the one to
# see. Each worker (it inherited the listener, never called listen()) must
# already have a segment with requested 511, effective 16, CLAMPED, and
# with the queue full the reader must show the listener STALLED.
#
# Known to fail with the shim as of this commit: a forked child gets its
# segment only at its first accept() (accept_path.c segment()), so these
# workers have none and the reader says "no segment for pid".
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || aw_skip "nginx is not installed (make deps)"
rs_need ss pgrep
P=18080
D=$AW_TMP/nginx
mkdir -p "$D"
cat >"$D/nginx.conf" <<CONF
worker_processes 2;
pid $D/nginx.pid;
error_log $D/error.log notice;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $D/body;
	proxy_temp_path $D/proxy;
	fastcgi_temp_path $D/fastcgi;
	uwsgi_temp_path $D/uwsgi;
	scgi_temp_path $D/scgi;
	server { listen 127.0.0.1:$P backlog=511; return 200 "ok\n"; }
}
CONF
LD_PRELOAD=$AW_REL_SHIM "$NGINX" -p "$D" -c "$D/nginx.conf" -e "$D/error.log" 2>"$D/start.err" ||
	aw_fail "nginx did not start: $(cat "$D/start.err")"
for ((i = 0; i < 100; i++)); do
	[ -s "$D/nginx.pid" ] && break
	sleep 0.05
done
read -r MASTER <"$D/nginx.pid" || aw_fail "no pid file"
aw_register_pid "$MASTER"
rs_wait_listen "$P" 16
for ((i = 0; i < 100; i++)); do
	mapfile -t W < <(pgrep -P "$MASTER")
	[ "${#W[@]}" = 2 ] && break
	sleep 0.05
done
aw_register_pid "${W[@]}"
[ "${#W[@]}" = 2 ] || aw_fail "want 2 workers, have: ${W[*]}"
# Let the workers reach their event loop (user switch, epoll set-up).
sleep 0.3

kill -STOP "$MASTER" "${W[@]}"
"$RS_PY" "$RS_CLIENT" --port "$P" -n 20 --timeout-ms 20000 >"$AW_TMP/client.out" &
cpid=$!
aw_register_pid "$cpid"
sleep 1.5
ss -Hltn "sport = :$P" | grep -q "^LISTEN *17 *16 " || aw_fail "queue not full: $(ss -Hltn)"
for w in "${W[@]}"; do
	[ -e "/dev/shm/acceptwatch.$w" ] ||
		aw_fail "worker $w has no segment before its first accept: $("$AW_REL_TOOL" stat "${W[@]}" 2>&1)"
done
rs_stat "$AW_TMP/s.json" "${W[@]}"
rs_check "$AW_TMP/s.json" "$P" \
	"len(ls) == 2" "not one row per worker" \
	"all(l['requested_backlog'] == 511 and l['effective_backlog'] == 16 and l['clamped'] for l in ls)" \
	"not requested 511 / effective 16 / CLAMPED" \
	"all(l['stalled'] and l['queue']['now'] == 17 for l in ls)" "not STALLED with the queue full"
kill -CONT "$MASTER" "${W[@]}"
wait "$cpid"
read -r _ c _ <"$AW_TMP/client.out"
[ "$c" = 20 ] || aw_fail "client completed $c of 20"
rs_stat "$AW_TMP/c.json" "${W[@]}"
rs_check "$AW_TMP/c.json" "$P" "sum(l['accepts'] for l in ls) == 20" "accepts differ from 20"
echo ok
