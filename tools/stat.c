/*
 * acceptwatch stat: gather the snapshots (every segment, or the pids asked),
 * add the kernel's live readings, hand them to a report.
 */
#include "commands.h"

#include "live.h"
#include "report.h"
#include "segment_reader.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stat_opts {
	int json;
	int all;
};

/* Growable arrays of the report, and whether an asked pid failed. */
struct stat_state {
	struct report r;
	size_t proc_cap;
	size_t unreadable_cap;
	int failed;
	struct live_context live;
};

static int add_unreadable(struct stat_state *s, const char *name,
			  const char *reason)
{
	if (s->r.n_unreadable == s->unreadable_cap) {
		size_t cap = s->unreadable_cap ? s->unreadable_cap * 2 : 8;
		struct report_unreadable *p =
		    realloc(s->r.unreadable, cap * sizeof(*p));
		if (!p)
			return -1;
		s->r.unreadable = p;
		s->unreadable_cap = cap;
	}
	struct report_unreadable *u = &s->r.unreadable[s->r.n_unreadable++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->reason, sizeof(u->reason), "%s", reason);
	aw_error("%s: %s", name, reason);
	return 0;
}

/* Takes ownership of snap. */
static int add_proc(struct stat_state *s, struct segment_snapshot *snap)
{
	if (s->r.n_proc == s->proc_cap) {
		size_t cap = s->proc_cap ? s->proc_cap * 2 : 8;
		struct segment_snapshot *p =
		    realloc(s->r.proc, cap * sizeof(*p));
		if (!p) {
			segment_snapshot_free(snap);
			return -1;
		}
		s->r.proc = p;
		s->proc_cap = cap;
	}
	live_apply(&s->live, snap);
	s->r.proc[s->r.n_proc++] = *snap;
	return 0;
}

/*
 * One pid. An asked pid is shown even when its process exited; a missing
 * or unreadable one is an input error. A scanned one that vanished since
 * the scan is skipped silently, an exited one counted unless --all.
 */
static int stat_pid(struct stat_state *s, const struct stat_opts *o, pid_t pid,
		    int asked)
{
	struct segment_snapshot snap;
	char err[SEGMENT_ERR_LEN];

	int ret = segment_snapshot(pid, &snap, err, sizeof(err));
	if (ret == SEGMENT_OK && (asked || o->all || snap.alive))
		return add_proc(s, &snap);
	segment_snapshot_free(&snap);
	if (ret == SEGMENT_OK) {
		s->r.skipped_exited++;
		return 0;
	}
	if (ret == SEGMENT_MISSING && !asked)
		return 0;
	if (asked)
		s->failed = 1;
	if (ret == SEGMENT_MISSING)
		snprintf(err, sizeof(err),
			 "no segment for pid %d (is it "
			 "running under acceptwatch?)",
			 (int)pid);
	return add_unreadable(s, snap.name, err);
}

static int stat_scan(struct stat_state *s, const struct stat_opts *o)
{
	pid_t *pids;
	size_t n;
	char err[SEGMENT_ERR_LEN];

	if (segment_scan(&pids, &n, err, sizeof(err))) {
		aw_error("%s", err);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (stat_pid(s, o, pids[i], 0))
			break;
	free(pids);
	return 0;
}

/* A positive decimal pid, or 0. */
static pid_t parse_pid(const char *arg)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

static void stat_usage(FILE *out)
{
	fprintf(out, "usage: acceptwatch stat [--json] [--all] [PID...]\n");
}

static int parse_opts(int argc, char **argv, struct stat_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+jah", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'h':
			stat_usage(stdout);
			return 1;
		default:
			aw_error("stat: unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

static void stat_free(struct stat_state *s)
{
	for (size_t i = 0; i < s->r.n_proc; i++)
		segment_snapshot_free(&s->r.proc[i]);
	free(s->r.proc);
	free(s->r.unreadable);
	live_free(&s->live);
}

int stat_command(int argc, char **argv)
{
	struct stat_opts o = {0};
	struct stat_state s;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	/* Check every pid before reading any: a typo is a usage error. */
	for (int i = optind; i < argc; i++) {
		if (!parse_pid(argv[i])) {
			aw_error("stat: not a pid: '%s'", argv[i]);
			return AW_EXIT_USAGE;
		}
	}
	memset(&s, 0, sizeof(s));
	live_init(&s.live);
	s.r.summary = optind == argc;
	if (optind == argc && stat_scan(&s, &o))
		s.failed = 1;
	for (int i = optind; i < argc; i++)
		if (stat_pid(&s, &o, parse_pid(argv[i]), 1))
			break;
	if (o.json)
		report_json(stdout, &s.r);
	else
		report_text(stdout, &s.r);
	stat_free(&s);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return s.failed ? AW_EXIT_USAGE : AW_EXIT_OK;
}
