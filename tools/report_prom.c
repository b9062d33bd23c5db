/*
 * The Prometheus text exposition format (version 0.0.4): for the exporter
 * (acceptwatch serve), node_exporter's textfile collector or any scraper.
 * One family at a time, each with its # HELP and # TYPE lines once.
 *
 * Two kinds of series, so that sum() never counts a figure twice:
 *  - socket series (acceptwatch_socket_*), once per listening socket,
 *    labelled address, inode (the socket's inode, as `ss -e` and
 *    /proc/PID/fd show it: stable for the socket's life, shared by every
 *    process holding it) and netns (the inode of its network namespace,
 *    when the reader can see it: two servers on 127.0.0.1:80 in two
 *    namespaces). Drops, the queue and the backlog belong to the socket:
 *    a pre-fork server's master and workers each read the same figures,
 *    which are printed once.
 *  - process series (accepts, gaps, slow events...), by default summed
 *    over the processes holding each socket, with the socket's labels and
 *    no pid: recycled workers do not churn series (an exited worker's
 *    counts leave the sum: rate() takes the drop for a counter reset).
 *    by_process: once per process and listener instead, labelled pid,
 *    comm, the socket's labels and fd.
 *
 * Memory is flat in the number of processes: each snapshot is folded into
 * its socket's row as it is added (report_prom_add) and can be freed
 * then; a row keeps its histograms as counts at the fixed bounds only.
 * The exposition is rendered a row at a time as it is read
 * (report_prom_read), never whole.
 *
 * Histograms are cumulative at fixed bounds in seconds, counted from the
 * shim's log-linear buckets with aw_hist_count_le(): a bound counts the
 * buckets wholly at or below it, so a value in the shim bucket that
 * straddles a bound (at most 1/16 below it) is counted at the next bound,
 * never at a lower one. Buckets stay cumulative; +Inf equals _count.
 * Floats are printed in the fewest digits that read back the same.
 */
#include "report.h"

#include "format.h"
#include "histogram.h"
#include "totals.h"
#include "version.h"

#include <inttypes.h>
#include <math.h>
/* uthash's default on out of memory is exit(): flag the element instead
 * (report_prom_add then fails). */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) ((elt)->oom = 1)
#include <uthash.h>
#include <stdlib.h>
#include <string.h>

/* Room for every label of a row, each value escaped (twice its bytes at
 * worst). */
#define PROM_SOCK_LABELS (AW_ADDR_LEN * 2 + 64)
#define PROM_LABELS (PROM_SOCK_LABELS + AW_COMM_LEN * 2 + 64)

/* One fixed histogram bound: its le label as printed (le="..."; by
 * hand, not snprintf: half a million of them in a scrape of 10,000
 * sockets), and the value in the histogram's own unit (ns, or ms for the
 * queue wait). */
struct prom_bound {
	const char *le;
	uint64_t v;
};

static const struct prom_bound ns_bounds[] = {
    {"le=\"1e-05\"", 10000ull},	   {"le=\"5e-05\"", 50000ull},
    {"le=\"0.0001\"", 100000ull},  {"le=\"0.0005\"", 500000ull},
    {"le=\"0.001\"", 1000000ull},  {"le=\"0.005\"", 5000000ull},
    {"le=\"0.01\"", 10000000ull},  {"le=\"0.025\"", 25000000ull},
    {"le=\"0.05\"", 50000000ull},  {"le=\"0.1\"", 100000000ull},
    {"le=\"0.25\"", 250000000ull}, {"le=\"0.5\"", 500000000ull},
    {"le=\"1\"", 1000000000ull},   {"le=\"2.5\"", 2500000000ull},
    {"le=\"5\"", 5000000000ull},   {"le=\"10\"", 10000000000ull},
    {"le=\"30\"", 30000000000ull}, {"le=\"60\"", 60000000000ull},
};

