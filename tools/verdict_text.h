/*
 * The verdicts' wording: a verdict's evidence and fix in the operator's
 * English, from its figures alone (struct verdict), so that every source of
 * the model and every renderer say the same. Pure: unit tested with the
 * rules (test_verdict).
 */
#ifndef AW_VERDICT_TEXT_H
#define AW_VERDICT_TEXT_H

#include "verdict.h"

#define VERDICT_TEXT 640

struct verdict_text {
	char evidence[VERDICT_TEXT]; /* one line, no trailing newline */
	char fix[VERDICT_TEXT];	     /* one line */
};

/* v's evidence and fix into t (zeroed first). History (v->history) has
 * its age after the evidence. */
void verdict_text_say(const struct verdict *v, struct verdict_text *t);

#endif
