/*
 * A published stack from a segment, made readable: copied field by field
 * with its counts and indexes checked (the segment is untrusted) and
 * printed "module+0xOFF". Opens no file: naming the frames from their
 * modules' files is stack_names.h's.
 */
#ifndef AW_STACK_FRAMES_H
#define AW_STACK_FRAMES_H

#include "model.h"

/* Fill dst from src, a stack of a segment, unnamed; dst->text is the
 * caller's to free (NULL when out of memory). Opens no file. */
void stack_frames_copy(struct model_stack *dst, const struct aw_stack *src);

/* st's frames as printed (stack_frame_print), one a line, into st->text
 * (the previous text freed; NULL when out of memory). */
void stack_frames_text(struct model_stack *st);

/* Frame f of st as printed, with a newline, into out; returns its length,
 * 0 when it does not fit in size. */
size_t stack_frame_print(char *out, size_t size, const struct model_frame *f,
			 const struct model_stack *st);

#endif
