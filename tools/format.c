/*
 * Pure formatting: durations, JSON strings, printable addresses. Kept free
 * of I/O and of locale so the unit tests pin every boundary.
 */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define NS_PER_MIN (60ull * NS_PER_S)
#define NS_PER_HOUR (60ull * NS_PER_MIN)
#define NS_PER_DAY (24ull * NS_PER_HOUR)

/* n / d rounded to nearest, without overflow for any n. */
static uint64_t div_round(uint64_t n, uint64_t d)
{
	uint64_t q = n / d;
	return (n % d) * 2 >= d ? q + 1 : q;
}

/*
 * Three significant digits of ns in `unit`, when they stay below `limit`
 * (1000, or 60 for seconds). Returns 1 when written, 0 when the value
 * belongs to a larger unit. ns < 1000 * unit here, so ns * 100 fits.
 */
static int fmt_sig3(char *dst, size_t dstlen, uint64_t ns, uint64_t unit,
		    uint64_t limit, const char *suffix)
{
	uint64_t r;

	r = div_round(ns * 100, unit);
	if (r < 1000) {
		snprintf(dst, dstlen, "%" PRIu64 ".%02" PRIu64 "%s", r / 100,
			 r % 100, suffix);
		return 1;
	}
	r = div_round(ns * 10, unit);
	if (r < 1000 && r < limit * 10) {
		snprintf(dst, dstlen, "%" PRIu64 ".%" PRIu64 "%s", r / 10,
			 r % 10, suffix);
		return 1;
	}
	r = div_round(ns, unit);
	if (r < 1000 && r < limit) {
		snprintf(dst, dstlen, "%" PRIu64 "%s", r, suffix);
		return 1;
	}
	return 0;
}

/* Two units, the second zero-padded: "2m03s", "1h05m", "3d04h". */
static void fmt_pair(char *dst, size_t dstlen, uint64_t ns, uint64_t big,
		     uint64_t small, const char *bs, const char *ss)
{
	uint64_t n = div_round(ns, small);
	uint64_t per = big / small;
	snprintf(dst, dstlen, "%" PRIu64 "%s%02" PRIu64 "%s", n / per, bs,
		 n % per, ss);
}

char *fmt_duration(char *dst, size_t dstlen, uint64_t ns)
{
	if (!dst || dstlen == 0)
		return dst;
	if (ns == 0) {
		snprintf(dst, dstlen, "0");
		return dst;
	}
	if (ns < NS_PER_US) {
		snprintf(dst, dstlen, "%" PRIu64 "ns", ns);
		return dst;
	}
	if (ns < 1000 * NS_PER_US &&
	    fmt_sig3(dst, dstlen, ns, NS_PER_US, 1000, "us"))
		return dst;
	if (ns < 1000 * NS_PER_MS &&
	    fmt_sig3(dst, dstlen, ns, NS_PER_MS, 1000, "ms"))
		return dst;
	if (ns < NS_PER_MIN && fmt_sig3(dst, dstlen, ns, NS_PER_S, 60, "s"))
		return dst;
	/* Rounding to whole seconds may reach the hour: 59m59.6s. */
	if (div_round(ns, NS_PER_S) < 60 * 60) {
		fmt_pair(dst, dstlen, ns, NS_PER_MIN, NS_PER_S, "m", "s");
		return dst;
	}
	if (div_round(ns, NS_PER_MIN) < 24 * 60) {
		fmt_pair(dst, dstlen, ns, NS_PER_HOUR, NS_PER_MIN, "h", "m");
		return dst;
	}
	fmt_pair(dst, dstlen, ns, NS_PER_DAY, NS_PER_HOUR, "d", "h");
	return dst;
}

uint64_t fmt_ms_to_ns(uint64_t ms)
{
	if (ms > UINT64_MAX / NS_PER_MS)
		return UINT64_MAX;
	return ms * NS_PER_MS;
}

/* The escape for byte c, or NULL when c stands for itself. */
static const char *json_escape(unsigned char c, char tmp[7])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f)
		return NULL;
	snprintf(tmp, 7, "\\u%04x", c);
	return tmp;
}

/*
 * The length of the well-formed UTF-8 sequence of 2 to 4 bytes at s (at
 * most n bytes, a NUL ends it), or 0: overlong forms, UTF-16 surrogates
 * (U+D800..U+DFFF) and code points past U+10FFFF are not well-formed
 * (Unicode 15, table 3-7).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

int fmt_json_string(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t o = 0;
	char tmp[7];

	if (!dst || dstlen < 3)
		goto too_small;
	dst[o++] = '"';
	for (size_t i = 0; src && i < srclen && src[i]; i++) {
		const unsigned char *u = (const unsigned char *)src + i;
		/* Well-formed UTF-8 passes through as it is (JSON text is
		 * UTF-8); a byte that is not part of it becomes U+FFFD. */
		size_t seq = *u >= 0x80 ? utf8_len(u, srclen - i) : 0;
		const char *esc = seq	       ? NULL
				  : *u >= 0x80 ? "\\ufffd"
					       : json_escape(*u, tmp);
		size_t n = seq ? seq : esc ? strlen(esc) : 1;
		/* Keep room for the closing quote and the NUL. */
		if (o + n + 2 > dstlen)
			goto too_small;
		if (esc)
			memcpy(dst + o, esc, n);
		else
			memcpy(dst + o, src + i, n);
		o += n;
		if (seq)
			i += seq - 1;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return 0;
too_small:
	if (dst && dstlen > 0)
		dst[0] = '\0';
	return -1;
}

char *fmt_printable(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t o = 0;

	if (!dst || dstlen == 0)
		return dst;
	for (size_t i = 0; src && i < srclen && src[i] && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (o == 0 && dstlen > 1)
		dst[o++] = '-';
	dst[o] = '\0';
	return dst;
}
