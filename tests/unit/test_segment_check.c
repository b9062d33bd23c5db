/*
 * segment_check(): a segment is used only when every layout field matches
 * this build and the owner is trusted; segment_copy_str() never trusts NUL
 * termination.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acceptwatch_abi.h"
#include "segment_check.h"

#define UID_ME 1000u
#define UID_OTHER 1001u

/* A valid, empty segment as the shim would publish it. */
static struct aw_segment *valid_segment(void)
{
	struct aw_segment *s = calloc(1, sizeof(*s));
	struct aw_seg_header *h = &s->header;

	assert_non_null(s);
	h->magic = AW_SEG_MAGIC;
	aw_seg_header_layout(h);
	h->listeners_used = 3;
	h->pid = 42;
	return s;
}

static int check(const struct aw_segment *s, size_t size, char *err)
{
	memset(err, 0, 256);
	return segment_check(s, size, UID_ME, UID_ME, err, 256);
}

static void test_valid_accepted(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	assert_int_equal(check(s, sizeof(*s), err), 0);
	assert_string_equal(err, "");
	/* Root may read anyone's segment. */
	assert_int_equal(
	    segment_check(s, sizeof(*s), UID_OTHER, 0, err, sizeof(err)), 0);
	/* All slots used is still valid. */
	s->header.listeners_used = AW_MAX_LISTENERS;
	assert_int_equal(check(s, sizeof(*s), err), 0);
	free(s);
}

static void test_truncated(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	assert_int_equal(check(s, 100, err), -1);
	assert_string_equal(err, "truncated: 100 bytes, smaller than the "
				 "256-byte header");
	char want[128];
	assert_int_equal(check(s, sizeof(*s) - 1, err), -1);
	snprintf(want, sizeof(want), "truncated: %zu bytes, header says %zu",
		 sizeof(*s) - 1, sizeof(*s));
	assert_string_equal(err, want);
	/* Nothing is read from a NULL buffer, whatever size is claimed. */
	assert_int_equal(check(NULL, 0, err), -1);
	assert_non_null(strstr(err, "truncated: 0 bytes"));
	free(s);
}

static void test_larger_than_header_says(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	char want[128];
	s->header.total_size = 1000;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	snprintf(want, sizeof(want),
		 "size mismatch: %zu bytes, header says 1000", sizeof(*s));
	assert_string_equal(err, want);
	free(s);
}

static void test_bad_magic(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	s->header.magic ^= 1;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	assert_string_equal(err, "bad magic");
	/* Not yet published (magic stored last): also refused. */
	s->header.magic = 0;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	assert_string_equal(err, "bad magic");
	free(s);
}

static void test_wrong_version(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	s->header.abi_version = AW_ABI_VERSION + 2;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	char want[64];
	snprintf(want, sizeof(want), "ABI version %u, this reader knows %u",
		 AW_ABI_VERSION + 2, AW_ABI_VERSION);
	assert_string_equal(err, want);
	free(s);
}

/* Each layout field off by one must be refused, and named. */
static void test_wrong_sizes_counts(void **state)
{
	(void)state;
	char err[256];
	static const struct {
		size_t off;
		const char *name;
	} field[] = {
	    {offsetof(struct aw_seg_header, header_size), "header_size"},
	    {offsetof(struct aw_seg_header, listener_offset),
	     "listener_offset"},
	    {offsetof(struct aw_seg_header, listener_size), "listener_size"},
	    {offsetof(struct aw_seg_header, listener_count), "listener_count"},
	    {offsetof(struct aw_seg_header, event_offset), "event_offset"},
	    {offsetof(struct aw_seg_header, event_size), "event_size"},
	    {offsetof(struct aw_seg_header, event_count), "event_count"},
	    {offsetof(struct aw_seg_header, hist_buckets), "hist_buckets"},
	    {offsetof(struct aw_seg_header, stripes), "stripes"},
	    {offsetof(struct aw_seg_header, stripe_offset), "stripe_offset"},
	    {offsetof(struct aw_seg_header, stripe_size), "stripe_size"},
	    {offsetof(struct aw_seg_header, stripe_count), "stripe_count"},
	};

	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++) {
		struct aw_segment *s = valid_segment();
		uint32_t *p = (uint32_t *)((char *)&s->header + field[i].off);
		(*p)++;
		assert_int_equal(check(s, sizeof(*s), err), -1);
		assert_non_null(strstr(err, field[i].name));
		assert_non_null(strstr(err, "this reader knows"));
		free(s);
	}
}

