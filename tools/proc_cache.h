/*
 * What a reader that reads the same processes again and again (serve, top)
 * keeps between passes about a segment's process: the answers that cannot
 * change while the same image runs with the same segment file, so that a
 * scrape of 10,000 processes does not read 10,000 /proc/PID/maps (the
 * costliest file per process: the kernel walks and prints every mapping)
 * and /proc/PID/status each time.
 *
 * An entry is keyed by the pid, its start time, the segment file's device
 * and inode, and the image's layout (procinfo_stat_image): pid reuse, a
 * new segment file and an exec each make a new key, so a process that
 * exec'd a program without the shim is read again and found unshimmed.
 * Entries whose process was not read in a pass are dropped at its end
 * (proc_cache_sweep), and at most PROC_CACHE_MAX are kept: memory is
 * bounded, a process not cached is read as before. Thread-safe.
 *
 * Until proc_cache_enable() is called (once, before any other thread
 * reads), every call reads /proc and keeps nothing: a one-shot reader
 * (stat, check) pays no table.
 */
#ifndef AW_PROC_CACHE_H
#define AW_PROC_CACHE_H

#include "procinfo.h"

#include <stdint.h>
#include <sys/types.h>

#define PROC_CACHE_MAX 32768

void proc_cache_enable(void);

/*
 * procinfo_maps_file(pid, dev, ino, found), from the cache when pid still
 * runs the image ps describes (ps: read just before) and the segment is
 * the same file. What a mapping added later would change is not seen until
 * the key changes: an io_uring ring set up after the first read
 * (PROCINFO_MAPS_IO_URING, which neither serve nor top shows). The shim and
 * its segment stay mapped for the image's life.
 */
int proc_cache_maps(pid_t pid, const struct procinfo_stat *ps, uint64_t dev,
		    uint64_t ino, unsigned *found);

/*
 * Whether owner is one of pid's real, effective, saved and filesystem uids
 * (procinfo_uids): 1 yes, 0 no (*euid: its effective uid), -1 unreadable.
 * A yes is kept for the image and the file: the file was the process's
 * then, and stays so when the process changes its uids later (a file's
 * owner cannot be changed but by root, and a new file has a new inode).
 */
int proc_cache_owner(pid_t pid, const struct procinfo_stat *ps, uint64_t dev,
		     uint64_t ino, uid_t owner, uid_t *euid);

/* The end of a pass over every segment: entries not used since the last
 * sweep are dropped (their processes exited, exec'd or lost the file).
 * Not concurrent with the lookups. */
void proc_cache_sweep(void);

/* Entries kept (for tests). */
size_t proc_cache_size(void);

#endif
