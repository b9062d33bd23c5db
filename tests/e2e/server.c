/*
 * server.c - a configurable accept-loop server whose behaviour is known truth
 * for the acceptwatch end-to-end tests.
 *
 *   server [--addr A] [--port P] [--unix PATH] [--backlog N]
 *          [--delay-ms N] [--mode block|epoll] [--threads N]
 *          [--reuseport N] [--use-accept] [--count N] [--relisten N]
 *          [--exit-after-ms N] [--fork K] [--inherit-fd FD] [--fp-traps]
 *
 * --fork K: the parent listens, K forked children run the accept loops (the
 * pre-fork shape); the parent prints "child PID" for each after "ready" and
 * on SIGTERM stops them. --inherit-fd FD: accept on FD, a listener made by
 * whoever exec'd us (listen() is never called here). --fp-traps: the
 * accept loops round upward and trap every floating-point exception
 * (SIGFPE), and fail when an accept call leaves the rounding mode or the
 * exception flags other than it found them.
 *
 * Every accepted connection gets one byte 'A' and is closed, so a client
 * knows it was accepted. Once listening it prints "ready PORT" (or
 * "ready PATH"); at exit it prints "accepted N" (N = successful accept calls).
 *
 * Exit status: 0 on SIGTERM/SIGINT or after --count accepts; 1 on an error
 * (one line on stderr); 3 when --exit-after-ms ran out (a safety stop, so a
 * script can tell "hung" from "done"). Its default, 10 minutes, only stops
 * a server its test left behind: a test's own servers live as long as the
 * test, however slow a loaded machine makes it.
 *
 * The main thread only waits for signals; worker threads run the accept
 * loops. That way the accept loops never race a signal handler, and exactly
 * one thread (main) prints the final line and calls exit().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fenv.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/prog.h"

enum server_mode { MODE_BLOCK, MODE_EPOLL };

struct server_opts {
	const char *addr;
	int port;
	const char *unix_path;
	int backlog;
	long delay_ms;
	enum server_mode mode;
	int threads;
	int reuseport;
	int use_accept;
	long count;
	int relisten;
	int have_relisten;
	long exit_after_ms;
	int fork_children;
	int inherit_fd;
	int fp_traps;
};

struct server_worker {
	pthread_t tid;
	int lfd;
};

static struct server_opts opts = {
    .addr = "127.0.0.1",
    .backlog = 128,
    .mode = MODE_BLOCK,
    .threads = 1,
    .exit_after_ms = 600000,
    .inherit_fd = -1,
};

/* Successful accept calls; bumped by workers, printed by main at exit. */
static atomic_long accepted;
/* Connections answered and closed; --count stops on this one, so the last
 * client gets its 'A' even when another thread is still in its delay. */
static atomic_long handled;
/* 0 = running, 1 = --count reached, 2 = a worker failed. */
static atomic_int stop_reason;
static pthread_t main_tid;
/* Global so LeakSanitizer sees them reachable while workers still run. */
static struct server_worker *workers;
static int nworkers;

static void die(const char *what)
{
	fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
	printf("accepted %ld\n", atomic_load(&accepted));
	exit(1);
}

static void usage_die(const char *msg)
{
	fprintf(stderr, "server: %s\n", msg);
	exit(1);
}

/* Tell main to stop; main is the only thread that exits the process. */
static void worker_stop(int reason)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&stop_reason, &expected, reason))
		pthread_kill(main_tid, SIGUSR1);
}

/* Sleep the whole delay even across SIGSTOP/SIGCONT: absolute deadline. */
static void sleep_ms(long ms)
{
	struct timespec t;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR)
		;
}

/*
 * One accept call, as the options say. Returns the new fd, or -1 with errno.
 * An address buffer is passed, as real servers do, so the shim sees the
 * common case.
 */
static int accept_once(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (opts.use_accept)
		return accept(lfd, (struct sockaddr *)&ss, &len);
	return accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
}

