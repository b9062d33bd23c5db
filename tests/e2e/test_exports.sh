#!/usr/bin/env bash
# The shim's dynamic symbol table defines the wrapped functions and nothing
# else: loading it changes no other symbol the host resolves.
. "$AW_ROOT/tests/lib.sh"
for lib in "$AW_REL_SHIM" "$AW_SHIM"; do
	got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBVi]$/ {print $3}' |
		sed "s/@.*//" | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "accept accept4 close close_range closefrom dup2 dup3 listen seteuid setresuid setreuid setuid " ] ||
		aw_fail "$(basename "$lib") exports: $got"
done
echo ok
