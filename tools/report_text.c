/*
 * The text report: one block per process, one per listener, or per socket
 * its processes share (pre-fork), figures in human units. Every string from the
 * segment goes through fmt_printable(): it is another process's memory and must
 * not drive the terminal.
 */
#include "report.h"

#include "error.h"

#include "format.h"
#include "histogram.h"
#include "totals.h"
#include "verdict.h"
#include "verdict_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *report_err_name(unsigned int cls)
{
	static const char *const name[AW_ERR_CLASSES] = {
	    "eintr", "econnaborted", "emfile", "other"};

	return cls < AW_ERR_CLASSES ? name[cls] : "?";
}

const char *report_stacks_off(uint32_t flags)
{
	if (flags & AW_SF_STACKS_INIT_FAILED)
		return "libunwind's start-up did not finish (a seccomp filter "
		       "such as SystemCallFilter= without mincore kills it)";
	if (flags & AW_SF_STACKS_NO_LIB)
		return "libunwind.so.8 could not be loaded";
	if (flags & AW_SF_STACKS_FORKED)
		return "forked while a thread was capturing one";
	return NULL;
}

const char *report_ignored_env(uint32_t flags, unsigned int i)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} var[] = {
	    {AW_SF_BAD_SLOW_MS, "ACCEPTWATCH_SLOW_MS"},
	    {AW_SF_BAD_LOG, "ACCEPTWATCH_LOG"},
	    {AW_SF_BAD_BACKLOG, "ACCEPTWATCH_BACKLOG"},
	    {AW_SF_BAD_KEEP, "ACCEPTWATCH_KEEP"},
	    {AW_SF_BAD_CLOCK, "ACCEPTWATCH_CLOCK"},
	};

	for (size_t v = 0; v < sizeof(var) / sizeof(var[0]); v++)
		if ((flags & var[v].flag) && i-- == 0)
			return var[v].name;
	return NULL;
}

static void text_ignored_env(FILE *out, uint32_t flags)
{
	const char *name = report_ignored_env(flags, 0);

	if (name == NULL)
		return;
	fprintf(out, "  ignored bad values of %s", name);
	for (unsigned int i = 1; (name = report_ignored_env(flags, i)); i++)
		fprintf(out, ", %s", name);
	fprintf(out, " (defaults used)\n");
}

/* A histogram value in ns: the queue-wait histogram records ms. */
static uint64_t hist_ns(uint64_t v, int in_ms)
{
	return in_ms ? fmt_ms_to_ns(v) : v;
}

static void text_hist(FILE *out, const char *what, const struct aw_hist *h,
		      int in_ms)
{
	char p50[FMT_DURATION_LEN], p99[FMT_DURATION_LEN],
	    max[FMT_DURATION_LEN];
	uint64_t n = aw_hist_count(h);

	if (n == 0) {
		fprintf(out, "    %-11s -\n", what);
		return;
	}
	fmt_duration(p50, sizeof(p50),
		     hist_ns(aw_hist_quantile(h, 0.5), in_ms));
	fmt_duration(p99, sizeof(p99),
		     hist_ns(aw_hist_quantile(h, 0.99), in_ms));
	fmt_duration(max, sizeof(max), hist_ns(h->max, in_ms));
	fprintf(out, "    %-11s p50 %-8s p99 %-8s max %-8s n=%" PRIu64 "\n",
		what, p50, p99, max, n);
}

/* The time out of accept() between calls: away, but for an event loop's
 * listener, which idles elsewhere between accepts (no time away). */
static const char *away_label(int event_loop)
{
	return event_loop ? "between accepts (event loop)" : "away";
}

