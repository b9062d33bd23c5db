/*
 * The shared-memory segment ABI: the one contract between the shim (writer)
 * and the reader. Fixed-width types only. Pinned: the size of the segment,
 * of its header and of each entry (listener, event, stack, stripe), and the
 * offsets a reader of another build depends on, by tests/unit/test_abi.c
 * (a moved one fails it); the sizes and several offsets also by the
 * _Static_asserts at the end of this file (a moved one fails the build). A
 * field not pinned can move unnoticed: a change that moves one must bump
 * AW_ABI_VERSION.
 *
 * Segment: POSIX shm "/acceptwatch.<pid>" for a process of the initial PID
 * namespace, "/acceptwatch.<pidns>.<pid>" for any other (containers): pidns
 * is the inode of the process's PID namespace in decimal (as `lsns` and
 * /proc/PID/ns/pid show it), pid the process's pid in that namespace (what
 * getpid() returns there, 1 for a container's first process). Namespaces
 * sharing one /dev/shm then never take each other's names; a reader in
 * another namespace finds the process by its NSpid (/proc/PID/status) and
 * its /proc/PID/ns/pid inode. The header repeats both (pid, pid_ns). A shim
 * that cannot read /proc/self/ns/pid uses the short name, as builds before
 * namespaced names did everywhere. Mode 0600, AW_SEG_SIZE bytes:
 *
 *   struct aw_seg_header                      at 0
 *   struct aw_listener[header.listener_count] at header.listener_offset
 *   struct aw_event[header.event_count]       at header.event_offset
 *   struct aw_stack[header.stack_count]       at header.stack_offset
 *   struct aw_stripe[header.stripe_count]     at header.stripe_offset
 *
 * Only what is in use is backed by memory: the header, the listener table,
 * the ring and the stacks when the segment is made; a stripe when a thread
 * first needs one (a listener's stripes stay with its slot). The rest of the
 * file is a hole: a reader must not read past the stripes in use.
 *
 * Concurrency rules (writer = threads of one process, reader = any process):
 * - The header is filled before `magic` is stored with release order; a
 *   reader that sees the magic sees the rest of the header.
 * - A listener slot's description (fd, family, dev, ino, address,
 *   backlogs, somaxconn, flags, listen calls and times, and generation at
 *   a reuse) is written under the slot's `seq` (odd while writing, even
 *   when stable). A reader copies it and retries, a bounded number of
 *   times, until it sees the same even `seq` before and after. `state`
 *   becomes AW_SLOT_READY (release) once the first write is complete. Written
 *   outside `seq` (fd and flags under it too), each a single atomic store
 *   a reader takes on its own: fd and fds (close and dup take no lock),
 *   the CLOSED and DEFER_ACCEPT flag bits (so every write of `flags`,
 *   under `seq` too, is an atomic or/and of the writer's own bits), drops
 *   with drops_mono_ns (release, after the drops baseline and rise date),
 *   full_mono_ns, listen_stack, and stripe_ref (release). Rule by rule:
 *   shim/segment_writer.h.
 * - Counters and histogram buckets are independent relaxed atomics: each is
 *   exact on its own, a snapshot of several is not instantaneous.
 * - Per-thread figures live in up to AW_STRIPES stripes per listener, each
 *   on its own cache lines, so threads that accept on one listener do not
 *   fight over one line. A thread owns a stripe (owner = its tid) and is
 *   then its only writer: its counters are plain loads and stores, each
 *   8-byte field aligned and written whole, and a reader in another
 *   process reads each whole. When all of a listener's stripes are owned,
 *   further threads share one with atomic read-modify-writes (owner
 *   stays). The reader sums them. A listener's stripes are found through its
 * stripe_ref[] (offsets into the segment, 0 = none yet), published with release
 * order once the stripe is backed and zeroed.
 * - A slot is reused once every descriptor of its socket is closed: its
 *   generation rises (under seq), its figures and stripes are zeroed, and
 *   each stripe carries the generation it counts for. A reader sums only
 *   stripes of the slot's generation, and takes a changed generation
 *   between two readings for another socket.
 * - Events form a ring: a writer claims position `event_head` with
 *   fetch-add, then fills entry (position % event_count) under that
 *   entry's seq, which names the position (2p + 1 writing, 2p + 2 whole).
 *   An event whose entry another writer holds is given up and counted in
 *   `events_lost`. A reader takes entry i only for the position the head
 *   gives it, when seq is 2p + 2 before and after the copy. The protocol
 *   and its memory orders: shim/segment_writer.h.
 * - Stacks are written once, under the writer's stack lock, then
 *   published by raising `stacks_used` (release); a published stack never
 *   changes except its `hits` counter.
 *
 * Times: *_mono_ns are CLOCK_MONOTONIC (comparable across processes on one
 * machine), *_real_ns are CLOCK_REALTIME (wall clock, for people).
 *
 * Trust: any process of the owner's uid can write the segment. The writer
 * keeps every count, index, offset and bound it acts on (slots and
 * stripes in use, stripe offsets and owners, stacks published) in its own
 * memory and only mirrors them here, for readers; a reader validates
 * everything it follows (tools/segment_check.c).
 */
