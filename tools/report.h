/*
 * The renderers: what stat gathered (struct report) as text, JSON or the
 * Prometheus format, and the models of check and listeners as text or
 * JSON. Every JSON document the reader prints is written here, from a
 * model; a renderer decides nothing the model does not say.
 */
#ifndef AW_REPORT_H
#define AW_REPORT_H

#include "model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct report_unreadable {
	char name[SEGMENT_NAME_LEN];
	char reason[SEGMENT_ERR_LEN];
};

struct report {
	struct model_process *proc; /* in pid order */
	size_t n_proc;
	struct report_unreadable *unreadable;
	size_t n_unreadable;
	size_t skipped_exited; /* segments of exited processes not shown */
	int summary;	 /* a scan, not asked pids: end with the counts line */
	int per_process; /* text: a block per process (--per-process), not
			    one per socket shared by several */
};

/* People: a block per process, one per listener in it, but a socket held
 * by several processes (pre-fork workers) gets one block of its own, its
 * processes on one line, and a process with nothing else to say none;
 * per_process: a block per process, then each shared socket's total.
 * Unreadable segments are not printed here (report_text_unreadable puts
 * them on stderr). */
void report_text(FILE *out, const struct report *r);

/* Each listener's distributions (gap, away, queue wait) as bars in the
 * layout of bpftrace's hist(), then each socket's held by several
 * processes (report_hist.c); stat --hist and watch --hist. */
void report_hist(FILE *out, const struct report *r);

/* Each unreadable segment of r, one aw_error line: "NAME: REASON". */
void report_text_unreadable(const struct report *r);

/* The "schema" field of every JSON document the reader prints (stat,
 * check, listeners): raised when a field changes meaning. 2: strings keep
 * their UTF-8, the *_ms twins of nanosecond figures past 2^53. */
#define REPORT_JSON_SCHEMA 2

/* Exactly one JSON object, newline-terminated (see README for fields). */
void report_json(FILE *out, const struct report *r);

/*
 * A call-site stack for people: "<indent><title>:" then one frame a line,
 * indented two more, each made printable. Nothing when text is NULL.
 */
void report_text_stack(FILE *out, const char *indent, const char *title,
		       const char *text);

/* A stack as a JSON array of frame strings, or null when text is NULL. */
void report_json_frames(FILE *out, const char *text);

/* A JSON string of at most len bytes of s (cut at a NUL). */
void report_json_str(FILE *out, const char *s, size_t len);

/* "unreadable":[{"name":...,"reason":...},...]: r's unreadable segments. */
void report_json_unreadable(FILE *out, const struct report *r);

struct check_model;

/* check's verdicts for people: a block per listener, then the summary
 * line (report_check.c). */
void report_check_text(FILE *out, const struct check_model *m);

/* check's verdicts as exactly one JSON object, newline-terminated. */
void report_check_json(FILE *out, const struct check_model *m);

struct watch_model;

/* watch's report for people: each process as stat shows it, then its
 * threads' shares, what the samples cannot tell, and the verdicts
 * (report_watch.c). */
void report_watch_text(FILE *out, const struct watch_model *m);

/* ,"sampled":{...}: the thread breakdown, verdicts and notes of a
 * sampled snapshot (p->sampled set), inside its process object. */
void report_json_sampled(FILE *out, const struct model_process *p);

struct listeners_model;

/* Every listening socket, a line each, then the counts line
 * (report_listeners.c). */
void report_listeners_text(FILE *out, const struct listeners_model *m);

/* The same as exactly one JSON object, newline-terminated. */
void report_listeners_json(FILE *out, const struct listeners_model *m);

struct top_frame;
struct top_screen;

/* One frame of top as plain text: the header, a line per listener
 * (report_top.c). */
void report_top(FILE *out, const struct top_frame *f,
		const struct top_screen *s);

/*
 * The Prometheus text format (README: Monitoring with Prometheus), built
 * a process at a time and read a piece at a time (report_prom.c): socket
 * series once per socket; process series summed per socket without pid
 * labels, or, by_process, once per process and listener.
 */
struct prom_doc;

/* An empty exposition, or NULL when out of memory. */
struct prom_doc *report_prom_new(int by_process);

/* p's figures folded in (p is not kept): 0, or -1 when out of memory
 * (the document then reads as nothing). */
int report_prom_add(struct prom_doc *d, const struct model_process *p);

/* The counts of the end: segments not readable, and the seconds reading
 * took (acceptwatch_scrape_duration_seconds; < 0: not printed). */
void report_prom_totals(struct prom_doc *d, size_t n_unreadable,
			double scrape_seconds);

/* The next at most cap bytes of the exposition into buf: how many, 0 at
 * the end. */
size_t report_prom_read(struct prom_doc *d, char *buf, size_t cap);

/* What is left to read of d, into out: 0, or -1 (out of memory before,
 * or a write failed). */
int report_prom_write(FILE *out, struct prom_doc *d);

void report_prom_free(struct prom_doc *d);

/* The whole of r in one go: 0, or -1 when out of memory (nothing
 * written) or a write failed. */
int report_prometheus(FILE *out, const struct report *r, int by_process);

/* v in the fewest significant digits that read back as v (at most 17;
 * next to a power of two maybe one more), into dst; returns the length. */
size_t report_prom_double(char *dst, size_t len, double v);

/*
 * A Prometheus label value: backslash, double quote and newline escaped,
 * other control bytes and bytes >= 0x7f (not sure to be UTF-8) as '?'.
 * At most srclen bytes of src, stopping at a NUL; dst always terminated,
 * cut at a whole escape. Returns the length written.
 */
size_t report_prom_escape(char *dst, size_t dstlen, const char *src,
			  size_t srclen);

/*
 * The ACCEPTWATCH_* variables a header's flags say were ignored, in the
 * shim's order: the i-th name, for i from 0, while there is one (NULL
 * after the last).
 */
const char *report_ignored_env(uint32_t flags, unsigned int i);

/* Why the header's flags say call-site stacks are off, or NULL. */
const char *report_stacks_off(uint32_t flags);

/* "eintr", "econnaborted", "emfile", "other". */
const char *report_err_name(unsigned int cls);

#endif
