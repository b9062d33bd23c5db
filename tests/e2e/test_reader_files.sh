#!/usr/bin/env bash
# Root's reader against the files a local user names in a segment. Each
# hung, blew up or read a pseudo-file on the old reader:
#  - a stripped server whose .gnu_debuglink names a FIFO: stat and check
#    finish (well under 5 s) and name the frames of every other module;
#    gc, stat --prometheus and a scrape of serve open no module file at all
#    (they never show names);
#  - a stripped server whose .gnu_debugdata inflates to 512 MiB: stat
#    finishes under 5 s and neither the reader nor anything it starts grows
#    past 200 MB (the old reader: the whole 512 MiB, each run);
#  - module paths spelled //proc/version, /./proc/version, /sys/../proc/
#    version and a symbolic link to it: none is read (judged by what was
#    opened, not by how the path is spelled).
# Private /dev/shm and network namespace: needs root.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
. "$AW_ROOT/tests/e2e/hostile_files.sh"
for t in strip objcopy strace python3 curl; do
	command -v "$t" >/dev/null || aw_fail "$t is not installed (make deps)"
done
REL_TOOL=${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch}

# run_timed LIMIT_S OUT CMD...: CMD's stdout in OUT; fails past LIMIT_S
# (killed at 30 s: the old reader never returns). Prints the seconds and
# the largest RSS (MB) of CMD and anything it started.
run_timed() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
limit, out, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
t = time.monotonic()
try:
    rc = subprocess.run(cmd, stdout=open(out, "wb"), timeout=30).returncode
except subprocess.TimeoutExpired:
    print("%s: still running after 30 s" % cmd[1]); sys.exit(1)
took = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("%.2f s %.0f MB" % (took, rss))
if rc not in (0, 1) or took > limit:
    print("%s: exit %d after %.2f s (limit %.0f)" % (" ".join(cmd[1:3]), rc, took, limit)); sys.exit(1)
PY
}

hf_fifo_debuglink "$AW_TMP/fifo"
LD_PRELOAD=$AW_REL_SHIM aw_start F "$AW_TMP/fifo/server" --backlog 8
"$AW_BIN/burst" --port "$F_PORT" -n 3 >/dev/null || aw_fail "burst"
echo "FIFO debuglink:"
run_timed 5 "$AW_TMP/c.json" "$AW_TOOL" check --interval 0 --json "$F_PID" ||
	aw_fail "check on the FIFO debuglink"
for cmd in "stat --json $F_PID"; do
	run_timed 5 "$AW_TMP/f.json" "$AW_TOOL" $cmd || aw_fail "$cmd on the FIFO debuglink"
	python3 - "$AW_TMP/f.json" <<'PY' || aw_fail "$cmd: frames"
import json, re, sys
def strings(x):
    if isinstance(x, dict):
        for v in x.values(): yield from strings(v)
    elif isinstance(x, list):
        for v in x: yield from strings(v)
    elif isinstance(x, str):
        yield x
frames = [s for s in strings(json.load(open(sys.argv[1])))
          if re.match(r"^\S+\+0x[0-9a-f]+( \(.*\))?$", s)]
own = [f for f in frames if f.startswith("server+0x")]
named_own = [f for f in frames if f.endswith(" (server)")]
named_other = [f for f in frames if re.search(r" \((?!server\)).*\.so[.0-9]*\)$", f)]
assert own and not named_own, frames
assert named_other, frames  # the other modules' frames are still named
print("  %d frames, %d in the hostile module, unnamed; %d named elsewhere"
      % (len(frames), len(own), len(named_other)))
PY
done
# The commands that never show names open no module file.
never_names() { # WHAT CMD...
	local what=$1
	shift
	timeout 30 strace -f -qq -e trace=open,openat -o "$AW_TMP/trace" "$@" >/dev/null 2>&1 ||
		aw_fail "$what did not finish: $?"
	# (The loader's own open of libc is neither O_PATH nor O_NONBLOCK.)
	grep -E "fifo/server|(libc\.so|libacceptwatch).*O_(PATH|NONBLOCK)" "$AW_TMP/trace" &&
		aw_fail "$what opened module files"
	echo "  $what: no module file opened"
}
never_names gc "$AW_TOOL" gc --dry-run
never_names "stat --prometheus" "$AW_TOOL" stat --prometheus
"$AW_TOOL" serve --listen 127.0.0.1:9437 2>"$AW_TMP/serve.err" &
SERVE_PID=$!
aw_register_pid "$SERVE_PID"
for ((i = 0; i < 100; i++)); do
	grep -q serving "$AW_TMP/serve.err" && break
	sleep 0.05
done
strace -f -qq -p "$SERVE_PID" -e trace=open,openat -o "$AW_TMP/serve.trace" &
ST_PID=$!
aw_register_pid "$ST_PID"
sleep 1 # strace attached
curl -sf --max-time 5 -o "$AW_TMP/m.prom" http://127.0.0.1:9437/metrics ||
	aw_fail "serve: a scrape with a FIFO debuglink about did not answer in 5 s"
grep -q "^acceptwatch_processes 1$" "$AW_TMP/m.prom" || aw_fail "scrape: $(head -5 "$AW_TMP/m.prom")"
kill "$ST_PID"
wait "$ST_PID" 2>/dev/null
grep -q "acceptwatch\.$F_PID" "$AW_TMP/serve.trace" || aw_fail "strace did not see the scrape"
grep -E "fifo/server|libc\.so" "$AW_TMP/serve.trace" && aw_fail "serve opened module files"
aw_stop "$SERVE_PID" || aw_fail "serve did not stop"
aw_stop "$F_PID"

echo "xz bomb (512 MiB):"
hf_xz_bomb "$AW_TMP/bomb" 512
ACCEPTWATCH_KEEP=1 LD_PRELOAD=$AW_REL_SHIM aw_start B "$AW_TMP/bomb/server" --backlog 8
"$AW_BIN/burst" --port "$B_PORT" -n 2 >/dev/null || aw_fail "burst"
res=$(run_timed 5 "$AW_TMP/b.txt" "$REL_TOOL" stat "$B_PID") || aw_fail "stat on the bomb: $res"
echo "  stat: $res"
rss=${res#* s }
[ "${rss% MB}" -lt 200 ] || aw_fail "stat on the bomb grew to $rss"
grep -q "server+0x" "$AW_TMP/b.txt" || aw_fail "the bomb's frames not printed: $(cat "$AW_TMP/b.txt")"
aw_stop "$B_PID"

echo "pseudo-files by any spelling:"
cp "/dev/shm/acceptwatch.$B_PID" "$AW_TMP/kept"
ln -s /proc/version "$AW_TMP/link.so"
hf_forge_modules "$AW_TMP/kept" /dev/shm/acceptwatch.2147483001 2147483001 \
	//proc/version /./proc/version /sys/../proc/version "$AW_TMP/link.so" >/dev/null
strace -f -qq -y -e trace=read,pread64,mmap -o "$AW_TMP/p.trace" \
	"$AW_TOOL" stat --all 2147483001 >"$AW_TMP/p.txt" 2>&1 || aw_fail "stat: $(cat "$AW_TMP/p.txt")"
grep -q "version+0x" "$AW_TMP/p.txt" || aw_fail "forged frames not printed: $(cat "$AW_TMP/p.txt")"
grep "</proc/version>" "$AW_TMP/p.trace" && aw_fail "the reader read /proc/version"
echo ok
