/*
 * A published stack from a segment, made readable: copied field by field
 * with its counts and indexes checked (the segment is untrusted) and
 * printed "module+0xOFF"; then, only for the outputs that show names, each
 * frame named from its module's file (symbolize.h) and printed again.
 */
#ifndef AW_STACK_FRAMES_H
#define AW_STACK_FRAMES_H

#include "segment_reader.h"

/* Fill dst from src, a stack of a segment, unnamed; dst->text is the
 * caller's to free (NULL when out of memory). Opens no file. */
void stack_frames_copy(struct model_stack *dst, const struct aw_stack *src);

/* Name st's frames from their modules' files as process pid sees them
 * (symbolize_frame(): bounded in time and memory) and print them again. */
void stack_frames_name(struct model_stack *st, pid_t pid);

/* Frame f of st as printed, with a newline, into out; returns its length,
 * 0 when it does not fit in size. */
size_t stack_frame_print(char *out, size_t size, const struct model_frame *f,
			 const struct model_stack *st);

#endif