#ifndef ACCEPTWATCH_ABI_H
#define ACCEPTWATCH_ABI_H

#include <stddef.h>
#include <stdint.h>

#define AW_SEG_MAGIC 0x3147455357544341ULL /* "ACTWSEG1", little-endian */
#define AW_ABI_VERSION 6u
#define AW_SEG_PREFIX "acceptwatch." /* name under /dev/shm, then the pid */
/* Room for "/acceptwatch.<pidns>.<pid>" and its NUL. */
#define AW_SEG_NAME_MAX 48u
/* The initial PID namespace's inode (PROC_PID_INIT_INO, a kernel constant):
 * its processes keep the short name. */
#define AW_PIDNS_INIT_INO 0xEFFFFFFCu

#define AW_MAX_LISTENERS 64u
#define AW_MAX_EVENTS 32u
#define AW_STRIPES 8u
#define AW_MAX_STACKS 32u
#define AW_MAX_STRIPES 256u /* for all listeners together */
#define AW_STACK_FRAMES 32u
#define AW_STACK_MODULES 8u
#define AW_MODULE_PATH 256u
#define AW_BUILD_ID_MAX 32u
#define AW_ADDR_LEN 112u
#define AW_COMM_LEN 16u

/*
 * Log-linear histogram (HdrHistogram-style), over v + 16: values below 16
 * have a bucket each; above, every power of two of v + 16 is split into 16
 * equal buckets. A bucket of values at or above 16 is at most 1/8 of its
 * lower bound wide (1/15.75 from 1000 up), so its midpoint is within 6.25%
 * (3.2%) of any value in it. Values below 2^44 - 16 (4.9 hours in ns) have
 * buckets; larger ones land in the last bucket and still count in max/sum.
 *
 * Bucket i < 16 holds the value i. Bucket i >= 16, with e = (i - 16) / 16 +
 * 5 and m = (i - 16) % 16, holds the values v with v + 16 in [(16 + m) <<
 * (e - 4), (17 + m) << (e - 4)).
 */
#define AW_HIST_LINEAR 16u
#define AW_HIST_SUB 16u
#define AW_HIST_MIN_EXP 5u  /* of v + 16, past the linear buckets */
#define AW_HIST_MAX_EXP 43u /* of v + 16, in the last bucket */
#define AW_HIST_BUCKETS                                                        \
	(AW_HIST_LINEAR +                                                      \
	 (AW_HIST_MAX_EXP - AW_HIST_MIN_EXP + 1u) * AW_HIST_SUB)
#define AW_HIST_RANGE (((uint64_t)1 << (AW_HIST_MAX_EXP + 1)) - AW_HIST_LINEAR)

/*
 * Bucket index of v, for v below AW_HIST_RANGE. v + 16 is exact as a double
 * (below 2^53), whose top 16 bits are the exponent, biased by 1023, and the
 * top 4 bits of the fraction: (exponent << 4) + the 16th of its power of
 * two, which is the layout above but for a constant. One conversion and
 * one shift, no branch (the shim's common path records two per accept).
 * The conversion is exact: the host's rounding mode and floating-point
 * exception masks cannot change it or trap on it.
 */
_Static_assert(AW_HIST_SUB == 16u && AW_HIST_LINEAR == 16u,
	       "aw_hist_index reads 4 bits of fraction of v + 16");
_Static_assert(__DBL_MANT_DIG__ == 53 && __DBL_MAX_EXP__ == 1024,
	       "IEEE 754 binary64 doubles");
#define AW_HIST_INDEX_BIAS ((1023u + 4u) << 4) /* the index of v = 0 */

