#!/usr/bin/env bash
# The exporter keeps answering while one client misbehaves, and stops on
# SIGTERM whatever its clients do:
#  - user nobody opens 65 connections to it and sends half a request on
#    each (the old exporter's 64 slots were all taken: every scrape failed
#    for 10 s at a time); meanwhile root scrapes 10 times, each answered in
#    under 1 s;
#  - a client (here: a local uid; a remote address) keeps at most 8
#    connections: nobody's others are closed at once, and what nobody
#    keeps is closed after the header timeout (3 s without a byte);
#  - SIGTERM with nobody's connections open: exit 0 within 2 s.
# Private network namespace: needs root.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
command -v curl >/dev/null || aw_fail "curl is not installed (make deps)"

"$AW_TOOL" serve --listen 127.0.0.1:9437 2>"$AW_TMP/serve.err" &
SERVE_PID=$!
aw_register_pid "$SERVE_PID"
for ((i = 0; i < 100; i++)); do
	grep -q serving "$AW_TMP/serve.err" && break
	sleep 0.05
done
grep -q serving "$AW_TMP/serve.err" || aw_fail "serve did not start: $(cat "$AW_TMP/serve.err")"

# nobody: 65 half-sent requests; says how many the exporter closed (EOF)
# within 1 s, then holds the rest until told to stop.
cat >"$AW_TMP/hold.py" <<'PY'
import select, socket, sys, time
held = []
for _ in range(65):
    s = socket.create_connection(("127.0.0.1", 9437))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    held.append(s)
print("holding", len(held), flush=True)
def closed(deadline):
    n = 0
    for s in held:
        r, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        try:
            if r and s.recv(1) == b"":
                n += 1
        except OSError:
            n += 1
    return n
print("closed_at_once", closed(time.monotonic() + 1), flush=True)
time.sleep(float(sys.argv[1]))
print("closed_later", closed(time.monotonic() + 1), flush=True)
time.sleep(30)
PY
chmod 0644 "$AW_TMP/hold.py"
chmod 0755 "$AW_TMP"
setpriv --reuid nobody --regid nogroup --clear-groups /usr/bin/python3 "$AW_TMP/hold.py" 4 \
	>"$AW_TMP/hold.out" 2>&1 &
HOLD_PID=$!
aw_register_pid "$HOLD_PID"
for ((i = 0; i < 200; i++)); do
	grep -q holding "$AW_TMP/hold.out" && break
	sleep 0.05
done
grep -q "holding 65" "$AW_TMP/hold.out" || aw_fail "nobody's client: $(cat "$AW_TMP/hold.out")"

for ((i = 0; i < 10; i++)); do
	code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 \
		http://127.0.0.1:9437/metrics)
	[ "${code%% *}" = 200 ] || aw_fail "scrape $i behind nobody's 65 connections: $code"
	echo "scrape $i: $code s"
	sleep 0.2
done

for ((i = 0; i < 100; i++)); do
	grep -q closed_later "$AW_TMP/hold.out" && break
	sleep 0.1
done
cat "$AW_TMP/hold.out"
at_once=$(sed -n 's/^closed_at_once //p' "$AW_TMP/hold.out")
later=$(sed -n 's/^closed_later //p' "$AW_TMP/hold.out")
[ "${at_once:-0}" -ge 57 ] || aw_fail "only ${at_once:-0} of nobody's 65 closed at once (want >= 57: 8 a client)"
[ "${later:-0}" = 65 ] || aw_fail "nobody still holds $((65 - ${later:-0})) after the header timeout"

# Connections open again, then SIGTERM: gone within 2 s.
python3 - >"$AW_TMP/hold2.out" <<'PY' &
import socket, time
held = [socket.create_connection(("127.0.0.1", 9437)) for _ in range(8)]
for s in held:
    s.sendall(b"GET /met")
print("holding", flush=True)
time.sleep(30)
PY
H2=$!
aw_register_pid "$H2"
for ((i = 0; i < 100; i++)); do
	grep -q holding "$AW_TMP/hold2.out" && break
	sleep 0.05
done
start=$(date +%s%N)
kill -TERM "$SERVE_PID"
for ((i = 0; i < 40; i++)); do
	aw__alive "$SERVE_PID" || break
	sleep 0.05
done
aw__alive "$SERVE_PID" && aw_fail "serve still runs 2 s after SIGTERM"
wait "$SERVE_PID"
rc=$?
echo "stopped in $((($(date +%s%N) - start) / 1000000)) ms, exit $rc"
[ "$rc" = 0 ] || aw_fail "serve exited $rc on SIGTERM"
echo ok
