#!/usr/bin/env bash
# The reader trusts nothing in /dev/shm. Each forged segment below is made
# from a real one (a server's, kept after exit) under a pid no process has,
# with the header pid patched to match, and must be named with its reason
# (or read safely) without a crash: truncated, wrong magic, wrong version,
# listeners_used > listener_count, stacks_used > stack_count, a huge
# event_head (read: positions are taken modulo the ring), unterminated comm
# and address (read: cut at the field size). A symlink under a segment's
# name is never followed, by the reader nor by the shim (a server whose
# segment name was planted as a symlink before it started). Another user's
# segment is refused as untrusted; root reads it. A dead process's segment
# is shown as exited with --all. Private /dev/shm: needs root.
. "$AW_ROOT/tests/lib.sh"

aw_enter_private_shm "$@"
S=/dev/shm/acceptwatch

aw_kept_segment E "$AW_TMP/real"

# Dead process: shown as exited with --all, skipped without.
"$AW_TOOL" stat --json --all "$E_PID" >"$AW_TMP/d.json" || aw_fail "stat dead"
aw_expect "$AW_TMP/d.json" "processes[0]['exited']" True
"$AW_TOOL" stat --json >"$AW_TMP/d2.json"
aw_expect "$AW_TMP/d2.json" "skipped_exited >= 1" True

forge() { # pid name python-statements-on-b (bytearray)
	aw_forge "$AW_TMP/real" "$S.$1" "$1" "$3"
}
refused() { # pid regex
	"$AW_TOOL" stat "$1" >"$AW_TMP/o" 2>"$AW_TMP/e"
	local rc=$?
	[ "$rc" = 2 ] || aw_fail "pid $1: exit $rc, want 2"
	grep -Eq "acceptwatch\.$1: $2" "$AW_TMP/e" || aw_fail "pid $1: not '$2': $(cat "$AW_TMP/e")"
}
readable() { # pid
	"$AW_TOOL" stat --json --all "$1" >"$AW_TMP/r.json" 2>"$AW_TMP/e" ||
		aw_fail "pid $1 unreadable: $(cat "$AW_TMP/e")"
}

forge 2147483001 trunc 'b = b[:len(b) // 2]'
refused 2147483001 "truncated: [0-9]+ bytes, header says"
forge 2147483002 short 'b = b[:100]'
refused 2147483002 "truncated: 100 bytes, smaller than"
forge 2147483003 magic 'b[0:8] = b"NOTMAGIC"'
refused 2147483003 "bad magic"
forge 2147483004 version 'b[8:12] = struct.pack("<I", 99)'
refused 2147483004 "ABI version 99"
forge 2147483005 lused 'b[36:40] = struct.pack("<I", 65)'
refused 2147483005 "listeners_used 65 exceeds listener_count 64"
forge 2147483006 sused 'b[144:148] = struct.pack("<I", 1000)'
refused 2147483006 "stacks_used 1000 exceeds stack_count 32"
forge 2147483007 head 'b[112:120] = struct.pack("<Q", 2**64 - 5)'
readable 2147483007
forge 2147483008 strings '
b[96:112] = b"\x1b[31mAAAAAAAAAAA"
lo = 256 + 32
b[lo:lo + 112] = b"B" * 112

so = struct.unpack("<I", b[132:136])[0]
for i in range(32):
    b[so + i * 1032 + 32:so + i * 1032 + 1032] = b"C" * 1000'
readable 2147483008
aw_expect "$AW_TMP/r.json" "processes[0]['comm']" $'\x1b[31mAAAAAAAAAAA'
aw_expect "$AW_TMP/r.json" "processes[0]['listeners'][0]['address']" "$(printf 'B%.0s' $(seq 112))"
"$AW_TOOL" stat --all 2147483008 >"$AW_TMP/t.txt" || aw_fail "text of unterminated strings"
# Stripes: a count past the table is refused; a reference that is not a
# stripe of the table, or a stripe of another generation (a reused slot
# caught half reset), is left out of the sums, never followed.
forge 2147483011 stused 'b[196:200] = struct.pack("<I", 1000)'
refused 2147483011 "stripes_used 1000 exceeds stripe_count 256"
refs='refs = [256 + 272 + 4 * k for k in range(8) if struct.unpack("<I", b[256 + 272 + 4 * k:260 + 272 + 4 * k])[0]]'
forge 2147483012 sref "$refs"'
for r in refs: b[r:r + 4] = struct.pack("<I", 0xfffffff0)'
readable 2147483012
aw_expect "$AW_TMP/r.json" "processes[0]['listeners'][0]['accepts']" 0
forge 2147483013 sgen "$refs"'
for r in refs:
    at = struct.unpack("<I", b[r:r + 4])[0]
    b[at:at + 4] = struct.pack("<I", 99)'
readable 2147483013
aw_expect "$AW_TMP/r.json" "processes[0]['listeners'][0]['accepts']" 0
forge 2147483014 same 'pass'
readable 2147483014
aw_expect "$AW_TMP/r.json" "processes[0]['listeners'][0]['accepts']" 3
grep -q $'\x1b' "$AW_TMP/t.txt" && aw_fail "escape byte reached the terminal"

# A symlink: not followed by the reader.
ln -s "$AW_TMP/real" "$S.2147483009"
refused 2147483009 "a symbolic link, not followed"

# The shim: the server's own segment name planted as a symlink before it
# starts (same pid through exec). It must not write through it.
: >"$AW_TMP/target"
aw_start P bash -c 'ln -s "$1" /dev/shm/acceptwatch.$$ && exec env LD_PRELOAD="$2" "$3" --backlog 8' \
	_ "$AW_TMP/target" "$AW_SHIM" "$AW_BIN/server"
port=$P_PORT
read -r _ completed _ < <("$AW_BIN/burst" --port "$port" -n 5)
[ "$completed" = 5 ] || aw_fail "server under a planted symlink completed $completed of 5"
[ -L "$S.$P_PID" ] || aw_fail "the shim replaced the planted symlink"
[ -s "$AW_TMP/target" ] && aw_fail "the shim wrote through the planted symlink"
aw_stop "$P_PID"

# Another user's segment: untrusted for nobody (mode 0644, readable), read
# by root.
cp "$AW_TMP/real" "$S.2147483010"
python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(60); f.write(struct.pack("<i",2147483010))' "$S.2147483010"
chmod 0644 "$S.2147483010"
if setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	aw_public "$AW_TOOL"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$AW_PUB/acceptwatch" stat 2147483010 \
		>/dev/null 2>"$AW_TMP/n.err"
	[ $? = 2 ] || aw_fail "nobody read root's segment"
	grep -q "acceptwatch.2147483010: owned by uid 0" "$AW_TMP/n.err" ||
		aw_fail "not named untrusted: $(cat "$AW_TMP/n.err")"
fi
chown 65534:65534 "$S.2147483010"
readable 2147483010
echo ok