/* The backlog line; whose ends it ("" or " (pids ...)"). */
static void text_backlog(FILE *out, const struct model_listener *l,
			 const char *whose)
{
	if (l->flags & AW_LF_ADOPTED)
		fprintf(out, "backlog requested ?");
	else
		fprintf(out, "backlog requested %" PRId32,
			l->requested_backlog);
	if (l->flags & AW_LF_RAISED)
		fprintf(out, " raised to %" PRId32 " (ACCEPTWATCH_BACKLOG)",
			l->passed_backlog);
	fprintf(out, " effective %" PRIu32 "%s", l->effective_backlog,
		(l->flags & AW_LF_COMPUTED) ? " (computed)" : "");
	if (l->live.kernel_backlog &&
	    l->live.kernel_backlog != l->effective_backlog)
		fprintf(out, " (kernel now %" PRIu32 ")",
			l->live.kernel_backlog);
	if (l->flags & AW_LF_CLAMPED)
		fprintf(out, "  CLAMPED");
	fprintf(out, "%s\n", whose);
}

static void text_counts(FILE *out, const struct model_listener *l)
{
	fprintf(out, "    accepts %" PRIu64 "  drained %" PRIu64 "  errors",
		l->accepts, l->drained);
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		fprintf(out, " %s %" PRIu64, report_err_name(c), l->errors[c]);
	fprintf(out, "\n");
	fprintf(out,
		"    queue now %" PRIu32 "%s  peak %" PRIu32 "  full %" PRIu64
		"  socket drops %" PRIu64 "%s\n",
		l->live.queue_now, l->live.queue_known ? "" : " (sampled)",
		l->live.queue_now > l->queue_peak ? l->live.queue_now
						  : l->queue_peak,
		l->full_events, l->live.drops,
		l->live.live ? "" : " (sampled)");
}

static void text_threads(FILE *out, const struct model_process *p,
			 const struct model_listener *l)
{
	char age[FMT_DURATION_LEN];

	fprintf(out, "    threads in accept %" PRIu32 "%s  last accept ",
		l->in_accept, p->stopped ? " (process stopped)" : "");
	if (!l->last_accept_mono_ns || p->now_mono_ns < l->last_accept_mono_ns)
		fprintf(out, "never\n");
	else
		fprintf(out, "%s ago\n",
			fmt_duration(age, sizeof(age),
				     p->now_mono_ns - l->last_accept_mono_ns));
}

/* Wall-clock time of an event, local, for people. */
static void text_clock(char *dst, size_t len, uint64_t real_ns)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(dst, len, "%H:%M:%S", &tm))
		snprintf(dst, len, "?");
}

/* The shim stopped writing the segment (shared memory ran out). */
static void text_detached(FILE *out, const struct model_process *p)
{
	char when[16];
	text_clock(when, sizeof(when), p->header.detached_real_ns);
	fprintf(out,
		"  figures below end at %s: no more shared memory for them "
		"(%s); the process counts on in its own memory\n",
		when, strerror(p->header.detached_errno));
}

/* events slow events, then l's last one (of p; with_pid: p named). */
static void text_slow(FILE *out, uint64_t events, const struct model_process *p,
		      const struct model_listener *l, int with_pid)
{
	char when[16], ago[FMT_DURATION_LEN], away[FMT_DURATION_LEN],
	    wait[FMT_DURATION_LEN];
	const struct aw_event *e = &l->last_slow;

	fprintf(out, "    slow events %" PRIu64, events);
	if (!l->has_last_slow) {
		fprintf(out, "\n");
		return;
	}
	text_clock(when, sizeof(when), e->time_real_ns);
	fmt_duration(ago, sizeof(ago),
		     p->now_real_ns > e->time_real_ns
			 ? p->now_real_ns - e->time_real_ns
			 : 0);
	if (e->away_ns == UINT64_MAX) /* idle after a drain */
		snprintf(away, sizeof(away), "?");
	else
		fmt_duration(away, sizeof(away), e->away_ns);
	if (e->queue_wait_ms == UINT64_MAX)
		snprintf(wait, sizeof(wait), "?");
	else
		fmt_duration(wait, sizeof(wait),
			     fmt_ms_to_ns(e->queue_wait_ms));
	fprintf(out, ", last at %s (%s ago): %s %s, queue wait %s, depth ",
		when, ago,
		(l->flags & AW_LF_EVENT_LOOP) ? "between accepts" : "away",
		away, wait);
	if (e->depth == UINT32_MAX)
		fprintf(out, "?");
	else
		fprintf(out, "%" PRIu32, e->depth);
	fprintf(out, "/%" PRIu32 ", tid %" PRId32, e->backlog, e->tid);
	if (with_pid)
		fprintf(out, " of pid %d", (int)p->pid);
	fprintf(out, "\n");
}

