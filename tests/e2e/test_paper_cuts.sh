#!/usr/bin/env bash
# The rough edges a new user meets, each as it must be now:
#  - stat --output - writes stdout (no file named "-");
#  - a failed --output names the path given, not the hidden temporary;
#  - run --log relative.log writes ./relative.log (the shim takes absolute
#    paths only: run makes it absolute), not silently nothing;
#  - "runs without the shim" gives a full LD_PRELOAD path, usable as it is;
#  - COMMAND --version exits 0 with the version;
#  - serve --help aligns -h with its other options;
#  - serve --listen 999.1.1.1:PORT: "not an IPv4 address", exit 2, one line
#    (not a name-resolution failure);
#  - top into a file prints no "(q quits)", and no lifetime p99s in its
#    first frame; in 100 columns it keeps GAP99..DROP/s (the bar and COMM
#    give way);
#  - the man pages have EXAMPLES, acceptwatch(1) an ENVIRONMENT naming
#    NO_COLOR and XDG_STATE_HOME; README and libacceptwatch(7) give
#    ACCEPTWATCH_KEEP the same values.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"
cd "$AW_TMP" || aw_fail "cd"
# run finds the shim next to the release build (tools/ -> shim/).
REL_TOOL=${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch}

LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 8
"$AW_TOOL" stat --prometheus --output - "$S_PID" >"$AW_TMP/out.prom" ||
	aw_fail "--output - failed"
grep -q '^acceptwatch_processes 1$' "$AW_TMP/out.prom" || aw_fail "--output - wrote: $(head -3 "$AW_TMP/out.prom")"
[ ! -e "$AW_TMP/-" ] || aw_fail "--output - made a file named -"

"$AW_TOOL" stat --prometheus --output "$AW_TMP/nodir/x.prom" "$S_PID" 2>"$AW_TMP/e1"
[ $? = 1 ] || aw_fail "--output into a missing directory: want exit 1"
grep -qF "$AW_TMP/nodir/x.prom:" "$AW_TMP/e1" || aw_fail "error does not name the path: $(cat "$AW_TMP/e1")"
grep -q '\.x\.prom\.' "$AW_TMP/e1" && aw_fail "error names the temporary: $(cat "$AW_TMP/e1")"

# A bad ACCEPTWATCH_KEEP makes the shim warn on its log sink at load.
ACCEPTWATCH_KEEP=maybe "$REL_TOOL" run --log rel.log -- \
	sh -c 'echo "$ACCEPTWATCH_LOG"' >"$AW_TMP/logvar" 2>"$AW_TMP/e2" ||
	aw_fail "run --log rel.log: $(cat "$AW_TMP/e2")"
[ "$(cat "$AW_TMP/logvar")" = "$AW_TMP/rel.log" ] ||
	aw_fail "ACCEPTWATCH_LOG=$(cat "$AW_TMP/logvar"), want $AW_TMP/rel.log"
grep -q ACCEPTWATCH_KEEP "$AW_TMP/rel.log" 2>/dev/null ||
	aw_fail "nothing in ./rel.log: $(cat "$AW_TMP/rel.log" 2>&1)"

sleep 60 &
plain=$!
aw_register_pid "$plain"
"$REL_TOOL" stat "$plain" 2>"$AW_TMP/e3"
grep -qE "LD_PRELOAD=/[^ ]*/libacceptwatch\.so " "$AW_TMP/e3" ||
	aw_fail "hint without a full path: $(cat "$AW_TMP/e3")"

for cmd in stat check top listeners serve gc run; do
	out=$("$AW_TOOL" "$cmd" --version) || aw_fail "$cmd --version: exit $?"
	[[ $out == "acceptwatch "* ]] || aw_fail "$cmd --version: $out"
done

# The -h line's description starts where the others' do.
"$AW_TOOL" serve --help >"$AW_TMP/help"
col() { awk -v p="$1" 'index($0, p) == 3 { match(substr($0, 3 + length(p)), /^ +/); print 2 + length(p) + RLENGTH; exit }' "$AW_TMP/help"; }
[ "$(col "-l, --listen ADDR:PORT")" = "$(col "-h, --help")" ] ||
	aw_fail "serve --help misaligned: $(cat "$AW_TMP/help")"

