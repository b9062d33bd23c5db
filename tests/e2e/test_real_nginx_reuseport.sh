#!/usr/bin/env bash
# Debian's nginx with `listen ... reuseport deferred`: one SO_REUSEPORT
# listener per worker (all made by the master, each worker accepting on its
# own), and TCP_DEFER_ACCEPT set on them. Each socket's accepts come from
# one worker only, they add up to what the clients completed, and the
# reader says TCP_DEFER_ACCEPT is on. The handshake ACKs it discards show in
# the sockets' drop counts but are not called an overflow; a real overflow
# on the same sockets is.
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

# TCP_DEFER_ACCEPT discards the bare ACK that ends each handshake and counts
# it among the socket's drops (the namespace counts the same packets as
# TcpExtTCPDeferAcceptDrop): drops rise with no overflow at all, and must
# not read as one.
defer_drops() {
	awk '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) if ($i == "TCPDeferAcceptDrop") c = i; n = 1 } else print $c }' /proc/net/netstat
}
socket_drops=$(rs_q "$AW_TMP/r.json" "$P" "sum({l['ino']: l['drops'] for l in ls}.values())")
deferred=$(defer_drops)
[ "$socket_drops" -ge 1 ] && [ "$deferred" = "$socket_drops" ] ||
	aw_fail "socket drops $socket_drops, TcpExtTCPDeferAcceptDrop $deferred"
# The master, which set the option and never accepts, included.
"$AW_REL_TOOL" check "$MASTER" "${W[@]}" >"$AW_TMP/check.txt"
grep -q OVERFLOWING "$AW_TMP/check.txt" &&
	aw_fail "deferred ACKs read as overflow: $(cat "$AW_TMP/check.txt")"
grep -q "CLAMPED" "$AW_TMP/check.txt" || aw_fail "check: $(cat "$AW_TMP/check.txt")"
echo "deferred: $socket_drops socket drops = $deferred TcpExtTCPDeferAcceptDrop, no OVERFLOWING"

# A real overflow on the same sockets still is one: the workers stopped,
# clients that send their request at once fill both queues.
kill -STOP "${W[@]}"
"$RS_PY" "$RS_CLIENT" --port "$P" -n 80 --proto http --timeout-ms 20000 \
	>"$AW_TMP/flood" &
cpid=$!
aw_register_pid "$cpid"
sleep 1.5
"$AW_REL_TOOL" check --json "${W[@]}" >"$AW_TMP/ov.json"
kill -CONT "${W[@]}"
wait "$cpid"
read -r _ c _ failed <"$AW_TMP/flood"
[ "$c" = 80 ] || aw_fail "client completed $c of 80 after SIGCONT (failed $failed)"
python3 - "$AW_TMP/ov.json" "$P" <<'PY' || aw_fail "no OVERFLOWING while stopped: $(cat "$AW_TMP/ov.json")"
import json, sys
d = json.load(open(sys.argv[1]))
port = sys.argv[2]
def rows(x):
    if isinstance(x, dict):
        if "verdicts" in x:
            yield x
        for v in x.values():
            yield from rows(v)
    elif isinstance(x, list):
        for v in x:
            yield from rows(v)
mine = [r for r in rows(d) if r["address"].endswith(":" + port)]
over = [r for r in mine
        if any(v["name"] == "OVERFLOWING" for v in r["verdicts"])]
sys.exit(not (len(mine) >= 2 and len(over) == len(mine)))
PY
echo "deferred: stopped workers, 80 clients: every row OVERFLOWING"
kill -QUIT "$MASTER"
