/*
 * report_text(): a socket held by several processes (pre-fork workers)
 * gets one block, its processes on one line with their accepts, and a
 * process with nothing else to say gets none; where the processes' figures
 * differ (a reload changed the backlog: old workers keep the old one) each
 * version is said once with its pids; processes whose own blocks read the
 * same share one ("pids 42 43"); per_process keeps a block per process and
 * the socket's total.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_fixture.h"

static struct model_listener L[4];
static struct model_process P[3];
static struct report R;

static char *render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_text(f, &R);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *s = text; (s = strstr(s, what)); s += strlen(what))
		n++;
	return n;
}

/* Three workers of one socket (dev 1, ino 99), quiet, 10 accepts each. */
static void setup_workers(void)
{
	report_fixture_quiet(&R, P, L, 3);
	for (int i = 0; i < 3; i++) {
		L[i].fd = 6;
		snprintf(L[i].address, sizeof(L[i].address), "0.0.0.0:80");
		snprintf(P[i].comm, sizeof(P[i].comm), "nginx");
		P[i].header.somaxconn = 4096;
		L[i].consistent = 1;
		L[i].accepts = 10 + (uint64_t)i;
	}
}

static void test_one_block(void **state)
{
	(void)state;
	setup_workers();
	char *t = render();

	assert_int_equal(
	    count(t, "\nsocket ") + (strncmp(t, "socket ", 7) == 0), 1);
	assert_int_equal(count(t, "pid 4"), 0);
	assert_non_null(strstr(
	    t, "  3 processes (nginx), pid:accepts  42:10  43:11  44:12\n"));
	assert_non_null(strstr(t, "    accepts 33  "));
	assert_int_equal(count(t, "backlog requested 16 effective 16\n"), 1);
	free(t);
}

static void test_reload_backlogs(void **state)
{
	(void)state;
	setup_workers();
	/* 44 is a new worker: the socket's backlog was raised to 511. */
	L[2].requested_backlog = L[2].passed_backlog = 511;
	L[2].effective_backlog = 511;
	char *t = render();

	assert_non_null(
	    strstr(t, "    backlog requested 16 effective 16 (pids 42 43)\n"));
	assert_non_null(
	    strstr(t, "    backlog requested 511 effective 511 (pid 44)\n"));
	free(t);
}

static void test_queue_never_contradicts(void **state)
{
	(void)state;
	setup_workers();
	L[0].live.queue_now = 17;
	L[1].queue_peak = 13;
	char *t = render();

	assert_non_null(strstr(t, "    queue now 17  peak 17  "));
	free(t);
}

/* A process with a listener of its own keeps its block; the shared one
 * is a line pointing to the socket's block. */
static void test_own_listener(void **state)
{
	(void)state;
	setup_workers();
	L[3] = L[2];
	L[3].ino = 500;
	snprintf(L[3].address, sizeof(L[3].address), "0.0.0.0:81");
	L[3].fd = 7;
	P[2].listener = &L[2]; /* L[2], L[3]: adjacent */
	P[2].n_listeners = 2;
	char *t = render();

	assert_non_null(strstr(t, "pid 44 (nginx)  somaxconn 4096"));
	assert_non_null(strstr(
	    t, "  fd 6  0.0.0.0:80  (shared: socket 0.0.0.0:80 below)\n"));
	assert_non_null(strstr(t, "  fd 7  0.0.0.0:81\n"));
	assert_non_null(strstr(t, "  3 processes (nginx), pid:accepts"));
	free(t);
}

/* Workers whose stderr went to a log file say so the same way: one block
 * for them all. */
static void test_same_blocks_share(void **state)
{
	(void)state;
	setup_workers();
	for (int i = 0; i < 3; i++)
		P[i].header.flags |= AW_SF_LOG_FD2_CHANGED;
	char *t = render();

	assert_non_null(strstr(t, "pids 42 43 44 (nginx)  somaxconn 4096"));
	assert_int_equal(count(t, "log: silent"), 1);
	free(t);
}

static void test_per_process(void **state)
{
	(void)state;
	setup_workers();
	R.per_process = 1;
	char *t = render();

	assert_int_equal(count(t, "pid 4"), 3);
	assert_non_null(strstr(t, "\ntotal 0.0.0.0:80  (ino 99, 3 processes: "
				  "42 43 44)\n"));
	assert_null(strstr(t, "\nsocket 0.0.0.0:80"));
	free(t);
}

/* An event loop's workers: their time out of accept() is said as time
 * between accepts in the socket's block and in the totals, never away. */
static void test_event_loop_not_away(void **state)
{
	(void)state;
	for (int per_process = 0; per_process <= 1; per_process++) {
		setup_workers();
		R.per_process = per_process;
		for (int i = 0; i < 3; i++) {
			L[i].flags |= AW_LF_EVENT_LOOP;
			aw_hist_add(&L[i].away_ns, 310000000);
		}
		char *t = render();
		assert_null(strstr(t, "    away "));
		assert_non_null(strstr(t, "between accepts (event loop)"));
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_block),
	    cmocka_unit_test(test_reload_backlogs),
	    cmocka_unit_test(test_queue_never_contradicts),
	    cmocka_unit_test(test_own_listener),
	    cmocka_unit_test(test_same_blocks_share),
	    cmocka_unit_test(test_per_process),
	    cmocka_unit_test(test_event_loop_not_away),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
