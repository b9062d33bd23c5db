#!/usr/bin/env bash
# Every path and number the reader takes from its command line is checked
# before it acts, as root too: one line on stderr, exit 2, nothing done.
#  - serve --listen: a port is 1-65535 written in decimal (99999, 65536, 0,
#    070000 and an empty port are refused; the kernel would otherwise pick
#    an ephemeral port or the low 16 bits);
#  - check --state FILE: FILE's directory must exist; check never creates
#    directories for a path it was given (only under the user's own state
#    directory, the default).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"

refused() { # WHAT CMD... : exit 2, one line on stderr naming WHAT
	local what=$1
	shift
	timeout 10 "$@" >"$AW_TMP/out" 2>"$AW_TMP/err"
	local rc=$?
	[ "$rc" = 2 ] || aw_fail "'$*' exited $rc, want 2: $(head -3 "$AW_TMP/err")"
	[ "$(wc -l <"$AW_TMP/err")" = 1 ] || aw_fail "'$*': not one line: $(cat "$AW_TMP/err")"
	grep -q -- "$what" "$AW_TMP/err" || aw_fail "'$*': want '$what': $(cat "$AW_TMP/err")"
}

for port in 99999 65536 0 070000 00080 1234567890123 -1; do
	refused "port" "$AW_TOOL" serve --listen "127.0.0.1:$port"
done
refused "port" "$AW_TOOL" serve --listen "[::1]:65536"
# Bounds that are valid are taken (the port is free in this namespace).
"$AW_TOOL" serve --listen 127.0.0.1:65535 2>"$AW_TMP/serve.err" &
SERVE_PID=$!
aw_register_pid "$SERVE_PID"
for ((i = 0; i < 100; i++)); do
	grep -q "serving" "$AW_TMP/serve.err" && break
	sleep 0.05
done
grep -q "^acceptwatch: serving http://127.0.0.1:65535/metrics$" "$AW_TMP/serve.err" ||
	aw_fail "serve on 65535: $(cat "$AW_TMP/serve.err")"
aw_stop "$SERVE_PID" || aw_fail "serve on 65535 did not stop cleanly"

# --state in a directory that does not exist: refused, nothing created.
missing=$AW_TMP/nonexistent
refused "state" "$AW_TOOL" check --interval 0 --state "$missing/x/state"
[ ! -e "$missing" ] || aw_fail "check --state created $(find "$missing")"
refused "state" "$AW_TOOL" check --interval 0 --state /nonexistent-aw-i21/x/state
[ ! -e /nonexistent-aw-i21 ] || {
	rm -rf /nonexistent-aw-i21
	aw_fail "check --state created /nonexistent-aw-i21 as root"
}
# A directory named as the state file, and a file as its directory.
refused "state" "$AW_TOOL" check --interval 0 --state "$AW_TMP"
: >"$AW_TMP/plain"
refused "state" "$AW_TOOL" check --interval 0 --state "$AW_TMP/plain/state"
# A state file in an existing directory is written; the default one is
# created with its directories under XDG_STATE_HOME, as before.
"$AW_TOOL" check --interval 0 --state "$AW_TMP/given.state" >/dev/null ||
	aw_fail "check --state in an existing directory failed"
[ -f "$AW_TMP/given.state" ] || aw_fail "check did not write --state"
"$AW_TOOL" check --interval 0 >/dev/null || aw_fail "check with the default state failed"
[ -f "$XDG_STATE_HOME/acceptwatch/check.state" ] || aw_fail "default state file not written"
echo ok
