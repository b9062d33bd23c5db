#!/usr/bin/env bash
# check and top judge a verdict window (default 5 minutes; --window here,
# 3 s, to be quick): a listener that overflowed and then stayed quiet past
# the window passes check (exit 0), its overflow told as history
# ("earlier"), and top's STATE and listeners' VERDICT are OK. Within the window it is OVERFLOWING,
# exit 2 (CRITICAL). A server that keeps accepting after the burst (its probes stay
# fresh) clears too: the shim dates the last probe that saw the queue full
# and the last rise of the drops, so even with no state file the overflow
# is history past the window; with check's state file, once the counters
# stood still past the window, every verdict clears (exit 0).
# Private network namespace, somaxconn 16.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

W=3s
overflow() { # PORT: 30 connections on backlog 4 at 20 ms an accept
	"$AW_BIN/burst" --port "$1" -n 30 --timeout-ms 30000 >"$AW_TMP/burst.$1" ||
		aw_fail "burst on $1"
}
check_rc() { # OUT ARGS...: check --json, status in $rc
	local out=$1
	shift
	"$AW_TOOL" check --json --interval 0 --window $W "$@" >"$out"
	rc=$?
	python3 -m json.tool "$out" >/dev/null || aw_fail "$out: not JSON: $(cat "$out")"
}
L="listeners[0]"

# Quiet after the burst.
LD_PRELOAD=$AW_SHIM aw_start_server Q --backlog 4 --delay-ms 20
overflow "$Q_PORT"
check_rc "$AW_TMP/q1.json" "$Q_PID"
[ "$rc" = 2 ] || aw_fail "right after the burst: exit $rc, want 2: $(cat "$AW_TMP/q1.json")"
aw_expect "$AW_TMP/q1.json" "$L['verdict']" overflowing
aw_expect "$AW_TMP/q1.json" "verdict_window_ns" 3000000000
aw_range "$AW_TMP/q1.json" "$L['verdicts'][0]['facts']['drops']" 1 100000
sleep 3.5
# First with no memory at all: the segment alone dates the quiet server's
# overflow (at the latest its last probe, past the window).
check_rc "$AW_TMP/q2.json" --state none "$Q_PID"
[ "$rc" = 0 ] || aw_fail "quiet past the window (no state): exit $rc, want 0: $(cat "$AW_TMP/q2.json")"
aw_expect "$AW_TMP/q2.json" "$L['verdict']" ok
aw_expect "$AW_TMP/q2.json" "[e['verdict'] for e in $L['earlier']][0]" overflowing
"$AW_TOOL" check --interval 0 --window $W "$Q_PID" >"$AW_TMP/q2.txt"
[ $? = 0 ] || aw_fail "text: exit not 0: $(cat "$AW_TMP/q2.txt")"
grep -q "^pid $Q_PID (server) .*: OK$" "$AW_TMP/q2.txt" || aw_fail "text headline: $(cat "$AW_TMP/q2.txt")"
grep -q "^  OK  within the last 3.00s" "$AW_TMP/q2.txt" || aw_fail "text window: $(cat "$AW_TMP/q2.txt")"
grep -q "^  earlier, OVERFLOWING: .*last rose .* ago or earlier, before the 3.00s window" "$AW_TMP/q2.txt" ||
	aw_fail "text history: $(cat "$AW_TMP/q2.txt")"
# No window: the whole history judged, as before.
"$AW_TOOL" check --interval 0 --window 0 "$Q_PID" >/dev/null
[ $? = 2 ] || aw_fail "--window 0: exit not 2"
"$AW_TOOL" top --once --interval 0.2 --window $W >"$AW_TMP/top.txt" || aw_fail "top exited $?"
grep -Eq "^OK +$Q_PID " "$AW_TMP/top.txt" || aw_fail "top STATE: $(cat "$AW_TMP/top.txt")"
"$AW_TOOL" top --once --interval 0.2 --window 0 >"$AW_TMP/top0.txt" || aw_fail "top exited $?"
grep -Eq "^OVERFLOWING +$Q_PID " "$AW_TMP/top0.txt" || aw_fail "top STATE, no window: $(cat "$AW_TMP/top0.txt")"
# listeners' VERDICT column: the same judgement.
"$AW_TOOL" listeners --window $W >"$AW_TMP/l.txt" || aw_fail "listeners exited $?"
grep -Eq ":$Q_PORT .* OK +$Q_PID/server$" "$AW_TMP/l.txt" || aw_fail "listeners verdict: $(cat "$AW_TMP/l.txt")"
"$AW_TOOL" listeners --window 0 >"$AW_TMP/l0.txt" || aw_fail "listeners exited $?"
grep -Eq ":$Q_PORT .* OVERFLOWING +$Q_PID/server$" "$AW_TMP/l0.txt" || aw_fail "listeners verdict, no window: $(cat "$AW_TMP/l0.txt")"
aw_stop "$Q_PID"

# Busy after the burst: one connection every 50 ms keeps the probes fresh.
LD_PRELOAD=$AW_SHIM aw_start_server B --backlog 4 --delay-ms 20
overflow "$B_PORT"
(while :; do "$AW_BIN/burst" --port "$B_PORT" -n 1 >/dev/null; sleep 0.05; done) &
aw_register_pid $!
check_rc "$AW_TMP/b1.json" "$B_PID"
[ "$rc" = 2 ] || aw_fail "busy, right after the burst: exit $rc, want 2"
sleep 3.5
check_rc "$AW_TMP/b2.json" --state none "$B_PID"
# The shim dates the last probe that saw the queue full and the last rise
# of the drops: the burst is history, even with fresh probes and no state.
[ "$rc" != 2 ] || aw_fail "busy, no state: exit 2, the dated burst judged now: $(cat "$AW_TMP/b2.json")"
aw_expect "$AW_TMP/b2.json" "'overflowing' in [e['verdict'] for e in $L['earlier']]" True
aw_expect "$AW_TMP/b2.json" "'overflowing' in [v['verdict'] for v in $L['verdicts']]" False
echo "busy, no state, 3.5 s after the burst: exit $rc, verdicts $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([v["verdict"] for v in d["listeners"][0]["verdicts"]])' "$AW_TMP/b2.json")"
check_rc "$AW_TMP/b3.json" "$B_PID"
[ "$rc" = 0 ] || aw_fail "busy, counters still since the last check: exit $rc, want 0: $(cat "$AW_TMP/b3.json")"
aw_expect "$AW_TMP/b3.json" "[e['verdict'] for e in $L['earlier']][0]" overflowing
[ -f "$XDG_STATE_HOME/acceptwatch/check.state" ] || aw_fail "no state file"
# A new overflow is judged at once again.
overflow "$B_PORT"
check_rc "$AW_TMP/b4.json" "$B_PID"
[ "$rc" = 2 ] || aw_fail "busy, a new burst: exit $rc, want 2"
aw_stop "$B_PID"

# A state file that is not ours is refused, said on one line, not used.
ln -s /etc/passwd "$AW_TMP/link.state"
"$AW_TOOL" check --interval 0 --state "$AW_TMP/link.state" >/dev/null 2>"$AW_TMP/e"
grep -q "state file .*link.state: a symbolic link, not followed; not used" "$AW_TMP/e" ||
	aw_fail "planted state file: $(cat "$AW_TMP/e")"
"$AW_TOOL" check --window 5x >/dev/null 2>&1
[ $? = 3 ] || aw_fail "bad --window: want exit 3"
echo PASS
