/*
 * Names for a stack's frames, from their modules' files as the process
 * sees them (symbolize.h: bounded in time and memory): only for the
 * outputs that show names (stat and check), never for the exposition,
 * serve or top.
 */
#ifndef AW_STACK_NAMES_H
#define AW_STACK_NAMES_H

#include "model.h"

#include <sys/types.h>

/* Name st's frames as process pid sees their modules, and print them
 * again (stack_frames_text). */
void stack_names_resolve(struct model_stack *st, pid_t pid);

#endif
