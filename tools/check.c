/*
 * acceptwatch check: a verdict per listener, with its evidence and the fix.
 *
 * The observation: the segment's figures are cumulative since the listen,
 * so they say what happened; what is happening is measured by reading
 * everything twice, --interval seconds apart (default 1): the second
 * reading gives the verdicts, the difference gives the window (drops on
 * the socket, and TcpExtListenOverflows/ListenDrops of each server's own
 * network namespace from /proc/PID/net/netstat). --interval 0 reads once.
 *
 * The verdict window (--window, default 5 minutes): a listener is judged on
 * what can have happened within it, and the exit status follows; trouble
 * that last rose before it is told as history ("earlier") and passes. When
 * it last rose is bounded by each reading (recent.h) and remembered in a
 * state file between runs (--state), so a burst ages out even on a server
 * whose probes stay fresh.
 *
 * The exit status is the monitoring-plugins convention (check_model.h):
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, usage errors included. A
 * verdict the operator accepts (--ignore KIND[@ADDR]) is shown, never
 * counted.
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "check_model.h"
#include "gather.h"
#include "netstat.h"
#include "recent.h"
#include "report.h"
#include "verdict.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHECK_MAX_INTERVAL 3600.0
#define CHECK_MAX_WINDOW_S 86400.0

struct check_opts {
	int json;
	double interval;    /* seconds; 0: one reading */
	uint64_t recent_ns; /* the verdict window, 0: none */
	const char *state;  /* state file; NULL: the default, "none": none */
	struct check_ignores ignore; /* verdicts accepted (--ignore) */
	int per_process;	     /* text: one block per process */
};

static void check_usage(FILE *out)
{
	usage_command(out, "check");
}

int check_parse_window(const char *arg, uint64_t *ns)
{
	char *end;

	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || !isfinite(v) || v < 0)
		return -1;
	if (*end == 'm')
		v *= 60;
	else if (*end == 'h')
		v *= 3600;
	else if (*end != 's' && *end != '\0')
		return -1;
	if (*end && end[1])
		return -1;
	if (v > CHECK_MAX_WINDOW_S)
		return -1;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

/* Seconds, 0 to an hour, decimals allowed. 0 or -1. */
int check_parse_interval(const char *arg, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 ||
	    v > CHECK_MAX_INTERVAL)
		return -1;
	*out = v;
	return 0;
}

/*
 * Whether --state's path cannot be used, said on one line: its directory
 * must exist already (check runs as root from cron: a path it was given is
 * never a reason to create directories) and the path must not be one.
 */
