/* Unit tests for the log-linear histogram: bucket bounds, relative error,
 * quantiles against known data, merging and saturation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "segment_writer.h"
#include "histogram.h"

#include <stdlib.h>
#include <string.h>

static void test_linear_range_is_exact(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < AW_HIST_LINEAR; v++) {
		assert_int_equal(aw_hist_index(v), v);
		assert_int_equal(aw_hist_bucket_low((uint32_t)v), v);
		assert_int_equal(aw_hist_bucket_width((uint32_t)v), 1);
	}
}

/* Every bucket holds exactly the values [low, low + width), contiguously. */
static void test_buckets_tile_the_range(void **state)
{
	(void)state;
	for (uint32_t i = 0; i + 1 < AW_HIST_BUCKETS; i++) {
		uint64_t low = aw_hist_bucket_low(i);
		uint64_t high = low + aw_hist_bucket_width(i) - 1;
		assert_int_equal(aw_hist_bucket_low(i + 1), high + 1);
		assert_int_equal(aw_hist_index(low), i);
		assert_int_equal(aw_hist_index(high), i);
	}
}

/* At most 1/8 of the lower bound wide, 1/15.75 from 1000 up (the ABI
 * header's promise). */
static void test_relative_width_bounded(void **state)
{
	(void)state;
	for (uint32_t i = AW_HIST_LINEAR; i < AW_HIST_BUCKETS; i++) {
		uint64_t low = aw_hist_bucket_low(i);
		double rel = (double)aw_hist_bucket_width(i) / (double)low;
		assert_true(rel <= 1.0 / 8 + 1e-12);
		if (low >= 1000)
			assert_true(rel <= 1.0 / 15.75 + 1e-12);
	}
}

static void test_saturates_past_range(void **state)
{
	(void)state;
	assert_int_equal(aw_hist_index(UINT64_MAX), AW_HIST_BUCKETS - 1);
	assert_int_equal(aw_hist_index((uint64_t)1 << 44), AW_HIST_BUCKETS - 1);
	assert_int_equal(aw_hist_index(AW_HIST_RANGE), AW_HIST_BUCKETS - 1);
	/* The last value in range is the last bucket's last. */
	uint32_t end = AW_HIST_BUCKETS - 1;
	assert_int_equal(aw_hist_index(AW_HIST_RANGE - 1), end);
	assert_int_equal(aw_hist_bucket_low(end) + aw_hist_bucket_width(end),
			 AW_HIST_RANGE);
	struct aw_hist *h = calloc(1, sizeof(*h));
	aw_hist_add(h, UINT64_MAX / 2);
	assert_int_equal(h->max, UINT64_MAX / 2);
	/* Past the range: the last bucket's midpoint, below the exact max. */
	uint32_t last = AW_HIST_BUCKETS - 1;
	assert_int_equal(aw_hist_quantile(h, 1.0),
			 aw_hist_bucket_low(last) +
			     aw_hist_bucket_width(last) / 2);
	free(h);
}

static void assert_close(uint64_t got, uint64_t want, double tol)
{
	double err = got > want ? (double)(got - want) : (double)(want - got);
	if (err > tol * (double)want)
		fail_msg("got %llu, want %llu (+-%.1f%%)",
			 (unsigned long long)got, (unsigned long long)want,
			 tol * 100);
}

/* 1..100000 ms in ns: every quantile is known exactly. */
static void test_quantiles_of_uniform_data(void **state)
{
	(void)state;
	struct aw_hist *h = calloc(1, sizeof(*h));
	const uint64_t n = 100000, unit = 1000000;
	for (uint64_t i = 1; i <= n; i++)
		aw_hist_add(h, i * unit);
	assert_int_equal(aw_hist_count(h), n);
	assert_int_equal(h->max, n * unit);
	assert_int_equal(h->sum, n * (n + 1) / 2 * unit);
	assert_close(aw_hist_quantile(h, 0.5), 50000 * unit, 0.033);
	assert_close(aw_hist_quantile(h, 0.99), 99000 * unit, 0.033);
	assert_close(aw_hist_quantile(h, 0.001), 100 * unit, 0.033);
	assert_int_equal(aw_hist_quantile(h, 1.0), n * unit);
	free(h);
}

