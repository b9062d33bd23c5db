#!/usr/bin/env bash
# make demo: a server with a deliberately slow accept loop (100 ms per
# connection) under the shim, a burst of 30 loopback connections, and the
# reader's summary. As root it runs in a private network namespace with
# net.core.somaxconn lowered to 16, as on a badly tuned host; otherwise it
# asks for more than the host's somaxconn. Leaves nothing running.
set -eu
cd "$(dirname "$0")/.."
server=build/rel/tests/server
burst=build/rel/tests/burst

if [ "${1:-}" != --inside ]; then
	make -s "$server" "$burst"
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		exec unshare -n bash "$0" --inside 16
	fi
	exec bash "$0" --inside ""
fi

if [ -n "${2:-}" ]; then
	ip link set lo up
	sysctl -q -w net.core.somaxconn="$2"
	backlog=128
	echo "== private network namespace, net.core.somaxconn = $2"
else
	backlog=$(($(cat /proc/sys/net/core/somaxconn) * 2))
	echo "== (not root: the host's net.core.somaxconn, $((backlog / 2)))"
fi

out=$(mktemp -d /tmp/acceptwatch-demo.XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$out"' EXIT
echo "== a server asks for backlog $backlog and sleeps 100 ms after each accept"
tools/acceptwatch run --slow-ms 50 -- "$server" --backlog "$backlog" \
	--delay-ms 100 --exit-after-ms 30000 >"$out/server.out" &
pid=$!
for _ in $(seq 100); do
	port=$(awk '/^ready/ {print $2}' "$out/server.out")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { echo "demo: the server did not start" >&2; exit 1; }
# run waits for its command: the server is its child.
read -r pid _ <"/proc/$pid/task/$pid/children"
echo "== 30 clients connect at once to 127.0.0.1:$port"
"$burst" --port "$port" -n 30 --timeout-ms 20000
echo "== acceptwatch stat $pid"
tools/acceptwatch stat "$pid"
