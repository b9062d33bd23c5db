# tests/e2e/hostile_files.sh - what a hostile local user leaves for root's
# reader, made in a directory (sourced by the tests that need them):
#   hf_fifo_debuglink DIR   DIR/server: a stripped copy of the test server
#                           whose .gnu_debuglink names DIR/server.debug, a
#                           FIFO (libdwfl's standard search opens it with a
#                           blocking open())
#   hf_xz_bomb DIR MIB      DIR/server: a stripped copy whose .gnu_debugdata
#                           (MiniDebugInfo) is MIB MiB of zeros in xz (about
#                           150 KB for 1 GiB)
#   hf_forge_modules SRC DST PID PATH...
#                           DST: the segment SRC with its header pid set to
#                           PID and its stacks' module paths replaced, one
#                           by one, by the PATHs (the last one repeats);
#                           written in place (DST may be SRC, mapped by its
#                           server), as $HF_AS (e.g. setpriv ...) if set
# Needs strip, objcopy, python3 (make deps).
HF_SERVER=${HF_SERVER:-$AW_ROOT/build/rel/tests/server}

hf_stripped() { # DIR
	mkdir -p "$1" && strip --strip-all -R .comment -o "$1/server" "$HF_SERVER" ||
		aw_fail "cannot strip a copy of $HF_SERVER"
}

hf_fifo_debuglink() {
	hf_stripped "$1"
	objcopy --only-keep-debug "$HF_SERVER" "$1/server.debug" &&
		objcopy --add-gnu-debuglink="$1/server.debug" "$1/server" ||
		aw_fail "objcopy --add-gnu-debuglink"
	rm -f "$1/server.debug" && mkfifo "$1/server.debug" || aw_fail "mkfifo"
}

hf_xz_bomb() {
	hf_stripped "$1"
	python3 - "$1/bomb.xz" "$2" <<'PY' || aw_fail "cannot make the xz bomb"
import lzma, sys
c = lzma.LZMACompressor(format=lzma.FORMAT_XZ, filters=[{
    "id": lzma.FILTER_LZMA2, "dict_size": 1 << 20, "mode": lzma.MODE_FAST,
    "mf": lzma.MF_HC3, "nice_len": 273}])
zeros, out = bytes(1 << 20), []
for _ in range(int(sys.argv[2])):
    out.append(c.compress(zeros))
out.append(c.flush())
open(sys.argv[1], "wb").write(b"".join(out))
PY
	objcopy --add-section .gnu_debugdata="$1/bomb.xz" "$1/server" ||
		aw_fail "objcopy --add-section .gnu_debugdata"
}

hf_forge_modules() {
	local src=$1 dst=$2 pid=$3
	shift 3
	${HF_AS:-} /usr/bin/python3 - "$src" "$dst" "$pid" "$@" <<'PY' || aw_fail "cannot forge $dst"
import os, struct, sys
src, dst, pid, paths = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
b = bytearray(open(src, "rb").read())
b[60:64] = struct.pack("<i", pid)
# Module paths are NUL-terminated absolute paths in 256-byte fields: each
# field that holds a path of a mapped file gets the next hostile path.
n = 0
i = b.find(b"\0/") + 1
while 0 < i < len(b):
    end = b.find(b"\0", i)
    name = bytes(b[i:end])
    if end - i < 256 and (name.endswith(b"/server") or b".so" in name):
        p = paths[min(n, len(paths) - 1)].encode()
        b[i:i + 256] = p + bytes(256 - len(p))
        n += 1
        i += 256
    i = b.find(b"\0/", i) + 1
assert n > 0, "no module path found"
fd = os.open(dst, os.O_WRONLY | os.O_CREAT, 0o600)
os.pwrite(fd, bytes(b), 0)
os.close(fd)
print(n)
PY
}
