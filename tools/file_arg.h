/*
 * A file named on the command line, checked before a command acts on it:
 * the reader often runs as root, and a path it was given is never a reason
 * to create directories.
 */
#ifndef AW_FILE_ARG_H
#define AW_FILE_ARG_H

/*
 * Whether path can name a file to write: its directory exists (nothing is
 * created) and path is not itself a directory. 0, or -1 after one line on
 * stderr naming what and option ("check: --state").
 */
int file_arg_check(const char *what, const char *option, const char *path);

#endif