static const struct prom_bound ms_bounds[] = {
    {"le=\"0.001\"", 1},  {"le=\"0.005\"", 5},	{"le=\"0.01\"", 10},
    {"le=\"0.025\"", 25}, {"le=\"0.05\"", 50},	{"le=\"0.1\"", 100},
    {"le=\"0.25\"", 250}, {"le=\"0.5\"", 500},	{"le=\"1\"", 1000},
    {"le=\"2.5\"", 2500}, {"le=\"5\"", 5000},	{"le=\"10\"", 10000},
    {"le=\"30\"", 30000}, {"le=\"60\"", 60000},
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

/*
 * The figures one row prints, reduced at once from a listener: the
 * histograms to their counts at the fixed bounds (cumulative, the last
 * entry the count, i.e. +Inf), so that a row costs a few hundred bytes,
 * not a listener's 15 KB of buckets. Counts at a bound add up over
 * listeners exactly as the buckets they come from would.
 */
#define NS_N (sizeof(ns_bounds) / sizeof(*ns_bounds))
#define MS_N (sizeof(ms_bounds) / sizeof(*ms_bounds))

enum prom_hist { HIST_GAP, HIST_AWAY, HIST_WAIT, HIST_KINDS };

struct prom_figs {
	uint64_t accepts, drained, errors[AW_ERR_CLASSES];
	uint64_t slow, full, in_accept, peak;
	uint64_t last_accept_ns; /* real time, ns; 0: none known */
	uint64_t le[HIST_KINDS][NS_N + 1];
	uint64_t sum[HIST_KINDS]; /* ns, ns, ms */
};

/* A process's listener (by_process) or a socket's process figures. */
struct prom_proc_row {
	char labels[PROM_LABELS];
	struct prom_figs f;
};

/* One listening socket, its members' readings folded in as they come. */
struct prom_sock {
	UT_hash_handle hh;
	struct {
		uint64_t dev, ino;
	} key; /* zeroed whole before use: a uthash key */
	char labels[PROM_SOCK_LABELS];
	struct totals_socket t; /* the socket's figures (totals.c) */
	int kernel_only;	/* no segment: the kernel's figures (sampled) */
	uint32_t kernel_peak;	/* the deepest sampled queue of the interval */
	uint64_t last_proc;	/* seq of the last member's process */
	int oom;		/* the table could not take it */
	struct prom_figs f;	/* sums, when not by_process */
};

/* The per-process header counters (by_process: one row a process). */
struct prom_lost_row {
	char labels[AW_COMM_LEN * 2 + 32];
	uint64_t listeners, events;
};

enum prom_kind { K_GLOBAL, K_SOCKET, K_PROCESS, K_ERRORS, K_HIST, K_LOST };

enum prom_value {
	V_BUILD,
	V_PROCS,
	V_UNREADABLE,
	V_DURATION, /* K_GLOBAL */
	V_DROPS,
	V_QUEUE,
	V_EFFECTIVE,
	V_REQUESTED,
	V_CLAMPED,
	V_STALLED,
	V_DEFER,
	V_EVENT_LOOP,
	V_NPROCS,
	V_KERNEL_PEAK, /* K_SOCKET */
	V_ACCEPTS,
	V_DRAINED,
	V_SLOW,
	V_FULL,
	V_PEAK,
	V_IN_ACCEPT,
	V_LAST_ACCEPT, /* K_PROCESS */
	V_LOST_LISTENERS,
	V_LOST_EVENTS, /* K_LOST */
};

struct prom_family {
	const char *name, *type, *help;
	enum prom_kind kind;
	int arg; /* enum prom_value, or enum prom_hist for K_HIST */
};

/* In the order they are printed: the socket families, then the process
 * ones. */
static const struct prom_family families[] = {
    {"acceptwatch_build_info", "gauge",
     "The reader's version and the segment layout it reads.", K_GLOBAL,
     V_BUILD},
    {"acceptwatch_processes", "gauge",
     "Processes under the shim whose segments were read.", K_GLOBAL, V_PROCS},
    {"acceptwatch_segments_unreadable", "gauge",
     "Segments found but not readable by this reader.", K_GLOBAL, V_UNREADABLE},
    {"acceptwatch_socket_drops_total", "counter",
     "Socket drops: SYNs and handshake ACKs the kernel dropped on this "
     "listening socket (sk_drops, retries included; with TCP_DEFER_ACCEPT "
     "also the data-less ACKs it discards), once per socket.",
     K_SOCKET, V_DROPS},
    {"acceptwatch_socket_defer_accept", "gauge",
     "1 when TCP_DEFER_ACCEPT is set: socket drops alone are then no "
     "overflow.",
     K_SOCKET, V_DEFER},
    {"acceptwatch_socket_event_loop", "gauge",
     "1 when an event loop accepts (nonblocking listener): the accept "
     "away histogram then holds its time between accepts, idle time "
     "included, no time away.",
     K_SOCKET, V_EVENT_LOOP},
    {"acceptwatch_socket_queue_length", "gauge",
     "Connections in the socket's accept queue now.", K_SOCKET, V_QUEUE},
    {"acceptwatch_socket_backlog_effective", "gauge",
     "Backlog in force (after the somaxconn clamp).", K_SOCKET, V_EFFECTIVE},
    {"acceptwatch_socket_backlog_requested", "gauge",
     "Backlog the program passed to listen().", K_SOCKET, V_REQUESTED},
    {"acceptwatch_socket_backlog_clamped", "gauge",
     "1 when net.core.somaxconn cut the requested backlog.", K_SOCKET,
     V_CLAMPED},
    {"acceptwatch_socket_stalled", "gauge",
     "1 when connections wait and no process holding the socket accepts "
     "them.",
     K_SOCKET, V_STALLED},
    {"acceptwatch_socket_processes", "gauge",
     "Processes under the shim holding the socket.", K_SOCKET, V_NPROCS},
    {"acceptwatch_socket_queue_peak", "gauge",
     "Deepest accept queue the exporter's sampling (10 a second) saw since "
     "the previous scrape, for sockets no process under the shim holds "
     "(theirs: acceptwatch_queue_peak).",
     K_SOCKET, V_KERNEL_PEAK},
    {"acceptwatch_accepts_total", "counter",
     "Connections accepted (accept/accept4 successes).", K_PROCESS, V_ACCEPTS},
    {"acceptwatch_accept_drained_total", "counter",
     "accept() calls that found the queue empty (EAGAIN).", K_PROCESS,
     V_DRAINED},
    {"acceptwatch_accept_errors_total", "counter",
     "accept() failures by class (EAGAIN is not one).", K_ERRORS, 0},
    {"acceptwatch_slow_events_total", "counter",
     "Connections that waited past the slow threshold while the accept "
     "loop was away.",
     K_PROCESS, V_SLOW},
    {"acceptwatch_queue_full_events_total", "counter",
     "Shim probes that found the accept queue full.", K_PROCESS, V_FULL},
    {"acceptwatch_queue_peak", "gauge",
     "Deepest accept queue the shim has seen.", K_PROCESS, V_PEAK},
    {"acceptwatch_threads_in_accept", "gauge",
     "Threads blocked in accept() on this listener now.", K_PROCESS,
     V_IN_ACCEPT},
    {"acceptwatch_last_accept_timestamp_seconds", "gauge",
     "Unix time of the last accepted connection.", K_PROCESS, V_LAST_ACCEPT},
    {"acceptwatch_accept_gap_seconds", "histogram",
     "Time between a thread's successive accepts on the listener.", K_HIST,
     HIST_GAP},
    {"acceptwatch_accept_away_seconds", "histogram",
     "Time a thread spent away from accept() between calls.", K_HIST,
     HIST_AWAY},
    {"acceptwatch_queue_wait_seconds", "histogram",
     "Time accepted connections waited in the queue (millisecond "
     "resolution).",
     K_HIST, HIST_WAIT},
    {"acceptwatch_listeners_lost_total", "counter",
     "Listeners the shim could not track: its table was full.", K_LOST,
     V_LOST_LISTENERS},
    {"acceptwatch_events_lost_total", "counter",
     "Slow events missing from the event list: their ring entry was "
     "busy. The slow counts have them.",
     K_LOST, V_LOST_EVENTS},
    {"acceptwatch_scrape_duration_seconds", "gauge",
     "Time this scrape took to read the segments.", K_GLOBAL, V_DURATION},
};

#define N_FAMILIES (sizeof(families) / sizeof(*families))

/* A row's rendering: far more than the longest (a histogram's 21 lines
 * of at most PROM_LABELS + 96 bytes). */
#define PROM_CHUNK 32768u

struct prom_doc {
	int by_process;
	uint64_t n_proc, n_unreadable;
	double scrape_seconds; /* < 0: not printed */
	uint64_t lost_listeners, lost_events;

	struct prom_sock *by_key; /* uthash over sock[] */
	struct prom_sock **sock;  /* in order of first sight, then sorted */
	size_t n_sock, cap_sock;
	struct prom_proc_row *proc; /* by_process */
	size_t n_proc_rows, cap_proc;
	struct prom_lost_row *lost; /* by_process */
	size_t n_lost, cap_lost;
	int failed; /* out of memory while adding: nothing is printed */

	/* The reading position: family, row, and the rendered rest of the
	 * current row. */
	size_t fam, row;
	int sorted;
	char chunk[PROM_CHUNK];
	size_t chunk_len, chunk_off;
};

/* --- numbers --------------------------------------------------------- */

/* v in decimal at p; returns the length. */
static size_t fmt_u64(char *p, uint64_t v)
{
	char t[24];
	size_t n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

/* v printed with prec significant digits reads back as v. */
static int reads_back(char *dst, size_t len, double v, int prec)
{
	int n = snprintf(dst, len, "%.*g", prec, v);
	return n >= 0 && (size_t)n < len && strtod(dst, NULL) == v;
}

/*
 * The significant digits of %g's text s (no trailing zeros: "1500" has
 * 2, "0.00125" 3).
 */
static int significant_digits(const char *s)
{
	int n = 0, zeros = 0, seen = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s == '0' && !seen)
			continue; /* leading */
		seen = 1;
		zeros = *s == '0' ? zeros + 1 : 0;
		n++;
	}
	return n - zeros > 0 ? n - zeros : 1;
}

