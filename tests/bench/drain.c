/*
 * drain.c - the per-accept cost from a pre-filled accept queue.
 *
 *   drain [--n N] [--rounds R] [--max-ms T]
 *
 * Listens on 127.0.0.1 (ephemeral port, backlog N), then R times: opens N
 * loopback connections, waits until all N sit in the accept queue, and
 * times a loop of N accept4() calls (nothing else in the loop; the
 * accepted sockets are closed after the clock stops, clients with an RST so
 * no TIME_WAIT piles up, and with the bare system call: see close_all).
 * The queue must hold N: the listener's effective backlog (somaxconn) must
 * be at least N, or it exits 1 saying so.
 *
 * Prints one line per round, "round I ns_per_accept X", then
 * "drain n=N rounds=R median_ns X min_ns Y". Exit 0, or 1 with a reason on
 * stderr. Bounded: every wait gives up after --max-ms (default 20000) in
 * all. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../e2e/lib/prog.h"

#define DRAIN_MAX_N 60000
#define DRAIN_MAX_ROUNDS 100

static long opt_n = 4000;
static long opt_rounds = 5;
static long opt_max_ms = 20000;
static uint64_t deadline_ns;

static void die_msg(const char *msg)
{
	fprintf(stderr, "drain: %s\n", msg);
	exit(1);
}

static void check_deadline(const char *what)
{
	if (now_ns() > deadline_ns) {
		fprintf(stderr, "drain: --max-ms ran out (%s)\n", what);
		exit(1);
	}
}

/* Listener queue: depth and effective backlog, from TCP_INFO. */
static void queue_info(int lfd, uint32_t *depth, uint32_t *backlog)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		die_errno("getsockopt TCP_INFO");
	*depth = ti.tcpi_unacked;
	*backlog = ti.tcpi_sacked;
}

static void raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("getrlimit");
	if (rl.rlim_cur >= (rlim_t)want)
		return;
	if (rl.rlim_max < (rlim_t)want) {
		errno = EMFILE;
		die_errno("RLIMIT_NOFILE hard limit too low for --n");
	}
	rl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("setrlimit");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"n", required_argument, NULL, 'n'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"max-ms", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:r:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt_n = parse_long(optarg, "--n", 1, DRAIN_MAX_N);
			break;
		case 'r':
			opt_rounds =
			    parse_long(optarg, "--rounds", 1, DRAIN_MAX_ROUNDS);
			break;
		case 'T':
			opt_max_ms = parse_long(optarg, "--max-ms", 1, 600000);
			break;
		default:
			die_msg("usage: drain [--n N] [--rounds R] "
				"[--max-ms T]");
		}
	}
	if (optind != argc)
		die_msg("unexpected argument");
}

/* Fill the queue with n established connections; client fds into cli. */
static void fill(int lfd, const struct sockaddr_in *sin, int *cli, long n)
{
	uint32_t depth, backlog;

	for (long i = 0; i < n; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0)
			die_errno("socket");
		if (connect(cli[i], (const struct sockaddr *)sin,
			    sizeof(*sin)) < 0)
			die_errno("connect");
		if ((i & 255) == 0)
			check_deadline("connecting");
	}
	/* The last ACKs may still be on their way through loopback. */
	for (;;) {
		queue_info(lfd, &depth, &backlog);
		if (depth >= (uint32_t)n)
			break;
		check_deadline("waiting for the queue to fill");
		usleep(1000);
	}
}

/*
 * The client half stands in for other machines: its sockets are closed with
 * the system call itself, past any wrapper, so that an instruction count of
 * this program under the shim holds what a server pays per connection: its
 * accept and the close of the accepted socket.
 */
static void close_all(int *cli, int *srv, long n)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	for (long i = 0; i < n; i++) {
		/* RST, not FIN: no TIME_WAIT left behind. */
		setsockopt(cli[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		syscall(SYS_close, cli[i]);
	}
	for (long i = 0; i < n; i++)
		close(srv[i]);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	uint32_t depth, backlog;
	uint64_t *ns;
	int *cli, *srv;
	int lfd, one = 1;

	parse_args(argc, argv);
	deadline_ns = now_ns() + (uint64_t)opt_max_ms * 1000000ull;
	raise_nofile(2 * opt_n + 64);
	cli = calloc(opt_n, sizeof(*cli));
	srv = calloc(opt_n, sizeof(*srv));
	ns = calloc(opt_rounds, sizeof(*ns));
	if (!cli || !srv || !ns)
		die_errno("calloc");

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die_errno("socket");
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die_errno("SO_REUSEADDR");
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die_errno("bind");
	if (listen(lfd, (int)opt_n) < 0)
		die_errno("listen");
	if (getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0)
		die_errno("getsockname");
	queue_info(lfd, &depth, &backlog);
	if (backlog + 1 < (uint32_t)opt_n) {
		fprintf(stderr,
			"drain: effective backlog %u cannot hold --n %ld "
			"(raise net.core.somaxconn, or lower --n)\n",
			backlog, opt_n);
		free(cli);
		free(srv);
		free(ns);
		return 1;
	}

	for (long r = 0; r < opt_rounds; r++) {
		struct sockaddr_storage ss;
		socklen_t len;
		uint64_t t0, t1;

		fill(lfd, &sin, cli, opt_n);
		t0 = now_ns();
		for (long i = 0; i < opt_n; i++) {
			len = sizeof(ss);
			srv[i] = accept4(lfd, (struct sockaddr *)&ss, &len,
					 SOCK_CLOEXEC);
			if (srv[i] < 0)
				die_errno("accept4");
		}
		t1 = now_ns();
		close_all(cli, srv, opt_n);
		ns[r] = (t1 - t0) / (uint64_t)opt_n;
		printf("round %ld ns_per_accept %llu\n", r,
		       (unsigned long long)ns[r]);
	}
	qsort(ns, opt_rounds, sizeof(*ns), cmp_u64);
	printf("drain n=%ld rounds=%ld median_ns %llu min_ns %llu\n", opt_n,
	       opt_rounds, (unsigned long long)ns[opt_rounds / 2],
	       (unsigned long long)ns[0]);
	close(lfd);
	free(cli);
	free(srv);
	free(ns);
	return 0;
}
