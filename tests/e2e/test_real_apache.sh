#!/usr/bin/env bash
# Stock apache2 (Debian's own configuration, copied to a private directory,
# only its port and run directories changed; mpm_event, AcceptFilter http
# data: TCP_DEFER_ACCEPT) under the shim in a private network namespace.
# Ten ordinary curl requests make socket drops (the data-less handshake
# ACKs TCP_DEFER_ACCEPT discards), and none of it is an overflow:
#  - check: exit 0, and its OK line tells the socket drops instead of
#    "no socket drop" while ss shows them;
#  - the Prometheus series marks the socket (acceptwatch_socket_defer_accept);
#  - a real Prometheus evaluating dist/prometheus/acceptwatch-rules.yml
#    every second sees the drops rise (its own increase() > 0) and fires no
#    AcceptQueueOverflow; a server that truly overflows, scraped by the
#    same Prometheus, fires it.
# The shipped rule has no `for:`: it fires at the first evaluation whose
# 5-minute increase is positive, and that increase covers the whole run:
# each 1 s evaluation after the drops are scraped (the test waits until
# Prometheus's own increase() shows them) decides as an evaluation within
# a 60 s run at the default interval would; five of them show it.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need curl prometheus
[ -x /usr/sbin/apache2 ] && [ -d /etc/apache2 ] || aw_skip "apache2 is not installed (make deps)"

# A real Prometheus scraping the exporter, with the shipped rules.
rs_prometheus

# apache2 starts while Prometheus does.
port=18082
d=$AW_TMP/apache2
cp -rL /etc/apache2 "$d" || aw_fail "cannot copy /etc/apache2"
mkdir -p "$d/run" "$d/lock" "$d/log"
printf 'Listen 127.0.0.1:%s\n' "$port" >"$d/ports.conf"
sed -i "s/<VirtualHost \*:80>/<VirtualHost *:$port>/" "$d/sites-enabled/000-default.conf"
APACHE_CONFDIR=$d APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data \
	APACHE_PID_FILE=$d/run/apache2.pid APACHE_RUN_DIR=$d/run \
	APACHE_LOCK_DIR=$d/lock APACHE_LOG_DIR=$d/log LANG=C \
	rs_start A "$port" /usr/sbin/apache2 -d "$d" -f "$d/apache2.conf" -DFOREGROUND
grep -rq "AcceptFilter" "$d" && aw_fail "the copied configuration sets AcceptFilter: not stock"

for ((i = 0; i < 200; i++)); do
	rs_query "acceptwatch_socket_defer_accept{address=\"127.0.0.1:$port\"}" 2>/dev/null |
		grep -q " 1$" && break
	sleep 0.1
done
rs_query "acceptwatch_socket_defer_accept{address=\"127.0.0.1:$port\"}" | grep -q " 1$" ||
	aw_fail "no defer-accept series for apache: $(rs_query acceptwatch_socket_defer_accept) $(tail -3 "$AW_TMP/prom.out")"

for i in $(seq 10); do
	curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$port/" || aw_fail "request $i failed"
done
sleep 1
drops=$(ss -Htmnl "sport = :$port" | grep -o 'd[0-9]*)' | tr -dc 0-9)
echo "apache: ss socket drops after 10 requests: $drops"
[ "${drops:-0}" -ge 1 ] || aw_fail "no socket drops under TCP_DEFER_ACCEPT: $(ss -Htmnl "sport = :$port")"

pids=$(pgrep -d ' ' -f "apache2 -d $d")
"$AW_REL_TOOL" check --interval 0 --state none $pids >"$AW_TMP/check.txt" 2>&1
rc=$?
cat "$AW_TMP/check.txt"
[ "$rc" = 0 ] || aw_fail "check on stock apache2: exit $rc, want 0: $(cat "$AW_TMP/check.txt")"
grep -q "no socket drop" "$AW_TMP/check.txt" &&
	aw_fail "check says no socket drop while ss shows $drops: $(cat "$AW_TMP/check.txt")"
grep -q "[0-9] socket drops\? (TCP_DEFER_ACCEPT on" "$AW_TMP/check.txt" ||
	aw_fail "check does not tell the defer-accept drops: $(cat "$AW_TMP/check.txt")"

# A server that truly overflows: backlog 4, 30 connections at 20 ms an
# accept.
LD_PRELOAD=$AW_SHIM aw_start_server O --backlog 4 --delay-ms 20
"$AW_BIN/burst" --port "$O_PORT" -n 30 --timeout-ms 30000 >/dev/null &
aw_register_pid $!

# Five evaluations after both servers' drops are in Prometheus.
for ((i = 0; i < 100; i++)); do
	rs_query "increase(acceptwatch_socket_drops_total{address=\"127.0.0.1:$port\"}[5m]) > 0" | grep -q . &&
		rs_query "increase(acceptwatch_socket_drops_total{address=\"127.0.0.1:$O_PORT\"}[5m]) > 0" | grep -q . &&
		break
	sleep 0.2
done
rs_query "increase(acceptwatch_socket_drops_total{address=\"127.0.0.1:$port\"}[5m]) > 0" | grep -q . ||
	aw_fail "Prometheus never saw apache's drops rise: $(rs_query acceptwatch_socket_drops_total)"
fired=0
for ((i = 0; i < 5; i++)); do
	sleep 1
	rs_query 'ALERTS{alertname="AcceptQueueOverflow"}' >"$AW_TMP/alerts.$i"
	grep -q "^127.0.0.1:$port " "$AW_TMP/alerts.$i" &&
		aw_fail "AcceptQueueOverflow for stock apache2: $(cat "$AW_TMP/alerts.$i")"
	grep -q "^127.0.0.1:$O_PORT firing" "$AW_TMP/alerts.$i" && fired=$((fired + 1))
done
cat "$AW_TMP/alerts.4"
[ "$fired" -ge 1 ] || aw_fail "the overflowing server never fired AcceptQueueOverflow: $(cat "$AW_TMP/alerts.4")"
echo "apache: no alert over 5 evaluations; overflowing server: firing in $fired of them"
echo ok
