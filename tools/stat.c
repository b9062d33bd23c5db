/*
 * acceptwatch stat: gather the snapshots (every segment, or the pids asked),
 * add the kernel's live readings, hand them to a report.
 */
#include "commands.h"
#include "error.h"

#include "gather.h"
#include "report.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct stat_opts {
	int json;
	int hist;
	int prometheus;
	int by_process;
	int all;
	const char *output; /* replaced atomically, or NULL: stdout */
};

static void stat_usage(FILE *out)
{
	usage_command(out, "stat");
}

static int parse_opts(int argc, char **argv, struct stat_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"hist", no_argument, NULL, 'H'},
	    {"all", no_argument, NULL, 'a'},
	    {"prometheus", no_argument, NULL, 'p'},
	    {"by-socket", no_argument, NULL, 's'},
	    {"by-process", no_argument, NULL, 'P'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jaho:psPH", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'H':
			o->hist = 1;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'p':
			o->prometheus = 1;
			break;
		case 's': /* the default since series lost their pid */
			break;
		case 'P':
			o->by_process = 1;
			break;
		case 'o':
			if (!*optarg) {
				aw_error("stat: --output wants a file name");
				return -1;
			}
			/* "-": stdout, as everywhere else. */
			o->output = strcmp(optarg, "-") ? optarg : NULL;
			break;
		case 'h':
			stat_usage(stdout);
			return 1;
		default:
			aw_error("stat: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (o->json + o->prometheus + o->hist > 1) {
		aw_error("stat: --json, --prometheus and --hist exclude each "
			 "other");
		return -1;
	}
	if (o->by_process && !o->prometheus) {
		aw_error("stat: --by-process goes with --prometheus");
		return -1;
	}
	return 0;
}

/* What stat read: every snapshot in r, or, for --prometheus, folded into
 * prom as they were read (r then holds only the counts). */
struct stat_result {
	struct report r;
	struct prom_doc *prom;
};

static int stat_print(FILE *out, const struct stat_opts *o,
		      const struct stat_result *res)
{
	if (o->json)
		report_json(out, &res->r);
	else if (o->prometheus)
		return report_prom_write(out, res->prom);
	else if (o->hist)
		report_hist(out, &res->r);
	else
		report_text(out, &res->r);
	return 0;
}

static int stat_prom_add(void *arg, const struct model_process *snap)
{
	return report_prom_add(arg, snap);
}

/* gather_report's result, into res. */
static int stat_gather(const struct stat_opts *o, const struct gather_opts *g,
		       struct stat_result *res, char *err, size_t errlen)
{
	if (!o->prometheus)
		return gather_report(&res->r, g, err, errlen);
	/* Memory flat in the number of processes: each snapshot is folded
	 * in and freed as it is read. */
	res->prom = report_prom_new(o->by_process);
	if (!res->prom) {
		memset(&res->r, 0, sizeof(res->r));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int got =
	    gather_each(&res->r, g, stat_prom_add, res->prom, err, errlen);
	report_prom_totals(res->prom, res->r.n_unreadable, -1);
	return got;
}

/*
 * The report into path, atomically: a hidden temporary in the same
 * directory (same file system, and not matching a textfile collector's
 * *.prom), written, flushed to disk, then renamed over path. A reader sees
 * the old file or the new one, never half of one. 0, or -1 with a message.
 */
static int stat_write_file(const char *path, const struct stat_opts *o,
			   const struct stat_result *r)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (!*base) {
		aw_error("stat: --output %s: not a file name", path);
		return -1;
	}
	if (slash)
		*slash = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s%s.%s.XXXXXX", slash ? dir : "",
		     slash ? "/" : "", base) >= (int)sizeof(tmp)) {
		aw_error("stat: --output %s: name too long", path);
		return -1;
	}
	/* Errors name path, the file asked for: the temporary is ours. */
	int fd = mkstemp(tmp);
	if (fd < 0) {
		aw_error("stat: writing %s: %s", path, strerror(errno));
		return -1;
	}
	/* mkstemp makes 0600; a collector running as another user reads. */
	FILE *f = fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		aw_error("stat: writing %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	int bad = stat_print(f, o, r) != 0;
	bad = bad || fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	int saved = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (!bad && rename(tmp, path) != 0) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		aw_error("stat: writing %s: %s", path, strerror(saved));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int stat_command(int argc, char **argv)
{
	struct stat_opts o = {0};
	struct gather_opts g = {0};
	struct stat_result res = {0};
	char err[SEGMENT_ERR_LEN];
	pid_t *pids;
	size_t n;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (gather_parse_pids(argc, argv, optind, &pids, &n, err,
			      sizeof(err))) {
		aw_error("stat: %s", err);
		return AW_EXIT_USAGE;
	}
	g.pids = pids;
	g.n_pids = n;
	g.all = o.all;
	g.no_names = o.prometheus;
	int got = stat_gather(&o, &g, &res, err, sizeof(err));
	/* Unattended (a timer into a file): unreadable segments are in the
	 * output's counts, stderr would only fill a journal. */
	if (!(o.output != NULL && o.prometheus))
		report_text_unreadable(&res.r);
	if (got < 0)
		aw_error("%s", err);
	int status = got ? AW_EXIT_USAGE : AW_EXIT_OK;
	if (o.output) {
		if (stat_write_file(o.output, &o, &res))
			status = 1;
	} else if (stat_print(stdout, &o, &res)) {
		aw_error("stat: out of memory");
		status = 1;
	}
	gather_free(&res.r);
	report_prom_free(res.prom);
	free(pids);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return status;
}
