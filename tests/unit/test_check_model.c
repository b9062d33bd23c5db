/*
 * check's model on hand-made readings (check_model.c): each listener's
 * window is the difference from the same listener of the same process in
 * the reading before (a restarted process, a reused slot or no reading
 * before give an empty one), the namespace counters' rise joins it only
 * when both readings have them, and the counts the summary and exit status
 * follow (problems, incomplete processes, verdicts by kind) match the
 * rows' verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check_model.h"
#include "report_fixture.h"

/* Two readings of up to two processes of one listener each. */
struct side {
	struct model_process proc[2];
	struct model_listener listener[2];
	struct netstat_listen ns[2];
	int ns_ok[2];
	struct check_reading reading;
};

static struct side A, B;
static struct recent_table mem;

/* Process i of side s: the fixture's (pid 42 + i), quiet. */
static void add_proc(struct side *s, size_t i)
{
	report_fixture_proc(&s->proc[i], &s->listener[i], i);
	s->ns_ok[i] = 1;
	s->reading.r = (struct report){.proc = s->proc, .n_proc = i + 1};
	s->reading.ns = s->ns;
	s->reading.ns_ok = s->ns_ok;
}

static int setup(void **state)
{
	(void)state;
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	add_proc(&A, 0);
	add_proc(&B, 0);
	/* Ten seconds later: 20 more accepts, 4 more overflows. */
	B.proc[0].now_mono_ns += 10 * S;
	B.listener[0].accepts += 20;
	A.ns[0] = (struct netstat_listen){.overflows = 5, .drops = 7};
	B.ns[0] = (struct netstat_listen){.overflows = 9, .drops = 7};
	recent_init(&mem);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	recent_free(&mem);
	return 0;
}

static void build(struct check_model *m, const struct check_reading *a)
{
	assert_int_equal(
	    check_model_build(m, a, &B.reading, &mem, 10 * S, WINDOW, NULL), 0);
}

static void test_window_between_readings(void **state)
{
	struct check_model m;
	(void)state;

	build(&m, &A.reading);
	assert_int_equal(m.n_rows, 1);
	assert_ptr_equal(m.row[0].l, &B.listener[0]);
	const struct verdict_window *w = &m.row[0].w;
	assert_true(w->have);
	assert_int_equal(w->ns, 10 * S);
	assert_int_equal(w->accepts, 20);
	assert_true(w->have_netstat);
	assert_int_equal(w->listen_overflows, 4);
	assert_int_equal(w->listen_drops, 0);
	assert_int_equal(w->recent_ns, WINDOW);
	assert_int_equal(m.problems, 0);
	assert_int_equal(m.incomplete, 0);
	check_model_free(&m);
}

/* A counter that went down (a namespace reset) rises by nothing; one
 * reading without the counters gives none. */
static void test_netstat_needs_both(void **state)
{
	struct check_model m;
	(void)state;

	B.ns[0].overflows = 1;
	build(&m, &A.reading);
	assert_true(m.row[0].w.have_netstat);
	assert_int_equal(m.row[0].w.listen_overflows, 0);
	check_model_free(&m);

	A.ns_ok[0] = 0;
	build(&m, &A.reading);
	assert_true(m.row[0].w.have);
	assert_false(m.row[0].w.have_netstat);
	check_model_free(&m);
}

/* No reading before, the same pid started anew, the slot now another
 * socket: no window, never a difference with something else. */
static void test_no_window_without_the_same_listener(void **state)
{
	struct check_model m;
	(void)state;

	build(&m, NULL);
	assert_false(m.row[0].w.have);
	assert_int_equal(m.row[0].w.accepts, 0);
	check_model_free(&m);

	A.proc[0].header.pid_start_ticks = 6;
	build(&m, &A.reading);
	assert_false(m.row[0].w.have);
	check_model_free(&m);

	A.proc[0].header.pid_start_ticks = B.proc[0].header.pid_start_ticks;
	A.listener[0].ino = 98;
	build(&m, &A.reading);
	assert_false(m.row[0].w.have);
	assert_false(m.row[0].w.have_netstat);
	check_model_free(&m);
}

/* Two processes: one whose queue is past its backlog now (overflowing,
 * and its backlog small), one that lost a listener (table full). */
static void test_counts_follow_the_rows(void **state)
{
	struct check_model m;
	(void)state;

	add_proc(&B, 1);
	B.listener[0].live.queue_now = 17;
	B.proc[1].header.listeners_lost = 1;
	build(&m, &A.reading);
	assert_int_equal(m.n_rows, 2);
	assert_ptr_equal(m.row[0].p, &B.proc[0]);
	assert_ptr_equal(m.row[1].p, &B.proc[1]);
	/* The second process was not in the reading before. */
	assert_true(m.row[0].w.have);
	assert_false(m.row[1].w.have);
	assert_int_equal(m.row[0].n, 2);
	assert_int_equal(m.row[0].v[0].kind, VERDICT_OVERFLOWING);
	assert_int_equal(m.row[1].n, 0);
	assert_int_equal(m.problems, 1);
	assert_int_equal(m.incomplete, 1);
	assert_int_equal(m.verdicts[VERDICT_OVERFLOWING], 1);
	assert_int_equal(m.verdicts[VERDICT_BACKLOG_SMALL], 1);
	assert_int_equal(m.verdicts[VERDICT_SLOW], 0);
	check_model_free(&m);
	assert_int_equal(m.n_rows, 0);
}

/* Evidence older than the window is history: a row with no verdict now
 * and its earlier ones apart, counted in no problem. */
