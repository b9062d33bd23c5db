#!/usr/bin/env bash
# IPv4, IPv6 and Unix-domain listeners, accept() and accept4(): addresses
# as the reader prints them, the kernel's backlog for TCP (computed for
# Unix, and marked so), and exact accept counts.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 32 "$@"
L="processes[0]['listeners'][0]"

check() { # FILE ADDRESS EFFECTIVE COMPUTED ACCEPTS
	aw_expect "$1" "$L['address']" "$2"
	aw_expect "$1" "$L['effective_backlog']" "$3"
	aw_expect "$1" "$L['computed']" "$4"
	aw_expect "$1" "$L['accepts']" "$5"
}

LD_PRELOAD=$AW_SHIM aw_start_server S6 --addr ::1 --backlog 20
read -r _ completed _ < <("$AW_BIN/burst" --addr ::1 --port "$S6_PORT" -n 7)
[ "$completed" = 7 ] || aw_fail "IPv6: completed $completed"
"$AW_TOOL" stat --json "$S6_PID" >"$AW_TMP/6.json"
check "$AW_TMP/6.json" "[::1]:$S6_PORT" 20 False 7
aw_expect "$AW_TMP/6.json" "$L['family']" inet6
aw_expect "$AW_TMP/6.json" "$L['live']" True

LD_PRELOAD=$AW_SHIM aw_start_server S4 --backlog 20 --use-accept
read -r _ completed _ < <("$AW_BIN/burst" --port "$S4_PORT" -n 5)
[ "$completed" = 5 ] || aw_fail "accept(): completed $completed"
"$AW_TOOL" stat --json "$S4_PID" >"$AW_TMP/4.json"
check "$AW_TMP/4.json" "127.0.0.1:$S4_PORT" 20 False 5

LD_PRELOAD=$AW_SHIM aw_start_server U --unix "$AW_TMP/s.sock" --backlog 12
read -r _ completed _ < <("$AW_BIN/burst" --unix "$AW_TMP/s.sock" -n 6)
[ "$completed" = 6 ] || aw_fail "Unix: completed $completed"
"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/u.json"
check "$AW_TMP/u.json" "$AW_TMP/s.sock" 12 True 6
aw_expect "$AW_TMP/u.json" "$L['family']" unix
echo ok
