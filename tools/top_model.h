/*
 * What one frame of top shows, built before it is drawn: every open
 * listener of the current reading with its window against the reading
 * before (the rates and p99s are over the last interval, not since the
 * listen), its verdicts, and the order the screen lists them in: the most
 * urgent verdict first, then the fullest queue, then the busiest. The
 * screen is report_top's (report.h).
 */
#ifndef AW_TOP_MODEL_H
#define AW_TOP_MODEL_H

#include "recent.h"
#include "report.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>

/* One listener's line, with what it is sorted by. */
struct top_row {
	const struct model_process *p;
	const struct model_listener *l;
	const struct model_listener *before; /* l in the reading before,
						  or NULL */
	struct verdict_window w;
	unsigned int mask; /* verdict_mask: bit k set for verdict k */
	double fill;	   /* queue now / backlog */
	double accepts_s;  /* over the window, 0 without one */
};

struct top_frame {
	const struct report *cur; /* not owned */
	struct top_row *row;	  /* sorted; NULL when out of memory */
	size_t n_rows;
};

/* How a frame is drawn (report_top). */
struct top_screen {
	double interval; /* seconds between frames, for the header */
	int keys;	 /* q is read from a terminal and the frames go to
			    one: say "q quits" (never into a pipe) */
	int width;	 /* lines cut at width columns, 0: no limit */
	int max_rows;	 /* listener rows at most, 0: all */
	int colour;	 /* STATE in colour (ANSI) */
};

/*
 * The frame of reading cur against prev (NULL: none), verdicts judged
 * within recent_ns with mem's bounds. Out of memory, a frame with no
 * rows. f points into cur and prev, which must outlive it. Release with
 * top_frame_free().
 */
void top_frame_build(struct top_frame *f, const struct report *cur,
		     const struct report *prev, const struct recent_table *mem,
		     uint64_t recent_ns);

void top_frame_free(struct top_frame *f);

#endif