static void test_history_is_no_problem(void **state)
{
	struct check_model m;
	(void)state;

	B.listener[0].queue_peak = 17;
	B.listener[0].full_events = 3;
	B.listener[0].sample_mono_ns = B.proc[0].now_mono_ns - 400 * S;
	B.listener[0].last_accept_mono_ns = B.listener[0].sample_mono_ns;
	A.listener[0] = B.listener[0];
	A.listener[0].accepts -= 20;
	build(&m, &A.reading);
	assert_int_equal(m.row[0].n, 0);
	assert_true(m.row[0].nh > 0);
	assert_int_equal(m.row[0].h[0].kind, VERDICT_OVERFLOWING);
	assert_int_equal(m.problems, 0);
	assert_int_equal(m.verdicts[VERDICT_OVERFLOWING], 0);
	check_model_free(&m);
}

/* The status: OK, WARNING for CLAMPED, CRITICAL for a queue past its
 * backlog (it outranks the lost listener's UNKNOWN), UNKNOWN for the lost
 * listener alone, for nothing read, and for an unreadable segment. */
static void test_status(void **state)
{
	struct check_model m;
	(void)state;

	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_OK);
	assert_null(m.unknown_why);
	check_model_free(&m);

	B.listener[0].flags |= AW_LF_CLAMPED;
	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_WARNING);
	check_model_free(&m);

	add_proc(&B, 1);
	B.proc[1].header.listeners_lost = 1;
	B.listener[0].flags &= ~AW_LF_CLAMPED;
	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_UNKNOWN);
	assert_string_equal(m.unknown_why, "some listeners not tracked");
	check_model_free(&m);

	B.listener[0].live.queue_now = 17;
	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_CRITICAL);
	check_model_free(&m);

	B.reading.r.n_proc = 0;
	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_UNKNOWN);
	assert_string_equal(m.unknown_why, "no listener under acceptwatch");
	check_model_free(&m);
	B.reading.r.n_unreadable = 1;
	build(&m, &A.reading);
	assert_string_equal(m.unknown_why, "no segment readable");
	check_model_free(&m);
	B.reading.r.n_unreadable = 0;
	B.reading.r.n_proc = 1;
	B.listener[0].live.queue_now = 0;
	B.reading.incomplete = 1;
	build(&m, &A.reading);
	assert_int_equal(m.status, CHECK_UNKNOWN);
	check_model_free(&m);
}

/* --ignore KIND[@ADDR]: the verdict is kept apart as accepted, no longer
 * a problem nor the status; for another address it still is. */
static void test_ignore(void **state)
{
	struct check_ignores ign;
	struct check_model m;
	char err[256];
	(void)state;

	memset(&ign, 0, sizeof(ign));
	snprintf(B.listener[0].address, sizeof(B.listener[0].address),
		 "0.0.0.0:80");
	B.listener[0].flags |= AW_LF_CLAMPED;
	assert_int_equal(
	    check_ignore_parse(&ign, "clamped@0.0.0.0:81", err, sizeof(err)),
	    0);
	assert_int_equal(check_model_build(&m, &A.reading, &B.reading, &mem, S,
					   WINDOW, &ign),
			 0);
	assert_int_equal(m.status, CHECK_WARNING);
	assert_int_equal(m.row[0].na, 0);
	check_model_free(&m);
	assert_int_equal(
	    check_ignore_parse(&ign, "CLAMPED@0.0.0.0:80", err, sizeof(err)),
	    0);
	assert_int_equal(check_model_build(&m, &A.reading, &B.reading, &mem, S,
					   WINDOW, &ign),
			 0);
	assert_int_equal(m.status, CHECK_OK);
	assert_int_equal(m.problems, 0);
	assert_int_equal(m.row[0].n, 0);
	assert_int_equal(m.row[0].na, 1);
	assert_int_equal(m.row[0].acc[0].kind, VERDICT_CLAMPED);
	assert_int_equal(m.accepted, 1);
	check_model_free(&m);

	/* Spellings: key, name, dashes; bad ones refused with a reason. */
	memset(&ign, 0, sizeof(ign));
	assert_int_equal(check_ignore_parse(&ign, "backlog-small", err, 256),
			 0);
	assert_int_equal(ign.rule[0].kind, VERDICT_BACKLOG_SMALL);
	assert_string_equal(ign.rule[0].addr, "");
	assert_int_equal(
	    check_ignore_parse(&ign, "SLOW ACCEPT LOOP", err, sizeof(err)), 0);
	assert_int_equal(ign.rule[1].kind, VERDICT_SLOW);
	assert_int_equal(check_ignore_parse(&ign, "clamp", err, 256), -1);
	assert_non_null(strstr(err, "not 'clamp'"));
	assert_int_equal(check_ignore_parse(&ign, "@0.0.0.0:80", err, 256), -1);
	assert_int_equal(check_ignore_parse(&ign, "clamped@", err, 256), -1);
	assert_int_equal(ign.n, 2);
	/* Severity grades: the plugins' WARNING and CRITICAL. */
	assert_int_equal(verdict_severity(VERDICT_CLAMPED), VERDICT_WARNING);
	assert_int_equal(verdict_severity(VERDICT_BACKLOG_SMALL),
			 VERDICT_WARNING);
	assert_int_equal(verdict_severity(VERDICT_SLOW), VERDICT_CRITICAL);
	assert_int_equal(verdict_severity(VERDICT_STALLED), VERDICT_CRITICAL);
	assert_int_equal(verdict_severity(VERDICT_OVERFLOWING),
			 VERDICT_CRITICAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_window_between_readings, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_netstat_needs_both, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_no_window_without_the_same_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counts_follow_the_rows, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_history_is_no_problem, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
