/*
 * The Prometheus text exposition format (version 0.0.4): for the exporter
 * (acceptwatch serve), node_exporter's textfile collector or any scraper.
 * One family at a time, each with its # HELP and # TYPE lines once.
 *
 * Two kinds of series, so that sum() never counts a figure twice:
 *  - socket series (acceptwatch_socket_*), once per listening socket,
 *    labelled address and inode (the socket's inode, as `ss -e` and
 *    /proc/PID/fd show it: stable for the socket's life, shared by every
 *    process holding it). Drops, the queue and the backlog belong to the
 *    socket: a pre-fork server's master and workers each read the same
 *    figures, which are printed once.
 *  - process series (accepts, gaps, slow events...), once per process and
 *    listener, labelled pid, comm, address, inode and fd; or, by_socket,
 *    summed over the processes holding each socket and labelled address and
 *    inode only: no pid, so recycled workers do not churn series (but an
 *    exited worker's counts leave the sum: rate() takes the drop for a
 *    counter reset).
 * Closed listeners are left out: their fd may name a newer listener, which
 * would repeat a label set. A listener whose socket identity the shim could
 * not read (inode 0) has no socket to group by: it has process series only,
 * and none by_socket.
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
#include "version.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Room for every label of a row, each value escaped (twice its bytes at
 * worst). */
#define PROM_SOCK_LABELS (AW_ADDR_LEN * 2 + 64)
#define PROM_LABELS (PROM_SOCK_LABELS + AW_COMM_LEN * 2 + 64)

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

_Static_assert(sizeof(ms_bounds) <= sizeof(ns_bounds),
	       "hist_family's le[] holds the longer list");

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

/* One open listener of one process, a member of its socket's group. */
struct prom_member {
	const struct segment_snapshot *p;
	const struct segment_listener *l;
};

/*
 * One sample row: a process's listener, or a socket. For a socket, l is
 * its first member (descriptive fields), and sum, when by_socket, holds
 * the process figures added up over its members.
 */
struct prom_row {
	char labels[PROM_LABELS];
	const struct segment_snapshot *p; /* a process's row: its process */
	const struct segment_listener *l;
	struct segment_listener *sum; /* heap, or NULL */
	size_t first, n;	      /* members[first .. first + n) */
	size_t n_procs;
};

struct prom_doc {
	const struct report *r;
	struct prom_member *member; /* open listeners with an inode, grouped */
	size_t n_members;
	struct prom_row *proc_row; /* one per open listener */
	size_t n_proc_rows;
	struct prom_row *sock_row; /* one per socket */
	size_t n_sock_rows;
	int by_socket;
};

static void socket_labels(char *dst, size_t len,
			  const struct segment_listener *l)
{
	char addr[AW_ADDR_LEN * 2 + 1];

	report_prom_escape(addr, sizeof(addr), l->address, sizeof(l->address));
	snprintf(dst, len, "address=\"%s\",inode=\"%" PRIu64 "\"", addr,
		 l->ino);
}

static void process_labels(char *dst, size_t len,
			   const struct segment_snapshot *p,
			   const struct segment_listener *l)
{
	char comm[AW_COMM_LEN * 2 + 1], sock[PROM_SOCK_LABELS];

	report_prom_escape(comm, sizeof(comm), p->comm, sizeof(p->comm));
	socket_labels(sock, sizeof(sock), l);
	snprintf(dst, len, "pid=\"%d\",comm=\"%s\",%s,fd=\"%" PRId32 "\"",
		 (int)p->pid, comm, sock, l->fd);
}

static int member_cmp(const void *a, const void *b)
{
	const struct prom_member *x = a, *y = b;

	if (x->l->dev != y->l->dev)
		return x->l->dev < y->l->dev ? -1 : 1;
	if (x->l->ino != y->l->ino)
		return x->l->ino < y->l->ino ? -1 : 1;
	if (x->p->pid != y->p->pid)
		return x->p->pid < y->p->pid ? -1 : 1;
	return (x->l->slot > y->l->slot) - (x->l->slot < y->l->slot);
}

/* The process figures of a socket's members added up: counts and
 * histograms summed, the deepest peak and the latest accept kept. */
