/*
 * Connection tracking for watch. The kernel walks its whole established
 * hash for each dump whatever the request asks (1-3 ms on a busy host),
 * so the caller dumps only while a listener's queue is not empty.
 */
#include "sample_conn.h"

#include "sockdiag.h"

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
#include <time.h>
#include <unistd.h>

/* uthash exits the process when memory runs out unless told otherwise:
 * a connection that cannot be added is counted as lost instead. Only the
 * dump's thread touches the flag. */
static int oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = 1)
#include <uthash.h>

struct conn_key {
	uint32_t family;
	uint16_t lport, rport;
	uint32_t laddr[4], raddr[4];
};

struct sample_conn {
	struct conn_key key;
	uint64_t arrival_ns;
	uint64_t last_queued_ns;
	uint64_t seen_gen;
	int listener;
	UT_hash_handle hh;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sample_conn_init(struct sample_conn_table *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void sample_conn_clear(struct sample_conn_table *t)
{
	struct sample_conn *c, *tmp;

	HASH_ITER(hh, t->head, c, tmp)
	{
		HASH_DEL(t->head, c);
		free(c);
	}
	t->queued = 0;
}

void sample_conn_free(struct sample_conn_table *t)
{
	sample_conn_clear(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static int send_request(int fd, uint8_t family, uint32_t seq)
{
	return sockdiag_request(
	    fd, family, (1u << TCP_ESTABLISHED) | (1u << TCP_CLOSE_WAIT),
	    1u << (INET_DIAG_INFO - 1), NULL, seq);
}

static int port_listener(const struct sample_conn_port *ports, size_t n,
			 uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i].port == port)
			return ports[i].listener;
	return -1;
}

/* tcpi_last_ack_recv (ms) from the message's INET_DIAG_INFO, or 0. */
static uint32_t last_ack_ms(const struct nlmsghdr *nlh,
			    const struct inet_diag_msg *m)
{
	int len = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	const struct rtattr *a =
	    (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != INET_DIAG_INFO)
			continue;
		size_t need = offsetof(struct tcp_info, tcpi_last_ack_recv) +
			      sizeof(uint32_t);
		if (RTA_PAYLOAD(a) < need)
			return 0;
		struct tcp_info ti;
		memset(&ti, 0, sizeof(ti));
		memcpy(&ti, RTA_DATA(a),
		       RTA_PAYLOAD(a) < sizeof(ti) ? RTA_PAYLOAD(a)
						   : sizeof(ti));
		return ti.tcpi_last_ack_recv;
	}
	return 0;
}

struct dump_ctx {
	struct sample_conn_table *t;
	const struct sample_conn_port *ports;
	size_t n_ports;
	uint64_t now_ns;
	sample_conn_left_fn left;
	void *cb_ctx;
};

/* One socket of the dump: a queued one is tracked (or its sight renewed),
 * an accepted one that was queued leaves the table. */
static void see(struct dump_ctx *d, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct conn_key k;
	struct sample_conn *c;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return;
	int listener =
	    port_listener(d->ports, d->n_ports, ntohs(m->id.idiag_sport));
	if (listener < 0)
		return;
	memset(&k, 0, sizeof(k)); /* uthash compares the key's bytes */
	k.family = m->idiag_family;
	k.lport = m->id.idiag_sport;
	k.rport = m->id.idiag_dport;
	memcpy(k.laddr, m->id.idiag_src, sizeof(k.laddr));
	memcpy(k.raddr, m->id.idiag_dst, sizeof(k.raddr));
	HASH_FIND(hh, d->t->head, &k, sizeof(k), c);
	if (m->idiag_inode != 0) {
		if (c) { /* accepted since the last dump */
			d->left(d->cb_ctx, c->listener, c->arrival_ns,
				(c->last_queued_ns + d->now_ns) / 2);
			HASH_DEL(d->t->head, c);
			free(c);
			d->t->queued--;
		}
		return;
	}
	if (c) {
		c->seen_gen = d->t->gen;
		c->last_queued_ns = d->now_ns;
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		d->t->lost++;
		return;
	}
	c->key = k;
	uint64_t ago = (uint64_t)last_ack_ms(nlh, m) * 1000000ull;
	c->arrival_ns = ago < d->now_ns ? d->now_ns - ago : 0;
	c->last_queued_ns = d->now_ns;
	c->seen_gen = d->t->gen;
	c->listener = listener;
	oom = 0;
	HASH_ADD(hh, d->t->head, key, sizeof(c->key), c);
	if (oom) {
		free(c);
		d->t->lost++;
		return;
	}
	d->t->queued++;
}

static int see_msg(void *arg, const struct nlmsghdr *h)
{
	see(arg, h);
	return 0;
}

/* Queued entries this dump did not see: taken and closed, or reset. */
static void sweep(struct dump_ctx *d)
{
	struct sample_conn *c, *tmp;

	HASH_ITER(hh, d->t->head, c, tmp)
	{
		/* HASH_ITER sets c before the body: cppcheck cannot see it. */
		// cppcheck-suppress uninitvar
		if (c->seen_gen == d->t->gen)
			continue;
		d->left(d->cb_ctx, c->listener, c->arrival_ns,
			(c->last_queued_ns + d->now_ns) / 2);
		HASH_DEL(d->t->head, c);
		free(c);
		d->t->queued--;
	}
}

int sample_conn_dump(struct sample_conn_table *t,
		     const struct sample_conn_port *ports, size_t n_ports,
		     uint64_t now_ns, sample_conn_left_fn left, void *ctx,
		     char *err, size_t errlen)
{
	static const uint8_t family[] = {AF_INET, AF_INET6};
	struct dump_ctx d = {t, ports, n_ports, now_ns, left, ctx};
	uint64_t start = mono_ns();

	if (t->fd < 0)
		t->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			       NETLINK_SOCK_DIAG);
	if (t->fd < 0) {
		snprintf(err, errlen, "netlink sock_diag: %s", strerror(errno));
		return -1;
	}
	t->gen++;
	for (size_t i = 0; i < sizeof(family); i++) {
		uint32_t seq = (uint32_t)(t->gen * 2 + i);
		if (send_request(t->fd, family[i], seq) ||
		    sockdiag_replies(t->fd, seq, see_msg, &d)) {
			snprintf(err, errlen, "netlink connection dump: %s",
				 strerror(errno));
			/* A half-read reply would confuse the next dump. */
			close(t->fd);
			t->fd = -1;
			return -1;
		}
	}
	sweep(&d);
	uint64_t took = mono_ns() - start;
	t->dump_ns_total += took;
	if (took > t->dump_ns_max)
		t->dump_ns_max = took;
	t->last_dump_ns = now_ns;
	return 0;
}
