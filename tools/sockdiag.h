/*
 * Live kernel readings of TCP (and, asked, Unix-domain) listeners, matched
 * by socket inode: the accept-queue length and drop count as they are
 * while the reader runs, not as the shim last sampled them.
 */
#ifndef AW_SOCKDIAG_H
#define AW_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "255.255.255.255:65535", "[ffff:...:ffff]:65535" */
#define SOCKDIAG_ADDR_LEN 56

struct sockdiag_entry {
	uint64_t ino;
	uint8_t family; /* AF_INET, AF_INET6; AF_UNIX (SOCKDIAG_WITH_UNIX):
			   ino, queues and drops only */
	uint16_t port;
	uint32_t uid;
	char address[SOCKDIAG_ADDR_LEN]; /* as `ss -n` prints it */
	uint32_t rqueue; /* idiag_rqueue: connections in the accept queue */
	uint32_t wqueue; /* idiag_wqueue: the effective backlog */
	uint64_t drops;	 /* SK_MEMINFO_DROPS */
	int has_drops;	 /* the kernel sent SKMEMINFO with the drops field */
};

/* Every TCP listener of the reader's network namespace. Owned by the caller,
 * released with sockdiag_free(). */
struct sockdiag_table {
	struct sockdiag_entry *entry;
	size_t n;
	size_t cap;
	/* entry's indexes sorted by inode, made by the dumps (NULL: none,
	 * and sockdiag_find scans): a reader of 10,000 processes looks up
	 * 10,000 inodes in as many listeners */
	uint32_t *by_ino;
};

/*
 * Fill t with one NETLINK_SOCK_DIAG dump of TCP LISTEN sockets, IPv4 and
 * IPv6. Returns 0, or -1 with a reason in err (t is then empty).
 */
int sockdiag_dump(struct sockdiag_table *t, char *err, size_t errlen);

/* What a dump holds besides TCP listeners: Unix-domain listeners, their
 * rqueue the connections not yet accepted, wqueue the backlog. */
#define SOCKDIAG_WITH_UNIX 1u

/* sockdiag_dump, with the families with asks for too. */
int sockdiag_dump_with(struct sockdiag_table *t, unsigned int with, char *err,
		       size_t errlen);

struct inet_diag_sockid;
struct nlmsghdr;

/* One SOCK_DIAG_BY_FAMILY reply message: 0, or -1 with errno to stop. */
typedef int (*sockdiag_msg_fn)(void *arg, const struct nlmsghdr *h);

/*
 * Read the replies to request seq on fd until NLMSG_DONE, handing each
 * socket's message to fn (others' sequence numbers are skipped). 0, or -1
 * with errno (the kernel's error, a failed recv, or fn's). One buffer per
 * thread.
 */
int sockdiag_replies(int fd, uint32_t seq, sockdiag_msg_fn fn, void *arg);

/*
 * Send one NETLINK_SOCK_DIAG request for TCP sockets of family in the
 * states mask (bit n: state n), asking for attributes ext (bit n-1:
 * attribute n): a dump, or with id the one socket it names. 0, or -1
 * with errno.
 */
int sockdiag_request(int fd, uint8_t family, uint32_t states, uint8_t ext,
		     const struct inet_diag_sockid *id, uint32_t seq);

/*
 * The same dump (with: as sockdiag_dump_with) in the network namespace of
 * process pid (a container's):
 * /proc/PID/ns/net entered by a short-lived thread that makes the netlink
 * socket there. Needs the privilege setns(2) asks (CAP_SYS_ADMIN over the
 * namespace: root on the host). 0, or -1 with a reason in err.
 */
int sockdiag_dump_netns(pid_t pid, unsigned int with, struct sockdiag_table *t,
			char *err, size_t errlen);

/* The entry for socket inode ino, or NULL. */
const struct sockdiag_entry *sockdiag_find(const struct sockdiag_table *t,
					   uint64_t ino);

void sockdiag_free(struct sockdiag_table *t);

/* "1.2.3.4:80" or "[::1]:80" from an inet_diag address (network order). */
void sockdiag_format_addr(char *dst, size_t len, int family,
			  const uint32_t src[4], uint16_t port);

/*
 * Fallback for a process in another network namespace: the accept-queue
 * length of its listener ino from /proc/PID/net/tcp and tcp6 (the rx_queue
 * column of a LISTEN line). Drops are not there. 0, or -1 when not found.
 */
int sockdiag_proc_queue(pid_t pid, uint64_t ino, uint32_t *queue);

/*
 * The owner of the other end of TCP connection fd when that end is a socket
 * of this host and network namespace (a local client: loopback, or one of
 * our own addresses), looked up by its four-tuple. 0 with *uid, or -1 (a
 * remote client, or not TCP).
 */
int sockdiag_peer_uid(int fd, uint32_t *uid);

#endif
