/*
 * format.c: human durations at every unit boundary, JSON string escaping,
 * printable addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"

static const char *dur(uint64_t ns)
{
	static char buf[FMT_DURATION_LEN];

	memset(buf, '#', sizeof(buf));
	return fmt_duration(buf, sizeof(buf), ns);
}

static void test_duration_examples(void **state)
{
	(void)state;
	assert_string_equal(dur(0), "0");
	assert_string_equal(dur(850), "850ns");
	assert_string_equal(dur(12300), "12.3us");
	assert_string_equal(dur(4500000), "4.50ms");
	assert_string_equal(dur(1200000000ull), "1.20s");
	assert_string_equal(dur(123000000000ull), "2m03s");
}

static void test_duration_boundaries(void **state)
{
	(void)state;
	assert_string_equal(dur(1), "1ns");
	assert_string_equal(dur(999), "999ns");
	assert_string_equal(dur(1000), "1.00us");
	assert_string_equal(dur(9994), "9.99us");
	assert_string_equal(dur(9995), "10.0us"); /* rounds up a digit */
	assert_string_equal(dur(99949), "99.9us");
	assert_string_equal(dur(99950), "100us");
	assert_string_equal(dur(999499), "999us");
	assert_string_equal(dur(999500), "1.00ms"); /* not "1000us" */
	assert_string_equal(dur(1000000), "1.00ms");
	assert_string_equal(dur(999499999), "999ms");
	assert_string_equal(dur(999500000), "1.00s");
	assert_string_equal(dur(59949999999ull), "59.9s");
	assert_string_equal(dur(59950000000ull), "1m00s"); /* not "60.0s" */
	assert_string_equal(dur(60000000000ull), "1m00s");
	assert_string_equal(dur(3599499999999ull), "59m59s");
	assert_string_equal(dur(3599500000000ull), "1h00m");
	assert_string_equal(dur(3900000000000ull), "1h05m");
	assert_string_equal(dur(86400000000000ull), "1d00h");
	assert_string_equal(dur(UINT64_MAX), "213504d00h");
}

static void test_duration_small_buffer(void **state)
{
	(void)state;
	char buf[4];

	fmt_duration(buf, sizeof(buf), 4500000);
	assert_string_equal(buf, "4.5");
	assert_null(fmt_duration(NULL, 0, 5));
}

static void test_ms_to_ns(void **state)
{
	(void)state;
	assert_int_equal(fmt_ms_to_ns(0), 0);
	assert_int_equal(fmt_ms_to_ns(1100), 1100000000ull);
	assert_int_equal(fmt_ms_to_ns(UINT64_MAX / 1000000 + 1), UINT64_MAX);
}

static const char *js(const char *s)
{
	static char buf[FMT_JSON_LEN(64)];

	assert_int_equal(fmt_json_string(buf, sizeof(buf), s, strlen(s)), 0);
	return buf;
}

static void test_json_plain(void **state)
{
	(void)state;
	assert_string_equal(js(""), "\"\"");
	assert_string_equal(js("127.0.0.1:8080"), "\"127.0.0.1:8080\"");
	assert_string_equal(js("[::1]:80"), "\"[::1]:80\"");
}

static void test_json_quotes_backslashes(void **state)
{
	(void)state;
	assert_string_equal(js("a\"b"), "\"a\\\"b\"");
	assert_string_equal(js("C:\\x"), "\"C:\\\\x\"");
	assert_string_equal(js("\\\""), "\"\\\\\\\"\"");
}

static void test_json_control_chars(void **state)
{
	(void)state;
	assert_string_equal(js("a\nb\tc\r"), "\"a\\nb\\tc\\r\"");
	assert_string_equal(js("\b\f"), "\"\\b\\f\"");
	assert_string_equal(js("\x01\x1f"), "\"\\u0001\\u001f\"");
	assert_string_equal(js("\x7f"), "\"\\u007f\"");
	/* A byte >= 0x80 that is not UTF-8: U+FFFD, valid UTF-8 out. */
	assert_string_equal(js("\xff"), "\"\\ufffd\"");
}

