/*
 * The segment's writer: every store into the segment goes through here
 * (tests/e2e/test_segment_writes.sh holds the rest of the shim to it).
 * Other modules read the segment as they like; they decide what to write,
 * and this module how, grouped by what is published: the header, a slot's
 * description, a slot's live figures, a stripe's figures, the event ring,
 * the stacks. Each group's rule is stated once below.
 *
 * The reader is another process, reading the file with pread(): the kernel
 * copies on the reader's CPU, with plain loads in no stated order. So the
 * orders below are argued for the hardware as much as for C11: on x86
 * (TSO) stores are seen in program order and loads are not reordered with
 * older loads, so every fence here costs nothing but a compiler barrier;
 * on arm64 (and POWER, RISC-V) plain stores and loads may be seen in any
 * order, and each fence is a real barrier (dmb ish / dmb ishld). Where the
 * reader is a thread (tests/unit/test_event_ring.c) the C11 argument is
 * Boehm's ("Can seqlocks get along with programming language memory
 * models?", 2012): the fields are relaxed atomics, ordered by fences.
 *
 * Event ring (Varnish VSL, perf's ring: the sequence says the position).
 *   Writer, for an event (any thread, no lock):
 *   1. pos = fetch_add(head, 1), relaxed: the position is only a name; the
 *      entry's seq orders everything else. Entry: pos % count.
 *   2. Claim the entry: CAS its seq from an even value below 2*pos+1 (a
 *      finished event of an older lap, or 0: never written) to 2*pos+1,
 *      acquire. Acquire: it reads the previous writer's release of
 *      2*(pos-k*count)+2, so that writer's field stores are before ours in
 *      every field's order; without it, on arm64, our stores could be
 *      overwritten by that writer's older ones and the entry end up mixed
 *      under an even seq. When seq is odd (a writer of an older lap still
 *      writing: it was descheduled) or already past 2*pos+1 (a newer lap's
 *      writer overtook us while we were descheduled between 1 and 2), the
 *      event is given up and counted in events_lost: the host never waits
 *      on another thread, and a slot is never written by two threads.
 *   3. Release fence, then the fields as relaxed stores. The CAS's store
 *      is not ordered before later plain stores by its own acquire (on
 *      arm64 a stxr/cas may become visible after them): without the fence
 *      a reader could see new fields under the old, even seq, and take
 *      them for the old event. This is Linux's smp_wmb() in
 *      write_seqcount_begin().
 *   4. seq = 2*pos+2, release: the fields are before it.
 *   seq only grows: the CAS only ever raises it, step 4 raises it by one.
 *   So a seq read twice with the same value means no writer started on
 *   the entry in between (no ABA), and 2*pos+2 names exactly one event.
 *
 *   Reader: head (any order: it only picks which positions to expect),
 *   then for entry i the position p in [head - count, head) with
 *   p % count == i: seq (acquire, or a load then an acquire fence), the
 *   fields, an acquire fence (smp_rmb(): the field loads before the second
 *   seq load), seq again. Entry i is taken iff both seqs are 2*p+2. An odd
 *   seq is a write under way; an even one below is an older lap (claimed
 *   but not yet written: the event the head promised is not there yet);
 *   one above is a newer lap. Taking 2*p+2 twice: the first load saw step
 *   4, so the fields are at least that event's; a field of a later writer
 *   would come after its step 3 fence, and the acquire fence would then
 *   make the second seq load see its odd claim or later, never 2*p+2.
 *
 *   Width: seq is 64 bits. A 32-bit 2*pos+2 wraps after 2^31 events, and
 *   then "only grows" (which the claim's comparison and the reader's
 *   exactness rely on) fails: an old lap's seq can compare above a new
 *   one. 2^63 events at a billion a second take 292 years.
 *
 * Listener slot (Linux's seqcount; one writer at a time: the table lock):
 *   begin: seq += 1 (odd), then a release fence (smp_wmb()) before the
 *   field stores, for the same reason as step 3: the odd seq must be seen
 *   no later than any field. An acq_rel RMW on seq does not do it: its
 *   acquire half orders its load only, and its store half only the
 *   accesses before it. end: seq += 1 (even) with release.
 *   Reader: seq (acquire), the fields, an acquire fence, seq again: the
 *   copy is whole when both are the same even value.
 *   The description is written at listen (or adoption), when the kernel
 *   reports another backlog, and when a closed slot is reused (its live
 *   figures zeroed under the same seq, its state left READY). state goes
 *   to READY with release after the first description's end: a reader
 *   skips a slot that is not READY, and one that is has a whole row.
 *   Outside the seqlock, single relaxed stores the reader takes one by
 *   one: fd and fds (the descriptors naming the socket change with close
 *   and dup, which take no lock), flags' CLOSED and DEFER_ACCEPT bits
 *   (RMWs: a probe may set DEFER_ACCEPT while the table changes CLOSED;
 *   so every write of the flags, under the seqlock too, is an atomic
 *   or/and of the writer's own bits, never a store of the whole word),
 *   the drop count with its baseline and dates (drops_mono_ns last,
 *   release: aw_segment_write_drops), listen_stack, and stripe_ref (release:
 *   the stripe's own stores, made by aw_segment_write_new_stripe, are
 *   before a reader that follows the offset).
 *
 * Header. Filled before it is published: every field but the magic, then
 * (after the parent's rows and stacks, for a forked child) the magic with
 * release: a reader that sees the magic sees a complete header. After
 * that, counters as single relaxed stores or RMWs (listeners_lost, flags,
 * clock_mult, uid), and the three high-water marks with release after what
 * they cover: listeners_used after the new slot's generation,
 * stripes_used after the new stripe's generation, stacks_used after the
 * stack's fields (the reader trusts entries below each mark). Detaching:
 * detached_real_ns and detached_errno, then the DETACHED flag with a
 * release RMW, so that a reader that sees the flag sees why.
 *
 * Slot live figures (samples, queue_now, queue_peak, full_events with
 * full_mono_ns, drops_due,
 * sample_mono_ns, slow_events, slow_stack, last_slow_event and the two rate
 * limits): any thread, no lock, each field a relaxed atomic on its own.
 * Nothing relates two of them for a reader (each is a figure in itself),
 * so no order between them is needed; the rate limits are CASes so that
 * one thread per interval wins, and queue_peak a CAS loop that only
 * raises it. last_slow_event names a ring position the reader checks
 * against the entry's seq, so it needs no order with the ring either.
 *
 * Stripe figures. A stripe owned by a thread (owner = its tid) has that
 * thread as its only writer: plain loads and stores (no locked instruction:
 * an uncontended lock prefix still costs some twenty cycles, seven times per
 * accept), each 8-byte field aligned and stored whole, which is what a
 * reader in another process relies on; in_accept and last_accept_ticks
 * are relaxed atomic stores (the reader takes them one by one). The shared
 * stripe (owner -1) has several writers and takes relaxed atomic RMWs. No
 * order between fields: each is a count or a sum read on its own, a
 * histogram's sum and buckets may disagree by the accepts under way. The
 * functions take `shared` as a constant from their callers, so that each
 * inlines to one of the two. Claiming a stripe (table lock) sets owner,
 * slot and, for a stripe that counted for an older generation, zeroes its
 * figures and stores the new generation with release: a reader that sees
 * the generation sees the zeroes. A thread gives its stripe up (at exit)
 * by storing owner 0 with release: its last figures are before it, for
 * the next owner.
 *
 * Stacks. A stack is copied whole into the first unused entry (stacks
 * lock), hits set to 1, then stacks_used raised with release (above). A
 * published stack changes only in hits, a relaxed RMW.
 */
