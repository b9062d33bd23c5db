/*
 * The verdicts (verdict.c) on hand-made snapshots, one rule at a time: each
 * verdict just past its threshold, just below it and at it; their order of
 * urgency; the evidence and the fix as printed, with the suggested backlog
 * worked out by hand from the rule verdict.h states; the verdict window and
 * the bounds on when evidence last rose; TCP_DEFER_ACCEPT; exited processes
 * and closed listeners. STALLED is judged on the reading (verdict_stalled_now)
 * as the model is built: its boundary is tested there, and the verdict on
 * what it returns.
 *
 * Kernel facts the expectations rest on (REFERENCES.md): the accept queue
 * is full when its depth exceeds the backlog (it holds backlog + 1);
 * listen() clamps (unsigned)backlog to somaxconn, so a negative one gets
 * somaxconn; with TCP_DEFER_ACCEPT the socket's drops count discarded
 * handshake ACKs too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"
#include "verdict_fixture.h"
#include "verdict_text.h"

#define MS 1000000ull

static struct model_process P;
static struct model_listener L;
static struct verdict_window W;
static struct verdict V[VERDICT_KINDS];
static int NV; /* how many V holds */

static int fresh(void **state)
{
	(void)state;
	verdict_fixture(&P, &L);
	memset(&W, 0, sizeof(W));
	memset(V, 0, sizeof(V));
	NV = 0;
	return 0;
}

/* The kinds out[0..n) hold, as bits, checked to come most urgent first. */
static unsigned int kinds(const struct verdict *out, int n)
{
	unsigned int m = 0;

	for (int i = 0; i < n; i++) {
		if (i > 0)
			assert_true(out[i - 1].kind < out[i].kind);
		m |= 1u << out[i].kind;
	}
	return m;
}

/* The verdicts of L under w (NULL: none), into V; verdict_mask agrees. */
static unsigned int judged(const struct verdict_window *w)
{
	NV = verdict_assess(&P, &L, w, V);
	unsigned int m = kinds(V, NV);

	assert_int_equal(m, verdict_mask(&P, &L, w));
	return m;
}

/* What L's history gives and W's window does not, into V. */
static unsigned int earlier(void)
{
	NV = verdict_assess_history(&P, &L, &W, V);
	return kinds(V, NV);
}

/* The verdict of kind k in V, which must be there. */
static const struct verdict *found(enum verdict_kind k)
{
	for (int i = 0; i < NV; i++)
		if (V[i].kind == k)
			return &V[i];
	fail_msg("no %s verdict", verdict_name(k));
	return NULL;
}

/* The verdict of kind k in V, in words (verdict_text_say). */
static const struct verdict_text *worded(enum verdict_kind k)
{
	static struct verdict_text t;

	verdict_text_say(found(k), &t);
	return &t;
}

static void evidence_has(enum verdict_kind k, const char *text)
{
	const char *e = worded(k)->evidence;

	if (!strstr(e, text))
		fail_msg("evidence \"%s\" lacks \"%s\"", e, text);
}

static void fix_is(enum verdict_kind k, const char *text)
{
	assert_string_equal(worded(k)->fix, text);
}

/* L under w gives verdict k, with exactly this evidence and fix. */
static void said(const struct verdict_window *w, enum verdict_kind k,
		 const char *evidence, const char *fix)
{
	judged(w);
	assert_string_equal(worded(k)->evidence, evidence);
	fix_is(k, fix);
}

/* Overflow evidence only the shim counted, at its last probe `ago`. */
static void full_probed(uint64_t ago)
{
	L.full_events = 2;
	L.sample_mono_ns = NOW - ago;
	L.full_mono_ns = NOW - ago;
	L.last_accept_mono_ns = NOW - ago;
}

/*
 * A verdict the window judges (OVERFLOWING, SLOW ACCEPT LOOP, BACKLOG
 * SMALL): how to give L its evidence dated `ago` before the reading, where
 * the window remembers it, and the bound the snapshot alone gives.
 */
struct windowed {
	enum verdict_kind kind;
	void (*dated)(uint64_t ago);
	uint64_t *remembered;
	uint64_t (*bound)(const struct model_process *p,
			  const struct model_listener *l);
};

/*
 * Evidence that last rose at the latest exactly the window ago can have
 * risen within it; a nanosecond earlier cannot, and is history. A
 * remembered bound is tighter than the snapshot's. No window: all of it.
 */
static void test_window_boundary(void **state)
{
	const struct windowed *c = *state;
	unsigned int bit = 1u << c->kind;

	W.recent_ns = WINDOW;
	c->dated(WINDOW);
	assert_int_equal(c->bound(&P, &L), NOW - WINDOW);
	assert_int_equal(judged(&W), bit);
	assert_int_equal(earlier(), 0);
	c->dated(WINDOW + 1);
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), bit);
	c->dated(1 * S);
	*c->remembered = NOW - WINDOW - 1;
	assert_int_equal(judged(&W), 0);
	*c->remembered = NOW - WINDOW;
	assert_int_equal(judged(&W), bit);
	*c->remembered = 0;
	c->dated(3 * WINDOW);
	W.recent_ns = 0;
	assert_int_equal(judged(&W), bit);
	assert_int_equal(earlier(), 0);
}

/* --- OK ----------------------------------------------------------------*/

static void test_healthy_is_ok(void **state)
{
	(void)state;
	assert_int_equal(judged(NULL), 0);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), 0);
	assert_int_equal(verdict_overflow_bound(&P, &L), 0);
	assert_int_equal(verdict_slow_bound(&P, &L), 0);
	assert_int_equal(verdict_peak_bound(&P, &L), 0);
}

/* --- STALLED -----------------------------------------------------------*/

