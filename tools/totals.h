/*
 * Totals per socket across processes: a pre-fork server's children each
 * keep their own figures for the one listening socket they inherited; the
 * socket's identity (st_dev, st_ino) groups them. The one grouping of the
 * reader: which listeners are members of a socket (totals_is_member) and
 * how a member's readings fold into the socket's (totals_socket_add) are
 * decided here for the text and JSON totals (totals_build) and for the
 * Prometheus exposition, which folds members in as it reads them. Pure:
 * unit tested.
 */
#ifndef AW_TOTALS_H
#define AW_TOTALS_H

#include "report.h"

#include <stddef.h>
#include <stdint.h>

/* One listener slot of one process, a member of a socket's total. */
struct totals_member {
	const struct model_process *proc;
	const struct model_listener *l;
};

/*
 * The figures of one socket, summed over its members. Counts (accepts,
 * drained, errors, slow events, full events) are per process and add up;
 * the queue and drops are the socket's own, seen by each member: the
 * largest reading is kept, never a sum.
 */
struct totals_socket {
	uint64_t dev;
	uint64_t ino;
	size_t first; /* members[first .. first + n_members) */
	size_t n_members;
	size_t n_procs; /* distinct processes among the members */
	uint64_t accepts;
	uint64_t drained;
	uint64_t errors[AW_ERR_CLASSES];
	uint64_t slow_events;
	uint64_t full_events;
	uint32_t queue_now;  /* largest live (or sampled) depth */
	uint32_t queue_peak; /* largest peak any member saw */
	uint64_t drops;	     /* largest drop count any member read */
	/* The socket's settings, as its members saw them. */
	uint32_t effective_backlog; /* the first member's */
	int32_t requested_backlog;  /* valid when has_requested */
	int has_requested; /* a member that did not adopt the socket knows
			      the backlog asked for (adopted: unknown) */
	int clamped;	   /* the first member saw the somaxconn clamp */
	int defer;	   /* any member saw TCP_DEFER_ACCEPT */
	int event_loop;	   /* any member is an event loop's: its time
			      between accepts is no time away */
	int all_stalled;   /* every member stalled: none takes connections */
};

struct totals {
	struct totals_member *member; /* grouped by socket, pid order within */
	size_t n_members;
	struct totals_socket *socket; /* by dev, ino */
	size_t n_sockets;
};

/*
 * Whether l is a member of its socket's total: it has a socket identity
 * (ino != 0) and its process still holds it. A closed listener is no
 * member: its process no longer holds the socket (a helper that closes
 * the listeners it inherited), its fd may name a newer listener, and its
 * identity names a socket that may be gone. Its figures stay in its
 * process's own report.
 */
int totals_is_member(const struct model_listener *l);

/* A socket of member l's identity, nothing folded in yet. */
void totals_socket_init(struct totals_socket *s,
			const struct model_listener *l);

/*
 * Fold member l into s. new_proc: l is the first member of its process
 * folded into s. first is left alone (totals_build's index).
 */
void totals_socket_add(struct totals_socket *s, const struct model_listener *l,
		       int new_proc);

/*
 * Group every member listener of r (totals_is_member) by dev+ino.
 * Returns 0, or -1 when out of memory (t then empty). t keeps pointers into
 * r: free t before r. Release with totals_free().
 */
int totals_build(const struct report *r, struct totals *t);

void totals_free(struct totals *t);

/* The socket of t with identity dev+ino, or NULL. */
const struct totals_socket *totals_find(const struct totals *t, uint64_t dev,
					uint64_t ino);

/* The histograms of s's members merged into gap, away and queue_wait
 * (zeroed first). */
void totals_hists(const struct totals *t, const struct totals_socket *s,
		  struct aw_hist *gap, struct aw_hist *away,
		  struct aw_hist *queue_wait);

#endif
