#include "event_ring.h"

/*
 * The ring read whole three times: an entry is kept when its seq was the
 * same, even and non-zero in every copy, so its fields (from the middle
 * copy) were not being rewritten.
 */
int event_ring_copy(event_ring_read_fn read, const void *src, uint64_t off,
		    uint32_t count, uint64_t head, struct aw_event *ring,
		    int *ok)
{
	struct aw_event before[AW_MAX_EVENTS], after[AW_MAX_EVENTS];
	size_t len = count * sizeof(*ring);

	(void)head;
	if (count > AW_MAX_EVENTS || read(src, off, before, len) ||
	    read(src, off, ring, len) || read(src, off, after, len))
		return -1;
	for (uint32_t i = 0; i < count; i++)
		ok[i] = before[i].seq != 0 && !(before[i].seq & 1u) &&
			before[i].seq == after[i].seq &&
			ring[i].seq == before[i].seq;
	return 0;
}
