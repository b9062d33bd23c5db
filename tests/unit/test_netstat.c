/*
 * netstat_parse(): TcpExt ListenOverflows and ListenDrops matched by column
 * name whatever their position, other prefixes ignored, missing or
 * malformed input refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "netstat.h"

static void test_real_layout(void **state)
{
	(void)state;
	struct netstat_listen n;
	const char *text =
	    "TcpExt: SyncookiesSent DelayedACKLost ListenOverflows "
	    "ListenDrops TCPHPHits\n"
	    "TcpExt: 1 2 31 62 5\n"
	    "IpExt: InNoRoutes ListenOverflows\n"
	    "IpExt: 7 8\n";

	assert_int_equal(netstat_parse(text, &n), 0);
	assert_int_equal(n.overflows, 31);
	assert_int_equal(n.drops, 62);
}

static void test_other_order_and_big_values(void **state)
{
	(void)state;
	struct netstat_listen n;
	const char *text = "IpExt: A B\nIpExt: 1 2\n"
			   "TcpExt: ListenDrops X ListenOverflows\n"
			   "TcpExt: 18446744073709551615 0 4294967296\n";

	assert_int_equal(netstat_parse(text, &n), 0);
	assert_true(n.drops == UINT64_MAX);
	assert_true(n.overflows == 4294967296ull);
}

static void test_refused(void **state)
{
	(void)state;
	struct netstat_listen n;

	assert_int_equal(netstat_parse("", &n), -1);
	/* Names without values. */
	assert_int_equal(
	    netstat_parse("TcpExt: ListenOverflows ListenDrops\n", &n), -1);
	/* One of the two missing. */
	assert_int_equal(
	    netstat_parse("TcpExt: ListenOverflows\nTcpExt: 3\n", &n), -1);
	/* A longer name that starts like ours is not ours. */
	assert_int_equal(netstat_parse("TcpExt: ListenOverflowsX ListenDropsY\n"
				       "TcpExt: 1 2\n",
				       &n),
			 -1);
}

static void test_reads_own_namespace(void **state)
{
	(void)state;
	struct netstat_listen n;

	/* Every Linux since 2.6 has both counters. */
	assert_int_equal(netstat_read(0, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_layout),
	    cmocka_unit_test(test_other_order_and_big_values),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_reads_own_namespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
