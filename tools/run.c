/*
 * acceptwatch run: start a command under the shim. Only the environment
 * changes (ACCEPTWATCH_* and LD_PRELOAD); then the command replaces us, so
 * its pid is the one its segment will be named after.
 */
#include "commands.h"
#include "error.h"
#include "shim_path.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_usage(FILE *out)
{
	usage_command(out, "run");
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

/*
 * --log DEST into ACCEPTWATCH_LOG. The shim takes only an absolute file
 * path (its cwd may be any), so a relative one is made absolute here,
 * against ours: `--log app.log` means ./app.log, as a person expects.
 * 0, or -1 with a message.
 */
static int set_log(const char *dest)
{
	char cwd[PATH_MAX], path[PATH_MAX * 2];

	if (!strcmp(dest, "stderr") || !strcmp(dest, "none") ||
	    !strcmp(dest, "syslog") || dest[0] == '/')
		return setenv("ACCEPTWATCH_LOG", dest, 1);
	if (!dest[0] || !getcwd(cwd, sizeof(cwd))) {
		aw_error("run: --log '%s': not stderr, none, syslog or a file",
			 dest);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%s", cwd, dest) >=
	    (int)sizeof(path)) {
		aw_error("run: --log '%s': path too long", dest);
		return -1;
	}
	return setenv("ACCEPTWATCH_LOG", path, 1);
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
			if (set_log(optarg))
				return -1;
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
	if (shim_path_find(shim, sizeof(shim))) {
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
