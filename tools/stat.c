/*
 * acceptwatch stat: gather the snapshots (every segment, or the pids asked),
 * add the kernel's live readings, hand them to a report.
 */
#include "commands.h"

#include "gather.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stat_opts {
	int json;
	int all;
};

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

int stat_command(int argc, char **argv)
{
	struct stat_opts o = {0};
	struct gather_opts g = {0};
	struct report r;
	pid_t *pids;
	size_t n;

	int ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (gather_parse_pids("stat", argc, argv, optind, &pids, &n))
		return AW_EXIT_USAGE;
	g.pids = pids;
	g.n_pids = n;
	g.all = o.all;
	int status = gather_report(&r, &g);
	if (o.json)
		report_json(stdout, &r);
	else
		report_text(stdout, &r);
	gather_free(&r);
	free(pids);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return status;
}
