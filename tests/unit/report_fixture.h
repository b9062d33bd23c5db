/*
 * Hand-made reports for the unit tests of what reads a report: the totals,
 * the Prometheus renderer, check's and top's models.
 *
 * report_fixture_rows(): processes pid 10, 11, ... from a table of listener
 * rows, each naming its process by index; a process's rows are adjacent
 * and in process order. Every field a row leaves out is zero.
 *
 * report_fixture_quiet(): n processes pid 42, 43, ..., each the verdict
 * fixture's quiet one (verdict_fixture.h): one healthy listener;
 * report_fixture_proc() one of them. A test builds two such readings and
 * moves one of them on.
 */
#ifndef AW_TEST_REPORT_FIXTURE_H
#define AW_TEST_REPORT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "histogram.h"
#include "report.h"
#include "verdict_fixture.h"

struct fixture_row {
	int proc;
	uint64_t dev, ino, accepts, drops;
	uint32_t queue_now, queue_peak, flags;
	int stalled;
};

/* One gap sample per listener, i + 1 times unit_ns, so that each one's
 * histogram tells it apart. */
static inline void report_fixture_rows(struct report *r,
				       struct model_process *p, size_t n_proc,
				       struct model_listener *l,
				       const struct fixture_row *row, size_t n,
				       uint64_t unit_ns)
{
	memset(r, 0, sizeof(*r));
	memset(p, 0, n_proc * sizeof(*p));
	memset(l, 0, n * sizeof(*l));
	for (size_t k = 0; k < n_proc; k++)
		p[k].pid = 10 + (int)k;
	for (size_t i = 0; i < n; i++) {
		struct model_process *owner = &p[row[i].proc];
		l[i].slot = (uint32_t)i;
		l[i].dev = row[i].dev;
		l[i].ino = row[i].ino;
		l[i].accepts = row[i].accepts;
		l[i].live.drops = row[i].drops;
		l[i].live.queue_now = row[i].queue_now;
		l[i].queue_peak = row[i].queue_peak;
		l[i].flags = row[i].flags;
		l[i].stalled = row[i].stalled;
		aw_hist_add(&l[i].gap_ns, unit_ns * (i + 1));
		if (owner->n_listeners++ == 0)
			owner->listener = &l[i];
	}
	r->proc = p;
	r->n_proc = n_proc;
}

/* Process i of a quiet reading. */
static inline void report_fixture_proc(struct model_process *p,
				       struct model_listener *l, size_t i)
{
	verdict_fixture(p, l);
	p->pid = 42 + (int)i;
}

static inline void report_fixture_quiet(struct report *r,
					struct model_process *p,
					struct model_listener *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		report_fixture_proc(&p[i], &l[i], i);
	*r = (struct report){.proc = p, .n_proc = n};
}

#endif
