/*
 * check's model: windows between two readings, the remembered bounds of
 * when trouble last rose, then the verdicts (verdict.c) of each listener.
 */
#include "check_model.h"

#include "gather.h"

#include <stdlib.h>
#include <string.h>

int check_incomplete(const struct segment_snapshot *p)
{
	return p->header.listeners_lost > 0 ||
	       (p->header.flags & AW_SF_DETACHED);
}

/* Index of p's process in reading a, or -1. */
static long find_proc(const struct check_reading *a,
		      const struct segment_snapshot *p)
{
	const struct segment_snapshot *q = gather_find(&a->r, p);
	return q ? (long)(q - a->r.proc) : -1;
}

/* A namespace counter's rise from a to b, never negative. */
static uint64_t rise(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* The window of listener l (process index pi of b) against reading a. */
static void window_of(const struct check_reading *a,
		      const struct check_reading *b, size_t pi,
		      const struct segment_listener *l,
		      struct verdict_window *w)
{
	const struct segment_snapshot *p = &b->r.proc[pi];

	memset(w, 0, sizeof(*w));
	if (!a)
		return;
	long ai = find_proc(a, p);
	if (ai < 0)
		return;
	const struct segment_snapshot *pa = &a->r.proc[ai];
	const struct segment_listener *la = gather_find_listener(pa, l);
	if (!la)
		return;
	verdict_window_between(pa, la, p, l, w);
	if (a->ns_ok[ai] && b->ns_ok[pi]) {
		w->have_netstat = 1;
		w->listen_overflows =
		    rise(a->ns[ai].overflows, b->ns[pi].overflows);
		w->listen_drops = rise(a->ns[ai].drops, b->ns[pi].drops);
	}
}

/* Row's verdicts, judged, into a heap copy of exactly their number. */
static int judge(struct check_row *row, const struct recent_table *mem,
		 uint64_t recent_ns)
{
	struct verdict v[2 * VERDICT_KINDS];

	row->w.recent_ns = recent_ns;
	recent_apply(mem, row->p, row->l, &row->w);
	row->n = verdict_assess(row->p, row->l, &row->w, v);
	row->nh = verdict_assess_history(row->p, row->l, &row->w, v + row->n);
	if (row->n + row->nh == 0)
		return 0;
	row->v = malloc((size_t)(row->n + row->nh) * sizeof(*v));
	if (!row->v)
		return -1;
	memcpy(row->v, v, (size_t)(row->n + row->nh) * sizeof(*v));
	row->h = row->v + row->n;
	return 0;
}

int check_model_build(struct check_model *m, const struct check_reading *a,
		      const struct check_reading *b,
		      const struct recent_table *mem, uint64_t interval_ns,
		      uint64_t recent_ns)
{
	size_t total = 0;

	memset(m, 0, sizeof(*m));
	m->r = &b->r;
	m->interval_ns = interval_ns;
	m->recent_ns = recent_ns;
	for (size_t pi = 0; pi < b->r.n_proc; pi++)
		total += b->r.proc[pi].n_listeners;
	m->row = calloc(total ? total : 1, sizeof(*m->row));
	if (!m->row)
		return -1;
	for (size_t pi = 0; pi < b->r.n_proc; pi++) {
		const struct segment_snapshot *p = &b->r.proc[pi];
		if (check_incomplete(p))
			m->incomplete++;
		for (uint32_t i = 0; i < p->n_listeners; i++) {
			struct check_row *row = &m->row[m->n_rows++];
			row->p = p;
			row->l = &p->listener[i];
			window_of(a, b, pi, row->l, &row->w);
			if (judge(row, mem, recent_ns)) {
				check_model_free(m);
				return -1;
			}
			if (row->n)
				m->problems++;
			for (int k = 0; k < row->n; k++)
				m->verdicts[row->v[k].kind]++;
		}
	}
	return 0;
}

void check_model_free(struct check_model *m)
{
	for (size_t i = 0; i < m->n_rows; i++)
		free(m->row[i].v);
	free(m->row);
	memset(m, 0, sizeof(*m));
}
