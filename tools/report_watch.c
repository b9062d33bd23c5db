/*
 * watch's renderers: the process blocks stat prints, then what sampling
 * adds (threads' shares of samples, notes, verdicts); and the "sampled"
 * object of its JSON. They format the watch model and decide nothing.
 */
#include "report.h"

#include "format.h"
#include "watch_model.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Shares printed per thread, largest first; the rest are summed. */
#define SHARES_SHOWN 4

static int by_samples(const void *a, const void *b)
{
	const struct sampler_state *x = *(const struct sampler_state *const *)a;
	const struct sampler_state *y = *(const struct sampler_state *const *)b;

	return x->samples < y->samples ? 1 : x->samples > y->samples ? -1 : 0;
}

/* The thread's states, most sampled first, into order[]. How many. */
static size_t sorted_states(const struct sampler_thread *th,
			    const struct sampler_state **order)
{
	for (size_t i = 0; i < th->n_states; i++)
		order[i] = &th->state[i];
	qsort(order, th->n_states, sizeof(*order), by_samples);
	return th->n_states;
}

/* "in accept4 on fd 3" / "asleep in clock_nanosleep": one state. */
static void state_text(char *dst, size_t len, const struct sampler_state *st)
{
	char what[64];

	sample_describe(what, sizeof(what), st->kind, st->label);
	if (st->fd >= 0 &&
	    (st->kind == SAMPLE_IN_ACCEPT || st->kind == SAMPLE_IN_POLL))
		snprintf(dst, len, "%s on fd %d", what, st->fd);
	else
		snprintf(dst, len, "%s", what);
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void text_thread(FILE *out, const struct sampler_thread *th)
{
	const struct sampler_state *order[SAMPLER_STATES];
	char comm[FMT_PRINTABLE_LEN(sizeof(th->comm))], what[96];
	size_t n = sorted_states(th, order);
	uint64_t rest = th->other_samples;

	fmt_printable(comm, sizeof(comm), th->comm, sizeof(th->comm));
	fprintf(out, "  tid %-6d %-15s", (int)th->task.tid, comm);
	for (size_t i = 0; i < n; i++) {
		if (i >= SHARES_SHOWN) {
			rest += order[i]->samples;
			continue;
		}
		state_text(what, sizeof(what), order[i]);
		fprintf(out, "  %s %.0f%%", what,
			share(order[i]->samples, th->samples));
	}
	if (rest)
		fprintf(out, "  other %.0f%%", share(rest, th->samples));
	fprintf(out, "%s\n", th->gone ? "  (exited)" : "");
}

static void text_verdicts(FILE *out, const struct model_process *p,
			  const struct watch_view *v)
{
	char addr[FMT_PRINTABLE_LEN(AW_ADDR_LEN)];

	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct watch_listener_verdicts *lv = &v->lv[i];
		fmt_printable(addr, sizeof(addr), p->listener[i].address,
			      sizeof(p->listener[i].address));
		if (lv->n == 0) {
			fprintf(out, "  %s: OK\n", addr);
			continue;
		}
		for (int k = 0; k < lv->n; k++) {
			fprintf(out, "  %s %s: %s\n", addr,
				verdict_name(lv->v[k].kind), lv->v[k].evidence);
			fprintf(out, "    fix: %s\n", lv->v[k].fix);
		}
	}
}

static void text_sampled(FILE *out, const struct model_process *p)
{
	const struct watch_view *v = p->sampled;
	const struct sampler *s = v->s;
	char span[FMT_DURATION_LEN], away[FMT_DURATION_LEN];

	fmt_duration(span, sizeof(span), s->now_ns - s->start_ns);
	fprintf(out,
		"  sampled from outside for %s at %u Hz: %" PRIu64
		" samples of %zu thread%s\n",
		span, s->hz, v->p->samples, v->p->n_threads,
		v->p->n_threads == 1 ? "" : "s");
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct sampler_listener *sl = &v->p->listener[i];
		if (v->lv[i].away_mean_ns == 0)
			continue;
		fmt_duration(away, sizeof(away), v->lv[i].away_mean_ns);
		fprintf(out,
			"  %s: away from accept %s per accept (mean), "
			"%" PRIu64 " connections seen leaving the queue\n",
			sl->address, away, sl->left);
	}
	for (size_t i = 0; v->threads_known && i < v->p->n_threads; i++)
		text_thread(out, &v->p->thread[i]);
	for (size_t i = 0; i < v->n_notes; i++)
		fprintf(out, "  %s\n", v->note[i]);
	text_verdicts(out, p, v);
}

void report_watch_text(FILE *out, const struct watch_model *m)
{
	for (size_t i = 0; i < m->r.n_proc; i++) {
		struct report one = {0};
		one.proc = &m->r.proc[i];
		one.n_proc = 1;
		if (i)
			fprintf(out, "\n");
		report_text(out, &one);
		text_sampled(out, &m->r.proc[i]);
	}
}

