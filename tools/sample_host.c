/*
 * The host's listeners over time. A tick is one sockdiag_dump (IPv4 and
 * IPv6 LISTEN sockets with SK_MEMINFO): the kernel walks its listening
 * hash only, so a tick costs the same whatever the number of connections.
 * Sockets are kept by inode (stable for the socket's life) in a uthash
 * table; one not in a dump has closed and is forgotten.
 */
#include "sample_host.h"

#include "procinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One table, one thread (the caller's): out of memory is a failed add. */
static int host_add_failed;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((void)(e), host_add_failed = 1)
#include <uthash.h>

struct sample_host_socket {
	uint64_t ino; /* the key */
	struct sockdiag_entry e;
	uint32_t slot;
	uint32_t peak;	      /* of the interval */
	uint64_t drops_start; /* at the interval's start */
	uint64_t start_ns;    /* the interval's start for this socket */
	uint64_t full;	      /* dumps that saw rqueue > wqueue */
	uint64_t dumps;	      /* dumps that read it */
	uint64_t seen;	      /* the tick that read it last */
	UT_hash_handle hh;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sample_host_now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint32_t read_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	unsigned int n = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%u", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

void sample_host_init(struct sample_host *h)
{
	uint64_t dev;

	memset(h, 0, sizeof(*h));
	if (procinfo_netns(0, &dev, &h->netns))
		h->netns = 0;
	h->somaxconn = read_somaxconn();
}

/* A new socket seen at now: its interval starts with this reading. */
static struct sample_host_socket *socket_add(struct sample_host *h,
					     const struct sockdiag_entry *e,
					     uint64_t now_ns)
{
	struct sample_host_socket *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ino = e->ino;
	s->slot = h->next_slot++;
	s->drops_start = e->drops;
	s->start_ns = now_ns;
	host_add_failed = 0;
	HASH_ADD(hh, h->by_ino, ino, sizeof(s->ino), s);
	if (host_add_failed) {
		free(s);
		return NULL;
	}
	return s;
}

static void socket_read(struct sample_host_socket *s,
			const struct sockdiag_entry *e, uint64_t tick)
{
	s->e = *e;
	if (e->rqueue > s->peak)
		s->peak = e->rqueue;
	/* The queue holds backlog + 1 before SYNs drop: past the backlog
	 * is full, as the shim's probe counts it. */
	if (e->rqueue > e->wqueue)
		s->full++;
	s->dumps++;
	s->seen = tick;
}

int sample_host_tick(struct sample_host *h, uint64_t now_ns)
{
	struct sockdiag_table t;
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	if (sockdiag_dump(&t, h->last_error, sizeof(h->last_error))) {
		h->errors++;
		return -1;
	}
	uint64_t tick = ++h->ticks;
	if (!h->take_ns)
		h->take_ns = now_ns;
	for (size_t i = 0; i < t.n; i++) {
		const struct sockdiag_entry *e = &t.entry[i];
		struct sample_host_socket *s;
		HASH_FIND(hh, h->by_ino, &e->ino, sizeof(e->ino), s);
		if (!s)
			s = socket_add(h, e, now_ns);
		if (s) /* out of memory: this socket is not followed now */
			socket_read(s, e, tick);
	}
	sockdiag_free(&t);
	struct sample_host_socket *s, *tmp;
	HASH_ITER(hh, h->by_ino, s, tmp)
	{
		/* HASH_ITER sets s before the body: cppcheck cannot see it. */
		// cppcheck-suppress uninitvar
		if (s->seen != tick) {
			HASH_DEL(h->by_ino, s);
			free(s);
		}
	}
	h->now_ns = now_ns;
	h->now_real_ns = clock_ns(CLOCK_REALTIME);
	h->dump_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	return 0;
}

static void fill_listener(const struct sample_host *h,
			  const struct sample_host_socket *s,
			  struct model_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->slot = s->slot;
	l->consistent = 1;
	l->fd = -1; /* no process speaks for it */
	l->family = s->e.family;
	l->ino = s->ino;
	snprintf(l->address, sizeof(l->address), "%s", s->e.address);
	/* The program's wish is not in the kernel: only what it got. */
	l->requested_backlog = -1;
	l->passed_backlog = (int32_t)s->e.wqueue;
	l->effective_backlog = s->e.wqueue;
	l->somaxconn = h->somaxconn;
	l->flags = AW_LF_ADOPTED;
	l->listen_mono_ns = s->start_ns; /* listening at least since then */
	l->samples = s->dumps;
	l->queue_now = s->e.rqueue;
	l->queue_peak = s->peak;
	l->full_events = s->full;
	l->drops = s->e.drops;
	l->drops_mono_ns = h->now_ns;
	/* The interval's first reading is the baseline: only the rise since
	 * is charged (verdict_own_drops), dated at the latest. */
	l->drops_base = s->drops_start;
	l->drops_base_mono_ns = s->start_ns;
	l->drops_rise_mono_ns = s->e.drops > s->drops_start ? h->now_ns : 0;
	l->sample_mono_ns = h->now_ns;
	l->live.queue_known = 1;
	l->live.live = s->e.has_drops;
	l->live.queue_now = s->e.rqueue;
	l->live.kernel_backlog = s->e.wqueue;
	l->live.drops = s->e.drops;
}

static int slot_cmp(const void *a, const void *b)
{
	const struct model_listener *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* The next interval: each peak from the queue now, drops from now. */
static void interval_restart(struct sample_host *h)
{
	struct sample_host_socket *s, *tmp;

	HASH_ITER(hh, h->by_ino, s, tmp)
	{
		/* HASH_ITER sets s before the body: cppcheck cannot see it. */
		// cppcheck-suppress uninitvar
		s->peak = s->e.rqueue;
		s->drops_start = s->e.drops;
		s->start_ns = h->now_ns;
	}
	h->take_ns = h->now_ns;
}

static int ino_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int sample_host_hold(struct sample_host_held *held,
		     const struct model_process *p)
{
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct model_listener *l = &p->listener[i];
		if ((l->flags & AW_LF_CLOSED) || !l->ino)
			continue;
		if (held->n == held->cap) {
			size_t cap = held->cap ? held->cap * 2 : 64;
			uint64_t *n = realloc(held->ino, cap * sizeof(*n));
			if (!n)
				return -1;
			held->ino = n;
			held->cap = cap;
		}
		held->ino[held->n++] = l->ino;
		held->sorted = 0;
	}
	return 0;
}

void sample_host_held_free(struct sample_host_held *held)
{
	free(held->ino);
	memset(held, 0, sizeof(*held));
}

static int is_held(struct sample_host_held *held, uint64_t ino)
{
	if (!held || held->n == 0)
		return 0;
	if (!held->sorted) {
		qsort(held->ino, held->n, sizeof(*held->ino), ino_cmp);
		held->sorted = 1;
	}
	return bsearch(&ino, held->ino, held->n, sizeof(*held->ino), ino_cmp) !=
	       NULL;
}

int sample_host_take(struct sample_host *h, struct model_process *snap,
		     struct sample_host_held *held)
{
	size_t n = 0;
	struct sample_host_socket *s, *tmp;