#ifndef AW_SEGMENT_WRITER_H
#define AW_SEGMENT_WRITER_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/* --- event ring ------------------------------------------------------------
 */

/*
 * An event ring: count entries, the header word that counts the positions
 * ever claimed, and the one that counts events given up. The segment's is
 * (event, AW_MAX_EVENTS, event_head, events_lost); a test may build a
 * smaller one anywhere.
 */
struct aw_ring {
	struct aw_event *entry;
	uint32_t count;
	uint64_t *head;
	uint64_t *lost;
};

/*
 * Claim the next position of r, into *pos, and write e there for the
 * listener slot given (e->seq and e->listener are ignored). Returns 1 when
 * the event is written (the reader's to see once this returns), 0 when it
 * was given up because another thread holds or overtook its entry (counted
 * in *r->lost). Lock-free, never waits for another thread.
 */
int aw_segment_write_ring(const struct aw_ring *r, uint32_t listener,
			  const struct aw_event *e, uint64_t *pos);

/* The same on the segment's own ring; returns the position (a reference to
 * it finds nothing when the event was given up). */
uint64_t aw_segment_write_event(struct aw_segment *s, uint32_t listener,
				const struct aw_event *e);

/* --- header --------------------------------------------------------------- */

/* Fill the header of a segment not yet published from h, all but the
 * magic (aw_segment_write_magic publishes it). */
