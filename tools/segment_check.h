/*
 * Validation of a mapped acceptwatch segment before anything in it is
 * believed. Pure: no I/O, no globals, so it can be unit tested on buffers.
 */
#ifndef AW_SEGMENT_CHECK_H
#define AW_SEGMENT_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Check that the `size` bytes at `buf` (a segment file of that size, owned by
 * `owner_uid`, read by `caller_uid`) hold a header this reader understands:
 * magic, ABI version, every size, offset and count equal to the compile-time
 * layout, listeners_used <= listener_count, a stack table that is either
 * absent (offset, size and count all 0) or exactly this build's with
 * stacks_used <= stack_count, and an owner the caller can trust (itself, or
 * anyone when the caller is root).
 *
 * `buf` may be NULL when `size` is smaller than the header: nothing is read
 * past `size`. Returns 0 when the segment is usable, or -1 with a one-line
 * reason ("bad magic", "owned by uid 1001", ...) in err.
 */
int segment_check(const void *buf, size_t size, uint32_t owner_uid,
		  uint32_t caller_uid, char *err, size_t errlen);

/*
 * Copy a fixed-size field that the writer meant to NUL-terminate but that a
 * reader must not trust: copies at most srclen bytes, stops at the first NUL,
 * and always terminates dst (when dstlen > 0). Returns the length copied.
 */
size_t segment_copy_str(char *dst, size_t dstlen, const char *src,
			size_t srclen);

#endif
