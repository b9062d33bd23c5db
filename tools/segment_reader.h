/*
 * Taking a consistent, private snapshot of a segment into the model
 * (model.h): after segment_snapshot() returns, nothing refers to shared
 * memory. The bytes
 * are decoded by segment_decode.c (pure: the file or a buffer, read with
 * pread(), only the parts in use; never mapped); segment_reader.c opens
 * the file and judges the process (the same one still, alive, stopped,
 * still under the shim, the file's owner its own).
 */
#ifndef AW_SEGMENT_READER_H
#define AW_SEGMENT_READER_H

#include "acceptwatch_abi.h"
#include "model.h"
#include "segment_name.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SEGMENT_DIR "/dev/shm"
/* Attempts at a stable read of a seq-guarded record before giving up: the
 * writer holds a slot odd only for a few stores, so 100 is generous. */
#define SEGMENT_SEQ_RETRIES 100

/* Name the frames of snap's stacks (stack_names_resolve): for the outputs
 * that show names only (stat and check, text and JSON); gc, serve and the
 * exposition never open a module's file. */
void segment_snapshot_name(struct model_process *snap);

enum segment_result {
	SEGMENT_OK = 0,
	SEGMENT_UNREADABLE = -1, /* exists but cannot be read or trusted */
	SEGMENT_MISSING = -2,	 /* no such segment */
	SEGMENT_FORGED = -3,	 /* a live process's name, but not its file:
				    another user made it (planted) */
	SEGMENT_HIDDEN = -4,	 /* of a PID namespace not visible from here:
				    whether its process runs is unknown */
};

/*
 * Open, validate and copy the segment ref names (segment_scan) into snap
 * (zeroed first). Returns SEGMENT_OK, or SEGMENT_UNREADABLE /
 * SEGMENT_MISSING / SEGMENT_FORGED / SEGMENT_HIDDEN with a one-line reason
 * in err. snap->name is always set. Release with model_process_free(),
 * whatever the result.
 */
int segment_snapshot_ref(const struct segment_ref *ref,
			 struct model_process *snap, char *err, size_t errlen);

/* The same for the segment of pid (a pid of this /proc), whatever its
 * PID namespace: its name from segment_ref_of_pid(). */
int segment_snapshot(pid_t pid, struct model_process *snap, char *err,
		     size_t errlen);

/*
 * The same from `size` bytes at buf, a whole segment file owned by
 * owner_uid (the caller is geteuid()), as if found under pid's name: the
 * checks and the copy (segment_decode.c), but nothing about the process
 * (alive, stopped and now_* stay 0). buf is private and does not change while
 * this runs (a record whose seq is odd is left out at once); nothing is read
 * outside [buf, buf + size). Results and release as segment_snapshot().
 */
int segment_snapshot_from_buffer(const void *buf, size_t size,
				 uint32_t owner_uid, pid_t pid,
				 struct model_process *snap, char *err,
				 size_t errlen);

#endif
