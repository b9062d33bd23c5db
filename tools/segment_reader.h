/*
 * Finding acceptwatch segments and taking a consistent, private snapshot of
 * one: after segment_snapshot() returns, nothing refers to shared memory.
 * The segment file is read with pread(), only the parts in use (header, used
 * listener slots, event ring, published stacks): it is never mapped.
 */
#ifndef AW_SEGMENT_READER_H
#define AW_SEGMENT_READER_H

#include "acceptwatch_abi.h"
#include "histogram.h"
#include "segment_name.h"
#include "symbolize.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SEGMENT_DIR "/dev/shm"
#define SEGMENT_ERR_LEN 256
/* Attempts at a stable read of a seq-guarded record before giving up: the
 * writer holds a slot odd only for a few stores, so 100 is generous. */
#define SEGMENT_SEQ_RETRIES 100

/* Kernel readings taken by the reader itself (see sockdiag.h). */
struct model_live {
	int queue_known; /* queue_now came from the kernel during this run */
	int live;	 /* queue and drops both came from netlink now */
	uint32_t queue_now;
	uint32_t kernel_backlog; /* idiag_wqueue, when live */
	uint64_t drops;		 /* the kernel's, or else the shim's sample */
};

/* One READY listener slot, copied out and summed over its stripes. */
struct model_listener {
	uint32_t slot;
	int consistent; /* descriptive fields read under a stable even seq */

	/* Descriptive fields. */
	int32_t fd;
	uint32_t family;
	uint64_t dev;
	uint64_t ino;
	char address[AW_ADDR_LEN + 1];
	int32_t requested_backlog;
	int32_t passed_backlog;
	uint32_t effective_backlog;
	uint32_t somaxconn;
	uint32_t flags;
	uint32_t listen_calls;
	uint64_t listen_real_ns;
	uint64_t listen_mono_ns;
	uint32_t generation; /* of the slot: another socket when it changes */
	uint32_t fds;	     /* descriptors of the socket in the process */

	/* The shim's last probe of the listener. */
	uint64_t samples;
	uint32_t queue_now;
	uint32_t queue_peak;
	uint64_t full_events;
	uint64_t drops;		/* read about once a second, and at close */
	uint64_t drops_mono_ns; /* when, 0 never */
	uint64_t sample_mono_ns;
	uint64_t slow_events;

	/* Stripes summed; last accept is the latest of all. */
	uint64_t accepts;
	uint64_t drained;
	uint64_t errors[AW_ERR_CLASSES];
	uint64_t last_accept_mono_ns; /* 0: never */
	uint32_t in_accept;
	struct aw_hist gap_ns;
	struct aw_hist away_ns;
	struct aw_hist queue_wait_ms;

	/* Call sites: index + 1 into the snapshot's stack[], 0 when none
	 * (or the reference names a stack this snapshot does not hold). */
	uint32_t listen_stack; /* who called listen() */
	uint32_t slow_stack;   /* the accept loop at the last slow event */

	/* The listener's latest slow event, when still in the ring. */
	uint64_t last_slow_ref; /* ring position + 1, as the shim wrote it */
	int has_last_slow;
	struct aw_event last_slow;

	/* Filled by the caller from the kernel (live_apply() in live.h). */
	struct model_live live;
	int stalled;
};

/* A frame of a published stack, with the name the reader found for it. */
struct model_frame {
	uint64_t offset; /* as captured: in the module's ELF address space */
	uint32_t module; /* index into the stack's module[], or
			  * AW_FRAME_NO_MODULE (offset is then absolute) */
	int named;	 /* symbol holds the function whose extent holds it */
	uint64_t symbol_offset; /* of the return address from its start */
	char symbol[SYMBOLIZE_NAME_LEN];
};

struct model_module {
	char path[AW_MODULE_PATH];		/* as mapped, NUL-terminated */
	char build_id[2 * AW_BUILD_ID_MAX + 1]; /* hex, "" none captured */
	uint8_t build_id_raw[AW_BUILD_ID_MAX];	/* the same, as captured */
	uint32_t build_id_len;			/* 0: none captured */
	int file; /* enum symbolize_file; SYMBOLIZE_NOT_ASKED until named */
};

/* One printed frame: "function+0xOFF (module)", "module+0xOFF", with a
 * note when the module's file was replaced, or "0xADDR". */
#define SEGMENT_FRAME_TEXT (SYMBOLIZE_NAME_LEN + AW_MODULE_PATH + 64)

/* A published call-site stack, copied (see struct aw_stack), named only
 * when asked (segment_snapshot_name). */
struct model_stack {
	uint64_t hits;
	uint32_t kind; /* enum aw_stack_kind */
	uint32_t listener;
	uint32_t frames;
	uint32_t modules;
	struct model_frame frame[AW_STACK_FRAMES];
	struct model_module module[AW_STACK_MODULES];
	/* frames as printed, one a line, innermost first; heap, exactly as
	 * long as it needs (a snapshot of many processes holds many stacks),
	 * NULL when memory ran out */
	char *text;
};

/* One process's segment, copied. */
struct model_process {
	char name[SEGMENT_NAME_LEN]; /* "acceptwatch.1234" */
	pid_t pid;	 /* as /proc numbers it here; 0: exited (a name of
			    another namespace that no process has now) */
	pid_t ns_pid;	 /* as the name says: in the process's namespace */
	uint32_t pid_ns; /* the name's PID namespace, 0: a short name */
	struct aw_seg_header header;
	char comm[AW_COMM_LEN + 1];
	int alive;	 /* the same process still runs (pid and start time) and
			  * still maps the shim */
	int unshimmed;	 /* it runs, but exec'd a program without the shim */
	int stopped;	 /* every task stopped: no thread can accept */
	unsigned bypass; /* bypass_kind bits (bypass.h): io_uring, for one */
	uint64_t now_mono_ns;
	uint64_t now_real_ns;
	uint64_t netns; /* inode of its network namespace, 0: unknown (set by
			   live_apply) */
	uint32_t n_listeners;
	struct model_listener *listener; /* n_listeners, heap */
	uint32_t n_events;
	struct aw_event event[AW_MAX_EVENTS]; /* stable entries, oldest first */
	uint32_t n_stacks;
	struct model_stack *stack; /* n_stacks published ones, heap */
	/* Not read from a segment but sampled from outside (acceptwatch
	 * watch, watch_model.h): the threads and what the samples cannot
	 * tell, owned by the watch model; NULL for a segment. */
	const struct watch_view *sampled;
};

/* Name the frames of snap's stacks (stack_frames_name): for the outputs
 * that show names only (stat and check, text and JSON); gc, serve and the
 * exposition never open a module's file. */
void segment_snapshot_name(struct model_process *snap);

/* The text of stack reference ref (index + 1) of snap, or NULL. */
const char *model_stack_text(const struct model_process *snap, uint32_t ref);

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
 * checks and the copy, but nothing about the process (alive, stopped and
 * now_* stay 0). buf is private and does not change while this runs (a
 * record whose seq is odd is left out at once); nothing is read outside
 * [buf, buf + size). Results and release as segment_snapshot().
 */
int segment_snapshot_from_buffer(const void *buf, size_t size,
				 uint32_t owner_uid, pid_t pid,
				 struct model_process *snap, char *err,
				 size_t errlen);

void model_process_free(struct model_process *snap);

#endif
