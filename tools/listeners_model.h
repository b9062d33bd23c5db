/*
 * What listeners shows, built before anything is printed: every listening
 * TCP socket of the reader's network namespace (NETLINK_SOCK_DIAG), the
 * processes that hold each one (socket inodes under /proc/PID/fd), and,
 * where such a process runs the shim, its segment's listener and verdicts.
 * The renderers (report_listeners_text, report_listeners_json in
 * report.h) print a model and decide nothing.
 */
#ifndef AW_LISTENERS_MODEL_H
#define AW_LISTENERS_MODEL_H

#include "live.h"
#include "recent.h"
#include "segment_reader.h"
#include "sockdiag.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A process holding a listener, and what its segment says about it. */
struct listeners_owner {
	pid_t pid;
	char comm[AW_COMM_LEN + 1];
	const struct model_process *snap; /* NULL: no readable segment */
	const struct model_listener *l;	  /* NULL: not in the segment */
	unsigned bypass; /* bypass_kind bits: what LD_PRELOAD cannot see */
	int stopped;	 /* SIGSTOP'd or traced: no thread of it can accept */
	/* l's verdicts within the window, most urgent first (none without
	 * l). */
	enum verdict_kind verdict[VERDICT_KINDS];
	int n_verdicts;
};

struct listeners_row {
	const struct sockdiag_entry *e;
	struct listeners_owner *owner;
	size_t n_owner;
	/* The owner whose segment speaks for the socket: the first with a
	 * problem, else the last under the shim; NULL when none is. */
	const struct listeners_owner *speaker;
	/* No segment speaks, connections wait, and every holder is stopped
	 * (a pre-fork pool whose workers never accepted has no segment, a
	 * daemon's master none either): none of them can take one. */
	int stalled_by_holders;
};

/* Segments read so far, one attempt per pid. */
struct listeners_cache {
	pid_t *pid;
	struct model_process **snap; /* NULL when unreadable */
	size_t n;
};

struct listeners_model {
	struct sockdiag_table table;
	struct listeners_row *row; /* one per table entry, by port */
	size_t n_rows;
	size_t with_shim;	/* rows with an owner under the shim */
	size_t proc_seen;	/* /proc/PID/fd directories read */
	size_t proc_unreadable; /* those we may not read */
	/* Building only: the segments the owners point into, the kernel's
	 * live view, and when each listener's trouble last rose (check's
	 * state file, then each snapshot as it is taken). */
	struct listeners_cache cache;
	struct live_context live;
	struct recent_table mem;
	uint64_t recent_ns; /* the verdict window, 0: all history */
};

/*
 * The model, verdicts judged within recent_ns as check's are. 0, or -1
 * with the reason in err (one line, no prefix). Release m with
 * listeners_model_free() either way.
 */
int listeners_model_build(struct listeners_model *m, uint64_t recent_ns,
			  char *err, size_t errlen);

void listeners_model_free(struct listeners_model *m);

#endif