	memset(snap, 0, sizeof(*snap));
	snprintf(snap->name, sizeof(snap->name), "kernel");
	snap->kernel_only = 1;
	snap->alive = 1;
	snap->header.somaxconn = h->somaxconn;
	snap->now_mono_ns = h->now_ns;
	snap->now_real_ns = h->now_real_ns;
	snap->netns = h->netns;
	size_t total = HASH_COUNT(h->by_ino);
	snap->listener = calloc(total ? total : 1, sizeof(*snap->listener));
	if (!snap->listener) {
		interval_restart(h);
		return -1;
	}
	HASH_ITER(hh, h->by_ino, s, tmp)
	{
		/* HASH_ITER sets s before the body: cppcheck cannot see it. */
		// cppcheck-suppress uninitvar
		if (!is_held(held, s->ino))
			fill_listener(h, s, &snap->listener[n++]);
	}
	qsort(snap->listener, n, sizeof(*snap->listener), slot_cmp);
	snap->n_listeners = (uint32_t)n;
	interval_restart(h);
	return 0;
}

int sample_host_add(struct sample_host *h, struct report *r)
{
	struct sample_host_held held = {0};
	struct model_process snap;
	int ret = 0;

	for (size_t i = 0; i < r->n_proc && ret == 0; i++)
		ret = sample_host_hold(&held, &r->proc[i]);
	if (ret == 0)
		ret = sample_host_take(h, &snap, &held);
	sample_host_held_free(&held);
	if (ret)
		return -1;
	if (snap.n_listeners == 0) {
		model_process_free(&snap);
		return 0;
	}
	struct model_process *p =
	    realloc(r->proc, (r->n_proc + 1) * sizeof(*p));
	if (!p) {
		model_process_free(&snap);
		return -1;
	}
	r->proc = p;
	r->proc[r->n_proc++] = snap;
	return 1;
}

int sample_host_table(const struct sample_host *h, struct sockdiag_table *t)
{
	const struct sample_host_socket *s, *tmp;
	size_t n = HASH_COUNT(h->by_ino);

	memset(t, 0, sizeof(*t));
	t->entry = calloc(n ? n : 1, sizeof(*t->entry));
	if (!t->entry)
		return -1;
	t->cap = n ? n : 1;
	HASH_ITER(hh, h->by_ino, s, tmp)
	{
		t->entry[t->n++] = s->e;
	}
	return 0;
}

int sample_host_find(const struct sample_host *h, uint64_t ino,
		     struct sample_host_figures *f)
{
	const struct sample_host_socket *s;

	HASH_FIND(hh, h->by_ino, &ino, sizeof(ino), s);
	if (!s)
		return -1;
	f->peak = s->peak;
	f->drops_rise =
	    s->e.drops > s->drops_start ? s->e.drops - s->drops_start : 0;
	f->ns = h->now_ns - s->start_ns;
	return 0;
}

void sample_host_free(struct sample_host *h)
{
	struct sample_host_socket *s, *tmp;

	HASH_ITER(hh, h->by_ino, s, tmp)
	{
		HASH_DEL(h->by_ino, s);
		free(s);
	}
	memset(h, 0, sizeof(*h));
}
