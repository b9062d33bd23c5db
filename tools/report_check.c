/*
 * check's model for people and for scripts. The JSON document's fields
 * are a public interface, as stat's (report_json.c): add, never rename.
 */
#include "report.h"

#include "check_model.h"
#include "format.h"
#include "histogram.h"
#include "verdict_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --- text ---------------------------------------------------------------*/

/* "  PREFIX NAME: evidence" for each of v[0..n). */
static void text_said(FILE *out, const char *prefix, const struct verdict *v,
		      int n)
{
	struct verdict_text t;

	for (int i = 0; i < n; i++) {
		verdict_text_say(&v[i], &t);
		fprintf(out, "  %s%s: %s\n", prefix, verdict_name(v[i].kind),
			t.evidence);
	}
}

/* What happened before the window: evidence, not a verdict (its fix is
 * the verdict's, said when it is one again). */
static void text_history(FILE *out, const struct check_row *row)
{
	text_said(out, "earlier, ", row->h, row->nh);
}

/* Verdicts the operator accepted (--ignore): said, not counted. */
static void text_accepted(FILE *out, const struct check_row *row)
{
	text_said(out, "accepted (--ignore), ", row->acc, row->na);
}

static void text_verdicts(FILE *out, const struct check_row *row)
{
	const struct model_process *p = row->p;
	const struct model_listener *l = row->l;

	for (int i = 0; i < row->n; i++) {
		const struct verdict *v = &row->v[i];
		struct verdict_text t;
		verdict_text_say(v, &t);
		fprintf(out, "  %s: %s\n", verdict_name(v->kind), t.evidence);
		fprintf(out, "    fix: %s\n", t.fix);
		if (v->kind == VERDICT_SLOW)
			report_text_stack(out, "    ",
					  "accept loop (call-site stack)",
					  model_stack_text(p, l->slow_stack));
		if (v->kind == VERDICT_CLAMPED ||
		    v->kind == VERDICT_BACKLOG_SMALL)
			report_text_stack(out, "    ",
					  "backlog chosen at (listen() stack)",
					  model_stack_text(p, l->listen_stack));
	}
}

/* The headline's tail: " (comm) address fd N: VERDICT". */
static void text_headline_tail(FILE *out, const struct check_row *row)
{
	const struct model_process *p = row->p;
	const struct model_listener *l = row->l;
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fmt_printable(addr, sizeof(addr), l->address, sizeof(l->address));
	fprintf(out, " (%s) %s fd %" PRId32 "%s%s: %s\n", comm, addr, l->fd,
		(l->flags & AW_LF_CLOSED) ? " (closed)" : "",
		p->alive ? "" : " [exited]",
		row->n ? verdict_name(row->v[0].kind) : "OK");
}

/* What is said of the row under its headline. */
static void text_body(FILE *out, const struct check_row *row)
{
	const struct model_listener *l = row->l;

	if (row->n == 0 && (row->nh > 0 || row->na > 0)) {
		char span[FMT_DURATION_LEN];
		fmt_duration(span, sizeof(span), row->w.recent_ns);
		fprintf(out,
			"  OK  within the last %s: backlog %" PRIu32
			", %" PRIu64 " accepts since the listen\n",
			span, l->effective_backlog, l->accepts);
	} else if (row->n == 0) {
		fprintf(out,
			"  OK  backlog %" PRIu32 ", queue peak %" PRIu32
			", %" PRIu64 " accepts, no slow event, ",
			l->effective_backlog, l->queue_peak, l->accepts);
		/* Drops without a verdict: TCP_DEFER_ACCEPT's own, or from
		 * before the process first read them (another process's). */
		uint64_t own = verdict_own_drops(l);
		if (l->live.drops == 0)
			fprintf(out, "no socket drop\n");
		else if (own == 0)
			fprintf(out,
				"%" PRIu64 " socket drop%s, all from before "
				"the process first read the count\n",
				l->live.drops, l->live.drops == 1 ? "" : "s");
		else if (own == l->live.drops)
			fprintf(out,
				"%" PRIu64 " socket drop%s (TCP_DEFER_ACCEPT "
				"on: data-less handshake ACKs it discards, no "
				"overflow)\n",
				own, own == 1 ? "" : "s");
		else
			fprintf(out,
				"%" PRIu64 " socket drops (TCP_DEFER_ACCEPT "
				"on: data-less handshake ACKs it discards, no "
				"overflow), %" PRIu64 " of them since the "
				"process first read the count\n",
				l->live.drops, own);
		return;
	}
	text_verdicts(out, row);
	text_accepted(out, row);
	text_history(out, row);
}

