/* The listener table: fd map, slot claiming, and listener descriptions. */
#include "listener_table.h"

#include "log.h"
#include "probe.h"
#include "segment.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

uint8_t aw_fd_slot[AW_FD_MAP];

/* Process-local mirror of each slot's fd (-1 closed or free), so that fds
 * past the map can be found without reading shared memory. Table lock. */
static int slot_fd[AW_MAX_LISTENERS] = {[0 ... AW_MAX_LISTENERS - 1] = -1};
static int said_full;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* The process this table describes: set at the first register and in a
 * forked child (0: nothing registered yet, so nothing to forget). */
static pid_t table_pid;

void aw_table_lock(void)
{
	pthread_mutex_lock(&table_lock);
}

void aw_table_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

void aw_table_reset_lock(void)
{
	pthread_mutex_init(&table_lock, NULL);
	__atomic_store_n(&table_pid, getpid(), __ATOMIC_RELAXED);
}

/* A child of vfork() (or clone with CLONE_VM), until it execs, runs in this
 * very memory: what it closes are its own descriptors, never this
 * process's listeners, so it must change nothing here. */
static int in_vfork_child(void)
{
	pid_t owner = __atomic_load_n(&table_pid, __ATOMIC_RELAXED);
	return owner != 0 && getpid() != owner;
}

int aw_table_lookup_far(int fd)
{
	for (int i = 0; i < (int)AW_MAX_LISTENERS; i++)
		if (__atomic_load_n(&slot_fd[i], __ATOMIC_RELAXED) == fd)
			return i;
	return AW_NO_SLOT;
}

static void set_fd_slot(int fd, int slot)
{
	if (fd >= 0 && fd < AW_FD_MAP) {
		uint8_t v = slot >= 0 ? (uint8_t)(slot + 1) : 0;
		if (slot == AW_IGNORED)
			v = AW_FD_IGNORED;
		__atomic_store_n(&aw_fd_slot[fd], v, __ATOMIC_RELAXED);
	}
	if (slot >= 0)
		__atomic_store_n(&slot_fd[slot], fd, __ATOMIC_RELAXED);
}

static int find_slot(int fd)
{
	for (int i = 0; i < (int)AW_MAX_LISTENERS; i++)
		if (slot_fd[i] == fd)
			return i;
	return -1;
}

/* An open slot for the socket (dev, ino), whatever fd it was made for. */
static int find_socket(const struct aw_segment *s, const struct aw_sock_id *id)
{
	for (uint32_t i = 0; i < s->header.listeners_used; i++) {
		const struct aw_listener *l = &s->listener[i];
		if (slot_fd[i] >= 0 && l->dev == id->dev && l->ino == id->ino)
			return (int)i;
	}
	return -1;
}

static void close_slot(struct aw_segment *s, int slot)
{
	struct aw_listener *l = &s->listener[slot];
	aw_segment_write_begin(l);
	__atomic_fetch_or(&l->flags, AW_LF_CLOSED, __ATOMIC_RELAXED);
	aw_segment_write_end(l);
	slot_fd[slot] = -1;
}

static int said_no_memory;

static int lose_listener(struct aw_segment *s)
{
	__atomic_fetch_add(&s->header.listeners_lost, 1, __ATOMIC_RELAXED);
	return -1;
}

static int claim_slot(struct aw_segment *s)
{
	uint32_t used = s->header.listeners_used;
	if (used >= AW_MAX_LISTENERS) {
		if (!said_full)
			aw_log("listener table full (%u listeners): further "
			       "listeners are not tracked",
			       AW_MAX_LISTENERS);
		said_full = 1;
		return lose_listener(s);
	}
	int err = aw_segment_reserve_slot(used);
	if (err != 0) {
		if (!said_no_memory)
			aw_log("cannot reserve shared memory for a listener: "
			       "%s; it is not tracked",
			       strerror(err));
		said_no_memory = 1;
		return lose_listener(s);
	}
	__atomic_store_n(&s->header.listeners_used, used + 1, __ATOMIC_RELEASE);
	return (int)used;
}

struct listen_facts {
	struct aw_sock_id id;
	char address[AW_ADDR_LEN];
	int somaxconn;
	uint32_t effective;
	uint32_t flags;
};

