/*
 * The verdicts: the rules (verdict_mask: which evidence makes each) and
 * their wording (say_*: the evidence and the fix, in English). A rule reads
 * only the snapshot and the window, so the same listener gets the same
 * verdicts in check, top and listeners. STALLED is the live view's reading
 * (live.c decides it as the snapshot is taken); the rule here only lets a
 * window's accepts overrule it.
 */
#include "verdict.h"

#include "format.h"
#include "histogram.h"

#include <ctype.h>
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

enum verdict_severity verdict_severity(enum verdict_kind k)
{
	return k == VERDICT_CLAMPED || k == VERDICT_BACKLOG_SMALL
		   ? VERDICT_WARNING
		   : VERDICT_CRITICAL;
}

/* Whether s names key: same letters in any case, '-' or ' ' for '_'. */
static int names_key(const char *s, const char *key)
{
	for (; *s && *key; s++, key++) {
		char c = (char)tolower((unsigned char)*s);
		if (c == '-' || c == ' ')
			c = '_';
		if (c != *key)
			return 0;
	}
	return *s == '\0' && *key == '\0';
}

int verdict_parse(const char *s, enum verdict_kind *k)
{
	for (int i = 0; i < VERDICT_KINDS; i++) {
		if (names_key(s, keys[i])) {
			*k = (enum verdict_kind)i;
			return 0;
		}
	}
	return -1;
}

static uint64_t sub0(uint64_t b, uint64_t a)
{
	return b > a ? b - a : 0;
}

