# tests/lib.sh - helpers for the acceptwatch end-to-end test scripts (bash).
#
# Source it first: `. "$AW_ROOT/tests/lib.sh"`. It gives the script a private
# temp dir $AW_TMP and an EXIT trap that stops every process the script
# started through it and removes what it registered. A test exits 0 (pass),
# 77 (skip, via aw_skip) or 1 (fail, via aw_fail).
#
#   aw_skip MSG / aw_fail MSG       print SKIP:/FAIL: MSG, exit 77 / 1
#   aw_need_root_netns              skip unless root and `unshare -n` works
#   aw_enter_netns SOMAXCONN "$@"   re-run this script in a private network
#                                   namespace, lo up, somaxconn set
#   aw_enter_private_shm "$@"       re-run it with a /dev/shm of its own
#   aw_start VAR CMD ARGS...        as below, for any command
#   aw_start_server VAR ARGS...     start $AW_BIN/server ARGS in the
#                                   background, wait (5 s) for "ready"; sets
#                                   VAR_PID, VAR_PORT (port or Unix path),
#                                   VAR_OUT (stdout file), VAR_ERR (stderr)
#   aw_start_exporter VAR CMD ARGS... start CMD (an `acceptwatch serve`) in
#                                   the background, wait for its "serving
#                                   URL" line on stderr; sets VAR_PID,
#                                   VAR_URL, VAR_ERR
#   aw_free_port                    print a TCP port free on 127.0.0.1 now
#   aw_wait_for SECONDS CMD ARGS... poll CMD every 50 ms until it succeeds
#                                   (status 0) or SECONDS pass (status 1)
#   aw_stop PID                     SIGTERM (and SIGCONT), wait up to 5 s;
#                                   returns the exit status
#   aw_sigstop PID                  SIGSTOP, and wait (5 s) until every
#                                   thread of PID is stopped
#   aw_wait_in_accept PID           wait (10 s) until a thread of PID is
#                                   blocked in a TCP accept()
#   aw_wait_queue PORT N [DROPS]    wait (10 s) until the TCP listener on
#                                   PORT holds N connections (and its socket
#                                   drops reached DROPS): what a test built
#                                   is there, however slow the machine
#   aw_wait_unread PORT N           wait (10 s) until N connections to the
#                                   listener on PORT have data unread (the
#                                   clients spoke; accepted or queued)
#   aw_register_pid PID...          stop these at exit too
#   aw_register_file PATH...        remove these at exit
#   aw_public FILE...               copies nobody can run, in $AW_PUB
#   aw_cleanup                      what the EXIT trap runs
#   aw_json_get FILE EXPR           print a value from a JSON file
#   aw_expect FILE EXPR WANT        fail unless the value prints as WANT
#   aw_range FILE EXPR LO HI        fail unless LO <= value <= HI
#
# LD_PRELOAD=... before aw_start_server reaches the server only, never the
# helper commands (a sanitized shim must not load into sleep or python3).

