/*
 * Segment names: what is a segment's name, and what it says (the short
 * form of the initial PID namespace, "<pidns>.<pid>" of any other).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "segment_name.h"

static void test_short(void **state)
{
	struct segment_ref r;
	(void)state;

	assert_int_equal(segment_name_parse("acceptwatch.1234", &r), 0);
	assert_int_equal(r.ns_pid, 1234);
	assert_int_equal(r.pid_ns, 0);
	assert_int_equal(r.pid, 0);
	assert_string_equal(r.name, "acceptwatch.1234");
	assert_int_equal(segment_name_parse("acceptwatch.2147483647", &r), 0);
	assert_int_equal(r.ns_pid, 2147483647);
}

static void test_namespaced(void **state)
{
	struct segment_ref r;
	(void)state;

	assert_int_equal(segment_name_parse("acceptwatch.4026532177.1", &r), 0);
	assert_int_equal(r.ns_pid, 1);
	assert_int_equal(r.pid_ns, 4026532177u);
	assert_int_equal(segment_name_parse("acceptwatch.4294967295.7", &r), 0);
	assert_int_equal(r.pid_ns, 4294967295u);
}

static void test_not_names(void **state)
{
	struct segment_ref r;
	static const char *const bad[] = {
	    "acceptwatch.",
	    "acceptwatch.0",
	    "acceptwatch.01",
	    "acceptwatch.2147483648",
	    "acceptwatch.12x",
	    "acceptwatch.4294967296.1",
	    "acceptwatch.4026532177.",
	    "acceptwatch.4026532177.0",
	    "acceptwatch.1.2.3",
	    "acceptwatch..1",
	    "acceptwatch.-1",
	    "acceptwatch.1 ",
	    "acceptwatch.4026532177.2147483648",
	    "acceptwatch.notapid",
	    "other.1",
	    ".acceptwatch.1",
	    "",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (segment_name_parse(bad[i], &r) != -1)
			fail_msg("'%s' taken for a segment name", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short),
	    cmocka_unit_test(test_namespaced),
	    cmocka_unit_test(test_not_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
