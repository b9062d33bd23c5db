/*
 * usage_suggest(): a mistyped command gets the command meant (one or two
 * edits, an adjacent swap, a prefix), and nothing for what is far from
 * every command; usage_command() lists a command's options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "usage.h"

static void expect(const char *typo, const char *want)
{
	const char *got = usage_suggest(typo);

	if (!want) {
		if (got)
			fail_msg("'%s': got '%s', want none", typo, got);
		return;
	}
	if (!got || strcmp(got, want))
		fail_msg("'%s': got '%s', want '%s'", typo, got ? got : "none",
			 want);
}

static void test_suggest(void **state)
{
	(void)state;
	expect("stat", "stat");
	expect("stst", "stat");	  /* one substitution */
	expect("sttat", "stat");  /* one insertion */
	expect("chekc", "check"); /* adjacent swap */
	expect("lsteners", "listeners");
	expect("listner", "listeners"); /* two edits, long name */
	expect("list", "listeners");	/* a prefix */
	expect("srve", "serve");
	expect("gcc", "gc");
	expect("tpo", "top");
	expect("xyz", NULL);
	expect("frobnicate", NULL);
	expect("g", "gc"); /* one edit from a short name */
	expect("q", NULL); /* two from a short name: too far */
	expect("", NULL);
	expect("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
}

static void test_command_help(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	usage_command(f, "serve");
	usage_command(f, "nonesuch");
	fclose(f);
	assert_non_null(strstr(buf, "usage: acceptwatch serve "));
	assert_non_null(strstr(buf, "\n  -l, --listen ADDR:PORT"));
	assert_non_null(strstr(buf, "\n  -h, --help"));
	assert_null(strstr(buf, "nonesuch"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suggest),
	    cmocka_unit_test(test_command_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
