/*
 * test_sample_listen: a listener's address as sockdiag prints it, parsed
 * back into the family and words an exact sock_diag lookup needs
 * (tools/sample_listen.c); anything else refused, so the sampler dumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "sample_listen.h"

static void test_parse(void **state)
{
	uint8_t family = 0;
	uint32_t addr[4], want[4] = {0};
	(void)state;

	assert_int_equal(sample_listen_parse("127.0.0.1:8080", &family, addr),
			 0);
	assert_int_equal(family, AF_INET);
	assert_int_equal(addr[0], htonl(0x7f000001));
	assert_int_equal(addr[1], 0);
	assert_int_equal(sample_listen_parse("0.0.0.0:80", &family, addr), 0);
	assert_int_equal(addr[0], 0);
	assert_int_equal(sample_listen_parse("[::1]:443", &family, addr), 0);
	assert_int_equal(family, AF_INET6);
	inet_pton(AF_INET6, "::1", want);
	assert_memory_equal(addr, want, sizeof(want));
	assert_int_equal(
	    sample_listen_parse("[fe80::1:2:3:4]:1", &family, addr), 0);
	inet_pton(AF_INET6, "fe80::1:2:3:4", want);
	assert_memory_equal(addr, want, sizeof(want));
}

static void test_refused(void **state)
{
	uint8_t family;
	uint32_t addr[4];
	(void)state;

	assert_int_equal(sample_listen_parse("", &family, addr), -1);
	assert_int_equal(sample_listen_parse(":80", &family, addr), -1);
	assert_int_equal(sample_listen_parse("localhost:80", &family, addr),
			 -1);
	assert_int_equal(sample_listen_parse("[::1:80", &family, addr), -1);
	assert_int_equal(sample_listen_parse("1.2.3.4", &family, addr), -1);
	assert_int_equal(
	    sample_listen_parse("[1111:2222:3333:4444:5555:6666:7777:8888:9999]"
				":1",
				&family, addr),
	    -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
