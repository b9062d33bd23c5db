/*
 * Which descriptors name listeners, and which segment slot each listener
 * (socket) owns.
 *
 * A slot belongs to a socket, not to a descriptor number: every descriptor
 * of the socket (dup, dup2, fcntl F_DUPFD, one met in accept) maps to it,
 * and the slot closes when the last of them closes. A new socket takes a
 * closed slot before a fresh one (the one closed longest ago, with no
 * thread inside accept on it), under a new generation.
 *
 * The fd map is process memory (it survives fork, as descriptors do): one
 * byte per descriptor, slot + 1, in a flat array for fds below AW_FD_MAP
 * and in pages of the same size, made on demand, above it. It is read
 * lock-free on every accept and close, and changed lock-free by close and
 * dup (both async-signal-safe in libc: a host may call them in a signal
 * handler or a forked child). Claiming and describing slots is rare and
 * runs under the table lock, which fork handlers take.
 */
#ifndef AW_LISTENER_TABLE_H
#define AW_LISTENER_TABLE_H

#include "acceptwatch_abi.h"
#include "config.h"
#include "segment.h"

#include <stdint.h>

/* Descriptors below this have a byte in the flat map (a test build makes
 * it small, so that descriptors past it can be had under a low limit). */
#ifndef AW_FD_MAP
#define AW_FD_MAP 65536
#endif
/* A listener we cannot track (table full): the byte after the last slot's,
 * so that every byte is an index into the accept path's thread state. */
#define AW_FD_IGNORED (AW_MAX_LISTENERS + 1u)
_Static_assert(AW_FD_IGNORED <= 0xffu, "a map byte holds every slot");

enum {
	AW_NO_SLOT = -1, /* not known as a listener */
	AW_IGNORED = -2, /* known, not tracked */
};

/*
 * The flat map lies on pages of its own that the kernel gives every child
 * zeroed (MADV_WIPEONFORK): a child made without fork handlers (a raw
 * clone() without CLONE_VM, _Fork) then knows no listener, so its accept
 * calls leave the common path for one that finds the child out and makes
 * it a forked child (aw_table_unforked). A child made by fork() gets the map
 * back from a copy in its fork handler. The span is the map rounded up to
 * the largest page size Linux uses (64 KiB), the alignment that too; the
 * shim links with that as its largest page size (-z max-page-size), so
 * that the array stays in the library's one writable load segment (in a
 * load segment of its own, valgrind could not place the shim's symbols:
 * make bench counts instructions per function with it).
 */
#define AW_WIPE_ALIGN 65536u
#define AW_FD_MAP_SPAN                                                         \
	((AW_FD_MAP + AW_WIPE_ALIGN - 1) / AW_WIPE_ALIGN * AW_WIPE_ALIGN)
extern uint8_t aw_fd_slot[AW_FD_MAP_SPAN]
    __attribute__((visibility("hidden"), aligned(AW_WIPE_ALIGN)));

/* The map byte of a descriptor at or above AW_FD_MAP (0 when none). */
uint8_t aw_table_far_byte(int fd);

/* Slot of fd, AW_NO_SLOT or AW_IGNORED. Lock-free. */
int aw_table_lookup(int fd);

/*
 * The hot path's question: fd's map byte (0 none, slot + 1, or
 * AW_FD_IGNORED), for fd below AW_FD_MAP (the flat map: one load, no
 * call). Above it, aw_table_far_byte answers.
 */
static inline uint32_t aw_table_near_byte(int fd)
{
	return __atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED);
}

/* Whether fd may be in the table: the common close() answers no from one
 * byte of the map, with no call (so close() needs no stack frame); fds
 * past the flat map always ask aw_table_forget_fd, which looks in the
 * paged map. */
static inline int aw_table_may_know(int fd)
{
	if (__builtin_expect((unsigned)fd < AW_FD_MAP, 1))
		return __atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED) != 0;
	return fd >= 0;
}

void aw_table_lock(void);
void aw_table_unlock(void);
/* In a forked child: the lock (its owner thread no longer exists), and
 * the table now describes this process, with no stripes yet and the fd map
 * its parent had. */
void aw_table_reset_lock(void);

/* At load: the fd map's pages and the table's own marks wiped in every
 * child (see aw_fd_slot). 0, or the errno of madvise (old kernels: a raw
 * clone child then goes on in its parent's segment). */
int aw_table_wipe_on_fork(void);

/* This process was made by a raw clone() or the like, with its parent's
 * memory and no fork handlers run: the caller runs them now. */
