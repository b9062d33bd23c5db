/*
 * Recording into the log-linear histograms of acceptwatch_abi.h: the shim's
 * side only. Lock-free (relaxed atomics) and safe from any thread; the
 * summaries (quantiles, merging) are the reader's, in tools/histogram.h.
 */
#ifndef AW_HIST_RECORD_H
#define AW_HIST_RECORD_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/* Rare: v is a new largest value (several threads may race to raise it).
 * Out of line, so that the common path carries none of its set-up. */
static __attribute__((noinline, cold, unused)) void
aw_hist_raise_max(struct aw_hist *h, uint64_t v)
{
	uint64_t max = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (v > max &&
	       !__atomic_compare_exchange_n(&h->max, &max, v, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Add one value: two relaxed atomic adds, and a CAS only when max rises. */
static inline void aw_hist_record(struct aw_hist *h, uint64_t v)
{
	__atomic_fetch_add(&h->bucket[aw_hist_index(v)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum, v, __ATOMIC_RELAXED);
	if (__builtin_expect(v > __atomic_load_n(&h->max, __ATOMIC_RELAXED), 0))
		aw_hist_raise_max(h, v);
}

#endif
