/* Unit tests for ACCEPTWATCH_* parsing: good values, bad values (a warning
 * and the default), and that nothing but the named variables is read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acceptwatch_abi.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A fake environment of up to four variables, and the warnings seen. */
static const char *fake_names[4];
static const char *fake_values[4];
static char warnings[4][512];
static int warning_count;

static const char *fake_get(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (fake_names[i] && strcmp(fake_names[i], name) == 0)
			return fake_values[i];
	return NULL;
}

static void fake_warn(const char *line)
{
	if (warning_count < 4)
		snprintf(warnings[warning_count], sizeof(warnings[0]), "%s",
			 line);
	warning_count++;
}

static int reset(void **state)
{
	(void)state;
	memset(fake_names, 0, sizeof(fake_names));
	memset(fake_values, 0, sizeof(fake_values));
	memset(warnings, 0, sizeof(warnings));
	warning_count = 0;
	return 0;
}

static void set_env(int i, const char *name, const char *value)
{
	fake_names[i] = name;
	fake_values[i] = value;
}

static void test_defaults(void **state)
{
	(void)state;
	struct aw_config c;
	aw_config_read(&c, fake_get, fake_warn);
	assert_int_equal(c.slow_ms, 50);
	assert_int_equal(c.log_kind, AW_LOG_NONE);
	assert_false(c.keep);
	assert_int_equal(warning_count, 0);
	assert_int_equal(c.bad_env, 0);
}

static void test_good_values(void **state)
{
	(void)state;
	struct aw_config c;
	set_env(0, "ACCEPTWATCH_SLOW_MS", "200");
	set_env(1, "ACCEPTWATCH_LOG", "/tmp/aw.log");
	set_env(2, "ACCEPTWATCH_KEEP", "yes");
	aw_config_read(&c, fake_get, fake_warn);
	assert_int_equal(c.slow_ms, 200);
	assert_int_equal(c.log_kind, AW_LOG_FILE);
	assert_string_equal(c.log_path, "/tmp/aw.log");
	assert_true(c.keep);
	assert_int_equal(warning_count, 0);
}

static void test_log_kinds(void **state)
{
	(void)state;
	struct aw_config c = {0};
	assert_int_equal(aw_config_parse_log("none", &c), 0);
	assert_int_equal(c.log_kind, AW_LOG_NONE);
	assert_int_equal(aw_config_parse_log("syslog", &c), 0);
	assert_int_equal(c.log_kind, AW_LOG_SYSLOG);
	assert_int_equal(aw_config_parse_log("stderr", &c), 0);
	assert_int_equal(c.log_kind, AW_LOG_STDERR);
	assert_int_equal(aw_config_parse_log("relative.log", &c), -1);
	assert_int_equal(aw_config_parse_log("", &c), -1);
	char longpath[400];
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(aw_config_parse_log(longpath, &c), -1);
	assert_int_equal(c.log_kind, AW_LOG_STDERR);
}

static void test_bad_ms_values(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",	   "abc",     "-5",  "0",  "12x",
	    " 12", "3600001", "1e3", "+5", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 7;
		assert_int_equal(aw_config_parse_ms(bad[i], &v), -1);
		assert_int_equal(v, 7);
	}
	uint32_t v = 0;
	assert_int_equal(aw_config_parse_ms("3600000", &v), 0);
	assert_int_equal(v, 3600000);
	assert_int_equal(aw_config_parse_ms("1", &v), 0);
	assert_int_equal(v, 1);
}

static void test_bad_value_warns_and_keeps_default(void **state)
{
	(void)state;
	struct aw_config c;
	set_env(0, "ACCEPTWATCH_SLOW_MS", "fast");
	set_env(1, "ACCEPTWATCH_KEEP", "maybe");
	set_env(2, "ACCEPTWATCH_LOG", "logs/x");
	aw_config_read(&c, fake_get, fake_warn);
	assert_int_equal(c.slow_ms, 50);
	assert_false(c.keep);
	assert_int_equal(c.log_kind, AW_LOG_NONE);
	assert_int_equal(warning_count, 3);
	assert_int_equal(c.bad_env,
			 AW_SF_BAD_SLOW_MS | AW_SF_BAD_KEEP | AW_SF_BAD_LOG);
	assert_non_null(strstr(warnings[0], "ACCEPTWATCH_SLOW_MS='fast'"));
	assert_non_null(strstr(warnings[0], "using 50"));
	assert_null(strchr(warnings[0], '\n'));
	assert_non_null(strstr(warnings[1], "ACCEPTWATCH_LOG='logs/x'"));
	assert_non_null(strstr(warnings[2], "ACCEPTWATCH_KEEP='maybe'"));
}

/* ACCEPTWATCH_CLOCK: auto (the default, the TSC where the kernel keeps
 * time with it) or monotonic; anything else is reported and ignored. */
static void test_clock(void **state)
{
	(void)state;
	struct aw_config c;
	aw_config_read(&c, fake_get, fake_warn);
	assert_false(c.monotonic_clock);
	set_env(0, "ACCEPTWATCH_CLOCK", "monotonic");
	aw_config_read(&c, fake_get, fake_warn);
	assert_true(c.monotonic_clock);
	set_env(0, "ACCEPTWATCH_CLOCK", "auto");
	aw_config_read(&c, fake_get, fake_warn);
	assert_false(c.monotonic_clock);
	assert_int_equal(warning_count, 0);
	set_env(0, "ACCEPTWATCH_CLOCK", "tsc");
	aw_config_read(&c, fake_get, fake_warn);
	assert_false(c.monotonic_clock);
	assert_int_equal(c.bad_env, AW_SF_BAD_CLOCK);
	assert_int_equal(warning_count, 1);
	assert_non_null(strstr(warnings[0], "ACCEPTWATCH_CLOCK='tsc'"));
	assert_non_null(strstr(warnings[0], "using auto"));
}

/* The host's errno comes out of the configuration as it went in. */
static void test_errno_kept(void **state)
{
	(void)state;
	struct aw_config c;
	set_env(0, "ACCEPTWATCH_SLOW_MS", "200");
	set_env(1, "ACCEPTWATCH_BACKLOG", "99999999999999999999");
	errno = EINTR;
	aw_config_read(&c, fake_get, fake_warn);
	assert_int_equal(errno, EINTR);
	assert_int_equal(c.slow_ms, 200);
}

static void test_bools(void **state)
{
	(void)state;
	bool b = false;
	assert_int_equal(aw_config_parse_bool("TRUE", &b), 0);
	assert_true(b);
	assert_int_equal(aw_config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(aw_config_parse_bool("2", &b), -1);
	assert_int_equal(aw_config_parse_bool(NULL, &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, reset),
	    cmocka_unit_test_setup(test_good_values, reset),
	    cmocka_unit_test_setup(test_log_kinds, reset),
	    cmocka_unit_test_setup(test_bad_ms_values, reset),
	    cmocka_unit_test_setup(test_bad_value_warns_and_keeps_default,
				   reset),
	    cmocka_unit_test_setup(test_clock, reset),
	    cmocka_unit_test_setup(test_errno_kept, reset),
	    cmocka_unit_test_setup(test_bools, reset),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
