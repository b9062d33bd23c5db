/*
 * Totals per socket: members sorted by identity, then folded run by run.
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

int totals_is_member(const struct model_listener *l)
{
	return l->ino != 0 && !(l->flags & AW_LF_CLOSED);
}

void totals_socket_init(struct totals_socket *s, const struct model_listener *l)
{
	memset(s, 0, sizeof(*s));
	s->dev = l->dev;
	s->ino = l->ino;
	s->all_stalled = 1;
	s->effective_backlog = l->effective_backlog;
	s->clamped = (l->flags & AW_LF_CLAMPED) != 0;
}

void totals_socket_add(struct totals_socket *s, const struct model_listener *l,
		       int new_proc)
{
	s->n_procs += new_proc != 0;
	s->n_members++;
	s->accepts += l->accepts;
	s->drained += l->drained;
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		s->errors[c] += l->errors[c];
	s->slow_events += l->slow_events;
	s->full_events += l->full_events;
	/* The socket's own readings, seen by every member: the largest (a
	 * member read later may have seen more), never a sum. */
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
	/* Stalled: no process holding the socket takes connections. */
	s->all_stalled = s->all_stalled && l->stalled;
	/* TCP_DEFER_ACCEPT, as any member saw it (a probe finds the flag, so
	 * one member may know it before another): its socket drops then also
	 * count the data-less handshake ACKs the option discards. */
	s->defer = s->defer || (l->flags & AW_LF_DEFER_ACCEPT) != 0;
	s->event_loop = s->event_loop || (l->flags & AW_LF_EVENT_LOOP) != 0;
	/* The backlog asked for is unknown in a process that adopted the
	 * socket (inherited it from a program without the shim). */
	if (!s->has_requested && !(l->flags & AW_LF_ADOPTED)) {
		s->has_requested = 1;
		s->requested_backlog = l->requested_backlog;
	}
}

int totals_build(const struct report *r, struct totals *t)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < r->n_proc; i++)
		for (uint32_t j = 0; j < r->proc[i].n_listeners; j++)
			n += totals_is_member(&r->proc[i].listener[j]);
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
			if (!totals_is_member(&p->listener[j]))
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
		int new_proc = 1;
		if (s && s->dev == m->l->dev && s->ino == m->l->ino) {
			new_proc = m[-1].proc != m->proc;
		} else {
			s = &t->socket[t->n_sockets++];
			totals_socket_init(s, m->l);
			s->first = i;
		}
		totals_socket_add(s, m->l, new_proc);
	}
	return 0;
}

void totals_free(struct totals *t)
{
	free(t->member);
	free(t->socket);
	memset(t, 0, sizeof(*t));
}

static int socket_cmp(const void *key, const void *elem)
{
	const struct totals_socket *k = key, *s = elem;

	if (k->dev != s->dev)
		return k->dev < s->dev ? -1 : 1;
	return (k->ino > s->ino) - (k->ino < s->ino);
}

const struct totals_socket *totals_find(const struct totals *t, uint64_t dev,
					uint64_t ino)
{
	struct totals_socket key = {.dev = dev, .ino = ino};

	if (t->n_sockets == 0)
		return NULL;
	return bsearch(&key, t->socket, t->n_sockets, sizeof(*t->socket),
		       socket_cmp);
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
