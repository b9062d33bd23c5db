/*
 * What every source's model shares: its stacks as text, its bypass bits in
 * words, and its release.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

const char *model_stack_text(const struct model_process *snap, uint32_t ref)
{
	if (ref == 0 || ref > snap->n_stacks || !snap->stack ||
	    !snap->stack[ref - 1].text || !snap->stack[ref - 1].text[0])
		return NULL;
	return snap->stack[ref - 1].text;
}

void model_process_free(struct model_process *snap)
{
	free(snap->listener);
	for (uint32_t i = 0; snap->stack && i < snap->n_stacks; i++)
		free(snap->stack[i].text);
	free(snap->stack);
	snap->listener = NULL;
	snap->stack = NULL;
	snap->n_listeners = 0;
	snap->n_stacks = 0;
}

const char *bypass_describe(unsigned kinds, char *buf, size_t len)
{
	static const char *const names[] = {"static binary", "Go binary",
					    "io_uring"};
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 3; i++) {
		if (!(kinds & (1u << i)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
				 used ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}
