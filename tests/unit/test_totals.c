/*
 * totals_build(): listeners grouped by socket identity (dev, ino) across
 * processes; counts add up, the socket's own readings (queue, drops) are
 * the largest any member saw, a process is counted once per socket, and
 * listeners without an identity stay out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"
#include "report_fixture.h"
#include "totals.h"

static struct model_listener L[6];
static struct model_process P[3];
static struct report R;

/* Three processes: 10 and 11 share socket (1, 100); 11 also holds (1, 200)
 * twice (two slots); 12 holds (2, 100): same inode, another device. */
static void setup_report(void)
{
	/* proc, dev, ino, accepts, drops, queue now, peak, flags, stalled */
	static const struct fixture_row f[6] = {
	    {0, 1, 100, 7, 3, 1, 4, 0, 0},
	    {1, 1, 100, 13, 5, 6, 2, 0, 0},
	    {1, 1, 200, 1, 0, 0, 0, 0, 0},
	    {1, 1, 200, 2, 0, 0, 0, 0, 0},
	    {2, 2, 100, 4, 0, 0, 9, 0, 0},
	    {2, 0, 0, 50, 0, 0, 0, 0, 0}, /* no identity */
	};
	report_fixture_rows(&R, P, 3, L, f, 6, 1000);
	for (int i = 0; i < 6; i++)
		L[i].errors[1] = 1;
}

static void test_grouping(void **state)
{
	struct totals t;
	(void)state;

	setup_report();
	assert_int_equal(totals_build(&R, &t), 0);
	assert_int_equal(t.n_members, 5); /* ino 0 left out */
	assert_int_equal(t.n_sockets, 3);

	const struct totals_socket *a = &t.socket[0];
	assert_int_equal(a->dev, 1);
	assert_int_equal(a->ino, 100);
	assert_int_equal(a->n_procs, 2);
	assert_int_equal(a->n_members, 2);
	assert_int_equal(a->accepts, 20);
	assert_int_equal(a->errors[1], 2);
	assert_int_equal(a->drops, 5);	   /* largest, not 8 */
	assert_int_equal(a->queue_now, 6); /* largest */
	/* The largest peak (4), but never below the queue now (6). */
	assert_int_equal(a->queue_peak, 6);
	assert_int_equal(t.member[a->first].proc->pid, 10);
	assert_int_equal(t.member[a->first + 1].proc->pid, 11);

	const struct totals_socket *b = &t.socket[1];
	assert_int_equal(b->ino, 200);
	assert_int_equal(b->n_procs, 1); /* two slots, one process */
	assert_int_equal(b->n_members, 2);
	assert_int_equal(b->accepts, 3);

	const struct totals_socket *c = &t.socket[2];
	assert_int_equal(c->dev, 2);
	assert_int_equal(c->ino, 100);
	assert_int_equal(c->accepts, 4);

	struct aw_hist gap, away, wait;
	totals_hists(&t, a, &gap, &away, &wait);
	assert_int_equal(aw_hist_count(&gap), 2);
	assert_int_equal(gap.max, 2000);
	assert_int_equal(aw_hist_count(&away), 0);
	totals_free(&t);
}

static void test_empty(void **state)
{
	struct totals t;
	struct report r;
	(void)state;

	memset(&r, 0, sizeof(r));
	assert_int_equal(totals_build(&r, &t), 0);
	assert_int_equal(t.n_sockets, 0);
	assert_null(t.socket);
	totals_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grouping),
	    cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
