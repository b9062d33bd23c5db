/*
 * seccomp_deny.c - run a command under a seccomp filter that kills the
 * process calling mincore(2), as systemd's SystemCallFilter=@system-service
 * does (mincore is not in that set): Debian's redis unit, for one.
 *
 *   seccomp_deny CMD [ARGS...]
 *
 * Exits 126 when the filter cannot be installed (or on an architecture it
 * does not know), 127 when CMD cannot be run.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
#if defined(__x86_64__)
	struct sock_filter prog[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mincore, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = {
	    .len = (unsigned short)(sizeof(prog) / sizeof(prog[0])),
	    .filter = prog,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: seccomp_deny CMD [ARGS...]\n");
		return 126;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
		fprintf(stderr, "seccomp_deny: %s\n", strerror(errno));
		return 126;
	}
	execvp(argv[1], &argv[1]);
	fprintf(stderr, "seccomp_deny: %s: %s\n", argv[1], strerror(errno));
	return 127;
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "seccomp_deny: x86_64 only\n");
	return 126;
#endif
}
