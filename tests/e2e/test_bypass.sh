#!/usr/bin/env bash
# Programs out of LD_PRELOAD's reach are named, not shown as zeros: a static
# server (no ELF interpreter, so the shim never loads) is listed by
# `acceptwatch listeners` as "no shim: static binary", and a process under
# the shim that holds an io_uring ring (accepts submitted to a ring never
# call accept()) is marked in `stat`.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"

static=$AW_ROOT/build/rel/tests/server-static
LD_PRELOAD=$AW_REL_SHIM aw_start S "$static" --backlog 9
pid=$S_PID port=$S_PORT
[ -e "/dev/shm/acceptwatch.$pid" ] && aw_fail "a segment for a static binary?"
grep -q acceptwatch "$S_ERR" && aw_fail "the shim loaded into a static binary?"
"$AW_TOOL" listeners >"$AW_TMP/l.txt" || aw_fail "listeners failed"
grep -q "127.0.0.1:$port .*(no shim: static binary) *$pid/server" "$AW_TMP/l.txt" ||
	aw_fail "static binary not named: $(cat "$AW_TMP/l.txt")"
"$AW_TOOL" listeners --json >"$AW_TMP/l.json"
python3 - "$AW_TMP/l.json" "$port" <<'PY' || aw_fail "listeners --json lacks the bypass"
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["listeners"]
        if r["address"] == "127.0.0.1:" + sys.argv[2]]
assert rows and rows[0]["owners"][0]["bypass"] == "static binary", rows
assert rows[0]["owners"][0]["shim"] is False
PY
aw_stop "$pid"

: >"$AW_TMP/u.out"
LD_PRELOAD=$AW_SHIM "$AW_BIN/uring_hold" >"$AW_TMP/u.out" 2>"$AW_TMP/u.err" &
pid=$!
aw_register_pid "$pid"
for _ in $(seq 100); do
	grep -q . "$AW_TMP/u.out" && break
	sleep 0.05
done
if grep -q "^no-io_uring" "$AW_TMP/u.out"; then
	aw_skip "the kernel refuses io_uring here ($(cat "$AW_TMP/u.out")); static part passed"
fi
grep -q "^ready" "$AW_TMP/u.out" || aw_fail "uring_hold: $(cat "$AW_TMP/u.out" "$AW_TMP/u.err")"
"$AW_TOOL" stat --json "$pid" >"$AW_TMP/u.json" || aw_fail "no segment"
aw_expect "$AW_TMP/u.json" "processes[0]['io_uring']" True
"$AW_TOOL" stat "$pid" | grep -q "uses io_uring: accepts submitted to a ring" ||
	aw_fail "text lacks the io_uring note"
# and a plain server says nothing of the kind
LD_PRELOAD=$AW_SHIM aw_start_server P --backlog 8
"$AW_TOOL" stat --json "$P_PID" >"$AW_TMP/p.json"
aw_expect "$AW_TMP/p.json" "processes[0]['io_uring']" False
echo ok
