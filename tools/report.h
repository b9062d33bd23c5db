/*
 * What the stat command gathered, and the two ways of printing it.
 */
#ifndef AW_REPORT_H
#define AW_REPORT_H

#include "segment_reader.h"

#include <stddef.h>
#include <stdio.h>

struct report_unreadable {
	char name[SEGMENT_NAME_LEN];
	char reason[SEGMENT_ERR_LEN];
};

struct report {
	struct segment_snapshot *proc; /* in pid order */
	size_t n_proc;
	struct report_unreadable *unreadable;
	size_t n_unreadable;
	size_t skipped_exited; /* segments of exited processes not shown */
	int summary; /* a scan, not asked pids: end with the counts line */
};

/* People: one block per process, one per listener. Unreadable segments
 * are not printed here (the caller puts them on stderr). */
void report_text(FILE *out, const struct report *r);

/* Exactly one JSON object, newline-terminated (see README for fields). */
void report_json(FILE *out, const struct report *r);

/* "eintr", "econnaborted", "emfile", "other". */
const char *report_err_name(unsigned int cls);

#endif