static int state_dir_missing(const char *path)
{
	char dir[4096];
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		aw_error("check: --state: name too long");
		return 1;
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		aw_error("check: --state %s: no directory %s (it is not "
			 "created)",
			 path, dir);
		return 1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		aw_error("check: --state %s: a directory, not a file", path);
		return 1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"interval", required_argument, NULL, 'i'},
	    {"window", required_argument, NULL, 'w'},
	    {"state", required_argument, NULL, 's'},
	    {"ignore", required_argument, NULL, 'I'},
	    {"per-process", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	int c;

	o->interval = 1.0;
	o->recent_ns = VERDICT_DEFAULT_RECENT_NS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ji:w:s:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'i':
			if (check_parse_interval(optarg, &o->interval)) {
				aw_error("check: --interval wants seconds "
					 "(0 to 3600), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case 'w':
			if (check_parse_window(optarg, &o->recent_ns)) {
				aw_error("check: --window wants a duration "
					 "(300, 90s, 5m, 1h; 0 for none; at "
					 "most a day), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case 's':
			if (!optarg[0]) {
				aw_error("check: --state wants a file name or "
					 "'none'");
				return -1;
			}
			if (strcmp(optarg, "none") && state_dir_missing(optarg))
				return -1;
			o->state = optarg;
			break;
		case 'I':
			if (check_ignore_parse(&o->ignore, optarg, err,
					       sizeof(err))) {
				aw_error("check: %s", err);
				return -1;
			}
			break;
		case 'P':
			o->per_process = 1;
			break;
		case 'h':
			check_usage(stdout);
			return 1;
		default:
			aw_error("check: unknown option or missing value: "
				 "'%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* A reading; when quiet, its unreadable segments are not said. 0, 1 when
 * incomplete (a segment unreadable, the scan failed), -1 out of memory. */
static int take_reading(struct check_reading *rd, const struct gather_opts *g,
			int quiet)
{
	char err[SEGMENT_ERR_LEN];
	int status = gather_report(&rd->r, g, err, sizeof(err));

	if (!quiet)
		report_text_unreadable(&rd->r);
	if (status < 0)
		aw_error("%s", err);
	rd->ns = calloc(rd->r.n_proc ? rd->r.n_proc : 1, sizeof(*rd->ns));
	rd->ns_ok = calloc(rd->r.n_proc ? rd->r.n_proc : 1, sizeof(int));
	if (!rd->ns || !rd->ns_ok)
		return -1;
	rd->incomplete = status != 0;
	for (size_t i = 0; i < rd->r.n_proc; i++)
		if (rd->r.proc[i].alive)
			rd->ns_ok[i] =
			    netstat_read(rd->r.proc[i].pid, &rd->ns[i]) == 0;
	return status != 0;
}

static void free_reading(struct check_reading *rd)
{
	gather_free(&rd->r);
	free(rd->ns);
	free(rd->ns_ok);
	memset(rd, 0, sizeof(*rd));
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The state file's memory into mem: the file named, else the default
 * (none when --state none, or no home). A file that cannot be trusted is
 * said once and ignored: the window is then bounded by this run alone.
 * Sets path to the file to save to, or "" for none.
 */
static void load_memory(const struct check_opts *o, struct recent_table *mem,
			char *path, size_t len)
{
	char err[512];

	path[0] = '\0';
	if (o->recent_ns == 0 || (o->state && strcmp(o->state, "none") == 0))
		return;
	if (o->state)
		snprintf(path, len, "%s", o->state);
	else if (recent_default_path(path, len))
		path[0] = '\0';
	if (path[0] && recent_load(mem, path, err, sizeof(err))) {
		aw_error("check: state file %s; not used", err);
		path[0] = '\0';
		recent_free(mem);
	}
}

static void save_memory(const char *path, const struct recent_table *mem)
{
	char err[512];
	struct timespec ts;

	if (!path[0])
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now =
	    (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (recent_save(mem, path, now, err, sizeof(err)))
		aw_error("check: state file %s; the next run will not know "
			 "this one",
			 err);
}

int check_command(int argc, char **argv)
{
	struct check_opts o = {0};
	struct recent_table mem;
	char state_path[4096];
	struct gather_opts g = {0};
	struct check_reading a, b;
	struct check_model m;
	char err[SEGMENT_ERR_LEN];
	pid_t *pids;
	size_t n;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? CHECK_OK : CHECK_UNKNOWN;
	if (gather_parse_pids(argc, argv, optind, &pids, &n, err,
			      sizeof(err))) {
		aw_error("check: %s", err);
		return CHECK_UNKNOWN;
	}
	g.pids = pids;
	g.n_pids = n;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	recent_init(&mem);
	load_memory(&o, &mem, state_path, sizeof(state_path));
	int have_a = o.interval > 0;
	if (have_a) {
		/* Quiet: the second reading says what is unreadable. */
		if (take_reading(&a, &g, 1) < 0)
			goto oom;
		sleep_seconds(o.interval);
	}
	int status = take_reading(&b, &g, 0);
	if (status < 0)
		goto oom;
	if ((have_a && recent_update(&mem, &a.r)) || recent_update(&mem, &b.r))
		goto oom;
	if (check_model_build(&m, have_a ? &a : NULL, &b, &mem,
			      have_a ? (uint64_t)(o.interval * 1e9) : 0,
			      o.recent_ns, &o.ignore))
		goto oom;
	m.per_process = o.per_process;
	if (o.json)
		report_check_json(stdout, &m);
	else
		report_check_text(stdout, &m);
	/* The model's status: a verdict found, or UNKNOWN when part of what
	 * was asked could not be judged (check_model.h). */
	status = (int)m.status;
	check_model_free(&m);
	save_memory(state_path, &mem);
	recent_free(&mem);
	free_reading(&a);
	free_reading(&b);
	free(pids);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return CHECK_UNKNOWN;
	}
	return status;
oom:
	aw_error("check: out of memory");
	recent_free(&mem);
	free_reading(&a);
	free_reading(&b);
	free(pids);
	return CHECK_UNKNOWN;
}
