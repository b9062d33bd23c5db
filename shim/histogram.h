/*
 * Log-linear histograms over struct aw_hist (layout in acceptwatch_abi.h).
 * Recording is lock-free (relaxed atomics) and safe from any thread; the
 * summary side is for the reader and for tests.
 */
#ifndef AW_HISTOGRAM_H
#define AW_HISTOGRAM_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/*
 * Bucket index of v; values past the range map to the last bucket. For
 * v >= 16, v >> (exp - 4) is 16 + the sub-bucket, so the index of the
 * layout in acceptwatch_abi.h (32 + (exp - 5) * 16 + sub) folds into one
 * shift and one add. Or-ing in 16 sends every v below 32 through the
 * exp = 4 case, where the shift is 0 and the index is v itself: one formula
 * for all v, no branch on the hot path.
 */
_Static_assert(AW_HIST_SUB == 16u && AW_HIST_LINEAR == 32u,
	       "aw_hist_index folds in 16 sub-buckets and 32 linear ones");

static inline uint32_t aw_hist_index(uint64_t v)
{
	uint32_t shift = 59u - (uint32_t)__builtin_clzll(v | AW_HIST_SUB);
	uint32_t i = (shift << 4) + (uint32_t)(v >> shift);
	if (__builtin_expect(i >= AW_HIST_BUCKETS, 0))
		i = AW_HIST_BUCKETS - 1u;
	return i;
}

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

/* Smallest value that lands in bucket i, and the bucket's width. */
uint64_t aw_hist_bucket_low(uint32_t i);
uint64_t aw_hist_bucket_width(uint32_t i);

/* dst += src, bucket by bucket (src read with relaxed loads). */
void aw_hist_merge(struct aw_hist *dst, const struct aw_hist *src);

/* Values recorded in h. */
uint64_t aw_hist_count(const struct aw_hist *h);

/*
 * The q-quantile (0 < q <= 1) of h: the midpoint of the bucket holding the
 * ceil(q * count)-th smallest value, never above the exact max. 0 when h is
 * empty.
 */
uint64_t aw_hist_quantile(const struct aw_hist *h, double q);

/* How many recorded values are <= v, counting whole buckets only: for
 * cumulative (Prometheus) buckets at bucket boundaries. */
uint64_t aw_hist_count_le(const struct aw_hist *h, uint64_t v);

#endif
