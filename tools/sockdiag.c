/*
 * Kernel readings of listeners. The netlink dump is what `ss -ltm` shows:
 * for a LISTEN socket, idiag_rqueue is sk_ack_backlog and idiag_wqueue is
 * sk_max_ack_backlog (net/ipv4/tcp_diag.c tcp_diag_get_info), and
 * SK_MEMINFO_DROPS is sk_drops, bumped by tcp_listendrop(). A Unix-domain
 * listener's (`ss -xl`): UNIX_DIAG_RQLEN's udiag_rqueue is the length of
 * its receive queue, which holds the connections not yet accepted, and
 * udiag_wqueue its sk_max_ack_backlog (net/unix/diag.c
 * sk_diag_show_rqlen).
 */
#include "sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* A kernel dump message is at most a page or so; 32 KiB holds a batch. */
#define SOCKDIAG_BUF 32768

static int table_add(struct sockdiag_table *t, const struct sockdiag_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct sockdiag_entry *p = realloc(t->entry, cap * sizeof(*p));
		if (!p)
			return -1;
		t->entry = p;
		t->cap = cap;
	}
	t->entry[t->n++] = *e;
	return 0;
}

/* One SOCK_DIAG_BY_FAMILY request on fd: its header, then req (the
 * family's request structure, len bytes); a dump unless one. 0, or -1
 * with errno. */
static int diag_send(int fd, uint32_t seq, int one, const void *req, size_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr nlh = {
	    .nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
	    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	    .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | (one ? 0 : NLM_F_DUMP)),
	    .nlmsg_seq = seq,
	};
	struct iovec iov[2] = {{&nlh, sizeof(nlh)}, {(void *)req, len}};
	struct msghdr mh = {.msg_name = &kernel,
			    .msg_namelen = sizeof(kernel),
			    .msg_iov = iov,
			    .msg_iovlen = 2};

	return sendmsg(fd, &mh, 0) < 0 ? -1 : 0;
}

static int by_ino_cmp(const void *a, const void *b, void *entries)
{
	const struct sockdiag_entry *e = entries;
	uint64_t x = e[*(const uint32_t *)a].ino;
	uint64_t y = e[*(const uint32_t *)b].ino;
	return (x > y) - (x < y);
}

/* t->by_ino, when memory allows (else lookups scan). */
static void index_table(struct sockdiag_table *t)
{
	if (t->n == 0 || t->n > UINT32_MAX)
		return;
	t->by_ino = malloc(t->n * sizeof(*t->by_ino));
	if (!t->by_ino)
		return;
	for (size_t i = 0; i < t->n; i++)
		t->by_ino[i] = (uint32_t)i;
	qsort_r(t->by_ino, t->n, sizeof(*t->by_ino), by_ino_cmp, t->entry);
}

int sockdiag_request(int fd, uint8_t family, uint32_t states, uint8_t ext,
		     const struct inet_diag_sockid *id, uint32_t seq)
{
	struct inet_diag_req_v2 req;

	memset(&req, 0, sizeof(req));
	req.sdiag_family = family;
	req.sdiag_protocol = IPPROTO_TCP;
	req.idiag_states = states;
	req.idiag_ext = ext;
	if (id)
		req.id = *id;
	return diag_send(fd, seq, id != NULL, &req, sizeof(req));
}

static int send_request(int fd, uint8_t family, uint32_t seq)
{
	/* idiag_ext bit n-1 asks for attribute n. */
	return sockdiag_request(fd, family, 1u << TCP_LISTEN,
				(1u << (INET_DIAG_MEMINFO - 1)) |
				    (1u << (INET_DIAG_SKMEMINFO - 1)),
				NULL, seq);
}

void sockdiag_format_addr(char *dst, size_t len, int family,
			  const uint32_t src[4], uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, src, ip,
		       sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	if (family == AF_INET6)
		snprintf(dst, len, "[%s]:%u", ip, (unsigned int)port);
	else
		snprintf(dst, len, "%s:%u", ip, (unsigned int)port);
}

/* SK_MEMINFO_DROPS of an SKMEMINFO (or UNIX_DIAG_MEMINFO) attribute into
 * e. Older kernels send fewer fields: drops are taken only if there. */
