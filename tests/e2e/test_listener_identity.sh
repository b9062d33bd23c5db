#!/usr/bin/env bash
# A listener closed where the shim cannot see it (fclose(fdopen(fd)) closes
# inside libc) and its number reused by another listener, received over
# SCM_RIGHTS: the housekeeping probe (one in HOUSEKEEPING_EVERY / 2 of a
# listener's probes) finds the descriptor naming another socket (dev, ino),
# forgets it and adopts the new one. The new listener's accepts then count
# on a row of its own; the old row is closed, not counting them forever.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 128 "$@"

LD_PRELOAD=$AW_SHIM ACCEPTWATCH_LOG=stderr aw_start S "$AW_BIN/fdswap"
read -r port_a port_b <<<"$S_PORT"
# One connection at a time, each accepted before the next: every accept
# that finds its probe due (one a millisecond) probes. Until the reader
# shows B's row, at most 5000 connections.
python3 - "$port_b" "$AW_TOOL" "$S_PID" >"$AW_TMP/s.json" 2>"$AW_TMP/client.err" <<'PY' ||
import json, socket, subprocess, sys, time
port, tool, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def rows():
    out = subprocess.run([tool, "stat", "--json", pid], capture_output=True, text=True)
    return out.stdout, json.loads(out.stdout)["processes"][0]["listeners"]
sent = 0
while sent < 5000:
    for _ in range(250):
        c = socket.create_connection(("127.0.0.1", port))
        assert c.recv(1) == b"A"
        c.close()
        sent += 1
        time.sleep(0.0012)
    text, ls = rows()
    if any(l["address"].endswith(":%d" % port) and l["accepts"] > 0 for l in ls):
        print(text)
        print("after", sent, "connections", file=sys.stderr)
        sys.exit(0)
print(text)
sys.exit("no row for port %d after %d connections" % (port, sent))
PY
	aw_fail "$(cat "$AW_TMP/client.err"; head -c 3000 "$AW_TMP/s.json")"
cat "$AW_TMP/client.err"
aw_stop "$S_PID"
python3 - "$AW_TMP/s.json" "$port_a" "$port_b" <<'PY' || aw_fail "rows: $(head -c 3000 "$AW_TMP/s.json")"
import json, sys
ls = json.load(open(sys.argv[1]))["processes"][0]["listeners"]
a = [l for l in ls if l["address"].endswith(":" + sys.argv[2])]
b = [l for l in ls if l["address"].endswith(":" + sys.argv[3])]
assert len(b) == 1 and not b[0]["closed"] and b[0]["accepts"] > 0, "B's row"
assert b[0]["adopted"] if "adopted" in b[0] else True
assert all(l["closed"] for l in a), "A's row still open"
# A took its 3 connections and those the loop made on B's socket before
# the probe looked: never all of them (B's row has the rest).
print("ok: B", b[0]["accepts"], "accepts on its own row; A's row", a[0]["accepts"] if a else "reused", "closed")
PY
grep -q "adopt fd=3 127.0.0.1:$port_b" "$S_ERR" || grep -q "adopt .*:$port_b" "$S_ERR" ||
	aw_fail "no adopt line for B: $(cat "$S_ERR")"
echo ok