/* The fewest significant digits that read v back, by bisection. */
static int fewest_by_bisection(char *dst, size_t len, double v)
{
	int lo = 1, hi = 17;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (reads_back(dst, len, v, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * The same answer in fewer tries. Two decimals of at most 15 significant
 * digits never read back as the same double (DBL_DIG), so when %.15g
 * reads back, its digits are the fewest; otherwise 16 or 17 are. Both
 * hold where more digits always read back too, which is everywhere but
 * next to a power of two (a lopsided interval): there, and for what is
 * not finite, the bisection as before.
 */
static int fewest_digits(char *dst, size_t len, double v)
{
	int e;

	if (!isfinite(v) || v == 0 || fabs(frexp(v, &e)) == 0.5)
		return fewest_by_bisection(dst, len, v);
	if (reads_back(dst, len, v, 15))
		return significant_digits(dst);
	return reads_back(dst, len, v, 16) ? 16 : 17;
}

size_t report_prom_double(char *dst, size_t len, double v)
{
	/* The fewest significant digits that read back as the same double:
	 * 26.738992229 rather than %.17g's 26.738992229000001. More digits
	 * than a precision that reads back give a nearer decimal, which
	 * reads back too (but next to a power of two, where the interval
	 * that reads back is lopsided: there the answer may have a digit
	 * more than the fewest). The answer always reads back: a precision
	 * that did, or 17. */
	/* A whole number below 2^53 without a trailing zero (a backlog, a
	 * sum of nothing) is its own shortest form, the one %g gives: its
	 * digits, with no bisection (trailing zeros: %g's exponent form). */
	if (!signbit(v) && v < 9007199254740992.0 && v == (double)(uint64_t)v &&
	    ((uint64_t)v % 10 != 0 || v == 0) && len > 20) {
		size_t n = fmt_u64(dst, (uint64_t)v);
		dst[n] = '\0';
		return n;
	}
	int n = snprintf(dst, len, "%.*g", fewest_digits(dst, len, v), v);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* --- building ------------------------------------------------------- */

static const struct prom_bound *bounds_of(enum prom_hist which, size_t *nb)
{
	*nb = which == HIST_WAIT ? MS_N : NS_N;
	return which == HIST_WAIT ? ms_bounds : ns_bounds;
}

static const struct aw_hist *pick(const struct model_listener *l,
				  enum prom_hist which)
{
	return which == HIST_GAP    ? &l->gap_ns
	       : which == HIST_AWAY ? &l->away_ns
				    : &l->queue_wait_ms;
}

/*
 * The buckets wholly at or below v, the last (open-ended) bucket never:
 * those before v's own bucket, and that one too when it ends at v.
 */
static uint32_t buckets_at_or_below(uint64_t v)
{
	uint32_t i = aw_hist_index(v);
	uint64_t high = aw_hist_bucket_low(i) + aw_hist_bucket_width(i) - 1;

	if (high <= v)
		i++;
	return i < AW_HIST_BUCKETS - 1 ? i : AW_HIST_BUCKETS - 1;
}

/*
 * aw_hist_count_le(h, b[k].v) for every bound, in one pass over the
 * buckets (bounds ascending), and the count (+Inf) at le[nb]. Where each
 * bound cuts the buckets is found from its value, not by asking each of
 * the 640 buckets where it ends (that was a fifth of a scrape's
 * instructions).
 */
static void hist_le_counts(const struct aw_hist *h, const struct prom_bound *b,
			   size_t nb, uint64_t *le)
{
	uint32_t cut[NS_N];
	uint64_t n = 0;
	size_t k = 0;

	for (size_t j = 0; j < nb; j++)
		cut[j] = buckets_at_or_below(b[j].v);
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++) {
		while (k < nb && cut[k] == i)
			le[k++] = n;
		n += h->bucket[i];
	}
	while (k < nb)
		le[k++] = n;
	le[nb] = n;
}

/* The real time of l's last accept, from p's two clock readings. */
static uint64_t last_accept_real(const struct model_process *p,
				 const struct model_listener *l)
{
	uint64_t ago;

	if (!l->last_accept_mono_ns || !p->now_real_ns ||
	    p->now_mono_ns < l->last_accept_mono_ns)
		return 0;
	ago = p->now_mono_ns - l->last_accept_mono_ns;
	return ago < p->now_real_ns ? p->now_real_ns - ago : 0;
}

static void figs_of(struct prom_figs *f, const struct model_process *p,
		    const struct model_listener *l)
{
	memset(f, 0, sizeof(*f));
	f->accepts = l->accepts;
	f->drained = l->drained;
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		f->errors[c] = l->errors[c];
	f->slow = l->slow_events;
	f->full = l->full_events;
	f->in_accept = l->in_accept;
	f->peak = l->queue_peak;
	f->last_accept_ns = last_accept_real(p, l);
	for (int k = 0; k < HIST_KINDS; k++) {
		size_t nb;
		const struct prom_bound *b = bounds_of((enum prom_hist)k, &nb);
		const struct aw_hist *h = pick(l, (enum prom_hist)k);
		hist_le_counts(h, b, nb, f->le[k]);
		f->sum[k] = h->sum;
	}
}

/* Counts and histograms summed, the deepest peak and the latest accept
 * kept. */
static void figs_add(struct prom_figs *sum, const struct prom_figs *f)
{
	sum->accepts += f->accepts;
	sum->drained += f->drained;
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		sum->errors[c] += f->errors[c];
	sum->slow += f->slow;
	sum->full += f->full;
	sum->in_accept += f->in_accept;
	if (f->peak > sum->peak)
		sum->peak = f->peak;
	if (f->last_accept_ns > sum->last_accept_ns)
		sum->last_accept_ns = f->last_accept_ns;
	for (int k = 0; k < HIST_KINDS; k++) {
		for (size_t i = 0; i <= NS_N; i++)
			sum->le[k][i] += f->le[k][i];
		sum->sum[k] += f->sum[k];
	}
}

/* address, inode and, when known, netns. */
static void socket_labels(char *dst, size_t len, const struct model_process *p,
			  const struct model_listener *l)
{
	char addr[AW_ADDR_LEN * 2 + 1];

	report_prom_escape(addr, sizeof(addr), l->address, sizeof(l->address));
	if (p->netns)
		snprintf(dst, len,
			 "address=\"%s\",inode=\"%" PRIu64 "\",netns=\"%" PRIu64
			 "\"",
			 addr, l->ino, p->netns);
	else
		snprintf(dst, len, "address=\"%s\",inode=\"%" PRIu64 "\"", addr,
			 l->ino);
}

static void pid_labels(char *dst, size_t len, const struct model_process *p)
{
	char comm[AW_COMM_LEN * 2 + 1];

	report_prom_escape(comm, sizeof(comm), p->comm, sizeof(p->comm));
	snprintf(dst, len, "pid=\"%d\",comm=\"%s\"", (int)p->pid, comm);
}

static void process_labels(char *dst, size_t len, const struct model_process *p,
			   const struct model_listener *l)
{
	char who[AW_COMM_LEN * 2 + 32], sock[PROM_SOCK_LABELS];

	pid_labels(who, sizeof(who), p);
	socket_labels(sock, sizeof(sock), p, l);
	snprintf(dst, len, "%s,%s,fd=\"%" PRId32 "\"", who, sock, l->fd);
}

/* Room for one more element of *arr (of size sz): 0, or -1. */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, ncap * sz);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct prom_sock *sock_get(struct prom_doc *d,
				  const struct model_process *p,
				  const struct model_listener *l)
{
	struct prom_sock key, *s;

	memset(&key, 0, sizeof(key));
	key.key.dev = l->dev;
	key.key.ino = l->ino;
	HASH_FIND(hh, d->by_key, &key.key, sizeof(key.key), s);
	if (s)
		return s;
	if (grow((void **)&d->sock, d->n_sock, &d->cap_sock, sizeof(*d->sock)))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = key.key;
	totals_socket_init(&s->t, l);
	socket_labels(s->labels, sizeof(s->labels), p, l);
	HASH_ADD(hh, d->by_key, key, sizeof(s->key), s);
	if (s->oom) {
		free(s);
		return NULL;
	}
	d->sock[d->n_sock++] = s;
	return s;
}

/* l, a member of its socket (totals_is_member), into its socket. */
static int add_member(struct prom_doc *d, const struct model_process *p,
		      const struct model_listener *l, const struct prom_figs *f)
{
	struct prom_sock *s = sock_get(d, p, l);

	if (!s)
		return -1;
	totals_socket_add(&s->t, l, s->last_proc != d->n_proc);
	s->last_proc = d->n_proc;
	if (!d->by_process)
		figs_add(&s->f, f);
	return 0;
}

static int add_proc_row(struct prom_doc *d, const struct model_process *p,
			const struct model_listener *l,
			const struct prom_figs *f)
{
	if (grow((void **)&d->proc, d->n_proc_rows, &d->cap_proc,
		 sizeof(*d->proc)))
		return -1;
	struct prom_proc_row *row = &d->proc[d->n_proc_rows++];
	process_labels(row->labels, sizeof(row->labels), p, l);
	row->f = *f;
	return 0;
}

static int add_lost_row(struct prom_doc *d, const struct model_process *p)
{
	if (grow((void **)&d->lost, d->n_lost, &d->cap_lost, sizeof(*d->lost)))
		return -1;
	struct prom_lost_row *row = &d->lost[d->n_lost++];
	pid_labels(row->labels, sizeof(row->labels), p);
	row->listeners = p->header.listeners_lost;
	row->events = p->header.events_lost;
	return 0;
}

struct prom_doc *report_prom_new(int by_process)
{
	struct prom_doc *d = calloc(1, sizeof(*d));

	if (d) {
		d->by_process = by_process;
		d->scrape_seconds = -1;
	}
	return d;
}

/* The kernel's figures of sockets no segment speaks for (p->kernel_only):
 * socket series alone, no process holds them under the shim. */
static int add_kernel(struct prom_doc *d, const struct model_process *p)
{
	for (uint32_t j = 0; j < p->n_listeners; j++) {
		const struct model_listener *l = &p->listener[j];
		struct prom_sock *s = sock_get(d, p, l);
		if (!s) {
			d->failed = 1;
			return -1;
		}
		s->t.drops = l->live.drops;
		s->t.queue_now = l->live.queue_now;
		s->t.all_stalled = 0; /* unknown: no thread is seen */
		s->kernel_only = 1;
		s->kernel_peak = l->queue_peak;
	}
	return 0;
}

/*
 * Closed listeners are left out: their fd may name a newer listener,
 * which would repeat a label set, and they are no member of their socket
 * (totals_is_member). A listener whose socket identity the shim could not
 * read (inode 0) has no socket to group by: it has process series only
 * (by_process), and none by socket.
 */
int report_prom_add(struct prom_doc *d, const struct model_process *p)
{
	struct prom_figs f;

	if (p->kernel_only)
		return add_kernel(d, p);
	d->n_proc++;
	d->lost_listeners += p->header.listeners_lost;
	d->lost_events += p->header.events_lost;
	if (d->by_process && add_lost_row(d, p))
		d->failed = 1;
	for (uint32_t j = 0; j < p->n_listeners && !d->failed; j++) {
		const struct model_listener *l = &p->listener[j];
		if (l->flags & AW_LF_CLOSED)
			continue;
		figs_of(&f, p, l);
		if (d->by_process && add_proc_row(d, p, l, &f))
			d->failed = 1;
		if (totals_is_member(l) && add_member(d, p, l, &f))
			d->failed = 1;
	}
	return d->failed ? -1 : 0;
}

void report_prom_totals(struct prom_doc *d, size_t n_unreadable,
			double scrape_seconds)
{
	d->n_unreadable = n_unreadable;
	d->scrape_seconds = scrape_seconds;
}

void report_prom_free(struct prom_doc *d)
{
	if (!d)
		return;
	HASH_CLEAR(hh, d->by_key);
	for (size_t i = 0; i < d->n_sock; i++)
		free(d->sock[i]);
	free(d->sock);
	free(d->proc);
	free(d->lost);
	free(d);
}

/* --- rendering ------------------------------------------------------ */

static void put(struct prom_doc *d, const char *s, size_t n)
{
	if (n > PROM_CHUNK - d->chunk_len)
		n = PROM_CHUNK - d->chunk_len; /* never: a row fits */
	memcpy(d->chunk + d->chunk_len, s, n);
	d->chunk_len += n;
}

static void puts_(struct prom_doc *d, const char *s)
{
	put(d, s, strlen(s));
}

/* "NAME{LABELS[,EXTRA]} " (no braces without labels), then nothing. */
static void sample_head(struct prom_doc *d, const char *name,
			const char *suffix, const char *labels,
			const char *extra)
{
	puts_(d, name);
	if (suffix)
		puts_(d, suffix);
	if (labels[0] || extra) {
		put(d, "{", 1);
		puts_(d, labels);
		if (extra) {
			if (labels[0])
				put(d, ",", 1);
			puts_(d, extra);
		}
		put(d, "}", 1);
	}
	put(d, " ", 1);
}

static void put_u64(struct prom_doc *d, uint64_t v)
{
	char t[24];
	put(d, t, fmt_u64(t, v));
	put(d, "\n", 1);
}

/* v / unit (unit 1e3 or 1e9) as a double: whole and fraction apart, so
 * that a time of day in ns keeps its exact decimal when it has one
 * (1699999999.75, not 1699999999.7500002). */
static double ratio(uint64_t v, uint64_t unit)
{
	return (double)(v / unit) + (double)(v % unit) / (double)unit;
}

static void put_double(struct prom_doc *d, double v)
{
	char t[40];
	put(d, t, report_prom_double(t, sizeof(t), v));
	put(d, "\n", 1);
}

/* The rows a family has; for K_GLOBAL, 1 (0: not printed). */
static size_t family_rows(const struct prom_doc *d, const struct prom_family *f)
{
	switch (f->kind) {
	case K_GLOBAL:
		return f->arg != V_DURATION || d->scrape_seconds >= 0;
	case K_SOCKET:
		return d->n_sock;
	case K_LOST:
		return d->by_process ? d->n_lost : 1;
	default:
		return d->by_process ? d->n_proc_rows : d->n_sock;
	}
}

static void global_row(struct prom_doc *d, const struct prom_family *f)
{
	char info[96];

	switch (f->arg) {
	case V_BUILD:
		snprintf(info, sizeof(info), "version=\"%s\",abi=\"%u\"",
			 AW_VERSION, (unsigned)AW_ABI_VERSION);
		sample_head(d, f->name, NULL, info, NULL);
		put_u64(d, 1);
		break;
	case V_PROCS:
		sample_head(d, f->name, NULL, "", NULL);
		put_u64(d, d->n_proc);
		break;
	case V_UNREADABLE:
		sample_head(d, f->name, NULL, "", NULL);
		put_u64(d, d->n_unreadable);
		break;
	default:
		sample_head(d, f->name, NULL, "", NULL);
		put_double(d, d->scrape_seconds);
		break;
	}
}

static void socket_row(struct prom_doc *d, const struct prom_family *f,
		       const struct prom_sock *s)
{
	uint64_t v;

	/* Of a socket no segment speaks for, the kernel's figures alone:
	 * clamp, TCP_DEFER_ACCEPT and stalls are not known. */
	if (s->kernel_only && (f->arg == V_CLAMPED || f->arg == V_STALLED ||
			       f->arg == V_DEFER || f->arg == V_EVENT_LOOP))
		return;
	switch (f->arg) {
	case V_DROPS:
		v = s->t.drops;
		break;
	case V_QUEUE:
		v = s->t.queue_now;
		break;
	case V_EFFECTIVE:
		v = s->t.effective_backlog;
		break;
	case V_REQUESTED:
		if (!s->t.has_requested)
			return;
		sample_head(d, f->name, NULL, s->labels, NULL);
		put_double(d, (double)s->t.requested_backlog);
		return;
	case V_CLAMPED:
		v = (uint64_t)s->t.clamped;
		break;
	case V_STALLED:
		v = (uint64_t)s->t.all_stalled;
		break;
	case V_DEFER:
		v = (uint64_t)s->t.defer;
		break;
	case V_EVENT_LOOP:
		v = (uint64_t)s->t.event_loop;
		break;
	case V_KERNEL_PEAK:
		if (!s->kernel_only)
			return;
		v = s->kernel_peak;
		break;
	default:
		v = s->t.n_procs;
		break;
	}
	sample_head(d, f->name, NULL, s->labels, NULL);
	put_u64(d, v);
}

/*
 * key="value" into dst (value one of ours: nothing to escape), cut to
 * fit, without snprintf.
 */
static void label(char *dst, size_t len, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);

	if (k + v + 4 > len)
		v = k + 4 > len ? 0 : len - k - 4;
	if (k + 4 > len) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, key, k);
	memcpy(dst + k, "=\"", 2);
	memcpy(dst + k + 2, value, v);
	memcpy(dst + k + 2 + v, "\"", 2);
}

