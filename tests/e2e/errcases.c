/*
 * errcases.c - a differential probe of listen/accept/accept4 error paths.
 *
 *   errcases
 *
 * Runs fixed cases and prints one line each:
 *   CASE ret=R errno=NAME [cloexec=0/1 nonblock=0/1] [backlog=N]
 * errno is "-" when ret >= 0; a returned fd prints as ret=FD (never its
 * number) followed by its flags; a listen() that succeeded is followed by
 * the effective backlog the kernel reports (TCP_INFO tcpi_sacked).
 * The output depends only on the kernel and its sysctls, so the tests diff
 * a run under the shim against a plain run: any difference is the shim
 * changing what the program sees. Exit 0 when every case ran, 1 on a setup
 * error, 2 if the watchdog fired (a case hung).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/prog.h"

/* A case that hangs (a shim restarting EINTR, say) must not hang the test. */
#define ERRCASES_WATCHDOG_S 20
/* How long a loopback connection may take to reach the accept queue. */
#define ERRCASES_PENDING_MS 2000

/* Symbolic errno names; a table, so the output reads the same everywhere. */
static const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
	    {EBADF, "EBADF"},		{ENOTSOCK, "ENOTSOCK"},
	    {EOPNOTSUPP, "EOPNOTSUPP"}, {EINVAL, "EINVAL"},
	    {EAGAIN, "EAGAIN"},		{EFAULT, "EFAULT"},
	    {EINTR, "EINTR"},		{EMFILE, "EMFILE"},
	    {ENFILE, "ENFILE"},		{ECONNABORTED, "ECONNABORTED"},
	    {ENOMEM, "ENOMEM"},		{ENOBUFS, "ENOBUFS"},
	    {EPERM, "EPERM"},		{EPROTO, "EPROTO"},
	    {EISCONN, "EISCONN"},	{ENOTCONN, "ENOTCONN"},
	    {EADDRINUSE, "EADDRINUSE"}, {ENOSYS, "ENOSYS"},
	};
	static char buf[16];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* A listen() result; on success also the backlog the kernel now uses. */
static void report_listen(const char *name, int fd, int ret, int err)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (ret < 0) {
		printf("%s ret=%d errno=%s\n", name, ret, errno_name(err));
		return;
	}
	/* On a listener tcpi_sacked is sk_max_ack_backlog (tcp_get_info). */
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		die_errno("TCP_INFO");
	printf("%s ret=%d errno=- backlog=%u\n", name, ret, ti.tcpi_sacked);
}

/* An accept() result; a returned fd prints its flags and is closed. */
static void report_accept(const char *name, int ret, int err)
{
	int fdfl, fl;

	if (ret < 0) {
		printf("%s ret=%d errno=%s\n", name, ret, errno_name(err));
		return;
	}
	fdfl = fcntl(ret, F_GETFD);
	fl = fcntl(ret, F_GETFL);
	if (fdfl < 0 || fl < 0)
		die_errno("fcntl");
	printf("%s ret=FD errno=- cloexec=%d nonblock=%d\n", name,
	       !!(fdfl & FD_CLOEXEC), !!(fl & O_NONBLOCK));
	close(ret);
}

/* A bound, listening 127.0.0.1 socket on an ephemeral port. */
static int make_listener(int nonblock)
{
	int fd = loopback_listener(nonblock ? SOCK_NONBLOCK : 0, 8, NULL);
	if (fd < 0)
		die_errno("listen");
	return fd;
}

/*
 * Connect a client to lfd and wait until the connection sits in lfd's
 * accept queue, so the next accept() does not block. Returns the client fd.
 */
static int make_pending(int lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	int cfd;

	if (getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		die_errno("getsockname");
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (cfd < 0)
		die_errno("socket");
	if (connect(cfd, (struct sockaddr *)&sin, len) < 0 &&
	    errno != EINPROGRESS)
		die_errno("connect");
	if (poll(&pfd, 1, ERRCASES_PENDING_MS) != 1) {
		errno = ETIMEDOUT;
		die_errno("waiting for a pending connection");
	}
	return cfd;
}

static void case_listen_errors(void)
{
	int fd, ret;

	ret = listen(-1, 8);
	report_listen("listen_badfd", -1, ret, errno);

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open /proc/self/exe");
	ret = listen(fd, 8);
	report_listen("listen_notsock", fd, ret, errno);
	close(fd);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die_errno("socket");
	ret = listen(fd, 8);
	report_listen("listen_udp", fd, ret, errno);
	close(fd);
}

/* Backlogs the kernel clamps rather than refuses. */
static void case_listen_backlogs(void)
{
	static const struct {
		const char *name;
		int backlog;
	} cases[] = {
	    {"listen_backlog_0", 0},
	    {"listen_backlog_neg1", -1},
	    {"listen_backlog_huge", 1 << 30},
	};
	size_t i;
	int fd, ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die_errno("socket");
		/* Unbound: listen() binds an ephemeral 0.0.0.0 port itself. */
		ret = listen(fd, cases[i].backlog);
		report_listen(cases[i].name, fd, ret, errno);
		close(fd);
	}

	/* A second listen() only rewrites the backlog (inet_listen). */
	fd = make_listener(0);
	ret = listen(fd, 5);
	report_listen("listen_again_5", fd, ret, errno);
	close(fd);
}