static inline uint64_t aw_hist_index_in_range(uint64_t v)
{
	double d = (double)(int64_t)(v + AW_HIST_LINEAR);
	uint64_t bits;
	__builtin_memcpy(&bits, &d, sizeof(bits));
	return (bits >> 48) - AW_HIST_INDEX_BIAS;
}

/* The same for any v: past the range, the last bucket. */
static inline uint32_t aw_hist_index(uint64_t v)
{
	if (__builtin_expect(v >= AW_HIST_RANGE, 0))
		return AW_HIST_BUCKETS - 1u;
	return (uint32_t)aw_hist_index_in_range(v);
}

/* A histogram's sum and max, kept apart from its buckets so that those of
 * the histograms an accept records share one cache line. */
struct aw_hist_head {
	uint64_t sum; /* of recorded values, for means and Prometheus _sum */
	uint64_t max; /* exact largest value recorded */
};

/* Why accept() failed; EAGAIN/EWOULDBLOCK is "drained", not an error. */
enum aw_err_class {
	AW_ERR_EINTR = 0,
	AW_ERR_ECONNABORTED = 1,
	AW_ERR_EMFILE = 2, /* EMFILE or ENFILE: out of descriptors */
	AW_ERR_OTHER = 3,
	AW_ERR_CLASSES = 4,
};

/* What one thread (or threads sharing a stripe) saw on one listener. */
struct aw_stripe {
	/* The first line: everything an accept on the common path writes,
	 * but for one bucket of each of gap and away. */
	uint32_t generation; /* of the slot these figures count for */
	uint32_t in_accept;  /* threads inside accept now: 0 or 1 when owned */
	uint64_t accepts;    /* successful accept/accept4 returns */
	uint64_t last_accept_ticks;  /* last successful return in the header's
					clock ticks (clock_*), 0 never */
	struct aw_hist_head gap_ns;  /* between one thread's successive
					accepts */
	struct aw_hist_head away_ns; /* a thread's return to its next call */
	int32_t owner; /* the thread (tid) writing it alone, 0 none, -1 the
			  shared stripe */
	uint32_t slot; /* the listener slot it belongs to */
	/* Written off the common path. */
	uint64_t drained; /* EAGAIN/EWOULDBLOCK: the queue was empty */
	uint64_t errors[AW_ERR_CLASSES];
	struct aw_hist_head queue_wait_ms; /* tcpi_last_ack_recv of the
					      accepted socket */
	uint64_t gap_bucket[AW_HIST_BUCKETS];
	uint64_t away_bucket[AW_HIST_BUCKETS];
	uint64_t queue_wait_bucket[AW_HIST_BUCKETS];
} __attribute__((aligned(64)));

/*
 * A slow-loop event: a connection waited longer than the threshold. The
 * event of ring position p is in entry p % event_count; its seq is 2p + 1
 * while it is written and 2p + 2 once whole (shim/segment_writer.h).
 */
struct aw_event {
	uint64_t seq; /* position-tagged: see above; 0 never written */
	uint64_t time_real_ns;
	uint64_t away_ns;	/* how long the thread was out of accept before
				   the call, as its away histogram has it;
				   UINT64_MAX unknown: its previous call drained
				   (EAGAIN), and the loop idled since */
	uint64_t queue_wait_ms; /* UINT64_MAX when it could not be read */
	uint32_t listener;	/* slot index */
	uint32_t depth;	  /* queue depth met (sampled), UINT32_MAX unknown */
	uint32_t backlog; /* effective backlog then */
	int32_t tid;
	uint32_t stack; /* stack index + 1 where the loop was, 0 none */
	uint32_t pad;
};

/*
 * A call-site stack as captured: raw, never symbolized in the host (the
 * reader does that). Each frame is a return address, innermost first, named
 * by the module it falls in and its offset there; frames inside the shim and
 * the unwinder are left out.
 */
struct aw_frame {
	/* The return address in the module's ELF address space: the run-time
	 * address minus the module's load bias, the form `addr2line -e` and
	 * the symbol tables use. The absolute address when module is
	 * AW_FRAME_NO_MODULE. */
	uint64_t offset;
	uint32_t module; /* index into the stack's module[] */
	uint32_t pad;
};

#define AW_FRAME_NO_MODULE UINT32_MAX

/* A module as the process had it mapped when the stack was captured. */
struct aw_module {
	/* The file's name as the dynamic loader mapped it; the executable's
	 * is /proc/self/exe's target. NUL-terminated (a reader checks). */
	char path[AW_MODULE_PATH];
	uint8_t build_id[AW_BUILD_ID_MAX]; /* NT_GNU_BUILD_ID, in memory */
	uint32_t build_id_len;		   /* 0: the module has none */
	uint32_t pad;
};