static void sum_members(const struct prom_doc *d, const struct prom_row *s,
			struct segment_listener *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = s->first; i < s->first + s->n; i++) {
		const struct segment_listener *l = d->member[i].l;
		sum->accepts += l->accepts;
		sum->drained += l->drained;
		for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
			sum->errors[c] += l->errors[c];
		sum->slow_events += l->slow_events;
		sum->full_events += l->full_events;
		sum->in_accept += l->in_accept;
		if (l->queue_peak > sum->queue_peak)
			sum->queue_peak = l->queue_peak;
		if (l->last_accept_mono_ns > sum->last_accept_mono_ns)
			sum->last_accept_mono_ns = l->last_accept_mono_ns;
		aw_hist_merge(&sum->gap_ns, &l->gap_ns);
		aw_hist_merge(&sum->away_ns, &l->away_ns);
		aw_hist_merge(&sum->queue_wait_ms, &l->queue_wait_ms);
	}
}

static void doc_free(struct prom_doc *d)
{
	for (size_t i = 0; i < d->n_sock_rows; i++)
		free(d->sock_row[i].sum);
	free(d->member);
	free(d->proc_row);
	free(d->sock_row);
	memset(d, 0, sizeof(*d));
}

static int add_socket_rows(struct prom_doc *d)
{
	qsort(d->member, d->n_members, sizeof(*d->member), member_cmp);
	for (size_t i = 0; i < d->n_members; i++) {
		const struct prom_member *m = &d->member[i];
		struct prom_row *s =
		    d->n_sock_rows ? &d->sock_row[d->n_sock_rows - 1] : NULL;
		if (s && s->l->dev == m->l->dev && s->l->ino == m->l->ino) {
			s->n++;
			s->n_procs += m->p != d->member[i - 1].p;
			continue;
		}
		s = &d->sock_row[d->n_sock_rows++];
		s->l = m->l;
		s->first = i;
		s->n = 1;
		s->n_procs = 1;
		socket_labels(s->labels, sizeof(s->labels), m->l);
	}
	for (size_t i = 0; d->by_socket && i < d->n_sock_rows; i++) {
		struct prom_row *s = &d->sock_row[i];
		s->sum = malloc(sizeof(*s->sum));
		if (!s->sum)
			return -1;
		sum_members(d, s, s->sum);
	}
	return 0;
}

/* The rows of r: 0, or -1 when out of memory (d then empty). */
static int doc_build(struct prom_doc *d, const struct report *r, int by_socket)
{
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	d->r = r;
	d->by_socket = by_socket;
	for (size_t i = 0; i < r->n_proc; i++)
		for (uint32_t j = 0; j < r->proc[i].n_listeners; j++)
			n += !(r->proc[i].listener[j].flags & AW_LF_CLOSED);
	if (n == 0)
		return 0;
	d->member = calloc(n, sizeof(*d->member));
	d->proc_row = calloc(n, sizeof(*d->proc_row));
	d->sock_row = calloc(n, sizeof(*d->sock_row));
	if (!d->member || !d->proc_row || !d->sock_row) {
		doc_free(d);
		return -1;
	}
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct segment_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			struct prom_row *row = &d->proc_row[d->n_proc_rows++];
			row->p = p;
			row->l = l;
			process_labels(row->labels, sizeof(row->labels), p, l);
			if (l->ino == 0)
				continue;
			d->member[d->n_members].p = p;
			d->member[d->n_members].l = l;
			d->n_members++;
		}
	}
	if (add_socket_rows(d)) {
		doc_free(d);
		return -1;
	}
	return 0;
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The rows process figures are printed for: each process's listener, or
 * each socket's sums. */
static const struct prom_row *process_rows(const struct prom_doc *d, size_t *n)
{
	*n = d->by_socket ? d->n_sock_rows : d->n_proc_rows;
	return d->by_socket ? d->sock_row : d->proc_row;
}

static const struct segment_listener *figures(const struct prom_row *row)
{
	return row->sum ? row->sum : row->l;
}

typedef int (*prom_value_fn)(const struct prom_doc *d,
			     const struct prom_row *row, double *v);

static void samples(FILE *out, const struct prom_doc *d, const char *name,
		    const struct prom_row *rows, size_t n, prom_value_fn fn)
{
	double v;

	for (size_t i = 0; i < n; i++)
		if (fn(d, &rows[i], &v))
			fprintf(out, "%s{%s} %.17g\n", name, rows[i].labels, v);
}

static void per_process(FILE *out, const struct prom_doc *d, const char *name,
			const char *type, const char *help, prom_value_fn fn)
{
	size_t n;
	const struct prom_row *rows = process_rows(d, &n);

	family(out, name, type, help);
	samples(out, d, name, rows, n, fn);
}

