/*
 * Totals per socket across processes: a pre-fork server's children each
 * keep their own figures for the one listening socket they inherited; the
 * socket's identity (st_dev, st_ino) groups them. Pure: unit tested.
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
};

struct totals {
	struct totals_member *member; /* grouped by socket, pid order within */
	size_t n_members;
	struct totals_socket *socket; /* by dev, ino */
	size_t n_sockets;
};

/*
 * Group every listener of r with a socket identity (ino != 0) by dev+ino.
 * Returns 0, or -1 when out of memory (t then empty). t keeps pointers into
 * r: free t before r. Release with totals_free().
 */
int totals_build(const struct report *r, struct totals *t);

void totals_free(struct totals *t);

/* The histograms of s's members merged into gap, away and queue_wait
 * (zeroed first). */
void totals_hists(const struct totals *t, const struct totals_socket *s,
		  struct aw_hist *gap, struct aw_hist *away,
		  struct aw_hist *queue_wait);

#endif
