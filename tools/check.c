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
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "format.h"
#include "gather.h"
#include "histogram.h"
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
#include <time.h>

#define CHECK_MAX_INTERVAL 3600.0
#define CHECK_MAX_WINDOW_S 86400.0

struct check_opts {
	int json;
	double interval;    /* seconds; 0: one reading */
	uint64_t recent_ns; /* the verdict window, 0: none */
	const char *state;  /* state file; NULL: the default, "none": none */
};

/* One reading: the report and, per process, its namespace counters. */
struct check_reading {
	struct report r;
	struct netstat_listen *ns; /* r.n_proc entries */
	int *ns_ok;
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

static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"interval", required_argument, NULL, 'i'},
	    {"window", required_argument, NULL, 'w'},
	    {"state", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
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
			o->state = optarg;
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

/* Index of p's process in reading a, or -1. */
static long find_proc(const struct check_reading *a,
		      const struct segment_snapshot *p)
{
	const struct segment_snapshot *q = gather_find(&a->r, p);
	return q ? (long)(q - a->r.proc) : -1;
}

/* The window of listener l (process index pi of b) against reading a. */
static void window_of(const struct check_reading *a,
		      const struct check_reading *b, size_t pi,
		      const struct segment_listener *l,
		      struct verdict_window *w)
{
	const struct segment_snapshot *p = &b->r.proc[pi];

	memset(w, 0, sizeof(*w));
	if (!a)
		return;
	long ai = find_proc(a, p);
	if (ai < 0)
		return;
	const struct segment_snapshot *pa = &a->r.proc[ai];
	const struct segment_listener *la = gather_find_listener(pa, l);
	if (!la)
		return;
	verdict_window_between(pa, la, p, l, w);
	if (a->ns_ok[ai] && b->ns_ok[pi]) {
		w->have_netstat = 1;
		w->listen_overflows =
		    b->ns[pi].overflows > a->ns[ai].overflows
			? b->ns[pi].overflows - a->ns[ai].overflows
			: 0;
		w->listen_drops = b->ns[pi].drops > a->ns[ai].drops
				      ? b->ns[pi].drops - a->ns[ai].drops
				      : 0;
	}
}

/* --- text ---------------------------------------------------------------*/

/* What happened before the window: evidence, not a verdict (its fix is
 * the verdict's, said when it is one again). */
static void text_history(const struct verdict *h, int nh)
{
	for (int i = 0; i < nh; i++)
		printf("  earlier, %s: %s\n", verdict_name(h[i].kind),
		       h[i].evidence);
}

static void text_listener(const struct segment_snapshot *p,
			  const struct segment_listener *l,
			  const struct verdict_window *w,
			  const struct verdict *v, int n,
			  const struct verdict *h, int nh)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fmt_printable(addr, sizeof(addr), l->address, sizeof(l->address));
	printf("pid %d (%s) %s fd %" PRId32 "%s%s: %s\n", (int)p->pid, comm,
	       addr, l->fd, (l->flags & AW_LF_CLOSED) ? " (closed)" : "",
	       p->alive ? "" : " [exited]", n ? verdict_name(v[0].kind) : "OK");
	if (n == 0 && nh > 0) {
		char span[FMT_DURATION_LEN];
		fmt_duration(span, sizeof(span), w->recent_ns);
		printf("  OK  within the last %s: backlog %" PRIu32 ", %" PRIu64
		       " accepts since the listen\n",
		       span, l->effective_backlog, l->accepts);
		text_history(h, nh);
		return;
	}
	if (n == 0) {
		printf("  OK  backlog %" PRIu32 ", queue peak %" PRIu32
		       ", %" PRIu64 " accepts, no slow event, no socket drop\n",
		       l->effective_backlog, l->queue_peak, l->accepts);
		return;
	}
	for (int i = 0; i < n; i++) {
		printf("  %s: %s\n", verdict_name(v[i].kind), v[i].evidence);
		printf("    fix: %s\n", v[i].fix);
		if (v[i].kind == VERDICT_SLOW)
			report_text_stack(stdout, "    ",
					  "accept loop (call-site stack)",
					  segment_stack_text(p, l->slow_stack));
		if (v[i].kind == VERDICT_CLAMPED ||
		    v[i].kind == VERDICT_BACKLOG_SMALL)
			report_text_stack(
			    stdout, "    ",
			    "backlog chosen at (listen() stack)",
			    segment_stack_text(p, l->listen_stack));
	}
	text_history(h, nh);
}

