/*
 * The sampled processes as snapshots. Figures a segment has and samples
 * cannot give stay at their "unknown" values: the requested backlog
 * (adopted: null), gap times, error counts, events and stacks.
 */
#include "watch_model.h"

#include "bypass.h"
#include "format.h"
#include "procinfo.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(struct watch_view *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct watch_view *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n_notes == WATCH_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(v->note[v->n_notes++], WATCH_NOTE_LEN, fmt, ap);
	va_end(ap);
}

/*
 * Time away per accept as a histogram: each stretch away of D holding k
 * accepts (k = D over the mean time away per accept, rounded, at least
 * 1) counts k times D / k. A stretch seen whole is one accept's time
 * away; a queue that never emptied makes one long stretch of many.
 */
static void fill_away(const struct sampler *s, const struct sampler_listener *l,
		      struct aw_hist *h)
{
	uint64_t mean = sampler_away_mean_ns(s, l);

	if (mean == 0)
		return;
	for (size_t i = 0; i < l->n_episodes; i++) {
		uint64_t d = l->episode[i];
		uint64_t k = (d + mean / 2) / mean;
		if (k == 0)
			k = 1;
		for (uint64_t j = 0; j < k; j++)
			aw_hist_add(h, d / k);
	}
}

static void fill_listener(const struct sampler *s, const struct watch_view *v,
			  const struct model_process *snap, uint32_t i,
			  struct model_listener *l)
{
	const struct sampler_listener *sl = &v->p->listener[i];

	memset(l, 0, sizeof(*l));
	l->slot = i;
	l->consistent = 1;
	l->fd = sl->fd;
	l->family = sl->family;
	l->ino = sl->ino;
	snprintf(l->address, sizeof(l->address), "%s", sl->address);
	/* The program's wish is not in the kernel: only what it got. */
	l->requested_backlog = -1;
	l->passed_backlog = (int32_t)sl->backlog;
	l->effective_backlog = sl->backlog;
	l->somaxconn = s->somaxconn;
	l->flags = AW_LF_ADOPTED | (sl->present ? 0 : AW_LF_CLOSED) |
		   (sl->defer == 1 ? AW_LF_DEFER_ACCEPT : 0);
	l->fds = sl->fd >= 0;
	l->listen_mono_ns = s->start_ns; /* listening at least since then */
	l->samples = sl->dumps;
	l->queue_now = sl->queue_now;
	l->queue_peak = sl->queue_peak;
	l->full_events = sl->full_events;
	/* The socket's lifetime count, as a segment has it: only its rise
	 * during the watch is judged (watch_model_window). */
	l->drops = sl->drops_now;
	l->drops_mono_ns = s->now_ns;
	/* The watch's first reading is its baseline: only the rise during
	 * the watch is charged (verdict_own_drops), dated at the latest. */
	l->drops_base = sl->drops_first;
	l->drops_base_mono_ns = s->start_ns;
	l->drops_rise_mono_ns = sl->drops_now > sl->drops_first ? s->now_ns : 0;
	l->sample_mono_ns = s->now_ns;
	l->slow_events = sl->slow_waits;
	l->accepts = sampler_accepts(sl);
	l->last_accept_mono_ns = sl->last_accept_ns;
	l->in_accept = sl->in_accept_now;
	/* Without thread states, or with an edge-triggered listener, no
	 * thread can be said to be away from accept: only a stop can. */
	l->in_accept_unknown = !v->threads_known || sl->edge_triggered;
	fill_away(s, sl, &l->away_ns);
	l->queue_wait_ms = sl->queue_wait_ms;
	l->live.queue_known = sl->present;
	l->live.live = sl->present && sl->has_drops;
	l->live.queue_now = sl->queue_now;
	l->live.kernel_backlog = sl->backlog;
	l->live.drops = sl->drops_now;
	l->stalled = verdict_stalled_now(snap, l);
}

void watch_model_window(const struct sampler *s, const struct sampler_proc *p,
			const struct sampler_listener *l,
			struct verdict_window *w)
{
	memset(w, 0, sizeof(*w));
	w->have = 1;
	w->ns = s->now_ns - s->start_ns;
	w->accepts = sampler_accepts(l);
	w->drops = l->drops_now - l->drops_first;
	w->full_events = l->full_events;
	w->slow_events = l->slow_waits;
	w->defer_unknown = l->defer < 0;
	/*
	 * The window is the watch: evidence from before it (the socket's
	 * drops up to the first reading, a lifetime count) is history. Drops
	 * that did not rise since the first reading rose before the watch
	 * began: remembered as the nanosecond before it, outside the window.
	 * What rose during the watch is in the window's deltas.
	 */
	w->recent_ns = w->ns ? w->ns : 1;
	w->overflow_last_ns = s->start_ns - 1;
	if (p->have_netstat) {
		w->have_netstat = 1;
		w->listen_overflows =
		    p->netstat_last.overflows - p->netstat_first.overflows;
		w->listen_drops =
		    p->netstat_last.drops - p->netstat_first.drops;
	}
}

/* What the listeners' drops mean: the count from before the watch, and
 * drops that TCP_DEFER_ACCEPT may make when it cannot be read. */
