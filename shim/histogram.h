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
 * shift and one add.
 */
static inline uint32_t aw_hist_index(uint64_t v)
{
	if (v < AW_HIST_SUB)
		return (uint32_t)v;
	uint32_t exp = 63u - (uint32_t)__builtin_clzll(v);
	if (__builtin_expect(exp > AW_HIST_MAX_EXP, 0))
		return AW_HIST_BUCKETS - 1u;
	return ((exp - 4u) << 4) + (uint32_t)(v >> (exp - 4u));
}

/* Add one value. Two relaxed atomic adds; max costs a CAS only when raised. */
static inline void aw_hist_record(struct aw_hist *h, uint64_t v)
{
	__atomic_fetch_add(&h->bucket[aw_hist_index(v)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum, v, __ATOMIC_RELAXED);
	uint64_t max = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (v > max &&
	       !__atomic_compare_exchange_n(&h->max, &max, v, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
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
