/*
 * The subcommands. Each takes its own argv (argv[0] is the command name)
 * and returns the process exit code: 0 ok, 2 usage or input error.
 */
#ifndef AW_COMMANDS_H
#define AW_COMMANDS_H

#include <stdint.h>

#define AW_EXIT_OK 0
#define AW_EXIT_PROBLEM 1 /* output failed; serve: cannot listen */
#define AW_EXIT_USAGE 2
#define AW_EXIT_EXEC 127

/* acceptwatch stat [--per-process | --json | --hist | --prometheus
 * [--by-process]] [--output FILE]
 * [--all] [PID...] */
int stat_command(int argc, char **argv);

/* acceptwatch check [--json] [--interval SEC] [--window DUR]
 * [--state FILE|none] [--ignore VERDICT[@ADDR]]... [PID...]: the
 * monitoring-plugins convention, 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
 * (usage errors too); enum check_status in check_model.h. */
int check_command(int argc, char **argv);

/* Seconds for --interval: 0 to 3600, decimals allowed. 0 or -1. */
int check_parse_interval(const char *arg, double *out);

/* A verdict window: seconds, or with a unit ("90s", "5m", "1h"), up to a
 * day; 0 means none (all history is judged). Into *ns: 0 or -1. */
int check_parse_window(const char *arg, uint64_t *ns);

/* acceptwatch top [--interval SEC] [--once] [--window DUR] */
int top_command(int argc, char **argv);

/* acceptwatch listeners [--json] [--window DUR] */
int listeners_command(int argc, char **argv);

/* acceptwatch serve [--listen ADDR:PORT] [--by-process]: Prometheus
 * metrics over HTTP until SIGTERM or SIGINT (then 0); 1 when it cannot
 * listen, 2 usage. */
int serve_command(int argc, char **argv);

/* acceptwatch watch [--for DUR] [--hz N] [--json | --prometheus] PID...:
 * sample running processes from outside (no preload, no ptrace stop) and
 * report them as stat does, with thread states and verdicts. 0, 2 usage or
 * a pid that does not run. */
int watch_command(int argc, char **argv);

/* acceptwatch gc [--dry-run]: remove segments of exited processes and of
 * processes that exec'd without the shim. 0, 1 a removal failed, 2 usage. */
int gc_command(int argc, char **argv);

/* acceptwatch run [--slow-ms N] [--log DEST] [--keep] -- CMD [ARGS...]:
 * returns only on error (it execs CMD). */
int run_command(int argc, char **argv);

#endif
