#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: what the shim costs, side by side.
#
# A benchmark, never a timed test: it prints figures and a budget verdict
# per line, and exits 0 unless a measurement could not be taken at all.
# Writes the table to build/bench/results.txt and, with the machine it came
# from, to build/bench/RESULTS.md: never over a tracked file
# (tests/bench/RESULTS.md is a copy made by hand, for the README).
#
# As root it runs in a private network and mount namespace (unshare -nm):
# lo up, somaxconn raised, tracefs mounted for bpftrace, nothing left on the
# host. Otherwise it stays within the host's somaxconn and skips what needs
# root. Loopback only; every loop is bounded in count and time; every
# process and segment it makes is removed at exit.
#
# Environment: AW_BENCH_PAIRS (drain pairs, default 11), AW_BENCH_N (drain
# queue length, default 4000), AW_BENCH_STORM_MS (default 2000),
# AW_BENCH_STORM_PAIRS (default 8), AW_BENCH_CONTROL_PAIRS (pairs of the
# bare-against-bare controls, default 4), AW_BENCH_SEGMENTS (default 1000),
# AW_BENCH_EXPORTER_N (tests/bench/exporter.sh, default "1000 4000 10000").
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

if [ "$(id -u)" = 0 ] && [ -z "${AW_BENCH_IN_NS:-}" ] &&
	unshare -nm true 2>/dev/null; then
	AW_BENCH_IN_NS=1 exec unshare -nm bash "$0" "$@"
fi

BENCH=$ROOT/build/rel/bench
TBIN=$ROOT/build/rel/tests
SHIM=$ROOT/shim/libacceptwatch.so
TOOL=$ROOT/tools/acceptwatch
OUT_DIR=$ROOT/build/bench
OUT_TXT=$OUT_DIR/results.txt
OUT_MD=$OUT_DIR/RESULTS.md
PAIRS=${AW_BENCH_PAIRS:-11}
N=${AW_BENCH_N:-4000}
STORM_MS=${AW_BENCH_STORM_MS:-2000}
STORM_PAIRS=${AW_BENCH_STORM_PAIRS:-8}
CONTROL_PAIRS=${AW_BENCH_CONTROL_PAIRS:-4}
NSEG=${AW_BENCH_SEGMENTS:-1000}
AW_BENCH_EXPORTER_N_SHOWN=${AW_BENCH_EXPORTER_N:-1000 4000 10000} # exporter.sh
ROUNDS=5
SHIM_ENV=(env "LD_PRELOAD=$SHIM" ACCEPTWATCH_LOG=none)

for f in "$BENCH/drain" "$BENCH/storm" "$BENCH/mksegments" \
	"$BENCH/segpeek" "$BENCH/stackcost" "$TBIN/server" "$SHIM" "$TOOL"; do
	[ -x "$f" ] || [ -f "$f" ] || {
		echo "bench: missing $f (run: make bench)"
		exit 1
	}
done

TMP=$(mktemp -d /tmp/aw-bench.XXXXXX) || exit 1
PIDS=()
SEGS=()
MK_FD=

alive() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		alive "$pid" || break
		sleep 0.05
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	local pid s
	[ -n "$MK_FD" ] && exec {MK_FD}>&-
	for pid in "${PIDS[@]}"; do
		alive "$pid" && stop_pid "$pid"
	done
	for s in "${SEGS[@]}"; do
		rm -f "/dev/shm/acceptwatch.$s"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup ----------------------------------------------------------------
NOTES=()
note() { NOTES+=("$*"); }

if [ -n "${AW_BENCH_IN_NS:-}" ]; then
	ip link set lo up || exit 1
	sysctl -q -w net.core.somaxconn=65535
	sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
	sysctl -q -w net.ipv4.tcp_max_syn_backlog=65535
	if [ ! -d /sys/kernel/tracing/events ]; then
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	fi
	NSINFO="private netns (unshare -nm), somaxconn 65535"
else
	NSINFO="host netns, somaxconn $(cat /proc/sys/net/core/somaxconn)"
	somax=$(cat /proc/sys/net/core/somaxconn)
	if [ "$N" -gt "$somax" ]; then
		N=$somax
	fi
fi
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