/* STALLED's rule on L's reading, as the model is built. */
static int stalls(void)
{
	return verdict_stalled_now(&P, &L);
}

static void test_stalled_threshold(void **state)
{
	(void)state;
	L.live.queue_now = 3;
	/* No progress for exactly the threshold: not yet. */
	L.last_accept_mono_ns = NOW - 50 * MS;
	assert_false(stalls());
	L.last_accept_mono_ns = NOW - 50 * MS - 1;
	assert_true(stalls());
	/* Nothing waiting: idle, not stalled. */
	L.live.queue_now = 0;
	assert_false(stalls());
	L.live.queue_now = 1;
	assert_true(stalls());
	/* A thread in accept() takes them, unless the process is stopped. */
	L.in_accept = 1;
	assert_false(stalls());
	P.stopped = 1;
	assert_true(stalls());
	/* Never accepted: progress is the listen. */
	L.in_accept = 0;
	L.last_accept_mono_ns = 0;
	L.listen_mono_ns = NOW - 50 * MS;
	assert_false(stalls());
	L.listen_mono_ns = NOW - 51 * MS;
	assert_true(stalls());
	/* An accept after the reading's clock: progress, not a stall. */
	L.last_accept_mono_ns = NOW + 1;
	assert_false(stalls());
	/* A source that cannot tell threads in accept (sampled, EPOLLET):
	 * only a stop makes a stall. */
	L.last_accept_mono_ns = NOW - 51 * MS;
	L.in_accept_unknown = 1;
	assert_true(stalls());
	P.stopped = 0;
	assert_false(stalls());
	/* What the model keeps: the rule's answer per listener. */
	P.stopped = 1;
	L.stalled = 0;
	verdict_mark_stalled(&P);
	assert_ptr_equal(P.listener, &L);
	assert_true(L.stalled);
}

static void test_stalled_never_without_a_kernel_reading(void **state)
{
	(void)state;
	L.live.queue_now = 5;
	L.last_accept_mono_ns = NOW - 10 * S;
	assert_true(stalls());
	/* The shim's last queue figure, not the kernel's now. */
	L.live.queue_known = 0;
	assert_false(stalls());
	L.live.queue_known = 1;
	L.flags |= AW_LF_CLOSED;
	assert_false(stalls());
	L.flags &= ~AW_LF_CLOSED;
	P.alive = 0;
	assert_false(stalls());
}

static void test_stalled_verdict_and_window(void **state)
{
	(void)state;
	L.live.queue_now = 3;
	L.last_accept_mono_ns = NOW - 2 * S;
	L.stalled = stalls();
	assert_int_equal(judged(NULL), 1u << VERDICT_STALLED);
	/* Over two readings nothing was accepted: still stalled. */
	W.have = 1;
	W.ns = 1 * S;
	assert_int_equal(judged(&W), 1u << VERDICT_STALLED);
	/* One accept between the readings: a slow loop, not a stall. */
	W.accepts = 1;
	assert_int_equal(judged(&W), 0);
	/* Accepts without a second reading say nothing. */
	W.have = 0;
	W.accepts = 5;
	assert_int_equal(judged(&W), 1u << VERDICT_STALLED);
	/* Judged on the moment: the window neither hides nor dates it. */
	W.recent_ns = 1;
	L.last_accept_mono_ns = NOW - 3600 * MS;
	assert_int_equal(judged(&W), 1u << VERDICT_STALLED);
	assert_int_equal(earlier(), 0);
	/* Not stalled in the reading: no verdict. */
	L.stalled = 0;
	assert_int_equal(judged(NULL), 0);
}

static void test_stalled_text(void **state)
{
	(void)state;
	L.live.queue_now = 3;
	L.last_accept_mono_ns = NOW - 2 * S;
	L.stalled = 1;
	said(NULL, VERDICT_STALLED,
	     "3 connections waiting now, no thread in "
	     "accept(), no accept for 2.00s (threshold 50ms)",
	     "no thread waits in accept(): the accept loop is busy or "
	     "blocked elsewhere; see where with `cat /proc/42/task/*/wchan` "
	     "or `gdb -p 42 -batch -ex 'thread apply all bt'`");
	/* Stopped, one waiting, never accepted: since the listen. */
	P.stopped = 1;
	L.live.queue_now = 1;
	L.last_accept_mono_ns = 0;
	said(NULL, VERDICT_STALLED,
	     "1 connection waiting now, the process is stopped, "
	     "no accept for 1m40s (threshold 50ms)",
	     "the process is stopped (SIGSTOP, a debugger or a tracer): "
	     "resume it with `kill -CONT 42`");
}

/* --- OVERFLOWING --------------------------------------------------------*/

static void test_overflowing_queue_now(void **state)
{
	(void)state;
	/* Full at depth > backlog (it holds backlog + 1): at the backlog it
	 * still has room for one. */
	L.live.queue_now = 16;
	assert_int_equal(judged(NULL) & (1u << VERDICT_OVERFLOWING), 0);
	L.live.queue_now = 17;
	assert_int_equal(judged(NULL) & (1u << VERDICT_OVERFLOWING),
			 1u << VERDICT_OVERFLOWING);
	/* Now is within any window, whatever was remembered. */
	W.recent_ns = 1;
	W.overflow_last_ns = 1;
	assert_int_equal(judged(&W) & (1u << VERDICT_OVERFLOWING),
			 1u << VERDICT_OVERFLOWING);
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW);
	/* listen(fd, 0): the queue holds one, and is full with it. */
	L.effective_backlog = 0;
	L.requested_backlog = 0;
	L.live.queue_now = 0;
	assert_int_equal(judged(NULL) & (1u << VERDICT_OVERFLOWING), 0);
	L.live.queue_now = 1;
	assert_int_equal(judged(NULL) & (1u << VERDICT_OVERFLOWING),
			 1u << VERDICT_OVERFLOWING);
}

