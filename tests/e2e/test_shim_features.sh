#!/usr/bin/env bash
# ACCEPTWATCH_BACKLOG raises (never lowers) the backlog passed to listen();
# call-site stacks name the code that called listen() and the accept loop at
# a slow event; loading libunwind for them changes no symbol the host sees.
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 16 "$@"
L="processes[0]['listeners'][0]"

# Raised: 8 -> 64, then the kernel clamps to somaxconn 16.
ACCEPTWATCH_BACKLOG=64 LD_PRELOAD=$AW_SHIM aw_start_server R --backlog 8
"$AW_TOOL" stat --json "$R_PID" >"$AW_TMP/r.json"
aw_expect "$AW_TMP/r.json" "$L['requested_backlog']" 8
aw_expect "$AW_TMP/r.json" "$L['passed_backlog']" 64
aw_expect "$AW_TMP/r.json" "$L['effective_backlog']" 16
aw_expect "$AW_TMP/r.json" "$L['clamped']" True
ss -ltn "sport = :$R_PORT" | grep -q " 16 " || aw_fail "ss disagrees"
grep -q "requested=8 raised=64 effective=16 somaxconn=16 CLAMPED" "$R_ERR" ||
	aw_fail "no raise in the log: $(cat "$R_ERR")"
aw_stop "$R_PID"
# Raised within somaxconn: the kernel really applies it.
ACCEPTWATCH_BACKLOG=12 LD_PRELOAD=$AW_SHIM aw_start_server T --backlog 3
"$AW_TOOL" stat --json "$T_PID" >"$AW_TMP/t.json"
aw_expect "$AW_TMP/t.json" "$L['effective_backlog']" 12
aw_expect "$AW_TMP/t.json" "$L['clamped']" False
aw_stop "$T_PID"
# Never lowered: 8 stays 8 under ACCEPTWATCH_BACKLOG=4; -1 stays -1.
for b in 8 -1; do
	ACCEPTWATCH_BACKLOG=4 LD_PRELOAD=$AW_SHIM aw_start_server N --backlog "$b"
	"$AW_TOOL" stat --json "$N_PID" >"$AW_TMP/n.json"
	aw_expect "$AW_TMP/n.json" "$L['passed_backlog']" "$b"
	aw_stop "$N_PID"
done

# Stacks: listen() was called from make_listener (inlined into main at
# -O2); the loop accepts in do_accept/block_loop/worker_main (likewise).
LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 64 --delay-ms 100
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 5)
[ "$completed" = 5 ] || aw_fail "client completed $completed of 5"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json"
ls=$(aw_json_get "$AW_TMP/s.json" "$L['listen_stack']")
top=$(aw_json_get "$AW_TMP/s.json" "$L['listen_stack'][0]")
[[ $top =~ ^(make_listener|main)\+0x[0-9a-f]+\ \(server\)$ ]] ||
	aw_fail "listen stack: $ls"
[[ $ls == *"__libc_start_main+0x"* ]] || aw_fail "listen stack too short: $ls"
[[ $ls != *libacceptwatch* ]] || aw_fail "shim frames in the stack: $ls"
sl=$(aw_json_get "$AW_TMP/s.json" "$L['slow_stack']")
top=$(aw_json_get "$AW_TMP/s.json" "$L['slow_stack'][0]")
[[ $top =~ ^(do_accept|block_loop|worker_main)\+0x[0-9a-f]+\ \(server\)$ ]] ||
	aw_fail "slow stack: $sl"
# The shim names no function (it symbolizes nothing): its warning line gives
# the loop's place as module+offset, the slow stack's first frame.
P="processes[0]"
idx=$(aw_json_get "$AW_TMP/s.json" "$L['slow_stack_index']")
off=$(aw_json_get "$AW_TMP/s.json" "'%x' % $P['stacks'][$idx]['frame_info'][0]['offset']")
grep -q "slow accept loop .*; loop at server+0x$off\$" "$S_ERR" ||
	aw_fail "warning line lacks the loop's place server+0x$off: $(cat "$S_ERR")"

# The host's symbols: identical with and without the shim (libunwind is
# loaded privately, its weak backtrace and _Unwind_* stay out of sight).
# Release builds: ASan interposes backtrace itself.
sym=$AW_ROOT/build/rel/tests/symcheck
"$sym" >"$AW_TMP/bare.txt" || aw_fail "symcheck failed"
LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none "$sym" >"$AW_TMP/shim.txt" ||
	aw_fail "symcheck failed under the shim"
diff -u "$AW_TMP/bare.txt" "$AW_TMP/shim.txt" >&2 || aw_fail "symbols differ"
grep -q "^backtrace libc.so" "$AW_TMP/shim.txt" || aw_fail "backtrace not glibc's"
grep -q "^unw_backtrace -" "$AW_TMP/shim.txt" || aw_fail "libunwind leaked"
echo ok
