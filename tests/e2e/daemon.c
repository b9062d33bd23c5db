/*
 * daemon.c - a server shaped like a classic daemon, for the log tests
 * (tests/e2e/test_log_host_data.sh): it listens, then closes descriptors 0-2
 * and reuses them, so that fd 2 names its own data while the shim may log.
 *
 *   daemon file PATH N   fd 2 is PATH (created, truncated)
 *   daemon client N      fd 2 is the first connection accepted
 *
 * It listens on 127.0.0.1 (backlog 16) and prints "ready PORT" on its
 * original stdout (kept as fd 3+), then puts /dev/null on fds 0 and 1 and
 * its data on fd 2. It accepts N more connections, sleeping 100 ms after
 * each (a slow loop: those queued meanwhile wait), writes its data to fd 2
 * (file: "data\n"; client: a small HTTP response) and closes it, prints
 * "done" and waits for SIGTERM (exit 0). Exit 1 with a line on the original
 * stdout when something fails (stderr is gone).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/prog.h"

static const char file_data[] = "data\n";
static const char http_data[] = "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n"
				"\r\nhello\n";
static FILE *out;

static void fail(const char *what)
{
	fprintf(out, "daemon: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die_errno("listen");
	printf("ready %d\n", ntohs(a.sin_port));
	return fd;
}

/* 0 and 1 on /dev/null, 2 free: as a daemon leaves them. */
static void detach(void)
{
	close(0);
	close(1);
	close(2);
	if (open("/dev/null", O_RDONLY) != 0 ||
	    open("/dev/null", O_WRONLY) != 1)
		fail("/dev/null");
}

static void put_data(const char *data, size_t len)
{
	if (write(2, data, len) != (ssize_t)len)
		fail("write fd 2");
	if (close(2) != 0)
		fail("close fd 2");
}

int main(int argc, char **argv)
{
	int to_file = argc == 4 && strcmp(argv[1], "file") == 0;
	int to_client = argc == 3 && strcmp(argv[1], "client") == 0;
	sigset_t term;
	int sig;

	if (!to_file && !to_client) {
		fprintf(stderr,
			"usage: daemon file PATH N | daemon client N\n");
		return 1;
	}
	long n = parse_long(argv[argc - 1], "N", 1, 1000);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	out = fdopen(dup(1), "w");
	if (out == NULL)
		die_errno("dup stdout");
	setvbuf(out, NULL, _IOLBF, 0);
	int lfd = listener();
	fflush(stdout);
	detach();
	if (to_file && open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644) != 2)
		fail("open data file as fd 2");
	if (to_client && accept(lfd, NULL, NULL) != 2)
		fail("accept the client as fd 2");
	fprintf(out, "fd 2 taken\n");
	for (long i = 0; i < n; i++) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			fail("accept");
		struct timespec t = {0, 100 * 1000000L};
		nanosleep(&t, NULL);
		close(cfd);
	}
	if (to_file)
		put_data(file_data, sizeof(file_data) - 1);
	else
		put_data(http_data, sizeof(http_data) - 1);
	fprintf(out, "done\n");
	sigwait(&term, &sig);
	return 0;
}
