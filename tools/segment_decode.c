/*
 * The segment decoder: a segment's bytes into the model (struct
 * model_process), nothing about its process (segment_reader.c judges
 * that). The segment is another process's memory, changing under us and
 * possibly forged: its header is validated (segment_check) before any
 * offset in it is used, and only the parts in use are read, with pread(),
 * into private memory. Seq-guarded records are read between two reads of
 * their seq.
 *
 * Why pread and not mmap: a segment is 3.8 MB of which a reader needs a few
 * pages; mapping and unmapping it for each of 1,000 processes was 41% of
 * the reader's time (page tables built and torn down), and a file truncated
 * under a mapping raised SIGBUS, where pread just returns short.
 *
 * What pread promises about concurrent stores: nothing per word. The
 * kernel's copy_to_user loads an 8-byte aligned word of the source with one
 * access on the machines it runs on (x86-64: `rep movsb` under ERMS/FSRM,
 * which moves whole aligned chunks, or a loop of 8-byte moves; arm64:
 * ldp/ldr once the source is aligned, and segment offsets are), so a
 * counter, an aligned 8-byte word, is read whole; but Intel documents
 * fast-string copies as unordered, not their access width, and no
 * interface states it. The counters rest on that: a word read torn would
 * show one wrong figure once. The seqlocks rest on less: a record is taken
 * only when its seq reads the exact expected value before and after the copy,
 * and the preads are ordered by acquire fences between them (within one
 * pread the loads come in no stated order; a fence orders one call's loads,
 * which the kernel does on this CPU, before the next call's).
 */
#include "segment_decode.h"

#include "event_ring.h"
#include "fence.h"

