/*
 * fdswap.c - a listener's descriptor number taken over by another listener
 * behind the shim's back, for the acceptwatch end-to-end tests.
 *
 *   fdswap
 *
 * Listens on A (listen(): the shim sees it) and accepts 3 connections it
 * makes to itself. Then listener B, made with the listen system call (the
 * shim never sees it), is passed over a Unix socket pair (SCM_RIGHTS), A is
 * closed inside libc (fclose(fdopen(A))), and B is received: the kernel
 * gives it A's old number, which the loop then accepts on until SIGTERM,
 * sending each connection one byte 'A' before closing it. Prints
 * "ready PORT_A PORT_B" once B sits under A's number. Exit status 0 on
 * SIGTERM, 1 on an error.
 */
#include <signal.h>
#include <sys/syscall.h>

#include "lib/prog.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A listener on 127.0.0.1 the shim does not see made. */
static int unseen_listener(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die_errno("socket");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    syscall(SYS_listen, fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die_errno("listener B");
	*port = ntohs(sin.sin_port);
	return fd;
}

static void accept_own(int lfd, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die_errno("connect to A");
	int a = accept(lfd, NULL, NULL);
	if (a < 0)
		die_errno("accept on A");
	close(a);
	close(c);
}

static void send_fd(int sock, int fd)
{
	char byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	memset(&u, 0, sizeof(u));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		die_errno("sendmsg");
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	int fd = -1;
	if (recvmsg(sock, &m, 0) != 1)
		die_errno("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		die_errno("no descriptor received");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int main(void)
{
	int port_a, port_b, pair[2];
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	int a = loopback_listener(0, 64, &port_a);
	if (a < 0)
		die_errno("listener A");
	for (int i = 0; i < 3; i++)
		accept_own(a, port_a);
	int b = unseen_listener(&port_b);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		die_errno("socketpair");
	send_fd(pair[0], b);
	close(b);
	/* Closed inside libc: the shim's close() never runs. */
	FILE *f = fdopen(a, "r");
	if (f == NULL)
		die_errno("fdopen");
	fclose(f);
	int got = recv_fd(pair[1]);
	if (got != a) {
		fprintf(stderr, "fdswap: B came as fd %d, not A's %d\n", got,
			a);
		return 1;
	}
	printf("ready %d %d\n", port_a, port_b);
	fflush(stdout);
	while (!stop) {
		int c = accept(got, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die_errno("accept on B");
		}
		if (write(c, "A", 1) != 1)
			(void)0; /* the client may be gone */
		close(c);
	}
	return 0;
}