static void case_accept_errors(void)
{
	int fd, lfd, ret;

	ret = accept(-1, NULL, NULL);
	report_accept("accept_badfd", ret, errno);
	ret = accept4(-1, NULL, NULL, SOCK_CLOEXEC);
	report_accept("accept4_badfd", ret, errno);

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open /proc/self/exe");
	ret = accept(fd, NULL, NULL);
	report_accept("accept_notsock", ret, errno);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die_errno("socket");
	ret = accept(fd, NULL, NULL);
	report_accept("accept_not_listening", ret, errno);
	close(fd);

	/* The kernel checks flags before it looks at the socket. */
	lfd = make_listener(0);
	ret = accept4(lfd, NULL, NULL, 1);
	report_accept("accept4_badflags", ret, errno);
	close(lfd);

	lfd = make_listener(1);
	ret = accept(lfd, NULL, NULL);
	report_accept("accept_nonblock_empty", ret, errno);
	ret = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	report_accept("accept4_nonblock_empty", ret, errno);
	close(lfd);
}

/*
 * accept() with an unwritable address buffer. The kernel takes the
 * connection off the queue, then fails copying the address and closes it:
 * the connection is lost, which the follow-up case shows (EAGAIN).
 */
static void case_accept_efault(void)
{
	socklen_t len = sizeof(struct sockaddr_in);
	int lfd, cfd, ret;

	lfd = make_listener(1);
	cfd = make_pending(lfd);
	ret = accept(lfd, (struct sockaddr *)(void *)1, &len);
	report_accept("accept_efault", ret, errno);
	ret = accept(lfd, NULL, NULL);
	report_accept("accept_after_efault", ret, errno);
	close(cfd);

	cfd = make_pending(lfd);
	len = sizeof(struct sockaddr_in);
	ret = accept4(lfd, (struct sockaddr *)(void *)1, &len, SOCK_CLOEXEC);
	report_accept("accept4_efault", ret, errno);
	close(cfd);
	close(lfd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A blocking accept() interrupted by a handler without SA_RESTART. */
static void case_accept_eintr(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = {.it_value = {0, 100000}};
	struct itimerval off = {{0, 0}, {0, 0}};
	int lfd, ret, err;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		die_errno("sigaction");
	lfd = make_listener(0);
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die_errno("setitimer");
	ret = accept(lfd, NULL, NULL);
	err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	report_accept("accept_eintr", ret, err);

	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die_errno("setitimer");
	ret = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	report_accept("accept4_eintr", ret, err);
	close(lfd);
}

/*
 * No descriptor left: the kernel reserves the new fd before it dequeues,
 * so EMFILE leaves the connection queued (the follow-up accept gets it).
 */
static void case_accept_emfile(void)
{
	struct rlimit old, rl;
	int lfd, cfd, low, ret, err;

	lfd = make_listener(1);
	cfd = make_pending(lfd);
	/* The lowest free fd is what the next allocation would use. */
	low = dup(0);
	if (low < 0)
		die_errno("dup");
	close(low);
	if (getrlimit(RLIMIT_NOFILE, &old) < 0)
		die_errno("getrlimit");
	rl = old;
	rl.rlim_cur = low;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("setrlimit");
	ret = accept(lfd, NULL, NULL);
	err = errno;
	if (setrlimit(RLIMIT_NOFILE, &old) < 0)
		die_errno("setrlimit");
	report_accept("accept_emfile", ret, err);

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("setrlimit");
	ret = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	if (setrlimit(RLIMIT_NOFILE, &old) < 0)
		die_errno("setrlimit");
	report_accept("accept4_emfile", ret, err);

	ret = accept(lfd, NULL, NULL);
	report_accept("accept_after_emfile", ret, errno);
	close(cfd);
	close(lfd);
}

/* Returned-fd flags: from accept4's flags only, never from the listener. */
static void case_accept_flags(void)
{
	static const struct {
		const char *name;
		int flags;
	} cases[] = {
	    {"accept4_flags_0", 0},
	    {"accept4_flags_cloexec", SOCK_CLOEXEC},
	    {"accept4_flags_nonblock", SOCK_NONBLOCK},
	    {"accept4_flags_both", SOCK_NONBLOCK | SOCK_CLOEXEC},
	};
	struct sockaddr_in peer;
	socklen_t len;
	size_t i;
	int lfd, cfd, ret;

	/* A non-blocking listener: Linux does not pass O_NONBLOCK on. */
	lfd = make_listener(1);
	cfd = make_pending(lfd);
	len = sizeof(peer);
	ret = accept(lfd, (struct sockaddr *)&peer, &len);
	report_accept("accept_plain", ret, errno);
	close(cfd);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfd = make_pending(lfd);
		len = sizeof(peer);
		ret = accept4(lfd, (struct sockaddr *)&peer, &len,
			      cases[i].flags);
		report_accept(cases[i].name, ret, errno);
		close(cfd);
	}
	close(lfd);
}

static void *watchdog(void *arg)
{
	(void)arg;
	sleep(ERRCASES_WATCHDOG_S);
	fprintf(stderr, "errcases: watchdog: a case hung for %d s\n",
		ERRCASES_WATCHDOG_S);
	fflush(stdout);
	_exit(2);
}

int main(void)
{
	sigset_t set, old;
	pthread_t tid;

	/* The watchdog must never take the SIGALRM meant for main. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	errno = pthread_create(&tid, NULL, watchdog, NULL);
	if (errno)
		die_errno("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Each line must reach the pipe before a possible crash. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	case_listen_errors();
	case_listen_backlogs();
	case_accept_errors();
	case_accept_efault();
	case_accept_eintr();
	case_accept_emfile();
	case_accept_flags();
	return 0;
}
