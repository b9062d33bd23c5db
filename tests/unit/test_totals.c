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
#include "totals.h"

static struct segment_listener L[6];
static struct segment_snapshot P[3];
static struct report R;

/* Three processes: 10 and 11 share socket (1, 100); 11 also holds (1, 200)
 * twice (two slots); 12 holds (2, 100): same inode, another device. */
static void setup_report(void)
{
	memset(L, 0, sizeof(L));
	memset(P, 0, sizeof(P));
	memset(&R, 0, sizeof(R));
	const struct {
		uint64_t dev, ino, accepts, drops;
		uint32_t peak, now;
	} f[6] = {
	    {1, 100, 7, 3, 4, 1}, {1, 100, 13, 5, 2, 6}, {1, 200, 1, 0, 0, 0},
	    {1, 200, 2, 0, 0, 0}, {2, 100, 4, 0, 9, 0},	 {0, 0, 50, 0, 0, 0},
	};
	for (int i = 0; i < 6; i++) {
		L[i].slot = (uint32_t)i;
		L[i].dev = f[i].dev;
		L[i].ino = f[i].ino;
		L[i].accepts = f[i].accepts;
		L[i].errors[1] = 1;
		L[i].live.drops = f[i].drops;
		L[i].live.queue_now = f[i].now;
		L[i].queue_peak = f[i].peak;
		aw_hist_add(&L[i].gap_ns, 1000u * (uint64_t)(i + 1));
	}
	P[0].pid = 10;
	P[0].listener = &L[0];
	P[0].n_listeners = 1;
	P[1].pid = 11;
	P[1].listener = &L[1];
	P[1].n_listeners = 3;
	P[2].pid = 12;
	P[2].listener = &L[4];
	P[2].n_listeners = 2; /* the second has no identity */
	R.proc = P;
	R.n_proc = 3;
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
