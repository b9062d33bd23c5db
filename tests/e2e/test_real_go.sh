#!/usr/bin/env bash
# A real Go binary (Debian's prometheus) started under `acceptwatch run`:
# Go's runtime makes its own accept4 system calls, so the shim loads but
# never sees the listener. The reader must say so: `listeners` names the
# owner "no shim: Go binary" and `stat PID` says why there is no segment,
# instead of "has not listened nor accepted" (prometheus listens at once).
# Real Go binaries carry the note "Go\0\0" (name size 4).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh"
rs_need prometheus readelf

readelf -n /usr/bin/prometheus | grep -q "^ *Go  *0x[0-9a-f]*	*GO BUILDID" ||
	aw_fail "prometheus carries no Go build-ID note: $(readelf -n /usr/bin/prometheus)"

port=19191
mkdir -p "$AW_TMP/tsdb"
printf 'global:\n  scrape_interval: 1h\n' >"$AW_TMP/prom.yml"
"$AW_REL_TOOL" run -- prometheus --config.file="$AW_TMP/prom.yml" \
	--storage.tsdb.path="$AW_TMP/tsdb" --web.listen-address="127.0.0.1:$port" \
	--log.level=warn >"$AW_TMP/prom.out" 2>&1 &
run_pid=$!
aw_register_pid "$run_pid"
rs_wait_listen "$port"
# run waits for its command: prometheus is its child.
read -r pid _ <"/proc/$run_pid/task/$run_pid/children"
grep -q libacceptwatch "/proc/$pid/maps" || aw_fail "the shim is not loaded into prometheus"

"$AW_REL_TOOL" listeners >"$AW_TMP/l.txt" || aw_fail "listeners failed: $(cat "$AW_TMP/l.txt")"
cat "$AW_TMP/l.txt"
grep -q "127.0.0.1:$port .*(no shim: Go binary) *$pid/prometheus" "$AW_TMP/l.txt" ||
	aw_fail "prometheus not named a Go binary: $(cat "$AW_TMP/l.txt")"

"$AW_REL_TOOL" stat "$pid" >"$AW_TMP/s.txt" 2>&1
rc=$?
cat "$AW_TMP/s.txt"
[ "$rc" != 0 ] || aw_fail "stat of a Go binary exit 0: $(cat "$AW_TMP/s.txt")"
grep -q "not listened nor accepted" "$AW_TMP/s.txt" &&
	aw_fail "stat blames prometheus for not listening: $(cat "$AW_TMP/s.txt")"
grep -q "pid $pid (prometheus) is a Go binary" "$AW_TMP/s.txt" ||
	aw_fail "stat does not say Go binary: $(cat "$AW_TMP/s.txt")"
echo ok
