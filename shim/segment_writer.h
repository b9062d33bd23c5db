/*
 * The segment's writer: every store a reader must see whole goes through
 * here. For now: the slow-event ring and the seqlock over a listener slot's
 * descriptive fields.
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
 */
#ifndef AW_SEGMENT_WRITER_H
#define AW_SEGMENT_WRITER_H

#include "acceptwatch_abi.h"

#include <stdint.h>

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

/* Seqlock writer side for a listener's descriptive fields. Writers are
 * serialised by the table lock (listener_table.h). */
void aw_segment_write_begin(struct aw_listener *l);
void aw_segment_write_end(struct aw_listener *l);

#endif
