#!/usr/bin/env bash
# The Debian package, as an operator meets it (make deb-check; CI runs it
# after make check, as root):
#  - installs on this machine: the reader in /usr/bin, the shim in the
#    multiarch library directory, both manual pages, the systemd units
#    (not enabled), the preload drop-in and the Prometheus rules;
#  - Debian's nginx started with the environment of the installed drop-in
#    (in a private network namespace) is under the shim: the installed
#    reader counts exactly the connections a client completed;
#  - purge removes every file it installed and leaves no unit enabled, no
#    systemd state and no segment.
# usage: deb_install.sh DIR   (DIR holds acceptwatch_*.deb, from make deb)
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export AW_ROOT
. "$AW_ROOT/tests/lib.sh" || exit 1
DEB_DIR=$(cd "${1:-$AW_ROOT/build/deb}" && pwd) || aw_fail "no directory ${1:-}"
aw_enter_netns 16 "$@"
. "$AW_ROOT/tests/e2e/real_lib.sh" || aw_fail "tests/e2e/real_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || aw_skip "nginx is not installed (make deps)"
rs_need curl python3 dpkg-architecture
deb=$(ls "$DEB_DIR"/acceptwatch_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || aw_fail "no acceptwatch_*.deb in $DEB_DIR (make deb)"
dpkg -s acceptwatch >/dev/null 2>&1 && aw_skip "acceptwatch is installed already: not touching it"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
APT=(apt-get -o DPkg::Lock::Timeout=600 -y -qq)

purge() { DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge acceptwatch >/dev/null 2>&1; }
trap 'purge; aw_cleanup' EXIT
DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "$deb" >"$AW_TMP/apt.out" 2>&1 ||
	aw_fail "apt-get install $deb: $(tail -5 "$AW_TMP/apt.out")"
dpkg -L acceptwatch >"$AW_TMP/files" || aw_fail "dpkg -L"

SHIM=/usr/lib/$MA/acceptwatch/libacceptwatch.so
for f in /usr/bin/acceptwatch "$SHIM" \
	/usr/share/man/man1/acceptwatch.1.gz /usr/share/man/man7/libacceptwatch.7.gz \
	/usr/lib/systemd/system/acceptwatch-exporter.service \
	/usr/lib/systemd/system/acceptwatch-textfile.timer \
	/usr/lib/systemd/system/acceptwatch-gc.timer \
	/usr/share/acceptwatch/acceptwatch-preload.conf \
	/usr/share/acceptwatch/prometheus/acceptwatch-rules.yml; do
	[ -f "$f" ] || aw_fail "not installed: $f ($(grep -c . "$AW_TMP/files") files)"
done
grep -q "^ExecStart=/usr/bin/acceptwatch serve" /usr/lib/systemd/system/acceptwatch-exporter.service ||
	aw_fail "the exporter's unit does not run /usr/bin/acceptwatch"
# Installed, not enabled: no wants link anywhere.
enabled=$(find /etc/systemd -name 'acceptwatch*' 2>/dev/null)
[ -z "$enabled" ] || aw_fail "units enabled by the package: $enabled"

# nginx under the installed drop-in's environment.
drop=/usr/share/acceptwatch/acceptwatch-preload.conf
mapfile -t envs < <(sed -n 's/^Environment=//p' "$drop")
printf '%s\n' "${envs[@]}" | grep -qx "LD_PRELOAD=$SHIM" ||
	aw_fail "the drop-in does not preload $SHIM: $(cat "$drop")"
P=18090 D=$AW_TMP/nginx
mkdir -p "$D"
rs_nginx_conf "$D" 2 "listen 127.0.0.1:$P; return 200 \"ok\\n\";"
env "${envs[@]}" ACCEPTWATCH_LOG=none "$NGINX" -p "$D" -c "$D/nginx.conf" -e "$D/error.log" \
	>"$D/start.out" 2>&1 || aw_fail "nginx did not start: $(cat "$D/start.out" "$D/error.log")"
for ((i = 0; i < 100; i++)); do
	[ -s "$D/nginx.pid" ] && break
	sleep 0.05
done
read -r MASTER <"$D/nginx.pid" || aw_fail "no nginx pid file"
aw_register_pid "$MASTER"
rs_wait_listen "$P" 16
done=0
for ((i = 0; i < 10; i++)); do
	curl -sf --max-time 5 "http://127.0.0.1:$P/" >/dev/null && done=$((done + 1))
done
[ "$done" = 10 ] || aw_fail "curl completed $done of 10"
/usr/bin/acceptwatch stat --json >"$AW_TMP/s.json" || aw_fail "installed acceptwatch stat failed"
got=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(l["accepts"] for p in d["processes"] for l in p["listeners"]
          if l["address"] == "127.0.0.1:" + sys.argv[2]))' "$AW_TMP/s.json" "$P")
[ "$got" = 10 ] || aw_fail "accepts $got, want 10: $(head -c 600 "$AW_TMP/s.json")"
echo "nginx under the installed shim: 10 accepts of 10"
kill "$MASTER"
for ((i = 0; i < 100; i++)); do
	kill -0 "$MASTER" 2>/dev/null || break
	sleep 0.05
done

purge || aw_fail "apt-get purge acceptwatch failed"
dpkg -s acceptwatch >/dev/null 2>&1 && aw_fail "still installed after purge"
left=()
while read -r f; do
	[ -f "$f" ] || [ -L "$f" ] || continue
	left+=("$f")
done <"$AW_TMP/files"
[ "${#left[@]}" = 0 ] || aw_fail "left after purge: ${left[*]}"
for d in "/usr/lib/$MA/acceptwatch" /usr/share/acceptwatch /usr/share/doc/acceptwatch; do
	[ ! -e "$d" ] || aw_fail "left after purge: $d"
done
state=$(find /var/lib/systemd /etc/systemd -name '*acceptwatch*' 2>/dev/null)
[ -z "$state" ] || aw_fail "systemd state left after purge: $state"
ls /dev/shm | grep -q "^acceptwatch\.$MASTER$" && aw_fail "nginx's segment left"
echo ok
