#!/usr/bin/env bash
# Stack frames named as the files say (tests/e2e/frames_check.py): every
# named frame lies within its symbol's extent as nm -S reads the mapped file
# (or its debug file, by build-id), every unnamed one within none and
# printed module+0xOFF; modules are the mapped files' names.
#  - a threaded C server (release shim), forked: the children carry the
#    parent's stacks, and their listen() stack stays the listen() stack;
#    with libc6-dbg the threads' entry is start_thread, in libc.so.6;
#  - Debian's python3: frames in python3.11, not "python3";
#  - Debian's nginx: frames in nginx, not "nginx: worker process";
#  - a module whose file changed on disk (a copy of the server, rebuilt
#    while it runs): said, and printed module+0xOFF;
#  - ThreadSanitizer: 4 SO_REUSEPORT listeners whose loops are slow at the
#    same time capture concurrently; one listen() stack (4 hits) and one
#    slow stack, shared, and no report;
#  - a stripped copy of the server: no frame of it named (its .dynsym holds
#    none of its functions), all server+0xOFF; the same copy with its
#    function symbols in .gnu_debugdata (MiniDebugInfo, xz): named again.
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$AW_ROOT/tests/lib.sh" || exit 1
aw_enter_netns 64 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
CHECK="python3 $AW_ROOT/tests/e2e/frames_check.py"
REL=$AW_ROOT/build/rel/tests
dbg=$(sh "$AW_ROOT/tests/libc_debug.sh") ||
	aw_fail "libc6-dbg is not installed (make deps)"

# Threaded C server, 3 threads, 2 forked children; slow events in each.
ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_REL_SHIM aw_start C "$REL/server" \
	--threads 3 --delay-ms 100 --fork 2
read -r _ completed _ < <("$AW_BIN/burst" --port "$C_PORT" -n 12)
[ "$completed" = 12 ] || aw_fail "client completed $completed of 12"
mapfile -t kids < <(pgrep -P "$C_PID")
[ "${#kids[@]}" = 2 ] || aw_fail "want 2 children, have ${kids[*]}"
"$AW_REL_TOOL" stat --json "$C_PID" "${kids[@]}" >"$AW_TMP/c.json"
$CHECK "$AW_TMP/c.json" --min-named 10 --expect-module server \
	--expect-module libc.so.6 || aw_fail "C server frames"
python3 - "$AW_TMP/c.json" <<'PY' || aw_fail "C server stacks"
import json, sys
doc = json.load(open(sys.argv[1]))
slow = 0
for p in doc["processes"]:
    for l in p["listeners"]:
        ls = l["listen_stack"]
        assert ls and ls[0].split("+")[0] in ("main", "make_listener"), (p["pid"], ls)
        assert any(f.startswith("__libc_start_main+0x") for f in ls), ls
        if l["slow_stack"]:
            slow += 1
            s = l["slow_stack"]
            assert s[0].split("+")[0] in ("do_accept", "block_loop", "worker_main"), s
            # libc6-dbg: the thread's entry, named from the debug file.
            assert any(f.startswith("start_thread+0x") and f.endswith(" (libc.so.6)") for f in s), s
    # A child's copy of its parent's listen() stack: captured there.
    if p["parent_pid"]:
        assert any(st["kind"] == "listen" and st["hits"] == 0 for st in p["stacks"]), p["stacks"]
assert slow >= 1, "no slow stack"
print("C server: %d processes, %d slow stacks" % (len(doc["processes"]), slow))
PY
aw_stop "$C_PID"

# Stripped: nothing to name the server's frames by. Then MiniDebugInfo, as
# Fedora builds it: the function symbols, xz-compressed, in .gnu_debugdata.
command -v xz >/dev/null && command -v objcopy >/dev/null ||
	aw_fail "xz and objcopy needed (make deps)"
S=$AW_TMP/strip
mkdir -p "$S"
strip --strip-all -R .comment -o "$S/server" "$REL/server"
nm -D "$REL/server" --format=posix --defined-only | awk '{ print $1 }' |
	sort >"$S/dynsyms"
nm "$REL/server" --format=posix --defined-only |
	awk '$2 == "T" || $2 == "t" { print $1 }' | sort >"$S/funcsyms"
comm -13 "$S/dynsyms" "$S/funcsyms" >"$S/keep"
objcopy --only-keep-debug "$REL/server" "$S/mini"
objcopy -S --remove-section .gdb_index --remove-section .comment \
	--keep-symbols="$S/keep" "$S/mini"
xz -f "$S/mini"
cp "$S/server" "$S/server-mini"
objcopy --add-section .gnu_debugdata="$S/mini.xz" "$S/server-mini"
for v in server server-mini; do
	ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_REL_SHIM aw_start X "$S/$v" \
		--threads 2 --delay-ms 100
	read -r _ completed _ < <("$AW_BIN/burst" --port "$X_PORT" -n 4)
	"$AW_REL_TOOL" stat --json "$X_PID" >"$AW_TMP/$v.json"
	aw_stop "$X_PID"
	$CHECK "$AW_TMP/$v.json" --expect-module "$v" || aw_fail "$v frames"
	python3 - "$AW_TMP/$v.json" "$v" <<'PY' || aw_fail "$v: names"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
mod = sys.argv[2]
own = [f for st in p["stacks"] for f in st["frame_info"]
       if f["path"] and f["path"].endswith("/" + mod)]
named = [f["symbol"] for f in own if f["symbol"]]
assert own, "no frame in " + mod
if mod == "server":
    assert not named, named
else:
    assert "worker_main" in named and "main" in named, named
print("%s: %d frames, named: %s" % (mod, len(own), sorted(set(named))))
PY
done

