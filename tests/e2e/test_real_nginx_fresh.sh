#!/usr/bin/env bash
# Debian's nginx under the release shim, stopped before any worker has
# accepted: a worker that is stuck from its start is exactly the one to
# see. Forked children write no segment until they listen or accept (those
# that exec or exit first must leave nothing), and nginx's master is a
# daemon child that never does either: no process of the pool has a
# segment yet. The reader still sees the listener STALLED through the
# socket's holders: the queue full and every process holding the socket
# stopped. Once resumed, each worker that accepts gets its segment, with
# the listener as the parent knew it: requested 511, effective 16, CLAMPED.
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
for p in "$MASTER" "${W[@]}"; do
	[ -e "/dev/shm/acceptwatch.$p" ] &&
		aw_fail "process $p has a segment before any accept"
done
"$AW_REL_TOOL" listeners --json >"$AW_TMP/l.json" || aw_fail "listeners failed"
"$RS_PY" - "$AW_TMP/l.json" "$P" "$MASTER" "${W[@]}" <<'PY' || aw_fail "listeners: $(cat "$AW_TMP/l.json")"
import json, sys
d = json.load(open(sys.argv[1]))
port, pids = int(sys.argv[2]), sorted(map(int, sys.argv[3:]))
rows = [r for r in d["listeners"] if r["port"] == port]
assert len(rows) == 1, rows
r = rows[0]
assert r["recv_q"] == 17 and r["send_q"] == 16, r
assert sorted(o["pid"] for o in r["owners"]) == pids, r["owners"]
assert all(o["stopped"] for o in r["owners"]), r["owners"]
assert r["stalled_by_holders"] is True, r
PY
"$AW_REL_TOOL" listeners | grep -q "STALLED (holders stopped)" ||
	aw_fail "listeners text: $("$AW_REL_TOOL" listeners)"
kill -CONT "$MASTER" "${W[@]}"
wait "$cpid"
read -r _ c _ <"$AW_TMP/client.out"
[ "$c" = 20 ] || aw_fail "client completed $c of 20"
rs_stat "$AW_TMP/c.json" "${W[@]}"
rs_check "$AW_TMP/c.json" "$P" "sum(l['accepts'] for l in ls) == 20" "accepts differ from 20" \
	"all(l['requested_backlog'] == 511 and l['effective_backlog'] == 16 and l['clamped'] for l in ls)" \
	"not requested 511 / effective 16 / CLAMPED"
echo ok
