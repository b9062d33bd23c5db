#!/usr/bin/env bash
# A spawning server: its vfork() child runs in the parent's memory and,
# before it would exec, closes the listener (close, closefrom) and drops
# root. Those are the child's own descriptors and ids: the parent's
# listener stays open and counted, its segment stays its own user's.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

coproc V { LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none \
	exec "$AW_ROOT/build/rel/tests/vfork_child"; }
vpid=$V_PID # bash unsets V_PID once the coprocess ends
aw_register_pid "$vpid"
read -r -t 10 ready port <&"${V[0]}" || aw_fail "vfork_child did not start"
[ "$ready" = ready ] || aw_fail "vfork_child: $ready $port"
owner=$(stat -c %u "/dev/shm/acceptwatch.$vpid") || aw_fail "no segment"
[ "$owner" = "$(id -u)" ] || aw_fail "segment given to uid $owner by the child"
python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$port" ||
	aw_fail "connect"
echo go >&"${V[1]}"
read -r -t 10 _ n <&"${V[0]}" || aw_fail "no accept line"
[ "$n" = 1 ] || aw_fail "the server accepted $n"
"$AW_REL_TOOL" stat --json "$vpid" >"$AW_TMP/s.json" || aw_fail "stat"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/s.json" "$L['closed']" False
aw_expect "$AW_TMP/s.json" "$L['accepts']" 1
aw_expect "$AW_TMP/s.json" "$L['adopted']" False
aw_expect "$AW_TMP/s.json" "len(processes[0]['listeners'])" 1
echo done >&"${V[1]}"
wait "$vpid" || aw_fail "vfork_child exited $?"
echo "vfork: the child's close, closefrom and setuid left the parent's listener (1 accept) and segment (uid $owner) alone"
