/*
 * acceptwatch watch: sample running processes from outside for a while
 * (no preload, no restart, no ptrace stop), then report them as stat
 * would, with their threads and verdicts. On a terminal a live line shows
 * the progress; SIGINT or SIGTERM ends the watch early with the report of
 * what it has.
 */
#include "commands.h"
#include "error.h"

#include "format.h"
#include "gather.h"
#include "report.h"
#include "sampler.h"
#include "usage.h"
#include "watch_model.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define WATCH_DEFAULT_NS (10ull * 1000000000ull)
#define WATCH_DEFAULT_HZ 100u
#define WATCH_MAX_HZ 1000u
#define PROGRESS_NS 250000000ull

struct watch_opts {
	uint64_t for_ns;
	unsigned int hz;
	int json;
	int prometheus;
	int hist;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_hz(const char *arg, unsigned int *hz)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);

	if (errno || end == arg || *end || arg[0] == '-' || v < 1 ||
	    v > WATCH_MAX_HZ)
		return -1;
	*hz = (unsigned int)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct watch_opts *o)
{
	static const struct option longopts[] = {
	    {"for", required_argument, NULL, 'f'},
	    {"hz", required_argument, NULL, 'z'},
	    {"json", no_argument, NULL, 'j'},
	    {"prometheus", no_argument, NULL, 'p'},
	    {"hist", no_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:z:jpHh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			if (check_parse_window(optarg, &o->for_ns) ||
			    o->for_ns == 0) {
				aw_error("watch: --for wants a duration "
					 "(10, 30s, 5m; up to a day), not "
					 "'%s'",
					 optarg);
				return -1;
			}
			break;
		case 'z':
			if (parse_hz(optarg, &o->hz)) {
				aw_error("watch: --hz wants 1 to %u, not '%s'",
					 WATCH_MAX_HZ, optarg);
				return -1;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			o->prometheus = 1;
			break;
		case 'H':
			o->hist = 1;
			break;
		case 'h':
			usage_command(stdout, "watch");
			return 1;
		default:
			aw_error("watch: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (o->json + o->prometheus + o->hist > 1) {
		aw_error("watch: --json, --prometheus and --hist exclude each "
			 "other");
		return -1;
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};

	/* EINTR: a stop was asked for, the loop looks. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* The live line: elapsed of --for, samples, and per process what it sees
 * so far (the first listener's queue now and peak, drops so far). */
static void progress(const struct sampler *s, uint64_t for_ns)
{
	char el[FMT_DURATION_LEN], all[FMT_DURATION_LEN];

	fmt_duration(el, sizeof(el), s->now_ns - s->start_ns);
	fmt_duration(all, sizeof(all), for_ns);
	fprintf(stderr, "\r\033[Kwatch %s/%s  %" PRIu64 " samples", el, all,
		s->ticks);
	for (size_t i = 0; i < s->n_proc && i < 3; i++) {
		const struct sampler_proc *p = &s->proc[i];
		if (p->n_listeners == 0) {
			fprintf(stderr, "  pid %d: no listener", (int)p->pid);
			continue;
		}
		const struct sampler_listener *l = &p->listener[0];
		fprintf(stderr,
			"  pid %d: queue %" PRIu32 "/%" PRIu32 " peak %" PRIu32
			", %" PRIu64 " accepts, %" PRIu64 " drops",
			(int)p->pid, l->queue_now, l->backlog, l->queue_peak,
			sampler_accepts(l), l->drops_now - l->drops_first);
	}
	fflush(stderr);
}

static void watch_loop(struct sampler *s, uint64_t for_ns, int live)
{
	uint64_t start = mono_ns(), next = start, last_progress = 0;

	s->start_ns = start;
	while (!stop_requested) {
		uint64_t now = mono_ns();
		if (now - start >= for_ns)
			break;
		sampler_tick(s, now);
		if (live && now - last_progress >= PROGRESS_NS) {
			progress(s, for_ns);
			last_progress = now;
		}
		next += s->period_ns;
		now = mono_ns();
		if (next < now) /* fell behind: no burst to catch up */
			next = now;
		if (next - start > for_ns)
			next = start + for_ns;
		sleep_until(next);
	}
	if (live)
		fprintf(stderr, "\r\033[K");
}

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
		   1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
		   1000ull;
}

static int watch_print(const struct watch_opts *o, const struct watch_model *m)
{
	if (o->json)
		report_json(stdout, &m->r);
	else if (o->prometheus)
		return report_prometheus(stdout, &m->r, 0);
	else if (o->hist)
		report_hist(stdout, &m->r);
	else
		report_watch_text(stdout, m);
	return 0;
}

int watch_command(int argc, char **argv)
{
	struct watch_opts o = {WATCH_DEFAULT_NS, WATCH_DEFAULT_HZ, 0, 0, 0};
	struct sampler s;
	struct watch_model m;
	char err[SEGMENT_ERR_LEN];
	pid_t *pids;
	size_t n;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (gather_parse_pids(argc, argv, optind, &pids, &n, err,
			      sizeof(err))) {
		aw_error("watch: %s", err);
		return AW_EXIT_USAGE;
	}
	if (n == 0) {
		aw_error("watch: which process? give one PID or more");
		return AW_EXIT_USAGE;
	}
	if (sampler_init(&s, pids, n, o.hz, err, sizeof(err))) {
		aw_error("watch: %s", err);
		sampler_free(&s);
		free(pids);
		return AW_EXIT_USAGE;
	}
	free(pids);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: the sleep ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	watch_loop(&s, o.for_ns,
		   isatty(STDOUT_FILENO) && isatty(STDERR_FILENO));
	sampler_finish(&s);
	s.self_cpu_ns = self_cpu_ns();
	int status = AW_EXIT_OK;
	if (watch_model_build(&m, &s) || watch_print(&o, &m)) {
		aw_error("watch: out of memory");
		status = 1;
	}
	watch_model_free(&m);
	sampler_free(&s);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return status;
}
