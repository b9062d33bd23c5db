#!/usr/bin/env bash
# Advice follows the cause, on Debian's redis-server (tcp-backlog 511) in a
# private network namespace with somaxconn 8, stopped twice with SIGSTOP
# (a debugger, a paused VM) while clients connect:
#  - BACKLOG SMALL: redis already asks for 511; somaxconn cut it to 8, so
#    the fix is somaxconn (to 511), never "raise the listen backlog";
#  - SLOW ACCEPT LOOP while the process is stopped: resume it (kill -CONT),
#    never "hand each connection to a worker";
#  - STALLED and OVERFLOWING (the queue past its backlog behind the
#    stopped process): resume it.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 8 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need redis-server ss
P=16380
rs_start R "$P" "$(command -v redis-server)" --port "$P" --bind 127.0.0.1 \
	--tcp-backlog 511 --save '' --appendonly no --daemonize no --dir "$AW_TMP"
rs_client c "$P" 1 redis

stop_and_fill() { # stop redis, queue 9 connections (backlog 8 + 1)
	kill -STOP "$R_PID"
	"$RS_PY" "$RS_CLIENT" --port "$P" -n 9 --proto redis --timeout-ms 20000 \
		>"$AW_TMP/client.$1" &
	CPID=$!
	aw_register_pid "$CPID"
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$P" | grep -q "^LISTEN *9 " && return 0
		sleep 0.05
	done
	aw_fail "9 connections not queued: $(ss -Hltn "sport = :$P")"
}

# First pause: the waits become slow events.
stop_and_fill 1
sleep 0.3
kill -CONT "$R_PID"
wait "$CPID" || aw_fail "client after the first pause: $(cat "$AW_TMP/client.1")"

# Second pause, judged while stopped.
stop_and_fill 2
"$AW_REL_TOOL" check --interval 0 --state none "$R_PID" >"$AW_TMP/c.txt" 2>&1
rc=$?
cat "$AW_TMP/c.txt"
kill -CONT "$R_PID"
wait "$CPID"
[ "$rc" = 2 ] || aw_fail "stopped redis: exit $rc, want 2"
for v in STALLED OVERFLOWING "SLOW ACCEPT LOOP" "BACKLOG SMALL" CLAMPED; do
	grep -q "^  $v: " "$AW_TMP/c.txt" || aw_fail "no $v: $(cat "$AW_TMP/c.txt")"
done
fix_of() { # VERDICT: its fix line
	awk -v v="  $1: " 'index($0, v) == 1 {getline; print; exit}' "$AW_TMP/c.txt"
}
f=$(fix_of "BACKLOG SMALL")
case $f in
*"raise the listen backlog"*) aw_fail "BACKLOG SMALL tells redis (asking 511) to raise its backlog: $f" ;;
esac
grep -q "already asks for a backlog of 511, net.core.somaxconn = 8 cut it: sysctl -w net.core.somaxconn=511" <<<"$f" ||
	aw_fail "BACKLOG SMALL fix is not somaxconn: $f"
f=$(fix_of "SLOW ACCEPT LOOP")
case $f in
*"hand each connection to a worker"*) aw_fail "SLOW ACCEPT LOOP of a stopped process: $f" ;;
esac
grep -q "stopped now .*kill -CONT $R_PID" <<<"$f" || aw_fail "SLOW ACCEPT LOOP fix does not resume: $f"
grep -q "kill -CONT $R_PID" <<<"$(fix_of STALLED)" || aw_fail "STALLED fix: $(fix_of STALLED)"
# The queue past its backlog now: OVERFLOWING too, and its fix resumes.
f=$(fix_of OVERFLOWING)
case $f in
*"raise the backlog"*) aw_fail "OVERFLOWING of a stopped, clamped redis: $f" ;;
esac
grep -q "stopped now .*kill -CONT $R_PID" <<<"$f" || aw_fail "OVERFLOWING fix does not resume: $f"
echo ok