static void hist_row(struct prom_doc *d, const struct prom_family *f,
		     const char *labels, const struct prom_figs *x)
{
	size_t nb;
	const struct prom_bound *b = bounds_of((enum prom_hist)f->arg, &nb);
	uint64_t unit = f->arg == HIST_WAIT ? 1000u : 1000000000u;
	for (size_t k = 0; k <= nb; k++) {
		sample_head(d, f->name, "_bucket", labels,
			    k < nb ? b[k].le : "le=\"+Inf\"");
		put_u64(d, x->le[f->arg][k]);
	}
	sample_head(d, f->name, "_sum", labels, NULL);
	put_double(d, ratio(x->sum[f->arg], unit));
	sample_head(d, f->name, "_count", labels, NULL);
	put_u64(d, x->le[f->arg][nb]);
}

static void process_row(struct prom_doc *d, const struct prom_family *f,
			const char *labels, const struct prom_figs *x)
{
	char cls[32];

	switch (f->kind) {
	case K_ERRORS:
		for (unsigned int c = 0; c < AW_ERR_CLASSES; c++) {
			label(cls, sizeof(cls), "class", report_err_name(c));
			sample_head(d, f->name, NULL, labels, cls);
			put_u64(d, x->errors[c]);
		}
		return;
	case K_HIST:
		hist_row(d, f, labels, x);
		return;
	default:
		break;
	}
	if (f->arg == V_LAST_ACCEPT) {
		if (!x->last_accept_ns)
			return;
		sample_head(d, f->name, NULL, labels, NULL);
		put_double(d, ratio(x->last_accept_ns, 1000000000u));
		return;
	}
	uint64_t v = f->arg == V_ACCEPTS   ? x->accepts
		     : f->arg == V_DRAINED ? x->drained
		     : f->arg == V_SLOW	   ? x->slow
		     : f->arg == V_FULL	   ? x->full
		     : f->arg == V_PEAK	   ? x->peak
					   : x->in_accept;
	sample_head(d, f->name, NULL, labels, NULL);
	put_u64(d, v);
}

