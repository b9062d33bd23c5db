/* Log sink: stderr, syslog, a file opened per line, or nothing. */
#include "log.h"

#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const struct aw_config *log_config;
/* Set once the file sink failed: later lines go to stderr. */
static int log_file_failed;

void aw_log_setup(const struct aw_config *c)
{
	log_config = c;
}

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

static int write_file(const char *path, const char *line, size_t len)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -1;
	int ret = write_all(fd, line, len);
	int err = errno;
	aw_real_close(fd);
	errno = err;
	return ret;
}

static void emit(const char *line, size_t len)
{
	enum aw_log_kind kind =
	    log_config ? log_config->log_kind : AW_LOG_STDERR;
	if (kind == AW_LOG_FILE && log_file_failed)
		kind = AW_LOG_STDERR;

	switch (kind) {
	case AW_LOG_NONE:
		return;
	case AW_LOG_SYSLOG:
		syslog(LOG_WARNING | LOG_DAEMON, "%.*s", (int)len - 1, line);
		return;
	case AW_LOG_FILE:
		if (write_file(log_config->log_path, line, len) == 0)
			return;
		log_file_failed = 1;
		char note[400];
		int n = snprintf(note, sizeof(note),
				 "acceptwatch[%d]: cannot write log file %s: "
				 "%s; logging to stderr from now on\n",
				 (int)getpid(), log_config->log_path,
				 strerror(errno));
		if (n > 0)
			write_all(2, note,
				  (size_t)n < sizeof(note) ? (size_t)n
							   : sizeof(note) - 1);
		write_all(2, line, len);
		return;
	case AW_LOG_STDERR:
	default:
		write_all(2, line, len);
	}
}

void aw_log(const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	int head =
	    snprintf(line, sizeof(line), "acceptwatch[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int body =
	    vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)head + (body > 0 ? (size_t)body : 0);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	line[len] = '\0';
	emit(line, len);
	errno = saved;
}

void aw_log_stderr(const char *line)
{
	int saved = errno;
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "acceptwatch[%d]: %s\n",
			 (int)getpid(), line);
	if (n > 0)
		write_all(2, buf,
			  (size_t)n < sizeof(buf) ? (size_t)n
						  : sizeof(buf) - 1);
	errno = saved;
}
