/*
 * burst.c - open N loopback connections at once and report how many the
 * server accepted, for the acceptwatch end-to-end tests.
 *
 *   burst [--addr A] --port P | --unix PATH  -n N  [--timeout-ms T]
 *         [--threads K] [--wait-established-only [--hold-ms H]] [--no-send]
 *
 * Each of K threads (default 1) creates its share of non-blocking sockets,
 * all threads start connecting together, each connection sends one byte 'x'
 * once connected (see conn_established), then each thread polls its sockets
 * until the server's 'A' byte arrives (= accepted: completed) or --timeout-ms
 * (default 10000) passes (failed). With --wait-established-only a socket
 * counts as completed once connect() finishes; the result line is printed
 * then, and the sockets stay open --hold-ms more so they sit in the
 * server's accept queue.
 *
 * Prints one line "completed C failed F" and exits 0; exit 1 only for usage
 * or setup errors. Only loopback and AF_UNIX addresses are accepted.
 *
 * Timing to expect: when the accept queue is full the kernel drops the SYN
 * and the client retransmits it after 1 s, 3 s, 7 s..., so a slow server's
 * burst completes in steps, not smoothly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/prog.h"

#define BURST_MAX_CONNS 20000
#define BURST_MAX_THREADS 64
/* AF_UNIX connect() to a full backlog fails EAGAIN: retry this often. */
#define BURST_UNIX_RETRY_MS 10

enum conn_state {
	CONN_CONNECTING, /* TCP: waiting for POLLOUT */
	CONN_UNIX_RETRY, /* AF_UNIX: backlog was full, call connect() again */
	CONN_WAIT_BYTE,	 /* connected, waiting for the server's 'A' */
	CONN_HELD,	 /* --wait-established-only: connected, kept open */
	CONN_DONE,
	CONN_FAILED,
};

struct burst_conn {
	int fd;
	enum conn_state state;
};

struct burst_thread {
	pthread_t tid;
	struct burst_conn *conns;
	int n;
	int completed;
	int failed;
};

static struct {
	const char *addr;
	int port;
	const char *unix_path;
	long n;
	long timeout_ms;
	long threads;
	int established_only;
	long hold_ms;
	int no_send;
} opts = {
    .addr = "127.0.0.1",
    .port = -1,
    .n = -1,
    .timeout_ms = 10000,
    .threads = 1,
};

static struct sockaddr_storage target;
static socklen_t target_len;
/* All threads connect together once every socket exists. */
static pthread_barrier_t start_barrier;
/* Absolute CLOCK_MONOTONIC deadline in ms, set before threads start. */
static long long deadline_ms;

static void fail_setup(const char *what)
{
	fprintf(stderr, "burst: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage_die(const char *msg)
{
	fprintf(stderr, "burst: %s\n", msg);
	fprintf(stderr,
		"usage: burst [--addr A] --port P | --unix PATH -n N "
		"[--timeout-ms T] [--threads K] "
		"[--wait-established-only [--hold-ms H]] [--no-send]\n");
	exit(1);
}

static void conn_close(struct burst_conn *c, enum conn_state state)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = state;
}

/*
 * The connection is up: send one byte, then wait for 'A' (or stop here if
 * told to). The byte matters: when the SYN queue holds more than the
 * backlog the kernel answers with a SYN cookie and keeps no state, and if
 * the accept queue is full when our ACK arrives that ACK is just dropped.
 * We are ESTABLISHED, the server knows nothing and never retransmits; a
 * silent client would wait forever. Our data segment is retransmitted
 * (RTO backoff) and carries the cookie ACK again, so the kernel creates
 * the connection as soon as the queue has room. Real clients (HTTP) talk
 * first too. --no-send keeps the silent behaviour, to show the loss.
 */
static void conn_established(struct burst_conn *c)
{
	/* EPIPE/ECONNRESET: the server may have answered and closed before
	 * our byte went out (AF_UNIX connects at once): its 'A' is still ours
	 * to read, so look for it before calling the connection failed. */
	if (!opts.no_send && send(c->fd, "x", 1, MSG_NOSIGNAL) != 1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		conn_close(c, CONN_FAILED);
		return;
	}
	c->state = opts.established_only ? CONN_HELD : CONN_WAIT_BYTE;
}

/* Start (or, for AF_UNIX, retry) a non-blocking connect. */
static void conn_start(struct burst_conn *c)
{
	if (connect(c->fd, (struct sockaddr *)&target, target_len) == 0) {
		conn_established(c);
		return;
	}
	if (errno == EINPROGRESS) {
		c->state = CONN_CONNECTING;
		return;
	}
	/* AF_UNIX with a full backlog: no poll event will tell us; retry. */
	if (errno == EAGAIN && opts.unix_path) {
		c->state = CONN_UNIX_RETRY;
		return;
	}
	conn_close(c, CONN_FAILED);
}

/* Act on poll()'s verdict for one connection. */
static void conn_event(struct burst_conn *c, short revents)
{
	char b;
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t r;

	if (c->state == CONN_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err) {
			conn_close(c, CONN_FAILED);
			return;
		}
		conn_established(c);
		/* The 'A' may already be here: fall through and look. */
		if (c->state != CONN_WAIT_BYTE || !(revents & POLLIN))
			return;
	}
	if (c->state != CONN_WAIT_BYTE)
		return;
	r = recv(c->fd, &b, 1, MSG_DONTWAIT);
	if (r == 1 && b == 'A')
		conn_close(c, CONN_DONE);
	else if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	else
		conn_close(c, CONN_FAILED); /* EOF or reset without 'A' */
}

