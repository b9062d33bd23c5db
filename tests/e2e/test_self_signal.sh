#!/usr/bin/env bash
# Everyday deaths under a parent without the shim (a shell here) leave no
# segment: CPython's Ctrl-C (an uncaught KeyboardInterrupt: it finalises,
# then kill(getpid(), SIGINT) with the default action), a server that kills
# itself with SIGTERM after stopping (twistd), raise() of a fatal signal,
# and `acceptwatch run` sent SIGTERM (it passes it on, waits, cleans up,
# and dies of it too), an exit under a temporary effective uid. A signal
# that will not kill (blocked, handled) removes nothing: the process lives
# on with its segment.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"
segs() { ls /dev/shm | grep -c '^acceptwatch\.'; }

# Python listens (the segment is made), says whether it is there, then
# runs what it is given.
cat >"$AW_TMP/selfkill.py" <<'PY'
import os, signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print("segment" if os.path.exists("/dev/shm/acceptwatch.%d" % os.getpid()) else "no segment", flush=True)
exec(sys.argv[1])
print("alive", flush=True)
PY

# case NAME WANT_STATUS WANT_SEGMENTS_AFTER CODE
case_() {
	local name=$1 want=$2 left=$3 code=$4 st out
	out=$(LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none python3 "$AW_TMP/selfkill.py" "$code" 2>"$AW_TMP/err")
	st=$?
	[ "${out%%$'\n'*}" = segment ] || aw_fail "$name: no segment after listen: $out $(cat "$AW_TMP/err")"
	[ "$st" = "$want" ] || aw_fail "$name: exit status $st, want $want: $(cat "$AW_TMP/err")"
	[ "$(segs)" = "$left" ] || aw_fail "$name: $(segs) segment(s) left, want $left: $(ls /dev/shm)"
	echo "ok: $name: status $st, $left segment(s) left"
}
case_ "Ctrl-C (KeyboardInterrupt, re-raised)" 130 0 \
	'signal.signal(signal.SIGINT, signal.default_int_handler); os.kill(os.getpid(), signal.SIGINT)'
case_ "kill(getpid(), SIGTERM), default action" 143 0 'os.kill(os.getpid(), signal.SIGTERM)'
case_ "kill(0, SIGTERM): its process group" 143 0 'os.setpgid(0, 0); os.kill(0, signal.SIGTERM)'
case_ "raise(SIGUSR1)" 138 0 'signal.raise_signal(signal.SIGUSR1)'
# Controls: no death, the segment stays while the process runs (checked
# from inside, then a normal exit removes it).
case_ "SIGTERM blocked" 0 0 '
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.kill(os.getpid(), signal.SIGTERM)
assert os.path.exists("/dev/shm/acceptwatch.%d" % os.getpid()), "removed while blocked"
os._exit(0)'
case_ "SIGTERM handled" 0 0 '
signal.signal(signal.SIGTERM, lambda *a: None)
os.kill(os.getpid(), signal.SIGTERM)
assert os.path.exists("/dev/shm/acceptwatch.%d" % os.getpid()), "removed though handled"'

# An exit under a temporary effective uid (root server, seteuid(nobody)):
# the segment stays root's, which nobody may not remove from the sticky
# /dev/shm; the exit removes it all the same.
if [ "$(id -u)" = 0 ]; then
	case_ "exit under seteuid(65534)" 0 0 'os.seteuid(65534); sys.exit(0)'
fi

# acceptwatch run, stopped as a service manager would (SIGTERM to its pid).
aw_start RUN "$AW_REL_TOOL" run --log none -- python3 -c '
import signal, socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print("ready", s.getsockname()[1], flush=True)
time.sleep(60)'
for ((i = 0; i < 100; i++)); do
	[ "$(segs)" = 1 ] && break
	sleep 0.05
done
[ "$(segs)" = 1 ] || aw_fail "run: no segment for its command"
kill -TERM "$RUN_PID"
wait "$RUN_PID"
st=$?
[ "$st" = 143 ] || aw_fail "run: exit status $st, want 143 (died of SIGTERM)"
[ "$(segs)" = 0 ] || aw_fail "run: the command's segment left: $(ls /dev/shm)"
echo "ok: acceptwatch run, SIGTERM: status 143, no segment left"
