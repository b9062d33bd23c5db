/*
 * Call-site stacks: who called listen() (who chose the backlog) and where
 * the accept loop was at a slow event. Captured only on those rare paths,
 * never per accept; deduplicated by call site so a hot loop pays once.
 */
#ifndef AW_STACKS_H
#define AW_STACKS_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/*
 * Capture the calling thread's stack (frames of the shim left out) into s's
 * stack table, raw: per frame the module (path, build-id) and the offset in
 * it. Returns the stack's index + 1, or 0 when stacks are off or the table
 * is full. The caller holds no lock of the shim: this may take the dynamic
 * loader's lock (unwinding, dl_iterate_phdr), and takes the stacks lock
 * only around its own table.
 */
uint32_t aw_stack_capture(struct aw_segment *s, uint32_t kind, uint32_t slot);

/*
 * A forked child's new segment, its listeners already carried over: the
 * parent's stacks copied into it (hits zeroed), and with them the listen()
 * stacks of the listeners in its first SLOTS slots (the table's count, from
 * process memory: the parent's segment may say anything).
 * Called where the segment is made (table lock held; the stacks lock, taken
 * inside it, is never held while taking that one).
 */
void aw_stacks_carry_over(struct aw_segment *to, const struct aw_segment *from,
			  uint32_t slots);

/* Stacks published in the current segment (at most AW_MAX_STACKS), as this
 * process counts them. */
uint32_t aw_stacks_published(void);

/* In a forked child, from the fork handler: the stacks lock is free again;
 * a fork that interrupted a capture turns stacks off in the child. */
void aw_stacks_after_fork_child(void);

/* "module+0xOFF" of the stack's first frame, for log lines: the form
 * `addr2line -e module 0xOFF` reads. */
void aw_stack_top(const struct aw_segment *s, uint32_t ref, char *out,
		  size_t size);

#endif
