#!/usr/bin/env bash
# A server in a network namespace of its own (a container's), read from the
# host: the socket drops the reader gives are the kernel's count in the
# server's namespace (`ss -tmnl` d run there), in block and epoll modes,
# not the shim's last sample (0 before its first probe). Without the
# privilege to enter that namespace (server and reader as nobody) the
# reader says the figure is sampled.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 64 "$@"
command -v nsenter >/dev/null || aw_skip "nsenter is not installed (util-linux)"

U=$(id -u nobody)
# Copies nobody can load: the checkout may sit in a folder only root enters.
aw_public "$AW_TOOL" "$AW_BIN/server" "$AW_SHIM"
ns_server() { # VAR MODE [USER]: the server alone in a new network namespace
	local var=$1 mode=$2 run=()
	[ -n "${3:-}" ] && run=(setpriv --reuid "$3" --regid "$3" --clear-groups)
	aw_start "$var" unshare -n sh -c 'ip link set lo up &&
		sysctl -q -w net.core.somaxconn=4 && exec "$@"' sh \
		"${run[@]}" env LD_PRELOAD="$AW_PUB/libacceptwatch.so" "$AW_PUB/server" \
		--backlog 4 --delay-ms 30 --mode "$mode"
}
overflow() { # PID PORT: 12 connections inside the server's namespace
	nsenter --net="/proc/$1/ns/net" "$AW_BIN/burst" --port "$2" -n 12 \
		--timeout-ms 20000 >"$AW_TMP/burst.$1" || aw_fail "burst: $(cat "$AW_TMP/burst.$1")"
}
ss_drops() { # PID PORT: d of ss in the server's namespace
	nsenter --net="/proc/$1/ns/net" ss -Htmnl "sport = :$2" | grep -o 'd[0-9]*)' | tr -dc 0-9
}

for mode in block epoll; do
	ns_server S "$mode"
	[ "$(readlink "/proc/$S_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		aw_fail "the server shares the reader's namespace"
	overflow "$S_PID" "$S_PORT"
	want=$(ss_drops "$S_PID" "$S_PORT")
	[ "${want:-0}" -ge 1 ] || aw_fail "$mode: no drops in the server's namespace"
	"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/$mode.json" || aw_fail "stat: $(cat "$AW_TMP/$mode.json")"
	got=$(aw_json_get "$AW_TMP/$mode.json" "processes[0]['listeners'][0]['socket_drops']")
	live=$(aw_json_get "$AW_TMP/$mode.json" "processes[0]['listeners'][0]['live']")
	after=$(ss_drops "$S_PID" "$S_PORT")
	echo "$mode: ss in the server's namespace d$want (d$after after), reader $got (live $live)"
	[ "$got" -ge "$want" ] && [ "$got" -le "$after" ] ||
		aw_fail "$mode: reader says $got socket drops, ss in the namespace $want..$after"
	[ "$live" = True ] || aw_fail "$mode: drops not read live"
	aw_stop "$S_PID"
done

# Without privilege: nobody's server, nobody's reader.
ns_server N block "$U"
overflow "$N_PID" "$N_PORT"
setpriv --reuid "$U" --regid "$U" --clear-groups "$AW_PUB/acceptwatch" stat "$N_PID" \
	>"$AW_TMP/n.txt" 2>&1 || aw_fail "nobody's stat: $(cat "$AW_TMP/n.txt")"
grep -q "socket drops [0-9]* (sampled)" "$AW_TMP/n.txt" ||
	aw_fail "unprivileged reader does not say the drops are sampled: $(cat "$AW_TMP/n.txt")"
echo ok
