/*
 * watch_target.c - an accept loop whose time away is known truth, for the
 * tests of `acceptwatch watch` (sampled from outside, no shim needed).
 *
 *   watch_target [--backlog N] [--sleep-ms N | --spin-ms N] [--epoll]
 *                [--idle-threads K]
 *
 * Listens on 127.0.0.1 (an ephemeral port) and prints "ready PORT". The
 * main thread accepts: blocking accept(), or with --epoll an
 * epoll_wait(-1) (level-triggered) before each accept. Each accepted
 * connection gets one byte 'A' and is closed at once; then the loop is
 * away: it sleeps --sleep-ms (clock_nanosleep to an absolute deadline) or
 * burns --spin-ms of its own CPU time. --idle-threads K more threads wait
 * in pause().
 *
 * On SIGTERM or SIGINT it prints one line
 *   "accepted N away_mean_us U eintr E"
 * N accepts, U the mean wall time from an accept's return to the next
 * accept call (the loop's own measure of time away), E the EINTR returns
 * of epoll_wait or accept that no signal of ours caused (a ptrace stop
 * makes epoll_wait return EINTR: the non-intrusion test wants 0).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/prog.h"

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void away(long sleep_ms, long spin_ms)
{
	if (spin_ms) {
		uint64_t end = thread_cpu_ns() + (uint64_t)spin_ms * 1000000u;
		while (thread_cpu_ns() < end)
			;
		return;
	}
	if (sleep_ms == 0)
		return;
	uint64_t end = now_ns() + (uint64_t)sleep_ms * 1000000u;
	struct timespec t = {.tv_sec = (time_t)(end / 1000000000u),
			     .tv_nsec = (long)(end % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
		   EINTR &&
	       !stopping)
		;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"backlog", required_argument, NULL, 'b'},
	    {"sleep-ms", required_argument, NULL, 's'},
	    {"spin-ms", required_argument, NULL, 'S'},
	    {"epoll", no_argument, NULL, 'e'},
	    {"idle-threads", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	long backlog = 128, sleep_ms = 0, spin_ms = 0, idle_threads = 0;
	int use_epoll = 0, c, port;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			backlog = parse_long(optarg, "--backlog", 1, 65535);
			break;
		case 's':
			sleep_ms = parse_long(optarg, "--sleep-ms", 0, 60000);
			break;
		case 'S':
			spin_ms = parse_long(optarg, "--spin-ms", 0, 60000);
			break;
		case 'e':
			use_epoll = 1;
			break;
		case 'i':
			idle_threads =
			    parse_long(optarg, "--idle-threads", 0, 64);
			break;
		default:
			fprintf(stderr,
				"usage: watch_target [--backlog N] "
				"[--sleep-ms N | --spin-ms N] [--epoll] "
				"[--idle-threads K]\n");
			return 1;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: accept returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (long i = 0; i < idle_threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, idle, NULL))
			die_errno("pthread_create");
	}
	int lfd = loopback_listener(0, (int)backlog, &port);
	if (lfd < 0)
		die_errno("listen");
	int ep = -1;
	if (use_epoll) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
			die_errno("epoll");
	}
	printf("ready %d\n", port);
	fflush(stdout);

	unsigned long accepted = 0, eintr = 0;
	uint64_t away_ns = 0, left = 0;
	while (!stopping) {
		if (use_epoll) {
			struct epoll_event ev;
			int n = epoll_wait(ep, &ev, 1, -1);
			if (n < 0) {
				if (errno != EINTR)
					die_errno("epoll_wait");
				if (!stopping)
					eintr++;
				continue;
			}
		}
		if (left)
			away_ns += now_ns() - left;
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR && !stopping)
				eintr++;
			else if (errno != EINTR)
				die_errno("accept");
			left = 0;
			continue;
		}
		left = now_ns();
		accepted++;
		if (write(fd, "A", 1) < 0) {
			/* the client may be gone already: not ours to judge */
		}
		close(fd);
		away(sleep_ms, spin_ms);
	}
	/* The time away before the first accept is not away: it is waiting. */
	printf("accepted %lu away_mean_us %llu eintr %lu\n", accepted,
	       accepted > 1
		   ? (unsigned long long)(away_ns / 1000u / (accepted - 1))
		   : 0ull,
	       eintr);
	return 0;
}
