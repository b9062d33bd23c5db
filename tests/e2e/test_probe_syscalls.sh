#!/usr/bin/env bash
# Syscalls per probe, slow periods included: a loop that sleeps 2 ms after
# each accept under a 1 ms threshold is slow at every accept, so every call
# probes (the queue at entry, the connection's wait at exit) and records a
# slow event (a stack capture and a warning line, both at most once a
# second). Counted with strace -c attached after start-up: besides the
# server's own calls (accept4, sendto, close, its sleep), the shim may make
# at most 2 syscalls per probe, warning lines included; never gettid, and
# rt_sigprocmask only for the warning lines (2 each: SIGPIPE blocked around
# the write). A few slow connections first, untraced: the loop's first slow
# event unwinds a stack never seen (libunwind's lookups mask signals).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
command -v strace >/dev/null || aw_skip "strace is not installed"
segpeek=$AW_ROOT/build/rel/bench/segpeek
[ -x "$segpeek" ] || aw_fail "$segpeek not built (make test-build)"
N=${AW_PROBE_CONNS:-1500}

LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_SLOW_MS=1 ACCEPTWATCH_LOG=stderr \
	aw_start S "$AW_ROOT/build/rel/tests/server" --backlog 4096 --delay-ms 2
read -r _ completed _ < <("$AW_BIN/burst" --port "$S_PORT" -n 20 --timeout-ms 60000)
[ "$completed" = 20 ] || aw_fail "warm-up: client completed $completed of 20"
strace -f -c -o "$AW_TMP/strace" -p "$S_PID" 2>"$AW_TMP/strace.err" &
tracer=$!
aw_register_pid "$tracer"
for ((i = 0; i < 200; i++)); do
	grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$S_PID/status" && break
	sleep 0.05
done
[ "$i" -lt 200 ] || aw_fail "strace did not attach: $(cat "$AW_TMP/strace.err")"
# Every thread attached (strace attaches them one by one).
sleep 0.5
read -r _ completed _ failed < <("$AW_BIN/burst" --port "$S_PORT" -n "$N" --timeout-ms 120000)
[ "$completed" = "$N" ] || aw_fail "client completed $completed of $N (failed $failed)"
read -r _ accepts _ probes _ slow _ <<<"$("$segpeek" "$S_PID")" ||
	aw_fail "segpeek $S_PID"
kill -INT "$tracer"
wait "$tracer"
lines=$(grep -c "slow accept loop" "$S_ERR")
aw_stop "$S_PID"
cat "$AW_TMP/strace"
[ "$accepts" = $((N + 20)) ] || aw_fail "shim counted $accepts accepts of $N + 20"
# Slow at (nearly) every accept: each probes twice over.
[ "$slow" -ge $((N * 9 / 10)) ] || aw_fail "only $slow slow events in $N accepts"
[ "$probes" -ge $((N * 9 / 10)) ] || aw_fail "only $probes probes in $N accepts"
awk -v probes="$probes" -v lines="$lines" '
	$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $NF != "syscall" {
		n = $(NF - 1) ~ /^[0-9]+$/ ? $(NF - 1) : $(NF - 2)
		if ($NF ~ /^(accept4?|write|sendto|close|clock_nanosleep|nanosleep|restart_syscall)$/)
			next
		shim += n; by = by " " $NF "=" n
		if ($NF == "gettid" || ($NF == "rt_sigprocmask" && n > 2 * lines))
			bad = bad " " $NF "=" n
	}
	END {
		printf "shim syscalls %d in %d probes (%.3f per probe), %d warning lines:%s\n", shim, probes, shim / probes, lines, by
		if (bad != "") { print "FAIL: on the probe path:" bad; exit 1 }
		if (shim > 2 * probes) { print "FAIL: more than 2 syscalls per probe"; exit 1 }
	}' "$AW_TMP/strace" || exit 1
echo ok
