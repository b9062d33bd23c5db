#!/usr/bin/env bash
# stat --json (and check, listeners): a "schema" version; UTF-8 kept as it is (a server whose name
# is café comes back as café through python and jq, where it used to be
# Ã©); the millisecond twins of figures past 2^53 agree with the
# nanosecond ones (computed exactly, in python integers) and jq, which
# holds numbers as doubles, reads them exactly.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
command -v jq >/dev/null || aw_skip "jq is not installed (make deps)"

# comm is the first 15 bytes of the executable's name: "café" in UTF-8.
name=$'caf\xc3\xa9-srv'
ln -s "$AW_BIN/server" "$AW_TMP/$name"
LD_PRELOAD=$AW_SHIM "$AW_TMP/$name" --backlog 8 --delay-ms 60 >"$AW_TMP/c.out" 2>"$AW_TMP/c.err" &
C_PID=$!
aw_register_pid "$C_PID"
for ((i = 0; i < 100; i++)); do
	read -r line <"$AW_TMP/c.out" && [[ $line == "ready "* ]] && break
	sleep 0.05
done
C_PORT=${line#ready }
[ -n "$C_PORT" ] || aw_fail "server not ready: $(cat "$AW_TMP/c.err")"
"$AW_BIN/burst" --port "$C_PORT" -n 4 --timeout-ms 5000 >/dev/null
"$AW_TOOL" stat --json "$C_PID" >"$AW_TMP/s.json" || aw_fail "stat --json"
grep -q "\"comm\":\"$name\"" "$AW_TMP/s.json" || aw_fail "UTF-8 not kept byte for byte: $(grep -o '"comm":"[^"]*"' "$AW_TMP/s.json")"
[ "$(jq -r '.processes[0].comm' "$AW_TMP/s.json")" = "$name" ] || aw_fail "jq reads comm as $(jq -r '.processes[0].comm' "$AW_TMP/s.json")"
[ "$(jq '.schema' "$AW_TMP/s.json")" = 2 ] || aw_fail "schema: $(jq '.schema' "$AW_TMP/s.json")"

python3 - "$AW_TMP/s.json" <<'PY' || aw_fail "ms twins"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d)[0] == "schema", list(d)[:3]
p = d["processes"][0]
assert p["comm"] == "caf\u00e9-srv", repr(p["comm"])
assert p["start_real_ns"] > 2**53, "the test needs a figure past 2^53"
assert p["start_real_ms"] == p["start_real_ns"] // 10**6, p
L = p["listeners"][0]
assert L["last_accept_age_ms"] == L["last_accept_age_ns"] // 10**6, L
for k in ("gap_ns", "away_ns"):
    assert L[k]["sum_ms"] == L[k]["sum"] // 10**6, (k, L[k])
assert "sum_ms" not in L["queue_wait_ms"], L["queue_wait_ms"]
ev = p["events"]
assert ev, "no slow event (60 ms away, 50 ms threshold)"
for e in ev:
    assert e["time_real_ms"] == e["time_real_ns"] // 10**6, e
print("start_real_ms", p["start_real_ms"], "events", len(ev))
PY
# jq holds numbers as doubles: the ns figure comes back rounded, the ms one
# exact.
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["processes"][0]["start_real_ms"])' "$AW_TMP/s.json")
[ "$(jq '.processes[0].start_real_ms' "$AW_TMP/s.json")" = "$want" ] ||
	aw_fail "jq reads start_real_ms as $(jq '.processes[0].start_real_ms' "$AW_TMP/s.json"), want $want"
# Every JSON document the reader prints carries the schema.
"$AW_TOOL" check --json --interval 0 "$C_PID" >"$AW_TMP/c.json"
[ "$(jq '.schema' "$AW_TMP/c.json")" = 2 ] || aw_fail "check --json schema: $(head -c 100 "$AW_TMP/c.json")"
"$AW_TOOL" listeners --json >"$AW_TMP/l.json" || aw_fail "listeners --json"
[ "$(jq '.schema' "$AW_TMP/l.json")" = 2 ] || aw_fail "listeners --json schema: $(head -c 100 "$AW_TMP/l.json")"
echo ok