static void json_thread(FILE *out, const struct sampler_thread *th)
{
	const struct sampler_state *order[SAMPLER_STATES];
	size_t n = sorted_states(th, order);
	char what[96];

	fprintf(out, "{\"tid\":%d,\"comm\":", (int)th->task.tid);
	report_json_str(out, th->comm, strnlen(th->comm, sizeof(th->comm)));
	fprintf(out, ",\"samples\":%" PRIu64 ",\"exited\":%s,\"states\":[",
		th->samples, th->gone ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		static const char *const kind[SAMPLE_KINDS] = {
		    "in_accept", "in_poll", "running",
		    "asleep",	 "stopped", "unknown"};
		const struct sampler_state *st = order[i];
		state_text(what, sizeof(what), st);
		fprintf(out, "%s{\"state\":\"%s\",\"call\":", i ? "," : "",
			kind[st->kind]);
		report_json_str(out, st->label,
				strnlen(st->label, sizeof(st->label)));
		fprintf(out, ",\"fd\":");
		if (st->fd >= 0)
			fprintf(out, "%d", st->fd);
		else
			fputs("null", out);
		fprintf(out, ",\"text\":");
		report_json_str(out, what, strlen(what));
		fprintf(out, ",\"samples\":%" PRIu64 ",\"share\":%.4f}",
			st->samples, share(st->samples, th->samples) / 100.0);
	}
	fprintf(out, "],\"other_samples\":%" PRIu64 "}", th->other_samples);
}

static void json_listener(FILE *out, const struct model_process *p,
			  const struct watch_view *v, uint32_t i)
{
	const struct sampler_listener *sl = &v->p->listener[i];
	const struct watch_listener_verdicts *lv = &v->lv[i];

	fprintf(out,
		"{\"slot\":%" PRIu32 ",\"edge_triggered\":%s,"
		"\"defer_accept_known\":%s,\"away_mean_ns\":",
		p->listener[i].slot, sl->edge_triggered ? "true" : "false",
		sl->defer < 0 ? "false" : "true");
	if (lv->away_mean_ns)
		fprintf(out, "%" PRIu64, lv->away_mean_ns);
	else
		fputs("null", out);
	fprintf(out,
		",\"away_stretches\":%zu,\"left_queue\":%" PRIu64
		",\"threads_in_accept\":%" PRIu32
		",\"socket_drops_during\":%" PRIu64 ",\"verdicts\":[",
		sl->n_episodes, sl->left, sl->in_accept_now,
		sl->drops_now - sl->drops_first);
	for (int k = 0; k < lv->n; k++) {
		fprintf(out,
			"%s{\"verdict\":\"%s\",\"name\":\"%s\",\"evidence\":",
			k ? "," : "", verdict_key(lv->v[k].kind),
			verdict_name(lv->v[k].kind));
		report_json_str(out, lv->v[k].evidence,
				strnlen(lv->v[k].evidence, VERDICT_TEXT));
		fprintf(out, ",\"fix\":");
		report_json_str(out, lv->v[k].fix,
				strnlen(lv->v[k].fix, VERDICT_TEXT));
		fputc('}', out);
	}
	fprintf(out, "]}");
}

void report_json_sampled(FILE *out, const struct model_process *p)
{
	const struct watch_view *v = p->sampled;
	const struct sampler *s = v->s;
	const struct sampler_proc *sp = v->p;
	uint64_t dumps = s->conns.gen;

	fprintf(out,
		",\"sampled\":{\"duration_ns\":%" PRIu64 ",\"hz\":%u"
		",\"samples\":%" PRIu64 ",\"threads_known\":%s"
		",\"thread_source\":\"%s\",\"descriptors_readable\":%s"
		",\"stopped_ns\":%" PRIu64 ",\"threads\":[",
		s->now_ns - s->start_ns, s->hz, sp->samples,
		v->threads_known ? "true" : "false",
		sp->syscall_known ? "syscall"
		: sp->wchan_known ? "wchan"
				  : "none",
		sp->fds_readable ? "true" : "false", sp->stopped_ns);
	for (size_t i = 0; v->threads_known && i < sp->n_threads; i++) {
		fputs(i ? "," : "", out);
		json_thread(out, &sp->thread[i]);
	}
	fprintf(out, "],\"listeners\":[");
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		fputs(i ? "," : "", out);
		json_listener(out, p, v, i);
	}
	fprintf(out, "],\"notes\":[");
	for (size_t i = 0; i < v->n_notes; i++) {
		fputs(i ? "," : "", out);
		report_json_str(out, v->note[i],
				strnlen(v->note[i], WATCH_NOTE_LEN));
	}
	fprintf(out,
		"],\"cost\":{\"ticks\":%" PRIu64 ",\"thread_reads\":%" PRIu64
		",\"thread_read_ns\":%" PRIu64 ",\"listener_reads\":%" PRIu64
		",\"listener_dumps\":%" PRIu64 ",\"listener_read_ns\":%" PRIu64
		",\"connection_dumps\":%" PRIu64
		",\"connection_dump_ns\":%" PRIu64
		",\"connection_dump_max_ns\":%" PRIu64
		",\"connections_lost\":%" PRIu64 ",\"cpu_ns\":%" PRIu64
		",\"errors\":%" PRIu64 ",\"last_error\":",
		s->ticks, s->thread_reads, s->thread_read_ns, s->listener_reads,
		s->listener_dumps, s->listener_dump_ns, dumps,
		s->conns.dump_ns_total, s->conns.dump_ns_max, s->conns.lost,
		s->self_cpu_ns, s->conn_errors);
	if (s->last_error[0])
		report_json_str(out, s->last_error, strlen(s->last_error));
	else
		fputs("null", out);
	fputs("}}", out);
}
