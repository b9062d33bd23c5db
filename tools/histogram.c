/*
 * Summaries of log-linear histograms: bucket bounds, merging, quantiles.
 * The reader's; the shim itself only records (shim/segment_writer.h).
 */
#include "histogram.h"

#include <math.h>

void aw_hist_add(struct aw_hist *h, uint64_t v)
{
	h->bucket[aw_hist_index(v)]++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/* The layout of acceptwatch_abi.h: bucket i >= AW_HIST_LINEAR is a 16th of
 * the power of two 2^exp that v + AW_HIST_LINEAR falls in. */
static uint32_t bucket_exp(uint32_t i)
{
	return (i - AW_HIST_LINEAR) / AW_HIST_SUB + AW_HIST_MIN_EXP;
}

uint64_t aw_hist_bucket_low(uint32_t i)
{
	if (i < AW_HIST_LINEAR)
		return i;
	uint32_t sub = (i - AW_HIST_LINEAR) % AW_HIST_SUB;
	return ((uint64_t)(AW_HIST_SUB + sub) << (bucket_exp(i) - 4u)) -
	       AW_HIST_LINEAR;
}

uint64_t aw_hist_bucket_width(uint32_t i)
{
	if (i < AW_HIST_LINEAR)
		return 1;
	return (uint64_t)1 << (bucket_exp(i) - 4u);
}

void aw_hist_merge_parts(struct aw_hist *dst, const uint64_t *bucket,
			 const struct aw_hist_head *head)
{
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++)
		dst->bucket[i] += bucket[i];
	dst->sum += head->sum;
	if (head->max > dst->max)
		dst->max = head->max;
}

void aw_hist_merge(struct aw_hist *dst, const struct aw_hist *src)
{
	struct aw_hist_head head = {.sum = src->sum, .max = src->max};
	aw_hist_merge_parts(dst, src->bucket, &head);
}

uint64_t aw_hist_count(const struct aw_hist *h)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++)
		n += h->bucket[i];
	return n;
}

uint64_t aw_hist_quantile(const struct aw_hist *h, double q)
{
	uint64_t total = aw_hist_count(h);
	if (total == 0)
		return 0;
	if (q > 1.0)
		q = 1.0;
	uint64_t rank = (uint64_t)ceil(q * (double)total);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		uint64_t mid =
		    aw_hist_bucket_low(i) + aw_hist_bucket_width(i) / 2;
		return mid < h->max ? mid : h->max;
	}
	return h->max;
}

uint64_t aw_hist_count_le(const struct aw_hist *h, uint64_t v)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++) {
		uint64_t high =
		    aw_hist_bucket_low(i) + aw_hist_bucket_width(i) - 1;
		if (i == AW_HIST_BUCKETS - 1 || high > v)
			break;
		n += h->bucket[i];
	}
	return n;
}
