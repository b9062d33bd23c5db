#!/usr/bin/env bash
# Totals per socket across processes: a pre-fork server (the parent
# listens, two forked children accept) shows one total for the shared
# socket whose accepts equal what the clients completed, in JSON
# ("totals", keyed by dev+ino, with every pid) and in text (one block for
# a socket held by more than one process, its processes on one line; with
# --per-process a block per process and a "total" block).
. "$AW_ROOT/tests/lib.sh"

LD_PRELOAD=$AW_SHIM aw_start_server P --backlog 64 --fork 2
mapfile -t kids < <(awk '/^child/ {print $2}' "$P_OUT")
[ "${#kids[@]}" = 2 ] || aw_fail "children: ${kids[*]}"
read -r _ completed _ < <("$AW_BIN/burst" --port "$P_PORT" -n 60 --threads 2)
[ "$completed" = 60 ] || aw_fail "client completed $completed of 60"

"$AW_TOOL" stat --json "$P_PID" "${kids[@]}" >"$AW_TMP/s.json" ||
	aw_fail "stat failed"
ino=$(aw_json_get "$AW_TMP/s.json" "processes[0]['listeners'][0]['ino']")
T="[t for t in totals if t['ino'] == $ino][0]"
aw_expect "$AW_TMP/s.json" "len([t for t in totals if t['ino'] == $ino])" 1
aw_expect "$AW_TMP/s.json" "$T['accepts']" "$completed"
aw_expect "$AW_TMP/s.json" "$T['processes']" 3
want_pids=$(printf '%s\n' "$P_PID" "${kids[@]}" | sort -n | paste -sd, -)
aw_expect "$AW_TMP/s.json" "','.join(map(str, $T['pids']))" "$want_pids"
aw_expect "$AW_TMP/s.json" "$T['address']" "127.0.0.1:$P_PORT"
# The total is the sum of the rows.
aw_expect "$AW_TMP/s.json" \
	"sum(l['accepts'] for p in processes for l in p['listeners'] if l['ino'] == $ino)" \
	"$completed"
aw_expect "$AW_TMP/s.json" "$T['gap_ns']['count'] > 0" True
aw_expect "$AW_TMP/s.json" \
	"$T['queue_wait_ms']['count'] == sum(l['queue_wait_ms']['count'] for p in processes for l in p['listeners'])" True
aw_expect "$AW_TMP/s.json" "$T['errors']['other']" 0

"$AW_TOOL" stat "$P_PID" "${kids[@]}" >"$AW_TMP/s.txt" || aw_fail "stat text"
grep -q "^socket 127.0.0.1:$P_PORT  fd [0-9]*  (ino $ino)" "$AW_TMP/s.txt" ||
	aw_fail "no socket block: $(cat "$AW_TMP/s.txt")"
grep -q "^  3 processes (server), pid:accepts  ${want_pids//,/:[0-9]*  }:[0-9]*$" \
	"$AW_TMP/s.txt" || aw_fail "processes line: $(cat "$AW_TMP/s.txt")"
grep -q '^pid' "$AW_TMP/s.txt" && aw_fail "a block per process: $(cat "$AW_TMP/s.txt")"
awk '/^socket /{t=1} t && /accepts [0-9]/ {print $2; exit}' "$AW_TMP/s.txt" |
	grep -qx "$completed" || aw_fail "text socket accepts: $(cat "$AW_TMP/s.txt")"
"$AW_TOOL" stat --per-process "$P_PID" "${kids[@]}" >"$AW_TMP/pp.txt" ||
	aw_fail "stat --per-process"
grep -q "^total 127.0.0.1:$P_PORT  (ino $ino, 3 processes: ${want_pids//,/ })" \
	"$AW_TMP/pp.txt" || aw_fail "no total line: $(cat "$AW_TMP/pp.txt")"
awk '/^total /{t=1} t && /accepts/ {print $2; exit}' "$AW_TMP/pp.txt" |
	grep -qx "$completed" || aw_fail "text total accepts: $(cat "$AW_TMP/pp.txt")"
[ "$(grep -c '^pid ' "$AW_TMP/pp.txt")" = 3 ] || aw_fail "--per-process blocks"

# One process alone: in JSON totals, no text total block.
LD_PRELOAD=$AW_SHIM aw_start_server S --backlog 8
"$AW_TOOL" stat "$S_PID" >"$AW_TMP/one.txt"
grep -q '^total \|^socket ' "$AW_TMP/one.txt" && aw_fail "total block for one process"
"$AW_TOOL" stat --json "$S_PID" >"$AW_TMP/one.json"
aw_expect "$AW_TMP/one.json" "totals[0]['processes']" 1
aw_stop "$S_PID"
aw_stop "$P_PID"
echo ok