/* --- JSON ---------------------------------------------------------------*/

static void json_u64_or_null(const char *key, int have, uint64_t v)
{
	if (have)
		printf("\"%s\":%" PRIu64, key, v);
	else
		printf("\"%s\":null", key);
}

static void json_window(const struct verdict_window *w)
{
	if (!w->have) {
		printf("\"window\":null");
		return;
	}
	printf("\"window\":{\"ns\":%" PRIu64 ",\"accepts\":%" PRIu64
	       ",\"socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64
	       ",\"full_events\":%" PRIu64 ",\"slow_events\":%" PRIu64 ",",
	       w->ns, w->accepts, w->drops, w->drops, w->full_events,
	       w->slow_events);
	json_u64_or_null("listen_overflows", w->have_netstat,
			 w->listen_overflows);
	printf(",");
	json_u64_or_null("listen_drops", w->have_netstat, w->listen_drops);
	printf("}");
}

static void json_evidence(const struct segment_snapshot *p,
			  const struct segment_listener *l,
			  const struct verdict *v)
{
	switch (v->kind) {
	case VERDICT_STALLED:
		printf("\"queue_now\":%" PRIu32 ",\"in_accept\":%" PRIu32
		       ",\"stopped\":%s",
		       l->live.queue_now, l->in_accept,
		       p->stopped ? "true" : "false");
		break;
	case VERDICT_OVERFLOWING:
		printf("\"full_events\":%" PRIu64 ",\"queue_now\":%" PRIu32
		       ",\"socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64
		       ",\"suggested_backlog\":%" PRIu32,
		       l->full_events, l->live.queue_now, l->live.drops,
		       l->live.drops, verdict_suggest_backlog(l));
		break;
	case VERDICT_SLOW:
		printf("\"slow_events\":%" PRIu64 ",\"threshold_ms\":%" PRIu32
		       ",\"away_p99_ns\":%" PRIu64 ",\"away_max_ns\":%" PRIu64
		       ",\"queue_peak\":%" PRIu32
		       ",\"queue_wait_p99_ms\":%" PRIu64
		       ",\"queue_wait_max_ms\":%" PRIu64 ",\"stack\":",
		       l->slow_events, p->header.slow_ms,
		       aw_hist_quantile(&l->away_ns, 0.99), l->away_ns.max,
		       l->queue_peak, aw_hist_quantile(&l->queue_wait_ms, 0.99),
		       l->queue_wait_ms.max);
		report_json_frames(stdout,
				   segment_stack_text(p, l->slow_stack));
		break;
	case VERDICT_BACKLOG_SMALL:
		printf("\"queue_peak\":%" PRIu32
		       ",\"effective_backlog\":%" PRIu32
		       ",\"suggested_backlog\":%" PRIu32 ",\"stack\":",
		       verdict_queue_peak(l), l->effective_backlog,
		       verdict_suggest_backlog(l));
		report_json_frames(stdout,
				   segment_stack_text(p, l->listen_stack));
		break;
	default:
		printf("\"requested_backlog\":%" PRId32
		       ",\"wanted_backlog\":%" PRId32
		       ",\"effective_backlog\":%" PRIu32
		       ",\"somaxconn\":%" PRIu32 ",\"raised\":%s,\"stack\":",
		       l->requested_backlog, verdict_wanted_backlog(l),
		       l->effective_backlog, l->somaxconn,
		       (l->flags & AW_LF_RAISED) ? "true" : "false");
		report_json_frames(stdout,
				   segment_stack_text(p, l->listen_stack));
		break;
	}
}

