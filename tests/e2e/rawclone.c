/*
 * rawclone - a worker made with a raw clone() (no CLONE_VM, so a process of
 * its own; no fork handlers run), as some servers and runtimes make them.
 *
 * usage: rawclone PARENT CHILD
 * Listens on 127.0.0.1, connects PARENT clients to itself and accepts them
 * (the shim's common path: the thread's stripe is set up), then clones a
 * child that connects and accepts CHILD clients on the same listener and
 * exits 0, waits for it, and prints "parent PID child PID status S". The
 * parent's figures must count PARENT accepts, the child's its own.
 */
#include "lib/prog.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#define STACK_SIZE (256 * 1024)

static int listen_fd, port;

static void serve(long n)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)))
			die_errno("connect");
		int a = accept(listen_fd, NULL, NULL);
		if (a < 0)
			die_errno("accept");
		close(a);
		close(c);
	}
}

static int child_main(void *arg)
{
	serve(*(const long *)arg);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: rawclone PARENT CHILD\n");
		return 2;
	}
	long parent = parse_long(argv[1], "PARENT", 1, 1000000);
	long child = parse_long(argv[2], "CHILD", 1, 1000000);
	listen_fd = loopback_listener(SOCK_CLOEXEC, 64, &port);
	if (listen_fd < 0)
		die_errno("listen");
	serve(parent);
	char *stack = malloc(STACK_SIZE);
	if (stack == NULL)
		die_errno("malloc");
	pid_t pid = clone(child_main, stack + STACK_SIZE, SIGCHLD, &child);
	if (pid < 0)
		die_errno("clone");
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die_errno("waitpid");
	printf("parent %d child %d status %d\n", (int)getpid(), (int)pid,
	       status);
	free(stack);
	return 0;
}
