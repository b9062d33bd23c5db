/*
 * acceptwatch listeners: every listening TCP socket of the reader's network
 * namespace, as `ss -ntl` lists them, with the processes that hold each
 * one; where such a process runs the shim, its segment adds the requested
 * backlog, the clamp and the verdict. The model is listeners_model.c's,
 * printed by report_listeners.c.
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "listeners_model.h"
#include "report.h"
#include "verdict.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int parse_opts(int argc, char **argv, int *json, uint64_t *recent_ns)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"window", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	*recent_ns = VERDICT_DEFAULT_RECENT_NS;
	while ((c = getopt_long(argc, argv, "jw:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'w':
			if (check_parse_window(optarg, recent_ns)) {
				aw_error("listeners: --window wants a duration "
					 "(300, 90s, 5m, 1h; 0 for none; at "
					 "most a day), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case 'h':
			usage_command(stdout, "listeners");
			return 1;
		default:
			aw_error("listeners: unknown option '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		aw_error("listeners: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

int listeners_command(int argc, char **argv)
{
	struct listeners_model m;
	uint64_t recent_ns;
	char err[128];
	int json = 0;

	int ret = parse_opts(argc, argv, &json, &recent_ns);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (listeners_model_build(&m, recent_ns, err, sizeof(err))) {
		aw_error("listeners: %s", err);
		listeners_model_free(&m);
		return AW_EXIT_USAGE;
	}
	if (json)
		report_listeners_json(stdout, &m);
	else
		report_listeners_text(stdout, &m);
	listeners_model_free(&m);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return AW_EXIT_OK;
}
