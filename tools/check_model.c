/*
 * check's model: windows between two readings, the remembered bounds of
 * when trouble last rose, then the verdicts (verdict.c) of each listener.
 */
#include "check_model.h"

#include "gather.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int check_incomplete(const struct model_process *p)
{
	return p->header.listeners_lost > 0 ||
	       (p->header.flags & AW_SF_DETACHED);
}

/* Index of p's process in reading a, or -1. */
static long find_proc(const struct check_reading *a,
		      const struct model_process *p)
{
	const struct model_process *q = gather_find(&a->r, p);
	return q ? (long)(q - a->r.proc) : -1;
}

/* A namespace counter's rise from a to b, never negative. */
static uint64_t rise(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* The window of listener l (process index pi of b) against reading a. */
static void window_of(const struct check_reading *a,
		      const struct check_reading *b, size_t pi,
		      const struct model_listener *l, struct verdict_window *w)
{
	const struct model_process *p = &b->r.proc[pi];

	memset(w, 0, sizeof(*w));
	if (!a)
		return;
	long ai = find_proc(a, p);
	if (ai < 0)
		return;
	const struct model_process *pa = &a->r.proc[ai];
	const struct model_listener *la = gather_find_listener(pa, l);
	if (!la)
		return;
	verdict_window_between(pa, la, p, l, w);
	if (a->ns_ok[ai] && b->ns_ok[pi]) {
		w->have_netstat = 1;
		w->listen_overflows =
		    rise(a->ns[ai].overflows, b->ns[pi].overflows);
		w->listen_drops = rise(a->ns[ai].drops, b->ns[pi].drops);
	}
}

static const char *const status_names[] = {"OK", "WARNING", "CRITICAL",
					   "UNKNOWN"};
static const char *const status_keys[] = {"ok", "warning", "critical",
					  "unknown"};

const char *check_status_name(enum check_status s)
{
	return (unsigned int)s <= CHECK_UNKNOWN ? status_names[s] : "?";
}

const char *check_status_key(enum check_status s)
{
	return (unsigned int)s <= CHECK_UNKNOWN ? status_keys[s] : "?";
}

int check_ignore_parse(struct check_ignores *list, const char *arg, char *err,
		       size_t len)
{
	char kind[32];
	const char *at = strchr(arg, '@');
	size_t klen = at ? (size_t)(at - arg) : strlen(arg);
	struct check_ignore rule;

	memset(&rule, 0, sizeof(rule));
	if (list->n == CHECK_MAX_IGNORES) {
		snprintf(err, len, "at most %d --ignore rules",
			 CHECK_MAX_IGNORES);
		return -1;
	}
	if (klen >= sizeof(kind) || at == arg) {
		snprintf(err, len, "--ignore wants VERDICT[@ADDRESS]");
		return -1;
	}
	memcpy(kind, arg, klen);
	kind[klen] = '\0';
	if (verdict_parse(kind, &rule.kind)) {
		snprintf(err, len,
			 "--ignore wants a verdict (clamped, backlog_small, "
			 "slow_accept_loop, overflowing, stalled), not '%s'",
			 kind);
		return -1;
	}
	if (at && (!at[1] || strlen(at + 1) >= sizeof(rule.addr))) {
		snprintf(err, len,
			 "--ignore wants an address after '@' (as check "
			 "prints it, at most %u characters)",
			 AW_ADDR_LEN);
		return -1;
	}
	if (at)
		memcpy(rule.addr, at + 1, strlen(at + 1) + 1);
	list->rule[list->n++] = rule;
	return 0;
}

/* Whether ign accepts verdict kind k on listener l. */
static int ignored(const struct check_ignores *ign,
		   const struct model_listener *l, enum verdict_kind k)
{
	for (size_t i = 0; ign && i < ign->n; i++) {
		const struct check_ignore *r = &ign->rule[i];
		if (r->kind != k)
			continue;
		if (!r->addr[0] ||
		    strncmp(r->addr, l->address, sizeof(l->address)) == 0)
			return 1;
	}
	return 0;
}

/* Row's verdicts, judged, into a heap copy of exactly their number: those
 * within the window, those from before it, then those accepted. */
static int judge(struct check_row *row, const struct recent_table *mem,
		 uint64_t recent_ns, const struct check_ignores *ign)
{
	struct verdict v[2 * VERDICT_KINDS], acc[VERDICT_KINDS];
	int n = 0;

	row->w.recent_ns = recent_ns;
	recent_apply(mem, row->p, row->l, &row->w);
	row->n = verdict_assess(row->p, row->l, &row->w, v);
	row->na = 0;
	for (int i = 0; i < row->n; i++) {
		if (ignored(ign, row->l, v[i].kind))
			acc[row->na++] = v[i];
		else
			v[n++] = v[i];
	}
	row->n = n;
	row->nh = verdict_assess_history(row->p, row->l, &row->w, v + row->n);
	size_t total = (size_t)(row->n + row->nh + row->na);
	if (total == 0)
		return 0;
	row->v = malloc(total * sizeof(*v));
	if (!row->v)
		return -1;
	memcpy(row->v, v, (size_t)(row->n + row->nh) * sizeof(*v));
	memcpy(row->v + row->n + row->nh, acc, (size_t)row->na * sizeof(*v));
	row->h = row->v + row->n;
	row->acc = row->h + row->nh;
	return 0;
}

/* Why nothing, or not everything, was judged; NULL when all was. */
static const char *unknown_reason(const struct check_model *m,
				  const struct check_reading *b)
{
	if (m->n_rows == 0 && b->r.n_unreadable)
		return "no segment readable";
	if (m->n_rows == 0)
		return "no listener under acceptwatch";
	if (b->r.n_unreadable)
		return "some segments unreadable";
	if (m->incomplete)
		return "some listeners not tracked";
	if (b->incomplete)
		return "some processes not read";
	return NULL;
}

/* CRITICAL > WARNING > UNKNOWN > OK (see enum check_status). */
static void set_status(struct check_model *m, const struct check_reading *b)
{
	int worst = 0;

	for (size_t i = 0; i < m->n_rows; i++)
		for (int k = 0; k < m->row[i].n; k++)
			if ((int)verdict_severity(m->row[i].v[k].kind) > worst)
				worst =
				    (int)verdict_severity(m->row[i].v[k].kind);
	m->unknown_why = unknown_reason(m, b);
	if (worst == VERDICT_CRITICAL)
		m->status = CHECK_CRITICAL;
	else if (worst == VERDICT_WARNING)
		m->status = CHECK_WARNING;
	else
		m->status = m->unknown_why ? CHECK_UNKNOWN : CHECK_OK;
}

int check_model_build(struct check_model *m, const struct check_reading *a,
		      const struct check_reading *b,
		      const struct recent_table *mem, uint64_t interval_ns,
		      uint64_t recent_ns, const struct check_ignores *ign)
{
	size_t total = 0;

	memset(m, 0, sizeof(*m));
	m->r = &b->r;
	m->interval_ns = interval_ns;
	m->recent_ns = recent_ns;
	for (size_t pi = 0; pi < b->r.n_proc; pi++)
		total += b->r.proc[pi].n_listeners;
	m->row = calloc(total ? total : 1, sizeof(*m->row));
	if (!m->row)
		return -1;
	for (size_t pi = 0; pi < b->r.n_proc; pi++) {
		const struct model_process *p = &b->r.proc[pi];
		if (check_incomplete(p))
			m->incomplete++;
		for (uint32_t i = 0; i < p->n_listeners; i++) {
			struct check_row *row = &m->row[m->n_rows++];
			row->p = p;
			row->l = &p->listener[i];
			window_of(a, b, pi, row->l, &row->w);
			if (judge(row, mem, recent_ns, ign)) {
				check_model_free(m);
				return -1;
			}
			if (row->n)
				m->problems++;
			for (int k = 0; k < row->n; k++)
				m->verdicts[row->v[k].kind]++;
			m->accepted += (size_t)row->na;
		}
	}
	set_status(m, b);
	return 0;
}

void check_model_free(struct check_model *m)
{
	for (size_t i = 0; i < m->n_rows; i++)
		free(m->row[i].v);
	free(m->row);
	memset(m, 0, sizeof(*m));
}