/* The headline and the body of row into a heap string, NULL when out of
 * memory. */
static char *text_rendered(const struct check_row *row, int body)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (body)
		text_body(f, row);
	else
		text_headline_tail(f, row);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Whether rows a and b can share one block: the same socket, and
 * byte for byte the same headline (but the pid) and body, as a pre-fork
 * server's workers have for a socket-wide verdict (CLAMPED, OVERFLOWING
 * from the socket's drops). Anything a process says of itself (its
 * accepts, its pid in a fix) keeps it apart.
 */
static int same_block(const struct check_row *a, const char *head_a,
		      const char *body_a, const struct check_row *b)
{
	if (a->l->ino == 0 || a->l->dev != b->l->dev || a->l->ino != b->l->ino)
		return 0;
	char *head = text_rendered(b, 0), *body = text_rendered(b, 1);
	int same = head && body && strcmp(head, head_a) == 0 &&
		   strcmp(body, body_a) == 0;
	free(head);
	free(body);
	return same;
}

/*
 * Row i and the later rows that say the same of the same socket, in one
 * block: "pids 101 102 (nginx) ...". Marks the rows it printed in done.
 * Falls back to one block per row when out of memory.
 */
static void text_group(FILE *out, const struct check_model *m, size_t i,
		       char *done)
{
	const struct check_row *row = &m->row[i];
	char *head = text_rendered(row, 0), *body = text_rendered(row, 1);
	size_t n = 1;

	done[i] = 1;
	for (size_t j = i + 1; head && body && j < m->n_rows; j++)
		if (!done[j] && same_block(row, head, body, &m->row[j]))
			done[j] = 2, n++;
	if (n == 1) {
		fprintf(out, "pid %d", (int)row->p->pid);
	} else {
		fprintf(out, "pids %d", (int)row->p->pid);
		for (size_t j = i + 1; j < m->n_rows; j++)
			if (done[j] == 2) {
				fprintf(out, " %d", (int)m->row[j].p->pid);
				done[j] = 1;
			}
	}
	text_headline_tail(out, row);
	text_body(out, row);
	free(head);
	free(body);
}

static void text_incomplete(FILE *out, const struct model_process *p)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];
	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fprintf(out, "pid %d (%s): INCOMPLETE:", (int)p->pid, comm);
	if (p->header.listeners_lost)
		fprintf(out, " %" PRIu64 " listener%s not tracked (table full)",
			p->header.listeners_lost,
			p->header.listeners_lost == 1 ? "" : "s");
	if (p->header.flags & AW_SF_DETACHED)
		fprintf(out,
			"%s figures no longer written (no shared memory: %s)",
			p->header.listeners_lost ? ";" : "",
			strerror(p->header.detached_errno));
	fprintf(out, "; not checked\n");
}

void report_check_text(FILE *out, const struct check_model *m)
{
	const struct report *r = m->r;

	char *done = calloc(m->n_rows ? m->n_rows : 1, 1);
	int first = 1;

	for (size_t i = 0; i < m->n_rows; i++) {
		if (done && done[i])
			continue;
		if (!first)
			fprintf(out, "\n");
		first = 0;
		if (done && !m->per_process) {
			text_group(out, m, i, done);
			continue;
		}
		fprintf(out, "pid %d", (int)m->row[i].p->pid);
		text_headline_tail(out, &m->row[i]);
		text_body(out, &m->row[i]);
	}
	free(done);
	if (m->n_rows)
		fprintf(out, "\n");
	for (size_t i = 0; i < r->n_proc; i++)
		if (check_incomplete(&r->proc[i]))
			text_incomplete(out, &r->proc[i]);
	if (r->n_proc == 0)
		fprintf(out, "no process runs under acceptwatch\n");
	fprintf(
	    out, "%zu listener%s in %zu process%s: %zu OK, %zu with problems",
	    m->n_rows, m->n_rows == 1 ? "" : "s", r->n_proc,
	    r->n_proc == 1 ? "" : "es", m->n_rows - m->problems, m->problems);
	if (r->n_unreadable)
		fprintf(out, ", %zu segment%s unreadable", r->n_unreadable,
			r->n_unreadable == 1 ? "" : "s");
	if (m->incomplete)
		fprintf(out, ", %zu process%s incomplete", m->incomplete,
			m->incomplete == 1 ? "" : "es");
	if (m->accepted)
		fprintf(out, ", %zu verdict%s accepted (--ignore)", m->accepted,
			m->accepted == 1 ? "" : "s");
	fprintf(out, "; %s", check_status_name(m->status));
	if (m->unknown_why)
		fprintf(out, "%s%s",
			m->status == CHECK_UNKNOWN ? ": " : ", and ",
			m->unknown_why);
	fprintf(out, "\n");
}

