/*
 * acceptwatch: the reader. Reads the segments the preload shim keeps for
 * each watched process, and starts programs under the shim.
 */
#include "commands.h"

#include "acceptwatch_abi.h"
#include "error.h"
#include "usage.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"stat", stat_command},   {"check", check_command},
    {"top", top_command},     {"listeners", listeners_command},
    {"serve", serve_command}, {"gc", gc_command},
    {"run", run_command},     {"watch", watch_command},
};

static int print_version(void)
{
	printf("acceptwatch %s (segment layout %u)\n", AW_VERSION,
	       (unsigned)AW_ABI_VERSION);
	return AW_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return AW_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		if (argc > 2 && usage_suggest(argv[2]) &&
		    !strcmp(usage_suggest(argv[2]), argv[2]))
			usage_command(stdout, argv[2]);
		else
			usage_main(stdout);
		return AW_EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version") ||
	    !strcmp(cmd, "version"))
		return print_version();
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		/* "acceptwatch stat --version": what people type. */
		if (argc == 3 && !strcmp(argv[2], "--version"))
			return print_version();
		return commands[i].fn(argc - 1, argv + 1);
	}
	const char *guess = cmd[0] == '-' ? NULL : usage_suggest(cmd);
	if (guess)
		aw_error("unknown command '%s'; did you mean '%s'?", cmd,
			 guess);
	else
		aw_error("unknown command '%s' (try --help)", cmd);
	return AW_EXIT_USAGE;
}
