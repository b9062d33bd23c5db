/*
 * The sampled source of the listener model: processes watched from
 * outside, with no ptrace stop and nothing loaded into them. Each tick
 * reads every thread (sample_task.h) and the kernel's listeners
 * (sockdiag.h); while a listener's queue is not empty, its connections
 * are tracked too (sample_conn.h). What the ticks add up to is turned
 * into the same snapshot a segment gives (watch_model.h).
 */
#ifndef AW_SAMPLER_H
#define AW_SAMPLER_H

#include "histogram.h"
#include "netstat.h"
#include "sample_conn.h"
#include "sample_listen.h"
#include "sample_task.h"
#include "sockdiag.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Distinct states kept per thread; the rest are summed as "other". */
#define SAMPLER_STATES 8

struct sampler_state {
	enum sample_kind kind;
	int fd;
	char label[SAMPLE_LABEL_LEN];
	uint64_t samples;
};

struct sampler_thread {
	struct sample_task task;
	char comm[17];
	int gone;
	uint64_t samples;
	struct sampler_state state[SAMPLER_STATES];
	size_t n_states;
	uint64_t other_samples;
	/* The accept loop: the listener it was last seen in accept on (-1:
	 * never), whether it was at the last sample, and the current time
	 * away since then (ns; before it was first seen in accept, the time
	 * since the watch began). */
	int accept_listener;
	int in_accept;
	uint64_t away_ns;
	enum sample_kind last_kind; /* at its last reading */
	int last_fd;
	char last_label[SAMPLE_LABEL_LEN];
	uint32_t steady;       /* readings in a row like the one before */
	uint64_t last_read_ns; /* CLOCK_MONOTONIC, 0: never read */
	uint64_t weight_ns;    /* what its last reading stands for */
	uint64_t last_cpu;
};

struct sampler_listener {
	uint64_t ino;
	int fd; /* in the process; -1 when its descriptors are unreadable */
	uint8_t family;
	uint16_t port;
	char address[SOCKDIAG_ADDR_LEN];
	int exact;	  /* addr parsed: read by lookup, not by a dump */
	uint32_t addr[4]; /* network order, as inet_diag has it */
	int read_now;	  /* read during the current tick */
	int present;	  /* in the last listener reading */
	uint32_t backlog;
	uint32_t queue_now;
	uint32_t queue_peak;
	uint64_t full_events; /* dumps that saw depth > backlog */
	uint64_t dumps;
	int has_drops;
	uint64_t drops_first; /* the kernel's counter at the first dump */
	uint64_t drops_now;
	int edge_triggered; /* registered with EPOLLET in an epoll set */
	/* TCP_DEFER_ACCEPT as read at the end (sample_defer.h): 1 on, 0 off,
	 * -1 unknown (not permitted, or not read). */
	int defer;
	/* Connections seen queued that left the queue. */
	uint64_t left;
	uint64_t slow_waits; /* of those, waited past slow_ms */
	struct aw_hist queue_wait_ms;
	uint64_t last_accept_ns; /* CLOCK_MONOTONIC, 0: none seen */
	/* Time away of its accept threads: whole stretches between two
	 * sightings in accept (ns). */
	uint64_t away_ns;
	uint64_t *episode; /* ns per stretch, heap */
	size_t n_episodes, cap_episodes;
	uint32_t in_accept_now; /* threads in accept on it at the last tick */
	/* Accepts of connections no dump saw queued: a thread left accept
	 * while the queue was empty at the dump before (it took a
	 * connection that arrived since). */
	uint64_t fresh;
	/* The queue's falls between two listener dumps, summed: connections
	 * taken (or reset) in between, less any that arrived meanwhile. */
	uint64_t falls;
	uint32_t queue_before; /* queue_now of the dump before this one */
};

struct sampler_proc {
	pid_t pid;
	uid_t uid;
	char comm[17];
	uint64_t start_ticks;
	int gone;	   /* exited (or its pid was reused) meanwhile */
	int fds_readable;  /* /proc/PID/fd could be read */
	int syscall_known; /* some thread's syscall file was read */
	int wchan_known;   /* some thread's wchan said something */
	int stopped_now;   /* every thread stopped at the last tick */
	uint64_t samples;  /* ticks that read it */
	uint64_t stopped_samples;
	uint64_t stopped_ns;
	uint64_t stopped_run;	     /* samples of the current stop */
	uint64_t cpu_first, cpu_now; /* the threads' CPU ticks */
	unsigned bypass;	     /* bypass_kind bits: Go, static... */
	int have_netstat;	     /* both readings of the namespace */
	struct netstat_listen netstat_first, netstat_last;
	struct sampler_thread *thread;
	size_t n_threads, cap_threads;
	size_t threads_cut; /* not followed: past SAMPLER_MAX_THREADS */
	struct sampler_listener *listener;
	size_t n_listeners, cap_listeners;
};

/* Threads followed per process (two open files each). */
#define SAMPLER_MAX_THREADS 512

struct sampler {
	struct sampler_proc *proc;
	size_t n_proc;
	unsigned int hz;
	uint64_t period_ns;
	uint64_t tick_ns;	 /* what the last tick's samples stand for */
	uint64_t conn_period_ns; /* connection dumps, while queues are full */
	uint32_t slow_ms;	 /* a wait past it is slow */
	uint32_t somaxconn;
	uint64_t start_ns, now_ns; /* CLOCK_MONOTONIC */
	uint64_t start_real_ns, now_real_ns;
	uint64_t ticks;
	uint64_t last_rescan_ns;
	struct sample_conn_table conns;
	int listen_nl; /* NETLINK_SOCK_DIAG for exact listener reads */
	/* What it cost. */
	uint64_t listener_reads;   /* ticks' listener readings */
	uint64_t listener_dumps;   /* of which needed a whole dump */
	uint64_t listener_dump_ns; /* time spent reading listeners */
	uint64_t thread_reads, thread_read_ns;
	uint64_t conn_errors;
	uint64_t
	    self_cpu_ns; /* the watcher's own CPU time, set by its caller */
	char last_error[128];
};

/*
 * Start watching pids at hz ticks a second: check each is a live process
 * and find its listeners. 0, or -1 with a one-line reason in err (a pid
 * that does not run). Release with sampler_free() either way.
 */
int sampler_init(struct sampler *s, const pid_t *pids, size_t n,
		 unsigned int hz, char *err, size_t errlen);

/* One tick at now_ns (CLOCK_MONOTONIC). Never fails: what cannot be
 * read this time is not counted. */
void sampler_tick(struct sampler *s, uint64_t now_ns);

/* The end: stretches away still open count as ended now; each
 * listener's TCP_DEFER_ACCEPT is read (sample_defer.h). Once, after the
 * last tick. */
void sampler_finish(struct sampler *s);

void sampler_free(struct sampler *s);

/* The listener of p an fd names, or -1. */
int sampler_listener_of_fd(const struct sampler_proc *p, int fd);

/* Accepts the samples stand for on listener l: the connections that left
 * the queue (those tracked, or the queue's falls, whichever is more) plus
 * the fresh ones, and at least one per stretch away: the larger. An
 * estimate that leans low: a connection that arrived and was taken
 * between two listener readings while another waited is in neither. */
uint64_t sampler_accepts(const struct sampler_listener *l);

/* Time away per accept in ns, or 0 when no accept thread was seen. */
uint64_t sampler_away_mean_ns(const struct sampler *s,
			      const struct sampler_listener *l);

#endif
