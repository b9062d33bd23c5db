/*
 * acceptwatch top: a refreshing view of every listener under the shim,
 * sorted by trouble. Plain ANSI (clear, alternate screen, hidden cursor):
 * one frame is a few dozen lines, ncurses would not earn its place.
 *
 * Rates and the p99s are over the last interval (the difference of two
 * readings), not since the listen: what is happening now. The terminal is
 * put in non-canonical, no-echo mode so that a single 'q' quits; ISIG is
 * kept, so Ctrl-C arrives as SIGINT, whose handler only sets a flag: the
 * loop then restores the terminal, as it does on SIGTERM and SIGHUP, and at
 * exit().
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "format.h"
#include "gather.h"
#include "histogram.h"
#include "recent.h"
#include "verdict.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TOP_BAR 10

struct top_opts {
	double interval;
	int once;
	uint64_t recent_ns; /* STATE's verdict window, 0: all history */
	/* When each listener's trouble last rose, over the frames so far
	 * (and check's state file, read at the start). */
	struct recent_table mem;
};

/* One listener's line, with what it is sorted by. */
struct top_row {
	const struct segment_snapshot *p;
	const struct segment_listener *l;
	struct verdict_window w;
	unsigned int mask;
	double fill; /* queue now / backlog */
	double accepts_s;
};

static volatile sig_atomic_t top_quit;
static struct termios saved_tio;
static int tio_saved;
static int screen_alt; /* the alternate screen is in use: stdout a tty */

static void on_signal(int sig)
{
	(void)sig;
	top_quit = 1;
}

/* Undo everything done to the terminal; safe to call twice. */
static void term_restore(void)
{
	if (screen_alt) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_alt = 0;
	}
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = 0;
	}
}

/* Colour only on a terminal, and not when NO_COLOR is set to anything
 * (no-color.org). */
static int top_colour(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && *nc);
}

static int term_setup(void)
{
	struct termios t;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns EINTR and the loop sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	atexit(term_restore);
	/* Screen control only when the frames go to a terminal: into a pipe
	 * or a file they follow one another, plain text. */
	if (isatty(STDOUT_FILENO)) {
		fputs("\033[?1049h\033[?25l", stdout);
		screen_alt = 1;
	}
	if (!isatty(STDIN_FILENO))
		return 0; /* no keys to read: quit with a signal */
	if (tcgetattr(STDIN_FILENO, &saved_tio))
		return -1;
	t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -1;
	tio_saved = 1;
	return 0;
}

static void top_usage(FILE *out)
{
	usage_command(out, "top");
}

