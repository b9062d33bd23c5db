/*
 * The verdicts: the rules (verdict_mask: which evidence makes each), and
 * each verdict's evidence as figures (struct verdict); their wording is
 * verdict_text.c's. A rule reads only the snapshot and the window, so the same
 * listener gets the same verdicts in check, top and listeners. STALLED is
 * judged on the reading as the model is built (verdict_mark_stalled, after the
 * live readings); over a window, the window's accepts overrule it.
 */
#include "verdict.h"

#include "histogram.h"

#include <ctype.h>
#include <sys/socket.h>
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

uint64_t verdict_last_progress(const struct model_listener *l)
{
	return l->last_accept_mono_ns ? l->last_accept_mono_ns
				      : l->listen_mono_ns;
}

int verdict_stalled_now(const struct model_process *p,
			const struct model_listener *l)
{
	int stopped = p->stopped;

	if (!p->alive || (l->flags & AW_LF_CLOSED) || !l->live.queue_known)
		return 0;
	if (l->live.queue_now == 0)
		return 0;
	if ((l->in_accept > 0 || l->in_accept_unknown) && !stopped)
		return 0;
	uint64_t last = verdict_last_progress(l);
	if (p->now_mono_ns <= last)
		return 0;
	return p->now_mono_ns - last > (uint64_t)p->header.slow_ms * 1000000ull;
}

void verdict_mark_stalled(struct model_process *snap)
{
	for (uint32_t i = 0; i < snap->n_listeners; i++)
		snap->listener[i].stalled =
		    verdict_stalled_now(snap, &snap->listener[i]);
}

/*
 * The reading says stalled (verdict_stalled_now, as the model was built).
 * Over a window, a listener that accepted meanwhile is a slow loop between
 * two accepts, not a stall.
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

uint64_t verdict_own_drops(const struct model_listener *l)
{
	if (l->drops_base_mono_ns == 0)
		return 0;
	return sub0(l->live.drops, l->drops_base);
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
	return drops_are_overflows(l, w) && verdict_own_drops(l) > 0;
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
	/* The last probe that saw the queue full, the last reading that
	 * found the drops risen: the shim dates both. Drops that are no
	 * overflow (TCP_DEFER_ACCEPT's) rise under any load: their date
	 * would keep an old full queue recent for ever. */
	uint64_t rise =
	    drops_are_overflows(l, NULL) ? l->drops_rise_mono_ns : 0;
	uint64_t seen = l->full_mono_ns > rise ? l->full_mono_ns : rise;
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

/* The figures every verdict of l carries (struct verdict). */
static void evidence(const struct model_process *p,
		     const struct model_listener *l,
		     const struct verdict_window *w, struct verdict *v)
{
	v->pid = p->pid;
	v->stopped = p->stopped;
	v->slow_ms = p->header.slow_ms;
	v->queue_now = l->live.queue_now;
	v->in_accept = l->in_accept;
	v->queue_peak = l->queue_peak;
	v->deepest = verdict_queue_peak(l);
	v->effective_backlog = l->effective_backlog;
	v->requested_backlog = l->requested_backlog;
	v->wanted_backlog = verdict_wanted_backlog(l);
	v->raised = (l->flags & AW_LF_RAISED) != 0;
	v->clamped = is_clamped(l);
	v->somaxconn = l->somaxconn;
	v->suggested_backlog = verdict_suggest_backlog(l);
	v->full_events = l->full_events;
	v->full_now_unprobed = l->full_events == 0 && overflow_now(l, NULL);
	v->socket_drops = l->live.drops;
	v->own_drops = verdict_own_drops(l);
	v->sampled = p->sampled != NULL || p->kernel_only;
	v->unix_socket = l->family == AF_UNIX;
	v->defer = (l->flags & AW_LF_DEFER_ACCEPT) ? VERDICT_DEFER_ON
		   : !drops_are_overflows(l, w)	   ? VERDICT_DEFER_UNKNOWN
						   : VERDICT_DEFER_OFF;
	v->slow_events = l->slow_events;
	v->last_slow_depth =
	    l->has_last_slow ? l->last_slow.depth : (uint32_t)UINT32_MAX;
	v->has_stack = model_stack_text(p, l->slow_stack) != NULL;
	v->event_loop = (l->flags & AW_LF_EVENT_LOOP) != 0;
	v->away_count = aw_hist_count(&l->away_ns);
	v->away_p99_ns = aw_hist_quantile(&l->away_ns, 0.99);
	v->away_max_ns = l->away_ns.max;
	v->wait_count = aw_hist_count(&l->queue_wait_ms);
	v->wait_p99_ms = aw_hist_quantile(&l->queue_wait_ms, 0.99);
	v->wait_max_ms = l->queue_wait_ms.max;
	v->since_progress_ns = sub0(p->now_mono_ns, verdict_last_progress(l));
	if (!w)
		return;
	v->recent_ns = w->recent_ns;
	if (!w->have)
		return;
	v->have_window = 1;
	v->window_ns = w->ns;
	v->window_drops = w->drops;
	v->window_slow_events = w->slow_events;
	v->have_netstat = w->have_netstat;
	v->listen_overflows = w->listen_overflows;
	v->listen_drops = w->listen_drops;
}

/* When evidence that last rose at the latest at `remembered` (else
 * `bound`) last rose, as an age at p's reading. */
static uint64_t rose_ago(const struct model_process *p, uint64_t remembered,
			 uint64_t bound)
{
	return sub0(p->now_mono_ns, remembered ? remembered : bound);
}

static uint64_t last_rose_ago(const struct model_process *p,
			      const struct model_listener *l,
			      const struct verdict_window *w,
			      enum verdict_kind k)
{
	switch (k) {
	case VERDICT_OVERFLOWING:
		return rose_ago(p, w->overflow_last_ns,
				verdict_overflow_bound(p, l));
	case VERDICT_SLOW:
		return rose_ago(p, w->slow_last_ns, verdict_slow_bound(p, l));
	case VERDICT_BACKLOG_SMALL:
		return rose_ago(p, w->peak_last_ns, verdict_peak_bound(p, l));
	default:
		return 0;
	}
}

static int assess_mask(const struct model_process *p,
		       const struct model_listener *l,
		       const struct verdict_window *w, unsigned int m,
		       int history, struct verdict *out)
{
	struct verdict v;
	int n = 0;

	memset(&v, 0, sizeof(v));
	evidence(p, l, w, &v);
	for (int k = 0; k < VERDICT_KINDS; k++) {
		if (!(m & (1u << k)))
			continue;
		out[n] = v;
		out[n].kind = (enum verdict_kind)k;
		out[n].history = history;
		if (history)
			out[n].last_rose_ago_ns =
			    last_rose_ago(p, l, w, (enum verdict_kind)k);
		n++;
	}
	return n;
}

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
