/*
 * Totals per socket: members sorted by identity, then summed run by run.
 */
#include "totals.h"

#include "histogram.h"

#include <stdlib.h>
#include <string.h>

static int member_cmp(const void *a, const void *b)
{
	const struct totals_member *x = a, *y = b;

	if (x->l->dev != y->l->dev)
		return x->l->dev < y->l->dev ? -1 : 1;
	if (x->l->ino != y->l->ino)
		return x->l->ino < y->l->ino ? -1 : 1;
	if (x->proc->pid != y->proc->pid)
		return x->proc->pid < y->proc->pid ? -1 : 1;
	return (x->l->slot > y->l->slot) - (x->l->slot < y->l->slot);
}

static void add_member(struct totals_socket *s, const struct totals_member *m,
		       const struct totals_member *prev)
{
	const struct model_listener *l = m->l;

	if (!prev || prev->proc != m->proc)
		s->n_procs++;
	s->n_members++;
	s->accepts += l->accepts;
	s->drained += l->drained;
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		s->errors[c] += l->errors[c];
	s->slow_events += l->slow_events;
	s->full_events += l->full_events;
	if (l->live.queue_now > s->queue_now)
		s->queue_now = l->live.queue_now;
	if (l->queue_peak > s->queue_peak)
		s->queue_peak = l->queue_peak;
	/* The deepest queue seen includes the one seen now: a peak below
	 * the queue now would contradict it. */
	if (s->queue_now > s->queue_peak)
		s->queue_peak = s->queue_now;
	if (l->live.drops > s->drops)
		s->drops = l->live.drops;
}

int totals_build(const struct report *r, struct totals *t)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < r->n_proc; i++)
		for (uint32_t j = 0; j < r->proc[i].n_listeners; j++)
			n += r->proc[i].listener[j].ino != 0;
	if (n == 0)
		return 0;
	t->member = calloc(n, sizeof(*t->member));
	t->socket = calloc(n, sizeof(*t->socket));
	if (!t->member || !t->socket) {
		totals_free(t);
		return -1;
	}
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct model_process *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			if (p->listener[j].ino == 0)
				continue;
			t->member[t->n_members].proc = p;
			t->member[t->n_members].l = &p->listener[j];
			t->n_members++;
		}
	}
	qsort(t->member, t->n_members, sizeof(*t->member), member_cmp);
	struct totals_socket *s = NULL;
	for (size_t i = 0; i < t->n_members; i++) {
		const struct totals_member *m = &t->member[i];
		const struct totals_member *prev = NULL;
		if (s && s->dev == m->l->dev && s->ino == m->l->ino) {
			prev = m - 1;
		} else {
			s = &t->socket[t->n_sockets++];
			s->dev = m->l->dev;
			s->ino = m->l->ino;
			s->first = i;
		}
		add_member(s, m, prev);
	}
	return 0;
}

void totals_free(struct totals *t)
{
	free(t->member);
	free(t->socket);
	memset(t, 0, sizeof(*t));
}

void totals_hists(const struct totals *t, const struct totals_socket *s,
		  struct aw_hist *gap, struct aw_hist *away,
		  struct aw_hist *queue_wait)
{
	memset(gap, 0, sizeof(*gap));
	memset(away, 0, sizeof(*away));
	memset(queue_wait, 0, sizeof(*queue_wait));
	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		const struct model_listener *l = t->member[i].l;
		aw_hist_merge(gap, &l->gap_ns);
		aw_hist_merge(away, &l->away_ns);
		aw_hist_merge(queue_wait, &l->queue_wait_ms);
	}
}
