#!/usr/bin/env bash
# tests/bench/exporter.sh - the exporter at scale, for `make bench` (run by
# tests/bench/run.sh, or alone): live segments of N processes made by
# mksegments (one listener each), read by `stat --json`, `stat
# --prometheus` and `serve` (GET /metrics, plain and gzip); then one
# pre-fork server of 1,000 processes on one socket (mksegments --shared).
#
# Prints a table, a line a measure with its budget verdict, on stdout:
#   10,000 live segments scraped in <= 1 s, the exporter at <= 64 MiB;
#   the pre-fork server's default answer <= 100 KB uncompressed.
# Besides wall time, each GET's CPU time in the exporter (user + system,
# from /proc/PID/stat: less at the mercy of other tenants than the wall
# clock) and, with strace, its system calls a process in a scrape after
# the first (the exporter keeps what cannot change between scrapes).
# A benchmark, never a timed test. As root, in a private mount namespace
# with its own /dev/shm, so that nothing it makes is seen outside it.
#
# Environment: AW_BENCH_EXPORTER_N (default "1000 4000 10000").
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
if [ "$(id -u)" = 0 ] && [ -z "${AW_EXPORTER_IN_NS:-}" ] &&
	unshare -m true 2>/dev/null; then
	AW_EXPORTER_IN_NS=1 exec unshare -m bash -c \
		'mount -t tmpfs -o size=2g,mode=1777 tmpfs /dev/shm && exec bash "$0" "$@"' \
		"$0" "$@"
fi