static void per_socket(FILE *out, const struct prom_doc *d, const char *name,
		       const char *type, const char *help, prom_value_fn fn)
{
	family(out, name, type, help);
	samples(out, d, name, d->sock_row, d->n_sock_rows, fn);
}

#define PROM_FN(fname, expr)                                                   \
	static int fname(const struct prom_doc *d, const struct prom_row *row, \
			 double *v)                                            \
	{                                                                      \
		const struct segment_listener *l = figures(row);               \
		(void)d;                                                       \
		*v = (double)(expr);                                           \
		return 1;                                                      \
	}

PROM_FN(v_accepts, l->accepts)
PROM_FN(v_drained, l->drained)
PROM_FN(v_slow, l->slow_events)
PROM_FN(v_full, l->full_events)
PROM_FN(v_peak, l->queue_peak)
PROM_FN(v_in_accept, l->in_accept)

/* The socket's description, from its first member (row->l, never the
 * sums). */
static int v_effective(const struct prom_doc *d, const struct prom_row *row,
		       double *v)
{
	(void)d;
	*v = (double)row->l->effective_backlog;
	return 1;
}

static int v_clamped(const struct prom_doc *d, const struct prom_row *row,
		     double *v)
{
	(void)d;
	*v = (row->l->flags & AW_LF_CLAMPED) != 0;
	return 1;
}

/* TCP_DEFER_ACCEPT on the socket, as any member saw it (the flag is
 * found by a probe, so one member may know it before another). Its
 * socket drops then also count the data-less handshake ACKs the option
 * discards: drops alone are no overflow there. */
static int v_defer(const struct prom_doc *d, const struct prom_row *row,
		   double *v)
{
	int on = 0;

	for (size_t i = row->first; i < row->first + row->n; i++)
		on = on || (d->member[i].l->flags & AW_LF_DEFER_ACCEPT);
	*v = on;
	return 1;
}

static int v_procs(const struct prom_doc *d, const struct prom_row *row,
		   double *v)
{
	(void)d;
	*v = (double)row->n_procs;
	return 1;
}

/* The socket's own readings, seen by every member: the largest one (a
 * member read later may have seen more), never a sum. */
static int v_drops(const struct prom_doc *d, const struct prom_row *row,
		   double *v)
{
	uint64_t m = 0;

	for (size_t i = row->first; i < row->first + row->n; i++)
		if (d->member[i].l->live.drops > m)
			m = d->member[i].l->live.drops;
	*v = (double)m;
	return 1;
}

static int v_queue(const struct prom_doc *d, const struct prom_row *row,
		   double *v)
{
	uint32_t m = 0;

	for (size_t i = row->first; i < row->first + row->n; i++)
		if (d->member[i].l->live.queue_now > m)
			m = d->member[i].l->live.queue_now;
	*v = (double)m;
	return 1;
}

/* Stalled: connections wait and no process holding the socket takes
 * them, i.e. every member is stalled. One accepting worker keeps the
 * socket moving. */
static int v_stalled(const struct prom_doc *d, const struct prom_row *row,
		     double *v)
{
	int all = 1;

	for (size_t i = row->first; i < row->first + row->n; i++)
		all = all && d->member[i].l->stalled;
	*v = all;
	return 1;
}

/* The backlog the program asked for: unknown in a process that adopted
 * the socket (inherited it from a program without the shim). */
static int v_requested(const struct prom_doc *d, const struct prom_row *row,
		       double *v)
{
	for (size_t i = row->first; i < row->first + row->n; i++) {
		const struct segment_listener *l = d->member[i].l;
		if (!(l->flags & AW_LF_ADOPTED)) {
			*v = (double)l->requested_backlog;
			return 1;
		}
	}
	return 0;
}

/* Seconds since the row's last accept, at the time its process was read
 * (by_socket: the latest accept of any member, against that member's
 * clock reading; every snapshot reads the same CLOCK_MONOTONIC). */
static int v_age(const struct prom_doc *d, const struct prom_row *row,
		 double *v)
{
	const struct segment_listener *l = figures(row);
	uint64_t now = 0;

	if (row->p) {
		now = row->p->now_mono_ns;
	} else {
		for (size_t i = row->first; i < row->first + row->n; i++)
			if (d->member[i].p->now_mono_ns > now)
				now = d->member[i].p->now_mono_ns;
	}
	if (!l->last_accept_mono_ns || now < l->last_accept_mono_ns)
		return 0;
	*v = (double)(now - l->last_accept_mono_ns) / 1e9;
	return 1;
}