void aw_segment_write_header(struct aw_segment *s,
			     const struct aw_seg_header *h);

/* Publish the header: the magic, with release, last. */
void aw_segment_write_magic(struct aw_segment *s);

/* A forked child's segment, before it is published: its parent's pid and
 * the slots it inherits (rows below used, those still open filled by
 * aw_segment_write_inherited). */
void aw_segment_write_lineage(struct aw_segment *s, int32_t parent_pid,
			      uint32_t used);

/* Slot i is taken for the first time, for generation gen. */
void aw_segment_write_new_slot(struct aw_segment *s, uint32_t i, uint32_t gen);

/* Stripe i is handed out for the first time, for generation gen. */
void aw_segment_write_new_stripe(struct aw_segment *s, uint32_t i,
				 uint32_t gen);

/* A listener could not be tracked: the table is full. */
void aw_segment_write_listener_lost(struct aw_segment *s);

/* Set flag (enum aw_seg_flags) in the header. */
void aw_segment_write_header_flag(struct aw_segment *s, uint32_t flag);

/* The clock's rate was measured again: its new multiplier. */
void aw_segment_write_clock_mult(struct aw_segment *s, uint64_t mult);

/* The segment's file was handed over to uid. */
void aw_segment_write_uid(struct aw_segment *s, uint32_t uid);

/* A private copy p of what shared memory backed of s: header, listener
 * table, ring, the stacks and stripes in use. */
void aw_segment_write_private_copy(struct aw_segment *p,
				   const struct aw_segment *s, uint32_t stacks,
				   uint32_t stripes);

/* s stopped being written at real_ns, shared memory failing with err. */
void aw_segment_write_detached(struct aw_segment *s, uint64_t real_ns,
			       int32_t err);

/* --- slot description (table lock) --------------------------------------- */

/*
 * Describe l from d: fd, family, dev, ino, address, the three backlogs,
 * somaxconn, flags and the listen times (the rest of d is not read); one
 * more listen call; then the slot READY. Of the flags, all but CLOSED are
 * set or cleared as d says (atomic or/and: close() may set CLOSED, and a
 * probe DEFER_ACCEPT, meanwhile).
 */
void aw_segment_write_description(struct aw_listener *l,
				  const struct aw_listener *d);

/* The kernel reports another effective backlog; clamped is AW_LF_CLAMPED
 * when the request was cut, else 0 (the only flag changed). */
void aw_segment_write_backlog(struct aw_listener *l, uint32_t effective,
			      uint32_t clamped);

/*
 * Slot slot of s starts over for generation gen (a closed slot reused):
 * its live figures zeroed, and its stripes' (ref[AW_STRIPES]: their
 * offsets, 0 none; bit k of owned: stripe k has an owner, both as the
 * table keeps them in process memory): those no thread owns restart for
 * gen; an owned one gets generation 0 (no slot's), which its owner's next
 * call sees, and restarts when it claims it again.
 */
