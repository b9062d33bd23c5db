#!/usr/bin/env bash
# acceptwatch serve keeps what cannot change between scrapes (proc_cache.h):
#  - a second scrape of an unchanged process does not read its
#    /proc/PID/maps again (strace: one open over two scrapes);
#  - a process that exec'd a program without the shim (a raw execve: its
#    pid, start time and segment file stay) is read again at the next
#    scrape and its series are gone, as on the first scrape after such an
#    exec: the cache never answers for another image.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
for t in curl strace python3; do
	command -v "$t" >/dev/null || aw_skip "$t is not installed (make deps)"
done
S=/dev/shm/acceptwatch

mkfifo "$AW_TMP/go"
LD_PRELOAD=$AW_REL_SHIM python3 "$AW_ROOT/tests/e2e/listen_raw_exec.py" --wait \
	<"$AW_TMP/go" >"$AW_TMP/x.out" 2>"$AW_TMP/x.err" &
X_PID=$!
aw_register_pid "$X_PID"
exec 7>"$AW_TMP/go" # the script's stdin opens once this end does
has_segment() { [ -f "$S.$X_PID" ] && grep -q listening "$AW_TMP/x.out"; }
aw_wait_for 30 has_segment || aw_fail "no segment for $X_PID: $(cat "$AW_TMP/x.err")"
aw_start_exporter E "$AW_TOOL" serve --listen "127.0.0.1:$(aw_free_port)"
# Attached, not started under strace: killed, strace leaves its tracee
# running, and the exporter is the test's to stop.
strace -f -qq -e trace=openat -o "$AW_TMP/strace" -p "$E_PID" 2>"$AW_TMP/strace.err" &
aw_register_pid "$!"
traced() {
	local t
	for t in /proc/"$E_PID"/task/*; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' "$t/status" || return 1
	done
}
aw_wait_for 30 traced || aw_fail "strace did not attach: $(cat "$AW_TMP/strace.err")"
scrape() { curl -sf -o "$AW_TMP/$1.prom" "$E_URL" || aw_fail "scrape $1 failed"; }
maps_opens() { grep -c "/proc/$X_PID/maps" "$AW_TMP/strace"; }
procs() { sed -n 's/^acceptwatch_processes //p' "$AW_TMP/$1.prom"; }

scrape 1
scrape 2
[ "$(procs 1)" = 1 ] && [ "$(procs 2)" = 1 ] ||
	aw_fail "live processes: $(procs 1), $(procs 2) (want 1, 1)"
grep -q '^acceptwatch_accepts_total{' "$AW_TMP/2.prom" ||
	aw_fail "no series of the live process: $(grep -v '^#' "$AW_TMP/2.prom" | head -5)"
n=$(maps_opens)
[ "$n" = 1 ] || aw_fail "/proc/$X_PID/maps opened $n times in two scrapes (want 1: kept)"

echo go >&7
exec_sleep() { [ "$(readlink "/proc/$X_PID/exe")" = /usr/bin/sleep ]; }
aw_wait_for 30 exec_sleep || aw_fail "pid $X_PID did not exec sleep: $(cat "$AW_TMP/x.err")"
[ -f "$S.$X_PID" ] || aw_fail "the raw exec removed the segment: nothing to test"
scrape 3
[ "$(procs 3)" = 0 ] ||
	aw_fail "after the exec without the shim: $(procs 3) live processes (want 0): a cached answer"
grep -q '^acceptwatch_accepts_total{' "$AW_TMP/3.prom" &&
	aw_fail "the exec'd process's series are still served"
n=$(maps_opens)
[ "$n" = 2 ] || aw_fail "/proc/$X_PID/maps opened $n times in three scrapes (want 2: read again after the exec)"
echo ok