static void json_history(const struct verdict *h, int nh)
{
	printf(",\"earlier\":[");
	for (int i = 0; i < nh; i++) {
		printf("%s{\"verdict\":\"%s\",\"name\":\"%s\",\"evidence\":",
		       i ? "," : "", verdict_key(h[i].kind),
		       verdict_name(h[i].kind));
		report_json_str(stdout, h[i].evidence, sizeof(h[i].evidence));
		printf("}");
	}
	printf("]");
}

static void json_listener(const struct segment_snapshot *p,
			  const struct segment_listener *l,
			  const struct verdict_window *w,
			  const struct verdict *v, int n,
			  const struct verdict *h, int nh)
{
	printf("{\"pid\":%d,\"comm\":", (int)p->pid);
	report_json_str(stdout, p->comm, sizeof(p->comm));
	printf(",\"slot\":%" PRIu32 ",\"fd\":%" PRId32 ",\"address\":", l->slot,
	       l->fd);
	report_json_str(stdout, l->address, sizeof(l->address));
	printf(",\"alive\":%s,\"closed\":%s,\"ok\":%s,\"verdict\":\"%s\",",
	       p->alive ? "true" : "false",
	       (l->flags & AW_LF_CLOSED) ? "true" : "false",
	       n ? "false" : "true", n ? verdict_key(v[0].kind) : "ok");
	json_window(w);
	printf(",\"verdicts\":[");
	for (int i = 0; i < n; i++) {
		printf("%s{\"verdict\":\"%s\",\"name\":\"%s\",\"evidence\":",
		       i ? "," : "", verdict_key(v[i].kind),
		       verdict_name(v[i].kind));
		report_json_str(stdout, v[i].evidence, sizeof(v[i].evidence));
		printf(",\"fix\":");
		report_json_str(stdout, v[i].fix, sizeof(v[i].fix));
		printf(",\"facts\":{");
		json_evidence(p, l, &v[i]);
		printf("}}");
	}
	printf("]");
	json_history(h, nh);
	printf("}");
}

/* --- the command --------------------------------------------------------*/

struct check_counts {
	size_t listeners;
	size_t problems;
	size_t incomplete; /* processes whose figures miss listeners */
	size_t verdicts[VERDICT_KINDS];
};

/* Listeners the shim could not track (table full), or figures it stopped
 * writing (no shared memory): what check says of the rest is incomplete. */
static int incomplete(const struct segment_snapshot *p)
{
	return p->header.listeners_lost > 0 ||
	       (p->header.flags & AW_SF_DETACHED);
}

static void text_incomplete(const struct segment_snapshot *p)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];
	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	printf("pid %d (%s): INCOMPLETE:", (int)p->pid, comm);
	if (p->header.listeners_lost)
		printf(" %" PRIu64 " listener%s not tracked (table full)",
		       p->header.listeners_lost,
		       p->header.listeners_lost == 1 ? "" : "s");
	if (p->header.flags & AW_SF_DETACHED)
		printf("%s figures no longer written (no shared memory: %s)",
		       p->header.listeners_lost ? ";" : "",
		       strerror(p->header.detached_errno));
	printf("; not checked\n");
}

static void json_incomplete(const struct check_reading *b)
{
	int first = 1;
	printf(",\"incomplete\":[");
	for (size_t i = 0; i < b->r.n_proc; i++) {
		const struct segment_snapshot *p = &b->r.proc[i];
		if (!incomplete(p))
			continue;
		printf("%s{\"pid\":%d,\"listeners_lost\":%" PRIu64
		       ",\"detached\":%s}",
		       first ? "" : ",", (int)p->pid, p->header.listeners_lost,
		       (p->header.flags & AW_SF_DETACHED) ? "true" : "false");
		first = 0;
	}
	printf("]");
}

