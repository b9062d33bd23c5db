/*
 * The Prometheus text exposition format (version 0.0.4): for node_exporter's
 * textfile collector or any scraper. One family at a time, each with its
 * # HELP and # TYPE lines once, then one sample per listener labelled
 * pid, comm, address and fd. Closed listeners are left out: their fd may
 * name a newer listener, which would repeat a label set.
 *
 * Histograms are cumulative at fixed bounds in seconds, counted from the
 * shim's log-linear buckets with aw_hist_count_le(): a bound counts the
 * buckets wholly at or below it, so a value in the shim bucket that
 * straddles a bound (at most 1/16 below it) is counted at the next bound,
 * never at a lower one. Buckets stay cumulative; +Inf equals _count.
 */
#include "report.h"

#include "format.h"
#include "histogram.h"

#include <inttypes.h>
#include <string.h>

#define PROM_LABELS 512

/* One fixed histogram bound: its le label, and the value in the
 * histogram's own unit (ns, or ms for the queue wait). */
struct prom_bound {
	const char *le;
	uint64_t v;
};

static const struct prom_bound ns_bounds[] = {
    {"1e-05", 10000ull},    {"5e-05", 50000ull},    {"0.0001", 100000ull},
    {"0.0005", 500000ull},  {"0.001", 1000000ull},  {"0.005", 5000000ull},
    {"0.01", 10000000ull},  {"0.025", 25000000ull}, {"0.05", 50000000ull},
    {"0.1", 100000000ull},  {"0.25", 250000000ull}, {"0.5", 500000000ull},
    {"1", 1000000000ull},   {"2.5", 2500000000ull}, {"5", 5000000000ull},
    {"10", 10000000000ull}, {"30", 30000000000ull}, {"60", 60000000000ull},
};

static const struct prom_bound ms_bounds[] = {
    {"0.001", 1}, {"0.005", 5},	 {"0.01", 10},	{"0.025", 25}, {"0.05", 50},
    {"0.1", 100}, {"0.25", 250}, {"0.5", 500},	{"1", 1000},   {"2.5", 2500},
    {"5", 5000},  {"10", 10000}, {"30", 30000}, {"60", 60000},
};

size_t report_prom_escape(char *dst, size_t dstlen, const char *src,
			  size_t srclen)
{
	size_t o = 0;

	if (dstlen == 0)
		return 0;
	for (size_t i = 0; i < srclen && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];
		char esc[3] = {0};
		if (c == '\\' || c == '"') {
			esc[0] = '\\';
			esc[1] = (char)c;
		} else if (c == '\n') {
			esc[0] = '\\';
			esc[1] = 'n';
		} else if (c < 0x20 || c >= 0x7f) {
			/* Control bytes, and bytes that may not be UTF-8. */
			esc[0] = '?';
		} else {
			esc[0] = (char)c;
		}
		size_t n = strlen(esc);
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

/* pid="..",comm="..",address="..",fd=".." (no braces). */
static void listener_labels(char *dst, size_t len,
			    const struct segment_snapshot *p,
			    const struct segment_listener *l)
{
	char comm[AW_COMM_LEN * 2 + 1], addr[AW_ADDR_LEN * 2 + 1];

	report_prom_escape(comm, sizeof(comm), p->comm, sizeof(p->comm));
	report_prom_escape(addr, sizeof(addr), l->address, sizeof(l->address));
	snprintf(dst, len,
		 "pid=\"%d\",comm=\"%s\",address=\"%s\",fd=\"%" PRId32 "\"",
		 (int)p->pid, comm, addr, l->fd);
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef int (*prom_value_fn)(const struct segment_snapshot *p,
			     const struct segment_listener *l, double *v);

/* A family of one sample per open listener. */
static void per_listener(FILE *out, const struct report *r, const char *name,
			 const char *type, const char *help, prom_value_fn fn)
{
	char labels[PROM_LABELS];
	double v;

	family(out, name, type, help);
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct segment_listener *l = &p->listener[j];
			if ((l->flags & AW_LF_CLOSED) || !fn(p, l, &v))
				continue;
			listener_labels(labels, sizeof(labels), p, l);
			fprintf(out, "%s{%s} %.17g\n", name, labels, v);
		}
	}
}

#define PROM_FN(fname, expr)                                                   \
	static int fname(const struct segment_snapshot *p,                     \
			 const struct segment_listener *l, double *v)          \
	{                                                                      \
		(void)p;                                                       \
		*v = (double)(expr);                                           \
		return 1;                                                      \
	}

PROM_FN(v_accepts, l->accepts)
PROM_FN(v_drained, l->drained)
PROM_FN(v_slow, l->slow_events)
PROM_FN(v_full, l->full_events)
PROM_FN(v_drops, l->live.drops)
PROM_FN(v_queue, l->live.queue_now)
PROM_FN(v_peak, l->queue_peak)
PROM_FN(v_effective, l->effective_backlog)
PROM_FN(v_clamped, (l->flags & AW_LF_CLAMPED) != 0)
PROM_FN(v_stalled, l->stalled != 0)
PROM_FN(v_in_accept, l->in_accept)

static int v_requested(const struct segment_snapshot *p,
		       const struct segment_listener *l, double *v)
{
	(void)p;
	*v = (double)l->requested_backlog;
	return !(l->flags & AW_LF_ADOPTED);
}

static int v_age(const struct segment_snapshot *p,
		 const struct segment_listener *l, double *v)
{
	if (!l->last_accept_mono_ns || p->now_mono_ns < l->last_accept_mono_ns)
		return 0;
	*v = (double)(p->now_mono_ns - l->last_accept_mono_ns) / 1e9;
	return 1;
}

