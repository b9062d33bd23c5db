/*
 * Verdicts on one listener: the rules, each verdict with the figures of
 * its evidence, what `check` prints and `top` and `listeners` sort by.
 * Their wording (the evidence and the fix, in English) is verdict_text.h's.
 * Pure: computed from snapshots only, so it is unit tested on hand-made
 * ones.
 */
#ifndef AW_VERDICT_H
#define AW_VERDICT_H

#include "model.h"

#include <stdint.h>

/* In order of urgency: the first one a listener has is its headline. */
enum verdict_kind {
	VERDICT_STALLED = 0, /* now: waiting connections, nobody accepts (and,
				over a window, nobody accepted) */
	VERDICT_OVERFLOWING = 1, /* the queue was seen full, or socket drops */
	VERDICT_SLOW = 2,	 /* slow accept loop: connections waited */
	VERDICT_BACKLOG_SMALL = 3, /* queue peak reached the backlog */
	VERDICT_CLAMPED = 4,	   /* somaxconn cut the requested backlog */
	VERDICT_KINDS = 5,
};

/*
 * How urgent a verdict is, as monitoring plugins grade it (their exit
 * codes): WARNING for a queue that is set up to overflow (CLAMPED,
 * BACKLOG SMALL), CRITICAL for connections being dropped or kept waiting
 * (OVERFLOWING, STALLED, SLOW ACCEPT LOOP).
 */
enum verdict_severity {
	VERDICT_WARNING = 1,
	VERDICT_CRITICAL = 2,
};

enum verdict_severity verdict_severity(enum verdict_kind k);

/* The verdict named by s: its key ("backlog_small") or its name ("BACKLOG
 * SMALL"), any case, '-' or ' ' for '_'. 0 and *k, or -1. */
int verdict_parse(const char *s, enum verdict_kind *k);

/* check's and top's verdict window unless told otherwise: 5 minutes, the
 * usual period of a monitoring check and of an alert's `for:`. */
#define VERDICT_DEFAULT_RECENT_NS (300ull * 1000000000ull)

/*
 * What changed on one listener between two snapshots (`have` = 0 when
 * there was only one). The netstat deltas are of the server's network
 * namespace, not of the listener: evidence, not proof.
 *
 * The verdict window (recent_ns, 0: none): OVERFLOWING, SLOW ACCEPT LOOP
 * and BACKLOG SMALL are then verdicts only when their evidence can have
 * risen within the last recent_ns; older evidence is history, told apart
 * (verdict_assess_history) and never a verdict. When the evidence last
 * rose is known to the latest possible time: what the queue shows now
 * and the socket's drops past the shim's last reading are now; a full
 * queue and a rise of the drops are at the times the shim dated them;
 * what else it counted is at or before its last probe; a slow event has
 * its time.
 * The *_last_ns fields, when not 0, are a tighter bound remembered from
 * earlier readings (recent.h): counters that did not move since then rose
 * before then.
 */
struct verdict_window {
	int have;
	uint64_t ns; /* between the two snapshots */
	uint64_t accepts;
	uint64_t drops; /* the socket's sk_drops (ss -m d): dropped SYNs and
			   handshake ACKs, not connections */
	uint64_t full_events;
	uint64_t slow_events;
	int have_netstat;
	uint64_t listen_overflows; /* TcpExtListenOverflows */
	uint64_t listen_drops;	   /* TcpExtListenDrops */
	/* Whether TCP_DEFER_ACCEPT is on could not be read (a sampled
	 * listener of another uid): drops alone then prove no overflow, as
	 * with the flag; the queue seen full still does. */
	int defer_unknown;
	uint64_t recent_ns;	   /* the verdict window, 0: all history */
	uint64_t overflow_last_ns; /* CLOCK_MONOTONIC, 0: not remembered */
	uint64_t slow_last_ns;
	uint64_t peak_last_ns;
};

/* Whether TCP_DEFER_ACCEPT is on, as the rules knew it. */
enum verdict_defer {
	VERDICT_DEFER_OFF = 0,
	VERDICT_DEFER_ON = 1,
	VERDICT_DEFER_UNKNOWN = 2, /* not readable (w->defer_unknown) */
};

/*
 * A verdict: its kind and the figures its rule read, as numbers, for every
 * renderer alike (verdict_text_say words them). Every verdict fills every
 * field, whatever its kind.
 */
struct verdict {
	enum verdict_kind kind;
	int history; /* evidence from before the window, not a verdict
			(verdict_assess_history) */

	pid_t pid;
	int stopped;	  /* the process is stopped now */
	uint32_t slow_ms; /* the process's slow threshold */

	uint32_t queue_now;  /* the kernel's depth now (else the last known) */
	uint32_t in_accept;  /* threads in accept() now */
	uint32_t queue_peak; /* the deepest the shim saw */
	uint32_t deepest;    /* verdict_queue_peak(): peak or depth now */
	uint32_t effective_backlog;
	int32_t requested_backlog;
	int32_t wanted_backlog; /* verdict_wanted_backlog() */
	int raised;		/* ACCEPTWATCH_BACKLOG raised the request */
	int clamped;		/* somaxconn cut what the program asks for */
	uint32_t somaxconn;
	uint32_t suggested_backlog; /* verdict_suggest_backlog() */

