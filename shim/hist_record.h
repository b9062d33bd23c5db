/*
 * Recording into a stripe's counters and log-linear histograms (layout in
 * acceptwatch_abi.h): the shim's side only; the summaries (quantiles,
 * merging) are the reader's, in tools/histogram.h.
 *
 * Two ways to write, chosen by the caller with a constant so each inlines
 * to one: a stripe its thread owns has that thread as its only writer, and
 * is written with plain loads and stores (no locked instruction: an
 * uncontended lock prefix still costs some twenty cycles, seven times per
 * accept); the shared stripe has several writers and takes relaxed atomic
 * read-modify-writes. Each 8-byte field is aligned and stored whole either
 * way, which is what a reader in another process relies on.
 */
#ifndef AW_HIST_RECORD_H
#define AW_HIST_RECORD_H

#include "acceptwatch_abi.h"

#include <stdint.h>

static inline void aw_stripe_add(uint64_t *p, uint64_t v, int shared)
{
	if (shared)
		__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
	else
		*p += v;
}

/* Rare: v is a new largest value of a shared histogram (several threads
 * may race to raise it). Out of line: the common path carries none of it. */
static __attribute__((noinline, cold, unused)) void
aw_hist_raise_max(struct aw_hist_head *h, uint64_t v)
{
	uint64_t max = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (v > max &&
	       !__atomic_compare_exchange_n(&h->max, &max, v, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Add v to the histogram with these buckets and this head. */
static inline void aw_hist_record(uint64_t *bucket, struct aw_hist_head *h,
				  uint64_t v, int shared)
{
	aw_stripe_add(&bucket[aw_hist_index(v)], 1, shared);
	aw_stripe_add(&h->sum, v, shared);
	if (__builtin_expect(v <= __atomic_load_n(&h->max, __ATOMIC_RELAXED),
			     1))
		return;
	if (shared)
		aw_hist_raise_max(h, v);
	else
		h->max = v;
}

/*
 * The same for the common path's values, known to be in the histogram's
 * range (at most the slow threshold: accept_path.c), so with no clamp,
 * on a stripe the thread owns. The index is aw_hist_index_in_range's, as
 * (msb << 4) + (v >> (msb - 4)) - 64 with the - 64 folded into the
 * address: three instructions fewer than the formula as written there.
 */
static inline void aw_hist_record_in_range(uint64_t *bucket,
					   struct aw_hist_head *h, uint64_t v)
{
	uint64_t msb = 63u - (uint64_t)__builtin_clzll(v | AW_HIST_SUB);
	bucket[(msb << 4) + (v >> (msb - 4)) - 64]++;
	h->sum += v;
	if (__builtin_expect(v > h->max, 0))
		h->max = v;
}

#endif
