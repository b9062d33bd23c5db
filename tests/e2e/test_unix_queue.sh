#!/usr/bin/env bash
# A Unix-domain listener's queue now comes from the kernel (sock_diag's
# UNIX_DIAG_RQLEN), as a TCP listener's does, not from the shim's last
# sample. The shim cannot read it (no TCP_INFO on a Unix socket), so the
# reader asks. A server under the shim listens on a path in the test's
# temporary directory (backlog 8, a private network namespace: sock_diag
# dumps that namespace's Unix sockets), is stopped, and 3 clients connect
# and hold their connections: truth is the 3 clients. stat --json says
# queue now 3, read live, kernel backlog 8; the text says "queue now 3"
# without "(sampled)"; once past the slow threshold with nobody
# accepting, STALLED, as a TCP listener would be.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

S=$AW_TMP/q.sock
ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_SHIM aw_start_server U --unix "$S" --backlog 8
aw_sigstop "$U_PID"
python3 - "$S" 3 >"$AW_TMP/clients.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    held.append(c)
print("connected", len(held), flush=True)
time.sleep(600)
PY
aw_register_pid $!
connected() { grep -q '^connected 3$' "$AW_TMP/clients.out"; }
aw_wait_for 30 connected || aw_fail "clients: $(cat "$AW_TMP/clients.out")"
ss -xlH | grep -F "$S" || aw_fail "ss -xl does not list $S"

"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/u.json" || aw_fail "stat --json"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/u.json" "${L}['family']" unix
aw_expect "$AW_TMP/u.json" "${L}['queue']['now']" 3
aw_expect "$AW_TMP/u.json" "${L}['queue_live']" True
aw_expect "$AW_TMP/u.json" "${L}['kernel_backlog']" 8

"$AW_TOOL" stat "$U_PID" >"$AW_TMP/u.txt" || aw_fail "stat"
cat "$AW_TMP/u.txt"
peak=$(sed -n 's/^    queue now 3  peak \([0-9]*\)  .*/\1/p' "$AW_TMP/u.txt")
[ -n "$peak" ] || aw_fail "text: no 'queue now 3' read live"
[ "$peak" -ge 3 ] || aw_fail "text: peak $peak below the queue now 3"
# No accept since the listen, the process stopped: past 50 ms, STALLED.
stalled() {
	"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/s.json" &&
		[ "$(aw_json_get "$AW_TMP/s.json" "${L}['stalled']")" = True ]
}
aw_wait_for 30 stalled || aw_fail "not STALLED: $(cat "$AW_TMP/s.json")"
"$AW_TOOL" stat "$U_PID" | grep -q "STALLED: 3 connections waiting now, the process is stopped" ||
	aw_fail "text lacks STALLED"
kill -CONT "$U_PID"
aw_stop "$U_PID"
echo ok
