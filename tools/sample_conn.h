/*
 * The connections waiting in a listener's accept queue, seen from outside:
 * a sock_diag dump of ESTABLISHED and CLOSE_WAIT sockets on the listener's
 * port. One with inode 0 belongs to no process yet: it is in the queue.
 * Each is tracked in a table keyed by its 4-tuple (uthash) from first
 * sight until it is accepted (an inode appears) or leaves the dump (taken
 * and closed between two dumps, or reset): then the caller hears of it
 * with its arrival (first sight minus tcpi_last_ack_recv, the handshake's
 * last ACK or the client's first data) and the time it left (the midpoint
 * between the last dump that saw it queued and the first that did not).
 * Waits shorter than the dump period may never be seen at all.
 */
#ifndef AW_SAMPLE_CONN_H
#define AW_SAMPLE_CONN_H

#include <stddef.h>
#include <stdint.h>

/* A listener to track connections of: its port (host order). */
struct sample_conn_port {
	uint16_t port;
	int listener; /* the caller's index, handed back */
};

/* A queued connection left the queue: queued since arrival_ns, left at
 * left_ns (CLOCK_MONOTONIC). */
typedef void (*sample_conn_left_fn)(void *ctx, int listener,
				    uint64_t arrival_ns, uint64_t left_ns);

struct sample_conn;

struct sample_conn_table {
	struct sample_conn *head; /* uthash */
	size_t queued;		  /* entries now in the table */
	uint64_t gen;		  /* dumps taken */
	uint64_t last_dump_ns;	  /* CLOCK_MONOTONIC of the last dump */
	uint64_t dump_ns_total;	  /* time spent in dumps */
	uint64_t dump_ns_max;
	uint64_t lost; /* connections not tracked: out of memory */
	int fd;	       /* NETLINK_SOCK_DIAG, -1 until first use */
};

void sample_conn_init(struct sample_conn_table *t);
void sample_conn_free(struct sample_conn_table *t);

/*
 * One dump at now_ns: new queued connections of the ports enter the
 * table, those accepted or gone leave it through left(). 0, or -1 with a
 * reason in err: the accepted ones seen so far were reported, none is
 * taken for gone.
 */
int sample_conn_dump(struct sample_conn_table *t,
		     const struct sample_conn_port *ports, size_t n_ports,
		     uint64_t now_ns, sample_conn_left_fn left, void *ctx,
		     char *err, size_t errlen);

/* Forget every tracked connection without reporting it (a listener's
 * port went away). */
void sample_conn_clear(struct sample_conn_table *t);

#endif
