/*
 * Live kernel readings per listener. The shim's own probes stop when its
 * process stops accepting, which is exactly when the queue matters, so the
 * verdicts (STALLED first) use what the kernel says now.
 */
#include "live.h"

#include "procinfo.h"

#include <string.h>

void live_init(struct live_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->have_netns =
	    procinfo_netns(0, &ctx->netns_dev, &ctx->netns_ino) == 0;
}

void live_free(struct live_context *ctx)
{
	sockdiag_free(&ctx->table);
	for (size_t i = 0; i < ctx->n_other; i++)
		sockdiag_free(&ctx->other[i].table);
}

/* The netlink table, dumped on first use. NULL when netlink failed. */
static const struct sockdiag_table *live_table(struct live_context *ctx)
{
	char err[128];

	if (!ctx->dump_tried) {
		ctx->dump_tried = 1;
		ctx->dump_ok =
		    sockdiag_dump_with(&ctx->table, SOCKDIAG_WITH_UNIX, err,
				       sizeof(err)) == 0;
	}
	return ctx->dump_ok ? &ctx->table : NULL;
}

/*
 * Whether every open listener of snap is in the dump of the reader's own
 * namespace: a socket is listed only in its own namespace's dump, so its
 * namespace is ours, and /proc/PID/ns/net need not be read (a path walk
 * and a stat a process, each scrape). A process without an open listener
 * is looked up as before.
 */
static int listeners_in_own(struct live_context *ctx,
			    const struct model_process *snap)
{
	const struct sockdiag_table *t =
	    ctx->have_netns ? live_table(ctx) : NULL;
	int any = 0;

	for (uint32_t i = 0; t && i < snap->n_listeners; i++) {
		const struct model_listener *l = &snap->listener[i];
		if (l->flags & AW_LF_CLOSED)
			continue;
		if (!l->ino || !sockdiag_find(t, l->ino))
			return 0;
		any = 1;
	}
	return any;
}

/*
 * The table of the network namespace snap's listeners are in: ours, or
 * else its process's, dumped from inside it (once per namespace; one that
 * cannot be entered, as without privilege, is remembered as such). NULL
 * when there is none. The namespace's inode, when known, into snap->netns.
 */
static const struct sockdiag_table *netns_table(struct live_context *ctx,
						struct model_process *snap)
{
	uint64_t dev, ino;
	char err[160];

	if (listeners_in_own(ctx, snap)) {
		snap->netns = ctx->netns_ino;
		return live_table(ctx);
	}
	if (procinfo_netns(snap->pid, &dev, &ino))
		return NULL;
	snap->netns = ino;
	if (!ctx->have_netns)
		return NULL;
	if (dev == ctx->netns_dev && ino == ctx->netns_ino)
		return live_table(ctx);
	for (size_t i = 0; i < ctx->n_other; i++) {
		struct live_netns *o = &ctx->other[i];
		if (o->dev == dev && o->ino == ino)
			return o->dump_ok ? &o->table : NULL;
	}
	if (ctx->n_other == LIVE_MAX_NETNS)
		return NULL;
	struct live_netns *o = &ctx->other[ctx->n_other++];
	o->dev = dev;
	o->ino = ino;
	o->dump_ok = sockdiag_dump_netns(snap->pid, SOCKDIAG_WITH_UNIX,
					 &o->table, err, sizeof(err)) == 0;
	return o->dump_ok ? &o->table : NULL;
}

static void live_reading(const struct sockdiag_table *table, pid_t pid,
			 struct model_listener *l)
{
	struct model_live *r = &l->live;
	const struct sockdiag_entry *e =
	    table && l->ino ? sockdiag_find(table, l->ino) : NULL;

	r->drops = l->drops; /* the shim's sample, unless the kernel says */
	if (e) {
		r->queue_known = 1;
		r->queue_now = e->rqueue;
		r->kernel_backlog = e->wqueue;
		if (e->has_drops) {
			r->drops = e->drops;
			r->live = 1;
		}
		return;
	}
	/* Other namespace, netlink refused, or not found there. */
	if (l->ino && sockdiag_proc_queue(pid, l->ino, &r->queue_now) == 0)
		r->queue_known = 1;
	else
		r->queue_now = l->queue_now;
}

void live_apply(struct live_context *ctx, struct model_process *snap)
{
	const struct sockdiag_table *table = NULL;

	if (snap->alive)
		table = netns_table(ctx, snap);
	for (uint32_t i = 0; i < snap->n_listeners; i++) {
		struct model_listener *l = &snap->listener[i];
		/* An exited process's sockets are gone; an inode now may
		 * belong to some other socket. Keep the shim's figures. */
		if (snap->alive && !(l->flags & AW_LF_CLOSED))
			live_reading(table, snap->pid, l);
		else {
			l->live.queue_now = l->queue_now;
			l->live.drops = l->drops;
		}
	}
}
