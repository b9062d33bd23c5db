/*
 * Command-line parsing shared by the test and benchmark programs
 * (tests/e2e, tests/bench): a bad value is one line on stderr,
 * named after the program, and exit status 1.
 */
#ifndef AW_TEST_CLI_H
#define AW_TEST_CLI_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
