/*
 * top's frame: rows, windows, verdicts and their order.
 */
#include "top_model.h"

#include "gather.h"

#include <stdlib.h>
#include <string.h>

static int row_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	/* The most urgent verdict first (lowest bit), OK rows last. */
	int ux = x->mask ? __builtin_ctz(x->mask) : VERDICT_KINDS;
	int uy = y->mask ? __builtin_ctz(y->mask) : VERDICT_KINDS;

	if (ux != uy)
		return ux - uy;
	if (x->fill != y->fill)
		return x->fill < y->fill ? 1 : -1;
	if (x->accepts_s != y->accepts_s)
		return x->accepts_s < y->accepts_s ? 1 : -1;
	return x->p->pid - y->p->pid;
}

static void judge(struct top_row *r, const struct model_process *pp,
		  const struct recent_table *mem, uint64_t recent_ns)
{
	const struct model_listener *l = r->l;

	if (r->before)
		verdict_window_between(pp, r->before, r->p, l, &r->w);
	/* STATE follows the window, as check's verdict. */
	r->w.recent_ns = recent_ns;
	recent_apply(mem, r->p, l, &r->w);
	r->mask = verdict_mask(r->p, l, &r->w);
	r->fill = (double)l->live.queue_now /
		  (l->effective_backlog ? l->effective_backlog : 1);
	if (r->w.have && r->w.ns)
		r->accepts_s = (double)r->w.accepts * 1e9 / (double)r->w.ns;
}

void top_frame_build(struct top_frame *f, const struct report *cur,
		     const struct report *prev, const struct recent_table *mem,
		     uint64_t recent_ns)
{
	size_t total = 0, k = 0;

	memset(f, 0, sizeof(*f));
	f->cur = cur;
	for (size_t i = 0; i < cur->n_proc; i++)
		total += cur->proc[i].n_listeners;
	f->row = calloc(total ? total : 1, sizeof(*f->row));
	if (!f->row)
		return;
	for (size_t i = 0; i < cur->n_proc; i++) {
		const struct model_process *p = &cur->proc[i];
		const struct model_process *pp =
		    prev ? gather_find(prev, p) : NULL;
		for (uint32_t j = 0; j < p->n_listeners; j++) {
			const struct model_listener *l = &p->listener[j];
			if (l->flags & AW_LF_CLOSED)
				continue;
			struct top_row *r = &f->row[k++];
			r->p = p;
			r->l = l;
			r->before = pp ? gather_find_listener(pp, l) : NULL;
			judge(r, pp, mem, recent_ns);
		}
	}
	qsort(f->row, k, sizeof(*f->row), row_cmp);
	f->n_rows = k;
}

void top_frame_free(struct top_frame *f)
{
	free(f->row);
	memset(f, 0, sizeof(*f));
}
