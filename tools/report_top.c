/*
 * top's screen: one frame of the model as plain text, lines cut to the
 * terminal's width, STATE first so that a narrow terminal still shows it,
 * in colour when asked. Escapes that move the cursor are top.c's.
 */
#include "report.h"

#include "format.h"
#include "histogram.h"
#include "top_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TOP_BAR 10

/* b - a bucket by bucket: what was recorded between two readings. */
static void hist_delta(struct aw_hist *d, const struct aw_hist *b,
		       const struct aw_hist *a)
{
	for (uint32_t i = 0; i < AW_HIST_BUCKETS; i++)
		d->bucket[i] = b->bucket[i] > a->bucket[i]
				   ? b->bucket[i] - a->bucket[i]
				   : 0;
	d->sum = b->sum > a->sum ? b->sum - a->sum : 0;
	d->max = b->max; /* an upper bound: quantiles never exceed it */
}

/* p99 over the interval, for people; "-" when nothing was recorded in
 * it, or there is no earlier reading (the first frame, a new listener):
 * a p99 since the listen beside per-interval ones would mislead. */
static void p99_text(char *dst, const struct aw_hist *now,
		     const struct aw_hist *before, int in_ms)
{
	static struct aw_hist d; /* 4.9 KB: not on the stack */

	if (!before) {
		snprintf(dst, FMT_DURATION_LEN, "-");
		return;
	}
	hist_delta(&d, now, before);
	if (aw_hist_count(&d) == 0) {
		snprintf(dst, FMT_DURATION_LEN, "-");
		return;
	}
	uint64_t q = aw_hist_quantile(&d, 0.99);
	fmt_duration(dst, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(q) : q);
}

/* "[###|    ]": queue now as '#', the peak as '|', over the backlog. */
static void bar_text(char *dst, const struct segment_listener *l)
{
	uint32_t bl = l->effective_backlog ? l->effective_backlog : 1;
	uint32_t now = l->live.queue_now, peak = verdict_queue_peak(l);
	int n = (int)((uint64_t)(now > bl ? bl : now) * TOP_BAR / bl);
	int pk = (int)((uint64_t)(peak > bl ? bl : peak) * TOP_BAR / bl);

	if (now > 0 && n == 0)
		n = 1;
	dst[0] = '[';
	for (int i = 0; i < TOP_BAR; i++)
		dst[1 + i] = i < n ? '#' : ' ';
	if (peak > 0 && pk > 0 && pk > n)
		dst[pk] = '|';
	dst[TOP_BAR + 1] = ']';
	dst[TOP_BAR + 2] = '\0';
}

static double per_s(uint64_t n, const struct verdict_window *w)
{
	return w->have && w->ns ? (double)n * 1e9 / (double)w->ns : 0.0;
}

/* The colour of a row's STATE: red when connections are lost now,
 * yellow for the other verdicts, none when OK. */
static const char *state_colour(unsigned int mask)
{
	if (mask & ((1u << VERDICT_STALLED) | (1u << VERDICT_OVERFLOWING)))
		return "\033[1;31m";
	return mask ? "\033[33m" : NULL;
}

/* A row cut at cut bytes, its leading STATE field (state_len bytes) in
 * colour when colour is not NULL. */
static void put_row(FILE *out, const char *line, int cut, int state_len,
		    const char *colour)
{
	int len = (int)strnlen(line, (size_t)cut);

	if (!colour) {
		fprintf(out, "%.*s\n", len, line);
		return;
	}
	int head = state_len < len ? state_len : len;
	fprintf(out, "%s%.*s\033[0m%.*s\n", colour, head, line, len - head,
		line + head);
}

void report_top(FILE *out, const struct top_frame *f,
		const struct top_screen *s)
{
	char line[1024], when[16], comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)], bar[TOP_BAR + 3], q[40];
	char gap[FMT_DURATION_LEN], away[FMT_DURATION_LEN],
	    wait[FMT_DURATION_LEN];
	size_t n = f->n_rows;
	time_t t = time(NULL);
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    !strftime(when, sizeof(when), "%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	int cut = s->width > 0 && s->width < (int)sizeof(line)
		      ? s->width
		      : (int)sizeof(line) - 1;
	snprintf(line, sizeof(line),
		 "acceptwatch top  %s  every %.1fs  %zu listener%s in %zu "
		 "process%s%s",
		 when, s->interval, n, n == 1 ? "" : "s", f->cur->n_proc,
		 f->cur->n_proc == 1 ? "" : "es", s->keys ? "  (q quits)" : "");
	fprintf(out, "%.*s\n\n", cut, line);
	snprintf(line, sizeof(line),
		 "%-16s %-7s %-15s %-22s %8s %-14s %-12s %7s %7s %7s %6s %6s",
		 "STATE", "PID", "COMM", "ADDRESS", "ACC/s", "QUEUE n/pk/bl",
		 "FILL", "GAP99", "AWAY99", "WAIT99", "SLOW/s", "DROP/s");
	fprintf(out, "%.*s\n", cut, line);
	for (size_t i = 0; i < n; i++) {
		if (s->max_rows > 0 && (int)i >= s->max_rows) {
			fprintf(out, "... %zu more\n", n - i);
			break;
		}
		const struct top_row *r = &f->row[i];
		const struct segment_listener *l = r->l, *b = r->before;
		fmt_printable(comm, sizeof(comm), r->p->comm,
			      sizeof(r->p->comm));
		fmt_printable(addr, sizeof(addr), l->address,
			      sizeof(l->address));
		bar_text(bar, l);
		snprintf(q, sizeof(q), "%" PRIu32 "/%" PRIu32 "/%" PRIu32,
			 l->live.queue_now, verdict_queue_peak(l),
			 l->effective_backlog);
		p99_text(gap, &l->gap_ns, b ? &b->gap_ns : NULL, 0);
		p99_text(away, &l->away_ns, b ? &b->away_ns : NULL, 0);
		p99_text(wait, &l->queue_wait_ms, b ? &b->queue_wait_ms : NULL,
			 1);
		const char *state =
		    r->mask ? verdict_name(
				  (enum verdict_kind)__builtin_ctz(r->mask))
			    : "OK";
		snprintf(line, sizeof(line),
			 "%-16s %-7d %-15s %-22s %8.1f %-14s %-12s %7s %7s %7s "
			 "%6.1f %6.1f",
			 state, (int)r->p->pid, comm, addr, r->accepts_s, q,
			 bar, gap, away, wait, per_s(r->w.slow_events, &r->w),
			 per_s(r->w.drops, &r->w));
		put_row(out, line, cut, (int)strlen(state),
			s->colour ? state_colour(r->mask) : NULL);
	}
	if (n == 0)
		fprintf(out, "no listener under acceptwatch\n");
}
