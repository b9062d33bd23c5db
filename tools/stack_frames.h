/*
 * A published stack from a segment, made readable: copied field by field
 * with its counts and indexes checked (the segment is untrusted), then each
 * frame named from its module's file (symbolize.h) and printed.
 */
#ifndef AW_STACK_FRAMES_H
#define AW_STACK_FRAMES_H

#include "segment_reader.h"

/* Fill dst from src, a stack of process pid's segment; dst->text is the
 * caller's to free (NULL when out of memory). */
void stack_frames_copy(struct segment_stack *dst, const struct aw_stack *src,
		       pid_t pid);

#endif
