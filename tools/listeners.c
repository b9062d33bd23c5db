#include "commands.h"
int listeners_command(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return AW_EXIT_USAGE;
}
