#!/usr/bin/env bash
# watch judges what happened during the watch, and no more:
#  - an overflow made before the watch began (a stopped server, a burst,
#    resumed and drained) is no OVERFLOWING in a watch that sees no new
#    drop; the socket's lifetime drops are shown as such;
#  - a TCP_DEFER_ACCEPT listener whose drops rise (the handshake ACKs it
#    discards) with a queue never full is no OVERFLOWING, read from the
#    socket as root, and with the option unknown (another uid) too;
#  - a real overflow during the watch still is OVERFLOWING.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

U=65534
aw_public "$AW_TOOL" "$AW_ROOT/tests/e2e/defer_server.py"
chmod 0755 "$AW_TMP"
W=$AW_PUB/acceptwatch
T=$AW_BIN/watch_target
verdicts() { # JSON file: the verdict keys of the first listener
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(v["verdict"] for v in d["processes"][0]["sampled"]["listeners"][0]["verdicts"]) or "ok")' "$1"
}
# Connections that complete their handshake and send nothing for a while:
# under TCP_DEFER_ACCEPT each bare ACK is a socket drop.
# Silent clients until killed: one every 100 ms, each sending its byte 1.2 s
# later (the server then accepts it). Each one's handshake ACK is dropped
# on a TCP_DEFER_ACCEPT socket, so drops rise all through a watch however
# late a busy machine starts it: no sleep has to guess when its first
# reading (its baseline) is taken.
silent_clients() {
	python3 - "$1" <<'PY' &
import socket, sys, time
pending = []
while True:
    pending.append((time.monotonic(), socket.create_connection(("127.0.0.1", int(sys.argv[1])))))
    while pending and time.monotonic() - pending[0][0] > 1.2:
        c = pending.pop(0)[1]
        c.sendall(b"x")
        c.close()
    time.sleep(0.1)
PY
	CLIENTS=$!
}

# --- an overflow before the watch ------------------------------------------
echo "[${SECONDS}s] overflow before the watch"
aw_start P "$T" --backlog 4
aw_burst_stopped B "$P_PID" "$P_PORT" 12 5 1
read -r _ d0 <<<"$(aw__queue "$P_PORT")"
[ "${d0:-0}" -gt 0 ] || aw_fail "the burst made no socket drop"
"$W" watch --for 1 --json "$P_PID" >"$AW_TMP/p.json" || aw_fail "watch failed"
"$W" watch --for 0.5 "$P_PID" >"$AW_TMP/p.txt" || aw_fail "watch (text) failed"
read -r _ d1 <<<"$(aw__queue "$P_PORT")"
cat "$AW_TMP/p.txt" >&2
if [ "$d1" = "$d0" ]; then
	v=$(verdicts "$AW_TMP/p.json")
	[[ $v != *overflowing* ]] || aw_fail "drops from before the watch called OVERFLOWING ($v)"
	aw_expect "$AW_TMP/p.json" \
		"processes[0]['sampled']['listeners'][0]['socket_drops_during']" 0
	grep -q "socket drops before the watch" "$AW_TMP/p.txt" ||
		aw_fail "the lifetime drops are not said to be from before the watch"
else
	echo "drops rose during the watch ($d0 -> $d1): the pre-watch case not judged" >&2
fi
aw_stop "$P_PID"

# --- TCP_DEFER_ACCEPT: drops with no full queue ----------------------------
echo "[${SECONDS}s] TCP_DEFER_ACCEPT"
aw_start D python3 "$AW_PUB/defer_server.py"
"$W" watch --for 2 --json "$D_PID" >"$AW_TMP/d.json" &
WP=$!
silent_clients "$D_PORT"
wait "$WP" || aw_fail "watch of the defer server failed"
kill "$CLIENTS"
wait "$CLIENTS" 2>/dev/null
aw_expect "$AW_TMP/d.json" \
	"processes[0]['sampled']['listeners'][0]['socket_drops_during'] > 0" True
aw_expect "$AW_TMP/d.json" "processes[0]['listeners'][0]['defer_accept']" True
aw_expect "$AW_TMP/d.json" \
	"processes[0]['sampled']['listeners'][0]['defer_accept_known']" True
v=$(verdicts "$AW_TMP/d.json")
[[ $v != *overflowing* ]] || aw_fail "TCP_DEFER_ACCEPT's drops called OVERFLOWING ($v)"
# Another uid cannot read the option: drops alone prove nothing then,
# and a note says so.
setpriv --reuid $U --regid $U --clear-groups "$W" watch --for 2 "$D_PID" \
	>"$AW_TMP/n.txt" 2>"$AW_TMP/n.err" &
WP=$!
silent_clients "$D_PORT"
wait "$WP" || aw_fail "watch of another uid's defer server failed: $(cat "$AW_TMP/n.err")"
kill "$CLIENTS"
wait "$CLIENTS" 2>/dev/null
cat "$AW_TMP/n.txt" >&2
grep -q "TCP_DEFER_ACCEPT unknown" "$AW_TMP/n.txt" || aw_fail "no note on the unknown TCP_DEFER_ACCEPT"
! grep -q OVERFLOWING "$AW_TMP/n.txt" || aw_fail "drops with TCP_DEFER_ACCEPT unknown called OVERFLOWING"
aw_stop "$D_PID"

# --- a real overflow during the watch --------------------------------------
echo "[${SECONDS}s] overflow during the watch"
aw_start O "$T" --backlog 2 --sleep-ms 300
"$W" watch --for 2.5 --json "$O_PID" >"$AW_TMP/o.json" &
WP=$!
sleep 0.3
"$AW_BIN/burst" --port "$O_PORT" -n 12 --timeout-ms 20000 >"$AW_TMP/o.burst" &
BP=$!
aw_register_pid "$BP"
wait "$WP" || aw_fail "watch of the overflowing server failed"
v=$(verdicts "$AW_TMP/o.json")
[[ $v == *overflowing* ]] || aw_fail "an overflow during the watch not OVERFLOWING ($v)"
kill "$BP" 2>/dev/null
aw_stop "$O_PID"
echo "[${SECONDS}s] done"
