/*
 * Every TCP listener of the reader's network namespace, preloaded or not,
 * sampled over time: one sock_diag dump of LISTEN sockets per tick (what
 * `ss -ltm` shows: queue now, backlog, SK_MEMINFO drops), which the kernel
 * answers from its listener hash, never walking connections. Between two
 * takes (an interval: top's frame, a scrape, listeners' --for) each
 * socket keeps the deepest queue a tick saw. A take turns the sockets no
 * segment speaks for into the listener model as a snapshot with no process
 * (model_process.kernel_only), so top, serve and listeners judge and
 * render them with the code that serves segments.
 */
#ifndef AW_SAMPLE_HOST_H
#define AW_SAMPLE_HOST_H

#include "report.h"
#include "model.h"
#include "sockdiag.h"

#include <stddef.h>
#include <stdint.h>

/* Sampling rate of top, serve and listeners' --for, and the cost budget
 * it is measured against (tests/bench/host.sh: <= 1 % of one core). */
#define SAMPLE_HOST_HZ 10u

struct sample_host_socket;

struct sample_host {
	struct sample_host_socket *by_ino; /* uthash, keyed by inode */
	uint64_t ticks;			   /* dumps that succeeded */
	uint64_t now_ns, now_real_ns;	   /* of the last one */
	uint64_t netns;			   /* inode of ours, 0: unknown */
	uint32_t somaxconn;		   /* ours, 0: unreadable */
	uint32_t next_slot;		   /* a socket's slot: first sight */
	uint64_t take_ns;		   /* the interval's start */
	/* What it cost: the dumps' wall time, and the failures. */
	uint64_t dump_ns;
	uint64_t errors;
	char last_error[128];
};

/* CLOCK_MONOTONIC in ns: the clock of the ticks. */
uint64_t sample_host_now(void);

/* An empty sampler: no socket until the first tick. */
void sample_host_init(struct sample_host *h);

/*
 * One dump at now_ns (CLOCK_MONOTONIC): each socket's readings, its peak
 * of the interval raised; sockets gone since the last dump are forgotten.
 * 0, or -1 with the reason in h->last_error (the readings stay as they
 * were).
 */
int sample_host_tick(struct sample_host *h, uint64_t now_ns);

/* Socket inodes that segments speak for: the take leaves them out, so
 * that a preloaded server is shown once, from its segment. */
struct sample_host_held {
	uint64_t *ino;
	size_t n, cap;
	int sorted;
};

/* p's open listeners into held: 0, or -1 when out of memory (a socket
 * may then be shown twice: from p, and from the kernel). */
int sample_host_hold(struct sample_host_held *held,
		     const struct model_process *p);

void sample_host_held_free(struct sample_host_held *held);

/*
 * The interval since the last take as a snapshot (zeroed first): every
 * socket of the last dump not in held (NULL: none), in slot order,
 * queue_peak its deepest reading of the interval, live.* and drops the
 * kernel's now, full_events the dumps that saw the queue past its
 * backlog. Its slot is stable for the socket's life, so that two takes
 * compare as two readings of a segment do (verdict_window_between). Then
 * the next interval begins: every peak restarts from the queue now.
 * 0, or -1 when out of memory (snap empty). Release with
 * model_process_free().
 */
int sample_host_take(struct sample_host *h, struct model_process *snap,
		     struct sample_host_held *held);

/* The take appended to r->proc, holding r's own snapshots' sockets: 1
 * when it added one (some socket has no segment), 0 when none, -1 when
 * out of memory. gather_free() releases it with the rest. */
int sample_host_add(struct sample_host *h, struct report *r);

/* One socket over the interval so far (since the last take, or since it
 * was first seen when later). */
struct sample_host_figures {
	uint32_t peak;	     /* the deepest queue a dump saw */
	uint64_t drops_rise; /* SK_MEMINFO_DROPS rise (0 without drops) */
	uint64_t ns;	     /* the interval's length */
};

/* The sockets of the last dump into t (emptied first), as sockdiag_dump
 * fills it. 0, or -1 when out of memory. Release with sockdiag_free(). */
int sample_host_table(const struct sample_host *h, struct sockdiag_table *t);

/* Socket inode ino's interval so far into f: 0; -1 when the last dump did
 * not have it. */
int sample_host_find(const struct sample_host *h, uint64_t ino,
		     struct sample_host_figures *f);

void sample_host_free(struct sample_host *h);

#endif
