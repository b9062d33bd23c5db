#!/usr/bin/env python3
"""frames_check.py JSON [--min-named N] [--expect-module NAME]...

Checks every frame of every stack in a reader's JSON report against the
symbol tables of the file the frame's module maps, as nm reads them: the
file's .symtab, its .dynsym, its .gnu_debugdata (MiniDebugInfo, the
xz-compressed symbol table some distributions embed), and the detached
debug file found by build-id under /usr/lib/debug/.build-id (libc6-dbg and
the like).
 - a named frame: some symbol of that name has an extent (nm -S) holding
   the call (offset - 1), and symbol_offset = offset - its start; the
   printed frame reads "name+0xOFF (module)";
 - an unnamed frame of a file that was found: no sized symbol holds the
   call, and the printed frame reads "module+0xOFF", offset as captured.
Prints one line per process; exits 1 with the first wrong frame.
"""
import json, lzma, os, re, subprocess, sys, tempfile

def nm(args):
    r = subprocess.run(["nm", "-S", "--defined-only"] + args,
                       capture_output=True, text=True)
    syms = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        start, size, _type, name = parts
        syms.append((int(start, 16), int(size, 16), name.split("@")[0]))
    return syms

def mini_debuginfo(path):
    """nm -S of the file's .gnu_debugdata, when it has one."""
    with tempfile.TemporaryDirectory() as d:
        xz = os.path.join(d, "mini.xz")
        r = subprocess.run(["objcopy", "--dump-section", ".gnu_debugdata=" + xz,
                            path, os.path.join(d, "copy")], capture_output=True)
        if r.returncode != 0 or not os.path.exists(xz):
            return []
        elf = os.path.join(d, "mini")
        with open(elf, "wb") as f:
            f.write(lzma.decompress(open(xz, "rb").read()))
        return nm([elf])

cache = {}
def symbols(path, build_id):
    key = (path, build_id)
    if key not in cache:
        syms = nm([path]) + nm(["-D", path]) + mini_debuginfo(path)
        if build_id:
            dbg = "/usr/lib/debug/.build-id/%s/%s.debug" % (build_id[:2], build_id[2:])
            if os.path.exists(dbg):
                syms += nm([dbg])
        cache[key] = syms
    return cache[key]

def fail(msg):
    print("frames_check: " + msg)
    sys.exit(1)

def main():
    doc = json.load(open(sys.argv[1]))
    min_named, expect = 0, []
    args = sys.argv[2:]
    while args:
        if args[0] == "--min-named":
            min_named = int(args[1])
        elif args[0] == "--expect-module":
            expect.append(args[1])
        args = args[2:]
    named = 0
    modules = set()
    for p in doc["processes"]:
        n_frames = 0
        for st in p["stacks"]:
            for printed, f in zip(st["frames"], st["frame_info"]):
                n_frames += 1
                path = f["path"]
                if path is None:
                    if not re.fullmatch(r"0x[0-9a-f]+", printed):
                        fail("frame without module printed %r" % printed)
                    continue
                base = os.path.basename(path)
                modules.add(base)
                off = f["offset"]
                syms = symbols(path, f["build_id"]) if f["file"] == "found" else []
                if f["symbol"] is not None:
                    start = off - f["symbol_offset"]
                    ok = [s for s in syms if s[2] == f["symbol"] and s[0] == start
                          and s[0] <= off - 1 < s[0] + s[1]]
                    if not ok:
                        fail("%s: %s+0x%x at offset 0x%x: no such extent in nm -S"
                             % (base, f["symbol"], f["symbol_offset"], off))
                    want = "%s+0x%x (%s)" % (f["symbol"], f["symbol_offset"], base)
                    named += 1
                else:
                    holders = [s for s in syms if s[1] and s[0] <= off - 1 < s[0] + s[1]]
                    if holders:
                        fail("%s+0x%x unnamed, but nm -S has %r" % (base, off, holders[0]))
                    want = "%s+0x%x" % (base, off)
                    if f["file"] == "build-id mismatch":
                        want += " (build-id differs from the file on disk)"
                if printed != want or f["printed"] != want:
                    fail("printed %r (%r), want %r" % (printed, f["printed"], want))
        print("pid %d: %d stacks, %d frames checked" % (p["pid"], len(p["stacks"]), n_frames))
    for m in expect:
        if m not in modules:
            fail("no frame in module %s (modules: %s)" % (m, sorted(modules)))
    if named < min_named:
        fail("%d named frames, want at least %d" % (named, min_named))
    print("named frames: %d, all within their symbol's extent" % named)

main()
