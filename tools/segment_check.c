/*
 * Validation of a mapped segment: the reader believes no offset, size or
 * count from shared memory until it matches what this binary was built with,
 * so a segment from another version, a truncated file or a forged one is
 * reported instead of read out of bounds.
 */
#include "segment_check.h"

#include "acceptwatch_abi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int check_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A header field that must equal the value this reader was built with. */
static int check_field(char *err, size_t errlen, const char *what, uint64_t got,
		       uint64_t want)
{
	if (got == want)
		return 0;
	return check_fail(err, errlen, "%s is %llu, this reader knows %llu",
			  what, (unsigned long long)got,
			  (unsigned long long)want);
}

/* Every layout field, against the compile-time constants. */
static int check_layout(const struct aw_seg_header *h, char *err, size_t errlen)
{
	const struct {
		const char *what;
		uint64_t got;
		uint64_t want;
	} f[] = {
	    {"listener_offset", h->listener_offset,
	     offsetof(struct aw_segment, listener)},
	    {"listener_size", h->listener_size, sizeof(struct aw_listener)},
	    {"listener_count", h->listener_count, AW_MAX_LISTENERS},
	    {"event_offset", h->event_offset,
	     offsetof(struct aw_segment, event)},
	    {"event_size", h->event_size, sizeof(struct aw_event)},
	    {"event_count", h->event_count, AW_MAX_EVENTS},
	    {"hist_buckets", h->hist_buckets, AW_HIST_BUCKETS},
	    {"stripes", h->stripes, AW_STRIPES},
	    {"stripe_offset", h->stripe_offset,
	     offsetof(struct aw_segment, stripe)},
	    {"stripe_size", h->stripe_size, sizeof(struct aw_stripe)},
	    {"stripe_count", h->stripe_count, AW_MAX_STRIPES},
	    {"total_size", h->total_size, AW_SEG_SIZE},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (check_field(err, errlen, f[i].what, f[i].got, f[i].want))
			return -1;
	return 0;
}

/*
 * The stack table. All three fields zero: a shim that predates stacks (or
 * chose not to publish any), read as "no stacks". Otherwise each must match
 * this build, and stacks_used must fit in the table: the reader indexes the
 * table with it and with the listeners' stack references.
 */
static int check_stacks(const struct aw_seg_header *h, char *err, size_t errlen)
{
	uint32_t used = __atomic_load_n(&h->stacks_used, __ATOMIC_RELAXED);

	if (h->stack_offset == 0 && h->stack_size == 0 && h->stack_count == 0) {
		if (used)
			return check_fail(
			    err, errlen, "stacks_used %u without a stack table",
			    used);
		return 0;
	}
	if (check_field(err, errlen, "stack_offset", h->stack_offset,
			offsetof(struct aw_segment, stack)) ||
	    check_field(err, errlen, "stack_size", h->stack_size,
			sizeof(struct aw_stack)) ||
	    check_field(err, errlen, "stack_count", h->stack_count,
			AW_MAX_STACKS))
		return -1;
	if (used > h->stack_count)
		return check_fail(err, errlen,
				  "stacks_used %u exceeds stack_count %u", used,
				  h->stack_count);
	return 0;
}

int segment_check(const void *buf, size_t size, uint32_t owner_uid,
		  uint32_t caller_uid, char *err, size_t errlen)
{
	const struct aw_seg_header *h = buf;

	/* Untrusted content is not parsed at all: another user could forge
	 * any figure, so the owner decides before the bytes do. */
	if (owner_uid != caller_uid && caller_uid != 0)
		return check_fail(err, errlen, "owned by uid %u", owner_uid);
	if (!buf || size < sizeof(*h))
		return check_fail(err, errlen,
				  "truncated: %zu bytes, smaller than the "
				  "%zu-byte header",
				  size, sizeof(*h));
	/* The writer stores magic last, with release order: acquire here
	 * makes the rest of the header visible once the magic is. */
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != AW_SEG_MAGIC)
		return check_fail(err, errlen, "bad magic");
	if (h->abi_version != AW_ABI_VERSION)
		return check_fail(err, errlen,
				  "ABI version %u, this reader knows %u",
				  h->abi_version, AW_ABI_VERSION);
	if (check_field(err, errlen, "header_size", h->header_size, sizeof(*h)))
		return -1;
	if (h->total_size != size)
		return check_fail(
		    err, errlen, "%s: %zu bytes, header says %llu",
		    size < h->total_size ? "truncated" : "size mismatch", size,
		    (unsigned long long)h->total_size);
	if (check_layout(h, err, errlen) || check_stacks(h, err, errlen))
		return -1;
	uint32_t used = __atomic_load_n(&h->listeners_used, __ATOMIC_RELAXED);
	if (used > h->listener_count)
		return check_fail(err, errlen,
				  "listeners_used %u exceeds listener_count %u",
				  used, h->listener_count);
	used = __atomic_load_n(&h->stripes_used, __ATOMIC_RELAXED);
	if (used > h->stripe_count)
		return check_fail(err, errlen,
				  "stripes_used %u exceeds stripe_count %u",
				  used, h->stripe_count);
	return 0;
}

size_t segment_copy_str(char *dst, size_t dstlen, const char *src,
			size_t srclen)
{
	if (!dst || dstlen == 0)
		return 0;
	size_t n = src ? strnlen(src, srclen) : 0;
	if (n > dstlen - 1)
		n = dstlen - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return n;
}
