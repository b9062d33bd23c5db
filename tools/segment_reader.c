/*
 * Segment discovery and snapshots. The segment is another process's memory,
 * changing under us and possibly forged: it is opened without following
 * links, its header validated (segment_check) before any offset in it is
 * used, and only the parts in use are read, with pread(), into private
 * memory. Seq-guarded records are read between two reads of their seq.
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
#include "segment_reader.h"

#include "bypass.h"
#include "event_ring.h"
#include "fence.h"

#include "histogram.h"
#include "proc_cache.h"
#include "procinfo.h"
#include "segment_check.h"
#include "segment_name.h"
#include "stack_frames.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Alive iff signal 0 reaches pid (EPERM: it exists but is not ours) and
 * /proc says it started when the segment says: otherwise the pid is free or
 * names a newer process. A header without a start time trusts kill alone.
 * ps: what /proc/PID/stat said (state '?' and all 0 when unreadable).
 */
static int process_alive(pid_t pid, uint64_t start_ticks,
			 struct procinfo_stat *ps)
{
	/* One read of /proc/PID/stat for the state, the start and the
	 * image (proc_cache.h); where /proc hides it (hidepid), signal 0
	 * says whether it runs. */
	if (procinfo_stat_image(pid, ps)) {
		ps->state = '?';
		if (kill(pid, 0) != 0 && errno != EPERM)
			return 0;
		return start_ticks == 0;
	}
	/* A zombie still answers signal 0, but its sockets are closed. */
	if (ps->state == 'Z' || ps->state == 'X')
		return 0;
	return start_ticks == 0 || ps->start_ticks == start_ticks;
}

/*
 * Where a snapshot reads from: the segment file (pread, the writer may be
 * changing it) or a private buffer holding a whole file.
 */
struct seg_source {
	int fd; /* >= 0: the file */
	const unsigned char *buf;
	uint64_t size; /* of the file or buffer */
};