AW_ROOT=${AW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
AW_BIN=${AW_BIN:-$AW_ROOT/build/asan/tests}
AW_TSAN_BIN=${AW_TSAN_BIN:-$AW_ROOT/build/tsan/tests}
AW_SHIM=${AW_SHIM:-$AW_ROOT/build/asan/libacceptwatch.so}
AW_TOOL=${AW_TOOL:-$AW_ROOT/build/asan/acceptwatch}
# The sanitized shim preloaded into a sanitized program comes before the
# program's own libasan in the library list, and ASan refuses to start. The
# runtime is still the one the program loaded (the shim only depends on it,
# and wraps no allocator), so the order check is a false alarm here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
AW_TMP=$(mktemp -d /tmp/aw-test.XXXXXX) || {
	echo "FAIL: mktemp"
	exit 1
}
# check's state file (its verdict window's memory) stays in the test's
# directory, never in the user's home.
export XDG_STATE_HOME=$AW_TMP/state
AW_PIDS=()
AW_FILES=()

aw_skip() {
	echo "SKIP: $*"
	exit 77
}

aw_fail() {
	echo "FAIL: $*"
	exit 1
}

aw_need_root_netns() {
	[ "$(id -u)" = 0 ] || aw_skip "needs root (private network namespace)"
	unshare -n true 2>/dev/null || aw_skip "unshare -n is not permitted here"
}

# Runs the rest of the calling script as root in a new network namespace, so
# sysctls (per namespace) and listeners cannot disturb the host. The outer
# shell is replaced (exec): its trap would not run, so it cleans up first.
aw_enter_netns() {
	local somaxconn=$1
	shift
	if [ -z "${AW_IN_NETNS:-}" ]; then
		aw_need_root_netns
		aw_cleanup
		trap - EXIT
		AW_IN_NETNS=1 exec unshare -n bash "$0" "$@"
	fi
	ip link set lo up || aw_fail "ip link set lo up"
	sysctl -q -w net.core.somaxconn="$somaxconn" ||
		aw_fail "sysctl net.core.somaxconn=$somaxconn"
}

# Copies of FILE... that user nobody can run, in $AW_PUB: the checkout may
# sit under a directory only root can enter (a CI clone in a 0700 folder).
aw_public() {
	local f
	if [ -z "${AW_PUB:-}" ]; then
		AW_PUB=$(mktemp -d /tmp/aw-pub.XXXXXX) || aw_fail "mktemp"
		chmod 0755 "$AW_PUB"
		AW_FILES+=("$AW_PUB")
	fi
	for f in "$@"; do
		cp "$f" "$AW_PUB/" && chmod 0755 "$AW_PUB/${f##*/}" ||
			aw_fail "cannot copy $f for nobody"
	done
}

# Runs the rest of the calling script as root in a new mount namespace with a
# /dev/shm of its own (an empty tmpfs): segments planted, forged or removed
# there never touch other processes' segments on this machine.
aw_enter_private_shm() {
	if [ -z "${AW_IN_SHMNS:-}" ]; then
		[ "$(id -u)" = 0 ] || aw_skip "needs root (a private /dev/shm)"
		unshare -m true 2>/dev/null || aw_skip "unshare -m is not permitted here"
		aw_cleanup
		trap - EXIT
		AW_IN_SHMNS=1 exec unshare -m bash "$0" "$@"
	fi
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm || aw_fail "mount tmpfs /dev/shm"
}

aw_register_pid() {
	AW_PIDS+=("$@")
}

aw_register_file() {
	AW_FILES+=("$@")
}

# True while PID runs; a zombie (exited, not yet waited for) is not running,
# so `kill -0` alone would not do.
aw__alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Start CMD in the background and wait for its first line to be "ready X"
# (AW_READY_SECONDS, default 30: a loaded machine starts programs late, and a
# program that exits is seen at once). LD_PRELOAD set in front reaches CMD
# only.
aw_start() {
	local var=$1 preload=${LD_PRELOAD-} pid line i
	local tries=$((${AW_READY_SECONDS:-30} * 20))
	shift
	unset LD_PRELOAD
	local out="$AW_TMP/$var.out" err="$AW_TMP/$var.err"
	# Created here: the background job may not have opened them yet.
	: >"$out"
	: >"$err"
	if [ -n "$preload" ]; then
		LD_PRELOAD=$preload "$@" >"$out" 2>"$err" &
	else
		"$@" >"$out" 2>"$err" &
	fi
	pid=$!
	AW_PIDS+=("$pid")
	for ((i = 0; i < tries; i++)); do
		if read -r line <"$out" && [[ $line == "ready "* ]]; then
			printf -v "${var}_PID" %s "$pid"
			printf -v "${var}_PORT" %s "${line#ready }"
			printf -v "${var}_OUT" %s "$out"
			printf -v "${var}_ERR" %s "$err"
			return 0
		fi
		aw__alive "$pid" || aw_fail "$* exited early: $(cat "$err")"
		sleep 0.05
	done
	aw_fail "$* not ready within ${AW_READY_SECONDS:-30} s: $(cat "$err")"
}

aw_start_server() {
	local var=$1
	shift
	aw_start "$var" "$AW_BIN/server" "$@"
}

aw_wait_for() {
	local tries=$(($1 * 20)) i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

aw__serving() {
	local url
	url=$(sed -n 's,^acceptwatch: serving \(http://.*\)$,\1,p' "$1")
	[ -n "$url" ] && printf -v "$2" %s "$url"
}

aw_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

aw_start_exporter() {
	local var=$1 err
	shift
	err=$AW_TMP/$var.err
	: >"$err"
	"$@" 2>"$err" &
	printf -v "${var}_PID" %s $!
	printf -v "${var}_ERR" %s "$err"
	AW_PIDS+=($!)
	aw_wait_for "${AW_READY_SECONDS:-30}" aw__serving "$err" "${var}_URL" ||
		aw_fail "$* did not serve: $(cat "$err")"
}

# kill -STOP returns before the process stops: a thread still in accept()
# would take the connections a test queues next.
aw_sigstop() {
	local i t all
	kill -STOP "$1" || aw_fail "kill -STOP $1"
	for ((i = 0; i < 100; i++)); do
		all=1
		for t in /proc/"$1"/task/*/stat; do
			[ "$(cut -d' ' -f3 "$t" 2>/dev/null)" = T ] || all=0
		done
		[ "$all" = 1 ] && return 0
		sleep 0.05
	done
	aw_fail "pid $1 did not stop within 5 s"
}

# Waits on a state, never on a time: a loaded machine only makes it later.
aw_wait_in_accept() {
	local i t
	for ((i = 0; i < 200; i++)); do
		for t in /proc/"$1"/task/*/wchan; do
			[ "$(cat "$t" 2>/dev/null)" = inet_csk_accept ] && return 0
		done
		aw__alive "$1" || aw_fail "pid $1 exited"
		sleep 0.05
	done
	aw_fail "no thread of pid $1 blocked in accept within 10 s"
}

# The listener's queue (ss Recv-Q) and socket drops (ss -m, d).
aw__queue() {
	ss -Hltnm "sport = :$1" | tr -s ' \n' ' ' |
		sed -n 's/^LISTEN \([0-9]*\) .*skmem:(.*,d\([0-9]*\)).*/\1 \2/p'
}

aw_wait_queue() {
	local i q d
	for ((i = 0; i < 200; i++)); do
		read -r q d <<<"$(aw__queue "$1")"
		[ "${q:-0}" -ge "$2" ] && [ "${d:-0}" -ge "${3:-0}" ] && return 0
		sleep 0.05
	done
	aw_fail "port $1: queue ${q:-?} drops ${d:-?} within 10 s, want $2 and ${3:-0}"
}

aw_wait_unread() {
	local i n
	for ((i = 0; i < 200; i++)); do
		n=$(ss -Htn state established "sport = :$1" | awk '$1 > 0' | wc -l)
		[ "$n" -ge "$2" ] && return 0
		sleep 0.05
	done
	aw_fail "port $1: $n connections with data within 10 s, want $2"
}

# SIGCONT too: a stopped process would not act on SIGTERM.
aw_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		aw__alive "$pid" || break
		sleep 0.05
	done
	if aw__alive "$pid"; then
		# Say where each thread sits before killing it: that is the bug.
		local t where=
		for t in /proc/"$pid"/task/*; do
			where+=" ${t##*/}:$(cut -d' ' -f3 "$t/stat" 2>/dev/null)/$(cat "$t/wchan" 2>/dev/null)"
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		aw_fail "pid $pid ignored SIGTERM for 5 s (threads:$where)"
	fi
	wait "$pid" 2>/dev/null
}

