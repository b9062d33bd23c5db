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
rs_need ss pgrep
P=18080
D=$AW_TMP/nginx
mkdir -p "$D"
rs_nginx_conf "$D" 2 "listen 127.0.0.1:$P backlog=511; return 200 \"ok\\n\";"
rs_nginx_start "$D" 2
rs_wait_listen "$P" 16
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
