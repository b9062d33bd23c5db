/*
 * The subcommands. Each takes its own argv (argv[0] is the command name)
 * and returns the process exit code: 0 ok, 2 usage or input error.
 */
#ifndef AW_COMMANDS_H
#define AW_COMMANDS_H

#define AW_EXIT_OK 0
#define AW_EXIT_USAGE 2
#define AW_EXIT_EXEC 127

/* acceptwatch stat [--json] [--all] [PID...] */
int stat_command(int argc, char **argv);

/* acceptwatch run [--slow-ms N] [--log DEST] [--keep] -- CMD [ARGS...]:
 * returns only on error (it execs CMD). */
int run_command(int argc, char **argv);

/* Print one "acceptwatch: ..." line on stderr. */
void aw_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