void verdict_window_between(const struct model_process *pa,
			    const struct model_listener *a,
			    const struct model_process *pb,
			    const struct model_listener *b,
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

int32_t verdict_wanted_backlog(const struct model_listener *l)
{
	if ((l->flags & AW_LF_RAISED) &&
	    l->passed_backlog > l->requested_backlog)
		return l->passed_backlog;
	return l->requested_backlog;
}

uint32_t verdict_queue_peak(const struct model_listener *l);

uint32_t verdict_suggest_backlog(const struct model_listener *l)
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
static int is_stalled(const struct model_listener *l,
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
static int drops_are_overflows(const struct model_listener *l,
			       const struct verdict_window *w)
{
	if (w && w->defer_unknown)
		return 0;
	return !(l->flags & AW_LF_DEFER_ACCEPT);
}

/* Overflowing now: the queue past its backlog, or drops or a full queue
 * during the observation. */
static int overflow_now(const struct model_listener *l,
			const struct verdict_window *w)
{
	if (l->live.queue_known && l->live.queue_now > l->effective_backlog &&
	    !(l->flags & AW_LF_BACKLOG_UNKNOWN))
		return 1;
	if (!(w && w->have))
		return 0;
	return w->full_events > 0 ||
	       (drops_are_overflows(l, w) && w->drops > 0);
}

/* Overflow evidence at any time since the listen. */
static int overflow_ever(const struct model_listener *l,
			 const struct verdict_window *w)
{
	if (l->full_events > 0 || overflow_now(l, w))
		return 1;
	return drops_are_overflows(l, w) && l->live.drops > 0;
}

/*
 * Whether evidence that last rose at the latest at `last` (remembered, or
 * else `bound` from the snapshot) falls within the window. No window:
 * all history counts.
 */
static int in_window(const struct model_process *p,
		     const struct verdict_window *w, uint64_t remembered,
		     uint64_t bound)
{
	if (!w || w->recent_ns == 0)
		return 1;
	uint64_t last = remembered ? remembered : bound;
	return last + w->recent_ns >= p->now_mono_ns;
}

/* A time at or before the snapshot, or the snapshot's now. */
static uint64_t at_or_now(const struct model_process *p, uint64_t t)
{
	return t && t <= p->now_mono_ns ? t : p->now_mono_ns;
}

uint64_t verdict_overflow_bound(const struct model_process *p,
				const struct model_listener *l)
{
	if (!overflow_ever(l, NULL))
		return 0;
	/* The kernel's drops past the shim's last reading rose since. */
	if (overflow_now(l, NULL) ||
	    (drops_are_overflows(l, NULL) && l->live.drops > l->drops))
		return p->now_mono_ns;
	/* A full queue was seen at a probe, drops counted by a reading. */
	uint64_t seen = l->sample_mono_ns > l->drops_mono_ns ? l->sample_mono_ns
							     : l->drops_mono_ns;
	return at_or_now(p, seen);
}

uint64_t verdict_slow_bound(const struct model_process *p,
			    const struct model_listener *l)
{
	if (l->slow_events == 0)
		return 0;
	if (l->has_last_slow && l->last_slow.time_real_ns <= p->now_real_ns) {
		uint64_t ago = p->now_real_ns - l->last_slow.time_real_ns;
		return ago < p->now_mono_ns ? p->now_mono_ns - ago : 1;
	}
	/* Its event overwritten: a slow event is counted in the accept
	 * path, so no later than the last accept or probe. */
	uint64_t t = l->last_accept_mono_ns > l->sample_mono_ns
			 ? l->last_accept_mono_ns
			 : l->sample_mono_ns;
	return at_or_now(p, t);
}

static int is_overflowing(const struct model_process *p,
			  const struct model_listener *l,
			  const struct verdict_window *w)
{
	if (overflow_now(l, w))
		return 1;
	if (!overflow_ever(l, w))
		return 0;
	return in_window(p, w, w ? w->overflow_last_ns : 0,
			 verdict_overflow_bound(p, l));
}

static int is_slow(const struct model_process *p,
		   const struct model_listener *l,
		   const struct verdict_window *w)
{
	if (l->slow_events == 0)
		return 0;
	if (w && w->have && w->slow_events > 0)
		return 1;
	return in_window(p, w, w ? w->slow_last_ns : 0,
			 verdict_slow_bound(p, l));
}

uint32_t verdict_queue_peak(const struct model_listener *l)
{
	uint32_t peak = l->queue_peak;

	if (l->live.queue_known && l->live.queue_now > peak)
		peak = l->live.queue_now;
	return peak;
}

static int backlog_reached(const struct model_listener *l)
{
	if (l->flags & AW_LF_BACKLOG_UNKNOWN)
		return 0;
	uint32_t peak = verdict_queue_peak(l);
	return peak > 0 && peak >= l->effective_backlog;
}

/* The kernel's queue at the backlog now: the moment's evidence, which no
 * memory of when the shim's peak last rose can date back. */
static int peak_now(const struct model_listener *l)
{
	return l->live.queue_known && l->live.queue_now > 0 &&
	       l->live.queue_now >= l->effective_backlog;
}

uint64_t verdict_peak_bound(const struct model_process *p,
			    const struct model_listener *l)
{
	if (!backlog_reached(l))
		return 0;
	if (peak_now(l))
		return p->now_mono_ns;
	return at_or_now(p, l->sample_mono_ns);
}

static int is_backlog_small(const struct model_process *p,
			    const struct model_listener *l,
			    const struct verdict_window *w)
{
	if (!backlog_reached(l))
		return 0;
	if (peak_now(l))
		return 1;
	return in_window(p, w, w ? w->peak_last_ns : 0,
			 verdict_peak_bound(p, l));
}

static int is_clamped(const struct model_listener *l)
{
	return (l->flags & AW_LF_CLAMPED) && !(l->flags & AW_LF_ADOPTED);
}

unsigned int verdict_mask(const struct model_process *p,
			  const struct model_listener *l,
			  const struct verdict_window *w)
{
	unsigned int m = 0;

	if (is_stalled(l, w))
		m |= 1u << VERDICT_STALLED;
	if (is_overflowing(p, l, w))
		m |= 1u << VERDICT_OVERFLOWING;
	if (is_slow(p, l, w))
		m |= 1u << VERDICT_SLOW;
	if (is_backlog_small(p, l, w))
		m |= 1u << VERDICT_BACKLOG_SMALL;
	if (is_clamped(l))
		m |= 1u << VERDICT_CLAMPED;
	return m;
}

/* What the whole history gives and the window does not. */
static unsigned int history_mask(const struct model_process *p,
				 const struct model_listener *l,
				 const struct verdict_window *w)
{
	if (!w || w->recent_ns == 0)
		return 0;
	struct verdict_window all = *w;
	all.recent_ns = 0;
	return verdict_mask(p, l, &all) & ~verdict_mask(p, l, w);
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

static void say_stalled(const struct model_process *p,
			const struct model_listener *l, struct verdict *v)
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
	add(dst, len, "; over the last %s: +%" PRIu64 " socket drops", span,
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

static void say_overflowing(const struct model_process *p,
			    const struct model_listener *l,
			    const struct verdict_window *w, struct verdict *v)
{
	uint32_t sugg = verdict_suggest_backlog(l);
	int32_t want = verdict_wanted_backlog(l);

	/* The queue past its backlog now, before any probe saw it full:
	 * said as what it is, never "seen full 0 times, now 17". */
	if (l->full_events == 0 && overflow_now(l, NULL))
		add(v->evidence, sizeof(v->evidence),
		    "queue full now (%" PRIu32 " > backlog %" PRIu32
		    "; no probe saw it full before)",
		    l->live.queue_now, l->effective_backlog);
	else
		add(v->evidence, sizeof(v->evidence),
		    "queue seen full %" PRIu64 " time%s (depth > backlog "
		    "%" PRIu32 "), now %" PRIu32,
		    l->full_events, plural(l->full_events),
		    l->effective_backlog, l->live.queue_now);
	add(v->evidence, sizeof(v->evidence),
	    ", %" PRIu64 " socket drop%s (ss -m d: "
	    "dropped SYNs and handshake ACKs, not connections)",
	    l->live.drops, plural(l->live.drops));
	if (l->flags & AW_LF_DEFER_ACCEPT)
		add(v->evidence, sizeof(v->evidence),
		    " (with TCP_DEFER_ACCEPT on, these also count the "
		    "handshake ACKs it discards)");
	else if (!drops_are_overflows(l, w))
		add(v->evidence, sizeof(v->evidence),
		    " (TCP_DEFER_ACCEPT unknown: these may count the "
		    "handshake ACKs it discards)");
	say_window(w, v->evidence, sizeof(v->evidence));
	add(v->fix, sizeof(v->fix),
	    "clients' SYNs (or handshake ACKs) are dropped and retried after "
	    "1 s, 3 s, 7 s...: ");
	if (p->stopped)
		add(v->fix, sizeof(v->fix),
		    "the process is stopped now (SIGSTOP, a debugger or a "
		    "tracer) and the queue filled behind it: resume it with "
		    "`kill -CONT %d`",
		    (int)p->pid);
	else if (is_clamped(l) && want > 0)
		add(v->fix, sizeof(v->fix),
		    "net.core.somaxconn = %" PRIu32 " cut the backlog of "
		    "%" PRId32 " the program asks for: sysctl -w "
		    "net.core.somaxconn=%" PRId32
		    " (see CLAMPED), and make the "
		    "accept loop keep up",
		    l->somaxconn, want, want);
	else
		add(v->fix, sizeof(v->fix),
		    "raise the backlog (to %" PRIu32 ", see BACKLOG SMALL) and "
		    "make the accept loop keep up",
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

static void say_slow(const struct model_process *p,
		     const struct model_listener *l,
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
	/* A stopped process waits for no accept loop: the pause is the
	 * cause, and resuming it the fix. */
	if (p->stopped)
		add(v->fix, sizeof(v->fix),
		    "the process is stopped now (SIGSTOP, a debugger or a "
		    "tracer), so no connection is accepted: resume it with "
		    "`kill -CONT %d`; waits that rose while it was stopped are "
		    "the pause, not the accept loop",
		    (int)p->pid);
	else
		add(v->fix, sizeof(v->fix),
		    "the accepting thread does other work between accepts: "
		    "hand each connection to a worker (thread, pool, event "
		    "loop) and return to accept() at once%s",
		    model_stack_text(p, l->slow_stack)
			? "; the accept loop's stack is below"
			: "");
}

static void say_backlog_small(const struct model_listener *l, struct verdict *v)
{
	uint32_t sugg = verdict_suggest_backlog(l);

	add(v->evidence, sizeof(v->evidence),
	    "queue peak %" PRIu32 " reached the effective backlog %" PRIu32
	    " (the queue holds backlog + 1)",
	    verdict_queue_peak(l), l->effective_backlog);
	const char *slow = l->slow_events ? "; a longer queue only buys "
					    "time while the accept loop is slow"
					  : "";
	int32_t want = verdict_wanted_backlog(l);
	/* somaxconn cut what the program asks for (redis asks 511 and gets
	 * 64): somaxconn is the fix, the program's own wish the value. */
	if (is_clamped(l) && want > 0) {
		add(v->fix, sizeof(v->fix),
		    "the program already asks for a backlog of %" PRId32
		    ", net.core.somaxconn = %" PRIu32 " cut it: sysctl -w "
		    "net.core.somaxconn=%" PRId32 " (in the server's network "
		    "namespace) and persist it in /etc/sysctl.d; restart or "
		    "reload the server to listen again",
		    want, l->somaxconn, want);
		if ((uint32_t)want < sugg)
			add(v->fix, sizeof(v->fix),
			    "; should the queue still fill, ask for %" PRIu32
			    " (ACCEPTWATCH_BACKLOG=%" PRIu32
			    ") with somaxconn >= %" PRIu32,
			    sugg, sugg, sugg);
		add(v->fix, sizeof(v->fix), "%s", slow);
		return;
	}
	add(v->fix, sizeof(v->fix),
	    "raise the listen backlog to %" PRIu32
	    " in the server's configuration (ACCEPTWATCH_BACKLOG=%" PRIu32
	    " if the program hard-codes it), with net.core.somaxconn >= "
	    "%" PRIu32 "%s",
	    sugg, sugg, sugg, slow);
}

static void say_clamped(const struct model_listener *l, struct verdict *v)
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

/* " (last rose N ago or earlier, before the W window)": history. */
static void say_age(const struct model_process *p,
		    const struct verdict_window *w, uint64_t remembered,
		    uint64_t bound, struct verdict *v)
{
	char ago[FMT_DURATION_LEN], span[FMT_DURATION_LEN];
	uint64_t last = remembered ? remembered : bound;

	fmt_duration(ago, sizeof(ago), sub0(p->now_mono_ns, last));
	fmt_duration(span, sizeof(span), w->recent_ns);
	add(v->evidence, sizeof(v->evidence),
	    "; last rose %s ago or earlier, before the %s window", ago, span);
}

static int assess_mask(const struct model_process *p,
		       const struct model_listener *l,
		       const struct verdict_window *w, unsigned int m,
		       int history, struct verdict *out);

int verdict_assess(const struct model_process *p,
		   const struct model_listener *l,
		   const struct verdict_window *w, struct verdict *out)
{
	return assess_mask(p, l, w, verdict_mask(p, l, w), 0, out);
}

int verdict_assess_history(const struct model_process *p,
			   const struct model_listener *l,
			   const struct verdict_window *w, struct verdict *out)
{
	return assess_mask(p, l, w, history_mask(p, l, w), 1, out);
}

static int assess_mask(const struct model_process *p,
		       const struct model_listener *l,
		       const struct verdict_window *w, unsigned int m,
		       int history, struct verdict *out)
{
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
			say_overflowing(p, l, w, v);
			if (history)
				say_age(p, w, w->overflow_last_ns,
					verdict_overflow_bound(p, l), v);
			break;
		case VERDICT_SLOW:
			say_slow(p, l, w, v);
			if (history)
				say_age(p, w, w->slow_last_ns,
					verdict_slow_bound(p, l), v);
			break;
		case VERDICT_BACKLOG_SMALL:
			say_backlog_small(l, v);
			if (history)
				say_age(p, w, w->peak_last_ns,
					verdict_peak_bound(p, l), v);
			break;
		default:
			say_clamped(l, v);
			break;
		}
	}
	return n;
}
