/* TCP_DEFER_ACCEPT of another process's listener (sample_defer.h). */
#include "sample_defer.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sample_defer_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

int sample_defer_read(int pidfd, int fd, uint64_t ino)
{
#ifdef SYS_pidfd_getfd
	struct stat st;
	int secs = 0, on = -1;
	socklen_t len = sizeof(secs);

	if (pidfd < 0 || fd < 0)
		return -1;
	int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (dup < 0)
		return -1;
	/* The descriptor may name another file since it was listed. */
	if (fstat(dup, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (uint64_t)st.st_ino == ino &&
	    getsockopt(dup, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, &len) == 0)
		on = secs > 0;
	close(dup);
	return on;
#else
	(void)pidfd;
	(void)fd;
	(void)ino;
	return -1;
#endif
}
