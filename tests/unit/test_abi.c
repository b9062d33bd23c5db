/* The segment layout, pinned: the offsets a reader of another build relies
 * on. The header's _Static_asserts catch a moved field at compile time; this
 * test states them where a reviewer reads tests, and checks the constants
 * the validation compares against. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acceptwatch_abi.h"

static void test_header_layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct aw_seg_header, magic), 0);
	assert_int_equal(offsetof(struct aw_seg_header, abi_version), 8);
	assert_int_equal(offsetof(struct aw_seg_header, header_size), 12);
	assert_int_equal(offsetof(struct aw_seg_header, total_size), 16);
	assert_int_equal(offsetof(struct aw_seg_header, pid), 60);
	assert_int_equal(offsetof(struct aw_seg_header, comm), 96);
	assert_int_equal(offsetof(struct aw_seg_header, event_head), 112);
	assert_int_equal(offsetof(struct aw_seg_header, events_lost), 152);
	assert_int_equal(offsetof(struct aw_seg_header, clock_base_ticks), 160);
	assert_int_equal(offsetof(struct aw_seg_header, clock_mult), 176);
	assert_int_equal(offsetof(struct aw_seg_header, stripe_offset), 184);
	assert_int_equal(sizeof(struct aw_seg_header), 256);
}

static void test_listener_layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct aw_listener, state), 0);
	assert_int_equal(offsetof(struct aw_listener, seq), 4);
	assert_int_equal(offsetof(struct aw_listener, fd), 8);
	assert_int_equal(offsetof(struct aw_listener, ino), 24);
	assert_int_equal(offsetof(struct aw_listener, address), 32);
	assert_int_equal(offsetof(struct aw_listener, requested_backlog), 144);
	assert_int_equal(offsetof(struct aw_listener, effective_backlog), 152);
	assert_int_equal(offsetof(struct aw_listener, stripe_ref), 272);
	assert_int_equal(offsetof(struct aw_listener, drops_mono_ns), 304);
	/* ABI 6: the process's drops baseline and its dates. */
	assert_int_equal(offsetof(struct aw_listener, drops_base), 320);
	assert_int_equal(offsetof(struct aw_listener, drops_base_mono_ns), 328);
	assert_int_equal(offsetof(struct aw_listener, drops_rise_mono_ns), 336);
	assert_int_equal(offsetof(struct aw_listener, full_mono_ns), 344);
	assert_int_equal(sizeof(struct aw_listener), 384);
	/* Stripes start on their own cache lines: no false sharing. */
	assert_int_equal(offsetof(struct aw_segment, stripe) % 64, 0);
	assert_int_equal(sizeof(struct aw_stripe) % 64, 0);
	/* What an accept on the common path writes but for one bucket per
	 * histogram is the stripe's first cache line. */
	assert_int_equal(offsetof(struct aw_stripe, generation), 0);
	assert_int_equal(offsetof(struct aw_stripe, in_accept), 4);
	assert_int_equal(offsetof(struct aw_stripe, accepts), 8);
	assert_int_equal(offsetof(struct aw_stripe, last_accept_ticks), 16);
	assert_int_equal(offsetof(struct aw_stripe, gap_ns), 24);
	assert_int_equal(offsetof(struct aw_stripe, away_ns), 40);
	assert_int_equal(offsetof(struct aw_stripe, owner), 56);
	assert_int_equal(offsetof(struct aw_stripe, drained), 64);
	/* A listener in use, with the stripe of one accepting thread, fits
	 * in 16 KiB of segment. */
	assert_true(sizeof(struct aw_listener) + sizeof(struct aw_stripe) <=
		    16384);
}

/* An event's seq is 64 bits (2 * position + 2 never wraps), first. */
static void test_event_layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct aw_event, seq), 0);
	assert_int_equal(sizeof(((struct aw_event *)0)->seq), 8);
	assert_int_equal(offsetof(struct aw_event, time_real_ns), 8);
	assert_int_equal(offsetof(struct aw_event, queue_wait_ms), 24);
	assert_int_equal(offsetof(struct aw_event, listener), 32);
	assert_int_equal(offsetof(struct aw_event, stack), 48);
	assert_int_equal(sizeof(struct aw_event), 56);
}

static void test_segment_layout(void **state)
{
	(void)state;
	assert_int_equal(AW_SEG_MAGIC, 0x3147455357544341ULL);
	assert_int_equal(AW_ABI_VERSION, 6);
	assert_int_equal(AW_HIST_BUCKETS, 640);
	assert_int_equal(offsetof(struct aw_segment, listener), 256);
	assert_int_equal(offsetof(struct aw_segment, event),
			 256 + AW_MAX_LISTENERS * 384);
	assert_int_equal(AW_SEG_SIZE,
			 256 + 64 * 384 + 32 * 56 + 32 * 2912 + 256 * 15488);
	assert_int_equal(sizeof(struct aw_stack), 2912);
	assert_int_equal(offsetof(struct aw_stack, frame), 32);
	assert_int_equal(offsetof(struct aw_stack, module), 32 + 32 * 16);
	assert_int_equal(sizeof(struct aw_frame), 16);
	assert_int_equal(offsetof(struct aw_module, build_id), 256);
	assert_int_equal(offsetof(struct aw_module, build_id_len), 288);
	assert_int_equal(sizeof(struct aw_module), 296);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_layout),
	    cmocka_unit_test(test_listener_layout),
	    cmocka_unit_test(test_event_layout),
	    cmocka_unit_test(test_segment_layout),
	};
	return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