static void test_overflowing_queue_not_known(void **state)
{
	(void)state;
	/* The shim's own figure copied over (an exited process, a closed
	 * listener): not a reading of now. */
	L.live.queue_known = 0;
	L.live.queue_now = 17;
	assert_int_equal(judged(NULL), 0);
	/* An adopted non-TCP listener: no backlog to compare with. */
	L.live.queue_known = 1;
	L.flags = AW_LF_ADOPTED | AW_LF_BACKLOG_UNKNOWN;
	L.effective_backlog = 0;
	assert_int_equal(judged(NULL), 0);
}

static void test_overflowing_counters(void **state)
{
	(void)state;
	/* No window: one full probe, or one socket drop, since the listen. */
	L.full_events = 1;
	assert_int_equal(judged(NULL), 1u << VERDICT_OVERFLOWING);
	L.full_events = 0;
	L.drops = L.live.drops = 1;
	assert_int_equal(judged(NULL), 1u << VERDICT_OVERFLOWING);
	L.drops = L.live.drops = 0;
	assert_int_equal(judged(NULL), 0);
}

/*
 * The socket's drops from before the process first read them (the old
 * workers' before a reload) are not its own: no OVERFLOWING from them,
 * with or without a window; a rise past the baseline is, dated by the
 * reading that saw it. No reading yet: nothing is the process's.
 */
static void test_overflowing_baseline(void **state)
{
	(void)state;
	L.drops_base = 58;
	L.drops_base_mono_ns = NOW - 2 * S;
	L.drops = L.live.drops = 58;
	L.drops_mono_ns = NOW - 1 * S;
	assert_int_equal(verdict_own_drops(&L), 0);
	assert_int_equal(judged(NULL), 0);
	assert_int_equal(verdict_overflow_bound(&P, &L), 0);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), 0);
	/* Risen since, at the last reading 400 s ago: history. */
	L.drops = L.live.drops = 61;
	L.drops_rise_mono_ns = NOW - 400 * S;
	assert_int_equal(verdict_own_drops(&L), 3);
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), 1u << VERDICT_OVERFLOWING);
	evidence_has(
	    VERDICT_OVERFLOWING,
	    "3 socket drops (ss -m d: dropped SYNs and handshake ACKs, "
	    "not connections) since the process first read the count "
	    "(58 before)");
	/* Risen past that reading (the kernel's count now): now. */
	L.live.drops = 62;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW);
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	/* No reading yet in this process: none of them is its. */
	L.drops_base_mono_ns = 0;
	L.drops_rise_mono_ns = 0;
	L.drops = 0;
	assert_int_equal(verdict_own_drops(&L), 0);
	assert_int_equal(judged(NULL), 0);
}

/* Under TCP_DEFER_ACCEPT the drops rise with every data-less handshake:
 * their date never keeps an old full queue recent. */
static void test_defer_drops_do_not_date_overflow(void **state)
{
	(void)state;
	full_probed(400 * S);
	L.flags |= AW_LF_DEFER_ACCEPT;
	L.drops = L.live.drops = 90;
	L.drops_rise_mono_ns = NOW - 1 * S;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), 1u << VERDICT_OVERFLOWING);
	/* Without the option the same rise is fresh overflow evidence. */
	L.flags &= ~AW_LF_DEFER_ACCEPT;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 1 * S);
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
}

/* A sampled source's baseline is its first reading, said as such; a Unix
 * listener's full queue is no SYN dropped. */
static void test_overflow_wording_by_source(void **state)
{
	(void)state;
	L.drops_base = 57;
	L.drops_base_mono_ns = NOW - 10 * S;
	L.drops = L.live.drops = 69;
	L.drops_rise_mono_ns = NOW - 1 * S;
	P.kernel_only = 1;
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	evidence_has(VERDICT_OVERFLOWING,
		     "12 socket drops (ss -m d: dropped SYNs and handshake "
		     "ACKs, not connections) since the first sampled reading "
		     "(57 before)");
	P.kernel_only = 0;
	L.family = AF_UNIX;
	L.flags &= ~AW_LF_TCP;
	L.live.queue_now = L.effective_backlog + 1;
	judged(NULL);
	const char *fix = worded(VERDICT_OVERFLOWING)->fix;
	assert_non_null(strstr(fix, "clients' connect() blocks"));
	assert_null(strstr(fix, "SYN"));
}

static void test_overflowing_between_readings(void **state)
{
	(void)state;
	/* Old evidence outside the window; the readings' deltas are now. */
	full_probed(400 * S);
	W.recent_ns = WINDOW;
	W.have = 1;
	W.ns = 2 * S;
	assert_int_equal(judged(&W), 0);
	assert_int_equal(earlier(), 1u << VERDICT_OVERFLOWING);
	W.drops = 1;
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	assert_int_equal(earlier(), 0);
	W.drops = 0;
	W.full_events = 1;
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	/* Deltas without a second reading are not evidence. */
	full_probed(400 * S);
	W.have = 0;
	W.drops = 7;
	W.full_events = 7;
	assert_int_equal(judged(&W), 0);
}

static void test_overflow_bound(void **state)
{
	(void)state;
	full_probed(400 * S);
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
	/* The kernel counted drops since the shim's last reading: now. */
	L.drops = 40;
	L.live.drops = 40;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
	L.live.drops = 41;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	/* No date, or one after the reading: the reading's now. */
	L.live.drops = 40;
	L.full_mono_ns = 0;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW);
	L.full_mono_ns = NOW + 1;
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW);
}

