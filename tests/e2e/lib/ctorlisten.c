/*
 * libctorlisten.so - a library whose constructor listens (and closes the
 * listener): run by the loader inside dlopen(), with the loader's lock
 * held, it takes the shim's listen path from there.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void ctor_listen(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0)
		return;
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		listen(l, 3);
	close(l);
}
