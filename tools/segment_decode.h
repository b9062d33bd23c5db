/*
 * The segment decoder: a segment's bytes into the model, and nothing else.
 * It reads only what it is given (a file descriptor by pread, or a private
 * buffer), opens no file, looks at no process: whether the segment's
 * process still runs, is stopped or is the one that wrote it is the
 * reader's judgement (segment_reader.h). What the decoder leaves for it:
 * pid, alive, stopped, now_* and bypass stay as snapshot_init set them.
 */
#ifndef AW_SEGMENT_DECODE_H
#define AW_SEGMENT_DECODE_H

#include "segment_reader.h"

#include <stddef.h>
#include <stdint.h>

/* Where a snapshot reads from: the segment file (pread, the writer may be
 * changing it) or a private buffer holding a whole file. */
struct segment_source {
	int fd; /* >= 0: the file */
	const unsigned char *buf;
	uint64_t size; /* of the file or buffer */
};

/*
 * The header of src, checked (segment_check reads only the header bytes,
 * and is told the real size; owner: the file's owner), then the parts in
 * use, into snap, whose name, pid, ns_pid and pid_ns are set (the header
 * must agree with them). SEGMENT_OK, or SEGMENT_UNREADABLE with a one-line
 * reason in err.
 */
int segment_decode(const struct segment_source *src, uint32_t owner,
		   struct model_process *snap, char *err, size_t errlen);

#endif
