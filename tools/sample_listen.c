/*
 * Exact listener reads. The kernel looks the socket up as an incoming
 * segment would (remote end 0:0), so a listener bound to an address, or
 * to the wildcard, is found in its bucket; the inode tells whether it is
 * the one asked for.
 */
#include "sample_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sample_listen_parse(const char *address, uint8_t *family, uint32_t addr[4])
{
	char ip[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(address, ':');

	memset(addr, 0, 4 * sizeof(*addr));
	if (!colon || colon == address)
		return -1;
	size_t n = (size_t)(colon - address);
	if (address[0] == '[') {
		if (n < 2 || address[n - 1] != ']' || n - 2 >= sizeof(ip))
			return -1;
		memcpy(ip, address + 1, n - 2);
		ip[n - 2] = '\0';
		*family = AF_INET6;
		return inet_pton(AF_INET6, ip, addr) == 1 ? 0 : -1;
	}
	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, address, n);
	ip[n] = '\0';
	*family = AF_INET;
	return inet_pton(AF_INET, ip, addr) == 1 ? 0 : -1;
}

static int request(int nl, uint8_t family, const uint32_t addr[4],
		   uint16_t port)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = 1u << TCP_LISTEN;
	msg.req.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
	msg.req.id.idiag_sport = htons(port);
	memcpy(msg.req.id.idiag_src, addr, sizeof(msg.req.id.idiag_src));
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
		      sizeof(kernel)) < 0
		   ? -1
		   : 0;
}

/* The reply's one message into e. 0 read, 1 not found or not ino. */
static int reply(const struct nlmsghdr *h, size_t len, uint64_t ino,
		 struct sockdiag_entry *e)
{
	if (!NLMSG_OK(h, len) || h->nlmsg_type == NLMSG_ERROR ||
	    h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 1;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->idiag_inode != ino ||
	    m->idiag_state != TCP_LISTEN)
		return 1;
	memset(e, 0, sizeof(*e));
	e->ino = m->idiag_inode;
	e->family = m->idiag_family;
	e->port = ntohs(m->id.idiag_sport);
	e->uid = m->idiag_uid;
	e->rqueue = m->idiag_rqueue;
	e->wqueue = m->idiag_wqueue;
	int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	const struct rtattr *a =
	    (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type != INET_DIAG_SKMEMINFO ||
		    RTA_PAYLOAD(a) < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
			continue;
		const uint32_t *mem = RTA_DATA(a);
		e->drops = mem[SK_MEMINFO_DROPS];
		e->has_drops = 1;
	}
	return 0;
}

int sample_listen_read(int *nl, uint8_t family, const uint32_t addr[4],
		       uint16_t port, uint64_t ino, struct sockdiag_entry *e)
{
	static char buf[8192] __attribute__((aligned(8)));

	if (*nl < 0)
		*nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			     NETLINK_SOCK_DIAG);
	if (*nl < 0)
		return -1;
	ssize_t n;
	if (request(*nl, family, addr, port) == 0) {
		do
			n = recv(*nl, buf, sizeof(buf), 0);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			return reply((const struct nlmsghdr *)buf, (size_t)n,
				     ino, e);
	}
	close(*nl);
	*nl = -1;
	return -1;
}
