/*
 * Which descriptors are listeners, and which segment slot each one owns.
 *
 * The fd map is process memory (it survives fork, as descriptors do): one
 * byte per descriptor below AW_FD_MAP, read lock-free on every accept.
 * Everything else here (claiming a slot, writing its description, forgetting
 * an fd) is rare and runs under the table lock, which fork handlers take.
 */
#ifndef AW_LISTENER_TABLE_H
#define AW_LISTENER_TABLE_H

#include "acceptwatch_abi.h"
#include "config.h"

#include <stdint.h>

#define AW_FD_MAP 65536
#define AW_FD_IGNORED 0xffu /* a listener we cannot track: table full */

enum {
	AW_NO_SLOT = -1, /* not known as a listener */
	AW_IGNORED = -2, /* known, not tracked */
};

extern uint8_t aw_fd_slot[AW_FD_MAP] __attribute__((visibility("hidden")));

int aw_table_lookup_far(int fd);

/* Slot of fd, AW_NO_SLOT or AW_IGNORED. Lock-free. */
static inline int aw_table_lookup(int fd)
{
	if (fd < 0 || fd >= AW_FD_MAP)
		return fd < 0 ? AW_NO_SLOT : aw_table_lookup_far(fd);
	uint8_t v = __atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED);
	if (v == 0)
		return AW_NO_SLOT;
	return v == AW_FD_IGNORED ? AW_IGNORED : (int)v - 1;
}

/*
 * The hot path's question: fd's slot, as an unsigned number that is below
 * AW_MAX_LISTENERS only when fd is a tracked listener under AW_FD_MAP.
 * Anything else (unknown, ignored, large fd) is for aw_table_lookup.
 */
static inline uint32_t aw_table_fast_slot(int fd)
{
	if (__builtin_expect((unsigned)fd >= AW_FD_MAP, 0))
		return UINT32_MAX;
	return (uint32_t)__atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED) -
	       1u;
}

void aw_table_lock(void);
void aw_table_unlock(void);
/* In a forked child: the lock (its owner thread no longer exists), and
 * the table now describes this process. */
void aw_table_reset_lock(void);

/*
 * Record fd as a listener after a successful listen(fd, requested), or, with
 * adopted set, one met first in accept() (requested unknown). passed is the
 * backlog given to the kernel. Returns the slot, or -1 when the listener is
 * not tracked (said once on the log). Caller holds the lock.
 */
int aw_table_register(int fd, int requested, int passed, int adopted,
		      const struct aw_config *c);

/* fd no longer names the listener it did (accept said EBADF, ENOTSOCK or
 * EINVAL): close its record. Caller holds the lock. */
void aw_table_forget(int fd);

/*
 * fd is about to be closed (or replaced by dup2/dup3): drop it from the map
 * and close its slot. Lock-free, so that close() stays safe wherever the
 * host calls it (signal handlers, a child after fork).
 */
void aw_table_forget_fd(int fd);

/* Every fd in [first, last] is about to be closed (close_range,
 * closefrom): aw_table_forget_fd for those the table knows. Lock-free. */
void aw_table_forget_range(unsigned int first, unsigned int last);

/* Whether fd may be in the table: the common close() answers no from one
 * byte of the map; fds past the map always ask aw_table_forget_fd. */
static inline int aw_table_may_know(int fd)
{
	if (__builtin_expect((unsigned)fd < AW_FD_MAP, 1))
		return __atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED) != 0;
	return fd >= 0;
}

/* Set the TCP_DEFER_ACCEPT flag of every listener whose socket has it now.
 * Caller holds the lock. */
void aw_table_refresh_defer(void);

/* The kernel reports a backlog other than the one recorded (listen() was
 * called where the shim could not see, e.g. in the parent after fork). */
void aw_table_refresh_backlog(int slot, uint32_t effective);

#endif
