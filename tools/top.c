/*
 * acceptwatch top: a refreshing view of every listener under the shim,
 * sorted by trouble. Plain ANSI (clear, alternate screen, hidden cursor):
 * one frame is a few dozen lines, ncurses would not earn its place.
 *
 * Rates and the p99s are over the last interval (the difference of two
 * readings), not since the listen: what is happening now. Listeners no
 * segment speaks for (servers without the shim) are the kernel's figures,
 * sampled at SAMPLE_HOST_HZ between frames (sample_host.h): queue now,
 * its peak over the interval, socket drops. The terminal is
 * put in non-canonical, no-echo mode so that a single 'q' quits; ISIG is
 * kept, so Ctrl-C arrives as SIGINT, whose handler only sets a flag: the
 * loop then restores the terminal, as it does on SIGTERM and SIGHUP, and at
 * exit().
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "gather.h"
#include "proc_cache.h"
#include "recent.h"
#include "report.h"
#include "sample_host.h"
#include "top_model.h"
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

struct top_opts {
	double interval;
	int once;
	uint64_t recent_ns; /* STATE's verdict window, 0: all history */
	/* When each listener's trouble last rose, over the frames so far
	 * (and check's state file, read at the start). */
	struct recent_table mem;
	/* Every listener of the host, at SAMPLE_HOST_HZ between frames. */
	struct sample_host host;
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

/*
 * The interval between two frames: the host's listeners read every
 * 1/SAMPLE_HOST_HZ s meanwhile (a failed dump counts nothing: the next
 * one may work), keys read between. 1 when the user asked to quit.
 */
static int wait_sampling(struct top_opts *o, double s)
{
	const uint64_t period = 1000000000ull / SAMPLE_HOST_HZ;
	uint64_t end = sample_host_now() + (uint64_t)(s * 1e9);

	for (;;) {
		uint64_t now = sample_host_now();
		if (now >= end)
			return top_quit;
		uint64_t left = end - now;
		if (wait_key((double)(left < period ? left : period) / 1e9))
			return 1;
		sample_host_tick(&o->host, sample_host_now());
	}
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
	/* The kernel's figures of the sockets no segment speaks for, over
	 * the interval; out of memory, the frame shows the segments. */
	sample_host_tick(&o->host, sample_host_now());
	sample_host_add(&o->host, r);
	recent_update(&o->mem, r);
}

/* One frame of cur against prev (NULL: none) on stdout. */
static void draw(const struct top_opts *o, const struct report *cur,
		 const struct report *prev, int width, int max_rows)
{
	struct top_frame f;
	struct top_screen s = {
	    .interval = o->interval,
	    .keys = !o->once && tio_saved && screen_alt,
	    .width = width,
	    .max_rows = max_rows,
	    .colour = top_colour(),
	};

	top_frame_build(&f, cur, prev, &o->mem, o->recent_ns);
	report_top(stdout, &f, &s);
	top_frame_free(&f);
}

int top_command(int argc, char **argv)
{
	struct top_opts o = {0};
	struct gather_opts g = {.no_names = 1};
	struct report cur, prev;
	int w, h;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	load_memory(&o);
	sample_host_init(&o.host);
	proc_cache_enable(); /* every frame reads the same processes */
	if (o.once) {
		/* Two readings an interval apart, one frame, no escapes. */
		take_reading(&o, &prev, &g);
		wait_sampling(&o, o.interval);
		take_reading(&o, &cur, &g);
		draw(&o, &cur, &prev, 0, 0);
		gather_free(&prev);
		gather_free(&cur);
		recent_free(&o.mem);
		sample_host_free(&o.host);
		return fflush(stdout) ? 1 : AW_EXIT_OK;
	}
	if (term_setup()) {
		aw_error("top: terminal: %s", strerror(errno));
		recent_free(&o.mem);
		sample_host_free(&o.host);
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
		draw(&o, &cur, have_prev ? &prev : NULL, w, h > 5 ? h - 5 : 0);
		fflush(stdout);
		if (have_prev)
			gather_free(&prev);
		prev = cur;
		have_prev = 1;
		if (wait_sampling(&o, o.interval))
			break;
	}
	if (have_prev)
		gather_free(&prev);
	recent_free(&o.mem);
	sample_host_free(&o.host);
	term_restore();
	return AW_EXIT_OK;
}
