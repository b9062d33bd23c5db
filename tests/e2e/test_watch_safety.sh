#!/usr/bin/env bash
# acceptwatch watch is never intrusive and says what it cannot know:
#  - an epoll_wait(-1) + accept target watched at --hz 1000 sees no EINTR
#    (a ptrace stop would make epoll_wait return one: strace, the control,
#    shows the count can rise), its maps do not change, TracerPid stays 0;
#  - another uid's server: socket-level figures, one line saying thread
#    states are unavailable, exit 0;
#  - the same uid without root: thread states;
#  - a stopped server with waiting connections: STALLED, and how long it
#    was stopped;
#  - the text report's thread lines, the live line on a terminal only, and
#    usage errors.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

U=65534
aw_public "$AW_TOOL" "$AW_BIN/watch_target"
chmod 0755 "$AW_TMP"
nobody() { setpriv --reuid $U --regid $U --clear-groups "$@"; }
CLIENT="$AW_ROOT/tests/e2e/watch_client.py"
# Until the accept queue of 127.0.0.1:PORT holds N (the client's python
# may take a second to start on a busy machine), 20 s at most.
wait_queue() {
	local q i
	for ((i = 0; i < 400; i++)); do
		q=$(ss -Hltn "sport = :$1" | awk '{print $2}')
		[ "${q:-0}" -ge "$2" ] && return 0
		sleep 0.05
	done
	aw_fail "the queue of port $1 never reached $2"
}
T=$AW_BIN/watch_target
W=$AW_PUB/acceptwatch

# --- non-intrusion -------------------------------------------------------
aw_start E "$T" --epoll --idle-threads 2
maps_before=$(md5sum <"/proc/$E_PID/maps")
"$W" watch --hz 1000 --for 3 --json "$E_PID" >"$AW_TMP/e.json" &
WP=$!
python3 "$CLIENT" --port "$E_PORT" --rate 20 --seconds 2 >"$AW_TMP/e.client" &
CL=$!
tracers=""
for _ in $(seq 25); do
	tracers+="$(awk '/^TracerPid/ {print $2}' "/proc/$E_PID/status") "
	sleep 0.1
done
wait "$WP" || aw_fail "watch --hz 1000 failed"
wait "$CL"
maps_after=$(md5sum <"/proc/$E_PID/maps")
aw_stop "$E_PID"
cat "$E_OUT" "$AW_TMP/e.client" >&2
[ "$(echo $tracers | tr ' ' '\n' | sort -u)" = 0 ] || aw_fail "TracerPid seen: $tracers"
[ "$maps_before" = "$maps_after" ] || aw_fail "/proc/PID/maps changed during the watch"
grep -q "^completed 40 failed 0" "$AW_TMP/e.client" || aw_fail "clients not all served"
grep -q "^accepted 40 .* eintr 0$" "$E_OUT" || aw_fail "the target saw EINTR or lost accepts: $(tail -1 "$E_OUT")"
# As many as the machine allows (a busy one, under ASan, falls behind
# 1000 Hz): far more than the default rate would take, never more than asked.
aw_range "$AW_TMP/e.json" "processes[0]['sampled']['samples']" 300 3100
aw_expect "$AW_TMP/e.json" \
	"any('epoll' in s['call'] for t in processes[0]['sampled']['threads'] for s in t['states'])" True
aw_expect "$AW_TMP/e.json" \
	"processes[0]['sampled']['listeners'][0]['edge_triggered']" False
# The control: a ptrace attach does make the same target's epoll_wait
# return EINTR, so the count above could have risen.
aw_start X "$T" --epoll
timeout 1 strace -p "$X_PID" -e trace=none -o /dev/null 2>/dev/null
aw_stop "$X_PID"
grep -q "eintr [1-9]" "$X_OUT" || aw_fail "control: strace caused no EINTR ($(tail -1 "$X_OUT"))"

# --- another uid: socket-level figures only ------------------------------
aw_start R "$T" --backlog 16 --sleep-ms 100
python3 "$CLIENT" --port "$R_PORT" --rate 30 --seconds 1 >"$AW_TMP/r.client" &
CL=$!
wait_queue "$R_PORT" 3
nobody "$W" watch --for 2 "$R_PID" >"$AW_TMP/r.txt" 2>"$AW_TMP/r.err" ||
	aw_fail "watch of another uid's server exit $?: $(cat "$AW_TMP/r.err")"
nobody "$W" watch --for 0.5 --json "$R_PID" >"$AW_TMP/r.json" ||
	aw_fail "watch --json of another uid's server failed"
wait "$CL"
cat "$AW_TMP/r.txt" >&2
[ "$(grep -c 'thread states unavailable' "$AW_TMP/r.txt")" = 1 ] ||
	aw_fail "not one line saying thread states are unavailable"
