#!/usr/bin/env bash
# Code hygiene, as part of make check: cppcheck finds nothing, every C file
# is formatted as .clang-format says.
. "$AW_ROOT/tests/lib.sh"
cd "$AW_ROOT" || aw_fail "no tree"
command -v cppcheck >/dev/null || aw_skip "cppcheck is not installed"
command -v clang-format >/dev/null || aw_skip "clang-format is not installed"
make -s lint || aw_fail "cppcheck found problems"
files=$(ls shim/*.[ch] tools/*.[ch] tests/unit/*.c tests/e2e/*.c tests/e2e/lib/*.[ch] tests/bench/*.c tests/fuzz/*.c 2>/dev/null)
clang-format --dry-run --Werror $files || aw_fail "not clang-formatted (run make format)"
echo "checked $(echo "$files" | wc -w) files"