	uint64_t full_events;  /* probes that saw the queue full */
	int full_now_unprobed; /* past the backlog now, and no probe saw it
				  full before */
	uint64_t socket_drops; /* the socket's sk_drops (ss -m d) */
	uint64_t own_drops;    /* since the process's first reading of them
				  (verdict_own_drops): what it is charged */
	int unix_socket;       /* AF_UNIX: no SYN, a full queue blocks connect()
				  or fails it with EAGAIN */
	int sampled; /* figures sampled from outside (watch, the kernel's
			sockets): the first reading is the sampler's */
	enum verdict_defer defer;

	uint64_t slow_events;
	uint32_t last_slow_depth; /* the queue at the last slow event,
				     UINT32_MAX: not known */
	int has_stack;	/* the accept loop's stack at the last slow event */
	int event_loop; /* an event loop's listener: its time between
			   accepts is no time away (away_* not evidence) */
	uint64_t away_count, away_p99_ns, away_max_ns; /* time away */
	uint64_t wait_count, wait_p99_ms, wait_max_ms; /* queue wait */

	uint64_t since_progress_ns; /* since the last accept, else listen */

	/* The window between two readings (w->have), when have_window. */
	int have_window;
	uint64_t window_ns, window_drops, window_slow_events;
	int have_netstat; /* the two namespace counters below are known */
	uint64_t listen_overflows, listen_drops;

	/* history: when the evidence last rose (at the latest), as an age,
	 * and the window it is older than. */
	uint64_t last_rose_ago_ns;
	uint64_t recent_ns;
};

/*
 * The verdicts of listener l of process p, most urgent first, into
 * out[VERDICT_KINDS]. Returns how many (0: OK). w may be NULL (no window:
 * everything since the listen is judged).
 */
int verdict_assess(const struct model_process *p,
		   const struct model_listener *l,
		   const struct verdict_window *w, struct verdict *out);

/*
 * The verdicts the listener's whole history would give but its verdict
 * window does not (w->recent_ns set): evidence of what happened before
 * the window, most urgent first, into out[VERDICT_KINDS]. How many.
 */
int verdict_assess_history(const struct model_process *p,
			   const struct model_listener *l,
			   const struct verdict_window *w, struct verdict *out);

/*
 * The latest time (CLOCK_MONOTONIC) the listener's overflow evidence
 * (queue seen full, socket drops), slow events, and queue peak at the
 * backlog can have last risen, as this snapshot alone tells; 0 when
 * there is no such evidence. See struct verdict_window.
 */
uint64_t verdict_overflow_bound(const struct model_process *p,
				const struct model_listener *l);
uint64_t verdict_slow_bound(const struct model_process *p,
			    const struct model_listener *l);
uint64_t verdict_peak_bound(const struct model_process *p,
			    const struct model_listener *l);

/*
 * STALLED on the reading: connections wait (the kernel's queue now > 0),
 * no thread can take them (none in accept, or the process is stopped;
 * where the source cannot tell threads in accept, only a stop), and the
 * last progress (verdict_last_progress) is older than the process's slow
 * threshold. Closed listeners, listeners without a kernel queue reading
 * and exited processes never stall.
 */
int verdict_stalled_now(const struct model_process *p,
			const struct model_listener *l);

/* Every listener's `stalled` in snap (verdict_stalled_now), once its live
 * readings are in: what renderers show, and what the STALLED rule of
 * verdict_mask() reads (a fixture may set it by hand). */
void verdict_mark_stalled(struct model_process *snap);

/* The time the listener last made progress: last accept, else listen. */
uint64_t verdict_last_progress(const struct model_listener *l);

/* "STALLED", "OVERFLOWING", "SLOW ACCEPT LOOP", "BACKLOG SMALL",
 * "CLAMPED"; verdict_key: the same in snake case, for JSON. */
const char *verdict_name(enum verdict_kind k);
const char *verdict_key(enum verdict_kind k);

/* Bit k set for each verdict k (within the window, if w has one): a
 * cheap summary for sorting. */
unsigned int verdict_mask(const struct model_process *p,
			  const struct model_listener *l,
			  const struct verdict_window *w);

/* Deltas of listener b (later) over a (earlier); netstat left unset. */
void verdict_window_between(const struct model_process *pa,
			    const struct model_listener *a,
			    const struct model_process *pb,
			    const struct model_listener *b,
			    struct verdict_window *w);

/* The backlog to suggest: 4 x the larger of peak and effective backlog,
 * rounded up to a power of two, at least 128, at most 65535. */
uint32_t verdict_suggest_backlog(const struct model_listener *l);

/* The deepest queue seen: the shim's peak, or the kernel's depth now. */
uint32_t verdict_queue_peak(const struct model_listener *l);

/* The socket's drops since the process's first reading of them (its
 * baseline, read by the shim at listen(), adoption or a forked child's
 * first probe; a sampler's first reading): a process is never charged
 * with drops from before it knew the socket. 0 before that reading. */
uint64_t verdict_own_drops(const struct model_listener *l);

/* The program's wish as the kernel got it: the raised backlog when
 * ACCEPTWATCH_BACKLOG raised it, else the requested one. */
int32_t verdict_wanted_backlog(const struct model_listener *l);

#endif
