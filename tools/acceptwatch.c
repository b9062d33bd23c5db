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
		"  stat [--json | --prometheus] [--output FILE] [--all] "
		"[PID...]\n"
		"      accept-queue figures of processes running under the "
		"shim:\n"
		"      every live one, or the PIDs given (shown even when "
		"exited).\n"
		"      --json        one JSON object on stdout\n"
		"      --prometheus  Prometheus text exposition format\n"
		"      --output FILE write FILE atomically instead of stdout\n"
		"      --all         also segments of processes that exited\n"
		"  check [--json] [--interval SEC] [PID...]\n"
		"      a verdict per listener with evidence and fix; reads "
		"twice,\n"
		"      SEC apart (default 1, 0: once). Exit 0 all OK, 1 a "
		"problem.\n"
		"  top [--interval SEC] [--once]\n"
		"      refreshing view sorted by trouble; q or Ctrl-C quits\n"
		"  listeners [--json]\n"
		"      every listening TCP socket of this network namespace, "
		"its\n"
		"      owners and, under the shim, backlog, clamp and "
		"verdict\n"
		"  gc [--dry-run]\n"
		"      remove segments of processes that exited or exec'd "
		"without\n"
		"      the shim; never a live one, a link or a non-segment\n"
		"  run [--slow-ms N] [--log DEST] [--keep] -- CMD [ARGS...]\n"
		"      run CMD with the shim preloaded\n"
		"      --slow-ms N  a connection waiting longer is a slow "
		"event\n"
		"      --log DEST   where the shim writes its warnings\n"
		"      --keep       keep the segment after CMD exits\n"
		"\n"
		"Exit status: 0 ok, 1 check found a problem (or output "
		"failed),\n"
		"2 usage or input error, 127 CMD not run. See "
		"acceptwatch(1).\n");
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
	if (!strcmp(cmd, "gc"))
		return gc_command(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return run_command(argc - 1, argv + 1);
	aw_error("unknown command '%s' (try --help)", cmd);
	return AW_EXIT_USAGE;
}
