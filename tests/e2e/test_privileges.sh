#!/usr/bin/env bash
# A root server that changes its user ids after listen(). Its segment goes to
# the new user only on a successful, permanent drop (real, effective and
# saved ids all that user): then that user's reader reads it. A temporary
# seteuid(), a partial drop or a failed call leave it root's, unreadable by
# the other user, and every call returns what the kernel returned.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"

U=65534
aw_public "$AW_TOOL"
chmod 0755 "$AW_TMP"
nobody() { setpriv --reuid $U --regid $U --clear-groups "$@"; }
connect() {
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).recv(1)' "$1" ||
		aw_fail "connect to $1"
}

# MODE OWNER READABLE [PREFIX...]: start uidchange MODE (after PREFIX),
# check the segment's owner, one accept counted, and whether nobody reads it.
check_mode() {
	local mode=$1 want_owner=$2 readable=$3
	shift 3
	aw_start P "$@" env LD_PRELOAD="$AW_SHIM" "$AW_BIN/uidchange" "$mode" $U
	local seg=/dev/shm/acceptwatch.$P_PID owner
	owner=$(stat -c %u "$seg") || aw_fail "$mode: no segment"
	[ "$owner" = "$want_owner" ] ||
		aw_fail "$mode: segment owned by uid $owner, want $want_owner"
	connect "$P_PORT"
	for ((i = 0; i < 100; i++)); do
		grep -q "^accepted 1" "$P_OUT" && break
		sleep 0.05
	done
	grep -q "^accepted 1" "$P_OUT" || aw_fail "$mode: no accept: $(cat "$P_ERR")"
	"$AW_TOOL" stat --json "$P_PID" >"$AW_TMP/root.json" ||
		aw_fail "$mode: root's reader failed"
	aw_expect "$AW_TMP/root.json" "processes[0]['listeners'][0]['accepts']" 1
	nobody "$AW_PUB/acceptwatch" stat --json "$P_PID" >"$AW_TMP/n.json" 2>"$AW_TMP/n.err"
	local rc=$?
	if [ "$readable" = yes ]; then
		[ "$rc" = 0 ] || aw_fail "$mode: nobody cannot read its own process (exit $rc): $(cat "$AW_TMP/n.err")"
		aw_expect "$AW_TMP/n.json" "processes[0]['listeners'][0]['accepts']" 1
	else
		[ "$rc" != 0 ] || aw_fail "$mode: nobody read root's segment: $(cat "$AW_TMP/n.json")"
	fi
	aw_stop "$P_PID" || aw_fail "$mode: exited $?: $(cat "$P_ERR")"
	# partial: running as nobody at exit, with root's uid saved, it
	# removes root's file from the sticky /dev/shm all the same (the
	# exiting thread takes uid 0 back for the unlink).
	[ -e "$seg" ] && aw_fail "$mode: segment left behind"
	echo "$mode: segment owned by uid $owner, readable by nobody: $readable"
}

check_mode roundtrip 0 no
check_mode partial 0 no
# Without CAP_SETUID root's setuid(nobody) fails with EPERM; CAP_CHOWN is
# still there, so a shim that handed over before the call could have.
check_mode fail 0 no setpriv --bounding-set=-setuid
check_mode drop $U yes
check_mode drop-re $U yes
check_mode drop-res $U yes
