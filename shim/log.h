/*
 * The shim's log sink: one line per message, "acceptwatch[PID]: ...".
 * Lines are rare (listen, adoption, rate-limited warnings), so each one opens
 * and closes its file: no descriptor of ours lives inside the host, where the
 * host could close it and reuse the number.
 */
#ifndef AW_LOG_H
#define AW_LOG_H

#include "config.h"

/* Use c's sink from now on; c must outlive every later aw_log call. */
void aw_log_setup(const struct aw_config *c);

void aw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write the line to stderr whatever the sink: for configuration warnings. */
void aw_log_stderr(const char *line);

#endif