static void worker_fail(const char *what);

/* --fp-traps: the call must leave the floating-point state as it was. */
static int do_accept(int lfd)
{
	int ret = accept_once(lfd);
	if (!opts.fp_traps)
		return ret;
	int err = errno;
	if (fegetround() != FE_UPWARD || fetestexcept(FE_ALL_EXCEPT) != 0) {
		errno = 0;
		worker_fail("accept changed the floating-point state");
	}
	errno = err;
	return ret;
}

/* The "work": after the slow-loop delay, send 'A' and close. */
static void handle(int cfd)
{
	sleep_ms(opts.delay_ms);
	/* MSG_NOSIGNAL: a client that gave up must not kill us. */
	if (send(cfd, "A", 1, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		fprintf(stderr, "server: send: %s\n", strerror(errno));
	close(cfd);
	if (opts.count > 0 && atomic_fetch_add(&handled, 1) + 1 >= opts.count)
		worker_stop(1);
}

/*
 * Errors a real accept loop shrugs off: the peer went away before we took
 * the connection (ECONNABORTED, and the network errors accept(2) says to
 * treat like EAGAIN), or a stop/continue signal.
 */
static int accept_error_is_transient(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return 1;
	}
	return 0;
}

static void worker_fail(const char *what)
{
	fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
	worker_stop(2);
}

static void block_loop(int lfd)
{
	for (;;) {
		int cfd = do_accept(lfd);

		if (cfd < 0) {
			if (accept_error_is_transient(errno))
				continue;
			worker_fail("accept");
			return;
		}
		atomic_fetch_add(&accepted, 1);
		handle(cfd);
	}
}

/* Level-triggered epoll, then drain the listener until EAGAIN. */
static void epoll_loop(int lfd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		worker_fail("epoll");
		return;
	}
	for (;;) {
		int n = epoll_wait(ep, &ev, 1, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			worker_fail("epoll_wait");
			return;
		}
		for (;;) {
			int cfd = do_accept(lfd);

			if (cfd < 0) {
				/* Another thread may have taken it first. */
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (accept_error_is_transient(errno))
					continue;
				worker_fail("accept");
				return;
			}
			atomic_fetch_add(&accepted, 1);
			handle(cfd);
		}
	}
}

static void *worker_main(void *arg)
{
	struct server_worker *w = arg;

	if (opts.fp_traps) {
		feclearexcept(FE_ALL_EXCEPT);
		if (fesetround(FE_UPWARD) != 0 ||
		    feenableexcept(FE_ALL_EXCEPT) < 0) {
			worker_fail("fp-traps");
			return NULL;
		}
	}
	if (opts.mode == MODE_EPOLL)
		epoll_loop(w->lfd);
	else
		block_loop(w->lfd);
	return NULL;
}

/* Fill *ss from --addr/--port; IPv4 first, then IPv6. */
static socklen_t inet_sockaddr(struct sockaddr_storage *ss, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, opts.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, opts.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	usage_die("--addr is not a numeric IPv4/IPv6 address");
	return 0;
}

/*
 * Create, bind and listen one socket. *port is the port to bind; when it is
 * 0 it is replaced by the ephemeral port the kernel chose, so further
 * SO_REUSEPORT listeners join the same one.
 */
