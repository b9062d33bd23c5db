/*
 * The verdict rules. Each reads only the snapshot (and the window), so
 * the same listener gets the same verdicts in check, top and listeners.
 */
#include "verdict.h"

#include "format.h"
#include "histogram.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[VERDICT_KINDS] = {
    "STALLED", "OVERFLOWING", "SLOW ACCEPT LOOP", "BACKLOG SMALL", "CLAMPED"};
static const char *const keys[VERDICT_KINDS] = {
    "stalled", "overflowing", "slow_accept_loop", "backlog_small", "clamped"};

const char *verdict_name(enum verdict_kind k)
{
	return (unsigned int)k < VERDICT_KINDS ? names[k] : "?";
}

const char *verdict_key(enum verdict_kind k)
{
	return (unsigned int)k < VERDICT_KINDS ? keys[k] : "?";
}

static uint64_t sub0(uint64_t b, uint64_t a)
{
	return b > a ? b - a : 0;
}

void verdict_window_between(const struct segment_snapshot *pa,
			    const struct segment_listener *a,
			    const struct segment_snapshot *pb,
			    const struct segment_listener *b,
			    struct verdict_window *w)
{
	memset(w, 0, sizeof(*w));
	w->have = 1;
	w->ns = sub0(pb->now_mono_ns, pa->now_mono_ns);
	w->accepts = sub0(b->accepts, a->accepts);
	w->drops = sub0(b->live.drops, a->live.drops);
	w->full_events = sub0(b->full_events, a->full_events);
	w->slow_events = sub0(b->slow_events, a->slow_events);
}

int32_t verdict_wanted_backlog(const struct segment_listener *l)
{
	if ((l->flags & AW_LF_RAISED) &&
	    l->passed_backlog > l->requested_backlog)
		return l->passed_backlog;
	return l->requested_backlog;
}

uint32_t verdict_queue_peak(const struct segment_listener *l);

uint32_t verdict_suggest_backlog(const struct segment_listener *l)
{
	uint64_t peak = verdict_queue_peak(l);
	uint64_t base =
	    peak > l->effective_backlog ? peak : l->effective_backlog;
	uint64_t want = base * 4, n = 128;

	while (n < want && n < 65536)
		n *= 2;
	return n > 65535 ? 65535 : (uint32_t)n;
}

/*
 * The reading says stalled (live.h: waiting connections, no thread in
 * accept, no progress past the threshold). Over a window, a listener that
 * accepted meanwhile is a slow loop between two accepts, not a stall.
 */
static int is_stalled(const struct segment_listener *l,
		      const struct verdict_window *w)
{
	if (!l->stalled)
		return 0;
	return !(w && w->have && w->accepts > 0);
}

/*
 * Whether the socket's drop count means overflow. With TCP_DEFER_ACCEPT the
 * kernel discards the bare ACK that ends each handshake (the connection
 * waits for data instead) and counts it among the socket's drops like an
 * overflow: there, drops rise under any load and prove nothing. What the
 * queue itself shows still does.
 */
static int drops_are_overflows(const struct segment_listener *l)
{
	return !(l->flags & AW_LF_DEFER_ACCEPT);
}

static int is_overflowing(const struct segment_listener *l,
			  const struct verdict_window *w)
{
	if (l->full_events > 0)
		return 1;
	if (l->live.queue_known && l->live.queue_now > l->effective_backlog &&
	    !(l->flags & AW_LF_BACKLOG_UNKNOWN))
		return 1;
	if (!drops_are_overflows(l))
		return 0;
	return l->live.drops > 0 || (w && w->have && w->drops > 0);
}

static int is_slow(const struct segment_listener *l)
{
	return l->slow_events > 0;
}

uint32_t verdict_queue_peak(const struct segment_listener *l)
{
	uint32_t peak = l->queue_peak;

	if (l->live.queue_known && l->live.queue_now > peak)
		peak = l->live.queue_now;
	return peak;
}

static int is_backlog_small(const struct segment_listener *l)
{
	if (l->flags & AW_LF_BACKLOG_UNKNOWN)
		return 0;
	uint32_t peak = verdict_queue_peak(l);
	return peak > 0 && peak >= l->effective_backlog;
}

static int is_clamped(const struct segment_listener *l)
{
	return (l->flags & AW_LF_CLAMPED) && !(l->flags & AW_LF_ADOPTED);
}

