/*
 * top's frame on hand-made readings (top_model.c): closed listeners are
 * left out, the accept rate is over the window against the reading before
 * (none without one), and the rows come most urgent verdict first, then
 * the fullest queue, then the busiest, then by pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "report_fixture.h"
#include "top_model.h"

#define NPROC 4

static struct model_process cur[NPROC], prev[NPROC];
static struct model_listener lc[NPROC], lp[NPROC];
static struct report rc, rp;
static struct recent_table mem;

/* Process i: pid 42 + i, quiet, in both readings; two seconds apart with
 * 100 * (i + 1) accepts between them. */
static int setup(void **state)
{
	(void)state;
	report_fixture_quiet(&rp, prev, lp, NPROC);
	report_fixture_quiet(&rc, cur, lc, NPROC);
	for (int i = 0; i < NPROC; i++) {
		cur[i].now_mono_ns += 2 * S;
		lc[i].accepts = lp[i].accepts + 100u * (unsigned)(i + 1);
	}
	recent_init(&mem);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	recent_free(&mem);
	return 0;
}

static void test_rate_over_the_window(void **state)
{
	struct top_frame f;
	(void)state;

	top_frame_build(&f, &rc, &rp, &mem, WINDOW);
	assert_int_equal(f.n_rows, NPROC);
	/* All quiet and empty: the busiest first. */
	for (int k = 0; k < NPROC; k++) {
		const struct top_row *r = &f.row[k];
		assert_int_equal(r->mask, 0);
		assert_ptr_equal(r->before, &lp[NPROC - 1 - k]);
		assert_true(r->accepts_s == 50.0 * (NPROC - k));
	}
	top_frame_free(&f);

	/* No reading before: no window, no rate; by pid. */
	top_frame_build(&f, &rc, NULL, &mem, WINDOW);
	for (int k = 0; k < NPROC; k++) {
		assert_null(f.row[k].before);
		assert_false(f.row[k].w.have);
		assert_true(f.row[k].accepts_s == 0.0);
		assert_int_equal(f.row[k].p->pid, 42 + k);
	}
	top_frame_free(&f);
}

/* A verdict outranks a fuller queue, a fuller queue a busier loop; a
 * closed listener has no row. */
static void test_order_and_closed(void **state)
{
	struct top_frame f;
	(void)state;

	lc[0].live.queue_now = 8; /* half full, quiet, least busy */
	lc[1].flags |= AW_LF_CLOSED;
	/* Seen full 3 times within the window, its queue empty now. */
	lc[2].full_events = 3;
	lc[2].queue_peak = 17;
	top_frame_build(&f, &rc, &rp, &mem, WINDOW);
	assert_int_equal(f.n_rows, NPROC - 1);
	assert_int_equal(f.row[0].p->pid, 44);
	assert_true(f.row[0].mask & (1u << VERDICT_OVERFLOWING));
	assert_true(f.row[0].fill == 0.0);
	assert_int_equal(f.row[1].p->pid, 42);
	assert_int_equal(f.row[1].mask, 0);
	assert_true(f.row[1].fill == 0.5);
	assert_int_equal(f.row[2].p->pid, 45);
	for (size_t k = 0; k < f.n_rows; k++)
		assert_int_not_equal(f.row[k].p->pid, 43);
	top_frame_free(&f);
	assert_null(f.row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rate_over_the_window, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_order_and_closed, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