static int make_listener(int *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int type = SOCK_STREAM | SOCK_CLOEXEC;
	int fd;

	if (opts.mode == MODE_EPOLL)
		type |= SOCK_NONBLOCK;
	if (opts.unix_path) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		struct stat st;

		memset(&ss, 0, sizeof(ss));
		sun->sun_family = AF_UNIX;
		if (strlen(opts.unix_path) >= sizeof(sun->sun_path))
			usage_die("--unix path too long");
		strcpy(sun->sun_path, opts.unix_path);
		len = sizeof(*sun);
		/* A stale socket from an earlier run; never remove a file. */
		if (lstat(opts.unix_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(opts.unix_path);
		fd = socket(AF_UNIX, type, 0);
	} else {
		len = inet_sockaddr(&ss, *port);
		fd = socket(ss.ss_family, type, 0);
	}
	if (fd < 0)
		die("socket");
	if (!opts.unix_path) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) < 0)
			die("SO_REUSEADDR");
		if (opts.reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT,
						 &one, sizeof(one)) < 0)
			die("SO_REUSEPORT");
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind");
	if (listen(fd, opts.backlog) < 0)
		die("listen");
	if (!opts.unix_path && *port == 0) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			die("getsockname");
		*port = ntohs(ss.ss_family == AF_INET
				  ? ((struct sockaddr_in *)&ss)->sin_port
				  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return fd;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},
	    {"unix", required_argument, NULL, 'u'},
	    {"backlog", required_argument, NULL, 'b'},
	    {"delay-ms", required_argument, NULL, 'd'},
	    {"mode", required_argument, NULL, 'm'},
	    {"threads", required_argument, NULL, 't'},
	    {"reuseport", required_argument, NULL, 'r'},
	    {"use-accept", no_argument, NULL, 'A'},
	    {"count", required_argument, NULL, 'c'},
	    {"relisten", required_argument, NULL, 'l'},
	    {"exit-after-ms", required_argument, NULL, 'x'},
	    {"fork", required_argument, NULL, 'f'},
	    {"inherit-fd", required_argument, NULL, 'i'},
	    {"fp-traps", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			opts.addr = optarg;
			break;
		case 'p':
			opts.port = parse_long(optarg, "--port", 0, 65535);
			break;
		case 'u':
			opts.unix_path = optarg;
			break;
		case 'b':
			opts.backlog =
			    parse_long(optarg, "--backlog", INT_MIN, INT_MAX);
			break;
		case 'd':
			opts.delay_ms =
			    parse_long(optarg, "--delay-ms", 0, 3600000);
			break;
		case 'm':
			if (!strcmp(optarg, "block"))
				opts.mode = MODE_BLOCK;
			else if (!strcmp(optarg, "epoll"))
				opts.mode = MODE_EPOLL;
			else
				usage_die("--mode must be block or epoll");
			break;
		case 't':
			opts.threads = parse_long(optarg, "--threads", 1, 256);
			break;
		case 'r':
			opts.reuseport =
			    parse_long(optarg, "--reuseport", 1, 256);
			break;
		case 'A':
			opts.use_accept = 1;
			break;
		case 'c':
			opts.count = parse_long(optarg, "--count", 1, LONG_MAX);
			break;
		case 'l':
			opts.relisten =
			    parse_long(optarg, "--relisten", INT_MIN, INT_MAX);
			opts.have_relisten = 1;
			break;
		case 'x':
			opts.exit_after_ms = parse_long(
			    optarg, "--exit-after-ms", 1, 24L * 3600000);
			break;
		case 'f':
			opts.fork_children =
			    parse_long(optarg, "--fork", 1, 64);
			break;
		case 'i':
			opts.inherit_fd =
			    parse_long(optarg, "--inherit-fd", 0, INT_MAX);
			break;
		case 'F':
			opts.fp_traps = 1;
			break;
		default:
			usage_die("usage: server [--addr A] [--port P] "
				  "[--unix PATH] [--backlog N] [--delay-ms N] "
				  "[--mode block|epoll] [--threads N] "
				  "[--reuseport N] [--use-accept] [--count N] "
				  "[--relisten N] [--exit-after-ms N] "
				  "[--fork K] [--inherit-fd FD] [--fp-traps]");
		}
	}
	if (optind != argc)
		usage_die("unexpected argument");
	if (opts.unix_path && opts.reuseport)
		usage_die("--reuseport needs TCP");
	if (opts.inherit_fd >= 0 && (opts.reuseport || opts.unix_path))
		usage_die("--inherit-fd takes no --reuseport or --unix");
}

