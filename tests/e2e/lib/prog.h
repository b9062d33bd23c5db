/*
 * What the test and benchmark programs (tests/e2e, tests/bench) share: the
 * monotonic clock, and failing the same way: one line on stderr, named
 * after the program, and exit status 1.
 */
#ifndef AW_TEST_PROG_H
#define AW_TEST_PROG_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static inline long long now_ms(void)
{
	return (long long)(now_ns() / 1000000u);
}

/*
 * A TCP socket listening on 127.0.0.1, on an ephemeral port (stored in
 * *port unless port is NULL); flags are added to SOCK_STREAM (SOCK_NONBLOCK,
 * SOCK_CLOEXEC). -1 with errno when it cannot be made.
 */
static inline int loopback_listener(int flags, int backlog, int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (port)
		*port = ntohs(sin.sin_port);
	return fd;
}

/* what failed, with errno's text. */
static inline __attribute__((noreturn)) void die_errno(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(errno));
	exit(1);
}

/* s as a whole decimal number in [min, max], or exit(1). */
static inline long parse_long(const char *s, const char *name, long min,
			      long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: bad value for %s: %s\n",
			program_invocation_short_name, name, s);
		exit(1);
	}
	return v;
}

#endif
