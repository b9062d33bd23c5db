#!/usr/bin/env bash
# The shim's and the reader's modules sit in layers with no circle: a
# lower module never calls up (it gets a callback). The graph is read from
# the built objects of every variant (tests/layers.sh: module A uses B when
# A's object leaves undefined a symbol B's defines), so a new circle fails
# here with its modules and the symbols that close it. tests/layers.known
# lists the circles tolerated for now.
. "$AW_ROOT/tests/lib.sh"
cd "$AW_ROOT" || aw_fail "no tree"
command -v nm >/dev/null || aw_skip "nm (binutils) is not installed"
# The check itself: two objects calling each other are a circle, named.
mkdir -p "$AW_TMP/fake" || aw_fail "mkdir"
echo 'void b(void); void a(void); void a(void) { b(); }' >"$AW_TMP/fake/up.c"
echo 'void a(void); void b(void); void b(void) { a(); }' >"$AW_TMP/fake/down.c"
for m in up down; do
	${CC:-cc} -c -o "$AW_TMP/fake/$m.o" "$AW_TMP/fake/$m.c" || aw_fail "cc $m.c"
done
out=$(bash tests/layers.sh "$AW_TMP/fake")
[ $? = 1 ] || aw_fail "a circle of two objects passed: $out"
grep -qx '  down -> up (a) -> down (b)' <<<"$out" || aw_fail "circle not named: $out"
dirs=()
for d in build/*/obj/shim build/*/obj/tools; do
	[ -d "$d" ] && ls "$d"/*.o >/dev/null 2>&1 && dirs+=("$d")
done
[ ${#dirs[@]} -gt 0 ] || aw_fail "no objects under build/ (make test-build)"
for d in "${dirs[@]}"; do
	echo "== $d"
	AW_LAYERS_KNOWN=tests/layers.known bash tests/layers.sh "$d" ||
		aw_fail "$d: modules in a circle (above)"
done
echo ok
