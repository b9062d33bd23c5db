#include "stack_names.h"

#include "stack_frames.h"
#include "symbolize.h"

#include <string.h>

static void name_frame(struct model_frame *f, struct model_module *m, pid_t pid)
{
	struct symbolize_module sm = {.pid = pid,
				      .path = m->path,
				      .build_id = m->build_id_raw,
				      .build_id_len = m->build_id_len};
	m->file = symbolize_frame(&sm, f->offset, f->symbol, sizeof(f->symbol),
				  &f->symbol_offset);
	/* A versioned name ("__libc_start_main@@GLIBC_2.34") reads as the
	 * function's. */
	f->symbol[strcspn(f->symbol, "@")] = '\0';
	f->named = m->file == SYMBOLIZE_FOUND && f->symbol[0] != '\0';
}

void stack_names_resolve(struct model_stack *st, pid_t pid)
{
	for (uint32_t i = 0; i < st->frames; i++) {
		struct model_frame *f = &st->frame[i];
		if (f->module != AW_FRAME_NO_MODULE)
			name_frame(f, &st->module[f->module], pid);
	}
	stack_frames_text(st);
}
