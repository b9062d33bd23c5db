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
static void bar_text(char *dst, const struct model_listener *l)
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

/*
 * The columns that fit in cut: on a narrow terminal the bar goes first,
 * then COMM, then ADDRESS and ACC/s narrow, so that the figures
 * (GAP99..DROP/s) stay on screen down to 100 columns; narrower still, the
 * line is cut at its end.
 */
struct top_layout {
	int fill, comm, addr_w, acc_w;
};

#define TOP_FULL 138	/* every column */
#define TOP_NO_FILL 125 /* without the bar */
#define TOP_NO_COMM 109 /* without the bar and COMM */

static struct top_layout top_layout_for(int cut)
{
	struct top_layout y = {1, 1, 22, 8};

	if (cut >= TOP_FULL)
		return y;
	y.fill = 0;
	if (cut >= TOP_NO_FILL)
		return y;
	y.comm = 0;
	if (cut >= TOP_NO_COMM)
		return y;
	y.addr_w = 15;
	y.acc_w = 6;
	return y;
}

/* One line of the table in layout y, cells as strings. */
static void top_line(char *dst, size_t len, const struct top_layout *y,
		     const char *const cell[12])
{
	int o = snprintf(dst, len, "%-16s %-7s ", cell[0], cell[1]);
	if (y->comm)
		o += snprintf(dst + o, len - (size_t)o, "%-15s ", cell[2]);
	o += snprintf(dst + o, len - (size_t)o, "%-*s %*s %-14s ", y->addr_w,
		      cell[3], y->acc_w, cell[4], cell[5]);
	if (y->fill)
		o += snprintf(dst + o, len - (size_t)o, "%-12s ", cell[6]);
	snprintf(dst + o, len - (size_t)o, "%7s %7s %7s %6s %6s", cell[7],
		 cell[8], cell[9], cell[10], cell[11]);
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
	struct top_layout y = top_layout_for(cut);
	static const char *const head[12] = {
	    "STATE", "PID",   "COMM",	"ADDRESS", "ACC/s",  "QUEUE n/pk/bl",
	    "FILL",  "GAP99", "AWAY99", "WAIT99",  "SLOW/s", "DROP/s"};
	top_line(line, sizeof(line), &y, head);
	fprintf(out, "%.*s\n", cut, line);
	for (size_t i = 0; i < n; i++) {
		if (s->max_rows > 0 && (int)i >= s->max_rows) {
			fprintf(out, "... %zu more\n", n - i);
			break;
		}
		const struct top_row *r = &f->row[i];
		const struct model_listener *l = r->l, *b = r->before;
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
		char pid[16], acc[24], slow[24], drop[24];
		snprintf(pid, sizeof(pid), "%d", (int)r->p->pid);
		snprintf(acc, sizeof(acc), "%.1f", r->accepts_s);
		snprintf(slow, sizeof(slow), "%.1f",
			 per_s(r->w.slow_events, &r->w));
		snprintf(drop, sizeof(drop), "%.1f", per_s(r->w.drops, &r->w));
		const char *const cell[12] = {state, pid,  comm, addr,
					      acc,   q,	   bar,	 gap,
					      away,  wait, slow, drop};
		top_line(line, sizeof(line), &y, cell);
		put_row(out, line, cut, (int)strlen(state),
			s->colour ? state_colour(r->mask) : NULL);
	}
	if (n == 0)
		fprintf(out, "no listener under acceptwatch\n");
}
