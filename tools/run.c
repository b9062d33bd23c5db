/*
 * acceptwatch run: start a command under the shim. Only the environment
 * changes (ACCEPTWATCH_* and LD_PRELOAD); then the command replaces us, so
 * its pid is the one its segment will be named after.
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AW_LIBDIR
#define AW_LIBDIR "/usr/local/lib/acceptwatch"
#endif

#define SHIM_NAME "libacceptwatch.so"

static void run_usage(FILE *out)
{
	usage_command(out, "run");
}

/*
 * The shim, looked for relative to this binary first: in a build tree
 * (tools/acceptwatch -> shim/libacceptwatch.so), then as installed
 * (PREFIX/bin/acceptwatch -> PREFIX/lib/acceptwatch/libacceptwatch.so,
 * whatever PREFIX or DESTDIR was), then in the configured AW_LIBDIR.
 * 0, or -1 when none exists.
 */
static int find_shim(char *dst, size_t len)
{
	static const char *const relative[] = {
	    "../shim/" SHIM_NAME,
	    "../lib/acceptwatch/" SHIM_NAME,
	};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	const char *dir = NULL;
	if (n > 0) {
		exe[n] = '\0';
		dir = dirname(exe); /* in place: once */
	}
	for (size_t i = 0; dir != NULL && i < 2; i++) {
		char candidate[PATH_MAX + 64];
		snprintf(candidate, sizeof(candidate), "%s/%s", dir,
			 relative[i]);
		/* realpath: LD_PRELOAD wants a clean absolute path. */
		if (access(candidate, R_OK) == 0 && realpath(candidate, dst) &&
		    strlen(dst) < len)
			return 0;
	}
	snprintf(dst, len, "%s/" SHIM_NAME, AW_LIBDIR);
	return access(dst, R_OK) == 0 ? 0 : -1;
}

/* LD_PRELOAD with the shim first; entries already there are kept. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");

	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	size_t len = strlen(shim) + strlen(old) + 2;
	char *val = malloc(len);
	if (!val)
		return -1;
	/* ld.so splits the list on spaces and colons alike. */
	snprintf(val, len, "%s:%s", shim, old);
	int ret = setenv("LD_PRELOAD", val, 1);
	free(val);
	return ret;
}

/* A positive decimal count of milliseconds. */
static int valid_ms(const char *arg)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && v > 0 && v <= INT_MAX;
}

/* Options into the environment. 0, 1 for --help, -1 on a usage error. */
static int parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"slow-ms", required_argument, NULL, 's'},
	    {"log", required_argument, NULL, 'l'},
	    {"keep", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	/* "+": stop at CMD, its own options are not ours. */
	while ((c = getopt_long(argc, argv, "+s:l:kh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!valid_ms(optarg)) {
				aw_error("run: --slow-ms wants a positive "
					 "number of ms, not '%s'",
					 optarg);
				return -1;
			}
			setenv("ACCEPTWATCH_SLOW_MS", optarg, 1);
			break;
		case 'l':
			setenv("ACCEPTWATCH_LOG", optarg, 1);
			break;
		case 'k':
			setenv("ACCEPTWATCH_KEEP", "1", 1);
			break;
		case 'h':
			run_usage(stdout);
			return 1;
		default:
			aw_error("run: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

int run_command(int argc, char **argv)
{
	char shim[PATH_MAX];

	int ret = parse_opts(argc, argv);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (optind >= argc) {
		aw_error("run: no command given");
		run_usage(stderr);
		return AW_EXIT_USAGE;
	}
	/* A person is watching: the shim's lines on stderr, unless the
	 * environment or --log already chose. */
	setenv("ACCEPTWATCH_LOG", "stderr", 0);
	if (find_shim(shim, sizeof(shim))) {
		aw_error("run: shim not found: %s", shim);
		return AW_EXIT_USAGE;
	}
	if (set_preload(shim)) {
		aw_error("run: LD_PRELOAD: %s", strerror(errno));
		return AW_EXIT_USAGE;
	}
	execvp(argv[optind], &argv[optind]);
	aw_error("run: %s: %s", argv[optind], strerror(errno));
	return AW_EXIT_EXEC;
}