/* A header that agrees with the file but not with this build. */
static void test_total_size_consistent_but_foreign(void **state)
{
	(void)state;
	char err[256];
	size_t big = sizeof(struct aw_segment) + 64;
	struct aw_segment *s = valid_segment();
	char *buf = calloc(1, big);

	assert_non_null(buf);
	s->header.total_size = big;
	memcpy(buf, s, sizeof(*s));
	assert_int_equal(
	    segment_check(buf, big, UID_ME, UID_ME, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "total_size"));
	free(buf);
	free(s);
}

static void test_listeners_used_over_count(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	s->header.listeners_used = AW_MAX_LISTENERS + 1;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	assert_string_equal(err, "listeners_used 65 exceeds listener_count 64");
	free(s);
}

static void test_stripes_used_over_count(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	s->header.stripes_used = AW_MAX_STRIPES + 1;
	assert_int_equal(check(s, sizeof(*s), err), -1);
	assert_string_equal(err, "stripes_used 257 exceeds stripe_count 256");
	free(s);
}

static void test_foreign_owner(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[256];

	assert_int_equal(
	    segment_check(s, sizeof(*s), UID_OTHER, UID_ME, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "owned by uid 1001");
	/* The owner decides before the content: a foreign, truncated file
	 * is reported as foreign. */
	assert_int_equal(
	    segment_check(s, 10, UID_OTHER, UID_ME, err, sizeof(err)), -1);
	assert_string_equal(err, "owned by uid 1001");
	free(s);
}

static void test_error_buffer_optional(void **state)
{
	(void)state;
	struct aw_segment *s = valid_segment();
	char err[8];

	s->header.magic = 0;
	assert_int_equal(segment_check(s, sizeof(*s), UID_ME, UID_ME, NULL, 0),
			 -1);
	/* A short buffer gets a truncated, terminated message. */
	s->header.abi_version = 7;
	s->header.magic = AW_SEG_MAGIC;
	assert_int_equal(
	    segment_check(s, sizeof(*s), UID_ME, UID_ME, err, sizeof(err)), -1);
	assert_string_equal(err, "ABI ver");
	free(s);
}

static void test_copy_str_unterminated(void **state)
{
	(void)state;
	char src[AW_COMM_LEN];
	char dst[AW_COMM_LEN + 1];

	memset(src, 'x', sizeof(src)); /* no NUL anywhere */
	memset(dst, '#', sizeof(dst));
	assert_int_equal(segment_copy_str(dst, sizeof(dst), src, sizeof(src)),
			 AW_COMM_LEN);
	assert_int_equal(dst[AW_COMM_LEN], '\0');
	assert_int_equal(strlen(dst), AW_COMM_LEN);
}

static void test_copy_str_bounds(void **state)
{
	(void)state;
	char small[4];
	char dst[16];

	/* dst smaller than src: cut and terminated. */
	assert_int_equal(segment_copy_str(small, sizeof(small), "abcdef", 6),
			 3);
	assert_string_equal(small, "abc");
	/* Stops at the first NUL inside srclen. */
	assert_int_equal(segment_copy_str(dst, sizeof(dst), "ab\0cd", 5), 2);
	assert_string_equal(dst, "ab");
	/* srclen shorter than the string. */
	assert_int_equal(segment_copy_str(dst, sizeof(dst), "abcdef", 2), 2);
	assert_string_equal(dst, "ab");
	/* No room at all: nothing written, nothing returned. */
	small[0] = 'q';
	assert_int_equal(segment_copy_str(small, 0, "abc", 3), 0);
	assert_int_equal(small[0], 'q');
	assert_int_equal(segment_copy_str(dst, sizeof(dst), NULL, 3), 0);
	assert_string_equal(dst, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_accepted),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_larger_than_header_says),
	    cmocka_unit_test(test_bad_magic),
	    cmocka_unit_test(test_wrong_version),
	    cmocka_unit_test(test_wrong_sizes_counts),
	    cmocka_unit_test(test_total_size_consistent_but_foreign),
	    cmocka_unit_test(test_listeners_used_over_count),
	    cmocka_unit_test(test_stripes_used_over_count),
	    cmocka_unit_test(test_foreign_owner),
	    cmocka_unit_test(test_error_buffer_optional),
	    cmocka_unit_test(test_copy_str_unterminated),
	    cmocka_unit_test(test_copy_str_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
