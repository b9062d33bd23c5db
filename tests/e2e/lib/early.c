/*
 * libearly.so - a library whose constructor listens and accepts, run by the
 * loader before the shim's own constructor (it is listed after the shim in
 * LD_PRELOAD: it binds to the shim's wrappers, and is initialized first).
 * Prints "early listen=R accept4=R" on stderr. The listener stays open.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void early(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int lr, ar = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	lr = listen(l, 7);
	getsockname(l, (struct sockaddr *)&sin, &len);
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		ar = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	fprintf(stderr, "early listen=%d accept4=%s\n", lr,
		ar >= 0 ? "ok" : "failed");
	if (ar >= 0)
		close(ar);
	close(c);
	/* l stays open: a listener of the program's whole life. */
}
