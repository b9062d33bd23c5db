/*
 * The JSON report: exactly one object on one line. Field names are a public
 * interface (scripts and the e2e tests read them): add, never rename, and
 * raise REPORT_JSON_SCHEMA when a field changes meaning. Strings from the
 * segment go through fmt_json_string() (UTF-8 kept).
 *
 * Units: every time is an integer in the unit its name ends with (_ns,
 * _ms); *_real_* are since the epoch. A figure that exceeds 2^53, where
 * readers that hold numbers as doubles (jq, JavaScript) round, is also
 * given in milliseconds: start_real_ms, time_real_ms, last_accept_age_ms,
 * and sum_ms beside a histogram's sum in ns.
 */
#include "report.h"

#include "format.h"
#include "histogram.h"
#include "stack_frames.h"
#include "totals.h"
#include "verdict.h"

#include <inttypes.h>

#include <string.h>
#include <sys/socket.h>

static void json_str(FILE *out, const char *s, size_t len)
{
	report_json_str(out, s, len > SEGMENT_ERR_LEN ? SEGMENT_ERR_LEN : len);
}

void report_json_frames(FILE *out, const char *text)
{
	int first = 1;

	if (!text) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n) {
			if (!first)
				fputc(',', out);
			report_json_str(out, text, n);
			first = 0;
		}
		text += n;
		if (*text)
			text++;
	}
	fputc(']', out);
}

static const char *stack_kind_name(uint32_t kind)
{
	switch (kind) {
	case AW_STACK_LISTEN:
		return "listen";
	case AW_STACK_SLOW:
		return "slow";
	default:
		return "other";
	}
}

static const char *file_state(int file)
{
	switch (file) {
	case SYMBOLIZE_FOUND:
		return "found";
	case SYMBOLIZE_MISSING:
		return "missing";
	case SYMBOLIZE_MISMATCH:
		return "build-id mismatch";
	case SYMBOLIZE_GAVE_UP:
		return "gave up";
	case SYMBOLIZE_NOT_ASKED:
		return "not read";
	default:
		return "unreadable";
	}
}

static void json_str_or_null(FILE *out, const char *s, size_t size)
{
	if (s[0])
		report_json_str(out, s, strnlen(s, size));
	else
		fputs("null", out);
}

/*
 * One frame, for symbolizing offline: the module's path as the process
 * mapped it, the build-id captured from its memory, the offset (the return
 * address in the file's ELF address space), and what the reader found.
 */
static void json_frame_info(FILE *out, const struct model_stack *st,
			    const struct model_frame *f)
{
	const struct model_module *m =
	    f->module < st->modules ? &st->module[f->module] : NULL;
	char printed[SEGMENT_FRAME_TEXT + 2];
	size_t n = stack_frame_print(printed, sizeof(printed), f, st);
	fprintf(out, "{\"printed\":");
	report_json_str(out, printed, n ? n - 1 : 0);
	fprintf(out, ",\"symbol\":");
	if (f->named)
		json_str_or_null(out, f->symbol, sizeof(f->symbol));
	else
		fputs("null", out);
	fprintf(out, ",\"symbol_offset\":");
	if (f->named)
		fprintf(out, "%" PRIu64, f->symbol_offset);
	else
		fputs("null", out);
	fprintf(out, ",\"offset\":%" PRIu64 ",\"path\":", f->offset);
	if (m == NULL) {
		fprintf(out, "null,\"build_id\":null,\"file\":null}");
		return;
	}
	json_str_or_null(out, m->path, sizeof(m->path));
	fprintf(out, ",\"build_id\":");
	json_str_or_null(out, m->build_id, sizeof(m->build_id));
	fprintf(out, ",\"file\":\"%s\"}", file_state(m->file));
}

static void json_stacks(FILE *out, const struct model_process *p)
{
	fprintf(out, ",\"stacks\":[");
	for (uint32_t i = 0; i < p->n_stacks; i++) {
		const struct model_stack *st = &p->stack[i];
		fprintf(out,
			"%s{\"index\":%" PRIu32 ",\"kind\":\"%s\","
			"\"listener\":%" PRIu32 ",\"hits\":%" PRIu64
			",\"frames\":",
			i ? "," : "", i, stack_kind_name(st->kind),
			st->listener, st->hits);
		report_json_frames(out, st->text);
		fprintf(out, ",\"frame_info\":[");
		for (uint32_t f = 0; f < st->frames; f++) {
			fputs(f ? "," : "", out);
			json_frame_info(out, st, &st->frame[f]);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "]");
}

/* The index in "stacks" of a reference, null when none. */
static void json_stack_index(FILE *out, const struct model_process *p,
			     uint32_t ref)
{
	if (model_stack_text(p, ref) == NULL)
		fputs("null", out);
	else
		fprintf(out, "%" PRIu32, ref - 1);
}

static void json_bool(FILE *out, const char *key, int v, const char *sep)
{
	fprintf(out, "\"%s\":%s%s", key, v ? "true" : "false", sep);
}

static void json_hist(FILE *out, const char *key, const struct aw_hist *h)
{
	size_t kl = strlen(key);
	int ns = kl > 3 && !strcmp(key + kl - 3, "_ns");

	fprintf(out,
		"\"%s\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64
		",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 ",\"sum\":%" PRIu64,
		key, aw_hist_count(h), aw_hist_quantile(h, 0.5),
		aw_hist_quantile(h, 0.99), h->max, h->sum);
	if (ns)
		fprintf(out, ",\"sum_ms\":%" PRIu64, h->sum / 1000000u);
	fputc('}', out);
}

static const char *family_name(uint32_t family)
{
	switch (family) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_UNIX:
		return "unix";
	default:
		return "other";
	}
}

