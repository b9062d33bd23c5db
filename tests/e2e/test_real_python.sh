#!/usr/bin/env bash
# Debian's python3, unmodified, under the release shim, in a private network
# namespace with somaxconn 16:
#  - `python3 -m http.server`: socketserver.TCPServer.request_queue_size is 5
#    (HTTPServer and ThreadingHTTPServer keep it), so listen(fd, 5):
#    requested 5, effective 5, not clamped; a blocking listener, accept()ed
#    after select() says it is readable, one thread per request;
#  - tests/e2e/aio_server.py, asyncio.start_server(backlog=100): requested
#    100, effective 16, CLAMPED; non-blocking, accepted until EAGAIN
#    (drained, never an error);
#  - accepts counted exactly (equal to the replies the client got) and the
#    overflow scenario on each;
#  - http.server dies of SIGTERM (default action: no exit handlers run) and
#    leaves its segment behind: the reader shows it as exited, never among
#    the live rows; aio_server handles SIGTERM, exits, and its segment goes.
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
rs_need ss
# Debian's interpreter, not one from a version manager.
PY=/usr/bin/python3
[ -x "$PY" ] || aw_skip "Debian's python3 (/usr/bin/python3) is not installed"
H=18000 A=18001
NOERR="{'eintr': 0, 'econnaborted': 0, 'emfile': 0, 'other': 0}"
"$PY" --version

# http.server: backlog 5, not clamped under somaxconn 16.
mkdir -p "$AW_TMP/www"
echo hello >"$AW_TMP/www/index.html"
rs_start H "$H" "$PY" -m http.server --bind 127.0.0.1 --directory "$AW_TMP/www" "$H"
grep -q "listen fd=[0-9]* 127.0.0.1:$H requested=5 effective=5 somaxconn=16$" "$H_ERR" ||
	aw_fail "no listen line with requested 5, effective 5: $(cat "$H_ERR")"
done=0
for n in 1 5 3; do
	rs_client c "$H" "$n" http
	done=$((done + c))
done
rs_stat "$AW_TMP/h.json" "$H_PID"
rs_check "$AW_TMP/h.json" "$H" "len(ls) == 1 and ls[0]['requested_backlog'] == 5 and ls[0]['effective_backlog'] == 5 and not ls[0]['clamped']" \
	"http.server: not requested 5 / effective 5 / unclamped"
rs_check "$AW_TMP/h.json" "$H" "ls[0]['accepts'] == $done" "http.server: accepts differ from $done"
rs_check "$AW_TMP/h.json" "$H" "ls[0]['errors'] == $NOERR" "http.server: errors counted"
"$AW_REL_TOOL" stat "$H_PID" | grep -q "backlog requested 5 effective 5$" ||
	aw_fail "text output: $("$AW_REL_TOOL" stat "$H_PID")"
rs_overflow "$H" 5 12 http "$H_PID"
H_OVERFLOW=$RS_OVERFLOW
# http.server leaves SIGTERM at its default action (and SIGINT is ignored
# in a background job): it dies without running exit handlers, so the shim
# cannot remove its segment. The reader shows it as exited when asked for
# it, and a scan counts it among the skipped, never as a live row.
rs_stop TERM "$H_PID"
[ $? = 143 ] || aw_fail "http.server did not die of SIGTERM"
[ -e "/dev/shm/acceptwatch.$H_PID" ] || aw_fail "no segment left by http.server?"
"$AW_REL_TOOL" stat --json "$H_PID" >"$AW_TMP/k.json" || aw_fail "reader refused the exited segment"
aw_expect "$AW_TMP/k.json" "processes[0]['alive']" False
aw_expect "$AW_TMP/k.json" "processes[0]['listeners'][0]['accepts']" $((done + 12))
aw_expect "$AW_TMP/k.json" "processes[0]['listeners'][0]['stalled']" False
"$AW_REL_TOOL" stat --json >"$AW_TMP/scan.json" || aw_fail "reader scan failed"
aw_expect "$AW_TMP/scan.json" "[p['pid'] for p in processes if p['pid'] == $H_PID]" "[]"
aw_range "$AW_TMP/scan.json" "skipped_exited" 1 100000
"$AW_REL_TOOL" stat --all --json >"$AW_TMP/all.json" || aw_fail "reader --all failed"
aw_expect "$AW_TMP/all.json" "[p['alive'] for p in processes if p['pid'] == $H_PID]" "[false]"

# asyncio: backlog 100, clamped to 16; accepts until EAGAIN.
rs_start S "$A" "$PY" "$AW_ROOT/tests/e2e/aio_server.py" "$A" 100
grep -q "listen fd=[0-9]* 127.0.0.1:$A requested=100 effective=16 somaxconn=16 CLAMPED" "$S_ERR" ||
	aw_fail "no CLAMPED listen line: $(cat "$S_ERR")"
done=0
for n in 1 10 4; do
	rs_client c "$A" "$n" http
	done=$((done + c))
done
rs_stat "$AW_TMP/s.json" "$S_PID"
rs_check "$AW_TMP/s.json" "$A" "len(ls) == 1 and ls[0]['requested_backlog'] == 100 and ls[0]['effective_backlog'] == 16 and ls[0]['clamped']" \
	"asyncio: not requested 100 / effective 16 / CLAMPED"
rs_check "$AW_TMP/s.json" "$A" "ls[0]['accepts'] == $done" "asyncio: accepts differ from $done"
rs_check "$AW_TMP/s.json" "$A" "ls[0]['errors'] == $NOERR" "asyncio: EAGAIN counted as an error"
rs_check "$AW_TMP/s.json" "$A" "3 <= ls[0]['drained'] <= $done" "asyncio: drains not counted"
rs_overflow "$A" 16 30 http "$S_PID"
rs_check "$AW_TMP/ov.c.json" "$A" "ls[0]['errors'] == $NOERR" "asyncio: errors after the overflow"
# SIGTERM is handled: a normal exit, the segment goes.
rs_stop TERM "$S_PID" || aw_fail "aio_server exited with $? on SIGTERM"
[ -e "/dev/shm/acceptwatch.$S_PID" ] && aw_fail "segment left after aio_server exited"

echo "http.server overflow: $H_OVERFLOW"
echo ok