/* The reading's STALLED verdict, worded as check words it. */
static void text_stalled(FILE *out, const struct model_process *p,
			 const struct model_listener *l)
{
	struct verdict v[VERDICT_KINDS];
	struct verdict_text t;

	if (!l->stalled || verdict_assess(p, l, NULL, v) == 0 ||
	    v[0].kind != VERDICT_STALLED)
		return;
	verdict_text_say(&v[0], &t);
	fprintf(out, "    STALLED: %s\n", t.evidence);
}

void report_text_stack(FILE *out, const char *indent, const char *title,
		       const char *text)
{
	char line[FMT_PRINTABLE_LEN(SEGMENT_FRAME_TEXT)];

	if (!text)
		return;
	fprintf(out, "%s%s:\n", indent, title);
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n)
			fprintf(out, "%s  %s\n", indent,
				fmt_printable(line, sizeof(line), text, n));
		text += n;
		if (*text)
			text++;
	}
}

static void text_defer(FILE *out)
{
	fprintf(out, "    TCP_DEFER_ACCEPT on: connections that have "
		     "sent no data wait outside the accept queue, "
		     "unseen by these figures; the socket drops also "
		     "count the handshake ACKs it discards, so they "
		     "alone are no sign of overflow here\n");
}

static void text_listener(FILE *out, const struct model_process *p,
			  const struct model_listener *l)
{
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	fmt_printable(addr, sizeof(addr), l->address, sizeof(l->address));
	fprintf(out, "  fd %" PRId32 "  %s%s%s%s\n", l->fd, addr,
		(l->flags & AW_LF_CLOSED) ? "  (closed)" : "",
		(l->flags & AW_LF_INHERITED) ? "  (inherited)" : "",
		l->consistent ? "" : "  (inconsistent read)");
	fprintf(out, "    ");
	text_backlog(out, l, "");
	text_counts(out, l);
	text_hist(out, "gap", &l->gap_ns, 0);
	text_hist(out, away_label(l->flags & AW_LF_EVENT_LOOP), &l->away_ns, 0);
	text_hist(out, "queue wait", &l->queue_wait_ms, 1);
	text_threads(out, p, l);
	text_slow(out, l->slow_events, p, l, 0);
	text_stalled(out, p, l);
	if (l->flags & AW_LF_DEFER_ACCEPT)
		text_defer(out);
	report_text_stack(out, "    ", "listen() called from",
			  model_stack_text(p, l->listen_stack));
	report_text_stack(out, "    ", "accept loop at the last slow event",
			  model_stack_text(p, l->slow_stack));
}

/* The process's own lines, before its listeners, after "pid N" (the
 * caller's: several processes may share one block). */
static void text_process_head(FILE *out, const struct model_process *p)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];

	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fprintf(out, " (%s)  somaxconn %" PRIu32 "  slow %" PRIu32 "ms%s%s\n",
		comm, p->header.somaxconn, p->header.slow_ms,
		p->alive ? "" : "  [exited]", p->stopped ? "  [stopped]" : "");
	if (p->pid_ns && p->ns_pid != p->pid)
		fprintf(out, "  pid %d in its PID namespace %" PRIu32 "\n",
			(int)p->ns_pid, p->pid_ns);
	if (p->bypass & BYPASS_IO_URING)
		fprintf(out, "  uses io_uring: accepts submitted to a ring "
			     "never call accept() and are not counted here\n");
	text_ignored_env(out, p->header.flags);
	if (p->header.flags & AW_SF_LOG_FD2_CHANGED)
		fprintf(out, "  log: silent, fd 2 is no longer the stderr it "
			     "had at start (lines dropped)\n");
	if (p->header.flags & AW_SF_LOG_FAILED)
		fprintf(out, "  log: lines lost, the log file or /dev/log "
			     "could not be written\n");
	if (report_stacks_off(p->header.flags))
		fprintf(out, "  stacks: off, %s\n",
			report_stacks_off(p->header.flags));
	if (p->header.listeners_lost)
		fprintf(out,
			"  %" PRIu64 " listeners not tracked (table full)\n",
			p->header.listeners_lost);
	if (p->header.events_lost)
		fprintf(out,
			"  %" PRIu64
			" slow events missing from the list (their "
			"ring entry was busy); the slow counts have them\n",
			p->header.events_lost);
	if (p->header.flags & AW_SF_DETACHED)
		text_detached(out, p);
}

