#!/usr/bin/env bash
# An event loop (non-blocking listener, epoll, accept until EAGAIN) stopped
# while a client waits in its queue, then continued: the connection's wait
# is read and it is a slow event, whatever the loop did before the stop.
#  - a loop that has never accepted (a pre-fork worker that lost every
#    earlier race, as nginx's do): its first call has no previous return
#    to date an absence by, and the listener's first probe is the drops
#    turn; the wait of what it takes is read all the same, the queue too;
#  - the same loop stopped again after it drained (idle in epoll_wait):
#    back past the threshold, its call reads the wait.
# One client each time, so the one call that takes it is the one that must
# read its wait: no sample later in the drain can stand in for it.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"

LD_PRELOAD=$AW_SHIM aw_start_server E --mode epoll --backlog 16
longest=0
for round in 1 2; do
	aw_burst_stopped R "$E_PID" "$E_PORT" 1 1 0
	[ "$R_COMPLETED" = 1 ] || aw_fail "round $round: completed $R_COMPLETED of 1"
	burst=$((R_END - R_START))
	[ "$burst" -gt "$longest" ] && longest=$burst
	"$AW_TOOL" stat --json "$E_PID" >"$AW_TMP/e$round.json"
	cat "$AW_TMP/e$round.json" >&2
	# The client's request was in (aw_wait_unread) 100 ms before SIGCONT
	# at least (less a jiffy); none longer than its round's burst.
	aw_figures "$AW_TMP/e$round.json" round="$round" \
		burst_ms="$burst" longest_ms="$longest" <<'PY'
check("accepts", l["accepts"], round, round)
check("slow_events", l["slow_events"], round, round)
check("queue_wait count", l["queue_wait_ms"]["count"], round, round)
check("queue_wait max", l["queue_wait_ms"]["max"], 90, longest_ms + 10)
check("event_loop", int(l["event_loop"]), 1, 1)
s = l["last_slow"] or {}
check("last slow event's wait", s.get("queue_wait_ms") or 0, 90, burst_ms + 10)
# The call read the queue at entry: the one connection in it.
check("queue peak", l["queue"]["peak"], 1, 1)
PY
done
aw_stop "$E_PID"
echo ok