static void errors_family(FILE *out, const struct prom_doc *d)
{
	size_t n;
	const struct prom_row *rows = process_rows(d, &n);

	family(out, "acceptwatch_accept_errors_total", "counter",
	       "accept() failures by class (EAGAIN is not one).");
	for (size_t i = 0; i < n; i++) {
		const struct segment_listener *l = figures(&rows[i]);
		for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
			fprintf(out,
				"acceptwatch_accept_errors_total{%s,"
				"class=\"%s\"} %" PRIu64 "\n",
				rows[i].labels, report_err_name(c),
				l->errors[c]);
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

/*
 * aw_hist_count_le(h, b[k].v) for every bound, in one pass over the
 * buckets (bounds ascending): the buckets wholly at or below a bound, the
 * last (open-ended) bucket never. A scrape of many listeners spent a tenth
 * of its time walking the buckets again for each bound.
 */
static void hist_le_counts(const struct aw_hist *h, const struct prom_bound *b,
			   size_t nb, uint64_t *le)
{
	uint64_t n = 0;
	size_t k = 0;

	for (uint32_t i = 0; i + 1 < AW_HIST_BUCKETS && k < nb; i++) {
		uint64_t high =
		    aw_hist_bucket_low(i) + aw_hist_bucket_width(i) - 1;
		while (k < nb && high > b[k].v)
			le[k++] = n;
		n += h->bucket[i];
	}
	while (k < nb)
		le[k++] = n;
}

static void hist_family(FILE *out, const struct prom_doc *d, const char *name,
			const char *help, enum prom_hist which)
{
	const struct prom_bound *b = which == HIST_WAIT ? ms_bounds : ns_bounds;
	size_t nb = which == HIST_WAIT ? sizeof(ms_bounds) / sizeof(*b)
				       : sizeof(ns_bounds) / sizeof(*b);
	double unit = which == HIST_WAIT ? 1e3 : 1e9;
	uint64_t le[sizeof(ns_bounds) / sizeof(*ns_bounds)];
	size_t n;
	const struct prom_row *rows = process_rows(d, &n);

	family(out, name, "histogram", help);
	for (size_t i = 0; i < n; i++) {
		const struct aw_hist *h = pick(figures(&rows[i]), which);
		const char *labels = rows[i].labels;
		hist_le_counts(h, b, nb, le);
		for (size_t k = 0; k < nb; k++)
			fprintf(out, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n",
				name, labels, b[k].le, le[k]);
		uint64_t c = aw_hist_count(h);
		fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name,
			labels, c);
		fprintf(out, "%s_sum{%s} %.17g\n", name, labels,
			(double)h->sum / unit);
		fprintf(out, "%s_count{%s} %" PRIu64 "\n", name, labels, c);
	}
}

static uint64_t listeners_lost(const struct segment_snapshot *p)
{
	return p->header.listeners_lost;
}

static uint64_t events_lost(const struct segment_snapshot *p)
{
	return p->header.events_lost;
}

/* A per-process counter of the header: by pid, or summed by socket. */
static void process_counter(FILE *out, const struct prom_doc *d,
			    const char *name, const char *help,
			    uint64_t (*value)(const struct segment_snapshot *))
{
	const struct report *r = d->r;
	char comm[AW_COMM_LEN * 2 + 1];
	uint64_t sum = 0;

	family(out, name, "counter", help);
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct segment_snapshot *p = &r->proc[i];
		sum += value(p);
		if (d->by_socket)
			continue;
		report_prom_escape(comm, sizeof(comm), p->comm,
				   sizeof(p->comm));
		fprintf(out, "%s{pid=\"%d\",comm=\"%s\"} %" PRIu64 "\n", name,
			(int)p->pid, comm, value(p));
	}
	if (d->by_socket)
		fprintf(out, "%s %" PRIu64 "\n", name, sum);
}

static void lost_families(FILE *out, const struct prom_doc *d)
{
	process_counter(
	    out, d, "acceptwatch_listeners_lost_total",
	    "Listeners the shim could not track: its table was full.",
	    listeners_lost);
	process_counter(out, d, "acceptwatch_events_lost_total",
			"Slow events missing from the event list: their "
			"ring entry was busy. The slow counts have them.",
			events_lost);
}

