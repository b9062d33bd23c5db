/*
 * Gathering snapshots for a report: every segment of a live process (or of
 * every process with `all`), or the pids asked, each with the kernel's live
 * readings applied. Shared by stat, check, top and listeners.
 */
#ifndef AW_GATHER_H
#define AW_GATHER_H

#include "report.h"

#include <stddef.h>
#include <sys/types.h>

struct gather_opts {
	const pid_t *pids; /* asked pids, or NULL: scan SEGMENT_DIR */
	size_t n_pids;
	int all;      /* scan: include segments of exited processes */
	int no_names; /* frames stay module+0xOFF: no module file is opened
		       * (serve, the exposition, top: they show no names) */
};

/* gather_report: the answer lacks a segment that had to be read. */
#define GATHER_INCOMPLETE 1

/*
 * Fill r (zeroed first) as the options say. Prints nothing. Returns 0;
 * GATHER_INCOMPLETE when an asked pid has no readable segment or a scanned
 * one is forged; or -1 when the scan itself failed, the reason in err (one
 * line, no prefix). Every segment that could not be read is in
 * r->unreadable with its reason, and r holds what could be read whatever
 * the return. Release r with gather_free().
 */
int gather_report(struct report *r, const struct gather_opts *o, char *err,
		  size_t errlen);

/*
 * The same, but each snapshot (with the kernel's readings) goes to fn, in
 * the order gather_report would list it, and is freed when fn returns: r
 * keeps the counts and the unreadable segments, r->proc stays NULL, and
 * memory holds a batch of snapshots at most, however many processes run.
 * fn returns 0, or -1 to stop (out of memory: the rest is not read).
 */
typedef int (*gather_fn)(void *arg, const struct model_process *snap);
int gather_each(struct report *r, const struct gather_opts *o, gather_fn fn,
		void *arg, char *err, size_t errlen);

void gather_free(struct report *r);

/* A positive decimal pid, or 0. */
pid_t gather_parse_pid(const char *arg);

/*
 * The pids in argv[first..argc-1], into a heap array (NULL when none).
 * 0, or -1 with the reason in err (which argument is not a pid).
 */
int gather_parse_pids(int argc, char **argv, int first, pid_t **pids, size_t *n,
		      char *err, size_t errlen);

/* The process of r with pid's snapshot (same pid, same start), or NULL. */
const struct model_process *gather_find(const struct report *r,
					const struct model_process *p);

/* The listener of p in the same slot naming the same socket, or NULL. */
const struct model_listener *
gather_find_listener(const struct model_process *p,
		     const struct model_listener *l);

#endif