grep -q "^  tid " "$AW_TMP/r.txt" && aw_fail "thread lines for another uid's server"
grep -q "backlog requested ? effective 16" "$AW_TMP/r.txt" ||
	aw_fail "no socket-level backlog for another uid's server"
grep -Eq "queue now [0-9]+  peak ([1-9][0-9]*)" "$AW_TMP/r.txt" ||
	aw_fail "no queue figures"
aw_expect "$AW_TMP/r.json" "processes[0]['sampled']['threads_known']" False
aw_expect "$AW_TMP/r.json" "processes[0]['sampled']['threads']" "[]"
aw_expect "$AW_TMP/r.json" "processes[0]['listeners'][0]['effective_backlog']" 16
aw_stop "$R_PID"

# --- the same uid, not root: thread states -------------------------------
setpriv --reuid $U --regid $U --clear-groups "$AW_PUB/watch_target" \
	--backlog 16 --sleep-ms 100 >"$AW_TMP/n.out" 2>&1 &
N_PID=$!
aw_register_pid "$N_PID"
for _ in $(seq 100); do [ -s "$AW_TMP/n.out" ] && break; sleep 0.05; done
read -r _ N_PORT <"$AW_TMP/n.out"
python3 "$CLIENT" --port "$N_PORT" --rate 20 --seconds 1 >/dev/null &
CL=$!
wait_queue "$N_PORT" 2
nobody "$W" watch --for 2 "$N_PID" >"$AW_TMP/n.txt" || aw_fail "same-uid watch failed"
wait "$CL"
cat "$AW_TMP/n.txt" >&2
grep -q "thread states unavailable" "$AW_TMP/n.txt" && aw_fail "same uid: thread states refused"
# tid N  comm  asleep in clock_nanosleep NN%  in accept on fd 3 NN%
grep -Eq "^  tid +$N_PID +watch_target .*(asleep in clock_nanosleep|in accept).* [0-9]+%" "$AW_TMP/n.txt" ||
	aw_fail "no thread line with its states and shares"
grep -q "SLOW ACCEPT LOOP" "$AW_TMP/n.txt" || aw_fail "no slow-loop verdict"
grep -Eq "away from accept [0-9.]+ms per accept" "$AW_TMP/n.txt" || aw_fail "no time away"
aw_stop "$N_PID"

# --- a stopped server -----------------------------------------------------
aw_start S "$T" --backlog 16
aw_sigstop "$S_PID"
python3 "$CLIENT" --port "$S_PORT" --rate 10 --seconds 0.5 >/dev/null &
CL=$!
aw_register_pid "$CL"
wait_queue "$S_PORT" 5
"$W" watch --for 1 "$S_PID" >"$AW_TMP/s.txt" || aw_fail "watch of a stopped server failed"
cat "$AW_TMP/s.txt" >&2
grep -q "STALLED: 5 connections waiting now, the process is stopped" "$AW_TMP/s.txt" ||
	aw_fail "no STALLED verdict for the stopped server"
grep -Eq "stopped ([0-9]+ms|1\.[0-9]+s) of ([0-9]+ms|1\.[0-9]+s) \(100\.0% of samples\), and stopped now" "$AW_TMP/s.txt" ||
	aw_fail "how long it was stopped is not said"
grep -q "kill -CONT $S_PID" "$AW_TMP/s.txt" || aw_fail "no fix for the stop"
aw_stop "$S_PID"

# --- terminal and usage ------------------------------------------------------
aw_start Q "$T"
script -qec "$W watch --for 0.6 $Q_PID" /dev/null >"$AW_TMP/tty.txt" ||
	aw_fail "watch on a terminal failed"
grep -q $'\r\e\[Kwatch [0-9.]*ms/600ms' "$AW_TMP/tty.txt" || aw_fail "no live line on a terminal"
"$W" watch --for 0.3 "$Q_PID" >"$AW_TMP/pipe.txt" 2>&1
grep -q $'\e' "$AW_TMP/pipe.txt" && aw_fail "escape sequences when piped"
grep -q "^pid $Q_PID (watch_target)" "$AW_TMP/pipe.txt" || aw_fail "no report when piped"
for args in "" "--hz 0 $Q_PID" "--hz 1001 $Q_PID" "--for 0 $Q_PID" \
	"--json --prometheus $Q_PID" "999999999" "x1"; do
	# shellcheck disable=SC2086
	"$W" watch $args >/dev/null 2>"$AW_TMP/u.err"
	rc=$?
	[ "$rc" = 2 ] || aw_fail "watch $args: exit $rc, want 2"
	[ "$(wc -l <"$AW_TMP/u.err")" = 1 ] || aw_fail "watch $args: not one line: $(cat "$AW_TMP/u.err")"
done
aw_stop "$Q_PID"
echo ok
