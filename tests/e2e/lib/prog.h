/*
 * What the test and benchmark programs (tests/e2e, tests/bench) share: the
 * monotonic clock, and failing the same way: one line on stderr, named
 * after the program, and exit status 1.
 */
#ifndef AW_TEST_PROG_H
#define AW_TEST_PROG_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