static void lost_row(struct prom_doc *d, const struct prom_family *f, size_t i)
{
	int listeners = f->arg == V_LOST_LISTENERS;

	if (!d->by_process) {
		sample_head(d, f->name, NULL, "", NULL);
		put_u64(d, listeners ? d->lost_listeners : d->lost_events);
		return;
	}
	sample_head(d, f->name, NULL, d->lost[i].labels, NULL);
	put_u64(d, listeners ? d->lost[i].listeners : d->lost[i].events);
}

static void render_header(struct prom_doc *d, const struct prom_family *f)
{
	puts_(d, "# HELP ");
	puts_(d, f->name);
	put(d, " ", 1);
	puts_(d, f->help);
	puts_(d, "\n# TYPE ");
	puts_(d, f->name);
	put(d, " ", 1);
	puts_(d, f->type);
	put(d, "\n", 1);
}

/* Row i of family f. */
static void render_row(struct prom_doc *d, const struct prom_family *f,
		       size_t i)
{
	switch (f->kind) {
	case K_GLOBAL:
		global_row(d, f);
		return;
	case K_SOCKET:
		socket_row(d, f, d->sock[i]);
		return;
	case K_LOST:
		lost_row(d, f, i);
		return;
	default:
		break;
	}
	if (d->by_process)
		process_row(d, f, d->proc[i].labels, &d->proc[i].f);
	else if (!d->sock[i]->kernel_only) /* no process figures */
		process_row(d, f, d->sock[i]->labels, &d->sock[i]->f);
}