#include "histogram.h"
#include "segment_check.h"
#include "stack_frames.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* len bytes at off into dst: 0, or -1 when they are not all there. */
static int src_read(const struct segment_source *src, uint64_t off, void *dst,
		    size_t len)
{
	if (off > src->size || len > src->size - off)
		return -1;
	if (src->fd < 0) {
		memcpy(dst, src->buf + off, len);
		return 0;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(src->fd, (char *)dst + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* error, or the file shrank */
		done += (size_t)n;
	}
	return 0;
}

static int src_read_u32(const struct segment_source *src, uint64_t off,
			uint32_t *v)
{
	return src_read(src, off, v, sizeof(*v));
}

/*
 * A seq-guarded record of len bytes at off (its seq at off + seq_off) into
 * dst, read between two reads of seq that agree and are even; `before` is
 * the first seq, read by the caller. A private buffer cannot change: one
 * attempt. 1 when stable, 0 when not, -1 when the file is short.
 */
static int read_stable(const struct segment_source *src, uint64_t off,
		       size_t len, size_t seq_off, uint32_t before, void *dst)
{
	int tries = src->fd < 0 ? 1 : SEGMENT_SEQ_RETRIES;

	for (int i = 0; i < tries; i++) {
		uint32_t after;
		if (i && src_read_u32(src, off + seq_off, &before))
			return -1;
		if (before & 1u)
			continue;
		/* seq before the fields, the fields before seq again
		 * (shim/segment_writer.h: the slot's reader side). */
		aw_fence_acquire();
		if (src_read(src, off, dst, len))
			return -1;
		aw_fence_acquire();
		if (src_read_u32(src, off + seq_off, &after))
			return -1;
		if (before == after)
			return 1;
	}
	return 0;
}

static void copy_descriptive(const struct aw_listener *l,
			     struct model_listener *s)
{
	s->fd = l->fd;
	s->family = l->family;
	s->dev = l->dev;
	s->ino = l->ino;
	segment_copy_str(s->address, sizeof(s->address), l->address,
			 sizeof(l->address));
	s->requested_backlog = l->requested_backlog;
	s->passed_backlog = l->passed_backlog;
	s->effective_backlog = l->effective_backlog;
	s->somaxconn = l->somaxconn;
	s->flags = l->flags;
	s->listen_calls = l->listen_calls;
	s->listen_real_ns = l->listen_real_ns;
	s->listen_mono_ns = l->listen_mono_ns;
	s->listen_stack = l->listen_stack;
	s->generation = l->generation;
	s->fds = l->fds;
}

static void copy_live(const struct aw_listener *l, struct model_listener *s)
{
	s->samples = l->samples;
	s->queue_now = l->queue_now;
	s->queue_peak = l->queue_peak;
	s->full_events = l->full_events;
	s->drops = l->drops;
	s->drops_mono_ns = l->drops_mono_ns;
	s->drops_base = l->drops_base;
	s->drops_base_mono_ns = l->drops_base_mono_ns;
	s->drops_rise_mono_ns = l->drops_rise_mono_ns;
	s->full_mono_ns = l->full_mono_ns;
	s->sample_mono_ns = l->sample_mono_ns;
	s->slow_events = l->slow_events;
	s->slow_stack = l->slow_stack;
}

/*
 * A stripe's tick count as CLOCK_MONOTONIC ns, with the header's clock
 * (0 stays 0: never). Saturates rather than wraps on a forged header.
 */
static uint64_t segment_ticks_to_mono(const struct aw_seg_header *h, uint64_t t)
{
	if (t == 0)
		return 0;
	unsigned __int128 mult = h->clock_mult;
	if (t >= h->clock_base_ticks) {
		unsigned __int128 ns =
		    ((t - h->clock_base_ticks) * mult >> 32) + h->clock_base_ns;
		return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
	}
	unsigned __int128 back = (h->clock_base_ticks - t) * mult >> 32;
	return back >= h->clock_base_ns ? 1 : h->clock_base_ns - (uint64_t)back;
}

/* The stripe a listener's stripe_ref points to, when it is one: a whole
 * stripe of the table (the file holds it, a hole reads as zeros). */
static int stripe_ref_ok(uint32_t ref)
{
	uint32_t base = offsetof(struct aw_segment, stripe);
	return ref >= base && (ref - base) % sizeof(struct aw_stripe) == 0 &&
	       (ref - base) / sizeof(struct aw_stripe) < AW_MAX_STRIPES;
}

/*
 * Stripes summed: those of the slot's generation only (a reused slot's
 * stripes are zeroed and given the new generation one after the other). A
 * stripe on which no call ever returned has recorded no gap, away or queue
 * wait: its histograms are not merged (12% of the reader's CPU over 1,000
 * processes of one thread each).
 */
static int sum_stripes(const struct segment_source *src,
		       const struct aw_seg_header *h,
		       const struct aw_listener *l, struct model_listener *s)
{
	static __thread struct aw_stripe stripe_copy;
	const struct aw_stripe *st = &stripe_copy;
	for (uint32_t i = 0; i < AW_STRIPES; i++) {
		uint32_t ref = l->stripe_ref[i];
		if (ref == 0 || !stripe_ref_ok(ref))
			continue;
		if (src_read(src, ref, &stripe_copy, sizeof(stripe_copy)))
			return -1;
		if (st->generation != l->generation)
			continue;
		uint64_t calls = st->accepts + st->drained;
		s->accepts += st->accepts;
		s->drained += st->drained;
		for (uint32_t c = 0; c < AW_ERR_CLASSES; c++) {
			s->errors[c] += st->errors[c];
			calls += st->errors[c];
		}
		s->in_accept += st->in_accept;
		uint64_t last = segment_ticks_to_mono(h, st->last_accept_ticks);
		if (last > s->last_accept_mono_ns)
			s->last_accept_mono_ns = last;
		if (calls == 0)
			continue;
		aw_hist_merge_parts(&s->gap_ns, st->gap_bucket, &st->gap_ns);
		aw_hist_merge_parts(&s->away_ns, st->away_bucket, &st->away_ns);
		aw_hist_merge_parts(&s->queue_wait_ms, st->queue_wait_bucket,
				    &st->queue_wait_ms);
	}
	return 0;
}

/* src_read for event_ring_copy. */
static int ring_read(const void *src, uint64_t off, void *dst, size_t len)
{
	return src_read(src, off, dst, len);
}

/* The position of event reference ref (ring position + 1) in the ring,
 * or -1 when it was never written or has been overwritten since. */
static int event_index(uint64_t ref, uint64_t head)
{
	if (ref == 0 || ref > head || head - (ref - 1) > AW_MAX_EVENTS)
		return -1;
	return (int)((ref - 1) % AW_MAX_EVENTS);
}

/*
 * The header, and the first slot's state and seq behind it (slot 0 starts
 * where the header ends): one read, not two, for what every segment is
 * asked first. Within the one read the two come in no stated order, which
 * nothing needs: a slot seen READY that the header's count does not yet
 * include is not visited, one counted but not yet READY is skipped, as
 * when they were read apart; the seq is still read before the slot, a
 * fence between (read_stable).
 */
_Static_assert(offsetof(struct aw_segment, listener) ==
		   sizeof(struct aw_seg_header),
	       "slot 0 right after the header");
_Static_assert(offsetof(struct aw_listener, seq) ==
		   offsetof(struct aw_listener, state) + 4,
	       "state then seq");
#define FIRST_READ_LEN                                                         \
	(sizeof(struct aw_seg_header) + offsetof(struct aw_listener, seq) +    \
	 sizeof(uint32_t))

/* 1: h and state_seq read; 0: h alone (the file is too short for slot 0:
 * segment_check names what is wrong); -1: not even h. */
static int read_first(const struct segment_source *src, struct aw_seg_header *h,
		      uint32_t state_seq[2])
{
	unsigned char b[FIRST_READ_LEN];

	if (src_read(src, 0, b, sizeof(b)) == 0) {
		memcpy(h, b, sizeof(*h));
		memcpy(state_seq,
		       b + sizeof(*h) + offsetof(struct aw_listener, state),
		       2 * sizeof(uint32_t));
		return 1;
	}
	return src_read(src, 0, h, sizeof(*h)) == 0 ? 0 : -1;
}

/*
 * The used listener slots. Each READY slot is read whole under its seq
 * (descriptive fields stable; counters are independent atomics anyway).
 * A slot never stable within the retries is kept, marked inconsistent.
 * first: slot 0's state and seq as read with the header, or NULL.
 */
static int copy_listeners(const struct segment_source *src,
			  struct model_process *snap, const uint32_t *first,
			  char *err, size_t errlen)
{
	uint32_t used = snap->header.listeners_used;
	if (used > AW_MAX_LISTENERS)
		used = AW_MAX_LISTENERS; /* checked once, may grow after */
	if (used == 0)
		return 0;
	/* Per thread, not malloc'd per call (brk churn over 1,000
	 * segments): nothing keeps a pointer into it. */
	static __thread struct aw_listener slot_copy;
	struct aw_listener *l = &slot_copy;
	snap->listener = calloc(used, sizeof(*snap->listener));
	if (!snap->listener) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < used; i++) {
		uint64_t off = offsetof(struct aw_segment, listener) +
			       (uint64_t)i * sizeof(*l);
		uint32_t state_seq[2]; /* state, seq: adjacent, one read */
		_Static_assert(offsetof(struct aw_listener, seq) ==
				   offsetof(struct aw_listener, state) + 4,
			       "state then seq");
		if (i == 0 && first)
			memcpy(state_seq, first, sizeof(state_seq));
		else if (src_read(src,
				  off + offsetof(struct aw_listener, state),
				  state_seq, sizeof(state_seq)))
			goto short_read;
		if (state_seq[0] != AW_SLOT_READY)
			continue;
		int st = read_stable(src, off, sizeof(*l),
				     offsetof(struct aw_listener, seq),
				     state_seq[1], l);
		if (st < 0)
			goto short_read;
		if (st == 0 && src_read(src, off, l, sizeof(*l)))
			goto short_read;
		struct model_listener *s = &snap->listener[snap->n_listeners];
		s->slot = i;
		s->consistent = st == 1;
		copy_descriptive(l, s);
		copy_live(l, s);
		if (sum_stripes(src, &snap->header, l, s))
			goto short_read;
		s->last_slow_ref = l->last_slow_event; /* see copy_events */
		snap->n_listeners++;
	}
	return 0;
short_read:
	snprintf(err, errlen, "segment shrank while being read");
	return -1;
}

