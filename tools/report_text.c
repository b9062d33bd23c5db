/*
 * The text report: one block per process, one per listener, figures in
 * human units. Every string from the segment goes through fmt_printable():
 * it is another process's memory and must not drive the terminal.
 */
#include "report.h"

#include "bypass.h"
#include "error.h"

#include "format.h"
#include "histogram.h"
#include "live.h"
#include "totals.h"

#include <inttypes.h>
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

static void text_backlog(FILE *out, const struct model_listener *l)
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
	fprintf(out, "\n");
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

static void text_slow(FILE *out, const struct model_process *p,
		      const struct model_listener *l)
{
	char when[16], ago[FMT_DURATION_LEN], away[FMT_DURATION_LEN],
	    wait[FMT_DURATION_LEN];
	const struct aw_event *e = &l->last_slow;

	fprintf(out, "    slow events %" PRIu64, l->slow_events);
	if (!l->has_last_slow) {
		fprintf(out, "\n");
		return;
	}
	text_clock(when, sizeof(when), e->time_real_ns);
	fmt_duration(ago, sizeof(ago),
		     p->now_real_ns > e->time_real_ns
			 ? p->now_real_ns - e->time_real_ns
			 : 0);
	fmt_duration(away, sizeof(away), e->away_ns);
	if (e->queue_wait_ms == UINT64_MAX)
		snprintf(wait, sizeof(wait), "?");
	else
		fmt_duration(wait, sizeof(wait),
			     fmt_ms_to_ns(e->queue_wait_ms));
	fprintf(out, ", last at %s (%s ago): away %s, queue wait %s, depth ",
		when, ago, away, wait);
	if (e->depth == UINT32_MAX)
		fprintf(out, "?");
	else
		fprintf(out, "%" PRIu32, e->depth);
	fprintf(out, "/%" PRIu32 ", tid %" PRId32 "\n", e->backlog, e->tid);
}

static void text_stalled(FILE *out, const struct model_process *p,
			 const struct model_listener *l)
{
	char since[FMT_DURATION_LEN];

	if (!l->stalled)
		return;
	fmt_duration(since, sizeof(since),
		     p->now_mono_ns - live_last_progress(l));
	fprintf(out,
		"    STALLED: %" PRIu32 " connection%s waiting, %s, "
		"no accept for %s (threshold %" PRIu32 "ms)\n",
		l->live.queue_now, l->live.queue_now == 1 ? "" : "s",
		p->stopped ? "process stopped" : "no thread in accept", since,
		p->header.slow_ms);
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
	text_backlog(out, l);
	text_counts(out, l);
	text_hist(out, "gap", &l->gap_ns, 0);
	text_hist(out, "away", &l->away_ns, 0);
	text_hist(out, "queue wait", &l->queue_wait_ms, 1);
	text_threads(out, p, l);
	text_slow(out, p, l);
	text_stalled(out, p, l);
	if (l->flags & AW_LF_DEFER_ACCEPT)
		fprintf(out, "    TCP_DEFER_ACCEPT on: connections that have "
			     "sent no data wait outside the accept queue, "
			     "unseen by these figures; the socket drops also "
			     "count the handshake ACKs it discards, so they "
			     "alone are no sign of overflow here\n");
	report_text_stack(out, "    ", "listen() called from",
			  model_stack_text(p, l->listen_stack));
	report_text_stack(out, "    ", "accept loop at the last slow event",
			  model_stack_text(p, l->slow_stack));
}

static void text_process(FILE *out, const struct model_process *p)
{
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)];

	fmt_printable(comm, sizeof(comm), p->comm, sizeof(p->comm));
	fprintf(out,
		"pid %d (%s)  somaxconn %" PRIu32 "  slow %" PRIu32 "ms%s%s\n",
		(int)p->pid, comm, p->header.somaxconn, p->header.slow_ms,
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
	if (p->n_listeners == 0)
		fprintf(out, "  no listeners\n");
	for (uint32_t i = 0; i < p->n_listeners; i++)
		text_listener(out, p, &p->listener[i]);
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
	text_hist(out, "away", &away, 0);
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

void report_text(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->n_proc; i++) {
		if (i)
			fprintf(out, "\n");
		text_process(out, &r->proc[i]);
	}
	text_totals(out, r);
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
