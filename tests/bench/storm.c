/*
 * storm.c - a loopback connection storm: the client side.
 *
 *   storm --port P [--threads K] [--duration-ms D] [--max-conns M]
 *
 * K threads (default 2) each loop: socket, blocking connect to
 * 127.0.0.1:P, wait for the server's one byte (tests/e2e/server.c sends
 * 'A' and closes), close with an RST (SO_LINGER 0: no TIME_WAIT), until D
 * ms (default 2000) have passed or M connections (default 10,000,000) were
 * made in all. Every wait is bounded (connect and recv time out after 2 s).
 *
 * Prints "storm conns C failed F elapsed_ns E per_s R" and exits 0; exit 1
 * on a setup error, or when more than 1% of the connections failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../e2e/lib/prog.h"

#define STORM_MAX_THREADS 64

static long opt_port = -1;
static long opt_threads = 2;
static long opt_duration_ms = 2000;
static long opt_max = 10000000;

static struct sockaddr_in target;
static uint64_t deadline_ns;
static atomic_long made;
static atomic_long failed;

/* One connection; 1 when the server's byte came back. */
static int one_conn(void)
{
	struct timeval tv = {.tv_sec = 2};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	char b;
	int ok = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	/* SO_SNDTIMEO bounds connect(), SO_RCVTIMEO the wait for the byte. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) == 0 &&
	    recv(fd, &b, 1, 0) == 1)
		ok = 1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return ok;
}

static void *storm_thread(void *arg)
{
	(void)arg;
	for (;;) {
		if (atomic_fetch_add(&made, 1) >= opt_max) {
			atomic_fetch_sub(&made, 1);
			break;
		}
		if (!one_conn())
			atomic_fetch_add(&failed, 1);
		if (now_ns() >= deadline_ns)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"threads", required_argument, NULL, 't'},
	    {"duration-ms", required_argument, NULL, 'd'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	pthread_t tid[STORM_MAX_THREADS];
	uint64_t t0, t1;
	long conns, fails;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt_port = parse_long(optarg, "--port", 1, 65535);
			break;
		case 't':
			opt_threads = parse_long(optarg, "--threads", 1,
						 STORM_MAX_THREADS);
			break;
		case 'd':
			opt_duration_ms =
			    parse_long(optarg, "--duration-ms", 1, 600000);
			break;
		case 'm':
			opt_max =
			    parse_long(optarg, "--max-conns", 1, 1000000000L);
			break;
		default:
			fprintf(stderr, "usage: storm --port P [--threads K] "
					"[--duration-ms D] [--max-conns M]\n");
			return 1;
		}
	}
	if (opt_port < 0 || optind != argc) {
		fprintf(stderr, "storm: --port is required\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target.sin_port = htons((uint16_t)opt_port);

	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)opt_duration_ms * 1000000ull;
	for (long i = 0; i < opt_threads; i++) {
		errno = pthread_create(&tid[i], NULL, storm_thread, NULL);
		if (errno)
			die_errno("pthread_create");
	}
	for (long i = 0; i < opt_threads; i++)
		pthread_join(tid[i], NULL);
	t1 = now_ns();
	conns = atomic_load(&made) - atomic_load(&failed);
	fails = atomic_load(&failed);
	printf("storm conns %ld failed %ld elapsed_ns %llu per_s %.0f\n", conns,
	       fails, (unsigned long long)(t1 - t0),
	       (double)conns * 1e9 / (double)(t1 - t0));
	return fails * 100 > conns + fails ? 1 : 0;
}