/* Ask the kernel what it made of listen(fd, passed). */
static void gather(int fd, int requested, int passed, int adopted,
		   struct listen_facts *f)
{
	uint32_t depth;
	aw_probe_address(fd, f->address, sizeof(f->address));
	f->somaxconn = aw_probe_somaxconn();
	f->flags = adopted ? AW_LF_ADOPTED : 0;
	if (f->id.tcp && aw_probe_queue(fd, &depth, &f->effective) == 0) {
		f->flags |= AW_LF_TCP;
		if (aw_probe_defer_accept(fd))
			f->flags |= AW_LF_DEFER_ACCEPT;
	} else {
		/* Other families: compute what __sys_listen() does. With an
		 * unknown request (adopted), only the ceiling is known. */
		uint32_t ceiling =
		    f->somaxconn >= 0 ? (uint32_t)f->somaxconn : UINT32_MAX;
		uint32_t asked = adopted ? ceiling : (uint32_t)passed;
		f->effective = asked < ceiling ? asked : ceiling;
		f->flags |= AW_LF_COMPUTED;
		if (adopted)
			f->flags |= AW_LF_BACKLOG_UNKNOWN;
	}
	if (!adopted && passed != requested)
		f->flags |= AW_LF_RAISED;
	if (!adopted && (uint32_t)passed > f->effective)
		f->flags |= AW_LF_CLAMPED;
}

static void describe(struct aw_listener *l, int fd, int requested, int passed,
		     const struct listen_facts *f)
{
	aw_segment_write_begin(l);
	l->fd = fd;
	l->family = (uint32_t)f->id.family;
	l->dev = f->id.dev;
	l->ino = f->id.ino;
	memcpy(l->address, f->address, sizeof(l->address));
	l->requested_backlog = requested;
	l->passed_backlog = passed;
	__atomic_store_n(&l->effective_backlog, f->effective, __ATOMIC_RELAXED);
	l->somaxconn = f->somaxconn >= 0 ? (uint32_t)f->somaxconn : 0;
	__atomic_store_n(&l->flags, f->flags, __ATOMIC_RELAXED);
	l->listen_calls++;
	l->listen_real_ns = aw_real_ns();
	l->listen_mono_ns = aw_mono_ns();
	aw_segment_write_end(l);
	__atomic_store_n(&l->state, AW_SLOT_READY, __ATOMIC_RELEASE);
}

static void log_listen(const struct aw_listener *l, int fd, int adopted,
		       int relisten, int old_requested, uint32_t old_effective)
{
	char requested[48], was[48] = "";
	if (adopted)
		snprintf(requested, sizeof(requested), "?");
	else if (l->flags & AW_LF_RAISED)
		snprintf(requested, sizeof(requested), "%d raised=%d",
			 l->requested_backlog, l->passed_backlog);
	else
		snprintf(requested, sizeof(requested), "%d",
			 l->requested_backlog);
	if (relisten)
		snprintf(was, sizeof(was), " (was requested=%d effective=%u)",
			 old_requested, old_effective);
	aw_log("%s fd=%d %s requested=%s effective=%u%s somaxconn=%u%s%s",
	       adopted	  ? "adopt"
	       : relisten ? "relisten"
			  : "listen",
	       fd, l->address, requested, l->effective_backlog,
	       (l->flags & AW_LF_COMPUTED) ? " (computed)" : "", l->somaxconn,
	       (l->flags & AW_LF_CLAMPED) ? " CLAMPED" : "", was);
}

int aw_table_register(int fd, int requested, int passed, int adopted,
		      const struct aw_config *c)
{
	struct listen_facts f;
	if (aw_probe_identity(fd, &f.id) != 0)
		return -1;
	if (table_pid == 0)
		__atomic_store_n(&table_pid, getpid(), __ATOMIC_RELAXED);
	struct aw_segment *s = aw_segment_attach(c);
	if (s == NULL)
		return -1;

	int slot = find_slot(fd);
	if (slot >= 0 && (s->listener[slot].dev != f.id.dev ||
			  s->listener[slot].ino != f.id.ino)) {
		close_slot(s, slot); /* the fd now names another socket */
		slot = -1;
	}
	if (slot < 0 && adopted) {
		/* A second descriptor for a socket already tracked (dup,
		 * SCM_RIGHTS): count on the same slot. */
		int same = find_socket(s, &f.id);
		if (same >= 0) {
			if (fd < AW_FD_MAP)
				__atomic_store_n(&aw_fd_slot[fd],
						 (uint8_t)(same + 1),
						 __ATOMIC_RELAXED);
			return same;
		}
	}
	int relisten = slot >= 0 && !adopted;
	if (slot < 0)
		slot = claim_slot(s);
	if (slot < 0) {
		set_fd_slot(fd, AW_IGNORED);
		return -1;
	}
	struct aw_listener *l = &s->listener[slot];
	int old_requested = l->requested_backlog;
	uint32_t old_effective = l->effective_backlog;
	gather(fd, requested, passed, adopted, &f);
	describe(l, fd, requested, passed, &f);
	set_fd_slot(fd, slot);
	log_listen(l, fd, adopted, relisten, old_requested, old_effective);
	return slot;
}

