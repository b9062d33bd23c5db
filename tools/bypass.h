/*
 * Programs the shim cannot see into: static binaries and Go binaries (they
 * make system calls without libc's wrappers), and io_uring users (accepts
 * submitted to a ring never call accept(); the ring shows in
 * /proc/PID/maps, as every user maps it). Found from /proc, so that the
 * reader can say "cannot see" instead of showing zeros as if all were well.
 */
#ifndef AW_BYPASS_H
#define AW_BYPASS_H

#include "model.h" /* enum bypass_kind */

#include <stddef.h>
#include <sys/types.h>

/* The bypass_kind bits that apply to process pid (0 when none or unknown). */
unsigned bypass_detect(pid_t pid);

/* BYPASS_IO_URING when pid maps an io_uring ring, else 0. */
unsigned bypass_detect_io_uring(pid_t pid);

/*
 * Classify an ELF image from its first bytes (header, program headers and
 * notes must lie within len): BYPASS_STATIC and/or BYPASS_GO, or 0. Pure:
 * unit tested.
 */
unsigned bypass_elf(const unsigned char *image, size_t len);

#endif