/* --- JSON ---------------------------------------------------------------*/

static void json_u64_or_null(FILE *out, const char *key, int have, uint64_t v)
{
	if (have)
		fprintf(out, "\"%s\":%" PRIu64, key, v);
	else
		fprintf(out, "\"%s\":null", key);
}

static void json_window(FILE *out, const struct verdict_window *w)
{
	if (!w->have) {
		fprintf(out, "\"window\":null");
		return;
	}
	fprintf(out,
		"\"window\":{\"ns\":%" PRIu64 ",\"accepts\":%" PRIu64
		",\"socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64
		",\"full_events\":%" PRIu64 ",\"slow_events\":%" PRIu64 ",",
		w->ns, w->accepts, w->drops, w->drops, w->full_events,
		w->slow_events);
	json_u64_or_null(out, "listen_overflows", w->have_netstat,
			 w->listen_overflows);
	fprintf(out, ",");
	json_u64_or_null(out, "listen_drops", w->have_netstat, w->listen_drops);
	fprintf(out, "}");
}

/* The figures behind a verdict, the ones its evidence names: the
 * verdict's own (the stacks are the segment's). */
static void json_facts(FILE *out, const struct model_process *p,
		       const struct model_listener *l, const struct verdict *v)
{
	switch (v->kind) {
	case VERDICT_STALLED:
		fprintf(out,
			"\"queue_now\":%" PRIu32 ",\"in_accept\":%" PRIu32
			",\"stopped\":%s",
			v->queue_now, v->in_accept,
			v->stopped ? "true" : "false");
		break;
	case VERDICT_OVERFLOWING:
		fprintf(out,
			"\"full_events\":%" PRIu64 ",\"queue_now\":%" PRIu32
			",\"socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64
			",\"own_socket_drops\":%" PRIu64
			",\"suggested_backlog\":%" PRIu32,
			v->full_events, v->queue_now, v->socket_drops,
			v->socket_drops, v->own_drops, v->suggested_backlog);
		break;
	case VERDICT_SLOW:
		fprintf(out,
			"\"slow_events\":%" PRIu64 ",\"threshold_ms\":%" PRIu32
			",",
			v->slow_events, v->slow_ms);
		/* An event loop's time between accepts is no time away. */
		if (v->event_loop)
			fprintf(out, "\"event_loop\":true,\"away_p99_ns\":null,"
				     "\"away_max_ns\":null");
		else
			fprintf(out,
				"\"event_loop\":false,\"away_p99_ns\":%" PRIu64
				",\"away_max_ns\":%" PRIu64,
				v->away_p99_ns, v->away_max_ns);
		fprintf(out,
			",\"queue_peak\":%" PRIu32
			",\"queue_wait_p99_ms\":%" PRIu64
			",\"queue_wait_max_ms\":%" PRIu64 ",\"stack\":",
			v->queue_peak, v->wait_p99_ms, v->wait_max_ms);
		report_json_frames(out, model_stack_text(p, l->slow_stack));
		break;
	case VERDICT_BACKLOG_SMALL:
		fprintf(out,
			"\"queue_peak\":%" PRIu32
			",\"effective_backlog\":%" PRIu32
			",\"suggested_backlog\":%" PRIu32 ",\"stack\":",
			v->deepest, v->effective_backlog, v->suggested_backlog);
		report_json_frames(out, model_stack_text(p, l->listen_stack));
		break;
	default:
		fprintf(out,
			"\"requested_backlog\":%" PRId32
			",\"wanted_backlog\":%" PRId32
			",\"effective_backlog\":%" PRIu32
			",\"somaxconn\":%" PRIu32 ",\"raised\":%s,\"stack\":",
			v->requested_backlog, v->wanted_backlog,
			v->effective_backlog, v->somaxconn,
			v->raised ? "true" : "false");
		report_json_frames(out, model_stack_text(p, l->listen_stack));
		break;
	}
}

