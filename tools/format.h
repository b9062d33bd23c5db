/*
 * Pure formatting helpers for the reports: durations for people, JSON
 * strings, addresses safe to print. No I/O, no locale: unit tested.
 */
#ifndef AW_FORMAT_H
#define AW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any fmt_duration() result. */
#define FMT_DURATION_LEN 32

/*
 * A duration in ns for people, three significant digits below a minute:
 * "0", "850ns", "12.3us", "4.50ms", "1.20s", "59.9s", then "2m03s",
 * "1h05m", "3d04h". Rounds to nearest and moves to the next unit when
 * rounding reaches 1000 ("999.9us" is "1.00ms"). Returns dst.
 */
char *fmt_duration(char *dst, size_t dstlen, uint64_t ns);

/* ms to ns without wrapping: UINT64_MAX when the product would overflow. */
uint64_t fmt_ms_to_ns(uint64_t ms);

/*
 * src (srclen bytes at most, stopping at a NUL) as a quoted JSON string in
 * dst. Quotes, backslashes and control characters are escaped; well-formed
 * UTF-8 passes through byte for byte, and any other byte >= 0x80 becomes
 * \ufffd, so that the output is valid UTF-8 whatever a process put in its
 * comm. Returns 0, or -1 when dst is too small (dst then holds "").
 */
int fmt_json_string(char *dst, size_t dstlen, const char *src, size_t srclen);

/* Room for fmt_json_string() of n input bytes. */
#define FMT_JSON_LEN(n) ((n)*6 + 3)

/*
 * An address (or comm) as stored, for a terminal: at most srclen bytes,
 * bytes outside printable ASCII shown as '?', "-" when empty. Returns dst.
 */
char *fmt_printable(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
