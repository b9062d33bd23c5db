#!/usr/bin/env bash
# The clamp, against a lowered somaxconn (16) in a private network namespace:
# requested and effective backlogs as the kernel applies them, the CLAMPED
# mark, the log line, a second listen() updating the record, and a Unix
# listener's computed backlog.
. "$AW_ROOT/tests/lib.sh"
# The checks below read the shim's lines on the server's stderr.
export ACCEPTWATCH_LOG=stderr
aw_enter_netns 16 "$@"

# listen(fd, 128) with somaxconn 16: effective 16, CLAMPED.
LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 128
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/s.json" || aw_fail "stat failed"
L="processes[0]['listeners'][0]"
aw_expect "$AW_TMP/s.json" "$L['requested_backlog']" 128
aw_expect "$AW_TMP/s.json" "$L['effective_backlog']" 16
aw_expect "$AW_TMP/s.json" "$L['clamped']" True
aw_expect "$AW_TMP/s.json" "processes[0]['somaxconn']" 16
grep -q "listen fd=[0-9]* 127.0.0.1:$S_PORT requested=128 effective=16 somaxconn=16 CLAMPED" \
	"$S_ERR" || aw_fail "no CLAMPED log line: $(cat "$S_ERR")"
"$AW_TOOL" stat "$S_PID" | grep -q "requested 128 effective 16.*CLAMPED" ||
	aw_fail "text output lacks the clamp"
# The kernel agrees: ss shows Send-Q 16 for this listener.
ss -ltn "sport = :$S_PORT" | grep -q " 16 " || aw_fail "ss disagrees"

# Edge values: -1 means "as many as allowed", 0 stays 0, 5 is kept.
for pair in "-1 16 True" "0 0 False" "5 5 False" "16 16 False" "17 16 True"; do
	set -- $pair
	LD_PRELOAD=$AW_SHIM aw_start_server E --backlog "$1"
	"$AW_TOOL" stat --json "$E_PID" >"$AW_TMP/e.json"
	aw_expect "$AW_TMP/e.json" "$L['requested_backlog']" "$1"
	aw_expect "$AW_TMP/e.json" "$L['effective_backlog']" "$2"
	aw_expect "$AW_TMP/e.json" "$L['clamped']" "$3"
	aw_stop "$E_PID"
done

# A second listen() on the same socket changes its backlog at once.
LD_PRELOAD=$AW_SHIM aw_start_server R --backlog 8 --relisten 100
"$AW_TOOL" stat --json "$R_PID" >"$AW_TMP/r.json"
aw_expect "$AW_TMP/r.json" "$L['requested_backlog']" 100
aw_expect "$AW_TMP/r.json" "$L['effective_backlog']" 16
aw_expect "$AW_TMP/r.json" "$L['clamped']" True
aw_expect "$AW_TMP/r.json" "$L['listen_calls']" 2
grep -q "relisten fd=.* requested=100 effective=16 .*(was requested=8 effective=8)" \
	"$R_ERR" || aw_fail "no relisten log line: $(cat "$R_ERR")"

# Unix listener: no TCP_INFO, so min(backlog, somaxconn), marked computed.
LD_PRELOAD=$AW_SHIM aw_start_server U --unix "$AW_TMP/u.sock" --backlog 128
"$AW_TOOL" stat --json "$U_PID" >"$AW_TMP/u.json"
aw_expect "$AW_TMP/u.json" "$L['address']" "$AW_TMP/u.sock"
aw_expect "$AW_TMP/u.json" "$L['effective_backlog']" 16
aw_expect "$AW_TMP/u.json" "$L['computed']" True
aw_expect "$AW_TMP/u.json" "$L['clamped']" True
echo "ok"