"$AW_TOOL" serve --listen 999.1.1.1:9442 2>"$AW_TMP/e4"
[ $? = 2 ] || aw_fail "--listen 999.1.1.1: want exit 2"
[ "$(wc -l <"$AW_TMP/e4")" = 1 ] && grep -q "'999.1.1.1' is not an IPv4 address" "$AW_TMP/e4" ||
	aw_fail "--listen 999.1.1.1: $(cat "$AW_TMP/e4")"

# top into a file: no "(q quits)" (no keys are read, nobody sees it), and
# its first frame, with no earlier reading, shows no p99 (one since the
# listen would sit beside the per-interval ones of the next frames).
read -r _ c _ <<<"$("$AW_BIN/burst" --port "$S_PORT" -n 6)"
[ "$c" = 6 ] || aw_fail "burst: $c of 6"
timeout -s INT 3 "$AW_TOOL" top --interval 0.5 </dev/null >"$AW_TMP/top.out" 2>&1
grep -q "q quits" "$AW_TMP/top.out" && aw_fail "top says (q quits) into a file"
row=$(grep -m1 "127.0.0.1:$S_PORT " "$AW_TMP/top.out")
p99s=$(awk -F']' '{ split($2, f, " "); print f[1], f[2], f[3] }' <<<"$row")
[ "$p99s" = "- - -" ] || aw_fail "top's first frame shows p99s '$p99s': $row"

# top in 100 columns (a pseudo-terminal): the bar and COMM give way, the
# figures GAP99..DROP/s stay, no line is longer.
python3 - "$AW_TOOL" <<'PY' || aw_fail "top in 100 columns"
import fcntl, os, pty, re, select, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    os.execv(sys.argv[1], [sys.argv[1], "top", "--interval", "0.3"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0))
# Until a whole frame is in (one clear after another): a busy machine
# draws the first late, and a fixed wait read nothing.
clear = b"\x1b[H\x1b[2J"
out, end = b"", time.time() + 120
while out.count(clear) < 2 and time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            out += os.read(fd, 65536)
        except OSError:
            break
os.write(fd, b"q")
os.waitpid(pid, 0)
frame = out.split(clear)[1] if out.count(clear) >= 2 else b""
lines = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", frame).replace(b"\r", b"").split(b"\n")
head = [l for l in lines if l.startswith(b"STATE")]
assert head and b"GAP99" in head[0] and b"DROP/s" in head[0], lines[:4]
assert all(len(l) <= 100 for l in lines), [l for l in lines if len(l) > 100]
print("top in 100 columns:", head[0].decode())
PY

if command -v man >/dev/null; then
	for page in "$AW_ROOT/tools/acceptwatch.1" "$AW_ROOT/shim/libacceptwatch.7"; do
		MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q '^EXAMPLES' ||
			aw_fail "$page: no EXAMPLES"
	done
	MANWIDTH=80 man -l "$AW_ROOT/tools/acceptwatch.1" 2>/dev/null |
		sed -n '/^ENVIRONMENT/,/^[A-Z]/p' >"$AW_TMP/env"
	grep -q NO_COLOR "$AW_TMP/env" && grep -q XDG_STATE_HOME "$AW_TMP/env" ||
		aw_fail "acceptwatch(1) ENVIRONMENT: $(cat "$AW_TMP/env")"
fi
readme_keep=$(grep -m1 '^| `ACCEPTWATCH_KEEP`' "$AW_ROOT/README.md")
man_keep=$(sed -n '/^\.B ACCEPTWATCH_KEEP/{n;p}' "$AW_ROOT/shim/libacceptwatch.7")
for v in 1 yes true 0 no false; do
	grep -q "\`$v\`" <<<"$readme_keep" || aw_fail "README's ACCEPTWATCH_KEEP lacks $v"
	grep -qw "$v" <<<"$man_keep$(sed -n '/^\.B ACCEPTWATCH_KEEP/{n;n;n;p}' "$AW_ROOT/shim/libacceptwatch.7")" ||
		aw_fail "libacceptwatch(7)'s ACCEPTWATCH_KEEP lacks $v"
done
echo ok