static void test_overflowing_defer_accept(void **state)
{
	(void)state;
	/* Every data-less handshake ACK is a socket drop: no overflow. */
	L.flags |= AW_LF_DEFER_ACCEPT;
	L.drops = 1000;
	L.live.drops = 1024;
	W.have = 1;
	W.ns = 2 * S;
	W.drops = 24;
	assert_int_equal(judged(&W), 0);
	assert_int_equal(verdict_overflow_bound(&P, &L), 0);
	/* The queue seen full still is; drops past the probe are not now. */
	full_probed(400 * S);
	assert_int_equal(judged(&W), 1u << VERDICT_OVERFLOWING);
	assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 0);
}

static void test_overflowing_text(void **state)
{
	(void)state;
	L.full_events = 1;
	L.live.queue_now = 17;
	L.live.drops = 1;
	/* Peak 17 > backlog 16: 4 x 17 = 68, up to a power of two, at
	 * least 128. SYN retransmits: 1 s initial RTO, doubling. */
	said(NULL, VERDICT_OVERFLOWING,
	     "queue seen full 1 time (depth > backlog 16), now 17, 1 socket "
	     "drop (ss -m d: dropped SYNs and handshake ACKs, not "
	     "connections)",
	     "clients' SYNs (or handshake ACKs) are dropped and retried "
	     "after 1 s, 3 s, 7 s...: raise the backlog (to 128, see "
	     "BACKLOG SMALL) and make the accept loop keep up");
	/* Past the backlog now, never seen full by a probe: no "seen full
	 * 0 times, now 17". */
	L.full_events = 0;
	judged(NULL);
	evidence_has(VERDICT_OVERFLOWING,
		     "queue full now (17 > backlog 16; no probe saw it full "
		     "before), 1 socket drop");
	/* Two readings 2 s apart, with and without namespace counters. */
	L.full_events = 6;
	L.live.drops = 72;
	W.have = 1;
	W.ns = 2 * S;
	W.drops = 60;
	W.have_netstat = 1;
	W.listen_overflows = 30;
	W.listen_drops = 30;
	judged(&W);
	assert_string_equal(
	    worded(VERDICT_OVERFLOWING)->evidence,
	    "queue seen full 6 times (depth > backlog 16), now 17, 72 socket "
	    "drops (ss -m d: dropped SYNs and handshake ACKs, not "
	    "connections); over the last 2.00s: +60 socket drops, "
	    "TcpExtListenOverflows +30, TcpExtListenDrops +30 in the "
	    "server's network namespace");
	W.have_netstat = 0;
	judged(&W);
	evidence_has(VERDICT_OVERFLOWING,
		     "; over the last 2.00s: +60 socket drops, namespace "
		     "counters unreadable");
	/* TCP_DEFER_ACCEPT: the drops are said to mix in its ACKs. */
	L.flags |= AW_LF_DEFER_ACCEPT;
	judged(&W);
	evidence_has(VERDICT_OVERFLOWING,
		     "72 socket drops (ss -m d: dropped SYNs and handshake "
		     "ACKs, not connections) (with TCP_DEFER_ACCEPT on, these "
		     "also count the handshake ACKs it discards); over the "
		     "last 2.00s");
}

/* --- SLOW ACCEPT LOOP ---------------------------------------------------*/

/* One slow event, still in the ring, `ago` before the reading. */
static void slow_ago(uint64_t ago)
{
	L.slow_events = 1;
	L.has_last_slow = 1;
	L.last_slow.time_real_ns = NOW_REAL - ago;
	L.last_slow.depth = UINT32_MAX;
}

static void test_slow_threshold(void **state)
{
	(void)state;
	assert_int_equal(judged(NULL) & (1u << VERDICT_SLOW), 0);
	L.slow_events = 1;
	assert_int_equal(judged(NULL), 1u << VERDICT_SLOW);
	/* A slow event between the readings is now, whatever its age. */
	slow_ago(3 * WINDOW);
	W.recent_ns = WINDOW;
	assert_int_equal(judged(&W), 0);
	W.have = 1;
	W.slow_events = 1;
	assert_int_equal(judged(&W), 1u << VERDICT_SLOW);
}

static void test_slow_bound_without_event(void **state)
{
	(void)state;
	/* Overwritten in the ring: counted in the accept path, so at or
	 * before the later of the last accept and the last probe. */
	L.slow_events = 4;
	L.last_accept_mono_ns = NOW - 400 * S;
	L.sample_mono_ns = NOW - 10 * S;
	assert_int_equal(verdict_slow_bound(&P, &L), NOW - 10 * S);
	L.last_accept_mono_ns = NOW - 5 * S;
	assert_int_equal(verdict_slow_bound(&P, &L), NOW - 5 * S);
	/* An event dated after the reading (the realtime clock stepped
	 * back): its time is no bound, the accept path's is. */
	slow_ago(0);
	L.last_slow.time_real_ns = NOW_REAL + 1;
	assert_int_equal(verdict_slow_bound(&P, &L), NOW - 5 * S);
	/* Older than the monotonic clock itself: as early as can be. */
	L.last_slow.time_real_ns = NOW_REAL - NOW;
	assert_int_equal(verdict_slow_bound(&P, &L), 1);
	/* Neither accept nor probe known: the reading's now. */
	L.has_last_slow = 0;
	L.last_accept_mono_ns = 0;
	L.sample_mono_ns = 0;
	assert_int_equal(verdict_slow_bound(&P, &L), NOW);
}