static int conn_pending(const struct burst_conn *c)
{
	return c->state == CONN_CONNECTING || c->state == CONN_UNIX_RETRY ||
	       c->state == CONN_WAIT_BYTE;
}

static void *burst_thread_main(void *arg)
{
	struct burst_thread *t = arg;
	struct pollfd *pfds = calloc(t->n, sizeof(*pfds));
	int *idx = calloc(t->n, sizeof(*idx));
	int i;

	if (!pfds || !idx) {
		errno = ENOMEM;
		fail_setup("calloc");
	}
	pthread_barrier_wait(&start_barrier);
	for (i = 0; i < t->n; i++)
		conn_start(&t->conns[i]);

	for (;;) {
		long long left = deadline_ms - now_ms();
		int npfd = 0, retry = 0, timeout, r;

		for (i = 0; i < t->n; i++) {
			struct burst_conn *c = &t->conns[i];

			if (c->state == CONN_UNIX_RETRY) {
				retry = 1;
				continue;
			}
			if (!conn_pending(c))
				continue;
			pfds[npfd].fd = c->fd;
			pfds[npfd].events =
			    c->state == CONN_CONNECTING ? POLLOUT : POLLIN;
			pfds[npfd].revents = 0;
			idx[npfd++] = i;
		}
		if (!npfd && !retry)
			break;
		if (left <= 0)
			break;
		timeout = left > INT_MAX ? INT_MAX : (int)left;
		if (retry && timeout > BURST_UNIX_RETRY_MS)
			timeout = BURST_UNIX_RETRY_MS;
		r = poll(pfds, npfd, timeout);
		if (r < 0 && errno != EINTR)
			fail_setup("poll");
		for (i = 0; r > 0 && i < npfd; i++)
			if (pfds[i].revents)
				conn_event(&t->conns[idx[i]], pfds[i].revents);
		for (i = 0; retry && i < t->n; i++)
			if (t->conns[i].state == CONN_UNIX_RETRY)
				conn_start(&t->conns[i]);
	}

	/* Count; whatever is still pending at the deadline failed. */
	for (i = 0; i < t->n; i++) {
		struct burst_conn *c = &t->conns[i];

		if (conn_pending(c))
			conn_close(c, CONN_FAILED);
		if (c->state == CONN_DONE || c->state == CONN_HELD)
			t->completed++;
		else
			t->failed++;
	}
	free(pfds);
	free(idx);
	return NULL;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"port", required_argument, NULL, 'p'},
	    {"unix", required_argument, NULL, 'u'},
	    {"timeout-ms", required_argument, NULL, 'T'},
	    {"threads", required_argument, NULL, 't'},
	    {"wait-established-only", no_argument, NULL, 'E'},
	    {"hold-ms", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			opts.addr = optarg;
			break;
		case 'p':
			opts.port = parse_long(optarg, "--port", 1, 65535);
			break;
		case 'u':
			opts.unix_path = optarg;
			break;
		case 'n':
			opts.n = parse_long(optarg, "-n", 1, BURST_MAX_CONNS);
			break;
		case 'T':
			opts.timeout_ms =
			    parse_long(optarg, "--timeout-ms", 1, 600000);
			break;
		case 't':
			opts.threads = parse_long(optarg, "--threads", 1,
						  BURST_MAX_THREADS);
			break;
		case 'E':
			opts.established_only = 1;
			break;
		case 'H':
			opts.hold_ms =
			    parse_long(optarg, "--hold-ms", 0, 600000);
			break;
		case 'S':
			opts.no_send = 1;
			break;
		default:
			usage_die("bad option");
		}
	}
	if (optind != argc)
		usage_die("unexpected argument");
	if (opts.n < 0)
		usage_die("-n is required");
	if ((opts.port < 0) == !opts.unix_path)
		usage_die("give exactly one of --port and --unix");
	if (opts.hold_ms && !opts.established_only)
		usage_die("--hold-ms goes with --wait-established-only");
	if (opts.threads > opts.n)
		opts.threads = opts.n;
}

