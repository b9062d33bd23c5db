/*
 * aw_error: the reader's one-line messages on stderr.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void aw_error(const char *fmt, ...)
{
	va_list ap;

	fputs("acceptwatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
