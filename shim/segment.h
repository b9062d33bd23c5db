/*
 * The process's segment: created lazily at the first listen or accept on a
 * listener. A forked child writes none until it listens or accepts itself
 * (a child that execs or exits first leaves nothing behind); then it gets
 * its own, carrying over what the parent knew of its open listeners.
 * Unlinked at exit, at exec and before a death the process sends itself
 * (kill, raise), unless kept.
 *
 * Locking: aw_segment_attach() runs under the table lock
 * (listener_table.h); aw_segment_forked() takes none: it runs in a forked
 * child's handler, one thread with signals held, after the table lock was
 * made afresh (aw_table_reset_lock). aw_segment_current() and
 * aw_segment_base_now() are lock-free reads (the latter the accept path's
 * common case).
 */
#ifndef AW_SEGMENT_H
#define AW_SEGMENT_H

#include "acceptwatch_abi.h"
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

extern struct aw_segment *aw_segment_now __attribute__((visibility("hidden")));

/* Stripe offsets (the same in every segment of this build): whether ref is
 * one, and its index. */
static inline int aw_is_stripe_ref(uint32_t ref)
{
	size_t first = offsetof(struct aw_segment, stripe);
	return ref >= first &&
	       ref - first < AW_MAX_STRIPES * sizeof(struct aw_stripe) &&
	       (ref - first) % sizeof(struct aw_stripe) == 0;
}

static inline uint32_t aw_stripe_index(uint32_t ref)
{
	return (uint32_t)((ref - offsetof(struct aw_segment, stripe)) /
			  sizeof(struct aw_stripe));
}

/* The segment this process writes, or NULL before the first attach and
 * right after fork (until the child's next attach). Lock-free. */
static inline struct aw_segment *aw_segment_current(void)
{
	return __atomic_load_n(&aw_segment_now, __ATOMIC_ACQUIRE);
}

/*
 * The same for the accept path's common case, which finds its stripe at an
 * offset from here: never NULL, so that it needs no test of its own. With
 * no segment it is a stand-in whose first word is no generation: every
 * thread's stripe offsets are then 0 (none claimed yet at load; a forked
 * child's thread state starts afresh), so the check of the stripe's
 * generation reads that word and fails.
 */
extern const char *aw_segment_base __attribute__((visibility("hidden")));

static inline const char *aw_segment_base_now(void)
{
	return __atomic_load_n(&aw_segment_base, __ATOMIC_ACQUIRE);
}

/*
 * What the segment needs from the listener table above it, which hands them
 * over at every aw_segment_attach (always the same ones): the segment
 * creates, backs, publishes and releases memory, and knows no listener.
 */
struct aw_segment_hooks {
	/* The table lock, around the segment made again after a failed exec
	 * (aw_segment_exec_failed). */
	void (*lock)(void);
	void (*unlock)(void);
	/* A forked child's new segment `to`, before it is published: what it
	 * keeps of its parent's segment `from`. Caller holds the table lock. */
	void (*inherit)(struct aw_segment *to, const struct aw_segment *from);
	/* Stacks published so far (process memory): what a private copy of
	 * the segment takes (stacks.h, aw_stacks_published). */
	uint32_t (*stacks_published)(void);
	/* At exit, when the segment is kept past the process: its last
	 * figures (aw_segment_release). */
	void (*kept_at_exit)(void);
};

/*
 * Make sure this process has a segment: shared memory when it can be
 * created, else process memory (said once on the log). Returns NULL only
 * when not even process memory could be had. Caller holds the table lock.
 */
struct aw_segment *aw_segment_attach(const struct aw_config *c,
				     const struct aw_segment_hooks *above);

/*
 * A fresh stripe for a listener slot of the given generation: zeroed,
 * backed by memory, counted in stripes_used. Returns its offset in the
 * segment (the same in any segment of this build), or 0 when there is no
 * segment or no stripe left. When shared memory cannot back it, the process
 * goes on in a private copy of its segment (AW_SF_DETACHED): callers take
 * aw_segment_current() again after this. Caller holds the table lock.
 */
uint32_t aw_segment_add_stripe(uint32_t generation);

/* The segment of this process's that p points into: the current one, or
 * the shared one it went on from (detached: still mapped), else NULL.
 * Lock-free. */
struct aw_segment *aw_segment_holding(const void *p);

/* The clock's rate was measured again (clock.h): the header says so. */
void aw_segment_clock_refined(void);

/*
 * Back [offset, offset + len) of s with memory before it is first written
 * (a published stack): 0, or an errno (a full /dev/shm: leave it unwritten).
 * Needs no lock: it touches no state of the table's.
 */
int aw_segment_back(struct aw_segment *s, size_t offset, size_t len);

/* In a forked child: the current segment is the parent's; stop writing it
 * (it stays mapped, for the child's own attach to inherit from). */
void aw_segment_forked(void);

/*
 * A child was reaped after a signal killed it (no exit path of its own
 * ran): remove its segment, if it left one that was not to be kept and is
 * ours (any user's when we are root: a worker may have dropped root).
 * errno is kept.
 */
void aw_segment_reaped(pid_t pid);

/* At exit (and before a signal the process sends itself kills it): unlink
 * this process's own segment unless it is to be kept, as the file's owner
 * even under a temporary effective uid. errno is kept. Lock-free. */
void aw_segment_release(void);

/*
 * The process is about to exec(): its segment goes (unless kept), as at
 * exit, so that no segment outlives the image that wrote it under a pid
 * that lives on. The image that follows starts afresh: with the shim, it
 * adopts the listeners it kept at their first accept, into a segment of
 * its own. A vfork child's exec leaves its parent's alone. Lock-free.
 */
void aw_segment_exec(void);

/* The exec() failed: the segment it removed is made again, with what the
 * process had counted (or, when that cannot be, said on the log). errno is
 * kept. Takes the table lock. */
void aw_segment_exec_failed(void);

/*
 * The process is about to run as uid for good (a server dropping root for
 * its workers): hand the segment over while it still may, so that a reader
 * run as that user reads its own process. Returns 1 when the segment was
 * handed over, with its owner before in *was; 0 when nothing changed (not
 * our segment, already that user's, or fchown failed: said on the log).
 * Preserves errno. Caller holds the table lock.
 */
int aw_segment_give_to(uid_t uid, uid_t *was);

/* Fill name (at least 32 bytes) with "/acceptwatch.<pid>". */
void aw_segment_name(char *name, size_t size, int pid);

#endif
