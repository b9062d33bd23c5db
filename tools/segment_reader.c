/*
 * Segment discovery and snapshots. The segment is another process's memory,
 * changing under us and possibly forged: it is opened without following
 * links, mapped read-only, validated (segment_check) before any offset in it
 * is used, and copied out field by field with the ABI's ordering rules.
 */
#include "segment_reader.h"

#include "histogram.h"
#include "procinfo.h"
#include "segment_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* The pid in "acceptwatch.<digits>", or 0 when name is anything else. */
static pid_t name_pid(const char *name)
{
	size_t plen = strlen(AW_SEG_PREFIX);
	if (strncmp(name, AW_SEG_PREFIX, plen) != 0)
		return 0;
	const char *d = name + plen;
	if (!*d || strlen(d) > 10 || d[0] == '0')
		return 0;
	for (const char *p = d; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	long long v = strtoll(d, NULL, 10);
	return v <= INT_MAX ? (pid_t)v : 0;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int segment_scan(pid_t **pids, size_t *n, char *err, size_t errlen)
{
	size_t cap = 0;
	struct dirent *e;

	*pids = NULL;
	*n = 0;
	DIR *d = opendir(SEGMENT_DIR);
	if (!d) {
		snprintf(err, errlen, "%s: %s", SEGMENT_DIR, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		pid_t pid = name_pid(e->d_name);
		if (pid <= 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			pid_t *p = realloc(*pids, cap * sizeof(*p));
			if (!p) {
				snprintf(err, errlen, "out of memory");
				closedir(d);
				return -1;
			}
			*pids = p;
		}
		(*pids)[(*n)++] = pid;
	}
	closedir(d);
	if (*n)
		qsort(*pids, *n, sizeof(**pids), pid_cmp);
	return 0;
}

/*
 * Alive iff signal 0 reaches pid (EPERM: it exists but is not ours) and
 * /proc says it started when the segment says: otherwise the pid is free or
 * names a newer process. A header without a start time trusts kill alone.
 */
static int process_alive(pid_t pid, uint64_t start_ticks)
{
	uint64_t ticks;
	char state;

	if (kill(pid, 0) != 0 && errno != EPERM)
		return 0;
	/* A zombie still answers signal 0, but its sockets are closed. */
	if (procinfo_state(pid, &state) == 0 && (state == 'Z' || state == 'X'))
		return 0;
	if (start_ticks == 0)
		return 1;
	if (procinfo_start_ticks(pid, &ticks))
		return 0;
	return ticks == start_ticks;
}

/* The descriptive fields of a slot, copied under its seq. 1 if stable. */
static int copy_descriptive(const struct aw_listener *l,
			    struct segment_listener *s)
{
	for (int i = 0; i < SEGMENT_SEQ_RETRIES; i++) {
		uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);
		if (seq & 1u)
			continue;
		/* Plain copies: they may tear, and then seq tells us. */
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
		s->listen_stack = LOAD(&l->listen_stack);
		/* The copies above must complete before seq is re-read. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD(&l->seq) == seq)
			return 1;
	}
	return 0;
}

static void copy_live(const struct aw_listener *l, struct segment_listener *s)
{
	s->samples = LOAD(&l->samples);
	s->queue_now = LOAD(&l->queue_now);
	s->queue_peak = LOAD(&l->queue_peak);
	s->full_events = LOAD(&l->full_events);
	s->drops = LOAD(&l->drops);
	s->sample_mono_ns = LOAD(&l->sample_mono_ns);
	s->slow_events = LOAD(&l->slow_events);
	s->last_accept_mono_ns = LOAD(&l->last_accept_mono_ns);
	s->slow_stack = LOAD(&l->slow_stack);
}

static void sum_stripes(const struct aw_listener *l, struct segment_listener *s)
{
	for (uint32_t i = 0; i < AW_STRIPES; i++) {
		const struct aw_stripe *st = &l->stripe[i];
		s->accepts += LOAD(&st->accepts);
		s->drained += LOAD(&st->drained);
		for (uint32_t c = 0; c < AW_ERR_CLASSES; c++)
			s->errors[c] += LOAD(&st->errors[c]);
		s->in_accept += LOAD(&st->in_accept);
		uint64_t last = LOAD(&st->last_accept_mono_ns);
		if (last > s->last_accept_mono_ns)
			s->last_accept_mono_ns = last;
		aw_hist_merge(&s->gap_ns, &st->gap_ns);
		aw_hist_merge(&s->away_ns, &st->away_ns);
		aw_hist_merge(&s->queue_wait_ms, &st->queue_wait_ms);
	}
}

/* Event e copied under its seq; 1 when stable and ever written. */
static int copy_event(const struct aw_event *e, struct aw_event *out)
{
	for (int i = 0; i < SEGMENT_SEQ_RETRIES; i++) {
		uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (seq == 0)
			return 0; /* never written */
		if (seq & 1u)
			continue;
		memcpy(out, e, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD(&e->seq) == seq) {
			out->seq = seq;
			return 1;
		}
	}
	return 0;
}

/*
 * The ring in order, oldest first: entries (head - count .. head-1) mod
 * count. An entry still being written or rewritten is left out.
 */
static void copy_events(const struct aw_segment *seg,
			struct segment_snapshot *snap)
{
	uint64_t head = LOAD(&seg->header.event_head);
	uint64_t first = head > AW_MAX_EVENTS ? head - AW_MAX_EVENTS : 0;

	for (uint64_t pos = first; pos < head; pos++) {
		struct aw_event *out = &snap->event[snap->n_events];
		if (copy_event(&seg->event[pos % AW_MAX_EVENTS], out))
			snap->n_events++;
	}
}

/* The listener's last slow event, if the ring has not overwritten it. */
static void find_last_slow(const struct aw_segment *seg,
			   const struct aw_listener *l,
			   struct segment_listener *s)
{
	uint64_t ref = LOAD(&l->last_slow_event);
	uint64_t head = LOAD(&seg->header.event_head);

	if (ref == 0 || ref > head || head - (ref - 1) > AW_MAX_EVENTS)
		return;
	struct aw_event e;
	if (!copy_event(&seg->event[(ref - 1) % AW_MAX_EVENTS], &e))
		return;
	if (e.listener != s->slot)
		return;
	s->last_slow = e;
	s->has_last_slow = 1;
}

static int copy_listeners(const struct aw_segment *seg,
			  struct segment_snapshot *snap)
{
	uint32_t used = LOAD(&seg->header.listeners_used);
	if (used > AW_MAX_LISTENERS)
		used = AW_MAX_LISTENERS; /* checked once, may grow after */
	if (used == 0)
		return 0;
	snap->listener = calloc(used, sizeof(*snap->listener));
	if (!snap->listener)
		return -1;
	for (uint32_t i = 0; i < used; i++) {
		const struct aw_listener *l = &seg->listener[i];
		if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) !=
		    AW_SLOT_READY)
			continue;
		struct segment_listener *s = &snap->listener[snap->n_listeners];
		s->slot = i;
		s->consistent = copy_descriptive(l, s);
		copy_live(l, s);
		sum_stripes(l, s);
		find_last_slow(seg, l, s);
		snap->n_listeners++;
	}
	return 0;
}

/*
 * The published stacks: stacks_used is raised with release order after a
 * stack is written, and a published stack never changes but for hits, so
 * after the acquire load the texts can be copied plainly. Read after the
 * listeners, so that every reference they hold is covered; a reference past
 * the copied table (a stack published in between) is dropped.
 */
static void copy_stacks(const struct aw_segment *seg,
			struct segment_snapshot *snap)
{
	if (snap->header.stack_count == 0)
		return; /* a shim without a stack table */
	uint32_t used =
	    __atomic_load_n(&seg->header.stacks_used, __ATOMIC_ACQUIRE);
	if (used > AW_MAX_STACKS)
		used = AW_MAX_STACKS; /* checked once, may grow after */
	for (uint32_t i = 0; i < used; i++) {
		const struct aw_stack *st = &seg->stack[i];
		struct segment_stack *d = &snap->stack[i];
		d->hits = LOAD(&st->hits);
		d->kind = st->kind;
		d->listener = st->listener;
		d->frames = st->frames;
		segment_copy_str(d->text, sizeof(d->text), st->text,
				 sizeof(st->text));
	}
	snap->n_stacks = used;
	for (uint32_t i = 0; i < snap->n_listeners; i++) {
		struct segment_listener *l = &snap->listener[i];
		if (l->listen_stack > used)
			l->listen_stack = 0;
		if (l->slow_stack > used)
			l->slow_stack = 0;
	}
}

const char *segment_stack_text(const struct segment_snapshot *snap,
			       uint32_t ref)
{
	if (ref == 0 || ref > snap->n_stacks || !snap->stack[ref - 1].text[0])
		return NULL;
	return snap->stack[ref - 1].text;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Validated mapping of seg into snap. */
static int copy_segment(const struct aw_segment *seg,
			struct segment_snapshot *snap, char *err, size_t errlen)
{
	memcpy(&snap->header, &seg->header, sizeof(snap->header));
	/* The writer changes these after publishing: read them atomically. */
	snap->header.listeners_used = LOAD(&seg->header.listeners_used);
	snap->header.event_head = LOAD(&seg->header.event_head);
	snap->header.listeners_lost = LOAD(&seg->header.listeners_lost);
	snap->header.stacks_used = LOAD(&seg->header.stacks_used);
	if (snap->header.pid != snap->pid) {
		snprintf(err, errlen, "header pid %d does not match the name",
			 (int)snap->header.pid);
		return SEGMENT_UNREADABLE;
	}
	segment_copy_str(snap->comm, sizeof(snap->comm), seg->header.comm,
			 sizeof(seg->header.comm));
	snap->now_mono_ns = clock_ns(CLOCK_MONOTONIC);
	snap->now_real_ns = clock_ns(CLOCK_REALTIME);
	if (copy_listeners(seg, snap)) {
		snprintf(err, errlen, "out of memory");
		return SEGMENT_UNREADABLE;
	}
	copy_events(seg, snap);
	copy_stacks(seg, snap);
	snap->alive = process_alive(snap->pid, snap->header.pid_start_ticks);
	snap->stopped = snap->alive && procinfo_stopped(snap->pid) == 1;
	/* A shim that could not name its process leaves comm empty. */
	if (!snap->comm[0] && snap->alive)
		procinfo_comm(snap->pid, snap->comm, sizeof(snap->comm));
	return SEGMENT_OK;
}

/*
 * A segment file truncated while mapped (by its owner, or by anyone when
 * the reader is root) turns our next load into SIGBUS. The copy runs under
 * a handler that jumps back out, so such a segment is reported, not fatal.
 */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* segment_check() then copy_segment(), with SIGBUS turned into an error. */
static int guarded_copy(const void *map, size_t size, uid_t owner,
			struct segment_snapshot *snap, char *err, size_t errlen)
{
	struct sigaction sa, old;
	volatile int ret = SEGMENT_UNREADABLE;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1)) {
		snprintf(err, errlen, "segment shrank while being read");
		ret = SEGMENT_UNREADABLE;
	} else {
		bus_armed = 1;
		if (segment_check(map, size, owner, geteuid(), err, errlen) ==
		    0)
			ret = copy_segment(map, snap, err, errlen);
	}
	bus_armed = 0;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

/* Open and fstat the segment file: a regular file, never through a link. */
static int open_segment(struct segment_snapshot *snap, struct stat *st,
			char *err, size_t errlen)
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

int segment_snapshot(pid_t pid, struct segment_snapshot *snap, char *err,
		     size_t errlen)
{
	struct stat st;

	memset(snap, 0, sizeof(*snap));
	snap->pid = pid;
	snprintf(snap->name, sizeof(snap->name), AW_SEG_PREFIX "%d", (int)pid);
	int fd = open_segment(snap, &st, err, errlen);
	if (fd < 0)
		return fd;

	size_t size = (size_t)st.st_size;
	void *map = NULL;
	/* A file too small for the header is judged without mapping it
	 * (mmap of 0 bytes fails); segment_check never reads past size. */
	if (size >= sizeof(struct aw_seg_header)) {
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(err, errlen, "mmap: %s", strerror(errno));
			close(fd);
			return SEGMENT_UNREADABLE;
		}
	}
	close(fd);
	int ret = guarded_copy(map, size, st.st_uid, snap, err, errlen);
	if (map)
		munmap(map, size);
	return ret;
}

void segment_snapshot_free(struct segment_snapshot *snap)
{
	free(snap->listener);
	snap->listener = NULL;
	snap->n_listeners = 0;
}