static void meminfo_drops(const struct rtattr *a, struct sockdiag_entry *e)
{
	if (RTA_PAYLOAD(a) < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return;
	const uint32_t *mem = RTA_DATA(a);
	e->drops = mem[SK_MEMINFO_DROPS];
	e->has_drops = 1;
}

/* One inet_diag_msg into an entry; its attributes may carry SKMEMINFO. */
static int parse_msg(struct sockdiag_table *t, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct sockdiag_entry e = {0};

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	e.ino = m->idiag_inode;
	e.family = m->idiag_family;
	e.port = ntohs(m->id.idiag_sport);
	e.uid = m->idiag_uid;
	sockdiag_format_addr(e.address, sizeof(e.address), e.family,
			     m->id.idiag_src, e.port);
	e.rqueue = m->idiag_rqueue;
	e.wqueue = m->idiag_wqueue;

	int len = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	const struct rtattr *a =
	    (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == INET_DIAG_SKMEMINFO)
			meminfo_drops(a, &e);
	return table_add(t, &e);
}

/* A dump of the Unix-domain listeners (any type), with their queue and
 * memory readings. 0, or -1 with errno. */
static int unix_request(int fd, uint32_t seq)
{
	struct unix_diag_req req;

	memset(&req, 0, sizeof(req));
	req.sdiag_family = AF_UNIX;
	req.udiag_states = 1u << TCP_LISTEN;
	req.udiag_show = UDIAG_SHOW_RQLEN | UDIAG_SHOW_MEMINFO;
	return diag_send(fd, seq, 0, &req, sizeof(req));
}

/* One unix_diag_msg into table arg, when it carries the queue reading
 * (a listener without one is left to the fallbacks). 0, or -1 (ENOMEM). */
static int unix_msg(void *arg, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct sockdiag_entry e = {0};
	int have_queue = 0;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	e.ino = m->udiag_ino;
	e.family = AF_UNIX;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	const struct rtattr *a =
	    (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_MEMINFO)
			meminfo_drops(a, &e);
		if (a->rta_type != UNIX_DIAG_RQLEN ||
		    RTA_PAYLOAD(a) < sizeof(struct unix_diag_rqlen))
			continue;
		const struct unix_diag_rqlen *q = RTA_DATA(a);
		e.rqueue = q->udiag_rqueue;
		e.wqueue = q->udiag_wqueue;
		have_queue = 1;
	}
	if (!have_queue || table_add(arg, &e) == 0)
		return 0;
	errno = ENOMEM;
	return -1;
}

int sockdiag_replies(int fd, uint32_t seq, sockdiag_msg_fn fn, void *arg)
{
	/* A thread of its own each: serve samples the host on one thread
	 * while its HTTP thread reads segments and the kernel. */
	static _Thread_local char buf[SOCKDIAG_BUF] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				errno = e->error ? -e->error : EPROTO;
				return -1;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && fn(arg, h))
				return -1;
		}
	}
}

/* One socket of a listener dump into table arg: 0, or -1 (ENOMEM). */
static int add_msg(void *arg, const struct nlmsghdr *h)
{
	if (parse_msg(arg, h) == 0)
		return 0;
	errno = ENOMEM;
	return -1;
}

/* The dump over netlink socket fd, which it closes. with
 * SOCKDIAG_WITH_UNIX: the Unix listeners too, when the kernel gives them
 * (without unix_diag the TCP readings stand alone). */
static int dump_fd(int fd, unsigned int with, struct sockdiag_table *t,
		   char *err, size_t errlen)
{
	static const uint8_t family[] = {AF_INET, AF_INET6};

	for (size_t i = 0; i < sizeof(family); i++) {
		uint32_t seq = (uint32_t)i + 1;
		if (send_request(fd, family[i], seq) ||
		    sockdiag_replies(fd, seq, add_msg, t)) {
			snprintf(err, errlen, "netlink sock_diag dump: %s",
				 strerror(errno));
			close(fd);
			sockdiag_free(t);
			return -1;
		}
	}
	if ((with & SOCKDIAG_WITH_UNIX) &&
	    (unix_request(fd, 3) || sockdiag_replies(fd, 3, unix_msg, t)) &&
	    errno == ENOMEM) {
		snprintf(err, errlen, "netlink sock_diag dump: %s",
			 strerror(errno));
		close(fd);
		sockdiag_free(t);
		return -1;
	}
	close(fd);
	index_table(t);
	return 0;
}

int sockdiag_dump(struct sockdiag_table *t, char *err, size_t errlen)
{
	return sockdiag_dump_with(t, 0, err, errlen);
}

int sockdiag_dump_with(struct sockdiag_table *t, unsigned int with, char *err,
		       size_t errlen)
{
	memset(t, 0, sizeof(*t));
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		snprintf(err, errlen, "netlink sock_diag: %s", strerror(errno));
		return -1;
	}
	return dump_fd(fd, with, t, err, errlen);
}

struct netns_socket {
	int nsfd;
	int fd;	 /* the netlink socket made there, -1 none */
	int err; /* errno of setns or socket */
	const char *what;
};

/* A thread of its own enters the namespace and makes the socket there:
 * the socket keeps that namespace, and the thread, with its namespace,
 * ends here, so no thread of the reader ever runs elsewhere. */