static int wait_for_stop(void);

/* The port of an inherited listener, or 0 for a Unix one. */
static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname (inherited fd)");
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * Pre-fork parent: K children run the accept loops on the inherited
 * listeners; the parent reports them and, when told to stop, stops them.
 */
static pid_t children[64];
static int is_child;

static void fork_children(void)
{
	for (int k = 0; k < opts.fork_children; k++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			is_child = 1;
			return;
		}
		children[k] = pid;
	}
}

static int parent_main(int port)
{
	int status = 0, st;

	printf("ready %d\n", port);
	for (int k = 0; k < opts.fork_children; k++)
		printf("child %d\n", (int)children[k]);
	fflush(stdout);
	status = wait_for_stop();
	for (int k = 0; k < opts.fork_children; k++) {
		kill(children[k], SIGCONT);
		kill(children[k], SIGTERM);
	}
	for (int k = 0; k < opts.fork_children; k++)
		if (waitpid(children[k], &st, 0) == children[k] &&
		    !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			status = 1;
	printf("accepted 0\n");
	fflush(stdout);
	exit(status);
}

/* Main's half: wait for SIGTERM/SIGINT, a worker's SIGUSR1, or the timer. */
static int wait_for_stop(void)
{
	struct timespec deadline, now, left;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += opts.exit_after_ms / 1000;
	deadline.tv_nsec += (opts.exit_after_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0) {
			fprintf(stderr, "server: --exit-after-ms reached\n");
			return 3;
		}
		sig = sigtimedwait(&set, NULL, &left);
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		if (sig == SIGUSR1)
			return atomic_load(&stop_reason) == 1 ? 0 : 1;
		/* EAGAIN (timeout) or EINTR (stop/continue): re-check. */
	}
}

int main(int argc, char **argv)
{
	int nlisteners, port, i, status;
	int *lfds;
	sigset_t set;

	parse_args(argc, argv);
	main_tid = pthread_self();

	/*
	 * Block the stop signals before any thread exists, so workers inherit
	 * the mask and only main's sigtimedwait() ever takes them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	nlisteners = opts.reuseport ? opts.reuseport : 1;
	lfds = calloc(nlisteners, sizeof(*lfds));
	nworkers = nlisteners * opts.threads;
	workers = calloc(nworkers, sizeof(*workers));
	if (!lfds || !workers)
		die("calloc");
	port = opts.port;
	if (opts.inherit_fd >= 0) {
		lfds[0] = opts.inherit_fd;
		port = local_port(opts.inherit_fd);
	}
	for (i = 0; opts.inherit_fd < 0 && i < nlisteners; i++)
		lfds[i] = make_listener(&port);
	/* A second listen() on a listening socket only rewrites the backlog. */
	for (i = 0; opts.have_relisten && i < nlisteners; i++)
		if (listen(lfds[i], opts.relisten) < 0)
			die("listen (relisten)");
	if (opts.fork_children > 0) {
		fork_children();
		if (!is_child)
			parent_main(port);
		/* A child: no "ready" line of its own. */
	}

	for (i = 0; i < nworkers; i++) {
		workers[i].lfd = lfds[i / opts.threads];
		errno = pthread_create(&workers[i].tid, NULL, worker_main,
				       &workers[i]);
		if (errno)
			die("pthread_create");
	}
	free(lfds);

	if (opts.unix_path)
		printf("ready %s\n", opts.unix_path);
	else if (!is_child)
		printf("ready %d\n", port);
	fflush(stdout);

	status = wait_for_stop();
	printf("accepted %ld\n", atomic_load(&accepted));
	fflush(stdout);
	if (opts.unix_path)
		unlink(opts.unix_path);
	/* Workers may be blocked in accept(): exit() ends them with us. */
	exit(status);
}
