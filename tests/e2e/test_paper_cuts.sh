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
