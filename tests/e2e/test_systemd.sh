#!/usr/bin/env bash
# The systemd files in dist/systemd, as `make install` would place them
# (paths pointed at this build tree): every unit and timer passes
# `systemd-analyze verify` without a warning (man pages from the tree), the
# preload drop-in too, on a unit with NoExecPaths=/ as Debian's redis unit
# has. Then what they run works: the drop-in's environment puts a server
# under the shim; the exporter's, gc's and the textfile service's
# ExecStart lines run as written (the exporter on a free port).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
command -v systemd-analyze >/dev/null || aw_skip "systemd-analyze is not installed (make deps)"

D=$AW_TMP/units
TOOL=${AW_REL_TOOL:-$AW_ROOT/tools/acceptwatch}
SHIM_DIR=$(dirname "${AW_REL_SHIM:-$AW_ROOT/shim/libacceptwatch.so}")
mkdir -p "$D" "$AW_TMP/man/man1" "$AW_TMP/man/man7" "$AW_TMP/textfile"
cp "$AW_ROOT/tools/acceptwatch.1" "$AW_TMP/man/man1/"
cp "$AW_ROOT/shim/libacceptwatch.7" "$AW_TMP/man/man7/"
# What `make install` does to the paths, with this tree as the prefix.
place() { # SRC DST
	sed -e "s,/usr/local/bin/acceptwatch,$TOOL,g" \
		-e "s,/usr/local/lib/acceptwatch,$SHIM_DIR,g" \
		-e "s,/var/lib/prometheus/node-exporter,$AW_TMP/textfile,g" "$1" >"$2"
}
units=()
for f in "$AW_ROOT"/dist/systemd/*.service "$AW_ROOT"/dist/systemd/*.timer; do
	place "$f" "$D/${f##*/}"
	units+=("$D/${f##*/}")
done
[ "${#units[@]}" -ge 5 ] || aw_fail "dist/systemd: ${#units[@]} units"
# A service like Debian's redis-server, with the drop-in.
printf '[Unit]\nDescription=a server\n[Service]\nExecStart=/bin/sleep 60\nNoExecPaths=/\nExecPaths=/bin /usr/bin /lib /usr/lib\n' \
	>"$D/server.service"
mkdir -p "$D/server.service.d"
place "$AW_ROOT/dist/systemd/acceptwatch-preload.conf" "$D/server.service.d/acceptwatch.conf"
units+=("$D/server.service")

for u in "${units[@]}"; do
	MANPATH=$AW_TMP/man systemd-analyze verify "$u" >"$AW_TMP/v.out" 2>&1 ||
		aw_fail "systemd-analyze verify ${u##*/}: $(cat "$AW_TMP/v.out")"
	[ ! -s "$AW_TMP/v.out" ] || aw_fail "systemd-analyze verify ${u##*/} warns: $(cat "$AW_TMP/v.out")"
	echo "verified ${u##*/}"
done
# verify itself refuses a bad drop-in, so the check above can fail.
echo "Bogus=1" >>"$D/server.service.d/acceptwatch.conf"
MANPATH=$AW_TMP/man systemd-analyze verify "$D/server.service" 2>&1 | grep -q "Unknown key 'Bogus'" ||
	aw_fail "systemd-analyze verify does not read the drop-in"
sed -i '$d' "$D/server.service.d/acceptwatch.conf"

# The drop-in's ExecPaths= names the shim's directory.
grep -q "^ExecPaths=-$SHIM_DIR\$" "$D/server.service.d/acceptwatch.conf" ||
	aw_fail "the drop-in does not allow the shim's directory"
# Its environment puts a server under the shim.
mapfile -t envs < <(sed -n 's/^Environment=//p' "$D/server.service.d/acceptwatch.conf")
[ "${#envs[@]}" -ge 1 ] || aw_fail "no Environment= in the drop-in"
env "${envs[@]}" "$AW_ROOT/build/rel/tests/server" --backlog 8 >"$AW_TMP/s.out" 2>&1 &
S_PID=$!
aw_register_pid "$S_PID"
aw_wait_for 30 test -e "/dev/shm/acceptwatch.$S_PID" ||
	aw_fail "no segment under the drop-in's environment: $(cat "$AW_TMP/s.out")"

execstart() { sed -n 's/^ExecStart=//p' "$D/$1"; }
# The exporter, as its unit starts it (on a free port here).
read -r -a cmd <<<"$(execstart acceptwatch-exporter.service)"
cmd=("${cmd[@]/127.0.0.1:9437/127.0.0.1:$(aw_free_port)}")
aw_start_exporter E "${cmd[@]}"
url=$E_URL
curl -sf "$url" | grep -q "^acceptwatch_processes 1$" || aw_fail "exporter: $(curl -s "$url" | head)"
# The textfile service writes its file; gc keeps the live segment.
read -r -a cmd <<<"$(execstart acceptwatch-textfile.service)"
"${cmd[@]}" || aw_fail "textfile ExecStart failed"
grep -q "^acceptwatch_processes 1$" "$AW_TMP/textfile/acceptwatch.prom" || aw_fail "textfile not written"
read -r -a cmd <<<"$(execstart acceptwatch-gc.service)"
"${cmd[@]}" || aw_fail "gc ExecStart failed"
[ -e "/dev/shm/acceptwatch.$S_PID" ] || aw_fail "gc removed a live segment"
echo ok