aw_cleanup() {
	local pid i
	for pid in "${AW_PIDS[@]}"; do
		aw__alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		kill -CONT "$pid" 2>/dev/null
	done
	for ((i = 0; i < 40; i++)); do
		local left=0
		for pid in "${AW_PIDS[@]}"; do
			aw__alive "$pid" && left=1
		done
		[ "$left" = 0 ] && break
		sleep 0.05
	done
	for pid in "${AW_PIDS[@]}"; do
		aw__alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	AW_PIDS=()
	rm -rf -- "$AW_TMP" "${AW_FILES[@]}"
	AW_FILES=()
}
trap aw_cleanup EXIT

# EXPR is Python, evaluated with the top-level keys as names, e.g.
# "processes[0]['listeners'][0]['accepts']". Scalars print as Python prints
# them (True, None, 3); lists and objects as JSON.
aw_json_get() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
names = dict(doc) if isinstance(doc, dict) else {}
names["doc"] = doc
try:
    v = eval(sys.argv[2], names)
except Exception as e:
    sys.exit("aw_json_get: %s: %s: %r" % (sys.argv[1], sys.argv[2], e))
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
EOF
}

aw_expect() {
	local got
	got=$(aw_json_get "$1" "$2") || aw_fail "no $2 in $1"
	[ "$got" = "$3" ] || aw_fail "$2 is $got, want $3"
}

aw_range() {
	local got
	got=$(aw_json_get "$1" "$2") || aw_fail "no $2 in $1"
	python3 -c 'import sys; v, lo, hi = map(float, sys.argv[1:]); sys.exit(not lo <= v <= hi)' \
		"$got" "$3" "$4" 2>/dev/null || aw_fail "$2 is $got, want $3..$4"
}