static void errors_family(FILE *out, const struct report *r)
{
	char labels[PROM_LABELS];

	family(out, "acceptwatch_accept_errors_total", "counter",
	       "accept() failures by class (EAGAIN is not one).");
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct segment_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			listener_labels(labels, sizeof(labels), p, l);
			for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
				fprintf(out,
					"acceptwatch_accept_errors_total{%s,"
					"class=\"%s\"} %" PRIu64 "\n",
					labels, report_err_name(c),
					l->errors[c]);
		}
	}
}

enum prom_hist { HIST_GAP, HIST_AWAY, HIST_WAIT };

static const struct aw_hist *pick(const struct segment_listener *l,
				  enum prom_hist which)
{
	return which == HIST_GAP    ? &l->gap_ns
	       : which == HIST_AWAY ? &l->away_ns
				    : &l->queue_wait_ms;
}

static void hist_family(FILE *out, const struct report *r, const char *name,
			const char *help, enum prom_hist which)
{
	const struct prom_bound *b = which == HIST_WAIT ? ms_bounds : ns_bounds;
	size_t nb = which == HIST_WAIT ? sizeof(ms_bounds) / sizeof(*b)
				       : sizeof(ns_bounds) / sizeof(*b);
	double unit = which == HIST_WAIT ? 1e3 : 1e9;
	char labels[PROM_LABELS];

	family(out, name, "histogram", help);
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct segment_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			const struct aw_hist *h = pick(l, which);
			listener_labels(labels, sizeof(labels), p, l);
			for (size_t k = 0; k < nb; k++)
				fprintf(out,
					"%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n",
					name, labels, b[k].le,
					aw_hist_count_le(h, b[k].v));
			uint64_t n = aw_hist_count(h);
			fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n",
				name, labels, n);
			fprintf(out, "%s_sum{%s} %.17g\n", name, labels,
				(double)h->sum / unit);
			fprintf(out, "%s_count{%s} %" PRIu64 "\n", name, labels,
				n);
		}
	}
}

static void process_families(FILE *out, const struct report *r)
{
	char comm[AW_COMM_LEN * 2 + 1];

	family(out, "acceptwatch_listeners_lost_total", "counter",
	       "Listeners the shim could not track: its table was full.");
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		report_prom_escape(comm, sizeof(comm), p->comm,
				   sizeof(p->comm));
		fprintf(
		    out,
		    "acceptwatch_listeners_lost_total{pid=\"%d\",comm=\"%s\"}"
		    " %" PRIu64 "\n",
		    (int)p->pid, comm, p->header.listeners_lost);
	}
	family(out, "acceptwatch_segments_unreadable", "gauge",
	       "Segments found but not readable by this reader.");
	fprintf(out, "acceptwatch_segments_unreadable %zu\n", r->n_unreadable);
}

void report_prometheus(FILE *out, const struct report *r)
{
	per_listener(out, r, "acceptwatch_accepts_total", "counter",
		     "Connections accepted (accept/accept4 successes).",
		     v_accepts);
	per_listener(out, r, "acceptwatch_accept_drained_total", "counter",
		     "accept() calls that found the queue empty (EAGAIN).",
		     v_drained);
	errors_family(out, r);
	per_listener(out, r, "acceptwatch_slow_events_total", "counter",
		     "Connections that waited past the slow threshold while "
		     "the accept loop was away.",
		     v_slow);
	per_listener(out, r, "acceptwatch_queue_full_events_total", "counter",
		     "Shim probes that found the accept queue full.", v_full);
	per_listener(out, r, "acceptwatch_socket_drops_total", "counter",
		     "Connection attempts the kernel dropped on this socket "
		     "(sk_drops: listen overflows and drops).",
		     v_drops);
	per_listener(out, r, "acceptwatch_queue_length", "gauge",
		     "Connections in the accept queue now.", v_queue);
	per_listener(out, r, "acceptwatch_queue_peak", "gauge",
		     "Deepest accept queue the shim has seen.", v_peak);
	per_listener(out, r, "acceptwatch_backlog_effective", "gauge",
		     "Backlog in force (after the somaxconn clamp).",
		     v_effective);
	per_listener(out, r, "acceptwatch_backlog_requested", "gauge",
		     "Backlog the program passed to listen().", v_requested);
	per_listener(out, r, "acceptwatch_backlog_clamped", "gauge",
		     "1 when net.core.somaxconn cut the requested backlog.",
		     v_clamped);
	per_listener(out, r, "acceptwatch_stalled", "gauge",
		     "1 when connections wait and no thread accepts them.",
		     v_stalled);
	per_listener(out, r, "acceptwatch_threads_in_accept", "gauge",
		     "Threads blocked in accept() on this listener now.",
		     v_in_accept);
	per_listener(out, r, "acceptwatch_last_accept_age_seconds", "gauge",
		     "Seconds since the last accepted connection.", v_age);
	hist_family(
	    out, r, "acceptwatch_accept_gap_seconds",
	    "Time between a thread's successive accepts on the listener.",
	    HIST_GAP);
	hist_family(out, r, "acceptwatch_accept_away_seconds",
		    "Time a thread spent away from accept() between calls.",
		    HIST_AWAY);
	hist_family(out, r, "acceptwatch_queue_wait_seconds",
		    "Time accepted connections waited in the queue "
		    "(millisecond resolution).",
		    HIST_WAIT);
	process_families(out, r);
}
