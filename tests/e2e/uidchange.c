/*
 * uidchange.c - a root server that changes its user ids after listen(), the
 * way daemons drop privileges, for tests/e2e/test_privileges.sh.
 *
 *   uidchange MODE UID
 *
 * It listens on 127.0.0.1 (an ephemeral port), then, by MODE:
 *   roundtrip  seteuid(UID), then seteuid(0): root again
 *   fail       setuid(UID) must fail with EPERM (run it without CAP_SETUID),
 *              and setuid(-1) with EINVAL; the ids stay root's
 *   drop       setuid(UID): a permanent drop
 *   drop-re    setreuid(UID, UID): permanent too (the saved id follows)
 *   drop-res   setresuid(UID, UID, UID)
 *   partial    setresuid(UID, UID, 0): root can still come back
 * Each call's return value and errno are checked against the kernel's rules,
 * and the ids after it with getresuid(). Then it prints "ready PORT",
 * accepts one connection, prints "accepted 1" and waits for SIGTERM (exit 0).
 * Exit 1 with one line on stderr when a call did not do what it should.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/prog.h"

static void expect_ids(uid_t r, uid_t e, uid_t s)
{
	uid_t gr, ge, gs;

	if (getresuid(&gr, &ge, &gs) != 0)
		die_errno("getresuid");
	if (gr == r && ge == e && gs == s)
		return;
	fprintf(stderr, "uidchange: ids %u/%u/%u, want %u/%u/%u\n",
		(unsigned)gr, (unsigned)ge, (unsigned)gs, (unsigned)r,
		(unsigned)e, (unsigned)s);
	exit(1);
}

/* ret and errno exactly as the kernel's rules say. */
static void expect_call(const char *what, int ret, int err, int want_errno)
{
	if (want_errno == 0 && ret == 0)
		return;
	if (want_errno != 0 && ret == -1 && err == want_errno)
		return;
	fprintf(stderr, "uidchange: %s returned %d (%s), want %s\n", what, ret,
		ret ? strerror(err) : "ok",
		want_errno ? strerror(want_errno) : "0");
	exit(1);
}

static void change(const char *mode, uid_t u)
{
	int ret;

	if (strcmp(mode, "roundtrip") == 0) {
		ret = seteuid(u);
		expect_call("seteuid(UID)", ret, errno, 0);
		expect_ids(0, u, 0);
		ret = seteuid(0);
		expect_call("seteuid(0)", ret, errno, 0);
		expect_ids(0, 0, 0);
	} else if (strcmp(mode, "fail") == 0) {
		errno = 0;
		ret = setuid(u);
		expect_call("setuid(UID)", ret, errno, EPERM);
		ret = setuid((uid_t)-1);
		expect_call("setuid(-1)", ret, errno, EINVAL);
		expect_ids(0, 0, 0);
	} else if (strcmp(mode, "drop") == 0) {
		ret = setuid(u);
		expect_call("setuid(UID)", ret, errno, 0);
		expect_ids(u, u, u);
	} else if (strcmp(mode, "drop-re") == 0) {
		ret = setreuid(u, u);
		expect_call("setreuid(UID, UID)", ret, errno, 0);
		expect_ids(u, u, u);
	} else if (strcmp(mode, "drop-res") == 0) {
		ret = setresuid(u, u, u);
		expect_call("setresuid(UID, UID, UID)", ret, errno, 0);
		expect_ids(u, u, u);
	} else if (strcmp(mode, "partial") == 0) {
		ret = setresuid(u, u, 0);
		expect_call("setresuid(UID, UID, 0)", ret, errno, 0);
		expect_ids(u, u, 0);
	} else {
		fprintf(stderr, "uidchange: unknown mode %s\n", mode);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	sigset_t term;
	int lfd, cfd, sig;

	if (argc != 3) {
		fprintf(stderr, "usage: uidchange MODE UID\n");
		return 1;
	}
	uid_t u = (uid_t)parse_long(argv[2], "UID", 1, 2147483646);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
		die_errno("listen");
	change(argv[1], u);
	printf("ready %d\n", ntohs(a.sin_port));
	fflush(stdout);
	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0)
		die_errno("accept");
	close(cfd);
	printf("accepted 1\n");
	fflush(stdout);
	sigwait(&term, &sig);
	return 0;
}
