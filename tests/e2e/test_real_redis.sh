#!/usr/bin/env bash
# Debian's redis-server, unmodified, under the release shim, in a private
# network namespace with somaxconn 16, no persistence:
#  - `--tcp-backlog 511`: requested 511, effective 16, CLAMPED (redis says
#    so too, in its start-up warning);
#  - its event loop accepts until EAGAIN: accepts counted exactly (equal to
#    the PINGs answered), the EAGAIN that ends each round counted as drained
#    and never as an error;
#  - the overflow scenario;
#  - SIGTERM: redis exits cleanly and its segment goes with it.
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
rs_need redis-server ss
REDIS=$(command -v redis-server)
P=16379
NOERR="{'eintr': 0, 'econnaborted': 0, 'emfile': 0, 'other': 0}"

rs_start R "$P" "$REDIS" --port "$P" --bind 127.0.0.1 --tcp-backlog 511 \
	--save '' --appendonly no --daemonize no --dir "$AW_TMP"
echo "$("$REDIS" --version | cut -d' ' -f1-3), pid $R_PID"
grep -q "listen fd=[0-9]* 127.0.0.1:$P requested=511 effective=16 somaxconn=16 CLAMPED" "$R_ERR" ||
	aw_fail "no CLAMPED listen line: $(cat "$R_ERR")"
grep -q "TCP backlog setting of 511 cannot be enforced" "$R_OUT" ||
	aw_fail "redis did not warn about its backlog: $(cat "$R_OUT")"

done=0
for n in 1 20 5; do
	rs_client c "$P" "$n" redis
	done=$((done + c))
done
rs_stat "$AW_TMP/s.json" "$R_PID"
cat "$AW_TMP/s.json" >&2
rs_check "$AW_TMP/s.json" "$P" "len(ls) == 1" "not one row for the listener"
rs_check "$AW_TMP/s.json" "$P" "ls[0]['requested_backlog'] == 511 and ls[0]['effective_backlog'] == 16 and ls[0]['clamped']" \
	"not requested 511 / effective 16 / CLAMPED"
rs_check "$AW_TMP/s.json" "$P" "ls[0]['accepts'] == $done" \
	"accepts differ from the $done PINGs answered"
rs_check "$AW_TMP/s.json" "$P" "ls[0]['errors'] == $NOERR" "EAGAIN counted as an error"
# Each wake-up of the loop ends in one EAGAIN: at least one per client run,
# at most one per connection.
rs_check "$AW_TMP/s.json" "$P" "3 <= ls[0]['drained'] <= $done" "drains not counted"
"$AW_REL_TOOL" stat "$R_PID" | grep -q "backlog requested 511 effective 16  CLAMPED" ||
	aw_fail "text output lacks the clamp"
"$AW_REL_TOOL" stat "$R_PID" | grep -q "errors eintr 0 econnaborted 0 emfile 0 other 0" ||
	aw_fail "text output counts errors"

rs_overflow "$P" 16 30 redis "$R_PID"
rs_check "$AW_TMP/ov.c.json" "$P" "ls[0]['errors'] == $NOERR" "errors counted after the overflow"
rs_check "$AW_TMP/ov.c.json" "$P" "ls[0]['drained'] > $(rs_q "$AW_TMP/s.json" "$P" "ls[0]['drained']")" \
	"no drain after the overflow"

rs_stop TERM "$R_PID" || aw_fail "redis exited with $? on SIGTERM"
[ -e "/dev/shm/acceptwatch.$R_PID" ] && aw_fail "segment left after redis exited"
echo ok
