/*
 * stat --hist: each distribution (gap, away, queue wait) drawn as bars, in
 * the layout of bpftrace's hist(): power-of-two ranges, a count, a bar of
 * '@' scaled to the largest count, one block per listener of each process,
 * then one per socket held by several processes (their sum). watch --hist
 * draws its sampled processes here too: they have no gaps.
 *
 * The shim's buckets are log-linear (16 per power of two), finer than
 * these ranges; a range counts the buckets wholly below its upper bound
 * (aw_hist_count_le), so a value in the bucket that straddles a bound (at
 * most 1/16 below it) is shown in the range above it, never below. The
 * counts add up to the histogram's.
 */
#include "report.h"

#include "format.h"
#include "histogram.h"
#include "totals.h"

#include <inttypes.h>
#include <string.h>

#define HIST_BAR 52 /* bpftrace's width */
#define HIST_RANGES 48

/* "16", "1K", "4M": n in bpftrace's suffixes of 1024. */
static void hist_num(char *dst, size_t len, uint64_t n)
{
	static const char suffix[] = " KMGTPE";
	unsigned int s = 0;

	while (n >= 1024 && n % 1024 == 0 && s + 1 < sizeof(suffix) - 1) {
		n /= 1024;
		s++;
	}
	if (s)
		snprintf(dst, len, "%" PRIu64 "%c", n, suffix[s]);
	else
		snprintf(dst, len, "%" PRIu64, n);
}

/*
 * Counts of h in display units of `unit` values each (1000 for ns shown in
 * us, 1 for ms): n[0] below 1 unit, n[k] in [2^(k-1), 2^k) units, the last
 * range open-ended. Returns the number of ranges used.
 */
static size_t hist_ranges(const struct aw_hist *h, uint64_t unit, uint64_t *n)
{
	uint64_t total = aw_hist_count(h), below = 0;
	size_t k;

	for (k = 0; k + 1 < HIST_RANGES && below < total; k++) {
		uint64_t bound = (k == 0 ? 1 : (uint64_t)1 << k) * unit;
		uint64_t le = aw_hist_count_le(h, bound - 1);
		n[k] = le - below;
		below = le;
	}
	if (below < total)
		n[k++] = total - below;
	return k;
}

static void hist_block(FILE *out, const char *name, const struct aw_hist *h,
		       uint64_t unit)
{
	uint64_t n[HIST_RANGES] = {0}, max = 0;
	size_t used = hist_ranges(h, unit, n), first = 0;

	fprintf(out, "@%s:\n", name);
	if (aw_hist_count(h) == 0) {
		fprintf(out, "(none)\n\n");
		return;
	}
	while (first < used && n[first] == 0)
		first++;
	for (size_t k = first; k < used; k++)
		if (n[k] > max)
			max = n[k];
	for (size_t k = first; k < used; k++) {
		char range[64], lo[24], hi[24], bar[HIST_BAR + 1];
		if (k == 0) {
			snprintf(range, sizeof(range), "[0]");
		} else {
			hist_num(lo, sizeof(lo), (uint64_t)1 << (k - 1));
			hist_num(hi, sizeof(hi), (uint64_t)1 << k);
			snprintf(range, sizeof(range), "[%s, %s)", lo, hi);
		}
		size_t w = (size_t)(n[k] * HIST_BAR / max);
		memset(bar, '@', w);
		memset(bar + w, ' ', HIST_BAR - w);
		bar[HIST_BAR] = '\0';
		fprintf(out, "%-16s %8" PRIu64 " |%s|\n", range, n[k], bar);
	}
	fprintf(out, "\n");
}

/* The three distributions. sampled (watch): no gaps, the samples see a
 * thread in accept(), not each return from it. event_loop: the time out
 * of accept() is an event loop's between accepts, no time away. */
static void hist_three(FILE *out, int sampled, int event_loop,
		       const struct aw_hist *gap, const struct aw_hist *away,
		       const struct aw_hist *wait)
{
	if (sampled)
		fprintf(out, "@gap_us:\n(not sampled: only the shim sees each "
			     "accept)\n\n");
	else
		hist_block(out, "gap_us", gap, 1000);
	hist_block(out,
		   event_loop ? "between_accepts_us (event loop)" : "away_us",
		   away, 1000);
	hist_block(out, "queue_wait_ms", wait, 1);
}

/* Whether b is a member (totals_is_member) of a's socket. */
static int same_socket(const struct model_listener *a,
		       const struct model_listener *b)
{
	return totals_is_member(b) && a->ino == b->ino && a->dev == b->dev;
}

/* Whether l, of r->proc[i], is the first open member of its socket, and
 * how many processes hold it. */
static size_t socket_members(const struct report *r, size_t i,
			     const struct model_listener *l, int *first)
{
	size_t procs = 0;

	*first = 1;
	for (size_t p = 0; p < r->n_proc; p++) {
		int has = 0;
		for (uint32_t j = 0; j < r->proc[p].n_listeners; j++) {
			const struct model_listener *m =
			    &r->proc[p].listener[j];
			if (!same_socket(l, m))
				continue;
			has = 1;
			if (p < i || (p == i && m < l))
				*first = 0;
		}
		procs += has;
	}
	return procs;
}

static void hist_socket(FILE *out, const struct report *r, int sampled,
			const struct model_listener *l, size_t procs)
{
	static struct aw_hist sum[3]; /* 15 KB each: not on the stack */
	int event_loop = 0;

	memset(sum, 0, sizeof(sum));
	for (size_t p = 0; p < r->n_proc; p++)
		for (uint32_t j = 0; j < r->proc[p].n_listeners; j++) {
			const struct model_listener *m =
			    &r->proc[p].listener[j];
			if (!same_socket(l, m))
				continue;
			event_loop |= !!(m->flags & AW_LF_EVENT_LOOP);
			aw_hist_merge(&sum[0], &m->gap_ns);
			aw_hist_merge(&sum[1], &m->away_ns);
			aw_hist_merge(&sum[2], &m->queue_wait_ms);
		}
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	fmt_printable(addr, sizeof(addr), l->address, sizeof(l->address));
	fprintf(out, "socket %s inode %" PRIu64 ", %zu processes:\n\n", addr,
		l->ino, procs);
	hist_three(out, sampled, event_loop, &sum[0], &sum[1], &sum[2]);
}

/* "pid N (comm) address fd N:", the strings of another process's memory
 * made printable (they must not drive the terminal). */
static void hist_headline(FILE *out, const struct model_process *p,
			  const struct model_listener *l)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fmt_printable(addr, sizeof(addr), l->address, sizeof(l->address));
	fprintf(out, "pid %d (%s) %s fd %" PRId32 "%s:\n\n", (int)p->pid, comm,
		addr, l->fd, p->sampled ? " (sampled)" : "");
}

void report_hist(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct model_process *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct model_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			hist_headline(out, p, l);
			hist_three(out, p->sampled != NULL,
				   (l->flags & AW_LF_EVENT_LOOP) != 0,
				   &l->gap_ns, &l->away_ns, &l->queue_wait_ms);
		}
	}
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct model_process *p = &r->proc[i];
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct model_listener *l = &p->listener[j];
			int first;
			if (!totals_is_member(l))
				continue;
			size_t procs = socket_members(r, i, l, &first);
			if (first && procs > 1)
				hist_socket(out, r, p->sampled != NULL, l,
					    procs);
		}
	}
}
