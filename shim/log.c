/* Log sink: nothing (the default), stderr, syslog, or a file opened per line.
 */
#include "log.h"

#include "acceptwatch_abi.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define AW_LOG_LINE 512
#define AW_HELD_LINES 4

static const struct aw_config *log_config;
/* Configuration warnings met before the sink was known. */
static char held[AW_HELD_LINES][AW_LOG_LINE];
static int held_count;
/* What fd 2 was when the library loaded: the stderr sink writes only
 * there. */
static int stderr_known;
static struct stat stderr_at_load;
/* enum aw_seg_flags the log has set. */
static uint32_t log_flags;
/* Sets one in the current segment's header (aw_log_flag_sink), or NULL. */
static aw_log_flag_fn log_flag_sink;

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

/*
 * A pipe or socket whose reader is gone raises SIGPIPE in the writer, by
 * default its death: block it around our write, and take the one our
 * write raised (not one the host had pending already).
 */
static int write_no_sigpipe(int fd, const char *buf, size_t len)
{
	sigset_t pipe_only, old, pending;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
	int was_pending =
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	int ret = write_all(fd, buf, len);
	if (ret != 0 && errno == EPIPE && !was_pending) {
		const struct timespec now = {0, 0};
		sigtimedwait(&pipe_only, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void note(uint32_t flag)
{
	__atomic_fetch_or(&log_flags, flag, __ATOMIC_RELAXED);
	aw_log_flag_fn set = __atomic_load_n(&log_flag_sink, __ATOMIC_ACQUIRE);
	if (set != NULL)
		set(flag);
}

void aw_log_flag_sink(aw_log_flag_fn set)
{
	__atomic_store_n(&log_flag_sink, set, __ATOMIC_RELEASE);
}

void aw_log_note(uint32_t flag)
{
	note(flag);
}

uint32_t aw_log_seg_flags(void)
{
	return __atomic_load_n(&log_flags, __ATOMIC_RELAXED);
}

/* Opened and closed per line: no descriptor of ours stays in the host. */
static int write_file(const char *path, const char *line, size_t len)
{
	int fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -1;
	int ret = write_no_sigpipe(fd, line, len);
	aw_real_close(fd);
	return ret;
}

/*
 * fd 2, only while it names the file it named at load: a daemon that
 * closed it may have put a client's socket or its data file there. The
 * check and the write go through one duplicate, so another thread moving
 * fd 2 in between cannot get the line. The duplicate is above 2 and closed
 * at once (through the real close: it is no listener of the host's); fcntl
 * by system call, since the shim may wrap fcntl itself. 0, -1 when the
 * write failed, -2 when fd 2 is another file now (or closed).
 */
static int write_stderr(const char *line, size_t len)
{
	if (!stderr_known)
		return -2;
	int fd = (int)syscall(SYS_fcntl, 2, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return errno == EBADF ? -2 : -1;
	struct stat st;
	int same = fstat(fd, &st) == 0 && st.st_dev == stderr_at_load.st_dev &&
		   st.st_ino == stderr_at_load.st_ino;
	int ret = same ? write_no_sigpipe(fd, line, len) : -2;
	aw_real_close(fd);
	return ret;
}

/*
 * One datagram to /dev/log on a socket of our own, closed at once. libc's
 * syslog() keeps its socket open in the host: a daemon that closes
 * descriptors and reuses the number would get our lines in its data (and
 * libc would close the daemon's file when sending fails). No timestamp:
 * syslog daemons stamp what arrives without one. MSG_DONTWAIT: a full
 * receiver loses the line rather than stalling the host's accept loop.
 */
static int send_syslog(const char *line, size_t len)
{
	static const struct sockaddr_un dev_log = {.sun_family = AF_UNIX,
						   .sun_path = "/dev/log"};
	char msg[AW_LOG_LINE + 8];
	int n = snprintf(msg, sizeof(msg), "<%d>%.*s", LOG_DAEMON | LOG_WARNING,
			 (int)len - 1, line);
	if (n < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int ret = -1;
	if (connect(fd, (const struct sockaddr *)&dev_log, sizeof(dev_log)) ==
		0 &&
	    send(fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
		 MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		ret = 0;
	aw_real_close(fd);
	return ret;
}

static void emit(const char *line, size_t len)
{
	enum aw_log_kind kind = log_config ? log_config->log_kind : AW_LOG_NONE;
	int ret = 0;

	switch (kind) {
	case AW_LOG_SYSLOG:
		ret = send_syslog(line, len);
		break;
	case AW_LOG_FILE:
		ret = write_file(log_config->log_path, line, len);
		break;
	case AW_LOG_STDERR:
		ret = write_stderr(line, len);
		break;
	case AW_LOG_NONE:
	default:
		break;
	}
	if (ret == -2)
		note(AW_SF_LOG_FD2_CHANGED);
	else if (ret != 0)
		note(AW_SF_LOG_FAILED);
}

/*
 * Appends src to dst[*len] with every byte outside printable ASCII as \xNN
 * and a backslash as \\: a socket path or a value from the environment
 * can hold a newline (a forged line of ours) or a terminal escape. Stops
 * before an escape that would not fit in limit bytes.
 */
static void append_escaped(char *dst, size_t *len, size_t limit,
			   const char *src)
{
	static const char hex[] = "0123456789abcdef";
	for (; *src != '\0'; src++) {
		unsigned char b = (unsigned char)*src;
		int plain = b >= 0x20 && b < 0x7f && b != '\\';
		size_t need = plain ? 1 : (b == '\\' ? 2 : 4);
		if (*len + need > limit)
			return;
		if (plain) {
			dst[(*len)++] = (char)b;
		} else if (b == '\\') {
			dst[(*len)++] = '\\';
			dst[(*len)++] = '\\';
		} else {
			dst[(*len)++] = '\\';
			dst[(*len)++] = 'x';
			dst[(*len)++] = hex[b >> 4];
			dst[(*len)++] = hex[b & 15];
		}
	}
}

static void vlog(const char *fmt, va_list ap)
{
	char body[AW_LOG_LINE];
	char line[AW_LOG_LINE];
	if (vsnprintf(body, sizeof(body), fmt, ap) < 0)
		return;
	int head =
	    snprintf(line, sizeof(line), "acceptwatch[%d]: ", (int)getpid());
	if (head < 0)
		return;
	size_t len = (size_t)head;
	append_escaped(line, &len, sizeof(line) - 2, body);
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
	__atomic_fetch_or(&log_flags, c->bad_env, __ATOMIC_RELAXED);
	stderr_known =
	    c->log_kind == AW_LOG_STDERR && fstat(2, &stderr_at_load) == 0;
	for (int i = 0; i < held_count; i++)
		aw_log("%s", held[i]);
	held_count = 0;
	errno = saved;
}
