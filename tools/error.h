/*
 * The reader's one way of telling people what went wrong: a single line on
 * stderr, "acceptwatch: " then the message. Commands call it; the modules
 * they use return their errors (a caller's buffer, a code) instead.
 */
#ifndef AW_ERROR_H
#define AW_ERROR_H

/* Print one "acceptwatch: ..." line on stderr. */
void aw_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
