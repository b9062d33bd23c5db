/*
 * segment_check() on the stack table: absent (all zero) is accepted as "no
 * stacks", this build's layout is accepted, anything else is refused, and
 * stacks_used never exceeds stack_count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acceptwatch_abi.h"
#include "segment_check.h"

static struct aw_segment *segment_with_stacks(void)
{
	struct aw_segment *s = calloc(1, sizeof(*s));
	struct aw_seg_header *h = &s->header;

	assert_non_null(s);
	h->magic = AW_SEG_MAGIC;
	aw_seg_header_layout(h);
	h->stacks_used = 2;
	h->pid = 42;
	return s;
}

static int check(const struct aw_segment *s, char *err)
{
	memset(err, 0, 256);
	return segment_check(s, sizeof(*s), 7, 7, err, 256);
}

static void test_table_accepted(void **state)
{
	(void)state;
	struct aw_segment *s = segment_with_stacks();
	char err[256];

	assert_int_equal(check(s, err), 0);
	s->header.stacks_used = AW_MAX_STACKS;
	assert_int_equal(check(s, err), 0);
	free(s);
}

static void test_absent_table_accepted(void **state)
{
	(void)state;
	struct aw_segment *s = segment_with_stacks();
	char err[256];

	s->header.stack_offset = 0;
	s->header.stack_size = 0;
	s->header.stack_count = 0;
	s->header.stacks_used = 0;
	assert_int_equal(check(s, err), 0);
	/* ... but not with stacks claimed in it. */
	s->header.stacks_used = 1;
	assert_int_equal(check(s, err), -1);
	assert_string_equal(err, "stacks_used 1 without a stack table");
	free(s);
}

static void test_wrong_layout_refused(void **state)
{
	(void)state;
	struct aw_segment *s = segment_with_stacks();
	char err[256];

	s->header.stack_offset += 8;
	assert_int_equal(check(s, err), -1);
	assert_non_null(strstr(err, "stack_offset is"));
	free(s);

	s = segment_with_stacks();
	s->header.stack_size = 1000;
	assert_int_equal(check(s, err), -1);
	assert_non_null(strstr(err, "stack_size is 1000"));
	free(s);

	s = segment_with_stacks();
	s->header.stack_count = AW_MAX_STACKS + 1;
	assert_int_equal(check(s, err), -1);
	assert_non_null(strstr(err, "stack_count is"));
	free(s);
}

static void test_used_bounded(void **state)
{
	(void)state;
	struct aw_segment *s = segment_with_stacks();
	char err[256];

	s->header.stacks_used = AW_MAX_STACKS + 1;
	assert_int_equal(check(s, err), -1);
	assert_string_equal(err, "stacks_used 33 exceeds stack_count 32");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_accepted),
	    cmocka_unit_test(test_absent_table_accepted),
	    cmocka_unit_test(test_wrong_layout_refused),
	    cmocka_unit_test(test_used_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
