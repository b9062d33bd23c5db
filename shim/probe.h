/*
 * What the shim asks the kernel about a socket or the process. Every call
 * here costs a syscall or more: callers keep them off the common path.
 * Each returns 0 on success, -1 when the kernel would not tell; none of them
 * changes errno as the host sees it (callers restore it).
 */
#ifndef AW_PROBE_H
#define AW_PROBE_H

#include <stddef.h>
#include <stdint.h>

struct aw_sock_id {
	uint64_t dev; /* st_dev, st_ino: names the socket across processes */
	uint64_t ino;
	int family;
	int tcp; /* a TCP socket: TCP_INFO and SO_MEMINFO tell the queue */
};

int aw_probe_identity(int fd, struct aw_sock_id *id);
int aw_probe_is_listener(int fd);

/* Local address as text: "127.0.0.1:80", "[::1]:80", "/run/x.sock". */
void aw_probe_address(int fd, char *out, size_t len);

/* net.core.somaxconn of this process's network namespace, or -1. */
int aw_probe_somaxconn(void);

/* A TCP listener's accept queue: connections in it and its real backlog. */
int aw_probe_queue(int fd, uint32_t *depth, uint32_t *backlog);

/* TCP_DEFER_ACCEPT is set on the listener (apache's default "AcceptFilter
 * http data"): connections without data are kept out of the accept queue. */
int aw_probe_defer_accept(int fd);

/* The descriptor is O_NONBLOCK: its accept loop waits elsewhere (an event
 * loop's epoll_wait or poll), accept() only takes what is there. */
int aw_probe_nonblocking(int fd);

/* SYNs this socket dropped (SK_MEMINFO_DROPS), as `ss -tm` shows. */
int aw_probe_drops(int fd, uint64_t *drops);

/* On a just-accepted TCP socket: ms since the client's last packet. */
int aw_probe_queue_wait_ms(int fd, uint32_t *ms);

/* This process: start time in clock ticks (/proc/self/stat field 22). */
uint64_t aw_probe_start_ticks(void);

#endif