static void *netns_socket_thread(void *arg)
{
	struct netns_socket *a = arg;

	if (setns(a->nsfd, CLONE_NEWNET)) {
		a->err = errno;
		a->what = "setns";
		return NULL;
	}
	a->fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (a->fd < 0) {
		a->err = errno;
		a->what = "netlink sock_diag";
	}
	return NULL;
}

int sockdiag_dump_netns(pid_t pid, unsigned int with, struct sockdiag_table *t,
			char *err, size_t errlen)
{
	char path[64];
	struct netns_socket a = {.nsfd = -1, .fd = -1};
	pthread_t th;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	a.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (a.nsfd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int ret = pthread_create(&th, NULL, netns_socket_thread, &a);
	if (ret == 0)
		pthread_join(th, NULL);
	close(a.nsfd);
	if (ret) {
		snprintf(err, errlen, "a thread to enter %s: %s", path,
			 strerror(ret));
		return -1;
	}
	if (a.fd < 0) {
		snprintf(err, errlen, "%s into pid %d's network namespace: %s",
			 a.what, (int)pid, strerror(a.err));
		return -1;
	}
	return dump_fd(a.fd, with, t, err, errlen);
}

const struct sockdiag_entry *sockdiag_find(const struct sockdiag_table *t,
					   uint64_t ino)
{
	if (!t->by_ino) {
		for (size_t i = 0; i < t->n; i++)
			if (t->entry[i].ino == ino)
				return &t->entry[i];
		return NULL;
	}
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sockdiag_entry *e = &t->entry[t->by_ino[mid]];
		if (e->ino == ino)
			return e;
		if (e->ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void sockdiag_free(struct sockdiag_table *t)
{
	free(t->entry);
	free(t->by_ino);
	memset(t, 0, sizeof(*t));
}

/*
 * One line of /proc/net/tcp{,6}:
 *   sl local rem st tx_queue:rx_queue tr:when retr uid timeout inode ...
 * For a LISTEN socket (st 0A) rx_queue is sk_ack_backlog
 * (net/ipv4/tcp_ipv4.c get_tcp4_sock). 1 matched, 0 not.
 */
static int parse_tcp_line(const char *line, uint64_t ino, uint32_t *queue)
{
	unsigned int st, tx, rx;
	unsigned long long inode;

	if (sscanf(line, "%*s %*s %*s %x %x:%x %*s %*s %*s %*s %llu", &st, &tx,
		   &rx, &inode) != 4)
		return 0;
	if (st != TCP_LISTEN || inode != ino)
		return 0;
	*queue = rx;
	return 1;
}

static int proc_file_queue(const char *path, uint64_t ino, uint32_t *queue)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = parse_tcp_line(line, ino, queue);
	fclose(f);
	return found;
}

int sockdiag_proc_queue(pid_t pid, uint64_t ino, uint32_t *queue)
{
	static const char *const file[] = {"tcp", "tcp6"};
	char path[64];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid,
			 file[i]);
		if (proc_file_queue(path, ino, queue))
			return 0;
	}
	return -1;
}

/* addr (v4-mapped IPv6 made IPv4) into family, the 16 address bytes of
 * inet_diag and the port (network order). 0, or -1 for another family. */
static int diag_addr(const struct sockaddr_storage *ss, uint8_t *family,
		     uint32_t out[4], uint16_t *port)
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		*family = AF_INET;
		memcpy(out, &s4->sin_addr, 4);
		*port = s4->sin_port;
		return 0;
	}
	if (ss->ss_family != AF_INET6)
		return -1;
	const struct sockaddr_in6 *s6 = (const void *)ss;
	*port = s6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		*family = AF_INET;
		memcpy(out, s6->sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	*family = AF_INET6;
	memcpy(out, &s6->sin6_addr, 16);
	return 0;
}

int sockdiag_peer_uid(int fd, uint32_t *uid)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof(local), pl = sizeof(peer);
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	uint8_t family, family2;
	union {
		char buf[8192];
		struct nlmsghdr align;
	} reply;

	if (getsockname(fd, (struct sockaddr *)&local, &ll) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl))
		return -1;
	memset(&msg, 0, sizeof(msg));
	/* The client's socket: its source is our peer, its peer is us. */
	if (diag_addr(&peer, &family, msg.req.id.idiag_src,
		      &msg.req.id.idiag_sport) ||
	    diag_addr(&local, &family2, msg.req.id.idiag_dst,
		      &msg.req.id.idiag_dport) ||
	    family != family2)
		return -1;
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	int nl =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	ssize_t n = -1;
	if (sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) == (ssize_t)sizeof(msg))
		do
			n = recv(nl, reply.buf, sizeof(reply.buf), 0);
		while (n < 0 && errno == EINTR);
	close(nl);
	const struct nlmsghdr *h = &reply.align;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct inet_diag_msg)) ||
	    !NLMSG_OK(h, (int)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -1; /* NLMSG_ERROR: no such socket here */
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	*uid = m->idiag_uid;
	return 0;
}