static void test_slow_text(void **state)
{
	char frames[] = "worker_main+0x173 (server)\n";
	struct model_stack st;
	(void)state;

	L.slow_events = 3;
	L.queue_peak = 15;
	said(NULL, VERDICT_SLOW,
	     "3 slow events (a connection waited past 50ms while the loop was "
	     "away); away from accept p99 - max -; queue peak 15/16; clients "
	     "waited in the queue p99 - max -",
	     "the accepting thread does other work between accepts: hand "
	     "each connection to a worker (thread, pool, event loop) and "
	     "return to accept() at once");
	/* Between readings, with the depth at the last event, the largest
	 * waits, and the accept loop's stack. */
	L.slow_events = 1;
	W.have = 1;
	W.slow_events = 1;
	slow_ago(1 * S);
	L.last_slow.depth = 12;
	aw_hist_add(&L.away_ns, 204 * MS);
	aw_hist_add(&L.queue_wait_ms, 2410);
	memset(&st, 0, sizeof(st));
	st.text = frames;
	P.stack = &st;
	P.n_stacks = 1;
	L.slow_stack = 1;
	judged(&W);
	evidence_has(VERDICT_SLOW, "1 slow event (a connection waited past "
				   "50ms while the loop was away), +1 during "
				   "the observation; away from accept p99 ");
	evidence_has(VERDICT_SLOW, " max 204ms; queue peak 15/16 (12 at the "
				   "last); clients waited in the queue p99 ");
	evidence_has(VERDICT_SLOW, " max 2.41s");
	fix_is(VERDICT_SLOW,
	       "the accepting thread does other work between accepts: hand "
	       "each connection to a worker (thread, pool, event loop) and "
	       "return to accept() at once; the accept loop's stack is below");
	/* An event loop idles elsewhere between accepts: no time away is
	 * quoted (nginx's idle 204 ms would read as a loop away). */
	L.flags |= AW_LF_EVENT_LOOP;
	judged(&W);
	assert_null(strstr(worded(VERDICT_SLOW)->evidence, "away from accept"));
	evidence_has(VERDICT_SLOW, "the observation; an event loop (time "
				   "between accepts is not time away); queue "
				   "peak 15/16 (12 at the last)");
	fix_is(VERDICT_SLOW,
	       "the event loop is busy between its turns (a handler computes "
	       "or blocks): move that work off the loop (worker threads, more "
	       "worker processes); the accept loop's stack is below");
}

/* --- BACKLOG SMALL ------------------------------------------------------*/

static void test_backlog_small_threshold(void **state)
{
	(void)state;
	/* The peak one short of the backlog, at it: "reached". */
	L.queue_peak = 15;
	assert_int_equal(judged(NULL), 0);
	L.queue_peak = 16;
	assert_int_equal(judged(NULL), 1u << VERDICT_BACKLOG_SMALL);
	/* The kernel's queue now counts as a peak. */
	L.queue_peak = 0;
	L.live.queue_now = 15;
	assert_int_equal(judged(NULL), 0);
	L.live.queue_now = 16;
	assert_int_equal(judged(NULL), 1u << VERDICT_BACKLOG_SMALL);
	L.live.queue_known = 0;
	assert_int_equal(judged(NULL), 0);
	/* listen(fd, 0): an empty queue has not reached it, one has. */
	L.live.queue_known = 1;
	L.live.queue_now = 0;
	L.effective_backlog = 0;
	L.requested_backlog = 0;
	assert_int_equal(judged(NULL), 0);
	L.queue_peak = 1;
	assert_int_equal(judged(NULL), 1u << VERDICT_BACKLOG_SMALL);
	/* No backlog known: nothing to reach. */
	L.flags = AW_LF_ADOPTED | AW_LF_BACKLOG_UNKNOWN;
	L.queue_peak = 5;
	assert_int_equal(judged(NULL), 0);
	assert_int_equal(verdict_peak_bound(&P, &L), 0);
}

/* The shim's peak at the backlog, at its last probe `ago`. */
static void peak_probed(uint64_t ago)
{
	L.queue_peak = 16;
	L.sample_mono_ns = NOW - ago;
}

/*
 * The queue at its backlog in the kernel's reading now is evidence of now
 * (verdict.h): no memory of when the shim's peak last rose can make it
 * history. A burst long ago set the shim's peak; the queue stands at the
 * backlog again now, or past it.
 */
static void test_backlog_small_now_beats_memory(void **state)
{
	(void)state;
	L.queue_peak = 17;
	L.full_events = 2;
	W.recent_ns = WINDOW;
	W.peak_last_ns = NOW - 2 * WINDOW;
	W.overflow_last_ns = NOW - 2 * WINDOW;
	L.live.queue_now = 16;
	assert_int_equal(verdict_peak_bound(&P, &L), NOW);
	assert_int_equal(judged(&W), 1u << VERDICT_BACKLOG_SMALL);
	assert_int_equal(earlier(), 1u << VERDICT_OVERFLOWING);
	L.live.queue_now = 17;
	assert_int_equal(judged(&W), (1u << VERDICT_OVERFLOWING) |
					 (1u << VERDICT_BACKLOG_SMALL));
	assert_int_equal(earlier(), 0);
}

static void test_backlog_small_text(void **state)
{
	(void)state;
	/* 4 x 100 = 400, rounded up to a power of two: 512. */
	L.requested_backlog = 100;
	L.effective_backlog = 100;
	L.queue_peak = 100;
	said(NULL, VERDICT_BACKLOG_SMALL,
	     "queue peak 100 reached the effective backlog 100 "
	     "(the queue holds backlog + 1)",
	     "raise the listen backlog to 512 in the server's configuration "
	     "(ACCEPTWATCH_BACKLOG=512 if the program hard-codes it), with "
	     "net.core.somaxconn >= 512");
	/* The kernel's queue now past the shim's peak: 4 x 101 = 404. */
	L.live.queue_now = 101;
	L.slow_events = 1;
	judged(NULL);
	evidence_has(VERDICT_BACKLOG_SMALL, "queue peak 101 reached the "
					    "effective backlog 100");
	fix_is(VERDICT_BACKLOG_SMALL,
	       "raise the listen backlog to 512 in the server's configuration "
	       "(ACCEPTWATCH_BACKLOG=512 if the program hard-codes it), with "
	       "net.core.somaxconn >= 512; a longer queue only buys time "
	       "while the accept loop is slow");
}