/* The socket of l when it is shared with another process and t groups
 * them (stat without --per-process): its block is the socket's. */
static const struct totals_socket *text_shared(const struct totals *t,
					       const struct model_listener *l)
{
	const struct totals_socket *s;

	if (!t || l->ino == 0)
		return NULL;
	s = totals_find(t, l->dev, l->ino);
	return s && s->n_procs > 1 ? s : NULL;
}

/* A process's block after "pid N"; with t, a listener shared with other
 * processes is one line pointing to its socket's block. */
static void text_process(FILE *out, const struct model_process *p,
			 const struct totals *t)
{
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	text_process_head(out, p);
	if (p->n_listeners == 0)
		fprintf(out, "  no listeners\n");
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct model_listener *l = &p->listener[i];
		if (!text_shared(t, l)) {
			text_listener(out, p, l);
			continue;
		}
		fmt_printable(addr, sizeof(addr), l->address,
			      sizeof(l->address));
		fprintf(out,
			"  fd %" PRId32 "  %s  (shared: socket %s below)\n",
			l->fd, addr, addr);
	}
}

/* A socket shared by several processes (pre-fork): its total. */
static void text_total(FILE *out, const struct totals *t,
		       const struct totals_socket *s)
{
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];
	const struct model_listener *first = t->member[s->first].l;
	static struct aw_hist gap, away, wait; /* 15 KB: not on the stack */
	uint64_t errors = 0;

	fmt_printable(addr, sizeof(addr), first->address,
		      sizeof(first->address));
	fprintf(out, "\ntotal %s  (ino %" PRIu64 ", %zu processes:", addr,
		s->ino, s->n_procs);
	for (size_t i = s->first; i < s->first + s->n_members; i++)
		if (i == s->first || t->member[i].proc != t->member[i - 1].proc)
			fprintf(out, " %d", (int)t->member[i].proc->pid);
	fprintf(out, ")\n");
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		errors += s->errors[c];
	fprintf(out,
		"    accepts %" PRIu64 "  drained %" PRIu64 "  errors %" PRIu64
		"  slow events %" PRIu64 "\n",
		s->accepts, s->drained, errors, s->slow_events);
	fprintf(out,
		"    queue now %" PRIu32 "  peak %" PRIu32 "  full %" PRIu64
		"  socket drops %" PRIu64 "\n",
		s->queue_now, s->queue_peak, s->full_events, s->drops);
	totals_hists(t, s, &gap, &away, &wait);
	text_hist(out, "gap", &gap, 0);
	text_hist(out, away_label(s->event_loop), &away, 0);
	text_hist(out, "queue wait", &wait, 1);
}

static void text_totals(FILE *out, const struct report *r)
{
	struct totals t;

	if (totals_build(r, &t)) {
		fprintf(out, "\n(totals per socket: out of memory)\n");
		return;
	}
	for (size_t i = 0; i < t.n_sockets; i++)
		if (t.socket[i].n_procs > 1)
			text_total(out, &t, &t.socket[i]);
	totals_free(&t);
}

/* --- a socket shared by processes, one block (stat without --per-process) */

/* Lines about one member m of a socket, ending in whose ("" when every
 * member says the same, else " (pids ...)"). */
typedef void text_member_fn(FILE *out, const struct totals_member *m,
			    const char *whose);

