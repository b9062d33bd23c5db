/*
 * test_sample_task: what a thread's syscall file or wchan says, classified
 * (tools/sample_task.c): the call's name and its fd where it names one, the
 * state letter first (stopped and running say it all), the kernel's "-1"
 * for a thread blocked outside a call, wchan names without an fd, and the
 * words people read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "sample_task.h"

/* A syscall file line for call nr with first argument arg0. */
static const char *line(long nr, unsigned long arg0)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "%ld 0x%lx 0x0 0x0 0x0 0x0 0x0 0x7ffd1234 0x7f0011223344\n",
		 nr, arg0);
	return buf;
}

static void test_accept_names_its_fd(void **state)
{
	struct sample_reading r;
	(void)state;

	sample_classify_syscall(line(SYS_accept4, 3), 'S', &r);
	assert_int_equal(r.kind, SAMPLE_IN_ACCEPT);
	assert_int_equal(r.fd, 3);
	assert_string_equal(r.label, "accept4");
}

static void test_epoll_names_its_fd_poll_does_not(void **state)
{
	struct sample_reading r;
	(void)state;

	sample_classify_syscall(line(SYS_epoll_pwait, 7), 'S', &r);
	assert_int_equal(r.kind, SAMPLE_IN_POLL);
	assert_int_equal(r.fd, 7);
	sample_classify_syscall(line(SYS_ppoll, 0x7ffd0000), 'S', &r);
	assert_int_equal(r.kind, SAMPLE_IN_POLL);
	assert_int_equal(r.fd, -1); /* an array's address, not an fd */
	assert_string_equal(r.label, "ppoll");
}

static void test_other_calls_asleep_by_name(void **state)
{
	struct sample_reading r;
	char text[64];
	(void)state;

	sample_classify_syscall(line(SYS_clock_nanosleep, 1), 'S', &r);
	assert_int_equal(r.kind, SAMPLE_ASLEEP);
	assert_int_equal(r.fd, -1);
	assert_string_equal(
	    sample_describe(text, sizeof(text), r.kind, r.label),
	    "asleep in clock_nanosleep");
	sample_classify_syscall(line(999, 1), 'D', &r);
	assert_int_equal(r.kind, SAMPLE_ASLEEP);
	assert_string_equal(r.label, "syscall 999");
	sample_classify_syscall("-1 0x7ffd1234 0x7f0011223344\n", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_ASLEEP);
	assert_string_equal(r.label, "the kernel");
}

static void test_state_letter_first(void **state)
{
	struct sample_reading r;
	(void)state;

	/* A stopped thread still shows the call it sits in. */
	sample_classify_syscall(line(SYS_accept4, 3), 'T', &r);
	assert_int_equal(r.kind, SAMPLE_STOPPED);
	sample_classify_syscall(line(SYS_accept4, 3), 't', &r);
	assert_int_equal(r.kind, SAMPLE_STOPPED);
	sample_classify_syscall(line(SYS_read, 3), 'R', &r);
	assert_int_equal(r.kind, SAMPLE_RUNNING);
	sample_classify_syscall("running\n", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_RUNNING);
	sample_classify_syscall("garbage", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_UNKNOWN);
}

static void test_wchan(void **state)
{
	struct sample_reading r;
	(void)state;

	sample_classify_wchan("inet_csk_accept", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_IN_ACCEPT);
	assert_int_equal(r.fd, -1);
	assert_string_equal(r.label, "inet_csk_accept (wchan)");
	sample_classify_wchan("do_epoll_wait", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_IN_POLL);
	sample_classify_wchan("hrtimer_nanosleep\n", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_ASLEEP);
	assert_string_equal(r.label, "hrtimer_nanosleep (wchan)");
	/* "0": refused, or in no wait: nothing said. */
	sample_classify_wchan("0", 'S', &r);
	assert_int_equal(r.kind, SAMPLE_UNKNOWN);
	sample_classify_wchan("inet_csk_accept", 'T', &r);
	assert_int_equal(r.kind, SAMPLE_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_names_its_fd),
	    cmocka_unit_test(test_epoll_names_its_fd_poll_does_not),
	    cmocka_unit_test(test_other_calls_asleep_by_name),
	    cmocka_unit_test(test_state_letter_first),
	    cmocka_unit_test(test_wchan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