/* Advice follows the cause: a program that already asks for more than
 * somaxconn gives needs somaxconn, not a larger backlog; a stopped process
 * needs resuming, not a worker pool. */
static void test_advice_follows_the_cause(void **state)
{
	(void)state;
	/* redis: asks 511, somaxconn 64 cut it, the queue reached 64. */
	L.flags |= AW_LF_CLAMPED;
	L.requested_backlog = 511;
	L.passed_backlog = 511;
	L.effective_backlog = 64;
	L.somaxconn = 64;
	L.queue_peak = 64;
	judged(NULL);
	fix_is(VERDICT_BACKLOG_SMALL,
	       "the program already asks for a backlog of 511, "
	       "net.core.somaxconn = 64 cut it: sysctl -w "
	       "net.core.somaxconn=511 (in the server's network namespace) "
	       "and persist it in /etc/sysctl.d; restart or reload the "
	       "server to listen again");
	/* Asking less than the suggestion: somaxconn first, then more. */
	L.requested_backlog = 100;
	L.passed_backlog = 100;
	judged(NULL);
	fix_is(VERDICT_BACKLOG_SMALL,
	       "the program already asks for a backlog of 100, "
	       "net.core.somaxconn = 64 cut it: sysctl -w "
	       "net.core.somaxconn=100 (in the server's network namespace) "
	       "and persist it in /etc/sysctl.d; restart or reload the "
	       "server to listen again; should the queue still fill, ask for "
	       "256 (ACCEPTWATCH_BACKLOG=256) with somaxconn >= 256");
	/* Past its backlog now, clamped: OVERFLOWING's fix is somaxconn. */
	L.requested_backlog = 511;
	L.passed_backlog = 511;
	L.live.queue_now = 65;
	judged(NULL);
	fix_is(VERDICT_OVERFLOWING,
	       "clients' SYNs (or handshake ACKs) are dropped and retried "
	       "after 1 s, 3 s, 7 s...: net.core.somaxconn = 64 cut the "
	       "backlog of 511 the program asks for: sysctl -w "
	       "net.core.somaxconn=511 (see CLAMPED), and make the accept "
	       "loop keep up");
	/* Stopped: resume it, whatever else. */
	P.stopped = 1;
	L.slow_events = 2;
	judged(NULL);
	fix_is(VERDICT_SLOW,
	       "the process is stopped now (SIGSTOP, a debugger or a "
	       "tracer), so no connection is accepted: resume it with `kill "
	       "-CONT 42`; waits that rose while it was stopped are the "
	       "pause, not the accept loop");
	fix_is(VERDICT_OVERFLOWING,
	       "clients' SYNs (or handshake ACKs) are dropped and retried "
	       "after 1 s, 3 s, 7 s...: the process is stopped now (SIGSTOP, "
	       "a debugger or a tracer) and the queue filled behind it: "
	       "resume it with `kill -CONT 42`");
}

/* --- CLAMPED ------------------------------------------------------------*/

static void clamp(int32_t requested, uint32_t somaxconn)
{
	L.flags |= AW_LF_CLAMPED;
	L.requested_backlog = requested;
	L.passed_backlog = requested;
	L.somaxconn = somaxconn;
	L.effective_backlog = somaxconn;
}

static void test_clamped(void **state)
{
	(void)state;
	clamp(128, 16);
	assert_int_equal(judged(NULL), 1u << VERDICT_CLAMPED);
	/* Configuration: stays whatever the window, never history. */
	W.recent_ns = 1;
	L.listen_mono_ns = NOW - 3 * WINDOW;
	assert_int_equal(judged(&W), 1u << VERDICT_CLAMPED);
	assert_int_equal(earlier(), 0);
	/* Met first in accept(): what was asked is unknown. */
	L.flags |= AW_LF_ADOPTED;
	assert_int_equal(judged(NULL), 0);
	/* Given what was asked. */
	verdict_fixture(&P, &L);
	assert_int_equal(judged(NULL), 0);
}

static void test_clamped_text(void **state)
{
	(void)state;
	clamp(128, 16);
	said(NULL, VERDICT_CLAMPED,
	     "requested 128, got 16 because net.core.somaxconn "
	     "= 16",
	     "sysctl -w net.core.somaxconn=128 (in the server's network "
	     "namespace), and persist it in /etc/sysctl.d (e.g. "
	     "/etc/sysctl.d/90-somaxconn.conf: net.core.somaxconn = 128); "
	     "or ask for at most 16");
	/* Negative: (unsigned)-1 is clamped to somaxconn, as many as
	 * allowed. */
	clamp(-1, 4096);
	said(NULL, VERDICT_CLAMPED,
	     "requested -1 (as many as allowed), got 4096 = "
	     "net.core.somaxconn",
	     "sysctl -w net.core.somaxconn=N for the queue "
	     "you need, and persist it in /etc/sysctl.d");
	/* ACCEPTWATCH_BACKLOG raised 16 to 1024; somaxconn 512 cut it. */
	clamp(16, 512);
	L.flags |= AW_LF_RAISED;
	L.passed_backlog = 1024;
	said(NULL, VERDICT_CLAMPED,
	     "requested 1024, got 512 because net.core.somaxconn "
	     "= 512 (the program asked for 16, "
	     "ACCEPTWATCH_BACKLOG raised it)",
	     "sysctl -w net.core.somaxconn=1024 (in the server's network "
	     "namespace), and persist it in /etc/sysctl.d (e.g. "
	     "/etc/sysctl.d/90-somaxconn.conf: net.core.somaxconn = 1024); "
	     "or ask for at most 512");
}

