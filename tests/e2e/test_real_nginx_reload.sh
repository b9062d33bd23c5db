#!/usr/bin/env bash
# Debian's nginx reloaded after an overflow (two workers, somaxconn 16,
# private network namespace): the socket keeps its lifetime drop count
# across `nginx -s reload`, but the new workers did not exist when the
# drops happened. The shim reads each new worker's baseline at its first
# probe: check 4 s after the reload with a 3 s window passes (exit 0),
# without a state file as with the one a monitoring agent kept from before
# the reload, and says the socket's drops are from before the workers
# first read the count; a new overflow under the new workers is OVERFLOWING
# (somaxconn 16, 40 counted clients). A real Prometheus
# evaluating the shipped rules every second from before the reload fires
# no AcceptQueueOverflow over five evaluations after it.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need curl ss pgrep prometheus
P=18083
d=$AW_TMP/nginx
mkdir -p "$d"
rs_nginx_conf "$d" 2 "listen 127.0.0.1:$P backlog=16; return 200 ok;"
rs_nginx_start "$d" 2
for i in $(seq 6); do curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$P/" || aw_fail "request"; done

# Overflow: master and workers stopped, 40 clients, then resumed.
kill -STOP "$MASTER" "${W[@]}"
"$RS_PY" "$RS_CLIENT" --port "$P" -n 40 --proto http --timeout-ms 20000 >"$AW_TMP/client" &
CPID=$!
aw_register_pid "$CPID"
sleep 1.5
kill -CONT "$MASTER" "${W[@]}"
wait "$CPID" || aw_fail "client: $(cat "$AW_TMP/client")"
drops=$(ss -Htmnl "sport = :$P" | grep -o 'd[0-9]*)' | tr -dc 0-9)
echo "socket drops after the overflow: $drops"
[ "${drops:-0}" -ge 1 ] || aw_fail "no socket drops: $(ss -Htmnl "sport = :$P")"

# The monitoring agent's run before the reload: OVERFLOWING, remembered.
"$AW_REL_TOOL" check --interval 0 --window 3s >"$AW_TMP/c0.txt" 2>&1
rc=$?
[ "$rc" = 2 ] || aw_fail "before the reload: exit $rc, want 2: $(cat "$AW_TMP/c0.txt")"

# A real Prometheus with the shipped rules from here on: the socket's
# lifetime drops are in its first scrape, and must not fire across the
# reload (the socket series has no pid: the new workers continue it).
rs_prometheus
for ((i = 0; i < 200; i++)); do
	rs_query "acceptwatch_socket_drops_total{address=\"127.0.0.1:$P\"} >= $drops" 2>/dev/null |
		grep -q . && break
	sleep 0.1
done
rs_query "acceptwatch_socket_drops_total{address=\"127.0.0.1:$P\"}" | grep -q . ||
	aw_fail "Prometheus has no drops series: $(tail -3 "$AW_TMP/prom.out")"

old=("${W[@]}")
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$d" -c "$d/nginx.conf" -s reload || aw_fail "reload"
for ((i = 0; i < 200; i++)); do
	mapfile -t W < <(pgrep -P "$MASTER")
	[ "${#W[@]}" = 2 ] && ! kill -0 "${old[@]}" 2>/dev/null && break
	sleep 0.05
done
aw_register_pid "${W[@]}"
kill -0 "${old[@]}" 2>/dev/null && aw_fail "old workers still there"
# The new workers serve (their first probes read the socket's old drops).
for i in $(seq 6); do curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$P/" || aw_fail "request"; done
# Five evaluations after the new workers' first scrapes.
for ((i = 0; i < 5; i++)); do
	sleep 1
	rs_query 'ALERTS{alertname="AcceptQueueOverflow"}' >"$AW_TMP/alerts.$i"
	grep -q "^127.0.0.1:$P " "$AW_TMP/alerts.$i" &&
		aw_fail "AcceptQueueOverflow after the reload: $(cat "$AW_TMP/alerts.$i")"
done
rs_query "acceptwatch_socket_drops_total{address=\"127.0.0.1:$P\"}" | grep -q " $drops$" ||
	aw_fail "Prometheus's drops after the reload: $(rs_query acceptwatch_socket_drops_total) (ss said $drops)"
# Without the state file (an agent's first run, or none kept): the new
# workers' own baseline, read by the shim at their first probe, says the
# socket's drops are from before they existed.
"$AW_REL_TOOL" check --state none --interval 0.5 --window 3s >"$AW_TMP/c2.txt" 2>&1
rc=$?
cat "$AW_TMP/c2.txt"
[ "$rc" = 0 ] || aw_fail "new workers after the reload, 3 s window, no state file: exit $rc, want 0: $(cat "$AW_TMP/c2.txt")"
"$AW_REL_TOOL" check --interval 0.5 --window 3s >"$AW_TMP/c1.txt" 2>&1
rc=$?
cat "$AW_TMP/c1.txt"
[ "$rc" = 0 ] || aw_fail "new workers 4 s after the reload, 3 s window: exit $rc, want 0: $(cat "$AW_TMP/c1.txt")"
grep -q "$drops socket drops, all from before the process first read the count" "$AW_TMP/c2.txt" ||
	aw_fail "the drops are not told as before the workers: $(cat "$AW_TMP/c2.txt")"
# The shim's fields: a new worker that accepted read its baseline, the
# socket's old count; none is charged with any.
rs_stat "$AW_TMP/s2.json" "${W[@]}"
rs_check "$AW_TMP/s2.json" "$P" \
	"any(l['socket_drops_baseline'] == $drops for l in ls)" "no new worker's baseline is the socket's $drops drops" \
	"all(l['socket_drops_baseline'] in (None, $drops) for l in ls)" "a baseline other than the socket's $drops" \
	"all(l['own_socket_drops'] == 0 for l in ls)" "a new worker charged with the old drops"

# A true overflow under the new workers is still theirs: OVERFLOWING.
kill -STOP "$MASTER" "${W[@]}"
"$RS_PY" "$RS_CLIENT" --port "$P" -n 40 --proto http --timeout-ms 20000 >"$AW_TMP/client2" &
CPID=$!
aw_register_pid "$CPID"
aw_wait_queue "$P" 17 $((drops + 1))
kill -CONT "$MASTER" "${W[@]}"
wait "$CPID" || aw_fail "client: $(cat "$AW_TMP/client2")"
"$AW_REL_TOOL" check --state none --interval 0 --window 1m >"$AW_TMP/c3.txt" 2>&1
rc=$?
cat "$AW_TMP/c3.txt"
[ "$rc" = 2 ] || aw_fail "a true overflow under the new workers: exit $rc, want 2: $(cat "$AW_TMP/c3.txt")"
grep -q "OVERFLOWING: .* since the process first read the count ($drops before)" "$AW_TMP/c3.txt" ||
	aw_fail "the new drops are not the workers': $(cat "$AW_TMP/c3.txt")"
echo ok
