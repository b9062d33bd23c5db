/* Reading the event ring; the protocol is in shim/segment_writer.h. */
#include "event_ring.h"

#include "fence.h"

/*
 * The ring read whole three times, an acquire fence between reads (the
 * kernel's copy in pread() loads in no stated order within one call; the
 * fences order one call's loads before the next one's). Entry i is kept
 * when every copy's seq is 2p + 2 for the position p in
 * [head - count, head) that falls on it: the event of that position,
 * whole, and not rewritten while its fields (the middle copy) were read.
 */
int event_ring_copy(event_ring_read_fn read, const void *src, uint64_t off,
		    uint32_t count, uint64_t head, struct aw_event *ring,
		    int *ok)
{
	struct aw_event before[AW_MAX_EVENTS], after[AW_MAX_EVENTS];
	size_t len = count * sizeof(*ring);

	if (count == 0 || count > AW_MAX_EVENTS || read(src, off, before, len))
		return -1;
	aw_fence_acquire();
	if (read(src, off, ring, len))
		return -1;
	aw_fence_acquire();
	if (read(src, off, after, len))
		return -1;
	for (uint32_t i = 0; i < count; i++)
		ok[i] = 0;
	uint64_t first = head > count ? head - count : 0;
	for (uint64_t pos = first; pos < head; pos++) {
		uint32_t i = (uint32_t)(pos % count);
		uint64_t whole = 2 * pos + 2;
		ok[i] = before[i].seq == whole && ring[i].seq == whole &&
			after[i].seq == whole;
	}
	return 0;
}
