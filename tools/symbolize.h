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
	SYMBOLIZE_GAVE_UP = 4,	  /* reading it took too long or too much
				   * memory: its frames stay unnamed */
	SYMBOLIZE_NOT_ASKED = 5,  /* not named (an output without names) */
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
 * the return address's offset from the function's start.
 *
 * Bounded whatever the files (symbolize_worker.c): libdwfl runs in a worker
 * process with an address-space limit; an answer not back within
 * SYMBOLIZE_TIMEOUT_MS costs the worker (killed, started again at the next
 * call) and that module's frames (SYMBOLIZE_GAVE_UP from then on); once
 * slow answers took SYMBOLIZE_BUDGET_MS in all, every frame is left
 * unnamed.
 * Serialized inside; a module is opened once per worker. Call it from a
 * process that does not run other threads at the time (it forks).
 */
int symbolize_frame(const struct symbolize_module *m, uint64_t offset,
		    char *name, size_t size, uint64_t *sym_offset);

#define SYMBOLIZE_TIMEOUT_MS 2000
#define SYMBOLIZE_BUDGET_MS 3000
/* The worker's address space beyond what it starts with: its RSS stays
 * under that plus its start (about 11 MiB as shipped), whatever a file
 * makes libdwfl allocate. libdwfl grows an inflated .gnu_debugdata by
 * doubling, retries 1 KiB smaller at a time when doubling fails, and
 * touches all of it: a bomb fills nearly the whole bound, within the
 * worker's time. The reader's promise (tests/e2e/test_reader_files.sh:
 * nothing it starts past 200 MB) must hold for the whole bound. */
#define SYMBOLIZE_MEMORY ((size_t)160 << 20)

/* Stop the worker and forget the modules given up (the tests; at exit the
 * worker goes by itself). */
void symbolize_release(void);

/* The same as symbolize_frame, in this process and unbounded: the
 * worker's loop, and the tests. Serialized inside (libdwfl handles are
 * shared); at most 64 modules are kept open, least recently used first
 * to go. */
int symbolize_frame_here(const struct symbolize_module *m, uint64_t offset,
			 char *name, size_t size, uint64_t *sym_offset);

/* How many modules symbolize_frame_here keeps now; *has: whether m's
 * file is one of them (m may be NULL). */
size_t symbolize_cached(const struct symbolize_module *m, int *has);

/* Close every module symbolize_frame_here keeps. */
void symbolize_release_here(void);

#endif