struct aw_stack {
	uint64_t hash;	   /* of the return addresses: the dedup key */
	uint64_t hits;	   /* captures that matched this stack */
	uint32_t kind;	   /* enum aw_stack_kind */
	uint32_t listener; /* slot where first seen */
	uint32_t frames;   /* frame[] in use */
	uint32_t modules;  /* module[] in use */
	struct aw_frame frame[AW_STACK_FRAMES];
	struct aw_module module[AW_STACK_MODULES];
};

enum aw_stack_kind {
	AW_STACK_LISTEN = 1, /* who called listen(): who chose the backlog */
	AW_STACK_SLOW = 2,   /* the accept loop at a slow event */
};

enum aw_slot_state {
	AW_SLOT_FREE = 0,
	AW_SLOT_READY = 2,
};

enum aw_listener_flags {
	AW_LF_CLAMPED = 1u << 0, /* effective < (unsigned)requested */
	AW_LF_COMPUTED = 1u
			 << 1, /* effective computed, not read from TCP_INFO */
	AW_LF_ADOPTED = 1u << 2, /* met first in accept(): requested unknown */
	AW_LF_TCP = 1u << 3,	 /* TCP: depth/drops/queue wait readable */
	AW_LF_CLOSED = 1u << 4,	 /* fd no longer names this socket */
	AW_LF_INHERITED = 1u << 5, /* carried over from the parent at fork */
	AW_LF_RAISED = 1u << 6,	   /* ACCEPTWATCH_BACKLOG raised the request */
	AW_LF_BACKLOG_UNKNOWN = 1u << 7, /* adopted, not TCP: cannot be known */
	AW_LF_DEFER_ACCEPT = 1u << 8, /* TCP_DEFER_ACCEPT: data-less connections
					 wait outside the accept queue */
	/* An event loop accepts here: the listener is O_NONBLOCK, or an
	 * accept on it returned EAGAIN. Its loop waits for connections
	 * elsewhere (epoll_wait, poll), idle, so the time between a thread's
	 * accepts is not time away while connections waited: its away
	 * figures are only the time between accepts. */
	AW_LF_EVENT_LOOP = 1u << 9,
};

struct aw_listener {
	uint32_t state; /* enum aw_slot_state, set with release order */
	uint32_t seq;	/* even/odd guard over the descriptive fields */

	/* Descriptive fields: written under seq, rarely (listen, adopt); fd
	 * and the CLOSED and DEFER_ACCEPT flags also outside it (above). */
	int32_t fd; /* one descriptor of the socket (it may have several) */
	uint32_t family; /* AF_INET, AF_INET6, AF_UNIX ... */
	uint64_t dev;	 /* socket identity: st_dev, st_ino of the fd */
	uint64_t ino;
	char address[AW_ADDR_LEN]; /* "127.0.0.1:8080", "[::1]:80", "/path" */
	int32_t requested_backlog; /* as the program passed it */
	int32_t passed_backlog;	   /* as passed to the kernel */
	uint32_t effective_backlog;
	uint32_t somaxconn;
	uint32_t flags; /* enum aw_listener_flags */
	uint32_t listen_calls;
	uint64_t listen_real_ns;
	uint64_t listen_mono_ns;

	/* Live figures: single atomics outside seq (stripe_ref's stores
	 * release). A reuse sets generation and zeroes the rest but
	 * stripe_ref, under seq. */
	uint64_t next_sample_ticks; /* rate limit for listener probes */
	uint32_t generation; /* 1, + 1 at each reuse; wraps after 2^24 - 1 */
	uint32_t fds;	     /* descriptors naming the socket now */
	uint64_t samples;    /* listener probes taken */
	uint32_t queue_now;  /* depth at the last probe */
	uint32_t queue_peak;
	uint64_t full_events;	 /* probes that saw depth > effective backlog */
	uint64_t drops;		 /* SK_MEMINFO_DROPS: about once a second while
				    accepting, and when the socket closes */
	uint64_t sample_mono_ns; /* time of the last probe */
	uint64_t slow_events;
	uint64_t slow_logged_ticks; /* rate limit for the warning line */
	uint64_t last_slow_event;   /* ring position + 1 of the last, 0 none */
	uint32_t listen_stack;	    /* stack index + 1 of listen(), 0 none */
	uint32_t slow_stack;	    /* stack index + 1 at the last slow event */
	/* Offsets of this slot's stripes in the segment, 0 = none (yet);
	 * the last is the shared one. */
	uint32_t stripe_ref[AW_STRIPES];
	uint64_t drops_mono_ns; /* when `drops` was read, 0 never */
	uint32_t
	    drops_due; /* a probe saw the queue full: the next reads drops */
	uint32_t pad;
	/* This process's own dating of the socket's drops (the count lives
	 * as long as the socket: across forks, reloads and exec). The
	 * process's first reading (at listen() or adoption, or a forked
	 * child's first probe) is its baseline: drops up to it are from
	 * before the process knew the socket. */
	uint64_t drops_base;	     /* the first reading, when ..._mono_ns */
	uint64_t drops_base_mono_ns; /* when it was read, 0 not yet */
	uint64_t drops_rise_mono_ns; /* the last reading higher than the one
					before it in this process, 0 none */
	uint64_t full_mono_ns;	     /* the last probe that saw the queue
					past its backlog, 0 never */
} __attribute__((aligned(64)));