void aw_table_forget_fd(int fd)
{
	uint32_t slot = aw_table_fast_slot(fd);
	int ignored = slot == AW_FD_IGNORED - 1u;
	if (slot >= AW_MAX_LISTENERS && !ignored) {
		if (fd < AW_FD_MAP)
			return; /* not a listener: the common close */
		int far = aw_table_lookup_far(fd);
		if (far < 0)
			return;
		slot = (uint32_t)far;
	}
	/* A listener's number from here on: rare enough for a getpid(). */
	if (in_vfork_child())
		return;
	if (fd < AW_FD_MAP)
		__atomic_store_n(&aw_fd_slot[fd], 0, __ATOMIC_RELAXED);
	if (ignored)
		return;
	/* Only the fd the slot was made for closes it; a dup of it (mapped
	 * by identity at adoption) just leaves. */
	int expected = fd;
	if (!__atomic_compare_exchange_n(&slot_fd[slot], &expected, -1, 0,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	struct aw_segment *s = aw_segment_current();
	if (s != NULL)
		__atomic_fetch_or(&s->listener[slot].flags, AW_LF_CLOSED,
				  __ATOMIC_RELAXED);
}

void aw_table_forget_range(unsigned int first, unsigned int last)
{
	unsigned int end = last < AW_FD_MAP - 1u ? last : AW_FD_MAP - 1u;
	for (unsigned int fd = first; fd <= end; fd++)
		if (__atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED) != 0)
			aw_table_forget_fd((int)fd);
	if (last < AW_FD_MAP)
		return;
	for (uint32_t i = 0; i < AW_MAX_LISTENERS; i++) {
		int fd = __atomic_load_n(&slot_fd[i], __ATOMIC_RELAXED);
		if (fd >= AW_FD_MAP && (unsigned int)fd >= first &&
		    (unsigned int)fd <= last)
			aw_table_forget_fd(fd);
	}
}

void aw_table_forget(int fd)
{
	struct aw_segment *s = aw_segment_current();
	int slot = find_slot(fd);
	if (s != NULL && slot >= 0)
		close_slot(s, slot);
	if (fd >= 0 && fd < AW_FD_MAP)
		__atomic_store_n(&aw_fd_slot[fd], 0, __ATOMIC_RELAXED);
}

void aw_table_refresh_backlog(int slot, uint32_t effective)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	struct aw_listener *l = &s->listener[slot];
	aw_segment_write_begin(l);
	uint32_t flags = l->flags & ~AW_LF_CLAMPED;
	if (!(flags & AW_LF_ADOPTED) && (uint32_t)l->passed_backlog > effective)
		flags |= AW_LF_CLAMPED;
	__atomic_store_n(&l->effective_backlog, effective, __ATOMIC_RELAXED);
	__atomic_store_n(&l->flags, flags, __ATOMIC_RELAXED);
	aw_segment_write_end(l);
}

/*
 * Servers set TCP_DEFER_ACCEPT after listen() (nginx's `deferred`, apache's
 * accept filter), often in a master that never accepts. Its flag tells the
 * reader that the socket's drop count holds discarded handshake ACKs, so it
 * must be right in every process holding the socket, not only in those
 * whose accepts sample it: look again now. Called before fork (the child's
 * segment copies the flags), where one getsockopt per unflagged TCP
 * listener is nothing beside the fork itself.
 */
void aw_table_refresh_defer(void)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	int saved = errno;
	for (uint32_t i = 0; i < AW_MAX_LISTENERS; i++) {
		struct aw_listener *l = &s->listener[i];
		uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
		if (slot_fd[i] < 0 || !(flags & AW_LF_TCP) ||
		    (flags & AW_LF_DEFER_ACCEPT))
			continue;
		if (aw_probe_defer_accept(slot_fd[i]))
			__atomic_fetch_or(&l->flags, AW_LF_DEFER_ACCEPT,
					  __ATOMIC_RELAXED);
	}
	errno = saved;
}
