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
	int incomplete; /* an asked segment missing or unreadable, or the
			   scan failed: what is not in r was not judged */
};

/*
 * check's exit status, the monitoring-plugins convention: OK, WARNING
 * (the worst verdict is a warning), CRITICAL (a critical verdict),
 * UNKNOWN (nothing was judged, or part of what should have been was not:
 * a segment unreadable, listeners the shim could not follow). A verdict
 * found outranks UNKNOWN, as in the plugins' max_state_alt: CRITICAL >
 * WARNING > UNKNOWN > OK.
 */
enum check_status {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

/* "OK", "WARNING", "CRITICAL", "UNKNOWN"; check_status_key: lower case. */
const char *check_status_name(enum check_status s);
const char *check_status_key(enum check_status s);

/*
 * Verdicts the operator accepts (--ignore KIND[@ADDR]): they are shown as
 * accepted and neither count as problems nor set the status. addr "" is
 * every listener; else the listener's address exactly as check prints it
 * ("0.0.0.0:80", "[::]:443", "/run/app.sock").
 */
#define CHECK_MAX_IGNORES 64

struct check_ignore {
	enum verdict_kind kind;
	char addr[AW_ADDR_LEN + 1];
};

struct check_ignores {
	struct check_ignore rule[CHECK_MAX_IGNORES];
	size_t n;
};

/* Adds the rule spelled arg ("clamped", "backlog_small@0.0.0.0:80") to
 * list. 0, or -1 with a one-line reason in err. */
int check_ignore_parse(struct check_ignores *list, const char *arg, char *err,
		       size_t len);

/* One listener of the last reading, judged. */
struct check_row {
	const struct model_process *p;
	const struct model_listener *l;
	struct verdict_window w;
	struct verdict *v; /* n verdicts within the window, then nh earlier
			      ones (h); NULL when there are none */
	struct verdict *h;
	struct verdict *acc; /* na verdicts within the window the operator
				accepted (--ignore), after h */
	int n;
	int nh;
	int na;
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
	size_t accepted;	  /* verdicts accepted by --ignore */
	enum check_status status; /* what the exit status says */
	const char *unknown_why;  /* when status would be UNKNOWN without a
				     verdict: why (static text), else NULL */
	int per_process; /* text: a block per process (--per-process); else
			    the identical blocks of one socket's processes
			    share one (report_check.c) */
};

/*
 * The model of reading b, against reading a (NULL: none; then the windows
 * are empty), with when each listener's trouble last rose from mem, and
 * the verdicts ign accepts (NULL: none). m points into b, which must
 * outlive it. 0, or -1 when out of memory (m then needs no freeing).
 * Release with check_model_free().
 */
int check_model_build(struct check_model *m, const struct check_reading *a,
		      const struct check_reading *b,
		      const struct recent_table *mem, uint64_t interval_ns,
		      uint64_t recent_ns, const struct check_ignores *ign);

void check_model_free(struct check_model *m);

/* Listeners the shim could not track (table full), or figures it stopped
 * writing (no shared memory): what check says of the rest is incomplete. */
int check_incomplete(const struct model_process *p);

#endif