/* --- all of them --------------------------------------------------------*/

static void test_order_of_urgency(void **state)
{
	static const char *const name[VERDICT_KINDS] = {
	    "STALLED", "OVERFLOWING", "SLOW ACCEPT LOOP", "BACKLOG SMALL",
	    "CLAMPED"};
	static const char *const key[VERDICT_KINDS] = {
	    "stalled", "overflowing", "slow_accept_loop", "backlog_small",
	    "clamped"};
	(void)state;

	clamp(128, 16);
	L.stalled = 1;
	L.live.queue_now = 17;
	L.slow_events = 1;
	int n = verdict_assess(&P, &L, NULL, V);
	assert_int_equal(n, VERDICT_KINDS);
	for (int k = 0; k < VERDICT_KINDS; k++) {
		assert_int_equal(V[k].kind, k);
		assert_string_equal(verdict_name(V[k].kind), name[k]);
		assert_string_equal(verdict_key(V[k].kind), key[k]);
		struct verdict_text t;
		verdict_text_say(&V[k], &t);
		assert_true(t.evidence[0] && t.fix[0]);
		assert_null(strchr(t.evidence, '\n'));
	}
	assert_int_equal(verdict_mask(&P, &L, NULL), 0x1f);
	assert_string_equal(verdict_name(VERDICT_KINDS), "?");
	assert_string_equal(verdict_key((enum verdict_kind) - 1), "?");
}

static void test_history(void **state)
{
	(void)state;
	/* Nothing is history without a window. */
	full_probed(400 * S);
	assert_int_equal(verdict_assess_history(&P, &L, NULL, V), 0);
	assert_int_equal(earlier(), 0);
	/* Overflow and peak at a probe 400 s ago, a slow event 450 s ago,
	 * the clamp now: the window keeps the clamp, history the rest. */
	W.recent_ns = WINDOW;
	L.queue_peak = 17;
	slow_ago(450 * S);
	clamp(128, 16);
	assert_int_equal(judged(&W), 1u << VERDICT_CLAMPED);
	assert_int_equal(earlier(), (1u << VERDICT_OVERFLOWING) |
					(1u << VERDICT_SLOW) |
					(1u << VERDICT_BACKLOG_SMALL));
	evidence_has(VERDICT_OVERFLOWING,
		     "; last rose 6m40s ago or earlier, before the 5m00s "
		     "window");
	evidence_has(VERDICT_SLOW, "; last rose 7m30s ago or earlier, before "
				   "the 5m00s window");
	evidence_has(VERDICT_BACKLOG_SMALL,
		     "; last rose 6m40s ago or earlier, before the 5m00s "
		     "window");
	/* The remembered bound dates it when there is one. */
	W.overflow_last_ns = NOW - 500 * S;
	earlier();
	evidence_has(VERDICT_OVERFLOWING,
		     "; last rose 8m20s ago or earlier, before the 5m00s "
		     "window");
	/* Within the window: a verdict, not history as well. */
	slow_ago(10 * S);
	assert_int_equal(judged(&W),
			 (1u << VERDICT_SLOW) | (1u << VERDICT_CLAMPED));
	assert_int_equal(earlier(), (1u << VERDICT_OVERFLOWING) |
					(1u << VERDICT_BACKLOG_SMALL));
}

/* An exited process: live_apply keeps the shim's figures (the queue not
 * known now) and never calls it stalled; what it left is judged by its
 * age like any evidence. A closed listener is read the same way. */
static void test_exited_and_closed(void **state)
{
	(void)state;
	full_probed(400 * S);
	L.queue_now = 17;
	L.queue_peak = 17;
	L.live.queue_known = 0;
	L.live.queue_now = L.queue_now;
	L.last_accept_mono_ns = NOW - 3600 * MS;
	for (int closed = 0; closed < 2; closed++) {
		P.alive = closed;
		L.flags = closed ? AW_LF_TCP | AW_LF_CLOSED : AW_LF_TCP;
		L.stalled = stalls();
		assert_false(L.stalled);
		assert_int_equal(verdict_overflow_bound(&P, &L), NOW - 400 * S);
		assert_int_equal(verdict_peak_bound(&P, &L), NOW - 400 * S);
		W.recent_ns = 0;
		assert_int_equal(judged(&W), (1u << VERDICT_OVERFLOWING) |
						 (1u << VERDICT_BACKLOG_SMALL));
		W.recent_ns = WINDOW;
		assert_int_equal(judged(&W), 0);
		assert_int_equal(earlier(), (1u << VERDICT_OVERFLOWING) |
						(1u << VERDICT_BACKLOG_SMALL));
	}
}

/* --- helpers ------------------------------------------------------------*/

static uint32_t suggest(uint32_t backlog, uint32_t peak)
{
	L.effective_backlog = backlog;
	L.queue_peak = peak;
	return verdict_suggest_backlog(&L);
}

