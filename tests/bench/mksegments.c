/*
 * mksegments.c - make N real acceptwatch segments for the reader benchmark.
 *
 *   LD_PRELOAD=shim/libacceptwatch.so mksegments -n N [--exited | --shared]
 *                                                [--max-ms T]
 *
 * Run under the shim. The parent never listens (so it has no segment); it
 * forks N children, and each child listens on 127.0.0.1 (ephemeral port),
 * connects to itself and accepts that connection once, so the shim makes
 * the child's segment exactly as it would for a server (valid for the
 * reader whatever the ABI of the day: pid in the name and header, start
 * ticks). Then:
 *   default   the children stay alive until the parent is told to stop;
 *   --exited  the children exit at once (run with ACCEPTWATCH_KEEP=1 so the
 *             segments stay): segments of exited processes, for --all;
 *   --shared  a pre-fork server: the parent listens once (so it has a
 *             segment too) and every child accepts one connection on
 *             that inherited socket instead of listening on its own.
 * Once every child is ready the parent prints "ready N" and waits for a
 * line (or EOF) on stdin, or --max-ms (default 120000). Then it stops the
 * children (EOF on their pipe; SIGKILL after 10 s), reaps them, removes
 * every /dev/shm/acceptwatch.<child pid> that is still there, prints
 * "cleaned K" and exits 0. Exit 1 on a setup error, after cleaning up.
 */
#include "acceptwatch_abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../e2e/lib/prog.h"

#define MK_MAX_N 20000

static long opt_n = 1000;
static int opt_exited;
static int opt_shared;
static int shared_fd = -1; /* --shared: the parent's listener */
static long opt_max_ms = 120000;

static pid_t *kids;
static long nkids;
static int reaped_all;

/* The child: one listener, one accepted connection, then wait or exit. */
static void child(int ready_fd, int hold_fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char b;
	int lfd, cfd, afd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (shared_fd >= 0) {
		/* One connection in, one out: each child accepts one, maybe
		 * another child's. */
		lfd = shared_fd;
	} else {
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 ||
		    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    listen(lfd, 16) < 0)
			_exit(2);
	}
	if (getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		_exit(2);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		_exit(2);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (afd < 0)
		_exit(2);
	close(afd);
	close(cfd);
	if (write(ready_fd, "r", 1) != 1)
		_exit(2);
	close(ready_fd);
	if (!opt_exited) {
		/* EOF when the parent says stop, or dies. */
		while (read(hold_fd, &b, 1) < 0 && errno == EINTR)
			;
	}
	close(lfd);
	exit(0); /* exit(), not _exit(): the shim's destructor runs */
}

/* Remove the segment named for pid if it is still there and says so. */
static int remove_segment(pid_t pid)
{
	char path[64];
	struct aw_seg_header h;
	int fd, ours;

	snprintf(path, sizeof(path), "/dev/shm/" AW_SEG_PREFIX "%d", (int)pid);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ours = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	       h.pid == (int32_t)pid;
	close(fd);
	return ours && unlink(path) == 0;
}

/* Reap every child, giving them 10 s before SIGKILL. */
static void reap_all(void)
{
	long long until = now_ms() + 10000;
	long left = 0;

	for (long i = 0; i < nkids; i++)
		if (kids[i] > 0)
			left++;
	while (left > 0) {
		for (long i = 0; i < nkids; i++) {
			if (kids[i] <= 0)
				continue;
			pid_t r = waitpid(kids[i], NULL, WNOHANG);
			if (r == kids[i] || (r < 0 && errno == ECHILD)) {
				kids[i] = -kids[i]; /* reaped: remember pid */
				left--;
			}
		}
		if (left == 0)
			break;
		if (now_ms() > until) {
			for (long i = 0; i < nkids; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGKILL);
			until = now_ms() + 10000;
		}
		usleep(2000);
	}
	reaped_all = 1;
}

