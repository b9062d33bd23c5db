#!/usr/bin/env bash
# Debian's nginx with `listen ... reuseport deferred`: one SO_REUSEPORT
# listener per worker (all made by the master, each worker accepting on its
# own), and TCP_DEFER_ACCEPT set on them. Each socket's accepts come from
# one worker only, they add up to what the clients completed, and the
# reader says TCP_DEFER_ACCEPT is on.
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
rs_need python3 ss pgrep
P=18090 WORKERS=2
D=$AW_TMP/nginx
mkdir -p "$D"
rs_nginx_conf "$D" "$WORKERS" \
	"listen 127.0.0.1:$P reuseport deferred backlog=64; return 200 \"ok\\n\";"
ACCEPTWATCH_LOG=$D/aw.log rs_nginx_start "$D" "$WORKERS"
rs_wait_listen "$P" 16
[ "$(ss -Hltn "sport = :$P" | wc -l)" = "$WORKERS" ] ||
	aw_fail "not one socket per worker: $(ss -Hltn)"

# Connections until both workers have accepted (the kernel picks the socket
# by a hash of the client's address and port).
done_total=0
for ((i = 0; i < 20; i++)); do
	rs_client c "$P" 20 http
	done_total=$((done_total + c))
	rs_stat "$AW_TMP/r.json" "${W[@]}"
	[ "$(rs_q "$AW_TMP/r.json" "$P" "len({p for p, l in zip(ps, ls) if l['accepts']})")" = "$WORKERS" ] && break
done
cat "$AW_TMP/r.json" >&2
rs_check "$AW_TMP/r.json" "$P" \
	"sum(l['accepts'] for l in ls) == $done_total" "accepts differ from the $done_total clients" \
	"all(l['effective_backlog'] == 16 and l['requested_backlog'] == 64 and l['clamped'] for l in ls)" "backlogs" \
	"len({l['ino'] for l in ls if l['accepts']}) == $WORKERS" "not $WORKERS sockets accepting" \
	"all(len([l for l in ls if l['ino'] == i and l['accepts']]) <= 1 for i in {l['ino'] for l in ls})" "a socket accepted in two workers" \
	"all(l.get('defer_accept') for l in ls if l['accepts'])" "TCP_DEFER_ACCEPT not reported"
"$AW_REL_TOOL" stat "${W[@]}" | grep -q "TCP_DEFER_ACCEPT" || aw_fail "text lacks TCP_DEFER_ACCEPT"
echo "reuseport: $done_total connections over ${W[*]}"
kill -QUIT "$MASTER"
