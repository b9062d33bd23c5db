#!/usr/bin/env bash
# make cpython-check: CPython's own tests of the code paths the shim wraps
# (sockets, socketserver, asyncio, multiprocessing with a fork server,
# subprocess), from Debian's libpython3.11-testsuite, run twice: without
# the shim and with it preloaded at default settings. Every test case must
# end the same way in both runs (JUnit XML from regrtest, case by case),
# and the run with the shim must leave no segment behind (in a /dev/shm of
# its own). Not part of `make check`: it takes about ten minutes.
set -u
cd "$(dirname "$0")/.."
root=$PWD
tests=${AW_CPYTHON_TESTS:-test_socket test_socketserver test_asyncio test_multiprocessing_forkserver test_subprocess}
py=/usr/bin/python3

if [ ! -d /usr/lib/python3.11/test/test_asyncio ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "cpython-check: run: sudo apt-get install -y libpython3.11-testsuite"
		exit 2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpython3.11-testsuite >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpython3.11-testsuite >/dev/null; } ||
		exit 2
fi
if [ -z "${AW_CPY_SHMNS:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		AW_CPY_SHMNS=1 exec unshare -m bash "$0" "$@"
	fi
	echo "cpython-check: needs root for a /dev/shm of its own"
	exit 2
fi
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 2
out=$(mktemp -d /tmp/aw-cpython.XXXXXX)

run() { # label [preload]
	local label=$1 preload=${2:-}
	echo "== $label: $py -m test -j2 $tests"
	# The VSOCK cases wait for a hypervisor peer that a VM without one
	# never provides (they hang with or without the shim).
	(cd "$out" && env ${preload:+LD_PRELOAD=$preload} "$py" -m test -j2 \
		--timeout 900 --ignore '*VSOCK*' --junit-xml "$out/$label.xml" \
		$tests >"$out/$label.log" 2>&1)
	grep -E "^(== Tests result|[0-9]+ tests? (OK|failed|skipped))" "$out/$label.log"
}
run bare
run shim "$root/shim/libacceptwatch.so"

"$py" - "$out/bare.xml" "$out/shim.xml" <<'PY'
import sys, xml.etree.ElementTree as ET

def outcomes(path):
    got = {}
    for case in ET.parse(path).iter("testcase"):
        name = case.get("classname", "") + "." + case.get("name", "")
        kind = "ok"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = child.tag
        got[name] = kind
    return got

bare, shim = outcomes(sys.argv[1]), outcomes(sys.argv[2])
differ = sorted(n for n in set(bare) | set(shim) if bare.get(n) != shim.get(n))
for n in differ[:50]:
    print("differs: %s: without %s, with the shim %s" % (n, bare.get(n), shim.get(n)))
print("%d test cases, %d end differently with the shim" % (len(bare), len(differ)))
sys.exit(1 if differ or not bare else 0)
PY
same=$?
left=$(find /dev/shm -name 'acceptwatch.*' | wc -l)
echo "segments left behind: $left"
echo "logs in $out"
[ "$same" = 0 ] && [ "$left" = 0 ]
