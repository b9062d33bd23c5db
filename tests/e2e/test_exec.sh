#!/usr/bin/env bash
# exec() keeps the pid and ends the image that wrote the segment: no
# segment of the old image outlives it. A process that listened and then
# execs a program that keeps no listener (execv, and execlp's list) leaves
# no segment while the pid lives on; one that execs an image keeping the
# listener (a reload) has that image's segment, which adopts it and counts
# from the exec on; a failed exec gives the segment back with its figures.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"
aw_enter_private_shm "$@"
export ACCEPTWATCH_LOG=none
L="processes[0]['listeners'][0]"

cat >"$AW_TMP/pre.py" <<'PY'
import ctypes, os, socket, sys, time
def accept_own(s, n):
    for _ in range(n):
        c = socket.create_connection(s.getsockname())
        s.accept()[0].close()
        c.close()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
accept_own(s, 2)
assert os.path.exists("/dev/shm/acceptwatch.%d" % os.getpid()), "no segment"
how = sys.argv[1]
if how == "fail":
    try:
        os.execv("/nonexistent/program", ["x"])
    except OSError:
        pass
    accept_own(s, 1)
    print("ready failed", flush=True)
    time.sleep(60)
print("ready", how, flush=True)
if how == "execv":
    os.execv("/bin/sleep", ["sleep", "60"])
elif how == "execlp":
    libc = ctypes.CDLL(None, use_errno=True)
    libc.execlp(b"sleep", b"sleep", b"60", None)
elif how == "reload":
    os.set_inheritable(s.fileno(), True)
    os.execv(sys.executable, [sys.executable, sys.argv[2], str(s.fileno())])
sys.exit("exec returned: %s" % how)
PY
cat >"$AW_TMP/post.py" <<'PY'
import socket, sys, time
s = socket.socket(fileno=int(sys.argv[1]))
for _ in range(3):
    c = socket.create_connection(s.getsockname())
    s.accept()[0].close()
    c.close()
open(sys.argv[1] + ".done", "w").close()
time.sleep(60)
PY

# Waits until PID's program is NAME.
wait_comm() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	aw_fail "pid $1 never ran $2 (comm $(cat "/proc/$1/comm" 2>/dev/null))"
}

for how in execv execlp; do
	LD_PRELOAD=$AW_REL_SHIM aw_start P python3 "$AW_TMP/pre.py" "$how"
	wait_comm "$P_PID" sleep
	[ ! -e "/dev/shm/acceptwatch.$P_PID" ] ||
		aw_fail "$how: the pre-exec segment outlives its image (pid $P_PID runs sleep)"
	aw_stop "$P_PID"
	echo "ok: $how into sleep: no segment of the old image"
done

# A reload: the new image keeps the listener (fd 3) and accepts on it.
cd "$AW_TMP"
LD_PRELOAD=$AW_REL_SHIM aw_start R python3 "$AW_TMP/pre.py" reload "$AW_TMP/post.py"
for ((i = 0; i < 200; i++)); do
	ls "$AW_TMP"/*.done >/dev/null 2>&1 && break
	sleep 0.05
done
"$AW_TOOL" stat --json "$R_PID" >"$AW_TMP/r.json" || aw_fail "reload: no segment"
aw_expect "$AW_TMP/r.json" "$L['accepts']" 3
aw_expect "$AW_TMP/r.json" "$L['adopted']" True
aw_stop "$R_PID"
echo "ok: reload: the new image's segment, 3 accepts since the exec"

# A failed exec: the segment, with its 3 accepts (2 before, 1 after).
LD_PRELOAD=$AW_REL_SHIM aw_start F python3 "$AW_TMP/pre.py" fail
"$AW_TOOL" stat --json "$F_PID" >"$AW_TMP/f.json" || aw_fail "failed exec: no segment"
aw_expect "$AW_TMP/f.json" "$L['accepts']" 3
aw_stop "$F_PID"
echo "ok: failed exec: the segment again, 3 accepts"
