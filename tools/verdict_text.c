/*
 * The verdicts' wording: evidence and fix, in English, from the figures a
 * rule read (verdict.c). Nothing here judges: every branch is on a figure
 * the verdict carries.
 */
#include "verdict_text.h"

#include "format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* snprintf that appends to a buffer; never overflows, truncates. */
static void add(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(char *dst, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(dst, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void say_stalled(const struct verdict *v, struct verdict_text *t)
{
	char since[FMT_DURATION_LEN];

	fmt_duration(since, sizeof(since), v->since_progress_ns);
	add(t->evidence, sizeof(t->evidence),
	    "%" PRIu32 " connection%s waiting now, %s, no accept for %s "
	    "(threshold %" PRIu32 "ms)",
	    v->queue_now, plural(v->queue_now),
	    v->stopped ? "the process is stopped" : "no thread in accept()",
	    since, v->slow_ms);
	if (v->stopped)
		add(t->fix, sizeof(t->fix),
		    "the process is stopped (SIGSTOP, a debugger or a "
		    "tracer): resume it with `kill -CONT %d`",
		    (int)v->pid);
	else
		add(t->fix, sizeof(t->fix),
		    "no thread waits in accept(): the accept loop is busy or "
		    "blocked elsewhere; see where with `cat "
		    "/proc/%d/task/*/wchan` or `gdb -p %d -batch -ex 'thread "
		    "apply all bt'`",
		    (int)v->pid, (int)v->pid);
}

static void say_window(const struct verdict *v, char *dst, size_t len)
{
	char span[FMT_DURATION_LEN];

	if (!v->have_window)
		return;
	fmt_duration(span, sizeof(span), v->window_ns);
	add(dst, len, "; over the last %s: +%" PRIu64 " socket drops", span,
	    v->window_drops);
	if (v->have_netstat)
		add(dst, len,
		    ", TcpExtListenOverflows +%" PRIu64
		    ", TcpExtListenDrops +%" PRIu64
		    " in the server's network namespace",
		    v->listen_overflows, v->listen_drops);
	else
		add(dst, len, ", namespace counters unreadable");
}

static void say_overflowing(const struct verdict *v, struct verdict_text *t)
{
	/* The queue past its backlog now, before any probe saw it full:
	 * said as what it is, never "seen full 0 times, now 17". */
	if (v->full_now_unprobed)
		add(t->evidence, sizeof(t->evidence),
		    "queue full now (%" PRIu32 " > backlog %" PRIu32
		    "; no probe saw it full before)",
		    v->queue_now, v->effective_backlog);
	else
		add(t->evidence, sizeof(t->evidence),
		    "queue seen full %" PRIu64 " time%s (depth > backlog "
		    "%" PRIu32 "), now %" PRIu32,
		    v->full_events, plural(v->full_events),
		    v->effective_backlog, v->queue_now);
	add(t->evidence, sizeof(t->evidence),
	    ", %" PRIu64 " socket drop%s (ss -m d: "
	    "dropped SYNs and handshake ACKs, not connections)",
	    v->own_drops, plural(v->own_drops));
	if (v->socket_drops > v->own_drops)
		add(t->evidence, sizeof(t->evidence),
		    " since %s (%" PRIu64 " before)",
		    v->sampled ? "the first sampled reading"
			       : "the process first read the count",
		    v->socket_drops - v->own_drops);
	if (v->defer == VERDICT_DEFER_ON)
		add(t->evidence, sizeof(t->evidence),
		    " (with TCP_DEFER_ACCEPT on, these also count the "
		    "handshake ACKs it discards)");
	else if (v->defer == VERDICT_DEFER_UNKNOWN)
		add(t->evidence, sizeof(t->evidence),
		    " (TCP_DEFER_ACCEPT unknown: these may count the "
		    "handshake ACKs it discards)");
	say_window(v, t->evidence, sizeof(t->evidence));
	add(t->fix, sizeof(t->fix), "%s",
	    v->unix_socket
		? "clients' connect() blocks, or fails at once with EAGAIN on "
		  "a "
		  "nonblocking socket (a proxy then answers 502): "
		: "clients' SYNs (or handshake ACKs) are dropped and retried "
		  "after 1 s, 3 s, 7 s...: ");
	if (v->stopped)
		add(t->fix, sizeof(t->fix),
		    "the process is stopped now (SIGSTOP, a debugger or a "
		    "tracer) and the queue filled behind it: resume it with "
		    "`kill -CONT %d`",
		    (int)v->pid);
	else if (v->clamped && v->wanted_backlog > 0)
		add(t->fix, sizeof(t->fix),
		    "net.core.somaxconn = %" PRIu32 " cut the backlog of "
		    "%" PRId32 " the program asks for: sysctl -w "
		    "net.core.somaxconn=%" PRId32
		    " (see CLAMPED), and make the "
		    "accept loop keep up",
		    v->somaxconn, v->wanted_backlog, v->wanted_backlog);
	else
		add(t->fix, sizeof(t->fix),
		    "raise the backlog (to %" PRIu32 ", see BACKLOG SMALL) and "
		    "make the accept loop keep up",
		    v->suggested_backlog);
}

/* A time's p99 and max, "-" when nothing was timed. */
static void p99_max(char *p99, char *max, uint64_t count, uint64_t q,
		    uint64_t m, int in_ms)
{
	if (count == 0) {
		snprintf(p99, FMT_DURATION_LEN, "-");
		snprintf(max, FMT_DURATION_LEN, "-");
		return;
	}
	fmt_duration(p99, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(q) : q);
	fmt_duration(max, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(m) : m);
}

static void say_slow(const struct verdict *v, struct verdict_text *t)
{
	char ap99[FMT_DURATION_LEN], amax[FMT_DURATION_LEN],
	    wp99[FMT_DURATION_LEN], wmax[FMT_DURATION_LEN];

	p99_max(ap99, amax, v->away_count, v->away_p99_ns, v->away_max_ns, 0);
	p99_max(wp99, wmax, v->wait_count, v->wait_p99_ms, v->wait_max_ms, 1);
	add(t->evidence, sizeof(t->evidence),
	    "%" PRIu64 " slow event%s (a connection waited past %" PRIu32
	    "ms while the loop was away)",
	    v->slow_events, plural(v->slow_events), v->slow_ms);
	if (v->have_window)
		add(t->evidence, sizeof(t->evidence),
		    ", +%" PRIu64 " during the observation",
		    v->window_slow_events);
	/* An event loop waits for connections elsewhere: its time between
	 * accepts is no evidence of a loop away. */
	if (v->event_loop)
		add(t->evidence, sizeof(t->evidence),
		    "; an event loop (time between accepts is not time away)");
	else
		add(t->evidence, sizeof(t->evidence),
		    "; away from accept p99 %s max %s", ap99, amax);
	add(t->evidence, sizeof(t->evidence),
	    "; queue peak %" PRIu32 "/%" PRIu32, v->queue_peak,
	    v->effective_backlog);
	if (v->last_slow_depth != UINT32_MAX)
		add(t->evidence, sizeof(t->evidence),
		    " (%" PRIu32 " at the last)", v->last_slow_depth);
	add(t->evidence, sizeof(t->evidence),
	    "; clients waited in the queue p99 %s max %s", wp99, wmax);
	/* A stopped process waits for no accept loop: the pause is the
	 * cause, and resuming it the fix. */
	if (v->stopped)
		add(t->fix, sizeof(t->fix),
		    "the process is stopped now (SIGSTOP, a debugger or a "
		    "tracer), so no connection is accepted: resume it with "
		    "`kill -CONT %d`; waits that rose while it was stopped are "
		    "the pause, not the accept loop",
		    (int)v->pid);
	else
		add(t->fix, sizeof(t->fix), "%s%s",
		    v->event_loop
			? "the event loop is busy between its turns (a handler "
			  "computes or blocks): move that work off the loop "
			  "(worker threads, more worker processes)"
			: "the accepting thread does other work between "
			  "accepts: hand each connection to a worker (thread, "
			  "pool, event loop) and return to accept() at once",
		    v->has_stack ? "; the accept loop's stack is below" : "");
}

static void say_backlog_small(const struct verdict *v, struct verdict_text *t)
{
	uint32_t sugg = v->suggested_backlog;
	int32_t want = v->wanted_backlog;

	add(t->evidence, sizeof(t->evidence),
	    "queue peak %" PRIu32 " reached the effective backlog %" PRIu32
	    " (the queue holds backlog + 1)",
	    v->deepest, v->effective_backlog);
	const char *slow = v->slow_events ? "; a longer queue only buys "
					    "time while the accept loop is slow"
					  : "";
	/* somaxconn cut what the program asks for (redis asks 511 and gets
	 * 64): somaxconn is the fix, the program's own wish the value. */
	if (v->clamped && want > 0) {
		add(t->fix, sizeof(t->fix),
		    "the program already asks for a backlog of %" PRId32
		    ", net.core.somaxconn = %" PRIu32 " cut it: sysctl -w "
		    "net.core.somaxconn=%" PRId32 " (in the server's network "
		    "namespace) and persist it in /etc/sysctl.d; restart or "
		    "reload the server to listen again",
		    want, v->somaxconn, want);
		if ((uint32_t)want < sugg)
			add(t->fix, sizeof(t->fix),
			    "; should the queue still fill, ask for %" PRIu32
			    " (ACCEPTWATCH_BACKLOG=%" PRIu32
			    ") with somaxconn >= %" PRIu32,
			    sugg, sugg, sugg);
		add(t->fix, sizeof(t->fix), "%s", slow);
		return;
	}
	add(t->fix, sizeof(t->fix),
	    "raise the listen backlog to %" PRIu32
	    " in the server's configuration (ACCEPTWATCH_BACKLOG=%" PRIu32
	    " if the program hard-codes it), with net.core.somaxconn >= "
	    "%" PRIu32 "%s",
	    sugg, sugg, sugg, slow);
}

static void say_clamped(const struct verdict *v, struct verdict_text *t)
{
	int32_t want = v->wanted_backlog;

	if (want > 0)
		add(t->evidence, sizeof(t->evidence),
		    "requested %" PRId32 ", got %" PRIu32
		    " because net.core.somaxconn = %" PRIu32,
		    want, v->effective_backlog, v->somaxconn);
	else
		add(t->evidence, sizeof(t->evidence),
		    "requested %" PRId32 " (as many as allowed), got %" PRIu32
		    " = net.core.somaxconn",
		    want, v->effective_backlog);
	if (v->raised)
		add(t->evidence, sizeof(t->evidence),
		    " (the program asked for %" PRId32
		    ", ACCEPTWATCH_BACKLOG raised it)",
		    v->requested_backlog);
	if (want > 0)
		add(t->fix, sizeof(t->fix),
		    "sysctl -w net.core.somaxconn=%" PRId32
		    " (in the server's network namespace), and persist it in "
		    "/etc/sysctl.d (e.g. /etc/sysctl.d/90-somaxconn.conf: "
		    "net.core.somaxconn = %" PRId32 "); or ask for at most "
		    "%" PRIu32,
		    want, want, v->somaxconn);
	else
		add(t->fix, sizeof(t->fix),
		    "sysctl -w net.core.somaxconn=N for the queue you need, "
		    "and "
		    "persist it in /etc/sysctl.d");
}

/* " (last rose N ago or earlier, before the W window)": history. */
static void say_age(const struct verdict *v, struct verdict_text *t)
{
	char ago[FMT_DURATION_LEN], span[FMT_DURATION_LEN];

	fmt_duration(ago, sizeof(ago), v->last_rose_ago_ns);
	fmt_duration(span, sizeof(span), v->recent_ns);
	add(t->evidence, sizeof(t->evidence),
	    "; last rose %s ago or earlier, before the %s window", ago, span);
}

void verdict_text_say(const struct verdict *v, struct verdict_text *t)
{
	memset(t, 0, sizeof(*t));
	switch (v->kind) {
	case VERDICT_STALLED:
		say_stalled(v, t);
		return;
	case VERDICT_OVERFLOWING:
		say_overflowing(v, t);
		break;
	case VERDICT_SLOW:
		say_slow(v, t);
		break;
	case VERDICT_BACKLOG_SMALL:
		say_backlog_small(v, t);
		break;
	default:
		say_clamped(v, t);
		return;
	}
	if (v->history)
		say_age(v, t);
}