median() { # numbers on stdin -> median (mean of the middle two if even)
	sort -g | awk '{a[NR]=$1} END{if(NR==0){print "nan";exit}
		if(NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
calc() { awk "BEGIN{printf \"$1\", $2}"; }

# On-CPU time of every thread of PID, in ns (schedstat), else utime+stime.
cpu_ns() {
	local t sum=0 a
	if [ -r "/proc/$1/schedstat" ]; then
		for t in /proc/"$1"/task/*/schedstat; do
			read -r a _ <"$t" 2>/dev/null && sum=$((sum + a))
		done
		echo "$sum"
	else
		awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /,""); print ($12+$13)*1e9/hz}' \
			"/proc/$1/stat"
	fi
}

SRV_PID= SRV_PORT=
SRV_ARGS=() # more server arguments (the slow storm's delay)
# start_server SHIM(0|1) MODE [prefix command...]
start_server() {
	local shim=$1 mode=$2 i line
	shift 2
	local out=$TMP/server.out
	: >"$out"
	if [ "$shim" = 1 ]; then
		"$@" "${SHIM_ENV[@]}" "$TBIN/server" --mode "$mode" --backlog 4096 \
			"${SRV_ARGS[@]}" --exit-after-ms 120000 >"$out" \
			2>"$TMP/server.err" &
	else
		"$@" "$TBIN/server" --mode "$mode" --backlog 4096 \
			"${SRV_ARGS[@]}" --exit-after-ms 120000 >"$out" \
			2>"$TMP/server.err" &
	fi
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	for ((i = 0; i < 200; i++)); do
		if read -r line <"$out" && [[ $line == "ready "* ]]; then
			SRV_PORT=${line#ready }
			return 0
		fi
		alive "$SRV_PID" || break
		sleep 0.025
	done
	echo "bench: server did not start: $(cat "$TMP/server.err")" >&2
	return 1
}

# The server's own pid when it runs under a tracer (strace forks it).
server_child() {
	local c
	c=$(pgrep -P "$SRV_PID" 2>/dev/null | head -1)
	echo "$c"
}

# Stop a server started under a tracer: the server first, so the tracer
# sees it exit and writes its summary; then the tracer, if still there.
stop_traced() {
	local sc i
	sc=$(server_child)
	[ -n "$sc" ] && kill -TERM "$sc" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		alive "$SRV_PID" || break
		sleep 0.05
	done
	stop_pid "$SRV_PID"
}

echo "acceptwatch bench: $(nproc) CPU, $NSINFO"

# --- 1. drain: per-accept cost from a pre-filled queue --------------------
drain_once() { # SHIM(0|1) [extra env/prefix...] -> "min median" ns/accept
	local shim=$1
	shift
	if [ "$shim" = 1 ]; then
		"${SHIM_ENV[@]}" "$@" "$BENCH/drain" --n "$N" --rounds "$ROUNDS"
	else
		"$@" "$BENCH/drain" --n "$N" --rounds "$ROUNDS"
	fi | awk '/^drain /{print $7, $5}'
}

# drain_pairs N SHIM_B: N pairs of a bare run (A) and a run with or without
# the shim (B: 0 is the control, bare against bare), interleaved A B B A;
# fills DA DB DR (best of rounds, ratio) and MA MB MR (medians of rounds).
drain_pairs() {
	local n=$1 bshim=$2 p a b amin amed bmin bmed
	DA=() DB=() DR=() MA=() MB=() MR=()
	for ((p = 0; p < n; p++)); do
		if ((p % 2 == 0)); then
			a=$(drain_once 0)
			b=$(drain_once "$bshim")
		else
			b=$(drain_once "$bshim")
			a=$(drain_once 0)
		fi
		if [ -z "$a" ] || [ -z "$b" ]; then
			echo "bench: drain failed" >&2
			exit 1
		fi
		read -r amin amed <<<"$a"
		read -r bmin bmed <<<"$b"
		DA+=("$amin") DB+=("$bmin") DR+=("$(calc %.4f "$bmin/$amin")")
		MA+=("$amed") MB+=("$bmed") MR+=("$(calc %.4f "$bmed/$amed")")
	done
}

# The lowest and highest of some ratios: "x0.95-1.06".
spread() {
	printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1}
		END{printf "x%.2f-%.2f", lo, hi}'
}

echo "drain: $PAIRS pairs, n=$N, $ROUNDS rounds each (A = bare, B = shim)..."
drain_pairs "$PAIRS" 1
# The pair whose ratio is the median (the upper one of two for an even
# count): the three figures printed side by side then belong together,
# where medians taken column by column need not on a noisy machine.
median_pair() { # NAME_A NAME_B NAME_RATIO -> "a b ratio"
	local -n xa=$1 xb=$2 xr=$3
	local i
	i=$(for k in "${!xr[@]}"; do echo "${xr[$k]} $k"; done | sort -g |
		awk -v m=$((${#xr[@]} / 2)) 'NR == m + 1 {print $2}')
	echo "${xa[$i]} ${xb[$i]} ${xr[$i]}"
}
read -r DRAIN_A DRAIN_B DRAIN_RATIO <<<"$(median_pair DA DB DR)"
read -r DRAIN_MA DRAIN_MB DRAIN_MRATIO <<<"$(median_pair MA MB MR)"
echo "  bare min-of-rounds ${DA[*]}"
echo "  shim min-of-rounds ${DB[*]}"
echo "  ratio per pair ${DR[*]} (medians of rounds: ${MR[*]})"
echo "drain control: $CONTROL_PAIRS pairs, both bare..."
drain_pairs "$CONTROL_PAIRS" 0
read -r _ _ CTL_DRAIN_RATIO <<<"$(median_pair DA DB DR)"
CTL_DRAIN_SPREAD=$(spread "${DR[@]}")
echo "  ratio per pair ${DR[*]}"

# Probes during the drain, from the shim's own counter (segment kept).
ACCEPTWATCH_KEEP=1 "${SHIM_ENV[@]}" "$BENCH/drain" --n "$N" \
	--rounds "$ROUNDS" >"$TMP/drain.keep" &
dpid=$!
SEGS+=("$dpid")
wait "$dpid"
DRAIN_PEEK=$("$BENCH/segpeek" "$dpid")
rm -f "/dev/shm/acceptwatch.$dpid"
# ms spent inside the timed accept loops
DRAIN_LOOP_MS=$(awk -v n="$N" '/^round /{s+=$4*n} END{printf "%.2f", s/1e6}' \
	"$TMP/drain.keep")
DRAIN_SAMPLES=$(awk '{print $4}' <<<"$DRAIN_PEEK")
DRAIN_ACCEPTS=$(awk '{print $2}' <<<"$DRAIN_PEEK")

# --- 2. storm: connections/s and server CPU per connection ----------------
storm_once() { # SHIM MODE -> "per_s cpu_ns_per_conn samples probe_s"
	local shim=$1 mode=$2 c0 c1 line conns rate peek=""
	start_server "$shim" "$mode" || return 1
	c0=$(cpu_ns "$SRV_PID")
	line=$("$BENCH/storm" --port "$SRV_PORT" --threads 2 \
		--duration-ms "$STORM_MS")
	c1=$(cpu_ns "$SRV_PID")
	[ "$shim" = 1 ] && peek=$("$BENCH/segpeek" "$SRV_PID")
	stop_pid "$SRV_PID"
	conns=$(awk '{print $3}' <<<"$line")
	rate=$(awk '{print $9}' <<<"$line")
	[ -n "$conns" ] && [ "$conns" -gt 0 ] || return 1
	local samples=0
	[ -n "$peek" ] && samples=$(awk '{print $4}' <<<"$peek")
	echo "$rate $(((c1 - c0) / conns)) $samples $(calc %.0f "$samples*1000/$STORM_MS")"
}

# storm_pairs MODE N SHIM_B KEY: N interleaved pairs of a bare server (A)
# and one with or without the shim (B), into ST[KEY.*]; a pair's ratio:
# its two runs were side by side, so a drift of the machine (another
# tenant, frequency) hits both.
declare -A ST
storm_pairs() {
	local mode=$1 n=$2 bshim=$3 key=$4 p who r rate cpu samples probe_s ca cb
	local RA=() RB=() CA=() CB=() PB=() CR=()
	for ((p = 0; p < n; p++)); do
		for who in $( ((p % 2 == 0)) && echo "a b" || echo "b a"); do
			r=$(storm_once "$([ "$who" = b ] && echo "$bshim" || echo 0)" \
				"$mode") || {
				echo "bench: storm failed" >&2
				exit 1
			}
			read -r rate cpu samples probe_s <<<"$r"
			if [ "$who" = a ]; then
				RA+=("$rate") CA+=("$cpu") ca=$cpu
			else
				RB+=("$rate") CB+=("$cpu") PB+=("$probe_s") cb=$cpu
			fi
		done
		CR+=("$(calc %.4f "$cb/$ca")")
	done
	ST[$key.cpu.ratio]=$(printf '%s\n' "${CR[@]}" | median)
	ST[$key.cpu.spread]=$(spread "${CR[@]}")
	ST[$key.rate.a]=$(printf '%s\n' "${RA[@]}" | median)
	ST[$key.rate.b]=$(printf '%s\n' "${RB[@]}" | median)
	ST[$key.cpu.a]=$(printf '%s\n' "${CA[@]}" | median)
	ST[$key.cpu.b]=$(printf '%s\n' "${CB[@]}" | median)
	ST[$key.probe]=$(printf '%s\n' "${PB[@]}" | sort -g | tail -1)
	echo "  conn/s A ${RA[*]} B ${RB[*]}"
	echo "  cpu ns/conn A ${CA[*]} B ${CB[*]}; probes/s ${PB[*]}"
	echo "  cpu ratio per pair ${CR[*]}"
}

for mode in block epoll; do
	echo "storm ($mode): $STORM_PAIRS pairs of ${STORM_MS} ms, client 2 threads (A = bare, B = shim)..."
	storm_pairs "$mode" "$STORM_PAIRS" 1 "$mode"
	echo "storm ($mode) control: $CONTROL_PAIRS pairs, both bare..."
	storm_pairs "$mode" "$CONTROL_PAIRS" 0 "ctl.$mode"
done

# --- 3. instructions per accept (valgrind) --------------------------------
IR_OK=0
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	echo "instructions: callgrind, drain of 2000 and 4000, bare and shim, twice..."
	cg_run() { # SHIM N REP
		local f=$TMP/cg.$1.$2.$3
		# Under valgrind the drain fills its queue over seconds, so its
		# connections really did wait past the default threshold: a slow
		# event with a stack capture, once, not a per-accept cost.
		if [ "$1" = 1 ]; then
			"${SHIM_ENV[@]}" ACCEPTWATCH_SLOW_MS=60000 \
				valgrind --tool=callgrind \
				--callgrind-out-file="$f" "$BENCH/drain" --n "$2" \
				--rounds 1 >/dev/null 2>&1
		else
			valgrind --tool=callgrind --callgrind-out-file="$f" \
				"$BENCH/drain" --n "$2" --rounds 1 >/dev/null 2>&1
		fi
		awk '/^totals:/{print $2}' "$f"
	}
	cg_calls() { # FILE PATTERN -> calls to functions matching PATTERN
		callgrind_annotate --tree=caller "$1" >"$TMP/tree" 2>/dev/null
		awk -v pat="$2" 'BEGIN{RS=""} $0 ~ ("\\*  [^\n]*" pat)' \
			"$TMP/tree" |
			grep -F '< ' | grep -oE '\([0-9,]+x\)' | tr -d '(),x' |
			awk '{s += $1} END{print s + 0}'
	}
	IR=()
	for rep in 1 2; do
		for shim in 0 1; do
			t2=$(cg_run "$shim" 2000 "$rep")
			t4=$(cg_run "$shim" 4000 "$rep")
			IR+=("$(calc %.2f "($t4-$t2)/2000")")
		done
	done
	# IR = bare1 shim1 bare2 shim2 (instructions per accept, whole program)
	IR_ADD1=$(calc %.1f "${IR[1]}-${IR[0]}")
	IR_ADD2=$(calc %.1f "${IR[3]}-${IR[2]}")
	IR_ADD=$(printf '%s\n%s\n' "$IR_ADD1" "$IR_ADD2" | median)
	c2=$(cg_calls "$TMP/cg.1.2000.1" clock_gettime)
	c4=$(cg_calls "$TMP/cg.1.4000.1" clock_gettime)
	b2=$(cg_calls "$TMP/cg.0.2000.1" clock_gettime)
	b4=$(cg_calls "$TMP/cg.0.4000.1" clock_gettime)
	CLOCKS=$(calc %.2f "(($c4-$c2)-($b4-$b2))/2000")
	# Instructions off the common path inside that figure: the calls that
	# stepped aside for a probe (valgrind runs the program ~50x slower, so
	# the 1 ms probe comes due far more often per accept than natively).
	# Every function (--threshold=100): by default the listing stops at
	# 99% of the total, and the one-time work at listen() (loading
	# libunwind for stacks) can push these below that line.
	offpath_ir() { # FILE -> inclusive Ir of the shim's off-path functions
		callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$1" \
			2>/dev/null |
			awk '/accept_path.c:(full_call|finish_odd) /{
				v=$1; gsub(",", "", v); s += v } END{print s + 0}'
	}
	p2=$(offpath_ir "$TMP/cg.1.2000.1")
	p4=$(offpath_ir "$TMP/cg.1.4000.1")
	PROBE_IR=$(calc %.1f "($p4-$p2)/2000")
	IR_COMMON=$(calc %.1f "$IR_ADD1-$PROBE_IR")
	# The same with probes at the rate the native drain met them
	# (section 1): the cost of one stepped-aside call, times how many
	# the native drain made per accept.
	k2=$(cg_calls "$TMP/cg.1.2000.1" 'full_call ')
	k4=$(cg_calls "$TMP/cg.1.4000.1" 'full_call ')
	OFF_CALLS_PER_K=$(calc %.1f "($k4-$k2)*1000/2000")
	if [ "$k4" -gt "$k2" ]; then
		IR_NATIVE=$(calc %.1f "$IR_COMMON+($p4-$p2)/($k4-$k2)*$DRAIN_SAMPLES/$DRAIN_ACCEPTS")
	else
		IR_NATIVE=$IR_COMMON
	fi
	# Where the added instructions go: self cost per accept by function
	# (inlined code shows as header:caller), (shim 4000 - shim 2000) minus
	# (bare 4000 - bare 2000), over 2000 accepts.
	for f in 0.2000 0.4000 1.2000 1.4000; do
		callgrind_annotate --auto=no "$TMP/cg.$f.1" 2>/dev/null \
			>"$TMP/self.$f"
	done
	PROFILE=$(awk '
		/^ *[0-9,]+ \([ 0-9.]+%\)  / && !/PROGRAM TOTALS/ {
			v=$1; gsub(",", "", v); name=$0
			sub(/^ *[0-9,]+ \([ 0-9.]+%\)  /, "", name)
			sub(/ \[.*\]$/, "", name)
			sign = (FILENAME ~ /4000$/) ? 1 : -1
			if (FILENAME ~ /self\.1\./) d[name] += sign * v
			else d[name] -= sign * v
		}
		END { for (k in d) if (d[k] / 2000 >= 0.5 || d[k] / 2000 <= -0.5)
			printf "%8.1f  %s\n", d[k] / 2000, k }' \
		"$TMP/self.0.2000" "$TMP/self.0.4000" "$TMP/self.1.2000" \
		"$TMP/self.1.4000" | sort -gr | head -16)
	IR_OK=1
else
	note "valgrind not installed: no instruction counts"
fi

# --- 4. syscalls: per accept, and probes per second (strace -c) -----------
SC_OK=0 SC_SLOW_OK=0
if command -v strace >/dev/null; then
	echo "syscalls: strace -c -f -p (attached after start-up) on the blocking server during a storm..."
	# SHIM [TAG] -> "syscalls_per_accept getsockopt accept4 conns rate
	# total probes" (probes: the shim's counter, 0 bare)
	sc_once() {
		local shim=$1 f=$TMP/strace.$1${2:-} line peek
		# Attached after start-up and a short warm-up storm: listen()
		# and its stack, the first stripe and the loop's first slow
		# stack (libunwind's first lookups) are not counted.
		start_server "$shim" block || return 1
		"$BENCH/storm" --port "$SRV_PORT" --threads 2 \
			--duration-ms 300 >/dev/null
		strace -c -f -o "$f" -p "$SRV_PID" 2>/dev/null &
		local tr=$! i
		PIDS+=("$tr")
		for ((i = 0; i < 100; i++)); do
			grep -q '^TracerPid:[[:space:]]*[1-9]' \
				"/proc/$SRV_PID/status" 2>/dev/null && break
			sleep 0.02
		done
		sleep 0.2
		line=$("$BENCH/storm" --port "$SRV_PORT" --threads 2 \
			--duration-ms "$STORM_MS")
		peek=$("$BENCH/segpeek" "$SRV_PID" 2>/dev/null)
		kill -INT "$tr" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			alive "$tr" || break
			sleep 0.05
		done
		stop_pid "$tr"
		stop_pid "$SRV_PID"
		awk -v line="$line" -v peek="$peek" '
			$NF=="total" {tot=$4}
			$NF=="getsockopt" {g=$4}
			$NF=="accept4" {a=$4}
			END { split(line, L, " "); split(peek, P, " ")
				printf "%.3f %d %d %d %s %d %d\n",
				(a ? tot/a : 0), g, a, L[3], L[9], tot, P[4] }' "$f"
	}
	SC_A=$(sc_once 0) && SC_B=$(sc_once 1) && SC_OK=1
	# A slow storm: every accept 2 ms late under a 1 ms threshold, so
	# every call probes and records a slow event (warning lines included).
	echo "syscalls: the same, slow storm (2 ms per accept, threshold 1 ms)..."
	SRV_ARGS=(--delay-ms 2)
	SHIM_ENV+=(ACCEPTWATCH_SLOW_MS=1)
	SC_SA=$(sc_once 0 slow) && SC_SB=$(sc_once 1 slow) && SC_SLOW_OK=1
	SRV_ARGS=()
	unset 'SHIM_ENV[-1]'
fi

# --- 5. peers: the same drain under other tracers -------------------------
echo "peers: drain n=2000 under each tracer..."
PN=2000
peer_drain() { # label command... -> "label ns"
	local label=$1 v
	shift
	# ltrace runs the whole drain ~150x slower, its queue filling too:
	# a minute before the drain's own safety stop.
	v=$("$@" "$BENCH/drain" --n "$PN" --rounds 3 --max-ms 60000 2>/dev/null |
		awk '/^drain /{print $7}')
	echo "$label ${v:-n/a}"
}
PEERS=()
PEERS+=("$(peer_drain bare env)")
PEERS+=("$(peer_drain acceptwatch "${SHIM_ENV[@]}")")
PEERS+=("$(peer_drain "strace -f -e trace=accept4,accept" \
	strace -f -qq -e trace=accept4,accept -o /dev/null)")
if command -v ltrace >/dev/null; then
	PEERS+=("$(peer_drain "ltrace -f" ltrace -f -o /dev/null)")
else
	note "ltrace not installed (apt-get install ltrace)"
fi
if command -v perf >/dev/null &&
	perf trace -e accept4 -o /dev/null true 2>/dev/null; then
	PEERS+=("$(peer_drain "perf trace -e accept4" \
		perf trace -e accept4 -o /dev/null --)")
else
	note "perf trace does not work here"
fi
if command -v bpftrace >/dev/null && [ "$(id -u)" = 0 ] &&
	[ -d /sys/kernel/tracing/events/syscalls ]; then
	bt_drain() { # label program
		local v
		v=$(timeout 120 bpftrace -e "$2" -c "$BENCH/drain --n $PN --rounds 3" \
			2>/dev/null | awk '/^drain /{print $7}')
		echo "$1 ${v:-n/a}"
	}
	PEERS+=("$(bt_drain "bpftrace accept4 counter" \
		'tracepoint:syscalls:sys_enter_accept4 /pid == cpid/ { @n = count(); }')")
	PEERS+=("$(bt_drain "bpftrace gap+latency hist" \
		'tracepoint:syscalls:sys_enter_accept4 /pid == cpid/ {
			@s[tid] = nsecs;
			if (@l[tid]) { @gap = hist(nsecs - @l[tid]); } }
		tracepoint:syscalls:sys_exit_accept4 /@s[tid]/ {
			@lat = hist(nsecs - @s[tid]); delete(@s[tid]);
			@l[tid] = nsecs; }')")
else
	note "bpftrace: not installed, not root, or no tracefs: skipped"
fi
PEER_BARE=$(awk '{print $NF}' <<<"${PEERS[0]}")
# Storm under strace (the server traced, accepts only).
echo "peers: storm under strace -f -e trace=accept4,accept..."
PEER_STORM_A=$(storm_once 0 block | awk '{print $1, $2}')
start_server 0 block strace -f -qq -e trace=accept4,accept -o /dev/null
sc=$(server_child)
c0=$(cpu_ns "${sc:-$SRV_PID}")
line=$("$BENCH/storm" --port "$SRV_PORT" --threads 2 --duration-ms "$STORM_MS")
c1=$(cpu_ns "${sc:-$SRV_PID}")
stop_traced
PEER_STORM_S="$(awk '{print $9}' <<<"$line") $(((c1 - c0) / $(awk '{print $3}' <<<"$line")))"

# --- 6. reader over many segments ------------------------------------------
echo "reader: $NSEG segments..."
reader_time() { # args... -> median ms of 5 runs; RSS of the last in $TMP/rss
	local i t0 t1 ms=()
	for i in 1 2 3 4 5; do
		t0=$EPOCHREALTIME
		"$TOOL" stat "$@" >"$TMP/stat.json" 2>/dev/null
		t1=$EPOCHREALTIME
		ms+=("$(calc %.1f "($t1-$t0)*1000")")
	done
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$TMP/rss" "$TOOL" stat "$@" \
			>/dev/null 2>&1
	else
		echo 0 >"$TMP/rss"
	fi
	printf '%s\n' "${ms[@]}" | median
}
count_procs() {
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["processes"]))' \
		"$1" 2>/dev/null || echo "?"
}
mk_segments() { # [--exited] ; starts mksegments as a coprocess
	local extra=("$@") line
	coproc MK { "${SHIM_ENV[@]}" ${extra:+ACCEPTWATCH_KEEP=1} \
		"$BENCH/mksegments" -n "$NSEG" "${extra[@]}" --max-ms 120000; }
	MK_FD=${MK[1]}
	PIDS+=("$MK_PID")
	MK_OUT=${MK[0]}
	read -r -t 60 line <&"$MK_OUT"
	[[ $line == "ready "* ]]
}
mk_stop() {
	local line
	echo stop >&"$MK_FD"
	read -r -t 30 line <&"$MK_OUT"
	exec {MK_FD}>&-
	MK_FD=
	wait "$MK_PID" 2>/dev/null
	echo "${line#cleaned }"
}
# The exporter: GET /metrics over the same live segments, median of 5.
scrape_time() {
	local line i t0 t1 ms=() url spid
	"$TOOL" serve --listen "127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
		2>"$TMP/serve.err" &
	spid=$!
	PIDS+=("$spid")
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 serving "$TMP/serve.err") && break
		sleep 0.05
	done
	url=${line##* }
	if [ -z "$url" ] || ! command -v curl >/dev/null; then
		stop_pid "$spid"
		echo "?"
		return
	fi
	for i in 1 2 3 4 5; do
		t0=$EPOCHREALTIME
		curl -sf -o "$TMP/scrape.txt" "$url" || break
		t1=$EPOCHREALTIME
		ms+=("$(calc %.1f "($t1-$t0)*1000")")
	done
	stop_pid "$spid"
	wc -c <"$TMP/scrape.txt" >"$TMP/scrape.bytes"
	printf '%s\n' "${ms[@]}" | median
}
RD_OK=0
SCRAPE_MS="?"
if mk_segments; then
	RD_LIVE_MS=$(reader_time --json)
	RD_LIVE_KB=$(cat "$TMP/rss")
	RD_LIVE_N=$(count_procs "$TMP/stat.json")
	SCRAPE_MS=$(scrape_time)
	RD_LIVE_CLEAN=$(mk_stop)
	if mk_segments --exited; then
		RD_EXIT_MS=$(reader_time --json --all)
		RD_EXIT_KB=$(cat "$TMP/rss")
		RD_EXIT_N=$(count_procs "$TMP/stat.json")
		RD_EXIT_CLEAN=$(mk_stop)
		RD_OK=1
	fi
fi
[ "$RD_OK" = 1 ] || note "reader: could not make the segments"

# --- 7. stack capture: what one costs in the host -------------------------
# Off the common path (one per listen(), at most one a second per listener
# at slow events): its cost is per capture, in the capturing thread.
echo "stacks: capture cost, 5 runs of 20000..."
SK_OK=1
for r in 1 2 3 4 5; do
	"$BENCH/stackcost" 20000 >"$TMP/stack.$r" 2>&1 || SK_OK=0
done
if [ "$SK_OK" = 1 ]; then
	sk() { # LABEL FIELD -> median over the runs
		awk -v l="$1" -v f="$2" '$1 == l { print $f }' "$TMP"/stack.* | median
	}
	SK_KNOWN=$(sk known 2) SK_KNOWN99=$(sk known 3)
	SK_NEW=$(sk new 2) SK_NEW99=$(sk new 3) SK_FIRST=$(sk first 2)
else
	note "stack capture not measured: $(cat "$TMP"/stack.* | head -2)"
fi

# --- table ------------------------------------------------------------------
pf() { # verdict: PASS when the awk condition holds
	awk "BEGIN{exit !($1)}" && echo PASS || echo MISS
}
{
	echo "acceptwatch benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $NSINFO)"
	printf '%-44s %14s %14s %10s  %s\n' "measure" "bare" "shim" "ratio" "budget"
	printf '%-44s %14s %14s %10s  %s\n' "-------" "----" "----" "-----" "------"
	printf '%-44s %14s %14s %10s  %s\n' \
		"drain ns/accept4: best of $ROUNDS, mid of $PAIRS pairs" "$DRAIN_A" \
		"$DRAIN_B" "$DRAIN_RATIO" "<= 1.02: $(pf "$DRAIN_RATIO <= 1.02")"
	printf '%-44s %14s %14s %10s  %s\n' \
		"drain ns/accept4: median of $ROUNDS, same" "$DRAIN_MA" \
		"$DRAIN_MB" "$DRAIN_MRATIO" "<= 1.04: $(pf "$DRAIN_MRATIO <= 1.04")"
	printf '%-44s %14s %14s %10s  %s\n' \
		"  control, bare vs bare: best, mid of $CONTROL_PAIRS" "" "" \
		"$CTL_DRAIN_RATIO" "noise: pairs $CTL_DRAIN_SPREAD"
	for mode in block epoll; do
		printf '%-44s %14s %14s %10s  %s\n' \
			"storm $mode: connections/s (client-bound)" \
			"${ST[$mode.rate.a]}" "${ST[$mode.rate.b]}" \
			"$(calc %.3f "${ST[$mode.rate.b]}/${ST[$mode.rate.a]}")" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"storm $mode: server CPU ns/conn, median of pairs" \
			"${ST[$mode.cpu.a]}" "${ST[$mode.cpu.b]}" \
			"${ST[$mode.cpu.ratio]}" \
			"<= 1.04: $(pf "${ST[$mode.cpu.ratio]} <= 1.04")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"  control, bare vs bare: mid of $CONTROL_PAIRS" "" "" \
			"${ST[ctl.$mode.cpu.ratio]}" \
			"noise: pairs ${ST[ctl.$mode.cpu.spread]}"
	done
	if [ "$IR_OK" = 1 ]; then
		printf '%-44s %14s %14s %10s  %s\n' \
			"instr/accept+close, drain (valgrind) r1" "${IR[0]}" "${IR[1]}" \
			"+$IR_ADD1" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"instr/accept+close, drain (valgrind) r2" "${IR[2]}" "${IR[3]}" \
			"+$IR_ADD2" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"instr added/accept, all in, valgrind-slow" "" "$IR_ADD" "" \
			"-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"  of which off the common path (probes)" "" \
			"$PROBE_IR" "" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"  calls off the common path per 1000" "" \
			"$OFF_CALLS_PER_K" "" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"instr added/accept, common path" "" "$IR_COMMON" "" \
			"<= 90: $(pf "$IR_COMMON <= 90")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"instr added/accept, all in, native probes" "" \
			"$IR_NATIVE" "" "<= 100: $(pf "$IR_NATIVE <= 100")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"clock_gettime calls added per accept" "" "$CLOCKS" "" "-"
	fi
	if [ "$SC_OK" = 1 ]; then
		read -r spa_a g_a acc_a conns_a rate_a tot_a _ <<<"$SC_A"
		read -r spa_b g_b acc_b conns_b rate_b tot_b probes_b <<<"$SC_B"
		printf '%-44s %14s %14s %10s  %s\n' \
			"strace storm: server syscalls/accept" "$spa_a" "$spa_b" \
			"+$(calc %.3f "$spa_b-$spa_a")" "-"
		np=$(calc %.4f "($tot_b-$g_b)/$acc_b-($tot_a-$g_a)/$acc_a")
		printf '%-44s %14s %14s %10s  %s\n' \
			"  added, not getsockopt probes, per accept" "" "$np" "" \
			"0 (no syscall): $(pf "$np < 0.01")"
		# Every syscall whose count per accept grew under the shim.
		SC_DIFF=$(awk -v aa="$acc_a" -v ab="$acc_b" '
			FNR == 1 { f++ }
			$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $4 ~ /^[0-9]+$/ {
				if (f == 1) a[$NF] = $4; else b[$NF] = $4 }
			END { for (k in b) { d = b[k] / ab - a[k] / aa
				if (d > 0.0005) printf "%s +%.4f/accept (%d in %d accepts); ", k, d, b[k], ab } }' \
			"$TMP/strace.0" "$TMP/strace.1")
		gps=$(calc %.0f "$g_b*1000/$STORM_MS")
		printf '%-44s %14s %14s %10s  %s\n' \
			"strace storm: getsockopt/s (accepts/s)" \
			"$g_a ($(calc %.0f "$acc_a*1000/$STORM_MS"))" \
			"$gps ($(calc %.0f "$acc_b*1000/$STORM_MS"))" "" \
			"<= ~2000 (2 per probe): $(pf "$gps <= 2200")"
		# The server's syscalls beyond the bare run's (scaled to the
		# same accepts), per probe the shim counted.
		spp=$(calc %.3f "($tot_b-$tot_a*$acc_b/$acc_a)/($probes_b+0.000001)")
		printf '%-44s %14s %14s %10s  %s\n' \
			"strace storm: syscalls added per probe" "" \
			"$spp ($probes_b)" "" "<= 2: $(pf "$spp <= 2")"
	fi
	if [ "$SC_SLOW_OK" = 1 ]; then
		read -r _ _ acc_a _ _ tot_a _ <<<"$SC_SA"
		read -r _ _ acc_b _ _ tot_b probes_b <<<"$SC_SB"
		spp=$(calc %.3f "($tot_b-$tot_a*$acc_b/$acc_a)/($probes_b+0.000001)")
		printf '%-44s %14s %14s %10s  %s\n' \
			"strace slow storm: syscalls added per probe" "" \
			"$spp ($probes_b)" "" "<= 2: $(pf "$spp <= 2")"
	fi
	printf '%-44s %14s %14s %10s  %s\n' \
		"probes/s, storm block, full rate (counter)" "" "${ST[block.probe]}" \
		"" "<= ~1000: $(pf "${ST[block.probe]} <= 1100")"
	printf '%-44s %14s %14s %10s  %s\n' \
		"probes/s, storm epoll, full rate (counter)" "" "${ST[epoll.probe]}" \
		"" "<= ~1000: $(pf "${ST[epoll.probe]} <= 1100")"
	dps=$(calc %.0f "$DRAIN_SAMPLES*1000/$DRAIN_LOOP_MS")
	printf '%-44s %14s %14s %10s  %s\n' \
		"probes/s, drain ($DRAIN_ACCEPTS acc in ${DRAIN_LOOP_MS} ms)" "" \
		"$dps" "" "<= ~1000+rounds: $(pf "$DRAIN_SAMPLES <= $DRAIN_LOOP_MS + 2*$ROUNDS + 2")"
	for pe in "${PEERS[@]}"; do
		v=${pe##* }
		lab=${pe% *}
		r=n/a
		[[ $v =~ ^[0-9]+$ ]] && r="$(calc %.2f "$v/$PEER_BARE")x"
		printf '%-44s %14s %14s %10s  %s\n' "peer drain: $lab" \
			"$PEER_BARE" "$v" "$r" "-"
	done
	read -r psa_r psa_c <<<"$PEER_STORM_A"
	read -r pss_r pss_c <<<"$PEER_STORM_S"
	printf '%-44s %14s %14s %10s  %s\n' "peer storm strace: conn/s" \
		"$psa_r" "$pss_r" "$(calc %.3f "$pss_r/$psa_r")" "-"
	printf '%-44s %14s %14s %10s  %s\n' "peer storm strace: server CPU ns/conn" \
		"$psa_c" "$pss_c" "$(calc %.2f "$pss_c/$psa_c")" "-"
	if [ "$RD_OK" = 1 ]; then
		printf '%-44s %14s %14s %10s  %s\n' \
			"reader: stat --json, $RD_LIVE_N live procs, ms" "" \
			"$RD_LIVE_MS" "" "< 200: $(pf "$RD_LIVE_MS < 200")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"reader: same, peak RSS MiB" "" \
			"$(calc %.1f "$RD_LIVE_KB/1024")" "" \
			"< 64: $(pf "$RD_LIVE_KB < 65536")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"serve: GET /metrics, $RD_LIVE_N procs, ms" "" \
			"$SCRAPE_MS" "" "< 200: $(pf "${SCRAPE_MS/\?/1e9} < 200")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"serve: same, response KiB" "" \
			"$(calc %.0f "$(cat "$TMP/scrape.bytes" 2>/dev/null || echo 0)/1024")" "" "-"
		printf '%-44s %14s %14s %10s  %s\n' \
			"reader: stat --json --all, $RD_EXIT_N exited, ms" "" \
			"$RD_EXIT_MS" "" "< 200: $(pf "$RD_EXIT_MS < 200")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"reader: same, peak RSS MiB" "" \
			"$(calc %.1f "$RD_EXIT_KB/1024")" "" \
			"< 64: $(pf "$RD_EXIT_KB < 65536")"
	fi
	if [ "$SK_OK" = 1 ]; then
		printf '%-44s %14s %14s %10s  %s\n' \
			"stack capture ns, known stack (median/p99)" "" \
			"$SK_KNOWN/$SK_KNOWN99" "" \
			"< 5000: $(pf "$SK_KNOWN99 < 5000")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"stack capture ns, new stack (median/p99)" "" \
			"$SK_NEW/$SK_NEW99" "" "< 5000: $(pf "$SK_NEW99 < 5000")"
		printf '%-44s %14s %14s %10s  %s\n' \
			"stack capture ns, first (libunwind load)" "" \
			"$SK_FIRST" "" "once per process"
	fi
	echo
	echo "Drain: bare and shim runs interleaved (A B B A ...); each row shows"
	echo "the pair whose ratio is the median, so its figures belong together."
	echo "Controls: the same comparison with both sides bare, so a ratio"
	echo "other than 1 and the pairs' spread are the machine's noise: a"
	echo "budget row is only as sharp as its control."
	echo "Storm: 2 client threads and the server share the machine's CPUs on"
	echo "loopback, so the client is the bottleneck: connections/s barely move;"
	echo "server CPU per connection is the figure that shows the shim's cost:"
	echo "its ratio is the median of the pairs' (bare and shim side by side)."
	echo "Probes: at most one per ms per listener, two getsockopt each: the"
	echo "listener's queue (TCP_INFO) and the accepted socket's wait (TCP_INFO);"
	echo "drops (SO_MEMINFO) and TCP_DEFER_ACCEPT take the queue's place after"
	echo "a probe that saw the queue full and once in 1024 probes. Clock: the"
	echo "TSC (the kernel's clocksource here), read with rdtsc, no clock_gettime."
	echo "Peers: ns per accept4, drain n=$PN, best of 3 rounds, one run each;"
	echo "bpftrace with tracefs mounted in the private mount namespace."
	echo "Instructions: per accept and the close of the accepted socket (the"
	echo "drain's client half closes with the bare system call: it stands in"
	echo "for other machines). Valgrind runs the drain ~50x slower, so the 1 ms"
	echo "probe comes due more often per accept than natively; 'common path'"
	echo "leaves out the calls that stepped aside for it (full_call,"
	echo "finish_odd); 'native probes' adds them back at the rate the native"
	echo "drain met them. Valgrind counts a clock read as ~10 instr (no vDSO)."
	echo "Stacks: tests/bench/stackcost links the shim's stacks.c and captures"
	echo "in a thread, 5 calls deep; 'known' is a loop's slow event after its"
	echo "first (unwind, hash, count), 'new' adds the module lookup and the copy"
	echo "into the segment; 'first' loads libunwind and runs its init."
	[ "$IR_OK" = 1 ] && {
		echo
		echo "Added instructions per accept by function (self, shim, valgrind):"
		echo "$PROFILE"
	}
	[ "$SC_OK" = 1 ] && echo "Syscalls the shim added (strace storm): ${SC_DIFF:-none}"
	for n in "${NOTES[@]}"; do echo "note: $n"; done
} >"$TMP/table"
# The exporter at scale (10,000 live processes, a 1,000-process pre-fork
# server): its own table, after this one.
echo "exporter: $AW_BENCH_EXPORTER_N_SHOWN..."
{ echo; bash "$ROOT/tests/bench/exporter.sh"; } >>"$TMP/table" 2>&1

cat "$TMP/table"
mkdir -p "$OUT_DIR"
cp "$TMP/table" "$OUT_TXT"
{
	echo "# acceptwatch benchmark results"
	echo
	echo "Latest \`make bench\` (tests/bench/run.sh). Machine: $(nproc) vCPU,"
	echo "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo),"
	echo "kernel $(uname -r)."
	echo
	echo '```'
	cat "$TMP/table"
	echo '```'
} >"$OUT_MD"
echo "wrote $OUT_TXT and $OUT_MD"
exit 0