static void text_member_backlog(FILE *out, const struct totals_member *m,
				const char *whose)
{
	fprintf(out, "    ");
	text_backlog(out, m->l, whose);
}

static void text_member_listen_stack(FILE *out, const struct totals_member *m,
				     const char *whose)
{
	char title[160];

	snprintf(title, sizeof(title), "listen() called from%s", whose);
	report_text_stack(out, "    ", title,
			  model_stack_text(m->proc, m->l->listen_stack));
}

/* Text written to memory: text_mem_open(), write to its f, then
 * text_mem_close() for the string. */
struct text_mem {
	FILE *f;
	char *buf;
	size_t len;
};

/* 0, or -1 when out of memory. */
static int text_mem_open(struct text_mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	return m->f ? 0 : -1;
}

/* What was written, a heap string; NULL when out of memory. */
static char *text_mem_close(struct text_mem *m)
{
	if (fclose(m->f) == 0)
		return m->buf;
	free(m->buf);
	return NULL;
}

/* What fn says of m, as a heap string; NULL when out of memory. */
static char *text_member_render(text_member_fn *fn,
				const struct totals_member *m)
{
	struct text_mem t;

	if (text_mem_open(&t))
		return NULL;
	fn(t.f, m, "");
	return text_mem_close(&t);
}

/* " (pid A)", " (pids A B ...)": the processes among s's members whose
 * text is want; cut with "..." past len. */
static void text_whose(char *dst, size_t len, const struct totals *t,
		       const struct totals_socket *s, char **txt,
		       const char *want)
{
	char list[224];
	size_t used = 0;
	pid_t last = 0;
	int n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < s->n_members; i++) {
		pid_t pid = t->member[s->first + i].proc->pid;
		if (!txt[i] || strcmp(txt[i], want) || (n && pid == last))
			continue;
		if (used + 16 >= sizeof(list)) {
			snprintf(list + used, sizeof(list) - used, " ...");
			break;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 " %d", (int)pid);
		last = pid;
		n++;
	}
	snprintf(dst, len, " (pid%s%s)", n > 1 ? "s" : "", list);
}

/*
 * What fn says of each member of s, once: when all agree, as it is; when
 * they differ (a reload changed the backlog: old workers hold the old
 * figures), each version once with the pids that say it.
 */
static void text_distinct(FILE *out, const struct totals *t,
			  const struct totals_socket *s, text_member_fn *fn)
{
	char **txt = calloc(s->n_members, sizeof(*txt));
	char whose[256];
	int same = 1;

	if (!txt) {
		fn(out, &t->member[s->first], "");
		return;
	}
	for (size_t i = 0; i < s->n_members; i++) {
		txt[i] = text_member_render(fn, &t->member[s->first + i]);
		if (!txt[i] || strcmp(txt[i], txt[0] ? txt[0] : ""))
			same = 0;
	}
	for (size_t i = 0; i < s->n_members; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = txt[i] && txt[j] && !strcmp(txt[i], txt[j]);
		if (seen || (!same && txt[i] && !*txt[i]))
			continue;
		if (same) {
			fputs(txt[0], out);
			break;
		}
		if (txt[i])
			text_whose(whose, sizeof(whose), t, s, txt, txt[i]);
		fn(out, &t->member[s->first + i], txt[i] ? whose : "");
	}
	for (size_t i = 0; i < s->n_members; i++)
		free(txt[i]);
	free(txt);
}

/* The processes holding s, a pair "pid:accepts" each (a process holding
 * the socket in two slots adds them), with what sets one apart. */