/* An event; "stack": the frames of the loop where it happened (its
 * reference into the stack table), null when none or not in the table. */
static void json_event(FILE *out, const struct model_process *p,
		       const struct aw_event *e)
{
	fprintf(out,
		"{\"listener\":%" PRIu32 ",\"time_real_ns\":%" PRIu64
		",\"time_real_ms\":%" PRIu64 ",\"away_ns\":",
		e->listener, e->time_real_ns, e->time_real_ns / 1000000u);
	/* Unknown: the loop had drained the queue and idled since. */
	if (e->away_ns == UINT64_MAX)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRIu64, e->away_ns);
	fprintf(out, ",\"queue_wait_ms\":");
	if (e->queue_wait_ms == UINT64_MAX)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRIu64, e->queue_wait_ms);
	fprintf(out, ",\"depth\":");
	if (e->depth == UINT32_MAX)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRIu32, e->depth);
	fprintf(out, ",\"backlog\":%" PRIu32 ",\"tid\":%" PRId32 ",\"stack\":",
		e->backlog, e->tid);
	report_json_frames(out, model_stack_text(p, e->stack));
	fprintf(out, "}");
}

static void json_identity(FILE *out, const struct model_listener *l)
{
	fprintf(out,
		"\"slot\":%" PRIu32 ",\"fd\":%" PRId32 ",\"address\":", l->slot,
		l->fd);
	json_str(out, l->address, sizeof(l->address));
	fprintf(out, ",\"family\":\"%s\",\"requested_backlog\":",
		family_name(l->family));
	if (l->flags & AW_LF_ADOPTED)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRId32, l->requested_backlog);
	fprintf(out,
		",\"passed_backlog\":%" PRId32 ",\"effective_backlog\":%" PRIu32
		",\"somaxconn\":%" PRIu32 ",\"listen_calls\":%" PRIu32
		",\"ino\":%" PRIu64 ",\"generation\":%" PRIu32
		",\"descriptors\":%" PRIu32 ",",
		l->passed_backlog, l->effective_backlog, l->somaxconn,
		l->listen_calls, l->ino, l->generation, l->fds);
	json_bool(out, "clamped", l->flags & AW_LF_CLAMPED, ",");
	json_bool(out, "computed", l->flags & AW_LF_COMPUTED, ",");
	json_bool(out, "adopted", l->flags & AW_LF_ADOPTED, ",");
	json_bool(out, "closed", l->flags & AW_LF_CLOSED, ",");
	json_bool(out, "inherited", l->flags & AW_LF_INHERITED, ",");
	json_bool(out, "raised", l->flags & AW_LF_RAISED, ",");
	json_bool(out, "defer_accept", l->flags & AW_LF_DEFER_ACCEPT, ",");
	json_bool(out, "event_loop", l->flags & AW_LF_EVENT_LOOP, ",");
	json_bool(out, "backlog_unknown", l->flags & AW_LF_BACKLOG_UNKNOWN,
		  ",");
	json_bool(out, "consistent", l->consistent, ",");
}

