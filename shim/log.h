/*
 * The shim's log sink: one line per message, "acceptwatch[PID]: ...".
 * By default there is none: the figures live in the segment, and the host's
 * output is its own. Lines are rare (listen, adoption, rate-limited
 * warnings), so each one opens and closes what it writes to: no descriptor
 * of ours lives inside the host, where the host could close it and reuse
 * the number. errno is preserved.
 */
#ifndef AW_LOG_H
#define AW_LOG_H

#include "config.h"

#include <stdint.h>

/* Use c's sink from now on, and send it the lines held so far; c must
 * outlive every later aw_log call. */
void aw_log_setup(const struct aw_config *c);

/* Hold a configuration warning (one line, no newline) until the sink is
 * known: an aw_warn_fn for aw_config_read. */
void aw_log_hold(const char *line);

void aw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the log has to say in a segment's header (enum aw_seg_flags): set
 * in the current segment as it happens, and in each new segment. */
uint32_t aw_log_seg_flags(void);

/* flag (enum aw_seg_flags) into the current segment's header now (through
 * the flag sink), and into each new segment's: for what another part of the
 * shim has to say (stacks off, and why). */
void aw_log_note(uint32_t flag);

/*
 * How the log sets a flag in the current segment's header: a function the
 * segment (segment.c) gives it before it makes its first segment; it sets
 * the flag there if there is one. Until it is given, a flag waits in
 * aw_log_seg_flags() for each new segment. The log knows no segment.
 */
typedef void (*aw_log_flag_fn)(uint32_t flag);
void aw_log_flag_sink(aw_log_flag_fn set);

#endif