static void test_suggest_backlog(void **state)
{
	(void)state;
	/* 4 x max(peak, backlog), up to a power of two, in [128, 65535]. */
	assert_int_equal(suggest(0, 0), 128);		  /* 0 -> floor */
	assert_int_equal(suggest(16, 0), 128);		  /* 64 -> floor */
	assert_int_equal(suggest(16, 17), 128);		  /* 68 -> floor */
	assert_int_equal(suggest(32, 0), 128);		  /* 128 exactly */
	assert_int_equal(suggest(33, 0), 256);		  /* 132 */
	assert_int_equal(suggest(16, 200), 1024);	  /* 800 */
	assert_int_equal(suggest(1000, 257), 4096);	  /* 4000 */
	assert_int_equal(suggest(8192, 0), 32768);	  /* 32768 exactly */
	assert_int_equal(suggest(8193, 0), 65535);	  /* 32772 -> 65536 */
	assert_int_equal(suggest(16384, 0), 65535);	  /* 65536 */
	assert_int_equal(suggest(16, UINT32_MAX), 65535); /* ~2^34 */
	/* The kernel's queue now, when read, is a peak too. */
	L.live.queue_now = 300;
	assert_int_equal(suggest(16, 17), 2048); /* 1200 */
	L.live.queue_known = 0;
	assert_int_equal(suggest(16, 17), 128);
}

static void test_queue_peak_and_wanted_backlog(void **state)
{
	(void)state;
	L.queue_peak = 17;
	L.live.queue_now = 5;
	assert_int_equal(verdict_queue_peak(&L), 17);
	L.live.queue_now = 20;
	assert_int_equal(verdict_queue_peak(&L), 20);
	L.live.queue_known = 0;
	assert_int_equal(verdict_queue_peak(&L), 17);

	L.requested_backlog = 16;
	L.passed_backlog = 1024;
	assert_int_equal(verdict_wanted_backlog(&L), 16);
	L.flags |= AW_LF_RAISED;
	assert_int_equal(verdict_wanted_backlog(&L), 1024);
	/* Raising never lowers a request. */
	L.passed_backlog = 8;
	assert_int_equal(verdict_wanted_backlog(&L), 16);
	L.flags &= ~AW_LF_RAISED;
	L.requested_backlog = -1;
	L.passed_backlog = -1;
	assert_int_equal(verdict_wanted_backlog(&L), -1);
}

static void test_window_between(void **state)
{
	struct model_process pb;
	struct model_listener lb;
	(void)state;

	verdict_fixture(&pb, &lb);
	pb.now_mono_ns = NOW + 2 * S;
	L.live.drops = 40;
	L.full_events = 3;
	L.slow_events = 1;
	lb.accepts = L.accepts + 15;
	lb.live.drops = 100;
	lb.full_events = 9;
	lb.slow_events = 2;
	memset(&W, 0xff, sizeof(W));
	verdict_window_between(&P, &L, &pb, &lb, &W);
	assert_int_equal(W.have, 1);
	assert_int_equal(W.ns, 2 * S);
	assert_int_equal(W.accepts, 15);
	assert_int_equal(W.drops, 60);
	assert_int_equal(W.full_events, 6);
	assert_int_equal(W.slow_events, 1);
	assert_int_equal(W.have_netstat, 0);
	assert_int_equal(W.listen_overflows, 0);
	assert_int_equal(W.listen_drops, 0);
	assert_int_equal(W.recent_ns, 0);
	assert_int_equal(W.overflow_last_ns, 0);
	assert_int_equal(W.slow_last_ns, 0);
	assert_int_equal(W.peak_last_ns, 0);
	/* Readings swapped: counters never go negative. */
	verdict_window_between(&pb, &lb, &P, &L, &W);
	assert_int_equal(W.have, 1);
	assert_int_equal(W.ns, 0);
	assert_int_equal(W.accepts, 0);
	assert_int_equal(W.drops, 0);
	assert_int_equal(W.full_events, 0);
	assert_int_equal(W.slow_events, 0);
}

#define T(f) cmocka_unit_test_setup(f, fresh)

/* The three verdicts the window judges; a slow event is dated by its own
 * time, from the realtime clock into the reading's monotonic one. */
static const struct windowed overflow_window = {
    VERDICT_OVERFLOWING, full_probed, &W.overflow_last_ns,
    verdict_overflow_bound};
static const struct windowed slow_window = {
    VERDICT_SLOW, slow_ago, &W.slow_last_ns, verdict_slow_bound};
static const struct windowed peak_window = {
    VERDICT_BACKLOG_SMALL, peak_probed, &W.peak_last_ns, verdict_peak_bound};

/* One test per windowed verdict, named for it. */
#define WINDOWED(c)                                                            \
	{                                                                      \
		"window_boundary_" #c, test_window_boundary, fresh, NULL,      \
		    (void *)&(c)                                               \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_healthy_is_ok),
	    T(test_stalled_threshold),
	    T(test_stalled_never_without_a_kernel_reading),
	    T(test_stalled_verdict_and_window),
	    T(test_stalled_text),
	    T(test_overflowing_queue_now),
	    T(test_overflowing_queue_not_known),
	    T(test_overflowing_counters),
	    T(test_overflowing_baseline),
	    T(test_defer_drops_do_not_date_overflow),
	    T(test_overflow_wording_by_source),
	    T(test_overflowing_between_readings),
	    WINDOWED(overflow_window),
	    T(test_overflow_bound),
	    T(test_overflowing_defer_accept),
	    T(test_overflowing_text),
	    T(test_slow_threshold),
	    WINDOWED(slow_window),
	    T(test_slow_bound_without_event),
	    T(test_slow_text),
	    T(test_backlog_small_threshold),
	    WINDOWED(peak_window),
	    T(test_backlog_small_now_beats_memory),
	    T(test_backlog_small_text),
	    T(test_advice_follows_the_cause),
	    T(test_clamped),
	    T(test_clamped_text),
	    T(test_order_of_urgency),
	    T(test_history),
	    T(test_exited_and_closed),
	    T(test_suggest_backlog),
	    T(test_queue_peak_and_wanted_backlog),
	    T(test_window_between),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