static void json_counts(FILE *out, const struct model_listener *l)
{
	fprintf(out,
		"\"accepts\":%" PRIu64 ",\"drained\":%" PRIu64 ",\"errors\":{",
		l->accepts, l->drained);
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		fprintf(out, "%s\"%s\":%" PRIu64, c ? "," : "",
			report_err_name(c), l->errors[c]);
	fprintf(out,
		"},\"in_accept\":%" PRIu32 ",\"slow_events\":%" PRIu64
		",\"queue\":{\"now\":%" PRIu32 ",\"peak\":%" PRIu32
		",\"full_events\":%" PRIu64 ",\"sampled\":%" PRIu32
		"},\"socket_drops\":%" PRIu64
		",\"sampled_socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64
		",\"sampled_drops\":%" PRIu64 ",",
		l->in_accept, l->slow_events, l->live.queue_now, l->queue_peak,
		l->full_events, l->queue_now, l->live.drops, l->drops,
		l->live.drops, l->drops);
	/* The process's first reading of the socket's drops, and how many
	 * the socket dropped since: what verdicts charge it with. */
	fprintf(out, "\"socket_drops_baseline\":");
	if (l->drops_base_mono_ns)
		fprintf(out, "%" PRIu64 ",", l->drops_base);
	else
		fprintf(out, "null,");
	fprintf(out, "\"own_socket_drops\":%" PRIu64 ",\"kernel_backlog\":",
		verdict_own_drops(l));
	if (l->live.live)
		fprintf(out, "%" PRIu32 ",", l->live.kernel_backlog);
	else
		fprintf(out, "null,");
	json_bool(out, "live", l->live.live, ",");
	json_bool(out, "queue_live", l->live.queue_known, ",");
	json_bool(out, "stalled", l->stalled, ",");
}

static void json_listener(FILE *out, const struct model_process *p,
			  const struct model_listener *l)
{
	fprintf(out, "{");
	json_identity(out, l);
	json_counts(out, l);
	if (l->last_accept_mono_ns &&
	    p->now_mono_ns >= l->last_accept_mono_ns) {
		uint64_t age = p->now_mono_ns - l->last_accept_mono_ns;
		fprintf(out,
			"\"last_accept_age_ns\":%" PRIu64
			",\"last_accept_age_ms\":%" PRIu64 ",",
			age, age / 1000000u);
	} else {
		fprintf(out,
			"\"last_accept_age_ns\":null,\"last_accept_age_ms\":"
			"null,");
	}
	json_hist(out, "gap_ns", &l->gap_ns);
	fprintf(out, ",");
	json_hist(out, "away_ns", &l->away_ns);
	fprintf(out, ",");
	json_hist(out, "queue_wait_ms", &l->queue_wait_ms);
	fprintf(out, ",\"last_slow\":");
	if (l->has_last_slow)
		json_event(out, p, &l->last_slow);
	else
		fprintf(out, "null");
	fprintf(out, ",\"listen_stack\":");
	report_json_frames(out, model_stack_text(p, l->listen_stack));
	fprintf(out, ",\"slow_stack\":");
	report_json_frames(out, model_stack_text(p, l->slow_stack));
	fprintf(out, ",\"listen_stack_index\":");
	json_stack_index(out, p, l->listen_stack);
	fprintf(out, ",\"slow_stack_index\":");
	json_stack_index(out, p, l->slow_stack);
	fprintf(out, "}");
}

/* "detached": when and why the shim stopped writing the segment (the
 * process counts on in its own memory), or null. */
static void json_detached(FILE *out, const struct model_process *p)
{
	if (!(p->header.flags & AW_SF_DETACHED)) {
		fprintf(out, "\"detached\":null,");
		return;
	}
	char reason[128];
	snprintf(reason, sizeof(reason), "%s",
		 strerror(p->header.detached_errno));
	fprintf(out,
		"\"detached\":{\"time_real_ns\":%" PRIu64 ",\"errno\":%" PRId32
		",\"reason\":",
		p->header.detached_real_ns, p->header.detached_errno);
	json_str(out, reason, sizeof(reason));
	fprintf(out, "},");
}

/* The ACCEPTWATCH_* variables the shim found bad and ignored. */
static void json_ignored_env(FILE *out, uint32_t flags)
{
	const char *name;

	fprintf(out, "\"ignored_env\":[");
	for (unsigned int i = 0; (name = report_ignored_env(flags, i)); i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", name);
	fprintf(out, "],");
}

/* "stacks_off": why call-site stacks are off, or null when they are on
 * (or were never needed). */
static void json_stacks_off(FILE *out, uint32_t flags)
{
	const char *why = report_stacks_off(flags);

	fprintf(out, "\"stacks_off\":");
	if (why)
		json_str(out, why, strlen(why));
	else
		fprintf(out, "null");
	fprintf(out, ",");
}

static void json_process(FILE *out, const struct model_process *p)
{
	fprintf(out, "{\"pid\":%d,\"source\":\"%s\",\"segment\":", (int)p->pid,
		p->sampled ? "sampled" : "segment");
	json_str(out, p->name, sizeof(p->name));
	fprintf(out, ",\"comm\":");
	json_str(out, p->comm, sizeof(p->comm));
	fprintf(out,
		",\"somaxconn\":%" PRIu32 ",\"slow_ms\":%" PRIu32
		",\"parent_pid\":%" PRId32 ",\"start_real_ns\":%" PRIu64
		",\"start_real_ms\":%" PRIu64 ",\"listeners_lost\":%" PRIu64
		",\"events_total\":%" PRIu64 ",\"events_lost\":%" PRIu64 ",",
		p->header.somaxconn, p->header.slow_ms, p->header.parent_pid,
		p->header.start_real_ns, p->header.start_real_ns / 1000000u,
		p->header.listeners_lost, p->header.event_head,
		p->header.events_lost);
	json_bool(out, "alive", p->alive, ",");
	json_bool(out, "exited", !p->alive, ",");
	json_bool(out, "stopped", p->stopped, ",");
	json_bool(out, "io_uring", p->bypass & BYPASS_IO_URING, ",");
	json_bool(out, "log_fd2_changed",
		  p->header.flags & AW_SF_LOG_FD2_CHANGED, ",");
	json_bool(out, "log_failed", p->header.flags & AW_SF_LOG_FAILED, ",");
	json_ignored_env(out, p->header.flags);
	json_stacks_off(out, p->header.flags);
	json_detached(out, p);
	fprintf(out, "\"listeners\":[");
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		if (i)
			fprintf(out, ",");
		json_listener(out, p, &p->listener[i]);
	}
	fprintf(out, "],\"events\":[");
	for (uint32_t i = 0; i < p->n_events; i++) {
		if (i)
			fprintf(out, ",");
		json_event(out, p, &p->event[i]);
	}
	fprintf(out, "]");
	json_stacks(out, p);
	if (p->sampled)
		report_json_sampled(out, p);
	fprintf(out, "}");
}

