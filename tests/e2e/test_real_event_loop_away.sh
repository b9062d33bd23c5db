#!/usr/bin/env bash
# "Away" is time a connection could wait while the accept loop was
# elsewhere. An event loop (nonblocking listener, accept then back to
# epoll_wait) idles between accepts: that time is no time away, and the
# shim cannot tell it apart. Debian's nginx (one worker, six sequential
# requests 0.3 s apart: no connection ever waited) and redis-server (accepts
# until EAGAIN, then idles), private network namespace:
#  - the listener is flagged an event loop's (JSON "event_loop");
#  - stat says "between accepts (event loop)", not "away" (nginx's would be
#    p50 ~300 ms of pure idle); top's AWAY99 is "-";
#  - a real slow event (the worker stopped while a client waits in the
#    queue): SLOW ACCEPT LOOP from the queue wait, its evidence names no
#    "away from accept" figure (check --json: away_p99_ns null);
#  - the last slow event's time away agrees with the away histogram: redis
#    had drained the queue and idled ~1 s before, so its time away is
#    unknown (null), never the idle second its histogram does not hold.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"
aw_enter_private_shm "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need curl ss pgrep redis-server

# A connection kept waiting in PORT's queue while PID is stopped, past the
# 50 ms slow threshold; PROTO as client.py speaks it.
stopped_wait() {
	local port=$1 pid=$2 proto=$3 cpid
	aw_sigstop "$pid"
	"$RS_PY" "$RS_CLIENT" --port "$port" -n 1 --proto "$proto" --timeout-ms 15000 >"$AW_TMP/sw.out" &
	cpid=$!
	aw_register_pid "$cpid"
	aw_wait_queue "$port" 1
	sleep 0.2 # at least: the connection waits past 50 ms however late we are
	kill -CONT "$pid"
	wait "$cpid" || aw_fail "client: $(cat "$AW_TMP/sw.out")"
}

P=18091
d=$AW_TMP/nginx
mkdir -p "$d"
rs_nginx_conf "$d" 1 "listen 127.0.0.1:$P; return 200 ok;"
rs_nginx_start "$d" 1
for i in $(seq 6); do
	curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$P/" || aw_fail "request"
	sleep 0.3
done
rs_stat "$AW_TMP/n.json" "${W[0]}"
rs_check "$AW_TMP/n.json" "$P" \
	"len(ls) == 1 and ls[0]['accepts'] == 6" "not 6 accepts on one row" \
	"ls[0]['event_loop'] is True" "nginx's listener not flagged an event loop's"
"$AW_REL_TOOL" stat "${W[0]}" >"$AW_TMP/n.txt" 2>&1
grep -q "^    between accepts (event loop) p50 " "$AW_TMP/n.txt" ||
	aw_fail "stat does not say between accepts: $(cat "$AW_TMP/n.txt")"
grep -q "^    away " "$AW_TMP/n.txt" && aw_fail "stat calls nginx's idle time away: $(cat "$AW_TMP/n.txt")"
"$AW_REL_TOOL" top --once --interval 0.2 >"$AW_TMP/top.txt" 2>&1 || aw_fail "top: $(cat "$AW_TMP/top.txt")"
# STATE PID first; GAP99 AWAY99 WAIT99 SLOW/s DROP/s end the row: AWAY99 is
# the 4th from the end.
awk -v p="${W[0]}" '$2 == p { print $(NF - 3) }' "$AW_TMP/top.txt" | grep -qx -- - ||
	aw_fail "top shows an AWAY99 for nginx: $(cat "$AW_TMP/top.txt")"

stopped_wait "$P" "${W[0]}" http
"$AW_REL_TOOL" check --state none --interval 0 "${W[0]}" >"$AW_TMP/n.check" 2>&1
cat "$AW_TMP/n.check"
grep -q "SLOW ACCEPT LOOP: [0-9]* slow event" "$AW_TMP/n.check" ||
	aw_fail "no SLOW ACCEPT LOOP for a connection kept waiting: $(cat "$AW_TMP/n.check")"
grep -q "away from accept" "$AW_TMP/n.check" &&
	aw_fail "SLOW evidence quotes nginx's idle time as away: $(cat "$AW_TMP/n.check")"
grep -q "an event loop (time between accepts is not time away)" "$AW_TMP/n.check" ||
	aw_fail "SLOW evidence does not say event loop: $(cat "$AW_TMP/n.check")"
"$AW_REL_TOOL" check --json --state none --interval 0 "${W[0]}" >"$AW_TMP/n.check.json" 2>&1
"$RS_PY" - "$AW_TMP/n.check.json" <<'PY' || aw_fail "check --json quotes an away figure: $(cat "$AW_TMP/n.check.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
f = [v["facts"] for l in doc["listeners"] for v in l["verdicts"]
     if v["verdict"] == "slow_accept_loop"]
assert f and all(x["event_loop"] is True and x["away_p99_ns"] is None
                 and x["away_max_ns"] is None for x in f), f
PY
rs_stat "$AW_TMP/n2.json" "${W[0]}"
rs_check "$AW_TMP/n2.json" "$P" \
	"ls[0]['last_slow'] is not None" "no last slow event" \
	"ls[0]['last_slow']['away_ns'] is None or ls[0]['last_slow']['away_ns'] <= ls[0]['away_ns']['max']" \
	"the slow event's time away is not in the histogram"

R=16391
REDIS=$(command -v redis-server)
rs_start R "$R" "$REDIS" --port "$R" --bind 127.0.0.1 --save '' \
	--appendonly no --daemonize no --dir "$AW_TMP"
rs_client c "$R" 5 redis
sleep 1 # idle, drained: what a time away since the last return would count
stopped_wait "$R" "$R_PID" redis
rs_stat "$AW_TMP/r.json" "$R_PID"
rs_check "$AW_TMP/r.json" "$R" \
	"ls[0]['event_loop'] is True" "redis's listener not flagged an event loop's" \
	"ls[0]['slow_events'] >= 1 and ls[0]['last_slow'] is not None" "no slow event" \
	"ls[0]['last_slow']['queue_wait_ms'] >= 150" "the slow event's queue wait is not the stop" \
	"ls[0]['last_slow']['away_ns'] is None or ls[0]['last_slow']['away_ns'] <= ls[0]['away_ns']['max']" \
	"the slow event's time away is not in the histogram (idle after a drain taken as away)"
echo "redis slow event: $(rs_q "$AW_TMP/r.json" "$R" "ls[0]['last_slow']"), away max $(rs_q "$AW_TMP/r.json" "$R" "ls[0]['away_ns']['max']") ns"
"$AW_REL_TOOL" stat "$R_PID" | grep -q "last at .*: between accepts ?, queue wait" ||
	aw_fail "stat's slow event line: $("$AW_REL_TOOL" stat "$R_PID")"
echo ok
