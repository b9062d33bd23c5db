/*
 * The subcommands. Each takes its own argv (argv[0] is the command name)
 * and returns the process exit code: 0 ok, 2 usage or input error.
 */
#ifndef AW_COMMANDS_H
#define AW_COMMANDS_H

#define AW_EXIT_OK 0
#define AW_EXIT_PROBLEM 1 /* check: a problem found */
#define AW_EXIT_USAGE 2
#define AW_EXIT_EXEC 127

/* acceptwatch stat [--json | --prometheus [--by-socket]] [--output FILE]
 * [--all] [PID...] */
int stat_command(int argc, char **argv);

/* acceptwatch check [--json] [--interval SEC] [PID...]: 0 all OK, 1 a
 * problem found, 2 usage or input error. */
int check_command(int argc, char **argv);

/* Seconds for --interval: 0 to 3600, decimals allowed. 0 or -1. */
int check_parse_interval(const char *arg, double *out);

/* acceptwatch top [--interval SEC] [--once] */
int top_command(int argc, char **argv);

/* acceptwatch listeners [--json] */
int listeners_command(int argc, char **argv);

/* acceptwatch serve [--listen ADDR:PORT] [--by-socket]: Prometheus
 * metrics over HTTP until SIGTERM or SIGINT (then 0); 1 when it cannot
 * listen, 2 usage. */
int serve_command(int argc, char **argv);

/* acceptwatch gc [--dry-run]: remove segments of exited processes and of
 * processes that exec'd without the shim. 0, 1 a removal failed, 2 usage. */
int gc_command(int argc, char **argv);

/* acceptwatch run [--slow-ms N] [--log DEST] [--keep] -- CMD [ARGS...]:
 * returns only on error (it execs CMD). */
int run_command(int argc, char **argv);

/* Print one "acceptwatch: ..." line on stderr. */
void aw_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
