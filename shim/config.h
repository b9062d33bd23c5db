/*
 * The shim's configuration, read once from the environment when the library
 * loads (servers such as nginx clear their environment later).
 */
#ifndef AW_CONFIG_H
#define AW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AW_SLOW_MS_DEFAULT 50u
#define AW_SLOW_MS_MIN 1u
#define AW_SLOW_MS_MAX 3600000u
#define AW_LOG_PATH_MAX 256u

/* Nothing by default: a preloaded host's output is its own. */
enum aw_log_kind {
	AW_LOG_NONE = 0,
	AW_LOG_STDERR,
	AW_LOG_SYSLOG,
	AW_LOG_FILE,
};

struct aw_config {
	uint32_t slow_ms;
	uint64_t slow_ns; /* slow_ms in ns, for the hot path */
	enum aw_log_kind log_kind;
	char log_path[AW_LOG_PATH_MAX];
	bool keep;
	bool monotonic_clock;  /* ACCEPTWATCH_CLOCK=monotonic: no TSC ticks */
	int32_t raise_backlog; /* ACCEPTWATCH_BACKLOG, 0 = off */
	uint32_t bad_env;      /* AW_SF_BAD_*: variables whose value was bad */
};

/*
 * The shim's configuration: defaults until the library's start
 * (lifecycle.c) reads the environment, constant after. A caller that may
 * run before the start takes it from aw_ready_config() (accept_path.h).
 */
extern struct aw_config aw_config __attribute__((visibility("hidden")));

/* How the configuration reads a variable and reports a bad value. */
typedef const char *(*aw_getenv_fn)(const char *name);
typedef void (*aw_warn_fn)(const char *line);

/*
 * Fill c from the environment through get. A bad value is replaced by the
 * default, reported once through warn as one line (no trailing newline)
 * and noted in c->bad_env.
 */
void aw_config_read(struct aw_config *c, aw_getenv_fn get, aw_warn_fn warn);

/* Parsers, 0 on success and -1 on a bad value (out left untouched). */
int aw_config_parse_ms(const char *s, uint32_t *out);
int aw_config_parse_bool(const char *s, bool *out);
int aw_config_parse_log(const char *s, struct aw_config *c);
int aw_config_parse_backlog(const char *s, int32_t *out);
int aw_config_parse_clock(const char *s, bool *monotonic);

#endif
