/*
 * The socket's drop count lives as long as the socket: across forks, nginx
 * reloads and exec. The writer (shim/segment_writer.c) keeps, per process
 * and slot, the first reading as the baseline with its time, dates each
 * reading that rose above the one before, and dates the last probe that
 * saw the queue past its backlog; a slot reused for another socket starts
 * over. The reader charges a process with drops past its baseline only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "segment_writer.h"

#include <stdlib.h>
#include <string.h>

#define S 1000000000ull

/* The first reading is the baseline, whatever the count: another
 * process's drops (the old workers') are before it. */
static void test_first_reading_is_baseline(void **state)
{
	(void)state;
	struct aw_listener l;
	memset(&l, 0, sizeof(l));
	aw_segment_write_drops(&l, 58, 10 * S);
	assert_int_equal(l.drops_base, 58);
	assert_int_equal(l.drops_base_mono_ns, 10 * S);
	assert_int_equal(l.drops_rise_mono_ns, 0);
	assert_int_equal(l.drops, 58);
	assert_int_equal(l.drops_mono_ns, 10 * S);
	/* Unchanged: no rise, the baseline stays. */
	aw_segment_write_drops(&l, 58, 11 * S);
	assert_int_equal(l.drops_base, 58);
	assert_int_equal(l.drops_base_mono_ns, 10 * S);
	assert_int_equal(l.drops_rise_mono_ns, 0);
	assert_int_equal(l.drops_mono_ns, 11 * S);
	/* Risen: dated by this reading, the baseline still the first. */
	aw_segment_write_drops(&l, 61, 12 * S);
	assert_int_equal(l.drops_base, 58);
	assert_int_equal(l.drops_rise_mono_ns, 12 * S);
	assert_int_equal(l.drops, 61);
	aw_segment_write_drops(&l, 61, 13 * S);
	assert_int_equal(l.drops_rise_mono_ns, 12 * S);
}

/* A probe that sees the queue past its backlog dates it; one that does not
 * leaves the date. */
static void test_full_dated(void **state)
{
	(void)state;
	struct aw_listener l;
	memset(&l, 0, sizeof(l));
	aw_segment_write_queue(&l, 3, 16, 5 * S);
	assert_int_equal(l.full_mono_ns, 0);
	aw_segment_write_queue(&l, 17, 16, 6 * S);
	assert_int_equal(l.full_mono_ns, 6 * S);
	assert_int_equal(l.full_events, 1);
	aw_segment_write_queue(&l, 16, 16, 7 * S);
	assert_int_equal(l.full_mono_ns, 6 * S);
}

/* A slot reused for another socket: no baseline, no dates; its first
 * reading is the new socket's baseline. */
static void test_reuse_starts_over(void **state)
{
	(void)state;
	struct aw_segment *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	struct aw_listener *l = &s->listener[0];
	aw_segment_write_drops(l, 5, 1 * S);
	aw_segment_write_drops(l, 9, 2 * S);
	aw_segment_write_queue(l, 17, 16, 2 * S);
	uint32_t ref[AW_STRIPES] = {0};
	aw_segment_write_slot_reset(s, 0, 2, ref, 0);
	assert_int_equal(l->drops_base_mono_ns, 0);
	assert_int_equal(l->drops_rise_mono_ns, 0);
	assert_int_equal(l->full_mono_ns, 0);
	aw_segment_write_drops(l, 3, 3 * S);
	assert_int_equal(l->drops_base, 3);
	assert_int_equal(l->drops_base_mono_ns, 3 * S);
	assert_int_equal(l->drops_rise_mono_ns, 0);
	free(s);
}

/* A forked child copies the description, not the figures: its own first
 * reading will be its baseline. */
static void test_child_has_no_baseline(void **state)
{
	(void)state;
	struct aw_listener parent, child;
	memset(&parent, 0, sizeof(parent));
	memset(&child, 0, sizeof(child));
	aw_segment_write_drops(&parent, 7, 1 * S);
	aw_segment_write_queue(&parent, 17, 16, 1 * S);
	aw_segment_write_inherited(&child, &parent);
	assert_int_equal(child.drops_base_mono_ns, 0);
	assert_int_equal(child.full_mono_ns, 0);
	aw_segment_write_drops(&child, 40, 2 * S);
	assert_int_equal(child.drops_base, 40);
	assert_int_equal(child.drops_rise_mono_ns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_reading_is_baseline),
	    cmocka_unit_test(test_full_dated),
	    cmocka_unit_test(test_reuse_starts_over),
	    cmocka_unit_test(test_child_has_no_baseline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