/*
 * The ring in order, oldest first: entries (head - count .. head-1) mod
 * count; one still being written or rewritten is left out. Each listener's
 * last slow event is looked up in the same copy. The header's head was
 * re-read after the listeners, so every reference they hold is at most it.
 */
static int copy_events(const struct segment_source *src,
		       struct model_process *snap)
{
	struct aw_event ring[AW_MAX_EVENTS];
	int ok[AW_MAX_EVENTS];
	uint64_t head = snap->header.event_head;

	if (head == 0)
		return 0; /* no event ever: the ring is not read */
	if (event_ring_copy(ring_read, src, offsetof(struct aw_segment, event),
			    AW_MAX_EVENTS, head, ring, ok))
		return -1;
	uint64_t first = head > AW_MAX_EVENTS ? head - AW_MAX_EVENTS : 0;
	for (uint64_t pos = first; pos < head; pos++) {
		uint32_t i = (uint32_t)(pos % AW_MAX_EVENTS);
		if (ok[i])
			snap->event[snap->n_events++] = ring[i];
	}
	for (uint32_t i = 0; i < snap->n_listeners; i++) {
		struct model_listener *s = &snap->listener[i];
		int at = event_index(s->last_slow_ref, head);
		if (at < 0 || !ok[at] || ring[at].listener != s->slot)
			continue;
		s->last_slow = ring[at];
		s->has_last_slow = 1;
	}
	return 0;
}

/*
 * The published stacks: stacks_used is raised with release order after a
 * stack is written, and a published stack never changes but for hits, so
 * they are read plainly. stacks_used comes from the header re-read after
 * the listeners, so every reference they hold is covered; a reference past
 * the table (forged, or clamped) is dropped.
 */
