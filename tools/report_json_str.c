/*
 * One JSON string, written for every renderer that writes JSON (stat,
 * check, watch): below them all, so that none calls another for it.
 */
#include "report.h"

#include "format.h"

/* The longest string written whole: a printed frame, a verdict's text. */
#define JSON_STR_MAX 1000

void report_json_str(FILE *out, const char *s, size_t len)
{
	char buf[FMT_JSON_LEN(JSON_STR_MAX)];

	if (len > JSON_STR_MAX)
		len = JSON_STR_MAX;
	if (fmt_json_string(buf, sizeof(buf), s, len))
		fputs("\"\"", out);
	else
		fputs(buf, out);
}