void aw_segment_write_slot_reset(struct aw_segment *s, uint32_t slot,
				 uint32_t gen, const uint32_t *ref,
				 uint32_t owned);

/* A forked child's row dst from its parent's src: the description, the
 * generation and fds, flagged INHERITED, then READY. */
void aw_segment_write_inherited(struct aw_listener *dst,
				const struct aw_listener *src);

/* n descriptors name the socket now; rep, when not negative, is one. */
void aw_segment_write_fds(struct aw_listener *l, uint32_t n, int32_t rep);

/* Set or clear flag (enum aw_listener_flags) alone. */
void aw_segment_write_flag_set(struct aw_listener *l, uint32_t flag);
void aw_segment_write_flag_clear(struct aw_listener *l, uint32_t flag);

/* The socket's drop count, read at mono_ns: the process's baseline when
 * it is its first reading, else the date of a rise when above the last. */
void aw_segment_write_drops(struct aw_listener *l, uint64_t drops,
			    uint64_t mono_ns);

/* The stack that called listen(), as a ref (0 none). */
void aw_segment_write_listen_stack(struct aw_listener *l, uint32_t ref);

/* Stripe k of the slot is at offset ref. */
void aw_segment_write_stripe_ref(struct aw_listener *l, uint32_t k,
				 uint32_t ref);

/* --- slot live figures (any thread) --------------------------------------- */

/* Whether this thread takes the probe due at or before now: the listener's
 * next sample time moved interval past now. */
int aw_segment_write_sample_due(struct aw_listener *l, uint64_t now,
				uint64_t interval);

/* Count a probe; returns the count before it. */
uint64_t aw_segment_write_probe(struct aw_listener *l);

/* Take the drops-due mark; returns whether it was set. */
int aw_segment_write_take_drops_due(struct aw_listener *l);

/* A probe read depth (queue full past backlog) at mono_ns. */
void aw_segment_write_queue(struct aw_listener *l, uint32_t depth,
			    uint32_t backlog, uint64_t mono_ns);

/* Whether this thread reports a slow event now: the rate limit moved from
 * last (as read) to now. */
int aw_segment_write_slow_turn(struct aw_listener *l, uint64_t last,
			       uint64_t now);

/* A slow event on slot: counted, its stack (when e->stack) the slot's last
 * one, written to the ring, the slot's last event. */
void aw_segment_write_slow_event(struct aw_segment *s, uint32_t slot,
				 const struct aw_event *e);

/* --- stripe figures ------------------------------------------------------- */

/* Claim st for slot and generation gen, by thread tid (its own) or as the
 * shared one. Table lock. */
void aw_segment_write_stripe_claim(struct aw_stripe *st, uint32_t slot,
				   int32_t tid, int shared, uint32_t gen);

/* The owner gives st up (thread exit). */
void aw_segment_write_stripe_free(struct aw_stripe *st);

static inline __attribute__((always_inline)) void
aw_segment_write_add(uint64_t *p, uint64_t v, int shared)
{
	if (shared)
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
	else
		*p += v;
}

/* Rare: v is a new largest value of a shared histogram (several threads
 * may race to raise it). Out of line: the common path carries none of it. */