static int cleanup(int hold_w)
{
	int cleaned = 0;

	if (hold_w >= 0)
		close(hold_w);
	reap_all();
	for (long i = 0; i < nkids; i++)
		cleaned += remove_segment(kids[i] < 0 ? -kids[i] : kids[i]);
	printf("cleaned %d\n", cleaned);
	fflush(stdout);
	return cleaned;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"exited", no_argument, NULL, 'x'},
	    {"shared", no_argument, NULL, 's'},
	    {"max-ms", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	int ready[2], hold[2], c, status = 0;
	long got = 0;
	long long until;
	char line[64];

	while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt_n = strtol(optarg, NULL, 10);
			break;
		case 'x':
			opt_exited = 1;
			break;
		case 's':
			opt_shared = 1;
			break;
		case 'T':
			opt_max_ms = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: mksegments -n N [--exited | "
					"--shared] [--max-ms T]\n");
			return 1;
		}
	}
	if (opt_n < 1 || opt_n > MK_MAX_N || opt_max_ms < 1 ||
	    opt_max_ms > 600000) {
		fprintf(stderr, "mksegments: -n 1..%d, --max-ms 1..600000\n",
			MK_MAX_N);
		return 1;
	}
	if (opt_exited && !getenv("ACCEPTWATCH_KEEP")) {
		fprintf(stderr, "mksegments: --exited needs ACCEPTWATCH_KEEP=1 "
				"(else the segments go with the children)\n");
		return 1;
	}
	kids = calloc(opt_n, sizeof(*kids));
	if (!kids || pipe2(ready, O_CLOEXEC) < 0 ||
	    pipe2(hold, O_CLOEXEC) < 0) {
		perror("mksegments: setup");
		return 1;
	}
	if (opt_shared) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		shared_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (shared_fd < 0 ||
		    bind(shared_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    listen(shared_fd, 4096) < 0) {
			perror("mksegments: listen");
			return 1;
		}
	}
	fflush(stdout);
	for (long i = 0; i < opt_n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("mksegments: fork");
			status = 1;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			close(hold[1]);
			child(ready[1], hold[0]);
		}
		kids[nkids++] = pid;
	}
	close(ready[1]);
	close(hold[0]);

	/* Every child says ready once its segment exists: 30 s, and 10 ms
	 * more a child (10,000 children on a busy machine take a while). */
	until = now_ms() + 30000 + 10 * (long long)nkids;
	while (status == 0 && got < nkids) {
		struct pollfd p = {.fd = ready[0], .events = POLLIN};
		char buf[256];
		long long left = until - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			fprintf(stderr, "mksegments: %ld of %ld ready\n", got,
				nkids);
			status = 1;
			break;
		}
		ssize_t r = read(ready[0], buf, sizeof(buf));
		if (r <= 0) {
			fprintf(stderr,
				"mksegments: children died: %ld of "
				"%ld ready\n",
				got, nkids);
			status = 1;
			break;
		}
		got += r;
	}
	close(ready[0]);
	if (status == 0 && nkids > 0) {
		struct stat st;
		char path[64];
		if (opt_exited)
			reap_all();
		snprintf(path, sizeof(path), "/dev/shm/" AW_SEG_PREFIX "%d",
			 (int)(kids[0] < 0 ? -kids[0] : kids[0]));
		if (stat(path, &st) != 0) {
			fprintf(stderr,
				"mksegments: no %s: run me under "
				"LD_PRELOAD=libacceptwatch.so\n",
				path);
			status = 1;
		}
	}
	if (status == 0) {
		printf("ready %ld\n", nkids);
		fflush(stdout);
		struct pollfd p = {.fd = 0, .events = POLLIN};
		if (poll(&p, 1, (int)opt_max_ms) > 0 &&
		    !fgets(line, sizeof(line), stdin))
			line[0] = '\0';
	}
	cleanup(hold[1]);
	return status;
}