static void test_quantile_never_exceeds_max(void **state)
{
	(void)state;
	struct aw_hist *h = calloc(1, sizeof(*h));
	aw_hist_add(h, 980); /* bucket [976, 1008): midpoint 992 */
	assert_int_equal(aw_hist_quantile(h, 0.5), 980);
	aw_hist_add(h, 1000);
	assert_int_equal(aw_hist_quantile(h, 0.5), 992);
	free(h);
}

/* The shim's two writers, the common path's (no clamp, plain stores) and
 * the general one, land each value in the bucket the reader reads it from,
 * with the same sum, over the whole range. */
static void record_both_ways(uint64_t v)
{
	static uint64_t a[AW_HIST_BUCKETS], b[AW_HIST_BUCKETS];
	struct aw_hist_head ha = {0, 0}, hb = {0, 0};
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	aw_segment_write_hist(a, &ha, v, 0);
	aw_segment_write_hist_in_range(b, &hb, v);
	assert_int_equal(a[aw_hist_index(v)], 1);
	assert_int_equal(b[aw_hist_index(v)], 1);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(ha.sum, v);
	assert_int_equal(hb.sum, v);
	assert_int_equal(hb.max, v);
}

static void test_common_path_index_agrees(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 70000; v++)
		record_both_ways(v);
	for (uint32_t e = 17; e < 44; e++) {
		uint64_t p = ((uint64_t)1 << e) - AW_HIST_LINEAR;
		record_both_ways(p - 1);
		record_both_ways(p);
		record_both_ways(p + (p >> 4));
		record_both_ways(p + (p >> 4) - 1);
	}
	record_both_ways(AW_HIST_RANGE - 1);
}

static void test_empty(void **state)
{
	(void)state;
	struct aw_hist *h = calloc(1, sizeof(*h));
	assert_int_equal(aw_hist_count(h), 0);
	assert_int_equal(aw_hist_quantile(h, 0.99), 0);
	free(h);
}

static void test_merge_adds(void **state)
{
	(void)state;
	struct aw_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	for (int i = 0; i < 10; i++)
		aw_hist_add(a, 200);
	aw_hist_add(b, 5000000);
	aw_hist_merge(a, b);
	assert_int_equal(aw_hist_count(a), 11);
	assert_int_equal(a->max, 5000000);
	assert_int_equal(a->sum, 10 * 200 + 5000000);
	assert_close(aw_hist_quantile(a, 0.5), 200, 0.033);
	free(a);
	free(b);
}

static void test_count_le_whole_buckets(void **state)
{
	(void)state;
	struct aw_hist *h = calloc(1, sizeof(*h));
	aw_hist_add(h, 5);
	aw_hist_add(h, 100);
	aw_hist_add(h, 1000000);
	assert_int_equal(aw_hist_count_le(h, 4), 0);
	assert_int_equal(aw_hist_count_le(h, 5), 1);
	assert_int_equal(aw_hist_count_le(h, 1000), 2);
	assert_int_equal(aw_hist_count_le(h, 10000000), 3);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linear_range_is_exact),
	    cmocka_unit_test(test_buckets_tile_the_range),
	    cmocka_unit_test(test_relative_width_bounded),
	    cmocka_unit_test(test_saturates_past_range),
	    cmocka_unit_test(test_quantiles_of_uniform_data),
	    cmocka_unit_test(test_quantile_never_exceeds_max),
	    cmocka_unit_test(test_common_path_index_agrees),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_merge_adds),
	    cmocka_unit_test(test_count_le_whole_buckets),
	};
	return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
