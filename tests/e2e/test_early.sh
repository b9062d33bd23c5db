#!/usr/bin/env bash
# The wrappers work when called before the shim's constructor has run: a
# library's constructor listens and accepts (libearly.so, listed after the
# shim in LD_PRELOAD, is initialized first: checked with LD_DEBUG). No
# recursion, no crash, the same results, and the figures are recorded.
. "$AW_ROOT/tests/lib.sh"
early=$AW_ROOT/build/rel/tests/libearly.so
[ -f "$early" ] || aw_fail "no $early"

LD_DEBUG=files ACCEPTWATCH_KEEP=1 ACCEPTWATCH_LOG=stderr LD_PRELOAD="$AW_REL_SHIM $early" \
	"$AW_ROOT/build/rel/tests/symcheck" >"$AW_TMP/out" 2>"$AW_TMP/err" ||
	aw_fail "program failed: $(cat "$AW_TMP/err")"
pid=$(awk -F'[][]' '/acceptwatch\[[0-9]+\]: listen/ {print $2; exit}' "$AW_TMP/err")
[ -n "$pid" ] || aw_fail "no listen line: $(grep -v '^ *[0-9]*:' "$AW_TMP/err")"
aw_register_file "/dev/shm/acceptwatch.$pid"
order=$(grep -o 'calling init: .*\(libearly\|libacceptwatch\)\.so' "$AW_TMP/err" |
	sed 's/.*\///' | tr '\n' ' ')
[ "$order" = "libearly.so libacceptwatch.so " ] ||
	aw_fail "constructor order was: $order"
grep -q "^early listen=0 accept4=ok" "$AW_TMP/err" || aw_fail "early calls failed"
"$AW_TOOL" stat --json --all "$pid" >"$AW_TMP/s.json" || aw_fail "no segment"
python3 - "$AW_TMP/s.json" <<'PY' || aw_fail "early listener not recorded right"
import json, sys
ls = json.load(open(sys.argv[1]))["processes"][0]["listeners"]
early = [l for l in ls if l["requested_backlog"] == 7]
assert len(early) == 1 and early[0]["accepts"] == 1, ls
PY
echo "ok: order $order"
