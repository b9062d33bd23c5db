#!/usr/bin/env bash
# Listeners the shim did not see created: a pre-fork server (the parent
# listens, forked children accept) and a listener inherited across exec that
# listen() never touched in this image (adopted on first accept). Also: a
# preloaded program that execs keeps working, with a fresh segment.
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 16 "$@"
L="processes[0]['listeners'][0]"

# Pre-fork: each child's own segment knows the parent's listener.
LD_PRELOAD=$AW_SHIM aw_start_server P --backlog 33 --fork 2
mapfile -t kids < <(awk '/^child/ {print $2}' "$P_OUT")
[ "${#kids[@]}" = 2 ] || aw_fail "children: ${kids[*]}"
read -r _ completed _ < <("$AW_BIN/burst" --port "$P_PORT" -n 20)
[ "$completed" = 20 ] || aw_fail "client completed $completed of 20"
total=0
for kid in "${kids[@]}"; do
	"$AW_TOOL" stat --json "$kid" >"$AW_TMP/k.json" ||
		aw_fail "no segment for child $kid"
	aw_expect "$AW_TMP/k.json" "$L['requested_backlog']" 33
	aw_expect "$AW_TMP/k.json" "$L['effective_backlog']" 16
	aw_expect "$AW_TMP/k.json" "$L['clamped']" True
	aw_expect "$AW_TMP/k.json" "$L['inherited']" True
	aw_expect "$AW_TMP/k.json" "processes[0]['parent_pid']" "$P_PID"
	total=$((total + $(aw_json_get "$AW_TMP/k.json" "$L['accepts']")))
done
[ "$total" = 20 ] || aw_fail "children accepted $total, clients completed 20"
"$AW_TOOL" stat --json "$P_PID" >"$AW_TMP/p.json"
aw_expect "$AW_TMP/p.json" "$L['accepts']" 0
aw_stop "$P_PID"
for kid in "${kids[@]}"; do
	[ -e "/dev/shm/acceptwatch.$kid" ] && aw_fail "child $kid left its segment"
done

# Adopted: the listener comes from a program without the shim, via exec.
adopter='
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(7)
os.set_inheritable(s.fileno(), True)
env = dict(os.environ, LD_PRELOAD=sys.argv[2])
os.execve(sys.argv[1], [sys.argv[1], "--inherit-fd", str(s.fileno())], env)'
aw_start A python3 -c "$adopter" "$AW_ROOT/build/rel/tests/server" "$AW_REL_SHIM"
port=$A_PORT
read -r _ completed _ < <("$AW_BIN/burst" --port "$port" -n 5)
[ "$completed" = 5 ] || aw_fail "client completed $completed of 5"
"$AW_TOOL" stat --json "$A_PID" >"$AW_TMP/a.json" || aw_fail "no segment after adoption"
aw_expect "$AW_TMP/a.json" "$L['requested_backlog']" None
aw_expect "$AW_TMP/a.json" "$L['effective_backlog']" 7
aw_expect "$AW_TMP/a.json" "$L['adopted']" True
aw_expect "$AW_TMP/a.json" "$L['clamped']" False
aw_expect "$AW_TMP/a.json" "$L['accepts']" 5
grep -q "adopt fd=[0-9]* 127.0.0.1:$port requested=? effective=7" "$A_ERR" ||
	aw_fail "no adopt log line: $(cat "$A_ERR")"
aw_stop "$A_PID"

# exec under the shim: the same pid gets a new segment, with no stale
# listener of the image before (python listened on another socket).
execer='
import os, socket, sys
old = socket.socket()
old.bind(("127.0.0.1", 0))
old.listen(3)
os.execv(sys.argv[1], [sys.argv[1], "--backlog", "11"])'
LD_PRELOAD=$AW_REL_SHIM aw_start E python3 -c "$execer" "$AW_ROOT/build/rel/tests/server"
"$AW_TOOL" stat --json "$E_PID" >"$AW_TMP/e.json" || aw_fail "no segment after exec"
aw_expect "$AW_TMP/e.json" "len(processes[0]['listeners'])" 1
aw_expect "$AW_TMP/e.json" "$L['requested_backlog']" 11
aw_expect "$AW_TMP/e.json" "processes[0]['comm']" server
grep -q "listen fd=.*requested=3 " "$E_ERR" || aw_fail "python's listen unseen"
echo ok
