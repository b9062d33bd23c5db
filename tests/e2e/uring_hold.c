/*
 * uring_hold - a listener that also holds an io_uring instance, the way a
 * server that accepts through a ring (IORING_OP_ACCEPT) would, ring mapped:
 * the reader
 * must say it cannot count such accepts. Prints "ready PORT" once
 * listening, or "no-io_uring ERRNO" and exits 3 when the kernel refuses
 * rings; then waits for SIGTERM (at most 60 s) and exits cleanly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct io_uring_params params;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		perror("uring_hold: listen");
		return 1;
	}
	memset(&params, 0, sizeof(params));
	int ring = (int)syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0) {
		printf("no-io_uring %s\n", strerror(errno));
		return 3;
	}
	/* As every ring user (liburing included) does: map the SQ ring. */
	size_t sq = params.sq_off.array + params.sq_entries * sizeof(unsigned);
	if (mmap(NULL, sq, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 ring, IORING_OFF_SQ_RING) == MAP_FAILED) {
		perror("uring_hold: mmap");
		return 1;
	}
	/* Wait for SIGTERM as a signal to take, not to die of: returning
	 * from main runs the exit handlers, the shim's included. */
	sigset_t set;
	struct timespec limit = {.tv_sec = 60};
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	sigtimedwait(&set, NULL, &limit);
	return 0;
}