unsigned int verdict_mask(const struct segment_snapshot *p,
			  const struct segment_listener *l,
			  const struct verdict_window *w)
{
	unsigned int m = 0;

	(void)p;
	if (is_stalled(l, w))
		m |= 1u << VERDICT_STALLED;
	if (is_overflowing(l, w))
		m |= 1u << VERDICT_OVERFLOWING;
	if (is_slow(l))
		m |= 1u << VERDICT_SLOW;
	if (is_backlog_small(l))
		m |= 1u << VERDICT_BACKLOG_SMALL;
	if (is_clamped(l))
		m |= 1u << VERDICT_CLAMPED;
	return m;
}

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

static void say_stalled(const struct segment_snapshot *p,
			const struct segment_listener *l, struct verdict *v)
{
	char since[FMT_DURATION_LEN];
	uint64_t last =
	    l->last_accept_mono_ns ? l->last_accept_mono_ns : l->listen_mono_ns;

	fmt_duration(since, sizeof(since), sub0(p->now_mono_ns, last));
	add(v->evidence, sizeof(v->evidence),
	    "%" PRIu32 " connection%s waiting now, %s, no accept for %s "
	    "(threshold %" PRIu32 "ms)",
	    l->live.queue_now, plural(l->live.queue_now),
	    p->stopped ? "the process is stopped" : "no thread in accept()",
	    since, p->header.slow_ms);
	if (p->stopped)
		add(v->fix, sizeof(v->fix),
		    "the process is stopped (SIGSTOP, a debugger or a "
		    "tracer): resume it with `kill -CONT %d`",
		    (int)p->pid);
	else
		add(v->fix, sizeof(v->fix),
		    "no thread waits in accept(): the accept loop is busy or "
		    "blocked elsewhere; see where with `cat "
		    "/proc/%d/task/*/wchan` or `gdb -p %d -batch -ex 'thread "
		    "apply all bt'`",
		    (int)p->pid, (int)p->pid);
}

static void say_window(const struct verdict_window *w, char *dst, size_t len)
{
	char span[FMT_DURATION_LEN];

	if (!w || !w->have)
		return;
	fmt_duration(span, sizeof(span), w->ns);
	add(dst, len, "; over the last %s: +%" PRIu64 " dropped here", span,
	    w->drops);
	if (w->have_netstat)
		add(dst, len,
		    ", TcpExtListenOverflows +%" PRIu64
		    ", TcpExtListenDrops +%" PRIu64
		    " in the server's network namespace",
		    w->listen_overflows, w->listen_drops);
	else
		add(dst, len, ", namespace counters unreadable");
}

static void say_overflowing(const struct segment_listener *l,
			    const struct verdict_window *w, struct verdict *v)
{
	uint32_t sugg = verdict_suggest_backlog(l);

	add(v->evidence, sizeof(v->evidence),
	    "queue seen full %" PRIu64 " time%s (depth > backlog %" PRIu32
	    "), now %" PRIu32 ", %" PRIu64 " connection attempt%s dropped "
	    "on this socket",
	    l->full_events, plural(l->full_events), l->effective_backlog,
	    l->live.queue_now, l->live.drops, plural(l->live.drops));
	if (!drops_are_overflows(l))
		add(v->evidence, sizeof(v->evidence),
		    " (with TCP_DEFER_ACCEPT on, these also count the "
		    "handshake ACKs it discards)");
	say_window(w, v->evidence, sizeof(v->evidence));
	add(v->fix, sizeof(v->fix),
	    "clients' SYNs are dropped and retried after 1 s, 3 s, 7 s...: "
	    "raise the backlog (to %" PRIu32 ", see BACKLOG SMALL) and make "
	    "the accept loop keep up",
	    sugg);
}

static void hist_p99_max(char *p99, char *max, const struct aw_hist *h,
			 int in_ms)
{
	uint64_t q = aw_hist_quantile(h, 0.99), m = h->max;

	if (aw_hist_count(h) == 0) {
		snprintf(p99, FMT_DURATION_LEN, "-");
		snprintf(max, FMT_DURATION_LEN, "-");
		return;
	}
	fmt_duration(p99, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(q) : q);
	fmt_duration(max, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(m) : m);
}