static void text_socket_procs(FILE *out, const struct totals *t,
			      const struct totals_socket *s, int same_fd)
{
	const struct totals_member *m0 = &t->member[s->first];
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];

	fmt_printable(comm, sizeof(comm), m0->proc->comm,
		      sizeof(m0->proc->comm));
	fprintf(out, "  %zu processes (%s), pid:accepts", s->n_procs, comm);
	for (size_t i = s->first; i < s->first + s->n_members;) {
		const struct model_process *p = t->member[i].proc;
		uint64_t accepts = 0;
		int open = 0, consistent = 1;
		size_t j;
		for (j = i;
		     j < s->first + s->n_members && t->member[j].proc == p;
		     j++) {
			const struct model_listener *l = t->member[j].l;
			accepts += l->accepts;
			open |= !(l->flags & AW_LF_CLOSED);
			consistent &= l->consistent;
		}
		fprintf(out, "  %d:%" PRIu64, (int)p->pid, accepts);
		if (memcmp(p->comm, m0->proc->comm, sizeof(p->comm))) {
			fmt_printable(comm, sizeof(comm), p->comm,
				      sizeof(p->comm));
			fprintf(out, " (%s)", comm);
		}
		if (!same_fd)
			fprintf(out, " (fd %" PRId32 ")", t->member[i].l->fd);
		if (!open)
			fprintf(out, " (closed)");
		if (!p->alive)
			fprintf(out, " (exited)");
		if (p->stopped)
			fprintf(out, " (stopped)");
		if (!consistent)
			fprintf(out, " (inconsistent read)");
		i = j;
	}
	fprintf(out, "\n");
}

/* The members' threads in accept, and the most recent accept of any. */
static void text_socket_threads(FILE *out, const struct totals *t,
				const struct totals_socket *s)
{
	char age[FMT_DURATION_LEN];
	uint32_t in_accept = 0;
	uint64_t youngest = UINT64_MAX;

	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		const struct model_process *p = t->member[i].proc;
		const struct model_listener *l = t->member[i].l;
		in_accept += l->in_accept;
		if (l->last_accept_mono_ns &&
		    p->now_mono_ns >= l->last_accept_mono_ns &&
		    p->now_mono_ns - l->last_accept_mono_ns < youngest)
			youngest = p->now_mono_ns - l->last_accept_mono_ns;
	}
	fprintf(out, "    threads in accept %" PRIu32 "  last accept ",
		in_accept);
	if (youngest == UINT64_MAX)
		fprintf(out, "never\n");
	else
		fprintf(out, "%s ago\n",
			fmt_duration(age, sizeof(age), youngest));
}

/* The member whose last slow event is the latest, or NULL. */
static const struct totals_member *
text_socket_last_slow(const struct totals *t, const struct totals_socket *s)
{
	const struct totals_member *last = NULL;

	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		const struct model_listener *l = t->member[i].l;
		if (l->has_last_slow &&
		    (!last || l->last_slow.time_real_ns >
				  last->l->last_slow.time_real_ns))
			last = &t->member[i];
	}
	return last;
}

/* One STALLED line for the members judged stalled: their pids, the
 * queue now, and the shortest time without an accept among them. */
static void text_socket_stalled(FILE *out, const struct totals *t,
				const struct totals_socket *s)
{
	char since[FMT_DURATION_LEN];
	uint64_t shortest = UINT64_MAX;
	size_t n = 0, stopped = 0;

	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		const struct model_process *p = t->member[i].proc;
		const struct model_listener *l = t->member[i].l;
		if (!l->stalled)
			continue;
		n++;
		stopped += p->stopped != 0;
		uint64_t d = p->now_mono_ns - verdict_last_progress(l);
		if (d < shortest)
			shortest = d;
	}
	if (n == 0)
		return;
	/* Worded as the verdict words one process's (verdict_text.c). */
	fprintf(out,
		"    STALLED: %" PRIu32 " connection%s waiting now, %s (pid%s",
		s->queue_now, s->queue_now == 1 ? "" : "s",
		stopped == n ? (n > 1 ? "the processes are stopped"
				      : "the process is stopped")
		: stopped    ? "stopped or no thread in accept()"
			     : "no thread in accept()",
		n > 1 ? "s" : "");
	for (size_t i = s->first; i < s->first + s->n_members; i++)
		if (t->member[i].l->stalled &&
		    (i == s->first ||
		     t->member[i].proc != t->member[i - 1].proc))
			fprintf(out, " %d", (int)t->member[i].proc->pid);
	fprintf(out, "), no accept for %s (threshold %" PRIu32 "ms)\n",
		fmt_duration(since, sizeof(since), shortest),
		t->member[s->first].proc->header.slow_ms);
}