static int sock_cmp(const void *a, const void *b)
{
	const struct prom_sock *x = *(const struct prom_sock *const *)a;
	const struct prom_sock *y = *(const struct prom_sock *const *)b;

	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return (x->key.ino > y->key.ino) - (x->key.ino < y->key.ino);
}

/*
 * The next row rendered into chunk (a family's first with its HELP and
 * TYPE; a family without rows still says what it is, but for an absent
 * global): 0, or -1 at the end.
 */
static int next_chunk(struct prom_doc *d)
{
	d->chunk_len = d->chunk_off = 0;
	while (d->fam < N_FAMILIES) {
		const struct prom_family *f = &families[d->fam];
		size_t n = family_rows(d, f);
		if (d->row == 0 && (n > 0 || f->kind != K_GLOBAL)) {
			render_header(d, f);
			if (n > 0)
				render_row(d, f, 0);
			d->row = 1;
			return 0;
		}
		if (d->row > 0 && d->row < n) {
			render_row(d, f, d->row++);
			return 0;
		}
		d->fam++;
		d->row = 0;
	}
	return -1;
}

size_t report_prom_read(struct prom_doc *d, char *buf, size_t cap)
{
	size_t got = 0;

	if (d->failed)
		return 0;
	if (!d->sorted) {
		/* No socket (a host with nothing under the shim): d->sock is
		 * NULL, which qsort may not be given even for no elements. */
		if (d->n_sock > 1)
			qsort(d->sock, d->n_sock, sizeof(*d->sock), sock_cmp);
		d->sorted = 1;
	}
	while (got < cap) {
		if (d->chunk_off == d->chunk_len && next_chunk(d))
			break;
		size_t n = d->chunk_len - d->chunk_off;
		if (n > cap - got)
			n = cap - got;
		memcpy(buf + got, d->chunk + d->chunk_off, n);
		d->chunk_off += n;
		got += n;
	}
	return got;
}

int report_prom_write(FILE *out, struct prom_doc *d)
{
	char buf[65536];
	size_t n;

	if (d->failed)
		return -1;
	while ((n = report_prom_read(d, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return -1;
	return 0;
}

int report_prometheus(FILE *out, const struct report *r, int by_process)
{
	struct prom_doc *d = report_prom_new(by_process);
	int ret = -1;

	if (!d)
		return -1;
	for (size_t i = 0; i < r->n_proc; i++)
		if (report_prom_add(d, &r->proc[i]))
			goto out;
	report_prom_totals(d, r->n_unreadable, -1);
	ret = report_prom_write(out, d);
out:
	report_prom_free(d);
	return ret;
}