static void check_report(const struct check_opts *o,
			 const struct check_reading *a,
			 const struct check_reading *b,
			 const struct recent_table *mem, struct check_counts *c)
{
	struct verdict v[VERDICT_KINDS], h[VERDICT_KINDS];
	int first = 1;

	if (o->json)
		printf("{\"schema\":%d,\"interval_ns\":%" PRIu64
		       ",\"verdict_window_ns\":%" PRIu64 ",\"listeners\":[",
		       REPORT_JSON_SCHEMA,
		       a ? (uint64_t)(o->interval * 1e9) : 0, o->recent_ns);
	for (size_t pi = 0; pi < b->r.n_proc; pi++) {
		const struct segment_snapshot *p = &b->r.proc[pi];
		if (incomplete(p))
			c->incomplete++;
		for (uint32_t i = 0; i < p->n_listeners; i++) {
			const struct segment_listener *l = &p->listener[i];
			struct verdict_window w;
			window_of(a, b, pi, l, &w);
			w.recent_ns = o->recent_ns;
			recent_apply(mem, p, l, &w);
			int n = verdict_assess(p, l, &w, v);
			int nh = verdict_assess_history(p, l, &w, h);
			c->listeners++;
			if (n)
				c->problems++;
			for (int k = 0; k < n; k++)
				c->verdicts[v[k].kind]++;
			if (o->json) {
				if (!first)
					printf(",");
				json_listener(p, l, &w, v, n, h, nh);
			} else {
				if (!first)
					printf("\n");
				text_listener(p, l, &w, v, n, h, nh);
			}
			first = 0;
		}
	}
}

static void check_summary(const struct check_opts *o,
			  const struct check_reading *b,
			  const struct check_counts *c)
{
	if (o->json) {
		printf("],\"processes\":%zu,\"problems\":%zu,\"counts\":{",
		       b->r.n_proc, c->problems);
		for (int k = 0; k < VERDICT_KINDS; k++)
			printf("%s\"%s\":%zu", k ? "," : "",
			       verdict_key((enum verdict_kind)k),
			       c->verdicts[k]);
		printf("},\"unreadable\":[");
		for (size_t i = 0; i < b->r.n_unreadable; i++) {
			printf("%s{\"name\":", i ? "," : "");
			report_json_str(stdout, b->r.unreadable[i].name,
					sizeof(b->r.unreadable[i].name));
			printf(",\"reason\":");
			report_json_str(stdout, b->r.unreadable[i].reason,
					sizeof(b->r.unreadable[i].reason));
			printf("}");
		}
		printf("]");
		json_incomplete(b);
		printf("}\n");
		return;
	}
	if (c->listeners)
		printf("\n");
	for (size_t i = 0; i < b->r.n_proc; i++)
		if (incomplete(&b->r.proc[i]))
			text_incomplete(&b->r.proc[i]);
	if (b->r.n_proc == 0)
		printf("no process runs under acceptwatch\n");
	printf("%zu listener%s in %zu process%s: %zu OK, %zu with problems",
	       c->listeners, c->listeners == 1 ? "" : "s", b->r.n_proc,
	       b->r.n_proc == 1 ? "" : "es", c->listeners - c->problems,
	       c->problems);
	if (b->r.n_unreadable)
		printf(", %zu segment%s unreadable", b->r.n_unreadable,
		       b->r.n_unreadable == 1 ? "" : "s");
	if (c->incomplete)
		printf(", %zu process%s incomplete", c->incomplete,
		       c->incomplete == 1 ? "" : "es");
	printf("\n");
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
	struct check_counts c;
	char err[SEGMENT_ERR_LEN];
	pid_t *pids;
	size_t n;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (gather_parse_pids(argc, argv, optind, &pids, &n, err,
			      sizeof(err))) {
		aw_error("check: %s", err);
		return AW_EXIT_USAGE;
	}
	g.pids = pids;
	g.n_pids = n;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
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
	check_report(&o, have_a ? &a : NULL, &b, &mem, &c);
	check_summary(&o, &b, &c);
	save_memory(state_path, &mem);
	recent_free(&mem);
	free_reading(&a);
	free_reading(&b);
	free(pids);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return AW_EXIT_USAGE;
	}
	/* An incomplete answer is an input error, whatever else was found:
	 * a segment unreadable, or listeners the shim could not follow. */
	if (status || c.incomplete)
		return AW_EXIT_USAGE;
	return c.problems ? AW_EXIT_PROBLEM : AW_EXIT_OK;
oom:
	aw_error("check: out of memory");
	recent_free(&mem);
	free_reading(&a);
	free_reading(&b);
	free(pids);
	return AW_EXIT_USAGE;
}