int aw_table_unforked(void);

/*
 * The segment (segment.h, aw_segment_attach) with the table's hooks: a
 * forked child's new segment keeps the parent's open listeners (same
 * sockets, slots and backlogs; its own counters), a kept one gets its last
 * drop counts at exit. Caller holds the lock.
 */
struct aw_segment *aw_table_attach(const struct aw_config *c);

/*
 * Record fd as a listener after a successful listen(fd, requested), or, with
 * adopted set, one met first in accept() (requested unknown: a descriptor of
 * a socket already tracked joins its slot). passed is the backlog given to
 * the kernel. Returns the slot, or -1 when the listener is not tracked
 * (counted in listeners_lost, said once on the log). Caller holds the lock.
 */
int aw_table_register(int fd, int requested, int passed, int adopted,
		      const struct aw_config *c);

/*
 * fd is about to be closed, was replaced by dup2/dup3, or no longer names a
 * listener (accept said so): it leaves its slot, which closes if it was the
 * socket's last descriptor. Lock-free.
 */
void aw_table_forget_fd(int fd);

/*
 * Whether fd still names slot's socket (the dev and ino it was described
 * with): a listener closed where the shim cannot see (inside libc:
 * fclose(fdopen(fd))) may have its number reused by another listener (one
 * received over SCM_RIGHTS). One fstat; 1 when fstat cannot tell. The
 * host's errno kept. Lock-free.
 */
int aw_table_names_slot(uint32_t slot, int fd);

/* fd names another socket than its slot's now (aw_table_names_slot said
 * so): it leaves the slot, as aw_table_forget_fd, but the old socket's drop
 * count is not read through it. Lock-free. */
void aw_table_forget_moved(int fd);

/* Every fd in [first, last] is about to be closed (close_range,
 * closefrom): aw_table_forget_fd for those the table knows. Lock-free. */
void aw_table_forget_range(unsigned int first, unsigned int last);

/* newfd was just made a copy of oldfd (dup, dup2, dup3, F_DUPFD): it names
 * oldfd's slot, or nothing when oldfd is no listener. Lock-free. */
void aw_table_dup(int oldfd, int newfd);

/*
 * The socket's drop count (fd: one of its descriptors) and the time it was
 * read, into l: when the reader can no longer ask the kernel (the socket
 * closes, the process exits), and in some probes (accept_path.c). One
 * getsockopt; the host's errno kept.
 */
void aw_table_read_drops(struct aw_listener *l, int fd);

/* At exit: the drop count of every listener still open, for a segment
 * kept past the process (ACCEPTWATCH_KEEP). */
void aw_table_final_drops(void);

/* Whether slot's socket is open in this process (any descriptor). */
int aw_table_slot_open(uint32_t slot);

/* In a child whose parent's row for slot describes another socket now:
 * every descriptor mapped to slot is forgotten, to be adopted again.
 * Caller holds the lock. */
void aw_table_unmap_slot(uint32_t slot);

/* Generations run from 1 to this and wrap: a thread keeps one in three
 * bytes beside its in-accept mark (accept_path.c). */
#define AW_GENERATION_MAX 0x00ffffffu

/* The generation of slot in this process (see the ABI header). */
uint32_t aw_table_generation(uint32_t slot);

/*
 * The offset in the current segment of the stripe thread tid writes for
 * slot, counting for the slot's generation (restarted if it counted for an
 * older one): one the thread owns, claimed now if need be, or when every
 * other is owned the shared one (*shared set: written with atomics by
 * several threads). 0 when none can be had. Takes the table lock.
 */
uint32_t aw_table_claim_stripe(uint32_t slot, int32_t tid, int *shared);

/* Slots claimed so far (at most AW_MAX_LISTENERS): process memory, which
 * bounds every loop over the slots. Lock-free. */
uint32_t aw_table_slots_used(void);

/* The slot the stripe at offset ref serves, or -1 when ref is no stripe
 * this process made. Lock-free. */
int aw_table_stripe_slot(uint32_t ref);

/* The thread that owned slot's stripe at ref gives it up (thread exit):
 * free for another thread's claim. Lock-free. */
void aw_table_free_stripe(uint32_t slot, uint32_t ref);

/* Set the TCP_DEFER_ACCEPT flag of every listener whose socket has it now.
 * Caller holds the lock. */
void aw_table_refresh_defer(void);

/* The kernel reports a backlog other than the one recorded (listen() was
 * called where the shim could not see, e.g. in the parent after fork). */
void aw_table_refresh_backlog(int slot, uint32_t effective);

#endif
