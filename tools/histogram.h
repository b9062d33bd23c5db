/*
 * The reader's side of the log-linear histograms (layout and bucket index in
 * acceptwatch_abi.h): bucket bounds, merging, counts and quantiles, on
 * histograms copied out of a segment. The shim only records
 * (shim/segment_writer.h).
 */
#ifndef AW_HISTOGRAM_H
#define AW_HISTOGRAM_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/* A whole histogram as the reader holds it: a stripe's buckets and head
 * copied out (or summed over stripes). */
struct aw_hist {
	uint64_t bucket[AW_HIST_BUCKETS];
	uint64_t sum; /* of recorded values, for means and Prometheus _sum */
	uint64_t max; /* exact largest value recorded */
};

/* Add one value to a histogram the caller owns alone (a copy, a test's). */
void aw_hist_add(struct aw_hist *h, uint64_t v);

/* Smallest value that lands in bucket i, and the bucket's width. */
uint64_t aw_hist_bucket_low(uint32_t i);
uint64_t aw_hist_bucket_width(uint32_t i);

/* dst += src, bucket by bucket. */
void aw_hist_merge(struct aw_hist *dst, const struct aw_hist *src);

/* dst += a histogram as a stripe keeps it: buckets here, sum and max in its
 * head on the stripe's first line. */
void aw_hist_merge_parts(struct aw_hist *dst, const uint64_t *bucket,
			 const struct aw_hist_head *head);

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