/* A verdict's opening: its key, its name and its evidence. */
static void json_verdict_head(FILE *out, const struct verdict *v,
			      const struct verdict_text *t, int i)
{
	fprintf(out, "%s{\"verdict\":\"%s\",\"name\":\"%s\",\"evidence\":",
		i ? "," : "", verdict_key(v->kind), verdict_name(v->kind));
	report_json_str(out, t->evidence, sizeof(t->evidence));
}

static void json_verdicts(FILE *out, const struct check_row *row)
{
	fprintf(out, ",\"verdicts\":[");
	for (int i = 0; i < row->n; i++) {
		struct verdict_text t;
		verdict_text_say(&row->v[i], &t);
		json_verdict_head(out, &row->v[i], &t, i);
		fprintf(out, ",\"fix\":");
		report_json_str(out, t.fix, sizeof(t.fix));
		fprintf(out, ",\"facts\":{");
		json_facts(out, row->p, row->l, &row->v[i]);
		fprintf(out, "}}");
	}
	fprintf(out, "]");
}

/* Verdicts without their fix and facts: "earlier" or "accepted". */
static void json_said(FILE *out, const char *key, const struct verdict *v,
		      int n)
{
	fprintf(out, ",\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		struct verdict_text t;
		verdict_text_say(&v[i], &t);
		json_verdict_head(out, &v[i], &t, i);
		fprintf(out, "}");
	}
	fprintf(out, "]");
}

static void json_listener(FILE *out, const struct check_row *row)
{
	const struct model_process *p = row->p;
	const struct model_listener *l = row->l;

	fprintf(out, "{\"pid\":%d,\"comm\":", (int)p->pid);
	report_json_str(out, p->comm, sizeof(p->comm));
	fprintf(out, ",\"slot\":%" PRIu32 ",\"fd\":%" PRId32 ",\"address\":",
		l->slot, l->fd);
	report_json_str(out, l->address, sizeof(l->address));
	fprintf(out,
		",\"alive\":%s,\"closed\":%s,\"ok\":%s,\"verdict\":\"%s\",",
		p->alive ? "true" : "false",
		(l->flags & AW_LF_CLOSED) ? "true" : "false",
		row->n ? "false" : "true",
		row->n ? verdict_key(row->v[0].kind) : "ok");
	json_window(out, &row->w);
	json_verdicts(out, row);
	json_said(out, "earlier", row->h, row->nh);
	json_said(out, "accepted", row->acc, row->na);
	fprintf(out, "}");
}

static void json_incomplete(FILE *out, const struct report *r)
{
	int first = 1;
	fprintf(out, ",\"incomplete\":[");
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct model_process *p = &r->proc[i];
		if (!check_incomplete(p))
			continue;
		fprintf(out,
			"%s{\"pid\":%d,\"listeners_lost\":%" PRIu64
			",\"detached\":%s}",
			first ? "" : ",", (int)p->pid, p->header.listeners_lost,
			(p->header.flags & AW_SF_DETACHED) ? "true" : "false");
		first = 0;
	}
	fprintf(out, "]");
}

void report_check_json(FILE *out, const struct check_model *m)
{
	const struct report *r = m->r;

	fprintf(out,
		"{\"schema\":%d,\"interval_ns\":%" PRIu64
		",\"verdict_window_ns\":%" PRIu64 ",\"listeners\":[",
		REPORT_JSON_SCHEMA, m->interval_ns, m->recent_ns);
	for (size_t i = 0; i < m->n_rows; i++) {
		if (i)
			fprintf(out, ",");
		json_listener(out, &m->row[i]);
	}
	fprintf(out, "],\"processes\":%zu,\"problems\":%zu,\"counts\":{",
		r->n_proc, m->problems);
	for (int k = 0; k < VERDICT_KINDS; k++)
		fprintf(out, "%s\"%s\":%zu", k ? "," : "",
			verdict_key((enum verdict_kind)k), m->verdicts[k]);
	fprintf(out, "},\"accepted\":%zu,\"status\":\"%s\",\"unknown\":",
		m->accepted, check_status_key(m->status));
	if (m->unknown_why)
		fprintf(out, "\"%s\",", m->unknown_why);
	else
		fprintf(out, "null,");
	report_json_unreadable(out, r);
	json_incomplete(out, r);
	fprintf(out, "}\n");
}