struct aw_seg_header {
	uint64_t magic;	      /* AW_SEG_MAGIC, stored last */
	uint32_t abi_version; /* AW_ABI_VERSION */
	uint32_t header_size; /* sizeof(struct aw_seg_header) */
	uint64_t total_size;  /* bytes of the whole segment */
	uint32_t listener_offset;
	uint32_t listener_size;
	uint32_t listener_count; /* slots in the table */
	uint32_t listeners_used; /* slots claimed so far */
	uint32_t event_offset;
	uint32_t event_size;
	uint32_t event_count;
	uint32_t hist_buckets; /* AW_HIST_BUCKETS */
	uint32_t stripes;      /* AW_STRIPES */
	int32_t pid;
	uint64_t pid_start_ticks; /* /proc/PID/stat field 22: tells pid reuse */
	uint64_t start_real_ns;
	uint32_t uid;
	uint32_t somaxconn; /* as this process saw it at segment creation */
	uint32_t slow_ms;   /* threshold in force */
	uint32_t flags;
	char comm[AW_COMM_LEN];
	uint64_t event_head;	 /* events ever written */
	uint64_t listeners_lost; /* listeners not tracked: the table was full */
	int32_t parent_pid;	 /* the segment it was forked from, 0 none */
	uint32_t stack_offset;
	uint32_t stack_size;
	uint32_t stack_count;
	uint32_t stacks_used; /* stacks published so far */
	uint32_t pid_ns; /* inode of the PID namespace pid is in, 0 unknown */
	uint64_t events_lost; /* slow events given up: their entry was busy */
	/*
	 * The clock of the stripes' *_ticks: CLOCK_MONOTONIC ns is
	 * clock_base_ns + (ticks - clock_base_ticks) * clock_mult / 2^32.
	 * clock_mult may be refined while the process runs (relaxed); the
	 * bases never change once the magic is stored.
	 */
	uint64_t clock_base_ticks;
	uint64_t clock_base_ns;
	uint64_t clock_mult; /* ns per tick, 32.32 fixed point */
	uint32_t stripe_offset;
	uint32_t stripe_size;
	uint32_t stripe_count;
	uint32_t stripes_used; /* stripes handed out so far (release) */
	/* AW_SF_DETACHED: when, and the errno that made the shim stop. */
	uint64_t detached_real_ns;
	int32_t detached_errno;
	uint32_t pad1;
} __attribute__((aligned(64)));

enum aw_seg_flags {
	AW_SF_KEEP = 1u << 0, /* ACCEPTWATCH_KEEP: not unlinked at exit */
	/* Shared memory could not be had for more figures (a full or tiny
	 * /dev/shm): the process goes on counting in its own memory, and
	 * this segment keeps what it had counted until then. */
	AW_SF_DETACHED = 1u << 1,
	/* The stderr sink went silent: fd 2 no longer named the file it
	 * named when the library loaded (a daemon reused it for its data). */
	AW_SF_LOG_FD2_CHANGED = 1u << 2,
	/* Log lines were lost: the log file or /dev/log could not be
	 * written. */
	AW_SF_LOG_FAILED = 1u << 3,
	/* An ACCEPTWATCH_* variable had a bad value: its default was used. */
	AW_SF_BAD_SLOW_MS = 1u << 4,
	AW_SF_BAD_LOG = 1u << 5,
	AW_SF_BAD_BACKLOG = 1u << 6,
	AW_SF_BAD_KEEP = 1u << 7,
	AW_SF_BAD_CLOCK = 1u << 8,
	/* Call-site stacks are off, with one reason: libunwind.so.8 could
	 * not be loaded (or lacks a symbol, or the architecture is not
	 * known); its start-up, run in a child of the shim's, did not finish
	 * (a seccomp filter such as systemd's SystemCallFilter= without
	 * mincore kills that child); or the process forked while a thread
	 * was capturing one. */
	AW_SF_STACKS_NO_LIB = 1u << 9,
	AW_SF_STACKS_INIT_FAILED = 1u << 10,
	AW_SF_STACKS_FORKED = 1u << 11,
};

