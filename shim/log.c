/* Log sink: nothing (the default), stderr, syslog, or a file opened per line.
 */
#include "log.h"

#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define AW_LOG_LINE 512
#define AW_HELD_LINES 4

static const struct aw_config *log_config;
/* Configuration warnings met before the sink was known. */
static char held[AW_HELD_LINES][AW_LOG_LINE];
static int held_count;

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opened and closed per line: no descriptor of ours stays in the host. */
static int write_file(const char *path, const char *line, size_t len)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -1;
	int ret = write_all(fd, line, len);
	aw_real_close(fd);
	return ret;
}

static void emit(const char *line, size_t len)
{
	enum aw_log_kind kind = log_config ? log_config->log_kind : AW_LOG_NONE;

	switch (kind) {
	case AW_LOG_SYSLOG:
		syslog(LOG_WARNING | LOG_DAEMON, "%.*s", (int)len - 1, line);
		return;
	case AW_LOG_FILE:
		write_file(log_config->log_path, line, len);
		return;
	case AW_LOG_STDERR:
		write_all(2, line, len);
		return;
	case AW_LOG_NONE:
	default:
		return;
	}
}

static void vlog(const char *fmt, va_list ap)
{
	char line[AW_LOG_LINE];
	int head =
	    snprintf(line, sizeof(line), "acceptwatch[%d]: ", (int)getpid());
	int body =
	    vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	size_t len = (size_t)head + (body > 0 ? (size_t)body : 0);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	line[len] = '\0';
	emit(line, len);
}

void aw_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	errno = saved;
}

void aw_log_hold(const char *line)
{
	if (held_count < AW_HELD_LINES)
		snprintf(held[held_count++], sizeof(held[0]), "%s", line);
}

void aw_log_setup(const struct aw_config *c)
{
	int saved = errno;
	log_config = c;
	for (int i = 0; i < held_count; i++)
		aw_log("%s", held[i]);
	held_count = 0;
	errno = saved;
}