/* One socket's figures across the processes that hold it. */
static void json_total(FILE *out, const struct totals *t,
		       const struct totals_socket *s)
{
	const struct model_listener *first = t->member[s->first].l;
	static struct aw_hist gap, away, wait; /* 15 KB: not on the stack */

	fprintf(out,
		"{\"dev\":%" PRIu64 ",\"ino\":%" PRIu64 ",\"address\":", s->dev,
		s->ino);
	json_str(out, first->address, sizeof(first->address));
	fprintf(out, ",\"pids\":[");
	for (size_t i = s->first, n = 0; i < s->first + s->n_members; i++)
		if (i == s->first || t->member[i].proc != t->member[i - 1].proc)
			fprintf(out, "%s%d", n++ ? "," : "",
				(int)t->member[i].proc->pid);
	fprintf(out,
		"],\"processes\":%zu,\"listeners\":%zu,\"accepts\":%" PRIu64
		",\"drained\":%" PRIu64 ",\"errors\":{",
		s->n_procs, s->n_members, s->accepts, s->drained);
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++)
		fprintf(out, "%s\"%s\":%" PRIu64, c ? "," : "",
			report_err_name(c), s->errors[c]);
	fprintf(out,
		"},\"slow_events\":%" PRIu64 ",\"queue\":{\"now\":%" PRIu32
		",\"peak\":%" PRIu32 ",\"full_events\":%" PRIu64
		"},\"socket_drops\":%" PRIu64 ",\"drops\":%" PRIu64 ",",
		s->slow_events, s->queue_now, s->queue_peak, s->full_events,
		s->drops, s->drops);
	json_bool(out, "event_loop", s->event_loop, ",");
	totals_hists(t, s, &gap, &away, &wait);
	json_hist(out, "gap_ns", &gap);
	fprintf(out, ",");
	json_hist(out, "away_ns", &away);
	fprintf(out, ",");
	json_hist(out, "queue_wait_ms", &wait);
	fprintf(out, "}");
}

/* "totals": every socket with an identity, across processes. */
static void json_totals(FILE *out, const struct report *r)
{
	struct totals t;

	fprintf(out, ",\"totals\":[");
	if (totals_build(r, &t) == 0) {
		for (size_t i = 0; i < t.n_sockets; i++) {
			if (i)
				fprintf(out, ",");
			json_total(out, &t, &t.socket[i]);
		}
		totals_free(&t);
	}
	fprintf(out, "]");
}

void report_json_unreadable(FILE *out, const struct report *r)
{
	fprintf(out, "\"unreadable\":[");
	for (size_t i = 0; i < r->n_unreadable; i++) {
		const struct report_unreadable *u = &r->unreadable[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, u->name, sizeof(u->name));
		fprintf(out, ",\"reason\":");
		json_str(out, u->reason, sizeof(u->reason));
		fprintf(out, "}");
	}
	fprintf(out, "]");
}

void report_json(FILE *out, const struct report *r)
{
	fprintf(out, "{\"schema\":%d,\"processes\":[", REPORT_JSON_SCHEMA);
	for (size_t i = 0; i < r->n_proc; i++) {
		if (i)
			fprintf(out, ",");
		json_process(out, &r->proc[i]);
	}
	fprintf(out, "]");
	json_totals(out, r);
	fprintf(out, ",");
	report_json_unreadable(out, r);
	fprintf(out, ",\"skipped_exited\":%zu}\n", r->skipped_exited);
}