static void test_json_utf8(void **state)
{
	(void)state;
	/* Well-formed UTF-8 passes through byte for byte: e-acute (2
	 * bytes), the euro sign (3), an emoji (4). It used to come back as
	 * \u00c3\u00a9, which a JSON reader decodes as two characters. */
	assert_string_equal(js("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	assert_string_equal(js("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
	assert_string_equal(js("\xf0\x9f\x98\x80!"), "\"\xf0\x9f\x98\x80!\"");
	/* Not well-formed: each bad byte is U+FFFD, the rest kept. */
	assert_string_equal(js("a\xc3"), "\"a\\ufffd\""); /* cut short */
	assert_string_equal(js("\xc0\xaf"),
			    "\"\\ufffd\\ufffd\""); /* overlong */
	assert_string_equal(js("\xed\xa0\x80"),
			    "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	assert_string_equal(
	    js("\xf4\x90\x80\x80"),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	assert_string_equal(js("\xc3\x28"), "\"\\ufffd(\"");
	/* srclen cuts a sequence: not well-formed within the bound. */
	char buf[FMT_JSON_LEN(2)];
	assert_int_equal(fmt_json_string(buf, sizeof(buf), "\xe2\x82\xac", 2),
			 0);
	assert_string_equal(buf, "\"\\ufffd\\ufffd\"");
}

static void test_json_bounds(void **state)
{
	(void)state;
	char buf[FMT_JSON_LEN(4)];
	char small[5];
	const char raw[4] = {'a', 'b', 'c', 'd'}; /* unterminated */

	/* srclen bounds the read. */
	assert_int_equal(fmt_json_string(buf, sizeof(buf), raw, sizeof(raw)),
			 0);
	assert_string_equal(buf, "\"abcd\"");
	assert_int_equal(fmt_json_string(buf, sizeof(buf), "ab\0cd", 5), 0);
	assert_string_equal(buf, "\"ab\"");
	/* Exactly fits: 2 quotes + 2 chars + NUL. */
	assert_int_equal(fmt_json_string(small, sizeof(small), "ab", 2), 0);
	assert_string_equal(small, "\"ab\"");
	/* Too small: refused, and left empty rather than half-quoted. */
	assert_int_equal(fmt_json_string(small, sizeof(small), "abc", 3), -1);
	assert_string_equal(small, "");
	assert_int_equal(fmt_json_string(small, sizeof(small), "\n", 1), 0);
	assert_string_equal(small, "\"\\n\"");
	assert_int_equal(fmt_json_string(small, sizeof(small), "\n\n", 2), -1);
	assert_string_equal(small, "");
	/* The worst case fits in FMT_JSON_LEN. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(
	    fmt_json_string(buf, sizeof(buf), "\x01\x01\x01\x01", 4), 0);
	assert_string_equal(buf, "\"\\u0001\\u0001\\u0001\\u0001\"");
}

static void test_printable(void **state)
{
	(void)state;
	char buf[8];
	const char raw[3] = {'a', '\n', 'b'}; /* unterminated */

	assert_string_equal(fmt_printable(buf, sizeof(buf), raw, 3), "a?b");
	assert_string_equal(fmt_printable(buf, sizeof(buf), "", 5), "-");
	assert_string_equal(fmt_printable(buf, sizeof(buf), "0123456789", 10),
			    "0123456");
	assert_string_equal(fmt_printable(buf, sizeof(buf), "\x1b[2J", 4),
			    "?[2J");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_examples),
	    cmocka_unit_test(test_duration_boundaries),
	    cmocka_unit_test(test_duration_small_buffer),
	    cmocka_unit_test(test_ms_to_ns),
	    cmocka_unit_test(test_json_plain),
	    cmocka_unit_test(test_json_quotes_backslashes),
	    cmocka_unit_test(test_json_control_chars),
	    cmocka_unit_test(test_json_utf8),
	    cmocka_unit_test(test_json_bounds),
	    cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
