#!/usr/bin/env bash
# Runs every test of `make check`: the cmocka unit tests, then each
# tests/e2e/test_*.sh. AW_TEST_KIND=unit or e2e runs one kind (make unit,
# make e2e); AW_TEST_FILTER=word the tests whose name contains it. A test exits 0 (passed), 77 (skipped: it says why on
# one line) or anything else (failed). Ends with "N passed, N failed, N
# skipped" and a non-zero status if anything failed.
set -u
cd "$(dirname "$0")/.."
root=$PWD
export AW_ROOT=$root
export AW_BIN=$root/build/asan/tests
export AW_TSAN_BIN=$root/build/tsan/tests
export AW_SHIM=$root/build/asan/libacceptwatch.so
export AW_TSAN_SHIM=$root/build/tsan/libacceptwatch.so
export AW_TOOL=$root/build/asan/acceptwatch
export AW_TSAN_TOOL=$root/build/tsan/acceptwatch
export AW_REL_SHIM=$root/shim/libacceptwatch.so
export AW_REL_TOOL=$root/tools/acceptwatch
# Leaks of the short-lived test programs are not what these tests measure;
# every other ASan/UBSan finding fails the test that triggered it. The
# sanitized shim is preloaded into sanitized programs: one runtime, loaded by
# the program, so the preload order check does not apply.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:verify_asan_link_order=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
failures=()
log_dir=$(mktemp -d /tmp/acceptwatch-tests.XXXXXX)

run_one() {
	local name=$1
	shift
	local log="$log_dir/${name//\//_}.log" start=$SECONDS rc
	"$@" >"$log" 2>&1
	rc=$?
	local took=$((SECONDS - start))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS %-40s %3ss\n' "$name" "$took"
		;;
	77)
		skipped=$((skipped + 1))
		printf 'SKIP %-40s %s\n' "$name" "$(grep -m1 '^SKIP' "$log" | cut -c7-)"
		;;
	*)
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-40s %3ss (exit %d)\n' "$name" "$took" "$rc"
		sed 's/^/    | /' "$log" | tail -40
		;;
	esac
}

filter=${AW_TEST_FILTER:-}
kind=${AW_TEST_KIND:-}
[[ -z $kind || $kind == unit ]] && for t in build/asan/unit/test_*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	[[ -z $filter || $name == *$filter* ]] || continue
	run_one "$name" "$t"
done
[[ -z $kind || $kind == unit ]] && for t in build/tsan/unit/test_*; do
	[ -x "$t" ] || continue
	name=unit-tsan/$(basename "$t")
	[[ -z $filter || $name == *$filter* ]] || continue
	run_one "$name" env TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$t"
done
[[ -z $kind || $kind == e2e ]] && for t in tests/e2e/test_*.sh; do
	name=e2e/$(basename "$t" .sh)
	[[ -z $filter || $name == *$filter* ]] || continue
	run_one "$name" bash "$t"
done

echo
if [ "$failed" -gt 0 ]; then
	echo "failed: ${failures[*]} (logs in $log_dir)"
else
	rm -rf "$log_dir"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
