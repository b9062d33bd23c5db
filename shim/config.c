/* The shim's configuration, and the parsing of the ACCEPTWATCH_*
 * environment variables it is read from; no I/O of its own. */
#include "config.h"

#include "acceptwatch_abi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aw_config aw_config = {
    .slow_ms = AW_SLOW_MS_DEFAULT,
    .slow_ns = AW_SLOW_MS_DEFAULT * 1000000ull,
};

/* A plain decimal number in [min, max]: no sign, no spaces, no suffix. */
static int parse_range(const char *s, unsigned long long min,
		       unsigned long long max, unsigned long long *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int aw_config_parse_ms(const char *s, uint32_t *out)
{
	unsigned long long v;
	if (parse_range(s, AW_SLOW_MS_MIN, AW_SLOW_MS_MAX, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int aw_config_parse_backlog(const char *s, int32_t *out)
{
	unsigned long long v;
	if (parse_range(s, 1, INT32_MAX, &v) != 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

int aw_config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int aw_config_parse_log(const char *s, struct aw_config *c)
{
	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "stderr") == 0) {
		c->log_kind = AW_LOG_STDERR;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		c->log_kind = AW_LOG_NONE;
		return 0;
	}
	if (strcmp(s, "syslog") == 0) {
		c->log_kind = AW_LOG_SYSLOG;
		return 0;
	}
	/* A path: absolute, so a server that chdir()s keeps one log file. */
	if (s[0] != '/' || strlen(s) >= sizeof(c->log_path))
		return -1;
	c->log_kind = AW_LOG_FILE;
	strcpy(c->log_path, s);
	return 0;
}

int aw_config_parse_clock(const char *s, bool *monotonic)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "auto") == 0 || strcmp(s, "monotonic") == 0) {
		*monotonic = s[0] == 'm';
		return 0;
	}
	return -1;
}

static void warn_bad(aw_warn_fn warn, const char *name, const char *value,
		     const char *expected, const char *fallback)
{
	char line[512];
	snprintf(line, sizeof(line), "%s='%.200s' is not %s; using %s", name,
		 value, expected, fallback);
	warn(line);
}

void aw_config_read(struct aw_config *c, aw_getenv_fn get, aw_warn_fn warn)
{
	/* Read inside the host's first wrapped call, perhaps: its errno
	 * must come out as it went in (strtoull clears it). */
	int saved = errno;
	memset(c, 0, sizeof(*c));
	c->slow_ms = AW_SLOW_MS_DEFAULT;
	c->log_kind = AW_LOG_NONE;

	const char *v = get("ACCEPTWATCH_SLOW_MS");
	if (v != NULL && aw_config_parse_ms(v, &c->slow_ms) != 0) {
		c->bad_env |= AW_SF_BAD_SLOW_MS;
		warn_bad(warn, "ACCEPTWATCH_SLOW_MS", v,
			 "a whole number of milliseconds from 1 to 3600000",
			 "50");
	}
	c->slow_ns = (uint64_t)c->slow_ms * 1000000u;
	v = get("ACCEPTWATCH_LOG");
	if (v != NULL && aw_config_parse_log(v, c) != 0) {
		c->bad_env |= AW_SF_BAD_LOG;
		warn_bad(warn, "ACCEPTWATCH_LOG", v,
			 "stderr, none, syslog or an absolute file path",
			 "none");
	}
	v = get("ACCEPTWATCH_BACKLOG");
	if (v != NULL && aw_config_parse_backlog(v, &c->raise_backlog) != 0) {
		c->bad_env |= AW_SF_BAD_BACKLOG;
		warn_bad(warn, "ACCEPTWATCH_BACKLOG", v,
			 "a whole number from 1 to 2147483647", "off");
	}
	v = get("ACCEPTWATCH_KEEP");
	if (v != NULL && aw_config_parse_bool(v, &c->keep) != 0) {
		c->bad_env |= AW_SF_BAD_KEEP;
		warn_bad(warn, "ACCEPTWATCH_KEEP", v, "1/0, yes/no, true/false",
			 "0");
	}
	v = get("ACCEPTWATCH_CLOCK");
	if (v != NULL && aw_config_parse_clock(v, &c->monotonic_clock) != 0) {
		c->bad_env |= AW_SF_BAD_CLOCK;
		warn_bad(warn, "ACCEPTWATCH_CLOCK", v, "auto or monotonic",
			 "auto");
	}
	errno = saved;
}
