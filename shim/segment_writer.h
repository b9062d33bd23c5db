/*
 * The segment's writer: every store a reader must see whole goes through
 * here. For now: the slow-event ring and the seqlock over a listener slot's
 * descriptive fields.
 */
#ifndef AW_SEGMENT_WRITER_H
#define AW_SEGMENT_WRITER_H

#include "acceptwatch_abi.h"

#include <stdint.h>

/*
 * An event ring: count entries, the header word that counts the positions
 * ever claimed, and the one that counts events given up. The segment's is
 * (event, AW_MAX_EVENTS, event_head, NULL); a test may build a smaller one
 * anywhere.
 */
struct aw_ring {
	struct aw_event *entry;
	uint32_t count;
	uint64_t *head;
	uint64_t *lost;
};

/*
 * Claim the next position of r, into *pos, and write e there for the
 * listener slot given (e->seq and e->listener are ignored). Returns 1: the
 * event is the reader's to see once this returns. Lock-free.
 */
int aw_segment_write_ring(const struct aw_ring *r, uint32_t listener,
			  const struct aw_event *e, uint64_t *pos);

/* The same on the segment's own ring. */
uint64_t aw_segment_write_event(struct aw_segment *s, uint32_t listener,
				const struct aw_event *e);

/* Seqlock writer side for a listener's descriptive fields. Writers are
 * serialised by the table lock (listener_table.h). */
void aw_segment_write_begin(struct aw_listener *l);
void aw_segment_write_end(struct aw_listener *l);

#endif