struct aw_segment {
	struct aw_seg_header header;
	struct aw_listener listener[AW_MAX_LISTENERS];
	struct aw_event event[AW_MAX_EVENTS];
	struct aw_stack stack[AW_MAX_STACKS];
	struct aw_stripe stripe[AW_MAX_STRIPES];
};

#define AW_SEG_SIZE sizeof(struct aw_segment)

/*
 * The layout fields of a header as this build writes them, and as a reader
 * of this build expects them: version, sizes, counts and offsets. The
 * writer adds the rest (pid, times, comm...) and the magic last.
 */
static inline void aw_seg_header_layout(struct aw_seg_header *h)
{
	h->abi_version = AW_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = AW_SEG_SIZE;
	h->listener_offset = offsetof(struct aw_segment, listener);
	h->listener_size = sizeof(struct aw_listener);
	h->listener_count = AW_MAX_LISTENERS;
	h->event_offset = offsetof(struct aw_segment, event);
	h->event_size = sizeof(struct aw_event);
	h->event_count = AW_MAX_EVENTS;
	h->stack_offset = offsetof(struct aw_segment, stack);
	h->stack_size = sizeof(struct aw_stack);
	h->stack_count = AW_MAX_STACKS;
	h->stripe_offset = offsetof(struct aw_segment, stripe);
	h->stripe_size = sizeof(struct aw_stripe);
	h->stripe_count = AW_MAX_STRIPES;
	h->hist_buckets = AW_HIST_BUCKETS;
	h->stripes = AW_STRIPES;
}

/* Pinned layout: a change that moves a field must bump AW_ABI_VERSION. */
_Static_assert(AW_HIST_BUCKETS == 640, "aw_hist buckets");
_Static_assert(sizeof(struct aw_event) == 56, "aw_event");
_Static_assert(offsetof(struct aw_event, listener) == 32, "aw_event fields");
_Static_assert(offsetof(struct aw_seg_header, events_lost) == 152, "lost");
_Static_assert(offsetof(struct aw_seg_header, clock_base_ticks) == 160, "clk");
_Static_assert(offsetof(struct aw_stripe, drained) == 64, "aw_stripe line 0");
_Static_assert(offsetof(struct aw_stripe, generation) == 0, "stripe gen");
_Static_assert(sizeof(struct aw_stripe) == 15488, "aw_stripe");
_Static_assert(offsetof(struct aw_listener, address) == 32, "aw_listener");
_Static_assert(offsetof(struct aw_listener, requested_backlog) == 144, "rb");
_Static_assert(offsetof(struct aw_listener, stripe_ref) == 272, "stripe_ref");
_Static_assert(offsetof(struct aw_listener, drops_base) == 320, "base");
_Static_assert(sizeof(struct aw_listener) == 384, "aw_listener size");
_Static_assert(offsetof(struct aw_seg_header, pid) == 60, "header pid");
_Static_assert(offsetof(struct aw_seg_header, comm) == 96, "header comm");
_Static_assert(offsetof(struct aw_seg_header, stripe_offset) == 184, "so");
_Static_assert(sizeof(struct aw_seg_header) == 256, "header size");
_Static_assert(offsetof(struct aw_segment, listener) == 256, "listeners");
_Static_assert(offsetof(struct aw_segment, event) == 256 + 64 * 384, "events");
_Static_assert(offsetof(struct aw_segment, stripe) % 64 == 0, "stripes");
_Static_assert(sizeof(struct aw_frame) == 16, "aw_frame");
_Static_assert(sizeof(struct aw_module) == 296, "aw_module");
_Static_assert(offsetof(struct aw_stack, frame) == 32, "aw_stack frames");
_Static_assert(sizeof(struct aw_stack) == 32 + 32 * 16 + 8 * 296, "aw_stack");

#endif
