/*
 * The verdict window on hand-made snapshots (verdict.c) and the memory of
 * when trouble last rose (recent.c): a listener whose overflow evidence is
 * at the latest at its last probe, older than the window, is OK with the
 * overflow as history; the same evidence within the window, the queue past
 * its backlog now, or the kernel's socket drops past the shim's last probe
 * make it OVERFLOWING; with no window all history counts. The memory keeps
 * the bound of the reading where a counter last moved, and a state file
 * round-trips and refuses what is not one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recent.h"
#include "verdict_fixture.h"

static struct model_process P;
static struct model_listener L;

/* A quiet listener: backlog 16, 3 probes saw it full, 40 socket drops,
 * last probed `probed_ago` before now, the kernel agreeing on the drops. */
static void setup(uint64_t probed_ago)
{
	verdict_fixture(&P, &L);
	L.queue_peak = 17;
	L.full_events = 3;
	L.drops = 40;
	L.live.drops = 40;
	L.sample_mono_ns = NOW - probed_ago;
	L.last_accept_mono_ns = NOW - probed_ago;
}

static unsigned mask(uint64_t recent_ns, uint64_t remembered)
{
	struct verdict_window w;

	memset(&w, 0, sizeof(w));
	w.recent_ns = recent_ns;
	w.overflow_last_ns = remembered;
	w.peak_last_ns = remembered;
	return verdict_mask(&P, &L, &w);
}

#define OVER (1u << VERDICT_OVERFLOWING)
#define SMALL (1u << VERDICT_BACKLOG_SMALL)

static void test_quiet_past_window(void **state)
{
	struct verdict_window w;
	struct verdict h[VERDICT_KINDS];
	(void)state;

	setup(400 * S);
	assert_int_equal(mask(WINDOW, 0), 0);
	/* No window: the whole history, as before. */
	assert_int_equal(mask(0, 0), OVER | SMALL);
	assert_int_equal(verdict_mask(&P, &L, NULL), OVER | SMALL);
	/* The history is told. */
	memset(&w, 0, sizeof(w));
	w.recent_ns = WINDOW;
	int n = verdict_assess_history(&P, &L, &w, h);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].kind, VERDICT_OVERFLOWING);
	assert_non_null(strstr(h[0].evidence, "last rose 6m40s ago or earlier, "
					      "before the 5m00s window"));
	assert_non_null(strstr(h[0].evidence, "40 socket drops"));
}

static void test_within_window(void **state)
{
	(void)state;

	setup(10 * S);
	assert_int_equal(mask(WINDOW, 0), OVER | SMALL);
	/* Remembered older than the window: it rose before an earlier
	 * reading that is itself past the window. */
	assert_int_equal(mask(WINDOW, NOW - 301 * S), 0);
	assert_int_equal(mask(WINDOW, NOW - 299 * S), OVER | SMALL);
}

static void test_now_evidence(void **state)
{
	(void)state;

	/* The kernel counted drops after the shim's last probe: now, when
	 * nothing earlier is remembered (a memory would date them at or
	 * after the probe: its reading saw them). */
	setup(400 * S);
	L.live.drops = 41;
	assert_int_equal(mask(WINDOW, 0) & OVER, OVER);
	/* The queue past its backlog now, whatever was remembered. */
	setup(400 * S);
	L.live.queue_now = 17;
	assert_int_equal(mask(WINDOW, NOW - 900 * S), OVER | SMALL);
	/* With TCP_DEFER_ACCEPT, drops alone are no overflow. */
	setup(10 * S);
	L.full_events = 0;
	L.queue_peak = 3;
	L.flags = AW_LF_DEFER_ACCEPT;
	assert_int_equal(mask(WINDOW, 0), 0);
}

static void test_defer_unknown(void **state)
{
	struct verdict_window w;
	(void)state;

	/* TCP_DEFER_ACCEPT could not be read (a sampled listener of another
	 * uid): drops during the window, with the queue never seen full,
	 * are no overflow; the queue seen full during it still is. */
	setup(0);
	L.full_events = 0;
	L.queue_peak = 3;
	L.live.drops = 44;
	memset(&w, 0, sizeof(w));
	w.have = 1;
	w.drops = 4;
	assert_int_equal(verdict_mask(&P, &L, &w) & OVER, OVER);
	w.defer_unknown = 1;
	assert_int_equal(verdict_mask(&P, &L, &w) & OVER, 0);
	w.full_events = 1;
	L.full_events = 1;
	assert_int_equal(verdict_mask(&P, &L, &w) & OVER, OVER);
}

static void test_memory(void **state)
{
	struct recent_table t;
	struct report r;
	struct verdict_window w;
	(void)state;

	recent_init(&t);
	memset(&r, 0, sizeof(r));
	r.proc = &P;
	r.n_proc = 1;
	/* First reading: probes fresh, the bound is the last probe. */
	setup(1 * S);
	assert_int_equal(recent_update(&t, &r), 0);
	memset(&w, 0, sizeof(w));
	recent_apply(&t, &P, &L, &w);
	assert_int_equal(w.overflow_last_ns, NOW - 1 * S);
	/* 400 s later, probes still fresh, counters unchanged: the earlier
	 * bound stands, past the window. */
	P.now_mono_ns = NOW + 400 * S;
	L.sample_mono_ns = NOW + 399 * S;
	assert_int_equal(recent_update(&t, &r), 0);
	recent_apply(&t, &P, &L, &w);
	assert_int_equal(w.overflow_last_ns, NOW - 1 * S);
	w.recent_ns = WINDOW;
	assert_int_equal(verdict_mask(&P, &L, &w) & OVER, 0);
	/* The counters move: the new reading's bound. */
	L.full_events = 4;
	assert_int_equal(recent_update(&t, &r), 0);
	recent_apply(&t, &P, &L, &w);
	assert_int_equal(w.overflow_last_ns, NOW + 399 * S);
	assert_int_equal(verdict_mask(&P, &L, &w) & OVER, OVER);

	/* A state file round-trips. */
	char path[] = "/tmp/aw-recent-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[512];
	assert_int_equal(recent_save(&t, path, NOW + 400 * S, err, sizeof(err)),
			 0);
	struct recent_table u;
	recent_init(&u);
	assert_int_equal(recent_load(&u, path, err, sizeof(err)), 0);
	assert_int_equal(u.n, 1);
	assert_memory_equal(&u.e[0], &t.e[0], sizeof(u.e[0]));
	recent_free(&u);
	/* Not a state file: refused. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("something else\n", f);
	fclose(f);
	recent_init(&u);
	assert_int_equal(recent_load(&u, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an acceptwatch state file"));
	recent_free(&u);
	/* Missing: an empty memory. */
	unlink(path);
	assert_int_equal(recent_load(&u, path, err, sizeof(err)), 0);
	assert_int_equal(u.n, 0);
	recent_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quiet_past_window),
	    cmocka_unit_test(test_within_window),
	    cmocka_unit_test(test_now_evidence),
	    cmocka_unit_test(test_defer_unknown),
	    cmocka_unit_test(test_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
