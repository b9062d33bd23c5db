/*
 * What check judges, built before anything is printed: every listener of
 * the last reading with its window (the difference from the reading
 * before), its verdicts within the verdict window and those from before
 * it, and the counts the summary and the exit status follow. The
 * renderers (report_check_text, report_check_json in report.h) print a
 * model and decide nothing.
 */
#ifndef AW_CHECK_MODEL_H
#define AW_CHECK_MODEL_H

#include "netstat.h"
#include "recent.h"
#include "report.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>

/* One reading: the report and, per process, its namespace counters. */
struct check_reading {
	struct report r;
	struct netstat_listen *ns; /* r.n_proc entries */
	int *ns_ok;
};

/* One listener of the last reading, judged. */
struct check_row {
	const struct segment_snapshot *p;
	const struct segment_listener *l;
	struct verdict_window w;
	struct verdict *v; /* n verdicts within the window, then nh earlier
			      ones (h); NULL when there are none */
	struct verdict *h;
	int n;
	int nh;
};

struct check_model {
	const struct report *r; /* the last reading's, not owned */
	uint64_t interval_ns;	/* between the readings, 0: one reading */
	uint64_t recent_ns;	/* the verdict window, 0: none */
	struct check_row *row;	/* every listener of r, in r's order */
	size_t n_rows;
	size_t problems;   /* rows with a verdict within the window */
	size_t incomplete; /* processes whose figures miss listeners */
	size_t verdicts[VERDICT_KINDS];
};

/*
 * The model of reading b, against reading a (NULL: none; then the windows
 * are empty), with when each listener's trouble last rose from mem. m
 * points into b, which must outlive it. 0, or -1 when out of memory (m
 * then needs no freeing). Release with check_model_free().
 */
int check_model_build(struct check_model *m, const struct check_reading *a,
		      const struct check_reading *b,
		      const struct recent_table *mem, uint64_t interval_ns,
		      uint64_t recent_ns);

void check_model_free(struct check_model *m);

/* Listeners the shim could not track (table full), or figures it stopped
 * writing (no shared memory): what check says of the rest is incomplete. */
int check_incomplete(const struct segment_snapshot *p);

#endif
