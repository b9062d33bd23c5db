/*
 * listeners' model for people (a table as `ss -ntl` prints one, Recv-Q
 * the accept queue now, Send-Q the effective backlog) and for scripts.
 */
#include "report.h"

#include "bypass.h"
#include "format.h"
#include "listeners_model.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

/* --- text ---------------------------------------------------------------*/

/* "PID/COMM,..." into procs, cut at a whole entry. comm is any local
 * user's choice: never raw to the terminal. */
static void text_procs(char *procs, size_t len, const struct listeners_row *r)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];
	size_t used = 0;

	snprintf(procs, len, "-");
	for (size_t i = 0; i < r->n_owner; i++) {
		fmt_printable(comm, sizeof(comm), r->owner[i].comm,
			      sizeof(r->owner[i].comm));
		int w = snprintf(procs + used, len - used, "%s%d/%s",
				 i ? "," : "", (int)r->owner[i].pid, comm);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

/* The VERDICT column: the speaking segment's verdict, else why no
 * segment can speak. */
static const char *text_verdict(const struct listeners_row *r, char *why,
				size_t len)
{
	const char *verdict = "(no shim)";

	if (r->stalled_by_holders)
		return "STALLED (holders stopped)";
	if (r->speaker)
		return r->speaker->n_verdicts
			   ? verdict_name(r->speaker->verdict[0])
			   : "OK";
	if (r->n_owner == 0)
		verdict = "(owner not visible)";
	for (size_t i = 0; i < r->n_owner; i++) {
		unsigned cannot = r->owner[i].bypass;
		if (!cannot)
			continue;
		char kinds[48];
		snprintf(why, len, "(no shim: %s)",
			 bypass_describe(cannot, kinds, sizeof(kinds)));
		verdict = why;
	}
	return verdict;
}

static void text_row(FILE *out, const struct listeners_row *r)
{
	char procs[320], req[16] = "-", why[80];
	char addr[FMT_PRINTABLE_LEN(sizeof(r->e->address))];
	const char *clamp = "-";
	const struct model_listener *l = r->speaker ? r->speaker->l : NULL;

	text_procs(procs, sizeof(procs), r);
	if (l) {
		clamp = (l->flags & AW_LF_CLAMPED) ? "yes" : "no";
		if (l->flags & AW_LF_ADOPTED)
			snprintf(req, sizeof(req), "?");
		else
			snprintf(req, sizeof(req), "%" PRId32,
				 l->requested_backlog);
	}
	/* A Unix socket's path is any local user's choice, as comm. */
	fmt_printable(addr, sizeof(addr), r->e->address, sizeof(r->e->address));
	fprintf(out, "%-28s %7" PRIu32 " %7" PRIu32 "  %-9s %-7s %-18s %s\n",
		addr, r->e->rqueue, r->e->wqueue, req, clamp,
		text_verdict(r, why, sizeof(why)), procs);
}

void report_listeners_text(FILE *out, const struct listeners_model *m)
{
	fprintf(out, "%-28s %7s %7s  %-9s %-7s %-18s %s\n", "ADDRESS", "RECV-Q",
		"SEND-Q", "REQUESTED", "CLAMPED", "VERDICT", "PROCESS");
	for (size_t i = 0; i < m->n_rows; i++)
		text_row(out, &m->row[i]);
	fprintf(out,
		"\n%zu listening socket%s, %zu under acceptwatch; %zu "
		"process%s scanned, %zu could not be read%s\n",
		m->n_rows, m->n_rows == 1 ? "" : "s", m->with_shim,
		m->proc_seen, m->proc_seen == 1 ? "" : "es", m->proc_unreadable,
		m->proc_unreadable ? " (their sockets show no owner: run as "
				     "root to see every owner)"
				   : "");
}

/* --- JSON ---------------------------------------------------------------*/

static void json_owner(FILE *out, const struct listeners_owner *o)
{
	char kinds[48];

	fprintf(out, "{\"pid\":%d,\"comm\":", (int)o->pid);
	report_json_str(out, o->comm, sizeof(o->comm));
	fprintf(out, ",\"shim\":%s,\"stopped\":%s", o->l ? "true" : "false",
		o->stopped ? "true" : "false");
	fprintf(out, ",\"bypass\":");
	report_json_str(out, bypass_describe(o->bypass, kinds, sizeof(kinds)),
			sizeof(kinds));
	if (!o->l) {
		fprintf(out, "}");
		return;
	}
	const struct model_listener *l = o->l;
	fprintf(out, ",\"requested_backlog\":");
	if (l->flags & AW_LF_ADOPTED)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRId32, l->requested_backlog);
	fprintf(
	    out,
	    ",\"effective_backlog\":%" PRIu32
	    ",\"clamped\":%s,\"raised\":%s,\"verdict\":\"%s\",\"verdicts\":[",
	    l->effective_backlog, (l->flags & AW_LF_CLAMPED) ? "true" : "false",
	    (l->flags & AW_LF_RAISED) ? "true" : "false",
	    o->n_verdicts ? verdict_key(o->verdict[0]) : "ok");
	for (int i = 0; i < o->n_verdicts; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "",
			verdict_key(o->verdict[i]));
	fprintf(out, "]}");
}

static void json_row(FILE *out, const struct listeners_row *r)
{
	fprintf(out, "{\"address\":");
	report_json_str(out, r->e->address, sizeof(r->e->address));
	fprintf(out,
		",\"family\":\"%s\",\"port\":%u,\"recv_q\":%" PRIu32
		",\"send_q\":%" PRIu32 ",\"ino\":%" PRIu64 ",\"uid\":%" PRIu32
		",",
		r->e->family == AF_INET6 ? "inet6" : "inet",
		(unsigned int)r->e->port, r->e->rqueue, r->e->wqueue, r->e->ino,
		r->e->uid);
	/* "drops": the same figure, the name before socket_drops. */
	for (int i = 0; i < 2; i++) {
		fprintf(out, "%s\"%s\":", i ? "," : "",
			i ? "drops" : "socket_drops");
		if (r->e->has_drops)
			fprintf(out, "%" PRIu64, r->e->drops);
		else
			fprintf(out, "null");
	}
	fprintf(out, ",\"stalled_by_holders\":%s,\"owners\":[",
		r->stalled_by_holders ? "true" : "false");
	for (size_t i = 0; i < r->n_owner; i++) {
		if (i)
			fprintf(out, ",");
		json_owner(out, &r->owner[i]);
	}
	fprintf(out, "]}");
}

void report_listeners_json(FILE *out, const struct listeners_model *m)
{
	fprintf(out, "{\"schema\":%d,\"listeners\":[", REPORT_JSON_SCHEMA);
	for (size_t i = 0; i < m->n_rows; i++) {
		if (i)
			fprintf(out, ",");
		json_row(out, &m->row[i]);
	}
	fprintf(out,
		"],\"sockets\":%zu,\"with_shim\":%zu,"
		"\"proc_scanned\":%zu,\"proc_unreadable\":%zu}\n",
		m->n_rows, m->with_shim, m->proc_seen, m->proc_unreadable);
}