MK=$ROOT/build/rel/bench/mksegments
SHIM=$ROOT/shim/libacceptwatch.so
TOOL=$ROOT/tools/acceptwatch
SIZES=${AW_BENCH_EXPORTER_N:-1000 4000 10000}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
for f in "$MK" "$SHIM" "$TOOL"; do
	[ -e "$f" ] || { echo "exporter bench: $f missing (make bench)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "exporter bench: no curl" >&2; exit 1; }
# More than 10,000 processes and their sockets.
ulimit -n 65536 2>/dev/null
ulimit -u unlimited 2>/dev/null

median() { sort -n | awk '{a[NR] = $1} END {print (NR ? a[int((NR + 1) / 2)] : "?")}'; }
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", (b - a) * 1000}'; }
pf() { awk "BEGIN{exit !($1)}" && echo PASS || echo MISS; }
row() { printf '%-52s %14s  %s\n' "$@"; }

# mk [--shared] N: mksegments as a coprocess, until mk_stop.
mk() {
	local line
	coproc MKP { env "LD_PRELOAD=$SHIM" ACCEPTWATCH_LOG=none "$MK" "$@" --max-ms 300000 2>"$TMP/mk.err"; }
	PIDS+=("$MKP_PID")
	MK_IN=${MKP[1]}
	MK_OUT=${MKP[0]}
	read -r -t 300 line <&"$MK_OUT"
	[[ $line == "ready "* ]] && return 0
	echo "exporter bench: mksegments $*: ${line:-no answer} $(head -c 300 "$TMP/mk.err")" >&2
	return 1
}
mk_stop() {
	local line
	echo stop >&"$MK_IN"
	read -r -t 60 line <&"$MK_OUT"
	wait "$MKP_PID" 2>/dev/null
}
# time_rss OUT CMD...: "ms rss_kib" of one run, output in OUT.
time_rss() {
	local out=$1 t0
	shift
	t0=$EPOCHREALTIME
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$TMP/rss" "$@" >"$out" 2>/dev/null
	else # no peak RSS without GNU time (Debian: time)
		"$@" >"$out" 2>/dev/null
		echo 0 >"$TMP/rss"
	fi
	echo "$(ms_since "$t0") $(cat "$TMP/rss")"
}
# best3 OUT CMD...: median ms of 3 runs and the largest RSS.
best3() {
	local i ms=() rss=0 m r
	for i in 1 2 3; do
		read -r m r <<<"$(time_rss "$@")"
		ms+=("$m")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	echo "$(printf '%s\n' "${ms[@]}" | median) $rss"
}
serve_start() {
	local i line
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$TOOL" serve --listen "127.0.0.1:$port" "$@" 2>"$TMP/serve.err" &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	for ((i = 0; i < 200; i++)); do
		line=$(grep -m1 serving "$TMP/serve.err") && break
		sleep 0.05
	done
	URL=${line##* }
}
serve_stop() {
	kill "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
}
# The exporter's CPU time so far, ms (user + system).
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.0f", ($12 + $13) * 1000 / hz}' \
		"/proc/$SERVE_PID/stat"
}
# scrape OUT [curl options]: "wall cpu", the medians in ms of 3 GETs.
scrape() {
	local out=$1 i t0 c0 ms=() cpu=()
	shift
	for i in 1 2 3; do
		t0=$EPOCHREALTIME
		c0=$(cpu_ms)
		curl -sf "$@" -o "$out" "$URL" || { echo "? ?"; return; }
		ms+=("$(ms_since "$t0")")
		cpu+=($(($(cpu_ms) - c0)))
	done
	echo "$(printf '%s\n' "${ms[@]}" | median) $(printf '%s\n' "${cpu[@]}" | median)"
}
# System calls of one more GET (the exporter has scraped before), a
# process: strace attached for that GET alone. "-" without strace.
syscalls_per_proc() {
	local n=$1 i t st calls
	command -v strace >/dev/null || { echo -; return; }
	strace -f -c -o "$TMP/strace" -p "$SERVE_PID" 2>/dev/null &
	st=$!
	# Attached once every thread of the exporter has a tracer.
	for ((i = 0; i < 200; i++)); do
		calls=0
		for t in /proc/"$SERVE_PID"/task/*; do
			grep -q '^TracerPid:[[:space:]]*[1-9]' "$t/status" || calls=1
		done
		[ "$calls" = 0 ] && break
		sleep 0.05
	done
	curl -sf -o /dev/null "$URL"
	kill -INT "$st"
	wait "$st" 2>/dev/null
	# "% time, seconds, usecs/call, calls, [errors,] total"
	calls=$(awk '$NF == "total" {print $4}' "$TMP/strace")
	awk -v c="${calls:-0}" -v n="$n" 'BEGIN {printf "%.1f", c / n}'
}
series() { grep -vc '^#' "$1"; }
kib() { awk -v b="$(wc -c <"$1")" 'BEGIN {printf "%.0f", b / 1024}'; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

echo "exporter at scale ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-8s %-16s %-16s %-10s %-10s %-9s %-13s %-13s %-9s %-10s %s\n' \
	"procs" "stat --json" "stat --prom" "body KiB" "gzip KiB" "series" \
	"GET ms (cpu)" "GET gz (cpu)" "calls/p" "VmHWM MiB" "load"
declare -A BUDGET
for n in $SIZES; do
	if ! mk -n "$n"; then
		echo "exporter bench: mksegments -n $n failed" >&2
		mk_stop
		continue
	fi
	read -r jms jrss <<<"$(best3 "$TMP/s.json" "$TOOL" stat --json)"
	read -r pms prss <<<"$(best3 "$TMP/s.prom" "$TOOL" stat --prometheus)"
	serve_start
	read -r gms gcpu <<<"$(scrape "$TMP/g.prom")"
	read -r zms zcpu <<<"$(scrape "$TMP/g.gz" -H 'Accept-Encoding: gzip')"
	calls=$(syscalls_per_proc "$n")
	h=$(hwm "$SERVE_PID")
	serve_stop
	mk_stop
	printf '%-8s %-16s %-16s %-10s %-10s %-9s %-13s %-13s %-9s %-10s %s\n' "$n" \
		"${jms}ms $((jrss / 1024))MiB" "${pms}ms $((prss / 1024))MiB" \
		"$(kib "$TMP/g.prom")" "$(kib "$TMP/g.gz")" "$(series "$TMP/g.prom")" \
		"$gms ($gcpu)" "$zms ($zcpu)" "$calls" "$((h / 1024))" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	BUDGET[$n]="$gms $zms $h $prss $gcpu $zcpu"
done
echo
if [ -n "${BUDGET[10000]:-}" ]; then
	read -r gms zms h prss gcpu zcpu <<<"${BUDGET[10000]}"
	row "serve: GET /metrics, 10000 live procs, ms" "$gms" "<= 1000: $(pf "${gms/\?/1e9} <= 1000")"
	row "  its CPU time in the exporter (user+sys), ms" "$gcpu" "<= 1000: $(pf "${gcpu/\?/1e9} <= 1000")"
	row "serve: same, gzip, ms" "$zms" "<= 1000: $(pf "${zms/\?/1e9} <= 1000")"
	row "  its CPU time in the exporter (user+sys), ms" "$zcpu" "<= 1000: $(pf "${zcpu/\?/1e9} <= 1000")"
	row "serve: peak RSS (VmHWM) after them, MiB" "$(awk -v k="$h" 'BEGIN{printf "%.1f", k/1024}')" \
		"<= 64: $(pf "$h <= 65536")"
	row "stat --prometheus, 10000 live procs, peak RSS MiB" "$(awk -v k="$prss" 'BEGIN{printf "%.1f", k/1024}')" \
		"<= 64: $(pf "$prss <= 65536")"
fi
# One pre-fork server: 1,000 processes on one socket.
if mk -n 999 --shared; then
	serve_start
	scrape "$TMP/f.prom" >/dev/null
	serve_stop
	serve_start --by-process
	scrape "$TMP/fp.prom" >/dev/null
	serve_stop
	mk_stop
	b=$(wc -c <"$TMP/f.prom")
	row "pre-fork, 1000 procs one socket: body KiB, series" "$(kib "$TMP/f.prom"), $(series "$TMP/f.prom")" \
		"<= 100 KB: $(pf "$b <= 100000")"
	row "  same, --by-process: body KiB, series" "$(kib "$TMP/fp.prom"), $(series "$TMP/fp.prom")" "-"
else
	echo "exporter bench: mksegments --shared failed" >&2
	mk_stop
fi
