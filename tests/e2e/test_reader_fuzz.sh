#!/usr/bin/env bash
# The segment fuzzer (tests/fuzz/fuzz_segment.c, libFuzzer) for a bounded
# time: AW_FUZZ_SECONDS (default 60; `make fuzz` sets FUZZ_SECONDS). Seed
# corpus in build/fuzz/corpus: real segments of a server under the shim
# (copied from /dev/shm while it runs, in the fuzzer's sparse form) and a
# few hand-made ones. Fails on any crash, timeout, leak or sanitizer report.
. "$AW_ROOT/tests/lib.sh"
FUZZ=$AW_ROOT/build/fuzz/fuzz_segment
[ -x "$FUZZ" ] || aw_skip "fuzzer not built (make test-build needs clang)"
secs=${AW_FUZZ_SECONDS:-60}
corpus=$AW_ROOT/build/fuzz/corpus
mkdir -p "$corpus"

# Real segments: a fresh server, then after traffic, then after a slow
# event (the ring and a stack in use).
LD_PRELOAD=$AW_SHIM ACCEPTWATCH_SLOW_MS=5 aw_start_server F --backlog 16 --delay-ms 20
seg=/dev/shm/acceptwatch.$F_PID
cp "$seg" "$AW_TMP/seg0" || aw_fail "no segment for $F_PID"
"$AW_BIN/burst" --port "$F_PORT" -n 20 --threads 4 >/dev/null
cp "$seg" "$AW_TMP/seg1"
aw_stop "$F_PID"
LD_PRELOAD=$AW_SHIM aw_start_server G --fork 2
"$AW_BIN/burst" --port "$G_PORT" -n 10 >/dev/null
for kid in $(awk '/^child/ {print $2}' "$G_OUT"); do
	cp "/dev/shm/acceptwatch.$kid" "$AW_TMP/seg-$kid"
done
aw_stop "$G_PID"

python3 - "$corpus" "$AW_TMP"/seg* <<'PY' || aw_fail "corpus"
import os, struct, sys
out, files = sys.argv[1], sys.argv[2:]
def sparse(b):
    body = bytearray(b[:192])
    i, n = 192, len(b)
    while i < n:
        if b[i] == 0:
            i += 1
            continue
        j = i
        zeros = 0
        while j < n and j - i < 60000 and zeros < 64:
            zeros = zeros + 1 if b[j] == 0 else 0
            j += 1
        body += struct.pack("<IH", i, j - i) + b[i:j]
        i = j
    return bytes(body)
for k, f in enumerate(files):
    b = open(f, "rb").read()
    s = sparse(b)
    open(os.path.join(out, "real-%d" % k), "wb").write(b"\x01" + s)
    open(os.path.join(out, "real-%d-otherpid" % k), "wb").write(b"\x03" + s)
    # Hand-made, from the real one: truncated, the header only, wrong
    # magic, wrong version, counts too big, unterminated strings.
    open(os.path.join(out, "trunc-%d" % k), "wb").write(b"\x00" + b[:4096])
    open(os.path.join(out, "hdr-%d" % k), "wb").write(b"\x00" + b[:192])
    def patched(name, off, val):
        h = bytearray(s)
        h[off:off + len(val)] = val
        open(os.path.join(out, "%s-%d" % (name, k)), "wb").write(b"\x01" + bytes(h))
    patched("magic", 0, b"XXXXXXXX")
    patched("version", 8, struct.pack("<I", 2))
    patched("lused", 36, struct.pack("<I", 65))
    patched("sused", 144, struct.pack("<I", 33))
    patched("head", 112, struct.pack("<Q", 2**64 - 1))
    patched("comm", 96, b"A" * 16)
open(os.path.join(out, "empty"), "wb").write(b"\x00")
PY

export ASAN_OPTIONS=detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$AW_TMP" || aw_fail "cd"
"$FUZZ" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=262144 -print_final_stats=1 "$corpus" >"$AW_TMP/fuzz.log" 2>&1
rc=$?
tail -25 "$AW_TMP/fuzz.log"
[ "$rc" = 0 ] || aw_fail "fuzzer exited $rc (crash, timeout or leak; see above)"
ls "$AW_TMP"/crash-* "$AW_TMP"/timeout-* "$AW_TMP"/leak-* 2>/dev/null &&
	aw_fail "fuzzer left a reproducer"
grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$AW_TMP/fuzz.log"
echo ok