static void listener_notes(struct watch_view *v)
{
	const struct sampler_proc *p = v->p;
	int defer_said = 0;

	for (size_t i = 0; i < p->n_listeners; i++) {
		const struct sampler_listener *l = &p->listener[i];
		if (l->has_drops && l->drops_first > 0)
			note(v,
			     "%s: %" PRIu64 " socket drops before the watch "
			     "began (the socket's lifetime count), +%" PRIu64
			     " during it: only the rise is judged",
			     l->address, l->drops_first,
			     l->drops_now - l->drops_first);
		if (l->present && l->defer < 0 && !defer_said) {
			note(v,
			     "%s: TCP_DEFER_ACCEPT unknown (the socket cannot "
			     "be duplicated: another user, or yama "
			     "ptrace_scope): its socket drops may be the "
			     "handshake ACKs it discards, so only a queue "
			     "seen full is called overflow",
			     l->address);
			defer_said = 1;
		}
	}
}

static void notes(const struct sampler *s, struct watch_view *v,
		  const struct model_process *snap)
{
	const struct sampler_proc *p = v->p;
	char span[FMT_DURATION_LEN], total[FMT_DURATION_LEN];

	if (!v->threads_known)
		note(v,
		     "thread states unavailable: pid %d belongs to another "
		     "user (uid %u) and its syscall and wchan files are "
		     "refused; socket-level figures only",
		     (int)p->pid, (unsigned)p->uid);
	else if (!p->syscall_known)
		note(v, "syscall files refused (another user, or yama "
			"ptrace_scope): thread states from wchan, without fds");
	if (!p->fds_readable)
		note(v,
		     "descriptors unreadable: the listeners shown are every "
		     "listener of uid %u",
		     (unsigned)p->uid);
	if (p->n_listeners == 0)
		note(v,
		     "no TCP listener of pid %d in this network namespace "
		     "(in another one? run watch inside it: nsenter -t %d -n)",
		     (int)p->pid, (int)p->pid);
	for (size_t i = 0; i < p->n_listeners; i++)
		if (p->listener[i].edge_triggered) {
			note(v,
			     "%s is in an epoll set edge-triggered "
			     "(EPOLLET%s): a thread in epoll_wait says nothing "
			     "about accepting, so no time away and no thread "
			     "verdict",
			     p->listener[i].address,
			     (p->bypass & BYPASS_GO) ? ", Go's netpoller" : "");
			break;
		}
	listener_notes(v);
	if (p->threads_cut)
		note(v, "%zu threads not followed (past %d)", p->threads_cut,
		     SAMPLER_MAX_THREADS);
	if (p->stopped_samples) {
		fmt_duration(span, sizeof(span), p->stopped_ns);
		fmt_duration(total, sizeof(total), s->now_ns - s->start_ns);
		note(v, "stopped %s of %s (%.1f%% of samples)%s", span, total,
		     100.0 * (double)p->stopped_samples /
			 (double)(p->samples ? p->samples : 1),
		     snap->stopped ? ", and stopped now" : "");
	}
	if (p->gone)
		note(v, "pid %d exited during the watch", (int)p->pid);
}

static int fill_proc(const struct sampler *s, struct watch_view *v,
		     struct model_process *snap)
{
	const struct sampler_proc *p = v->p;

	memset(snap, 0, sizeof(*snap));
	snprintf(snap->name, sizeof(snap->name), "sampled.%d", (int)p->pid);
	snap->pid = snap->ns_pid = p->pid;
	snap->header.somaxconn = s->somaxconn;
	snap->header.slow_ms = s->slow_ms;
	snprintf(snap->comm, sizeof(snap->comm), "%s", p->comm);
	snap->alive = !p->gone;
	snap->stopped = !p->gone && p->stopped_now;
	snap->bypass = p->bypass;
	snap->now_mono_ns = s->now_ns;
	snap->now_real_ns = s->now_real_ns;
	snap->sampled = v;
	v->threads_known = p->syscall_known || p->wchan_known;
	if (p->n_listeners) {
		snap->listener =
		    calloc(p->n_listeners, sizeof(*snap->listener));
		v->lv = calloc(p->n_listeners, sizeof(*v->lv));
		if (!snap->listener || !v->lv)
			return -1;
	}
	snap->n_listeners = (uint32_t)p->n_listeners;
	for (uint32_t i = 0; i < snap->n_listeners; i++) {
		struct verdict_window w;
		fill_listener(s, v, snap, i, &snap->listener[i]);
		watch_model_window(s, p, &p->listener[i], &w);
		v->lv[i].n =
		    verdict_assess(snap, &snap->listener[i], &w, v->lv[i].v);
		v->lv[i].away_mean_ns =
		    sampler_away_mean_ns(s, &p->listener[i]);
	}
	notes(s, v, snap);
	return 0;
}

int watch_model_build(struct watch_model *m, const struct sampler *s)
{
	memset(m, 0, sizeof(*m));
	m->r.proc = calloc(s->n_proc ? s->n_proc : 1, sizeof(*m->r.proc));
	m->view = calloc(s->n_proc ? s->n_proc : 1, sizeof(*m->view));
	if (!m->r.proc || !m->view)
		return -1;
	for (size_t i = 0; i < s->n_proc; i++) {
		m->view[i].s = s;
		m->view[i].p = &s->proc[i];
		m->r.n_proc++;
		if (fill_proc(s, &m->view[i], &m->r.proc[i]))
			return -1;
	}
	return 0;
}

void watch_model_free(struct watch_model *m)
{
	for (size_t i = 0; i < m->r.n_proc; i++) {
		free(m->r.proc[i].listener);
		free(m->view[i].lv);
	}
	free(m->r.proc);
	free(m->view);
	memset(m, 0, sizeof(*m));
}
