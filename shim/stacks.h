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
 * stack table. Returns the stack's index + 1, or 0 when stacks are off or
 * the table is full. Caller holds the table lock.
 */
uint32_t aw_stack_capture(struct aw_segment *s, uint32_t kind, uint32_t slot);

/* "function (module)" of the stack's first frame, for log lines. */
void aw_stack_top(const struct aw_segment *s, uint32_t ref, char *out,
		  size_t size);

#endif