static int parse_opts(int argc, char **argv, struct top_opts *o)
{
	static const struct option longopts[] = {
	    {"interval", required_argument, NULL, 'i'},
	    {"once", no_argument, NULL, '1'},
	    {"window", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	o->interval = 1.0;
	o->recent_ns = VERDICT_DEFAULT_RECENT_NS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:1w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (check_parse_interval(optarg, &o->interval) ||
			    o->interval < 0.1) {
				aw_error("top: --interval wants seconds "
					 "(0.1 to 3600), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case '1':
			o->once = 1;
			break;
		case 'w':
			if (check_parse_window(optarg, &o->recent_ns)) {
				aw_error("top: --window wants a duration "
					 "(300, 90s, 5m, 1h; 0 for none; at "
					 "most a day), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case 'h':
			top_usage(stdout);
			return 1;
		default:
			aw_error("top: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		aw_error("top: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

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

/* p99 over the interval (since the listen when there is no earlier
 * reading), for people; "-" when nothing was recorded. */
static void p99_text(char *dst, const struct aw_hist *now,
		     const struct aw_hist *before, int in_ms)
{
	static struct aw_hist d; /* 4.9 KB: not on the stack */
	const struct aw_hist *h = now;

	if (before) {
		hist_delta(&d, now, before);
		h = &d;
	}
	if (aw_hist_count(h) == 0) {
		snprintf(dst, FMT_DURATION_LEN, "-");
		return;
	}
	uint64_t q = aw_hist_quantile(h, 0.99);
	fmt_duration(dst, FMT_DURATION_LEN, in_ms ? fmt_ms_to_ns(q) : q);
}

static int row_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	/* The most urgent verdict first (lowest bit), OK rows last. */
	int ux = x->mask ? __builtin_ctz(x->mask) : VERDICT_KINDS;
	int uy = y->mask ? __builtin_ctz(y->mask) : VERDICT_KINDS;

	if (ux != uy)
		return ux - uy;
	if (x->fill != y->fill)
		return x->fill < y->fill ? 1 : -1;
	if (x->accepts_s != y->accepts_s)
		return x->accepts_s < y->accepts_s ? 1 : -1;
	return x->p->pid - y->p->pid;
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

static struct top_row *build_rows(const struct report *cur,
				  const struct report *prev,
				  const struct top_opts *o, size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < cur->n_proc; i++)
		total += cur->proc[i].n_listeners;
	struct top_row *rows = calloc(total ? total : 1, sizeof(*rows));
	if (!rows)
		return NULL;
	for (size_t i = 0; i < cur->n_proc; i++) {
		const struct segment_snapshot *p = &cur->proc[i];
		const struct segment_snapshot *pp =
		    prev ? gather_find(prev, p) : NULL;
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct segment_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			struct top_row *r = &rows[k++];
			r->p = p;
			r->l = l;
			const struct segment_listener *pl =
			    pp ? gather_find_listener(pp, l) : NULL;
			if (pl)
				verdict_window_between(pp, pl, p, l, &r->w);
			/* STATE follows the window, as check's verdict. */
			r->w.recent_ns = o->recent_ns;
			recent_apply(&o->mem, p, l, &r->w);
			r->mask = verdict_mask(p, l, &r->w);
			r->fill =
			    (double)l->live.queue_now /
			    (l->effective_backlog ? l->effective_backlog : 1);
			if (r->w.have && r->w.ns)
				r->accepts_s = (double)r->w.accepts * 1e9 /
					       (double)r->w.ns;
		}
	}
	qsort(rows, k, sizeof(*rows), row_cmp);
	*n = k;
	return rows;
}

static const struct segment_listener *before_of(const struct report *prev,
						const struct top_row *r)
{
	const struct segment_snapshot *pp =
	    prev ? gather_find(prev, r->p) : NULL;
	return pp ? gather_find_listener(pp, r->l) : NULL;
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

/* One frame on out: plain text, lines cut at width (0: no limit), rows
 * limited to max_rows (0: all); STATE first, so that a narrow terminal
 * still shows it, in colour when colour. */
static void render(FILE *out, const struct report *cur,
		   const struct report *prev, const struct top_opts *o,
		   int width, int max_rows, int colour)
{
	char line[1024], when[16], comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)], bar[TOP_BAR + 3], q[40];
	char gap[FMT_DURATION_LEN], away[FMT_DURATION_LEN],
	    wait[FMT_DURATION_LEN];
	size_t n = 0;
	time_t t = time(NULL);
	struct tm tm;

	struct top_row *rows = build_rows(cur, prev, o, &n);
	if (!localtime_r(&t, &tm) ||
	    !strftime(when, sizeof(when), "%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	int cut = width > 0 && width < (int)sizeof(line)
		      ? width
		      : (int)sizeof(line) - 1;
	snprintf(line, sizeof(line),
		 "acceptwatch top  %s  every %.1fs  %zu listener%s in %zu "
		 "process%s%s",
		 when, o->interval, n, n == 1 ? "" : "s", cur->n_proc,
		 cur->n_proc == 1 ? "" : "es", o->once ? "" : "  (q quits)");
	fprintf(out, "%.*s\n\n", cut, line);
	snprintf(line, sizeof(line),
		 "%-16s %-7s %-15s %-22s %8s %-14s %-12s %7s %7s %7s %6s %6s",
		 "STATE", "PID", "COMM", "ADDRESS", "ACC/s", "QUEUE n/pk/bl",
		 "FILL", "GAP99", "AWAY99", "WAIT99", "SLOW/s", "DROP/s");
	fprintf(out, "%.*s\n", cut, line);
	for (size_t i = 0; rows && i < n; i++) {
		if (max_rows > 0 && (int)i >= max_rows) {
			fprintf(out, "... %zu more\n", n - i);
			break;
		}
		const struct top_row *r = &rows[i];
		const struct segment_listener *l = r->l,
					      *b = before_of(prev, r);
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
			colour ? state_colour(r->mask) : NULL);
	}
	if (n == 0)
		fprintf(out, "no listener under acceptwatch\n");
	free(rows);
}

static void sleep_s(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (!top_quit && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait up to s seconds for a key; 1 when the user asked to quit. */
static int wait_key(double s)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	char c;

	if (!tio_saved) {
		sleep_s(s);
		return top_quit;
	}
	int ms = (int)(s * 1000);
	while (!top_quit) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r = poll(&pfd, 1, ms);
		if (r <= 0) /* timeout, or a signal: the flag says which */
			return top_quit;
		if (read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q' || c == 3 /* ^C without ISIG */))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0)
			return 0;
	}
	return 1;
}

static void screen_size(int *w, int *h)
{
	struct winsize ws;

	*w = 0;
	*h = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		*w = ws.ws_col;
		*h = ws.ws_row;
	}
}

/* check's state file, if there is one of ours: what top knows of each
 * listener's past before its first frame. Silently none otherwise. */
static void load_memory(struct top_opts *o)
{
	char path[4096], err[512];

	recent_init(&o->mem);
	if (o->recent_ns && recent_default_path(path, sizeof(path)) == 0 &&
	    recent_load(&o->mem, path, err, sizeof(err)))
		recent_free(&o->mem);
}

/* A reading: into the memory (out of memory: a looser bound), then r.
 * Unreadable segments are not said: a full screen has no room for stderr
 * lines. */
static void take_reading(struct top_opts *o, struct report *r,
			 const struct gather_opts *g)
{
	char err[SEGMENT_ERR_LEN];

	if (gather_report(r, g, err, sizeof(err)) < 0)
		aw_error("%s", err);
	recent_update(&o->mem, r);
}

int top_command(int argc, char **argv)
{
	struct top_opts o = {0};
	struct gather_opts g = {0};
	struct report cur, prev;
	int w, h;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	load_memory(&o);
	if (o.once) {
		/* Two readings an interval apart, one frame, no escapes. */
		take_reading(&o, &prev, &g);
		sleep_s(o.interval);
		take_reading(&o, &cur, &g);
		render(stdout, &cur, &prev, &o, 0, 0, top_colour());
		gather_free(&prev);
		gather_free(&cur);
		recent_free(&o.mem);
		return fflush(stdout) ? 1 : AW_EXIT_OK;
	}
	if (term_setup()) {
		aw_error("top: terminal: %s", strerror(errno));
		recent_free(&o.mem);
		return AW_EXIT_USAGE;
	}
	memset(&prev, 0, sizeof(prev));
	int have_prev = 0;
	while (!top_quit) {
		take_reading(&o, &cur, &g);
		screen_size(&w, &h);
		if (screen_alt)
			fputs("\033[H\033[2J", stdout);
		else if (have_prev)
			fputc('\n', stdout);
		render(stdout, &cur, have_prev ? &prev : NULL, &o, w,
		       h > 5 ? h - 5 : 0, top_colour());
		fflush(stdout);
		if (have_prev)
			gather_free(&prev);
		prev = cur;
		have_prev = 1;
		if (wait_key(o.interval))
			break;
	}
	if (have_prev)
		gather_free(&prev);
	recent_free(&o.mem);
	term_restore();
	return AW_EXIT_OK;
}