/* The queue line: the socket's readings (the largest any member saw),
 * its peak never below its queue now. */
static void text_socket_queue(FILE *out, const struct totals *t,
			      const struct totals_socket *s)
{
	int known = 0, live = 0;

	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		known |= t->member[i].l->live.queue_known;
		live |= t->member[i].l->live.live;
	}
	fprintf(out,
		"    queue now %" PRIu32 "%s  peak %" PRIu32 "  full %" PRIu64
		"  socket drops %" PRIu64 "%s\n",
		s->queue_now, known ? "" : " (sampled)", s->queue_peak,
		s->full_events, s->drops, live ? "" : " (sampled)");
}

/*
 * A socket held by several processes (a pre-fork server's workers), one
 * block: its processes on one line, then its figures as totals.c defines
 * them (counts summed, the queue and drops the largest reading, the
 * histograms merged), the latest slow event of any, each stall.
 */
static void text_socket(FILE *out, const struct totals *t,
			const struct totals_socket *s)
{
	static struct aw_hist gap, away, wait; /* 15 KB: not on the stack */
	const struct totals_member *m0 = &t->member[s->first], *slow;
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];
	int same_fd = 1, defer = 0;

	for (size_t i = s->first; i < s->first + s->n_members; i++) {
		same_fd &= t->member[i].l->fd == m0->l->fd;
		defer |= !!(t->member[i].l->flags & AW_LF_DEFER_ACCEPT);
	}
	fmt_printable(addr, sizeof(addr), m0->l->address,
		      sizeof(m0->l->address));
	fprintf(out, "socket %s", addr);
	if (same_fd)
		fprintf(out, "  fd %" PRId32, m0->l->fd);
	fprintf(out,
		"  (ino %" PRIu64 ")  somaxconn %" PRIu32 "  slow %" PRIu32
		"ms\n",
		s->ino, m0->proc->header.somaxconn, m0->proc->header.slow_ms);
	text_socket_procs(out, t, s, same_fd);
	text_distinct(out, t, s, text_member_backlog);
	fprintf(out, "    accepts %" PRIu64 "  drained %" PRIu64 "  errors",
		s->accepts, s->drained);
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		fprintf(out, " %s %" PRIu64, report_err_name(c), s->errors[c]);
	fprintf(out, "\n");
	text_socket_queue(out, t, s);
	totals_hists(t, s, &gap, &away, &wait);
	text_hist(out, "gap", &gap, 0);
	text_hist(out, away_label(s->event_loop), &away, 0);
	text_hist(out, "queue wait", &wait, 1);
	text_socket_threads(out, t, s);
	slow = text_socket_last_slow(t, s);
	text_slow(out, s->slow_events, slow ? slow->proc : m0->proc,
		  slow ? slow->l : m0->l, 1);
	text_socket_stalled(out, t, s);
	if (defer)
		text_defer(out);
	text_distinct(out, t, s, text_member_listen_stack);
	if (slow)
		report_text_stack(
		    out, "    ", "accept loop at the last slow event",
		    model_stack_text(slow->proc, slow->l->slow_stack));
}

/* Lines in p's head (text_process_head); 0 when out of memory. */
static int text_head_lines(const struct model_process *p)
{
	struct text_mem t;
	int lines = 0;

	if (text_mem_open(&t))
		return 0;
	text_process_head(t.f, p);
	char *head = text_mem_close(&t);
	for (const char *c = head; c && *c; c++)
		lines += *c == '\n';
	free(head);
	return lines;
}

/*
 * Whether p's own block would say nothing its sockets' blocks do not:
 * it holds listeners, each shared with another process, its head is one
 * line, and its name, somaxconn and slow threshold are those the blocks
 * show (their first member's).
 */
