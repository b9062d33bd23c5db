/*
 * The reader's model of one process and its listeners, whatever its source:
 * a segment the shim wrote (segment_reader.h, decoded by segment_decode.c)
 * or samples taken from outside a running process (watch: sampler.h,
 * watch_model.c). Every rule (verdict.h), grouping (totals.h) and renderer
 * (report.h) works on this model alone: a renderer includes this header,
 * never a source's. A model_process is one process as any source read it
 * at one moment (a snapshot).
 */
#ifndef AW_MODEL_H
#define AW_MODEL_H

#include "acceptwatch_abi.h"
#include "histogram.h"
#include "segment_name.h"
#include "symbolize.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A one-line reason a reading failed (an unreadable segment, say). */
#define SEGMENT_ERR_LEN 256

/* What a process does that the shim cannot see into (snapshot.bypass):
 * found by the gatherer (bypass.c) or the sampler. */
enum bypass_kind {
	BYPASS_STATIC = 1u << 0,   /* no ELF interpreter: no LD_PRELOAD */
	BYPASS_GO = 1u << 1,	   /* Go runtime: raw system calls */
	BYPASS_IO_URING = 1u << 2, /* holds an io_uring instance */
};

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
	/* This process's first reading (its baseline) and its dates. */
	uint64_t drops_base;	     /* the socket's drops when it first read */
	uint64_t drops_base_mono_ns; /* when, 0 not yet */
	uint64_t drops_rise_mono_ns; /* its last reading that rose, 0 none */
	uint64_t full_mono_ns;	     /* its last probe that saw the queue
					full, 0 never */
	uint64_t sample_mono_ns;
	uint64_t slow_events;

	/* Stripes summed; last accept is the latest of all. */
	uint64_t accepts;
	uint64_t drained;
	uint64_t errors[AW_ERR_CLASSES];
	uint64_t last_accept_mono_ns; /* 0: never */
	uint32_t in_accept;
	/* The source cannot tell whether a thread waits in accept (sampled:
	 * no thread states, or an edge-triggered listener): in_accept says
	 * nothing, and only a stop makes a stall. 0 for a segment. */
	int in_accept_unknown;
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
	/* STALLED on this reading, judged once the live readings are in
	 * (verdict_mark_stalled() in verdict.h). */
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
	unsigned bypass; /* bypass_kind bits (above): io_uring, for one */
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
	/* Not a process: the kernel's figures of listening sockets no
	 * segment speaks for (sample_host.h), pid 0; no accept, thread or
	 * wait figures, TCP_DEFER_ACCEPT unknown. */
	int kernel_only;
};

/* The text of stack reference ref (index + 1) of snap, or NULL. */
const char *model_stack_text(const struct model_process *snap, uint32_t ref);

/* "static binary, io_uring" and so on, for messages; "" for 0. Pure. */
const char *bypass_describe(unsigned kinds, char *buf, size_t len);

/* Release what snap holds on the heap (listeners, stacks); snap may be
 * filled again. */
void model_process_free(struct model_process *snap);

#endif
