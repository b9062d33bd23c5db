/*
 * Whether a listener of another process has TCP_DEFER_ACCEPT set, which
 * sock_diag does not report: a duplicate of its descriptor taken with
 * pidfd_getfd(2), asked with getsockopt and closed. pidfd_getfd needs
 * ptrace-attach permission (same uid and yama's ptrace_scope, or
 * CAP_SYS_PTRACE) but attaches nothing: the target is not stopped, no
 * system call of it is interrupted, TracerPid stays 0.
 */
#ifndef AW_SAMPLE_DEFER_H
#define AW_SAMPLE_DEFER_H

#include <stdint.h>
#include <sys/types.h>

/* A pidfd of pid, or -1 (errno set). The caller checks that pid is still
 * the process it means (start time), then the pidfd pins it. */
int sample_defer_pidfd(pid_t pid);

/*
 * TCP_DEFER_ACCEPT of descriptor fd of the process of pidfd, when that
 * descriptor is still the socket of inode ino: 1 on, 0 off, -1 unknown
 * (refused, gone, or another file now). The duplicate holds the socket
 * open for the microseconds it lives; it is closed before return.
 */
int sample_defer_read(int pidfd, int fd, uint64_t ino);

#endif