/* Resolve the target; refuse anything that is not loopback. */
static void set_target(void)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&target;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&target;

	memset(&target, 0, sizeof(target));
	if (opts.unix_path) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&target;

		if (strlen(opts.unix_path) >= sizeof(sun->sun_path))
			usage_die("--unix path too long");
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, opts.unix_path);
		target_len = sizeof(*sun);
	} else if (inet_pton(AF_INET, opts.addr, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			usage_die("--addr must be loopback (127.0.0.0/8)");
		sin->sin_family = AF_INET;
		sin->sin_port = htons(opts.port);
		target_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, opts.addr, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			usage_die("--addr must be loopback (::1)");
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(opts.port);
		target_len = sizeof(*sin6);
	} else {
		usage_die("--addr is not a numeric IPv4/IPv6 address");
	}
}

/* N sockets need N descriptors: raise the soft limit, or refuse up front. */
static void ensure_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)opts.n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fail_setup("getrlimit");
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		errno = EMFILE;
		fail_setup("RLIMIT_NOFILE too low for -n");
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fail_setup("setrlimit");
}

int main(int argc, char **argv)
{
	struct burst_thread *threads;
	struct burst_conn *conns;
	int i, completed = 0, failed = 0;
	long done = 0;

	parse_args(argc, argv);
	set_target();
	ensure_fd_limit();
	signal(SIGPIPE, SIG_IGN);

	conns = calloc(opts.n, sizeof(*conns));
	threads = calloc(opts.threads, sizeof(*threads));
	if (!conns || !threads)
		fail_setup("calloc");
	for (i = 0; i < opts.n; i++) {
		conns[i].fd =
		    socket(target.ss_family,
			   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (conns[i].fd < 0)
			fail_setup("socket");
	}
	/* Split the sockets as evenly as possible across the threads. */
	for (i = 0; i < opts.threads; i++) {
		long share = (opts.n - done) / (opts.threads - i);

		threads[i].conns = conns + done;
		threads[i].n = share;
		done += share;
	}

	errno = pthread_barrier_init(&start_barrier, NULL, opts.threads);
	if (errno)
		fail_setup("pthread_barrier_init");
	deadline_ms = now_ms() + opts.timeout_ms;
	for (i = 0; i < opts.threads; i++) {
		errno = pthread_create(&threads[i].tid, NULL, burst_thread_main,
				       &threads[i]);
		if (errno)
			fail_setup("pthread_create");
	}
	for (i = 0; i < opts.threads; i++) {
		pthread_join(threads[i].tid, NULL);
		completed += threads[i].completed;
		failed += threads[i].failed;
	}
	pthread_barrier_destroy(&start_barrier);

	printf("completed %d failed %d\n", completed, failed);
	fflush(stdout);
	/* Established-only: keep them queued at the server a while longer. */
	if (opts.established_only && opts.hold_ms > 0) {
		struct timespec t = {opts.hold_ms / 1000,
				     (opts.hold_ms % 1000) * 1000000L};

		while (nanosleep(&t, &t) < 0 && errno == EINTR)
			;
	}
	for (i = 0; i < opts.n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	free(threads);
	return 0;
}
