/* The library's life cycle: its start, once, and the fork handlers. */
#ifndef AW_LIFECYCLE_H
#define AW_LIFECYCLE_H

#include "config.h"

/*
 * What the module above the life cycle (the accept path) does at the
 * library's start and in a forked child: handed down by every caller of
 * aw_life_start and aw_life_ready, always the same hooks.
 */
struct aw_life_above {
	/* At the start, once the clock is chosen. */
	void (*start)(void);
	/* In a forked child, signals held: after the table's lock is made
	 * afresh, before the parent's segment is let go. */
	void (*forked)(void);
};

/* Start the library, once (a later call returns at once, after the first
 * one's start is done). */
void aw_life_start(const struct aw_life_above *above);

/*
 * The configuration, the library started; and a child made without fork
 * handlers (listener_table.h, aw_table_unforked) made a proper child first.
 * Cheap once started.
 */
const struct aw_config *aw_life_ready(const struct aw_life_above *above);

#endif
