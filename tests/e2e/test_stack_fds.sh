#!/usr/bin/env bash
# Capturing a stack touches no descriptor of the host. A daemon closes and
# reuses every descriptor above its listener during slow events (each one
# captures a stack): its clients' requests, its socket pairs and its data
# file keep every byte, and afterwards /proc/PID/fd holds only the daemon's
# own descriptors (the shim keeps none: its segment is mapped, not open).
# libunwind 1.6 used to open a validation pipe at the first capture, then
# read and write a byte through those numbers at every later one.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"

ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_SHIM aw_start D "$AW_BIN/fdreuse" \
	"$AW_TMP/data" 3
python3 - "$D_PORT" <<'PY' || aw_fail "client failed"
import socket, sys
for r in range(1, 4):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"REQUEST-%02d-abcde" % r)
    reply = s.makefile("rb").read()
    assert reply == b"OK\n", (r, reply)
    s.close()
PY
for ((i = 0; i < 100; i++)); do
	grep -q '^idle$' "$D_OUT" && break
	sleep 0.1
done
grep -q '^idle$' "$D_OUT" || aw_fail "daemon not idle: $(cat "$D_OUT" "$D_ERR")"
for r in 1 2 3; do
	grep -qx "round $r ok" "$D_OUT" || aw_fail "round $r: $(cat "$D_OUT")"
done
fds=$(ls /proc/"$D_PID"/fd | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 " ] ||
	aw_fail "descriptors besides the daemon's: $fds: $(ls -l /proc/"$D_PID"/fd)"
printf 'round %02d\n' 1 2 3 | cmp -s - "$AW_TMP/data" ||
	aw_fail "data file changed: $(od -c "$AW_TMP/data")"

# Every round made a slow event with a stack (one a second passes the rate
# limit): the captures really happened.
"$AW_TOOL" stat --json "$D_PID" >"$AW_TMP/d.json"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/d.json" "$L['slow_events']" 3
idx=$(aw_json_get "$AW_TMP/d.json" "$L['slow_stack_index']")
hits=$(aw_json_get "$AW_TMP/d.json" "processes[0]['stacks'][$idx]['hits']")
[ "$hits" = 3 ] || aw_fail "slow stack captured $hits times, not 3"
top=$(aw_json_get "$AW_TMP/d.json" "$L['slow_stack'][0]")
[[ $top =~ ^(round_once(\.constprop\.[0-9]+)?|main)\+0x[0-9a-f]+\ \(fdreuse\)$ ]] ||
	aw_fail "slow stack: $(aw_json_get "$AW_TMP/d.json" "$L['slow_stack']")"
echo "3 rounds, descriptors $fds, slow stack top $top"
aw_stop "$D_PID"

# How: libunwind still makes its pipe, but in a short-lived child (clone,
# CLONE_VM, its own descriptor table) that exits at once; the addresses it
# validates go through process_vm_readv, which needs no descriptor.
command -v strace >/dev/null || aw_fail "strace missing (make deps)"
ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_REL_SHIM aw_start T strace -f -qq \
	-o "$AW_TMP/trace" -e trace=pipe2,process_vm_readv,exit \
	"$AW_ROOT/build/rel/tests/fdreuse" "$AW_TMP/data2" 1
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"REQUEST-01-abcde")
assert s.makefile("rb").read() == b"OK\n"' "$T_PORT" || aw_fail "client failed"
for ((i = 0; i < 100; i++)); do
	grep -q '^idle$' "$T_OUT" && break
	sleep 0.1
done
grep -qx "round 1 ok" "$T_OUT" || aw_fail "traced round: $(cat "$T_OUT")"
# The daemon is strace's child: stopping it ends strace too.
read -r child _ </proc/"$T_PID"/task/"$T_PID"/children
aw_stop "$child"
aw_stop "$T_PID"
pipers=$(awk '/pipe2\(/ { print $1 }' "$AW_TMP/trace" | sort -u)
[ -n "$pipers" ] || aw_fail "no pipe2 at all: libunwind's init not seen"
for p in $pipers; do
	grep -Eq "^$p +(exit\(0\)|\+\+\+ exited with 0)" "$AW_TMP/trace" ||
		aw_fail "pipe2 in $p, which did not exit: $(cat "$AW_TMP/trace")"
	[ "$(grep -c "^$p " "$AW_TMP/trace")" -le 3 ] ||
		aw_fail "$p did more than make a pipe and exit: $(grep "^$p " "$AW_TMP/trace")"
done
grep -q "process_vm_readv(" "$AW_TMP/trace" ||
	echo "note: no address needed validating in this run"
