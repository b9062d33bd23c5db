#!/usr/bin/env bash
# Many segments at once: from 128 segments on, the reader takes its
# snapshots in threads (tools/gather.c). The report must still hold every
# process once, in pid order, each with the one connection it accepted,
# and say for each exactly what the same reader says when asked for the
# pids one by one (which takes them in one thread); and the threads run
# clean under ThreadSanitizer.
. "$AW_ROOT/tests/lib.sh"
aw_enter_private_shm "$@"
MK=$AW_ROOT/build/rel/bench/mksegments
N=200

coproc MKS { LD_PRELOAD=$AW_REL_SHIM ACCEPTWATCH_LOG=none "$MK" -n "$N" \
	--max-ms 60000; }
aw_register_pid "$MKS_PID"
read -r -t 60 ready <&"${MKS[0]}" || aw_fail "mksegments did not start"
[ "$ready" = "ready $N" ] || aw_fail "mksegments: $ready"

"$AW_TOOL" stat --json >"$AW_TMP/all.json" || aw_fail "stat failed"
mapfile -t pids < <(ls /dev/shm | sed -n 's/^acceptwatch\.//p' | sort -n)
[ "${#pids[@]}" = "$N" ] || aw_fail "${#pids[@]} segments, want $N"
"$AW_TOOL" stat --json "${pids[@]}" >"$AW_TMP/each.json" ||
	aw_fail "stat of $N pids failed"

aw_expect "$AW_TMP/all.json" "len(processes)" "$N"
aw_expect "$AW_TMP/all.json" \
	"[p['pid'] for p in processes] == sorted(p['pid'] for p in processes)" True
aw_expect "$AW_TMP/all.json" \
	"','.join(str(p['pid']) for p in processes)" "$(IFS=,; echo "${pids[*]}")"
aw_expect "$AW_TMP/all.json" \
	"all(len(p['listeners']) == 1 and p['listeners'][0]['accepts'] == 1 for p in processes)" True
python3 - "$AW_TMP/all.json" "$AW_TMP/each.json" <<'EOF' || aw_fail "threaded and one-by-one reports differ"
import json, sys
def rows(path):
    keep = ("pid", "alive", "comm")
    lkeep = ("address", "fd", "ino", "accepts", "drained", "requested_backlog",
             "kernel_backlog", "listen_stack", "gap_ns", "away_ns", "queue_wait_ms")
    out = []
    for p in json.load(open(path))["processes"]:
        out.append(({k: p.get(k) for k in keep},
                    [{k: l.get(k) for k in lkeep} for l in p["listeners"]]))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if a != b:
    for x, y in zip(a, b):
        if x != y:
            print("first difference:", x, y, file=sys.stderr)
            break
    sys.exit(1)
EOF

# The same threads under ThreadSanitizer.
[ -x "$AW_TSAN_TOOL" ] || aw_fail "no TSan reader built"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$AW_TSAN_TOOL" stat --json \
	>"$AW_TMP/tsan.json" 2>"$AW_TMP/tsan.err" ||
	aw_fail "TSan reader: $(head -30 "$AW_TMP/tsan.err")"
grep -q ThreadSanitizer "$AW_TMP/tsan.err" &&
	aw_fail "TSan: $(head -30 "$AW_TMP/tsan.err")"
aw_expect "$AW_TMP/tsan.json" "len(processes)" "$N"

echo stop >&"${MKS[1]}"
read -r -t 30 cleaned <&"${MKS[0]}"
echo "many: $N segments, one report in pid order, same as one by one ($cleaned)"
