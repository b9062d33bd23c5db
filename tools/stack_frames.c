#include "stack_frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void copy_module(struct model_module *dst, const struct aw_module *src)
{
	uint32_t len = src->build_id_len;

	memcpy(dst->path, src->path, sizeof(dst->path));
	dst->path[sizeof(dst->path) - 1] = '\0';
	if (len > AW_BUILD_ID_MAX)
		len = 0; /* forged: no build-id to check against */
	/* Hex by hand: a snprintf a byte was a sixth of reading a segment. */
	for (uint32_t i = 0; i < len; i++) {
		dst->build_id[2 * i] =
		    "0123456789abcdef"[src->build_id[i] >> 4];
		dst->build_id[2 * i + 1] =
		    "0123456789abcdef"[src->build_id[i] & 15];
	}
	dst->build_id[2 * len] = '\0';
	memcpy(dst->build_id_raw, src->build_id, len);
	dst->build_id_len = len;
	dst->file = SYMBOLIZE_NOT_ASKED;
}

size_t stack_frame_print(char *out, size_t size, const struct model_frame *f,
			 const struct model_stack *st)
{
	int n;
	if (f->module == AW_FRAME_NO_MODULE) {
		n = snprintf(out, size, "0x%llx\n",
			     (unsigned long long)f->offset);
	} else {
		const struct model_module *m = &st->module[f->module];
		const char *mod = base_name(m->path);
		if (f->named)
			n = snprintf(out, size, "%s+0x%llx (%s)\n", f->symbol,
				     (unsigned long long)f->symbol_offset, mod);
		else
			n = snprintf(out, size, "%s+0x%llx%s\n", mod,
				     (unsigned long long)f->offset,
				     m->file == SYMBOLIZE_MISMATCH
					 ? " (build-id differs from the file "
					   "on disk)"
					 : "");
	}
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

void stack_frames_text(struct model_stack *st)
{
	char text[AW_STACK_FRAMES * SEGMENT_FRAME_TEXT + 1];
	size_t used = 0;

	text[0] = '\0';
	for (uint32_t i = 0; i < st->frames; i++)
		used += stack_frame_print(text + used, sizeof(text) - used,
					  &st->frame[i], st);
	free(st->text);
	st->text = strdup(text);
}

void stack_frames_copy(struct model_stack *dst, const struct aw_stack *src)
{
	dst->hits = src->hits;
	dst->kind = src->kind;
	dst->listener = src->listener;
	dst->frames =
	    src->frames < AW_STACK_FRAMES ? src->frames : AW_STACK_FRAMES;
	dst->modules =
	    src->modules < AW_STACK_MODULES ? src->modules : AW_STACK_MODULES;
	for (uint32_t i = 0; i < dst->modules; i++)
		copy_module(&dst->module[i], &src->module[i]);
	for (uint32_t i = 0; i < dst->frames; i++) {
		struct model_frame *f = &dst->frame[i];
		memset(f, 0, sizeof(*f));
		f->offset = src->frame[i].offset;
		f->module = src->frame[i].module;
		if (f->module >= dst->modules)
			f->module = AW_FRAME_NO_MODULE;
	}
	dst->text = NULL;
	stack_frames_text(dst);
}