static void global_families(FILE *out, const struct prom_doc *d)
{
	family(out, "acceptwatch_build_info", "gauge",
	       "The reader's version and the segment layout it reads.");
	fprintf(out, "acceptwatch_build_info{version=\"%s\",abi=\"%u\"} 1\n",
		AW_VERSION, (unsigned)AW_ABI_VERSION);
	family(out, "acceptwatch_processes", "gauge",
	       "Processes under the shim whose segments were read.");
	fprintf(out, "acceptwatch_processes %zu\n", d->r->n_proc);
	family(out, "acceptwatch_segments_unreadable", "gauge",
	       "Segments found but not readable by this reader.");
	fprintf(out, "acceptwatch_segments_unreadable %zu\n",
		d->r->n_unreadable);
}

static void socket_families(FILE *out, const struct prom_doc *d)
{
	per_socket(out, d, "acceptwatch_socket_drops_total", "counter",
		   "Socket drops: SYNs and handshake ACKs the kernel dropped "
		   "on this listening socket (sk_drops, retries included; "
		   "with TCP_DEFER_ACCEPT also the data-less ACKs it "
		   "discards), once per socket.",
		   v_drops);
	per_socket(out, d, "acceptwatch_socket_defer_accept", "gauge",
		   "1 when TCP_DEFER_ACCEPT is set: socket drops alone are "
		   "then no overflow.",
		   v_defer);
	per_socket(out, d, "acceptwatch_socket_queue_length", "gauge",
		   "Connections in the socket's accept queue now.", v_queue);
	per_socket(out, d, "acceptwatch_socket_backlog_effective", "gauge",
		   "Backlog in force (after the somaxconn clamp).",
		   v_effective);
	per_socket(out, d, "acceptwatch_socket_backlog_requested", "gauge",
		   "Backlog the program passed to listen().", v_requested);
	per_socket(out, d, "acceptwatch_socket_backlog_clamped", "gauge",
		   "1 when net.core.somaxconn cut the requested backlog.",
		   v_clamped);
	per_socket(out, d, "acceptwatch_socket_stalled", "gauge",
		   "1 when connections wait and no process holding the "
		   "socket accepts them.",
		   v_stalled);
	per_socket(out, d, "acceptwatch_socket_processes", "gauge",
		   "Processes under the shim holding the socket.", v_procs);
}

static void process_families(FILE *out, const struct prom_doc *d)
{
	per_process(out, d, "acceptwatch_accepts_total", "counter",
		    "Connections accepted (accept/accept4 successes).",
		    v_accepts);
	per_process(out, d, "acceptwatch_accept_drained_total", "counter",
		    "accept() calls that found the queue empty (EAGAIN).",
		    v_drained);
	errors_family(out, d);
	per_process(out, d, "acceptwatch_slow_events_total", "counter",
		    "Connections that waited past the slow threshold while "
		    "the accept loop was away.",
		    v_slow);
	per_process(out, d, "acceptwatch_queue_full_events_total", "counter",
		    "Shim probes that found the accept queue full.", v_full);
	per_process(out, d, "acceptwatch_queue_peak", "gauge",
		    "Deepest accept queue the shim has seen.", v_peak);
	per_process(out, d, "acceptwatch_threads_in_accept", "gauge",
		    "Threads blocked in accept() on this listener now.",
		    v_in_accept);
	per_process(out, d, "acceptwatch_last_accept_age_seconds", "gauge",
		    "Seconds since the last accepted connection.", v_age);
	hist_family(
	    out, d, "acceptwatch_accept_gap_seconds",
	    "Time between a thread's successive accepts on the listener.",
	    HIST_GAP);
	hist_family(out, d, "acceptwatch_accept_away_seconds",
		    "Time a thread spent away from accept() between calls.",
		    HIST_AWAY);
	hist_family(out, d, "acceptwatch_queue_wait_seconds",
		    "Time accepted connections waited in the queue "
		    "(millisecond resolution).",
		    HIST_WAIT);
	lost_families(out, d);
}

int report_prometheus(FILE *out, const struct report *r, int by_socket)
{
	struct prom_doc d;

	if (doc_build(&d, r, by_socket))
		return -1;
	global_families(out, &d);
	socket_families(out, &d);
	process_families(out, &d);
	doc_free(&d);
	return 0;
}

void report_prom_scrape_duration(FILE *out, double seconds)
{
	fprintf(out,
		"# HELP acceptwatch_scrape_duration_seconds Time this "
		"scrape took to read the segments.\n"
		"# TYPE acceptwatch_scrape_duration_seconds gauge\n"
		"acceptwatch_scrape_duration_seconds %.6f\n",
		seconds);
}
