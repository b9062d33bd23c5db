/*
 * acceptwatch listeners: every listening TCP socket of the reader's network
 * namespace, as `ss -ntl` lists them, with the processes that hold each
 * one; where such a process runs the shim, its segment adds the requested
 * backlog, the clamp and the verdict. The model is listeners_model.c's,
 * printed by report_listeners.c.
 *
 * The kernel's figures are sampled over --interval (1 s unless told) at
 * SAMPLE_HOST_HZ (sample_host.h): the deepest queue and the socket drops'
 * rate over it, for every socket, under the shim or not.
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
#include <time.h>

#define LISTENERS_DEFAULT_INTERVAL 1.0

static int parse_opts(int argc, char **argv, int *json, uint64_t *recent_ns,
		      double *interval)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"interval", required_argument, NULL, 'i'},
	    {"window", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	*recent_ns = VERDICT_DEFAULT_RECENT_NS;
	*interval = LISTENERS_DEFAULT_INTERVAL;
	while ((c = getopt_long(argc, argv, "ji:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'i':
			if (check_parse_interval(optarg, interval)) {
				aw_error("listeners: --interval wants seconds "
					 "(0 for one reading, up to 3600), "
					 "not '%s'",
					 optarg);
				return -1;
			}
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

/* The host's listeners read at SAMPLE_HOST_HZ for interval seconds, the
 * first reading at once and the last at the end. */
static void sample_for(struct sample_host *h, double interval)
{
	const uint64_t period = 1000000000ull / SAMPLE_HOST_HZ;
	uint64_t start = sample_host_now(),
		 end = start + (uint64_t)(interval * 1e9);

	sample_host_tick(h, start);
	for (uint64_t next = start + period;; next += period) {
		if (next > end)
			next = end;
		struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
				      .tv_nsec = (long)(next % 1000000000ull)};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
		sample_host_tick(h, sample_host_now());
		if (next >= end)
			return;
	}
}

int listeners_command(int argc, char **argv)
{
	struct listeners_model m;
	struct sample_host host;
	uint64_t recent_ns;
	double interval;
	char err[128];
	int json = 0;

	int ret = parse_opts(argc, argv, &json, &recent_ns, &interval);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	sample_host_init(&host);
	if (interval > 0)
		sample_for(&host, interval);
	ret = listeners_model_build(&m, recent_ns, interval > 0 ? &host : NULL,
				    err, sizeof(err));
	sample_host_free(&host);
	if (ret) {
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
