#include "segment_writer.h"

int aw_segment_write_ring(const struct aw_ring *r, uint32_t listener,
			  const struct aw_event *e, uint64_t *pos)
{
	*pos = __atomic_fetch_add(r->head, 1, __ATOMIC_RELAXED);
	struct aw_event *dst = &r->entry[*pos % r->count];
	/* Odd while filling (an acquire RMW keeps the stores after it), even
	 * when done; writers that lap the ring onto one entry are rare and a
	 * reader then simply sees an odd seq and skips it. */
	uint32_t seq = __atomic_fetch_or(&dst->seq, 1u, __ATOMIC_ACQ_REL) | 1u;
	dst->listener = listener;
	dst->time_real_ns = e->time_real_ns;
	dst->away_ns = e->away_ns;
	dst->queue_wait_ms = e->queue_wait_ms;
	dst->depth = e->depth;
	dst->backlog = e->backlog;
	dst->tid = e->tid;
	dst->stack = e->stack;
	__atomic_store_n(&dst->seq, seq + 1, __ATOMIC_RELEASE);
	return 1;
}

uint64_t aw_segment_write_event(struct aw_segment *s, uint32_t listener,
				const struct aw_event *e)
{
	struct aw_ring r = {s->event, AW_MAX_EVENTS, &s->header.event_head,
			    NULL};
	uint64_t pos;
	aw_segment_write_ring(&r, listener, e, &pos);
	return pos;
}

void aw_segment_write_begin(struct aw_listener *l)
{
	/* An acquire RMW: no later store to the fields may be seen before
	 * the odd seq that tells readers a write is under way. */
	__atomic_fetch_add(&l->seq, 1, __ATOMIC_ACQ_REL);
}

void aw_segment_write_end(struct aw_listener *l)
{
	uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq + 1, __ATOMIC_RELEASE);
}