# ThreadSanitizer: concurrent captures into one table.
TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0" \
	ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_TSAN_SHIM \
	aw_start Z "$AW_TSAN_BIN/server" --reuseport 4 --delay-ms 100
read -r _ completed _ < <("$AW_BIN/burst" --port "$Z_PORT" -n 24)
[ "$completed" = 24 ] || aw_fail "TSan: client completed $completed of 24"
"$AW_TOOL" stat --json "$Z_PID" >"$AW_TMP/z.json"
kill -TERM "$Z_PID"
wait "$Z_PID"
rc=$?
grep -q "ThreadSanitizer" "$Z_ERR" && aw_fail "TSan: $(head -40 "$Z_ERR")"
[ "$rc" = 0 ] || aw_fail "TSan server exited $rc: $(tail -5 "$Z_ERR")"
python3 - "$AW_TMP/z.json" <<'PY' || aw_fail "TSan: stacks not shared"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
ls = p["listeners"]
assert len(ls) == 4, len(ls)
kinds = sorted((st["kind"], st["hits"]) for st in p["stacks"])
assert [k for k, _ in kinds] == ["listen", "slow"], kinds
assert dict(kinds)["listen"] == 4, kinds
slow = [l["slow_stack_index"] for l in ls if l["slow_events"]]
assert len(slow) >= 2 and len(set(slow)) == 1, slow
print("tsan: %d listeners slow, stacks %s" % (len(slow), kinds))
PY

# A file replaced on disk: the build-id captured is not the file's any more.
cp "$REL/server" "$AW_TMP/server"
ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_REL_SHIM aw_start M "$AW_TMP/server" \
	--delay-ms 100
read -r _ completed _ < <("$AW_BIN/burst" --port "$M_PORT" -n 3)
# Same program, another build-id (written beside, then renamed over).
cc -O1 -DREBUILT=1 -D_GNU_SOURCE -Wl,--build-id=sha1 -o "$AW_TMP/server.new" \
	"$AW_ROOT/tests/e2e/server.c" -lpthread -lm || aw_fail "rebuild"
mv "$AW_TMP/server.new" "$AW_TMP/server"
"$AW_REL_TOOL" stat --json "$M_PID" >"$AW_TMP/m.json"
$CHECK "$AW_TMP/m.json" || aw_fail "replaced file frames"
python3 - "$AW_TMP/m.json" <<'PY' || aw_fail "replaced file not said"
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
fi = [f for st in p["stacks"] for f in st["frame_info"] if f["path"] and f["path"].endswith("/server")]
assert fi and all(f["file"] == "build-id mismatch" and f["symbol"] is None for f in fi), fi
frames = [x for st in p["stacks"] for x in st["frames"] if x.startswith("server+0x")]
assert frames and all(x.endswith(" (build-id differs from the file on disk)") for x in frames), frames
print("replaced: %d frames said" % len(frames))
PY
"$AW_REL_TOOL" stat "$M_PID" | grep -q "server+0x[0-9a-f]* (build-id differs from the file on disk)" ||
	aw_fail "text output does not say the file changed"
aw_stop "$M_PID"

# Debian's python3 (a link to python3.11): accept in a thread, slowly.
PY=/usr/bin/python3
[ -x "$PY" ] || aw_fail "Debian's python3 is not installed"
cat >"$AW_TMP/slow.py" <<'PY'
import socket, threading, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print("ready", s.getsockname()[1], flush=True)
def loop():
    while True:
        c, _ = s.accept()
        c.close()
        time.sleep(0.1)
t = threading.Thread(target=loop, daemon=True)
t.start()
t.join()
PY
ACCEPTWATCH_SLOW_MS=50 LD_PRELOAD=$AW_REL_SHIM aw_start Y "$PY" "$AW_TMP/slow.py"
read -r _ completed _ < <("$AW_BIN/burst" --port "$Y_PORT" -n 5)
"$AW_REL_TOOL" stat --json "$Y_PID" >"$AW_TMP/y.json"
$CHECK "$AW_TMP/y.json" --min-named 1 --expect-module python3.11 ||
	aw_fail "python frames"
grep -q '(python3)' "$AW_TMP/y.json" && aw_fail "module named python3, not python3.11"
aw_expect "$AW_TMP/y.json" "processes[0]['listeners'][0]['slow_stack'] != []" True
aw_stop "$Y_PID"

# Debian's nginx, one worker, stopped while clients queue: a slow event.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || aw_fail "nginx is not installed (make deps)"
D=$AW_TMP/nginx
P=18090
mkdir -p "$D"
rs_nginx_conf "$D" 1 "listen 127.0.0.1:$P; return 200 \"ok\\n\";"
ACCEPTWATCH_SLOW_MS=50 ACCEPTWATCH_LOG=none rs_nginx_start "$D" 1
rs_wait_listen "$P"
rs_client c "$P" 2 http
kill -STOP "${W[0]}"
"$RS_PY" "$RS_CLIENT" --port "$P" -n 3 --proto http --timeout-ms 15000 \
	>"$AW_TMP/n.out" &
cl=$!
sleep 0.3
kill -CONT "${W[0]}"
wait "$cl" || aw_fail "client failed: $(cat "$AW_TMP/n.out")"
"$AW_REL_TOOL" stat --json "${W[0]}" >"$AW_TMP/n.json"
$CHECK "$AW_TMP/n.json" --expect-module nginx || aw_fail "nginx frames"
grep -q 'worker process)' "$AW_TMP/n.json" && aw_fail "module named after the process title"
aw_expect "$AW_TMP/n.json" "processes[0]['listeners'][0]['slow_stack'] != []" True
aw_expect "$AW_TMP/n.json" "processes[0]['listeners'][0]['listen_stack'] != []" True
kill -QUIT "$MASTER"
echo "debug file for libc: $dbg"
