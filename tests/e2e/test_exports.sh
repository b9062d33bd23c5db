#!/usr/bin/env bash
# The shim's dynamic symbol table defines the wrapped functions and nothing
# else: loading it changes no other symbol the host resolves. And the shim
# calls none of its own wrappers: a relocation naming one would bind its
# internal calls (closing its own descriptors, say) to its exported
# wrapper, not to the real function.
. "$AW_ROOT/tests/lib.sh"
for lib in "$AW_REL_SHIM" "$AW_SHIM"; do
	got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBVi]$/ {print $3}' |
		sed "s/@.*//" | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "_Exit _exit accept accept4 close close_range closefrom dup dup2 dup3 execl execle execlp execv execve execvp execvpe fcntl fcntl64 fexecve kill listen raise seteuid setresuid setreuid setuid wait wait3 wait4 waitid waitpid " ] ||
		aw_fail "$(basename "$lib") exports: $got"
	self=$(objdump -R "$lib" | awk '{sub(/@.*/, "", $3); print $3}' |
		grep -xE "$(echo "$got" | sed 's/ $//; s/ /|/g')" | tr '\n' ' ')
	[ -z "$self" ] || aw_fail "$(basename "$lib") calls its own wrappers: $self"
done
echo ok
