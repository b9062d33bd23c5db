/*
 * The reader's memory of when each listener's trouble last rose, across
 * readings (top's frames) and across runs (check's state file), for the
 * verdict window (verdict.h). The segment counts since the listen but
 * does not say when: a reading bounds the time of the last rise (at the
 * latest the shim's last probe), and a counter that has not moved since an
 * earlier reading rose before that reading. Remembering the bound of the
 * reading where a counter last moved is what lets an overflow age out of
 * the window on a server that keeps accepting (whose probes stay fresh).
 */
#ifndef AW_RECENT_H
#define AW_RECENT_H

#include "report.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>

struct recent_entry {
	/* Which listener: the process (pid and start) and the socket. */
	int32_t pid;
	uint64_t start_ticks;
	uint64_t start_real_ns;
	uint32_t slot;
	uint64_t dev;
	uint64_t ino;
	/* The counters as last seen. */
	uint64_t full_events;
	uint64_t drops;
	uint64_t slow_events;
	uint64_t queue_peak;
	/* The latest each can have last risen (CLOCK_MONOTONIC), 0 never. */
	uint64_t overflow_last_ns;
	uint64_t slow_last_ns;
	uint64_t peak_last_ns;
	uint64_t seen_ns; /* the reading that last saw it */
};

struct recent_table {
	struct recent_entry *e;
	size_t n, cap;
};

void recent_init(struct recent_table *t);
void recent_free(struct recent_table *t);

/* Every listener of r into the table: a new one with its reading's
 * bounds, a known one moved on where its counters rose. 0, or -1 when
 * out of memory (the table stays usable). */
int recent_update(struct recent_table *t, const struct report *r);

/* The same for the listeners of one snapshot (of a live process). */
int recent_update_snapshot(struct recent_table *t,
			   const struct model_process *p);

/* The remembered *_last_ns of listener l of p into w (0 when unknown). */
void recent_apply(const struct recent_table *t, const struct model_process *p,
		  const struct model_listener *l, struct verdict_window *w);

/*
 * The default state file: $XDG_STATE_HOME/acceptwatch/check.state, else
 * $HOME/.local/state/acceptwatch/check.state. 0, or -1 when neither is set
 * (absolute).
 */
int recent_default_path(char *dst, size_t len);

/*
 * Read a state file into t (added to what it holds). A missing file is an
 * empty memory (0). A file that is not a regular file owned by this user,
 * or not a state file, is refused: -1 with a one-line reason in err.
 */
int recent_load(struct recent_table *t, const char *path, char *err,
		size_t errlen);

/*
 * Write t to path atomically (a temporary in the same directory, renamed
 * over it; directories created 0700), leaving out listeners not seen for
 * a day. 0, or -1 with err.
 */
int recent_save(const struct recent_table *t, const char *path,
		uint64_t now_mono_ns, char *err, size_t errlen);

#endif