static int copy_stacks(const struct segment_source *src,
		       struct model_process *snap, char *err, size_t errlen)
{
	uint32_t used = snap->header.stacks_used;
	struct aw_stack *raw = NULL;

	if (snap->header.stack_count == 0)
		used = 0; /* a shim without a stack table */
	if (used > AW_MAX_STACKS)
		used = AW_MAX_STACKS; /* checked once, may grow after */
	snap->header.stacks_used = used;
	if (used == 0)
		return 0;
	snap->stack = calloc(used, sizeof(*snap->stack));
	raw = malloc(used * sizeof(*raw));
	if (!snap->stack || !raw) {
		free(raw);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Published stacks are contiguous: one read for all. */
	if (src_read(src, offsetof(struct aw_segment, stack), raw,
		     used * sizeof(*raw))) {
		free(raw);
		snprintf(err, errlen, "segment shrank while being read");
		return -1;
	}
	snap->n_stacks = used; /* from here on, what snapshot_free frees */
	for (uint32_t i = 0; i < used; i++)
		stack_frames_copy(&snap->stack[i], &raw[i]);
	free(raw);
	for (uint32_t i = 0; i < snap->n_listeners; i++) {
		struct model_listener *l = &snap->listener[i];
		if (l->listen_stack > used)
			l->listen_stack = 0;
		if (l->slow_stack > used)
			l->slow_stack = 0;
	}
	return 0;
}

/* geteuid(), asked once: the reader never changes its ids. Snapshots may
 * be taken by several threads (gather.c): they agree on the value. */
static uid_t reader_uid(void)
{
	static int known;
	static uid_t uid;

	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&uid, geteuid(), __ATOMIC_RELAXED);
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&uid, __ATOMIC_RELAXED);
}

int segment_decode(const struct segment_source *src, uint32_t owner,
		   struct model_process *snap, char *err, size_t errlen)
{
	struct aw_seg_header h;
	uint32_t first[2];
	int got = read_first(src, &h, first), have = got >= 0;

	if (segment_check(have ? &h : NULL, src->size, owner, reader_uid(), err,
			  errlen))
		return SEGMENT_UNREADABLE;
	/* A size check on the header bytes read: src may be shorter now. */
	if (src->size != h.total_size) {
		snprintf(err, errlen, "segment shrank while being read");
		return SEGMENT_UNREADABLE;
	}
	snap->header = h;
	if (h.pid != snap->ns_pid) {
		snprintf(err, errlen, "header pid %d does not match the name",
			 (int)h.pid);
		return SEGMENT_UNREADABLE;
	}
	/* A short name is the initial namespace's (or an older shim's, which
	 * left pid_ns 0). */
	uint32_t named = snap->pid_ns ? snap->pid_ns : AW_PIDNS_INIT_INO;
	if (h.pid_ns != 0 && h.pid_ns != named) {
		snprintf(err, errlen,
			 "header PID namespace %u does not match the name",
			 (unsigned)h.pid_ns);
		return SEGMENT_UNREADABLE;
	}
	segment_copy_str(snap->comm, sizeof(snap->comm), h.comm,
			 sizeof(h.comm));
	if (copy_listeners(src, snap, got == 1 ? first : NULL, err, errlen))
		return SEGMENT_UNREADABLE;
	/* What grew while the listeners were read: every event and stack
	 * they refer to is now within event_head and stacks_used. */
	if (src_read(src, 0, &h, sizeof(h))) {
		snprintf(err, errlen, "segment shrank while being read");
		return SEGMENT_UNREADABLE;
	}
	snap->header.event_head = h.event_head;
	snap->header.stacks_used = h.stacks_used;
	snap->header.listeners_lost = h.listeners_lost;
	snap->header.events_lost = h.events_lost;
	snap->header.flags = h.flags;
	snap->header.detached_real_ns = h.detached_real_ns;
	snap->header.detached_errno = h.detached_errno;
	if (copy_events(src, snap)) {
		snprintf(err, errlen, "segment shrank while being read");
		return SEGMENT_UNREADABLE;
	}
	if (copy_stacks(src, snap, err, errlen))
		return SEGMENT_UNREADABLE;
	return SEGMENT_OK;
}

int segment_snapshot_from_buffer(const void *buf, size_t size,
				 uint32_t owner_uid, pid_t pid,
				 struct model_process *snap, char *err,
				 size_t errlen)
{
	struct segment_source src = {.fd = -1, .buf = buf, .size = size};

	memset(snap, 0, sizeof(*snap));
	snap->pid = snap->ns_pid = pid;
	snprintf(snap->name, sizeof(snap->name), AW_SEG_PREFIX "%d", (int)pid);
	if (!buf)
		src.size = 0;
	return segment_decode(&src, owner_uid, snap, err, errlen);
}
