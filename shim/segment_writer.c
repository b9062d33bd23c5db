/* The segment's writer; the publish protocol is in segment_writer.h. */
#include "segment_writer.h"

#include "fence.h"

#include <string.h>

#define CLAIM_TRIES 8

/*
 * Step 2: take entry e for position pos, from an even seq below ours to
 * 2*pos+1. A failed CAS reloads seq, which only grows: the loop ends once
 * it is odd or not below ours, or sooner. 1 when taken, 0 when given up.
 */
static int claim(struct aw_event *e, uint64_t pos)
{
	uint64_t mine = 2 * pos + 1;
	uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	/* Among the shim's threads a failed CAS sees an odd or a higher seq
	 * next; a few tries bound what another process writing seq over and
	 * over could make of it (the event given up, never a host that
	 * spins). */
	for (int tries = 0; tries < CLAIM_TRIES; tries++) {
		if ((seq & 1u) || seq >= mine)
			return 0;
		if (__atomic_compare_exchange_n(&e->seq, &seq, mine, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	}
	return 0;
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

/* The slot seqlock (see the header). Its writers hold the table lock, and
 * that is what keeps an increment from being lost (write_end's plain load
 * and store rely on it). The RMW orders nothing that follows it: the fence
 * does. */
static void write_begin(struct aw_listener *l)
{
	__atomic_fetch_add(&l->seq, 1, __ATOMIC_RELAXED);
	aw_fence_release();
}

static void write_end(struct aw_listener *l)
{
	uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq + 1, __ATOMIC_RELEASE);
}

/* --- header --------------------------------------------------------------- */

void aw_segment_write_header(struct aw_segment *s,
			     const struct aw_seg_header *h)
{
	size_t from = offsetof(struct aw_seg_header, abi_version);
	memcpy((char *)&s->header + from, (const char *)h + from,
	       sizeof(*h) - from);
}

void aw_segment_write_magic(struct aw_segment *s)
{
	__atomic_store_n(&s->header.magic, AW_SEG_MAGIC, __ATOMIC_RELEASE);
}

void aw_segment_write_lineage(struct aw_segment *s, int32_t parent_pid,
			      uint32_t used)
{
	s->header.parent_pid = parent_pid;
	s->header.listeners_used = used;
}

void aw_segment_write_new_slot(struct aw_segment *s, uint32_t i, uint32_t gen)
{
	s->listener[i].generation = gen;
	__atomic_store_n(&s->header.listeners_used, i + 1, __ATOMIC_RELEASE);
}

void aw_segment_write_new_stripe(struct aw_segment *s, uint32_t i, uint32_t gen)
{
	s->stripe[i].generation = gen;
	__atomic_store_n(&s->header.stripes_used, i + 1, __ATOMIC_RELEASE);
}

void aw_segment_write_listener_lost(struct aw_segment *s)
{
	__atomic_fetch_add(&s->header.listeners_lost, 1, __ATOMIC_RELAXED);
}

void aw_segment_write_header_flag(struct aw_segment *s, uint32_t flag)
{
	__atomic_fetch_or(&s->header.flags, flag, __ATOMIC_RELAXED);
}

void aw_segment_write_clock_mult(struct aw_segment *s, uint64_t mult)
{
	__atomic_store_n(&s->header.clock_mult, mult, __ATOMIC_RELAXED);
}

void aw_segment_write_uid(struct aw_segment *s, uint32_t uid)
{
	__atomic_store_n(&s->header.uid, uid, __ATOMIC_RELAXED);
}

/* Only what was backed: on a full tmpfs even a read of a hole of the
 * shared mapping faults (SIGBUS). */
void aw_segment_write_private_copy(struct aw_segment *p,
				   const struct aw_segment *s, uint32_t stacks,
				   uint32_t stripes)
{
	memcpy(p, s, offsetof(struct aw_segment, stack));
	memcpy(p->stack, s->stack,
	       (stacks < AW_MAX_STACKS ? stacks : AW_MAX_STACKS) *
		   sizeof(struct aw_stack));
	memcpy(p->stripe, s->stripe,
	       (stripes < AW_MAX_STRIPES ? stripes : AW_MAX_STRIPES) *
		   sizeof(struct aw_stripe));
}

void aw_segment_write_detached(struct aw_segment *s, uint64_t real_ns,
			       int32_t err)
{
	s->header.detached_real_ns = real_ns;
	s->header.detached_errno = err;
	__atomic_fetch_or(&s->header.flags, AW_SF_DETACHED, __ATOMIC_RELEASE);
}

/* --- slot description ----------------------------------------------------- */

/* The flags a description states, set or cleared as it says; CLOSED is
 * close()'s and the slot reuse's (aw_segment_write_slot_reset). */
#define DESCRIBED_FLAGS                                                        \
	(AW_LF_CLAMPED | AW_LF_COMPUTED | AW_LF_ADOPTED | AW_LF_TCP |          \
	 AW_LF_INHERITED | AW_LF_RAISED | AW_LF_BACKLOG_UNKNOWN |              \
	 AW_LF_DEFER_ACCEPT)

/* Flags change only by atomic or/and, each of a writer's own bits: other
 * threads set theirs with no lock (CLOSED, DEFER_ACCEPT). */
static void write_flags(struct aw_listener *l, uint32_t mask, uint32_t set)
{
	__atomic_fetch_and(&l->flags, ~(mask & ~set), __ATOMIC_RELAXED);
	__atomic_fetch_or(&l->flags, set & mask, __ATOMIC_RELAXED);
}

void aw_segment_write_description(struct aw_listener *l,
				  const struct aw_listener *d)
{
	write_begin(l);
	__atomic_store_n(&l->fd, d->fd, __ATOMIC_RELAXED);
	l->family = d->family;
	l->dev = d->dev;
	l->ino = d->ino;
	memcpy(l->address, d->address, sizeof(l->address));
	l->requested_backlog = d->requested_backlog;
	l->passed_backlog = d->passed_backlog;
	__atomic_store_n(&l->effective_backlog, d->effective_backlog,
			 __ATOMIC_RELAXED);
	l->somaxconn = d->somaxconn;
	write_flags(l, DESCRIBED_FLAGS, d->flags);
	l->listen_calls++;
	l->listen_real_ns = d->listen_real_ns;
	l->listen_mono_ns = d->listen_mono_ns;
	write_end(l);
	__atomic_store_n(&l->state, AW_SLOT_READY, __ATOMIC_RELEASE);
}

void aw_segment_write_backlog(struct aw_listener *l, uint32_t effective,
			      uint32_t clamped)
{
	write_begin(l);
	__atomic_store_n(&l->effective_backlog, effective, __ATOMIC_RELAXED);
	write_flags(l, AW_LF_CLAMPED, clamped);
	write_end(l);
}

/* Word by word, relaxed: a reader may be reading these very words. */
static void zero_words(void *p, size_t size)
{
	uint64_t *w = p;
	for (size_t i = 0; i < size / sizeof(*w); i++)
		__atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

/* A stripe starts counting for generation gen: zeroed but for its owner
 * and in_accept (a thread that raised in_accept on the shared stripe just
 * before lowers it after, never below zero). */
static void restart_stripe(struct aw_stripe *st, uint32_t gen)
{
	size_t rest = offsetof(struct aw_stripe, owner);
	zero_words((char *)st + sizeof(uint64_t),
		   rest - sizeof(uint64_t)); /* generation, in_accept kept */
	size_t tail = offsetof(struct aw_stripe, drained);
	zero_words((char *)st + tail, sizeof(*st) - tail);
	__atomic_store_n(&st->generation, gen, __ATOMIC_RELEASE);
}

/* The old socket's figures go from the head and from the stripes no
 * thread owns (they stay the slot's, so that reuse costs no memory). An
 * owned stripe is its thread's alone to write but for its generation. */
void aw_segment_write_slot_reset(struct aw_segment *s, uint32_t slot,
				 uint32_t gen, const uint32_t *ref,
				 uint32_t owned)
{
	struct aw_listener *l = &s->listener[slot];
	write_begin(l);
	size_t from = offsetof(struct aw_listener, next_sample_ticks);
	size_t to = offsetof(struct aw_listener, stripe_ref);
	zero_words((char *)l + from, to - from);
	l->drops_mono_ns = 0;
	l->drops_due = 0;
	l->drops_base = 0;
	l->drops_base_mono_ns = 0;
	l->drops_rise_mono_ns = 0;
	l->full_mono_ns = 0;
	__atomic_fetch_and(&l->flags, ~(uint32_t)AW_LF_CLOSED,
			   __ATOMIC_RELAXED);
	l->generation = gen;
	l->listen_calls = 0;
	l->listen_stack = 0;
	write_end(l);
	for (uint32_t k = 0; k < AW_STRIPES; k++) {
		if (ref[k] == 0)
			continue;
		struct aw_stripe *st = (struct aw_stripe *)((char *)s + ref[k]);
		if (!(owned & (1u << k)))
			restart_stripe(st, gen);
		else /* no slot's: the owner's mark no longer matches */
			__atomic_store_n(&st->generation, 0, __ATOMIC_RELEASE);
	}
}

void aw_segment_write_inherited(struct aw_listener *dst,
				const struct aw_listener *src)
{
	memcpy(dst, src, offsetof(struct aw_listener, next_sample_ticks));
	dst->seq = 0;
	dst->flags |= AW_LF_INHERITED;
	dst->generation = src->generation;
	dst->fds = src->fds;
	__atomic_store_n(&dst->state, AW_SLOT_READY, __ATOMIC_RELEASE);
}

void aw_segment_write_fds(struct aw_listener *l, uint32_t n, int32_t rep)
{
	__atomic_store_n(&l->fds, n, __ATOMIC_RELAXED);
	if (rep >= 0)
		__atomic_store_n(&l->fd, rep, __ATOMIC_RELAXED);
}

void aw_segment_write_flag_set(struct aw_listener *l, uint32_t flag)
{
	__atomic_fetch_or(&l->flags, flag, __ATOMIC_RELAXED);
}

void aw_segment_write_flag_clear(struct aw_listener *l, uint32_t flag)
{
	__atomic_fetch_and(&l->flags, ~flag, __ATOMIC_RELAXED);
}

/*
 * The first reading in this process is its baseline; a reading above the
 * one before it dates a rise. The baseline, then its time (release), then
 * the rise's date, the count and its time (release): a reader that sees
 * drops_mono_ns sees the baseline and the date that go with it. Two
 * threads reading at once may both take the first turn: the baseline is
 * then one of two readings made together, either a first.
 */
void aw_segment_write_drops(struct aw_listener *l, uint64_t drops,
			    uint64_t mono_ns)
{
	uint64_t prev = __atomic_load_n(&l->drops, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->drops_base_mono_ns, __ATOMIC_RELAXED) == 0) {
		__atomic_store_n(&l->drops_base, drops, __ATOMIC_RELAXED);
		__atomic_store_n(&l->drops_base_mono_ns, mono_ns,
				 __ATOMIC_RELEASE);
	} else if (drops > prev) {
		__atomic_store_n(&l->drops_rise_mono_ns, mono_ns,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&l->drops, drops, __ATOMIC_RELAXED);
	__atomic_store_n(&l->drops_mono_ns, mono_ns, __ATOMIC_RELEASE);
}

void aw_segment_write_listen_stack(struct aw_listener *l, uint32_t ref)
{
	__atomic_store_n(&l->listen_stack, ref, __ATOMIC_RELAXED);
}

void aw_segment_write_stripe_ref(struct aw_listener *l, uint32_t k,
				 uint32_t ref)
{
	__atomic_store_n(&l->stripe_ref[k], ref, __ATOMIC_RELEASE);
}

/* --- slot live figures ---------------------------------------------------- */

int aw_segment_write_sample_due(struct aw_listener *l, uint64_t now,
				uint64_t interval)
{
	uint64_t next =
	    __atomic_load_n(&l->next_sample_ticks, __ATOMIC_RELAXED);
	return now >= next && __atomic_compare_exchange_n(
				  &l->next_sample_ticks, &next, now + interval,
				  0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

uint64_t aw_segment_write_probe(struct aw_listener *l)
{
	return __atomic_fetch_add(&l->samples, 1, __ATOMIC_RELAXED);
}

int aw_segment_write_take_drops_due(struct aw_listener *l)
{
	return __atomic_exchange_n(&l->drops_due, 0, __ATOMIC_RELAXED) != 0;
}

static void store_max32(uint32_t *p, uint32_t v)
{
	uint32_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

void aw_segment_write_queue(struct aw_listener *l, uint32_t depth,
			    uint32_t backlog, uint64_t mono_ns)
{
	__atomic_store_n(&l->queue_now, depth, __ATOMIC_RELAXED);
	store_max32(&l->queue_peak, depth);
	/* The queue holds backlog + 1 before SYNs are dropped. */
	if (depth > backlog) {
		__atomic_fetch_add(&l->full_events, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&l->full_mono_ns, mono_ns, __ATOMIC_RELAXED);
		__atomic_store_n(&l->drops_due, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&l->sample_mono_ns, mono_ns, __ATOMIC_RELAXED);
}

int aw_segment_write_slow_turn(struct aw_listener *l, uint64_t last,
			       uint64_t now)
{
	return __atomic_compare_exchange_n(&l->slow_logged_ticks, &last, now, 0,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void aw_segment_write_slow_event(struct aw_segment *s, uint32_t slot,
				 const struct aw_event *e)
{
	struct aw_listener *l = &s->listener[slot];
	if (e->stack != 0)
		__atomic_store_n(&l->slow_stack, e->stack, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->slow_events, 1, __ATOMIC_RELAXED);
	uint64_t pos = aw_segment_write_event(s, slot, e);
	__atomic_store_n(&l->last_slow_event, pos + 1, __ATOMIC_RELAXED);
}

/* --- stripe figures ------------------------------------------------------- */

void aw_segment_write_stripe_claim(struct aw_stripe *st, uint32_t slot,
				   int32_t tid, int shared, uint32_t gen)
{
	__atomic_store_n(&st->owner, shared ? -1 : tid, __ATOMIC_RELAXED);
	__atomic_store_n(&st->slot, slot, __ATOMIC_RELAXED);
	if (__atomic_load_n(&st->generation, __ATOMIC_RELAXED) != gen)
		restart_stripe(st, gen);
}

void aw_segment_write_stripe_free(struct aw_stripe *st)
{
	__atomic_store_n(&st->owner, 0, __ATOMIC_RELEASE);
}

/* --- stacks --------------------------------------------------------------- */

void aw_segment_write_stack(struct aw_segment *s, uint32_t idx,
			    const struct aw_stack *draft)
{
	struct aw_stack *st = &s->stack[idx];
	memcpy(st, draft, sizeof(*st));
	__atomic_store_n(&st->hits, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->header.stacks_used, idx + 1, __ATOMIC_RELEASE);
}

void aw_segment_write_stack_hit(struct aw_segment *s, uint32_t ref)
{
	__atomic_fetch_add(&s->stack[ref - 1].hits, 1, __ATOMIC_RELAXED);
}

void aw_segment_write_inherited_stacks(struct aw_segment *to,
				       const struct aw_segment *from,
				       uint32_t used)
{
	memcpy(to->stack, from->stack, used * sizeof(struct aw_stack));
	for (uint32_t i = 0; i < used; i++)
		to->stack[i].hits = 0; /* captured by the parent, not here */
	__atomic_store_n(&to->header.stacks_used, used, __ATOMIC_RELEASE);
}