static __attribute__((noinline, cold, unused)) void
aw_segment_write_raise_max(struct aw_hist_head *h, uint64_t v)
{
	uint64_t max = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (v > max &&
	       !__atomic_compare_exchange_n(&h->max, &max, v, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Add v to the histogram with these buckets and this head (layout in
 * acceptwatch_abi.h; the summaries are the reader's, tools/histogram.h). */
static inline __attribute__((always_inline)) void
aw_segment_write_hist(uint64_t *bucket, struct aw_hist_head *h, uint64_t v,
		      int shared)
{
	aw_segment_write_add(&bucket[aw_hist_index(v)], 1, shared);
	aw_segment_write_add(&h->sum, v, shared);
	if (__builtin_expect(v <= __atomic_load_n(&h->max, __ATOMIC_RELAXED),
			     1))
		return;
	if (shared)
		aw_segment_write_raise_max(h, v);
	else
		h->max = v;
}

/*
 * The same for the common path's values, known to be in the histogram's
 * range (at most the slow threshold: accept_path.c), so with no clamp,
 * on a stripe the thread owns.
 */
static inline __attribute__((always_inline)) void
aw_segment_write_hist_in_range(uint64_t *bucket, struct aw_hist_head *h,
			       uint64_t v)
{
	bucket[aw_hist_index_in_range(v)]++;
	h->sum += v;
	if (__builtin_expect(v > h->max, 0))
		h->max = v;
}

/* A thread enters accept() on st: 1 on its own stripe, one more on the
 * shared one. */
static inline __attribute__((always_inline)) void
aw_segment_write_enter(struct aw_stripe *st, int shared)
{
	if (shared)
		__atomic_fetch_add(&st->in_accept, 1, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&st->in_accept, 1, __ATOMIC_RELAXED);
}

/* And leaves it: 0, or one less. */
static inline __attribute__((always_inline)) void
aw_segment_write_leave(struct aw_stripe *st, int shared)
{
	if (shared)
		__atomic_fetch_sub(&st->in_accept, 1, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&st->in_accept, 0, __ATOMIC_RELAXED);
}

/* A connection returned at t1 (ticks). */
static inline __attribute__((always_inline)) void
aw_segment_write_accept(struct aw_stripe *st, uint64_t t1, int shared)
{
	aw_segment_write_add(&st->accepts, 1, shared);
	__atomic_store_n(&st->last_accept_ticks, t1, __ATOMIC_RELAXED);
}

/* Time out of accept (ns), between accepts (ns), a connection's wait in
 * the queue (ms). */
static inline void aw_segment_write_away(struct aw_stripe *st, uint64_t ns,
					 int shared)
{
	aw_segment_write_hist(st->away_bucket, &st->away_ns, ns, shared);
}

static inline void aw_segment_write_gap(struct aw_stripe *st, uint64_t ns,
					int shared)
{
	aw_segment_write_hist(st->gap_bucket, &st->gap_ns, ns, shared);
}

static inline void aw_segment_write_queue_wait(struct aw_stripe *st,
					       uint64_t ms, int shared)
{
	aw_segment_write_hist(st->queue_wait_bucket, &st->queue_wait_ms, ms,
			      shared);
}

/* A call drained the queue (EAGAIN), or failed with an error of class c. */
static inline void aw_segment_write_drained(struct aw_stripe *st, int shared)
{
	aw_segment_write_add(&st->drained, 1, shared);
}

static inline void aw_segment_write_error(struct aw_stripe *st,
					  enum aw_err_class c, int shared)
{
	aw_segment_write_add(&st->errors[c], 1, shared);
}

/* The common path's time away and gap (ns, in range: no clamp) on a
 * stripe the thread owns; its connection is aw_segment_write_accept's. */
static inline __attribute__((always_inline)) void
aw_segment_write_away_in_range(struct aw_stripe *st, uint64_t ns)
{
	aw_segment_write_hist_in_range(st->away_bucket, &st->away_ns, ns);
}

static inline __attribute__((always_inline)) void
aw_segment_write_gap_in_range(struct aw_stripe *st, uint64_t ns)
{
	aw_segment_write_hist_in_range(st->gap_bucket, &st->gap_ns, ns);
}

/* --- stacks (stacks lock) ------------------------------------------------- */

/* Publish draft as stack idx (its pages backed), one hit. */
void aw_segment_write_stack(struct aw_segment *s, uint32_t idx,
			    const struct aw_stack *draft);

/* One more capture of stack ref (index + 1). */
void aw_segment_write_stack_hit(struct aw_segment *s, uint32_t ref);

/* A forked child's stacks: the parent's first used (backed), no hits. */
void aw_segment_write_inherited_stacks(struct aw_segment *to,
				       const struct aw_segment *from,
				       uint32_t used);

#endif
