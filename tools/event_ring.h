/*
 * Reading the shim's slow-event ring (shim/segment_writer.h): a copy of
 * the ring, and which of its entries hold a whole event.
 */
#ifndef AW_EVENT_RING_H
#define AW_EVENT_RING_H

#include "acceptwatch_abi.h"

#include <stddef.h>
#include <stdint.h>

/* len bytes at off of the segment src into dst: 0, or -1 when they are not
 * all there. */
typedef int (*event_ring_read_fn)(const void *src, uint64_t off, void *dst,
				  size_t len);

/*
 * Copy the ring of count entries (1 to AW_MAX_EVENTS) at off of src into
 * ring[], as read once event_head was head; ok[i] says whether entry i
 * holds, whole, the event of the position in [head - count, head) that
 * falls on it (an entry not yet written for that position, being written,
 * or already rewritten for a later one is not). Returns 0, or -1 when a
 * read failed.
 */
int event_ring_copy(event_ring_read_fn read, const void *src, uint64_t off,
		    uint32_t count, uint64_t head, struct aw_event *ring,
		    int *ok);

#endif
