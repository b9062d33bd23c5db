#!/usr/bin/env bash
# A same-uid process that writes into the live segment can spoil figures,
# never the host: while scribble.c writes random values over the segment
# of a threaded server (and the words the shim once acted on: counts,
# offsets, indexes, bounds) for 10 s, the server, sanitized and under the
# sanitized shim, accepts 50,000 connections from 4 client threads. Every
# connection is served, the server still answers afterwards, exits 0 at
# SIGTERM and its stderr holds no sanitizer report. Two writers at once:
# seed AW_SCRIBBLE_SEED (default 1) for 5 s and the next seed for 10 s.
# Wall time: about 12 s here, 30 s at most on a busy 2-core machine (the
# writing overlaps the connections).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 4096 "$@"
aw_enter_private_shm "$@"
STORM=$AW_ROOT/build/rel/bench/storm
SEED=${AW_SCRIBBLE_SEED:-1}
[ -x "$STORM" ] || aw_fail "no $STORM"

ACCEPTWATCH_LOG=none LD_PRELOAD=$AW_SHIM aw_start_server S --threads 4 --backlog 4096
seg=/dev/shm/acceptwatch.$S_PID
[ -f "$seg" ] || aw_fail "no segment $seg"

"$AW_BIN/scribble" "$seg" 5 "$SEED" >"$AW_TMP/w1" 2>&1 &
w1=$!
"$AW_BIN/scribble" "$seg" 10 "$((SEED + 1))" >"$AW_TMP/w2" 2>&1 &
w2=$!
aw_register_pid "$w1" "$w2"
out=$("$STORM" --port "$S_PORT" --threads 4 --max-conns 50000 --duration-ms 120000)
read -r _ _ conns _ failed _ <<<"$out"
wait "$w1" || aw_fail "scribble 1 failed: $(cat "$AW_TMP/w1")"
wait "$w2" || aw_fail "scribble 2 failed: $(cat "$AW_TMP/w2")"
aw__alive "$S_PID" || aw_fail "the server died: $(tail -30 "$S_ERR")"
[ "$conns" = 50000 ] && [ "$failed" = 0 ] || aw_fail "storm: $out"
# Still serving once the writes stop.
out=$("$STORM" --port "$S_PORT" --threads 1 --max-conns 100 --duration-ms 60000)
read -r _ _ conns _ failed _ <<<"$out"
[ "$conns" = 100 ] && [ "$failed" = 0 ] || aw_fail "after: $out"
aw_stop "$S_PID"
rc=$?
[ "$rc" = 0 ] || aw_fail "server exit status $rc: $(tail -30 "$S_ERR")"
! grep -q "Sanitizer\|runtime error" "$S_ERR" || aw_fail "sanitizer: $(head -30 "$S_ERR")"
grep -q "^accepted 50100$" "$S_OUT" || aw_fail "server: $(cat "$S_OUT")"
echo "ok: 50,100 connections served; $(cat "$AW_TMP/w1") and $(cat "$AW_TMP/w2") words written"
