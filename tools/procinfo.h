/*
 * Small readers of /proc/PID: what the segment cannot say about its process
 * (whether it is the same process, stopped, in which network namespace).
 */
#ifndef AW_PROCINFO_H
#define AW_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat (starttime, clock ticks after boot): with the
 * pid it names one process, so pid reuse is told apart. 0 or -1. */
int procinfo_start_ticks(pid_t pid, uint64_t *ticks);

/* The state letter and start ticks of pid, with one read. 0 or -1. */
int procinfo_stat(pid_t pid, char *state, uint64_t *ticks);

/*
 * Where exec laid out the running image, from /proc/PID/stat: code, start
 * of stack, data, heap start, arguments and environment (fields 26-28,
 * 45-51). Fixed while an image runs; each exec lays them out anew, at
 * randomized addresses, around other arguments or environment (a program
 * run without LD_PRELOAD has a shorter environment). All 0 when /proc
 * hides them (a process this reader may not trace, a zombie).
 */
#define PROCINFO_IMAGE_FIELDS 10
struct procinfo_stat {
	char state;
	uint64_t start_ticks;
	uint64_t image[PROCINFO_IMAGE_FIELDS];
};

/* procinfo_stat and the image's layout, with one read. 0 or -1. */
int procinfo_stat_image(pid_t pid, struct procinfo_stat *ps);

/* The state letter of /proc/PID/stat (R, S, T, Z...). 0 or -1. */
int procinfo_state(pid_t pid, char *state);

/* The real, effective, saved and filesystem uids of pid (the Uid: line of
 * /proc/PID/status), in that order. 0 or -1. */
int procinfo_uids(pid_t pid, uid_t uids[4]);

/* /proc/PID/comm without its newline. 0 or -1. */
int procinfo_comm(pid_t pid, char *dst, size_t dstlen);

/* 1 when every task of pid is stopped (state T or t: SIGSTOP, a tracer),
 * so no thread can return from accept; 0 when some task may run; -1 when
 * the tasks cannot be read. */
int procinfo_stopped(pid_t pid);

/* 1 when /proc/PID/maps has a mapping of a file named libacceptwatch.so
 * (the shim, any build, any directory; also when the file was replaced or
 * deleted since: "libacceptwatch.so (deleted)"), 0 when it has none (the
 * process exec'd a program without it), -1 when maps cannot be read. */
int procinfo_maps_shim(pid_t pid);

enum {
	PROCINFO_MAPS_SHIM = 1u << 0,	  /* libacceptwatch.so is mapped, even
					     deleted */
	PROCINFO_MAPS_IO_URING = 1u << 1, /* an io_uring ring is mapped */
	PROCINFO_MAPS_SEGMENT = 1u << 2,  /* the file asked about is mapped */
};

/* What /proc/PID/maps shows, in one pass: PROCINFO_MAPS_* bits in *found.
 * 0, or -1 when maps cannot be read. */
int procinfo_maps(pid_t pid, unsigned *found);

/* The same, and PROCINFO_MAPS_SEGMENT when pid maps the file dev, ino (by
 * identity: whatever its name, deleted or not). ino 0: no file. */
int procinfo_maps_file(pid_t pid, dev_t dev, ino_t ino, unsigned *found);

/* Identity of pid's network namespace (st_dev, st_ino of /proc/PID/ns/net);
 * pid 0 means this process. 0 or -1. */
int procinfo_netns(pid_t pid, uint64_t *dev, uint64_t *ino);

#endif
