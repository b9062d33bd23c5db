/*
 * acceptwatch: the reader. Reads the segments the preload shim keeps for
 * each watched process, and starts programs under the shim.
 */
#include "commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void aw_error(const char *fmt, ...)
{
	va_list ap;

	fputs("acceptwatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: acceptwatch COMMAND [OPTIONS]\n"
		"\n"
		"  stat [--json] [--all] [PID...]\n"
		"      accept-queue figures of processes running under the "
		"shim:\n"
		"      every live one, or the PIDs given (shown even when "
		"exited).\n"
		"      --json  one JSON object on stdout\n"
		"      --all   also segments of processes that exited\n"
		"  run [--slow-ms N] [--log DEST] [--keep] -- CMD [ARGS...]\n"
		"      run CMD with the shim preloaded\n"
		"      --slow-ms N  a connection waiting longer is a slow "
		"event\n"
		"      --log DEST   where the shim writes its warnings\n"
		"      --keep       keep the segment after CMD exits\n"
		"\n"
		"Exit status: 0 ok, 2 usage or input error, 127 CMD not "
		"run.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AW_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return AW_EXIT_OK;
	}
	if (!strcmp(cmd, "stat"))
		return stat_command(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return check_command(argc - 1, argv + 1);
	if (!strcmp(cmd, "top"))
		return top_command(argc - 1, argv + 1);
	if (!strcmp(cmd, "listeners"))
		return listeners_command(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return run_command(argc - 1, argv + 1);
	aw_error("unknown command '%s' (try --help)", cmd);
	return AW_EXIT_USAGE;
}
