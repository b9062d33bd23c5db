/*
 * vfork_child.c - a server whose vfork() child, before it execs, closes the
 * listener's descriptor and drops root: what a spawning server does.
 *
 *   vfork_child
 *
 * Listens on 127.0.0.1 (ephemeral port), then vfork()s a child that runs in
 * the parent's memory: it calls closefrom(3), close() on the listener and,
 * when root, setuid(65534), then _exit(0)s. The parent, its listener still
 * open, prints "ready PORT" and waits for a line (or EOF) on stdin, then
 * accepts the one connection the test made meanwhile (the listener does not
 * block: "accepted 0" when there was none), prints "accepted N", and waits
 * for one more line before it exits 0. Exit 1 on a setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/prog.h"

static int make_listener(int *port)
{
	int fd = loopback_listener(SOCK_CLOEXEC | SOCK_NONBLOCK, 8, port);
	if (fd < 0)
		die_errno("listen");
	return fd;
}

int main(void)
{
	int port, status;
	int fd = make_listener(&port);
	char line[16];

	pid_t pid = vfork();
	if (pid < 0)
		die_errno("vfork");
	if (pid == 0) {
		/* Only what a vfork child may do: calls, then _exit. */
		close(fd);
		closefrom(3);
		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(2);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die_errno("child");
	printf("ready %d\n", port);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	int n = 0;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0) {
		n++;
		close(c);
	}
	printf("accepted %d\n", n);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	return 0;
}