/* len bytes at off into dst: 0, or -1 when they are not all there. */
static int src_read(const struct seg_source *src, uint64_t off, void *dst,
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

static int src_read_u32(const struct seg_source *src, uint64_t off, uint32_t *v)
{
	return src_read(src, off, v, sizeof(*v));
}

/*
 * A seq-guarded record of len bytes at off (its seq at off + seq_off) into
 * dst, read between two reads of seq that agree and are even; `before` is
 * the first seq, read by the caller. A private buffer cannot change: one
 * attempt. 1 when stable, 0 when not, -1 when the file is short.
 */
static int read_stable(const struct seg_source *src, uint64_t off, size_t len,
		       size_t seq_off, uint32_t before, void *dst)
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
static int sum_stripes(const struct seg_source *src,
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
 * The used listener slots. Each READY slot is read whole under its seq
 * (descriptive fields stable; counters are independent atomics anyway).
 * A slot never stable within the retries is kept, marked inconsistent.
 */
static int copy_listeners(const struct seg_source *src,
			  struct model_process *snap, char *err, size_t errlen)
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
		if (src_read(src, off + offsetof(struct aw_listener, state),
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
static int copy_events(const struct seg_source *src, struct model_process *snap)
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
static int copy_stacks(const struct seg_source *src, struct model_process *snap,
		       char *err, size_t errlen)
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

void segment_snapshot_name(struct model_process *snap)
{
	for (uint32_t i = 0; snap->stack && i < snap->n_stacks; i++)
		stack_frames_name(&snap->stack[i], snap->pid);
}

const char *model_stack_text(const struct model_process *snap, uint32_t ref)
{
	if (ref == 0 || ref > snap->n_stacks || !snap->stack ||
	    !snap->stack[ref - 1].text || !snap->stack[ref - 1].text[0])
		return NULL;
	return snap->stack[ref - 1].text;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/*
 * The header, checked (segment_check reads only the header bytes, and is
 * told the real size), then the parts in use. SEGMENT_OK or UNREADABLE.
 */
static int copy_segment(const struct seg_source *src, uint32_t owner,
			struct model_process *snap, char *err, size_t errlen)
{
	struct aw_seg_header h;
	int have = src_read(src, 0, &h, sizeof(h)) == 0;

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
	if (copy_listeners(src, snap, err, errlen))
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

/* What the segment cannot say: is its process still the same one, is it
 * stopped, and its comm when the shim left it empty. st: the segment file
 * as opened; ps: what /proc/PID/stat says, for owner_matches. */
static void add_process_state(struct model_process *snap, const struct stat *st,
			      struct procinfo_stat *ps)
{
	snap->now_mono_ns = clock_ns(CLOCK_MONOTONIC);
	snap->now_real_ns = clock_ns(CLOCK_REALTIME);
	snap->alive =
	    process_alive(snap->pid, snap->header.pid_start_ticks, ps);
	char main_state = ps->state;
	/* Same pid, same process, but it exec'd a program without the shim:
	 * nobody writes the segment any more (unreadable maps: trust the
	 * rest). The shim keeps its segment mapped for the life of the
	 * image: the process maps this very file (device and inode) whatever
	 * the shim's library is called (a copy, a bind mount, an upgrade);
	 * a library named libacceptwatch.so counts too (an image that has
	 * not made its segment yet). The same read tells whether it maps an
	 * io_uring ring, whose accepts never call accept(). */
	unsigned maps = 0;
	int readable = snap->alive && proc_cache_maps(snap->pid, ps, st->st_dev,
						      st->st_ino, &maps) == 0;
	snap->unshimmed =
	    readable && !(maps & (PROCINFO_MAPS_SHIM | PROCINFO_MAPS_SEGMENT));
	if (snap->unshimmed)
		snap->alive = 0;
	if (readable && (maps & PROCINFO_MAPS_IO_URING))
		snap->bypass |= BYPASS_IO_URING;
	/* Every task stopped implies the main one is: only then look at
	 * each task (a directory and a file per thread). */
	snap->stopped = snap->alive &&
			(main_state == 'T' || main_state == 't') &&
			procinfo_stopped(snap->pid) == 1;
	if (!snap->comm[0] && snap->alive)
		procinfo_comm(snap->pid, snap->comm, sizeof(snap->comm));
}

/* Open and fstat the segment file: a regular file, never through a link. */
static int open_segment(struct model_process *snap, struct stat *st, char *err,
			size_t errlen)
{
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];

	snprintf(path, sizeof(path), SEGMENT_DIR "/%s", snap->name);
	/* O_NONBLOCK: a FIFO planted under the name must not hang us. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int missing = errno == ENOENT;
		/* O_NOFOLLOW says ELOOP: name what was refused. */
		snprintf(err, errlen, "%s",
			 errno == ELOOP ? "a symbolic link, not followed"
					: strerror(errno));
		return missing ? SEGMENT_MISSING : SEGMENT_UNREADABLE;
	}
	if (fstat(fd, st)) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		close(fd);
		return SEGMENT_UNREADABLE;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return SEGMENT_UNREADABLE;
	}
	return fd;
}

/*
 * Whether the segment file, owned by owner, can be the running process's:
 * made by the process itself (the shim creates it under the process's
 * effective uid and hands it over when the process drops root), so its
 * owner is one of the process's uids, or root (only root can make a file
 * root's: no other user can have planted it). Anything else was put under
 * the process's name by another user, before the shim could create it:
 * its figures are not the process's. Uids unreadable (the process just
 * exited, hidepid): nothing to compare, the file is taken as before.
 * SEGMENT_OK or SEGMENT_FORGED with err.
 */
static int owner_matches(const struct model_process *snap,
			 const struct stat *st, const struct procinfo_stat *ps,
			 char *err, size_t errlen)
{
	uid_t owner = st->st_uid, euid;

	if (owner == 0 || !snap->alive ||
	    proc_cache_owner(snap->pid, ps, st->st_dev, st->st_ino, owner,
			     &euid) != 0)
		return SEGMENT_OK;
	snprintf(err, errlen,
		 "owned by uid %u, but process %d runs as uid %u: not its "
		 "segment (another user's file under its name), refused",
		 (unsigned)owner, (int)snap->pid, (unsigned)euid);
	return SEGMENT_FORGED;
}

static void snapshot_init(struct model_process *snap,
			  const struct segment_ref *ref)
{
	memset(snap, 0, sizeof(*snap));
	snap->pid = ref->pid;
	snap->ns_pid = ref->ns_pid;
	snap->pid_ns = ref->pid_ns;
	snprintf(snap->name, sizeof(snap->name), "%s", ref->name);
}

/*
 * Whether the process of a segment can be looked for here. A name of a
 * namespace not visible from here, or a short name (the initial
 * namespace's, says the header) read from inside another namespace: its
 * pid means nothing in this /proc. SEGMENT_OK or SEGMENT_HIDDEN with err.
 */
static int visible_here(const struct segment_ref *ref,
			const struct model_process *snap, char *err,
			size_t errlen)
{
	uint32_t ns = ref->pid_ns ? ref->pid_ns : snap->header.pid_ns;

	if (!ref->hidden && !(ref->pid_ns == 0 && snap->header.pid_ns != 0 &&
			      snap->header.pid_ns != segment_own_pid_ns()))
		return SEGMENT_OK;
	snprintf(err, errlen,
		 "written in PID namespace %u, not visible from here: left "
		 "alone",
		 (unsigned)ns);
	return SEGMENT_HIDDEN;
}

int segment_snapshot_ref(const struct segment_ref *ref,
			 struct model_process *snap, char *err, size_t errlen)
{
	struct stat st;
	struct procinfo_stat ps;

	snapshot_init(snap, ref);
	int fd = open_segment(snap, &st, err, errlen);
	if (fd < 0)
		return fd;
	struct seg_source src = {.fd = fd, .size = (uint64_t)st.st_size};
	int ret = copy_segment(&src, st.st_uid, snap, err, errlen);
	close(fd);
	if (ret == SEGMENT_OK)
		ret = visible_here(ref, snap, err, errlen);
	if (ret != SEGMENT_OK || snap->pid == 0)
		return ret; /* pid 0: its process is gone, alive stays 0 */
	add_process_state(snap, &st, &ps);
	return owner_matches(snap, &st, &ps, err, errlen);
}

int segment_snapshot(pid_t pid, struct model_process *snap, char *err,
		     size_t errlen)
{
	struct segment_ref ref;

	segment_ref_of_pid(pid, &ref);
	return segment_snapshot_ref(&ref, snap, err, errlen);
}

int segment_snapshot_from_buffer(const void *buf, size_t size,
				 uint32_t owner_uid, pid_t pid,
				 struct model_process *snap, char *err,
				 size_t errlen)
{
	struct seg_source src = {.fd = -1, .buf = buf, .size = size};
	struct segment_ref ref = {.pid = pid, .ns_pid = pid};

	snprintf(ref.name, sizeof(ref.name), AW_SEG_PREFIX "%d", (int)pid);
	snapshot_init(snap, &ref);
	if (!buf)
		src.size = 0;
	return copy_segment(&src, owner_uid, snap, err, errlen);
}

void model_process_free(struct model_process *snap)
{
	free(snap->listener);
	for (uint32_t i = 0; snap->stack && i < snap->n_stacks; i++)
		free(snap->stack[i].text);
	free(snap->stack);
	snap->listener = NULL;
	snap->stack = NULL;
	snap->n_listeners = 0;
	snap->n_stacks = 0;
}