static void say_slow(const struct segment_snapshot *p,
		     const struct segment_listener *l,
		     const struct verdict_window *w, struct verdict *v)
{
	char ap99[FMT_DURATION_LEN], amax[FMT_DURATION_LEN],
	    wp99[FMT_DURATION_LEN], wmax[FMT_DURATION_LEN];

	hist_p99_max(ap99, amax, &l->away_ns, 0);
	hist_p99_max(wp99, wmax, &l->queue_wait_ms, 1);
	add(v->evidence, sizeof(v->evidence),
	    "%" PRIu64 " slow event%s (a connection waited past %" PRIu32
	    "ms while the loop was away)",
	    l->slow_events, plural(l->slow_events), p->header.slow_ms);
	if (w && w->have)
		add(v->evidence, sizeof(v->evidence),
		    ", +%" PRIu64 " during the observation", w->slow_events);
	add(v->evidence, sizeof(v->evidence),
	    "; away from accept p99 %s max %s; queue peak %" PRIu32 "/%" PRIu32,
	    ap99, amax, l->queue_peak, l->effective_backlog);
	if (l->has_last_slow && l->last_slow.depth != UINT32_MAX)
		add(v->evidence, sizeof(v->evidence),
		    " (%" PRIu32 " at the last)", l->last_slow.depth);
	add(v->evidence, sizeof(v->evidence),
	    "; clients waited in the queue p99 %s max %s", wp99, wmax);
	add(v->fix, sizeof(v->fix),
	    "the accepting thread does other work between accepts: hand each "
	    "connection to a worker (thread, pool, event loop) and return to "
	    "accept() at once%s",
	    segment_stack_text(p, l->slow_stack)
		? "; the accept loop's stack is below"
		: "");
}

static void say_backlog_small(const struct segment_listener *l,
			      struct verdict *v)
{
	uint32_t sugg = verdict_suggest_backlog(l);

	add(v->evidence, sizeof(v->evidence),
	    "queue peak %" PRIu32 " reached the effective backlog %" PRIu32
	    " (the queue holds backlog + 1)",
	    verdict_queue_peak(l), l->effective_backlog);
	add(v->fix, sizeof(v->fix),
	    "raise the listen backlog to %" PRIu32
	    " in the server's configuration (ACCEPTWATCH_BACKLOG=%" PRIu32
	    " if the program hard-codes it), with net.core.somaxconn >= "
	    "%" PRIu32 "%s",
	    sugg, sugg, sugg,
	    l->slow_events ? "; a longer queue only buys time while the "
			     "accept loop is slow"
			   : "");
}

static void say_clamped(const struct segment_listener *l, struct verdict *v)
{
	int32_t want = verdict_wanted_backlog(l);

	if (want > 0)
		add(v->evidence, sizeof(v->evidence),
		    "requested %" PRId32 ", got %" PRIu32
		    " because net.core.somaxconn = %" PRIu32,
		    want, l->effective_backlog, l->somaxconn);
	else
		add(v->evidence, sizeof(v->evidence),
		    "requested %" PRId32 " (as many as allowed), got %" PRIu32
		    " = net.core.somaxconn",
		    want, l->effective_backlog);
	if (l->flags & AW_LF_RAISED)
		add(v->evidence, sizeof(v->evidence),
		    " (the program asked for %" PRId32
		    ", ACCEPTWATCH_BACKLOG raised it)",
		    l->requested_backlog);
	if (want > 0)
		add(v->fix, sizeof(v->fix),
		    "sysctl -w net.core.somaxconn=%" PRId32
		    " (in the server's network namespace), and persist it in "
		    "/etc/sysctl.d (e.g. /etc/sysctl.d/90-somaxconn.conf: "
		    "net.core.somaxconn = %" PRId32 "); or ask for at most "
		    "%" PRIu32,
		    want, want, l->somaxconn);
	else
		add(v->fix, sizeof(v->fix),
		    "sysctl -w net.core.somaxconn=N for the queue you need, "
		    "and "
		    "persist it in /etc/sysctl.d");
}

int verdict_assess(const struct segment_snapshot *p,
		   const struct segment_listener *l,
		   const struct verdict_window *w, struct verdict *out)
{
	unsigned int m = verdict_mask(p, l, w);
	int n = 0;

	for (int k = 0; k < VERDICT_KINDS; k++) {
		if (!(m & (1u << k)))
			continue;
		struct verdict *v = &out[n++];
		memset(v, 0, sizeof(*v));
		v->kind = (enum verdict_kind)k;
		switch (v->kind) {
		case VERDICT_STALLED:
			say_stalled(p, l, v);
			break;
		case VERDICT_OVERFLOWING:
			say_overflowing(l, w, v);
			break;
		case VERDICT_SLOW:
			say_slow(p, l, w, v);
			break;
		case VERDICT_BACKLOG_SMALL:
			say_backlog_small(l, v);
			break;
		default:
			say_clamped(l, v);
			break;
		}
	}
	return n;
}