static int text_folded(const struct totals *t, const struct model_process *p)
{
	if (p->n_listeners == 0)
		return 0;
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct totals_socket *s = text_shared(t, &p->listener[i]);
		if (!s)
			return 0;
		const struct model_process *q = t->member[s->first].proc;
		if (q->header.somaxconn != p->header.somaxconn ||
		    q->header.slow_ms != p->header.slow_ms ||
		    memcmp(q->comm, p->comm, sizeof(p->comm)))
			return 0;
	}
	return text_head_lines(p) == 1;
}

/* One block per process, then a total per shared socket (--per-process,
 * or when memory for grouping ran out). */
static void text_per_process(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->n_proc; i++) {
		if (i)
			fprintf(out, "\n");
		fprintf(out, "pid %d", (int)r->proc[i].pid);
		text_process(out, &r->proc[i], NULL);
	}
	text_totals(out, r);
}

/* p's block after "pid N" (text_process with t), as a heap string; NULL
 * when out of memory. */
static char *text_process_render(const struct model_process *p,
				 const struct totals *t)
{
	struct text_mem m;

	if (text_mem_open(&m))
		return NULL;
	text_process(m.f, p, t);
	return text_mem_close(&m);
}

/*
 * The processes with something of their own to say, those whose blocks
 * read the same but for the pid in one ("pids 101 102 (nginx) ...", as
 * workers whose stderr went to a log file), then one block per shared
 * socket.
 */
static void text_grouped(FILE *out, const struct report *r,
			 const struct totals *t)
{
	size_t n_proc = r->n_proc ? r->n_proc : 1;
	char **txt = calloc(n_proc, sizeof(*txt));
	char *done = calloc(n_proc, 1); /* folded, or printed */
	int first = 1;

	for (size_t i = 0; txt && done && i < r->n_proc; i++) {
		done[i] = (char)text_folded(t, &r->proc[i]);
		if (!done[i])
			txt[i] = text_process_render(&r->proc[i], t);
	}
	for (size_t i = 0; i < r->n_proc; i++) {
		if (done && done[i])
			continue;
		if (!first)
			fprintf(out, "\n");
		first = 0;
		fprintf(out, "pid");
		if (!txt || !txt[i]) { /* out of memory: a block of its own */
			fprintf(out, " %d", (int)r->proc[i].pid);
			text_process(out, &r->proc[i], t);
			continue;
		}
		int n = 0;
		for (size_t j = i + 1; j < r->n_proc; j++)
			n += txt[j] && !strcmp(txt[j], txt[i]);
		fprintf(out, "%s %d", n ? "s" : "", (int)r->proc[i].pid);
		for (size_t j = i + 1; n && j < r->n_proc; j++)
			if (txt[j] && !strcmp(txt[j], txt[i])) {
				fprintf(out, " %d", (int)r->proc[j].pid);
				done[j] = 1;
			}
		fputs(txt[i], out);
	}
	for (size_t i = 0; txt && i < r->n_proc; i++)
		free(txt[i]);
	free(txt);
	free(done);
	for (size_t i = 0; i < t->n_sockets; i++) {
		if (t->socket[i].n_procs < 2)
			continue;
		if (!first)
			fprintf(out, "\n");
		first = 0;
		text_socket(out, t, &t->socket[i]);
	}
}

void report_text(FILE *out, const struct report *r)
{
	struct totals t;

	if (r->per_process || totals_build(r, &t))
		text_per_process(out, r);
	else {
		text_grouped(out, r, &t);
		totals_free(&t);
	}
	if (!r->summary)
		return;
	if (r->n_proc == 0)
		fprintf(out, "no acceptwatch segments of live processes\n");
	fprintf(out,
		"\n%zu segment%s of exited processes skipped, %zu unreadable\n",
		r->skipped_exited, r->skipped_exited == 1 ? "" : "s",
		r->n_unreadable);
}

void report_text_unreadable(const struct report *r)
{
	for (size_t i = 0; i < r->n_unreadable; i++)
		aw_error("%s: %s", r->unreadable[i].name,
			 r->unreadable[i].reason);
}
