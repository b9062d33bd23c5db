/* The segment's writer; the publish protocol is in segment_writer.h. */
#include "segment_writer.h"

#include "fence.h"

/*
 * Step 2: take entry e for position pos, from an even seq below ours to
 * 2*pos+1. A failed CAS reloads seq, which only grows: the loop ends once
 * it is odd or not below ours, or sooner. 1 when taken, 0 when given up.
 */
static int claim(struct aw_event *e, uint64_t pos)
{
	uint64_t mine = 2 * pos + 1;
	uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	do {
		if ((seq & 1u) || seq >= mine)
			return 0;
	} while (!__atomic_compare_exchange_n(
	    &e->seq, &seq, mine, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return 1;
}

/* Step 3: the fields, relaxed, after the claim (see the header). */
static void fill(struct aw_event *dst, uint32_t listener,
		 const struct aw_event *e)
{
	aw_fence_release();
	__atomic_store_n(&dst->listener, listener, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->time_real_ns, e->time_real_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->away_ns, e->away_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->queue_wait_ms, e->queue_wait_ms,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&dst->depth, e->depth, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->backlog, e->backlog, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->tid, e->tid, __ATOMIC_RELAXED);
	__atomic_store_n(&dst->stack, e->stack, __ATOMIC_RELAXED);
}

int aw_segment_write_ring(const struct aw_ring *r, uint32_t listener,
			  const struct aw_event *e, uint64_t *pos)
{
	*pos = __atomic_fetch_add(r->head, 1, __ATOMIC_RELAXED);
	struct aw_event *dst = &r->entry[*pos % r->count];
	if (!claim(dst, *pos)) {
		__atomic_fetch_add(r->lost, 1, __ATOMIC_RELAXED);
		return 0;
	}
	fill(dst, listener, e);
	__atomic_store_n(&dst->seq, 2 * *pos + 2, __ATOMIC_RELEASE);
	return 1;
}

uint64_t aw_segment_write_event(struct aw_segment *s, uint32_t listener,
				const struct aw_event *e)
{
	struct aw_ring r = {s->event, AW_MAX_EVENTS, &s->header.event_head,
			    &s->header.events_lost};
	uint64_t pos;
	aw_segment_write_ring(&r, listener, e, &pos);
	return pos;
}

void aw_segment_write_begin(struct aw_listener *l)
{
	/* The RMW orders nothing that follows it (see the header): the
	 * fence does. An RMW still, though the table lock serialises
	 * writers, so that no increment can be lost. */
	__atomic_fetch_add(&l->seq, 1, __ATOMIC_RELAXED);
	aw_fence_release();
}

void aw_segment_write_end(struct aw_listener *l)
{
	uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq + 1, __ATOMIC_RELEASE);
}
