/*
 * Names for raw call-site frames, the way eu-stack and perf find them, with
 * elfutils' libdwfl: the module's file as the process mapped it, its .symtab,
 * its .gnu_debugdata, its debuglink, /usr/lib/debug/.build-id/. A frame is
 * named only by a symbol whose extent holds its address; otherwise it reads
 * "module+0xOFF", which `addr2line -e module 0xOFF` accepts.
 */
#ifndef AW_SYMBOLIZE_H
#define AW_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SYMBOLIZE_NAME_LEN 128

enum symbolize_file {
	SYMBOLIZE_FOUND = 0,	  /* the file, with the build-id captured */
	SYMBOLIZE_MISSING = 1,	  /* no regular file at that path */
	SYMBOLIZE_MISMATCH = 2,	  /* the file has another build-id: replaced */
	SYMBOLIZE_UNREADABLE = 3, /* not a program or library libdwfl can
				   * read, or not a plain absolute path */
};

/* Which file to read: path as the process mapped it, seen from its root
 * (/proc/PID/root) when that is readable, else from ours. */
struct symbolize_module {
	pid_t pid;
	const char *path;
	const uint8_t *build_id;
	size_t build_id_len; /* 0: none captured, no check */
};

/*
 * Name the return address at offset (in the module's ELF address space) of
 * module m. Returns enum symbolize_file; on SYMBOLIZE_FOUND, name holds the
 * function (or "" when no symbol's extent holds the call) and *sym_offset
 * the return address's offset from the function's start. Serialized inside
 * (libdwfl handles are shared between callers); a module is opened once.
 */
int symbolize_frame(const struct symbolize_module *m, uint64_t offset,
		    char *name, size_t size, uint64_t *sym_offset);

/* Close every cached module (at exit; the tests' leak checker). */
void symbolize_release(void);

#endif
