/*
 * libearlyaccept.so - a library whose constructor accepts before the
 * shim's own constructor has run (listed after the shim in LD_PRELOAD: it
 * binds to the shim's wrappers, and is initialized first), on a listener
 * the shim never saw listen (listen(2) made directly): so the process's
 * first wrapped call is an accept() the shim adopts. Three connections,
 * accepted 20 ms apart. Prints "early accepts=N" on stderr. The listener
 * stays open.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS 3

__attribute__((constructor)) static void early(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	struct timespec pause = {0, 20000000};
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int c[CLIENTS], accepted = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	syscall(SYS_listen, l, 7);
	getsockname(l, (struct sockaddr *)&sin, &len);
	for (int i = 0; i < CLIENTS; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(c[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	for (int i = 0; i < CLIENTS; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (a >= 0) {
			accepted++;
			close(a);
		}
	}
	for (int i = 0; i < CLIENTS; i++)
		close(c[i]);
	fprintf(stderr, "early accepts=%d\n", accepted);
	/* l stays open: a listener of the program's whole life. */
}
