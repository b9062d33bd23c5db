#!/usr/bin/env bash
# Faults around the shim, never felt by the host: /dev/shm read-only or full,
# a full listener table. In each the server serves every connection, the
# shim says once what failed, and what it still records is right.
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 64 "$@"
unshare -m true 2>/dev/null || aw_skip "unshare -m is not permitted here"

# Start the server in its own mount namespace, where /dev/shm is set up by
# SETUP; $AW_TMP/NAME.{out,err}; sets PID and PORT.
start_in_mountns() {
	local name=$1 setup=$2
	shift 2
	aw_start "$name" unshare -m --propagation private \
		bash -c "$setup && exec \"\$0\" \"\$@\"" \
		env LD_PRELOAD="$AW_SHIM" "$AW_BIN/server" "$@"
	local v=${name}_PID p=${name}_PORT
	PID=${!v} PORT=${!p}
}

serve_all() {
	local completed
	read -r _ completed _ < <("$AW_BIN/burst" --port "$1" -n "$2")
	[ "$completed" = "$2" ] || aw_fail "$3: client completed $completed of $2"
}

# /dev/shm read-only: process memory, one line, every connection served.
start_in_mountns ro "mount -o remount,ro,bind /dev/shm" --backlog 32
serve_all "$PORT" 20 "read-only /dev/shm"
n=$(grep -c "cannot create shared memory segment /acceptwatch.$PID: Read-only file system; counting in process memory only" "$AW_TMP/ro.err")
[ "$n" = 1 ] || aw_fail "read-only: said $n times: $(cat "$AW_TMP/ro.err")"
grep -q "listen fd=.*requested=32" "$AW_TMP/ro.err" || aw_fail "read-only: no listen line"
aw_stop "$PID"

# /dev/shm nearly full: the segment fits (what is backed at creation, the
# header, table and ring, is 22 KiB; a stack takes a page or two when it is
# kept), the listener's first stripe (14 KiB) does not. Pages are
# backed before use, so no write can meet a full tmpfs (SIGBUS); the shim
# goes on counting in process memory, and the segment keeps the listener
# and says why its figures end. Not a full table: no
# listener is lost. (Before: the listener was dropped and the reader blamed
# a full table.)
start_in_mountns full "mount -t tmpfs -o size=36k tmpfs /dev/shm" --backlog 32
serve_all "$PORT" 20 "full /dev/shm"
n=$(grep -c "cannot back more figures with shared memory: No space left on device; counting in process memory from now on" "$AW_TMP/full.err")
[ "$n" = 1 ] || aw_fail "full: said $n times: $(cat "$AW_TMP/full.err")"
nsenter -m -t "$PID" "$AW_TOOL" stat --json "$PID" >"$AW_TMP/full.json" ||
	aw_fail "full: segment unreadable"
aw_expect "$AW_TMP/full.json" "processes[0]['listeners_lost']" 0
aw_expect "$AW_TMP/full.json" "len(processes[0]['listeners'])" 1
aw_expect "$AW_TMP/full.json" "processes[0]['listeners'][0]['requested_backlog']" 32
aw_expect "$AW_TMP/full.json" "processes[0]['detached']['reason']" "No space left on device"
nsenter -m -t "$PID" "$AW_TOOL" stat "$PID" >"$AW_TMP/full.txt"
grep -q "figures below end at .*: no more shared memory for them (No space left on device)" "$AW_TMP/full.txt" ||
	aw_fail "full: text does not say why: $(cat "$AW_TMP/full.txt")"
nsenter -m -t "$PID" "$AW_TOOL" check "$PID" >"$AW_TMP/full.check"
[ $? = 3 ] || aw_fail "full: check did not exit 3 (UNKNOWN: incomplete)"
grep -q "INCOMPLETE: figures no longer written" "$AW_TMP/full.check" ||
	aw_fail "full: check: $(cat "$AW_TMP/full.check")"
aw_stop "$PID"

# /dev/shm too small for even the fixed parts: process memory.
start_in_mountns tiny "mount -t tmpfs -o size=8k tmpfs /dev/shm" --backlog 32
serve_all "$PORT" 20 "tiny /dev/shm"
grep -q "cannot create shared memory segment .*No space left on device" "$AW_TMP/tiny.err" ||
	aw_fail "tiny: $(cat "$AW_TMP/tiny.err")"
aw_stop "$PID"

# Listener table full: 65 listeners (SO_REUSEPORT) for 64 slots. The 65th
# is not tracked; the other 64 are, and connections all get served.
LD_PRELOAD=$AW_SHIM aw_start_server T --backlog 8 --reuseport 65
serve_all "$T_PORT" 50 "table full"
n=$(grep -c "listener table full (64 open listeners): further listeners are not tracked" "$T_ERR")
[ "$n" = 1 ] || aw_fail "table full: said $n times"
"$AW_TOOL" stat --json "$T_PID" >"$AW_TMP/t.json"
aw_expect "$AW_TMP/t.json" "processes[0]['listeners_lost']" 1
aw_expect "$AW_TMP/t.json" "len(processes[0]['listeners'])" 64
accepted=$(python3 -c 'import json,sys; print(sum(l["accepts"] for l in json.load(open(sys.argv[1]))["processes"][0]["listeners"]))' "$AW_TMP/t.json")
[ "$accepted" -le 50 ] && [ "$accepted" -ge 40 ] ||
	aw_fail "table full: tracked listeners accepted $accepted of 50"
# check does not call the process all OK while a listener goes untracked.
"$AW_TOOL" check "$T_PID" >"$AW_TMP/t.check"
[ $? = 3 ] || aw_fail "table full: check did not exit 3 (UNKNOWN: incomplete)"
grep -q "INCOMPLETE: 1 listener not tracked (table full); not checked" "$AW_TMP/t.check" ||
	aw_fail "table full: check: $(cat "$AW_TMP/t.check")"
echo ok
