/*
 * The accept path: the shim's hot path.
 *
 * Common case (a known listener, no probe due, the thread's own stripe, its
 * previous call took a connection): two tick reads (clock.h) and plain
 * stores on the first line of the thread's stripe plus one bucket line per
 * histogram; no lock, no locked instruction, no allocation, no syscall.
 * Probes (getsockopt) come only when a time-based rate limit allows (one per
 * millisecond per listener) or when the loop was out of accept longer than
 * the slow threshold, which by construction happens at most once per
 * threshold per thread. Each thread keeps, per listener, the listener's next
 * sample time and the generation its stripe counts for, so that after the
 * entry point's one comparison (the fd within the flat map) the common path
 * is chosen with two (the stripe's generation against the thread's mark,
 * the time against the next sample), and kept after the call with three
 * more (the call failed, a gap past the slow threshold, time that went
 * backwards).
 *
 * Cache lines written per accept on the common path: the stripe's first
 * line (in_accept, accepts, last accept, the sums and maxima) and one
 * bucket line each of the gap and away histograms. The thread's own state
 * is read, not written: while its previous call took a connection, its
 * previous return is the stripe's last accept.
 */
#include "accept_path.h"

#include "clock.h"
#include "listener_table.h"
#include "log.h"
#include "probe.h"
#include "real.h"
#include "segment.h"
#include "segment_writer.h"
#include "stacks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull
#define SLOW_LOG_INTERVAL_NS (1000 * NS_PER_MS)
#define HOUSEKEEPING_EVERY 1024u /* probes: about once a second when busy */
#define HOUSEKEEPING_TURNS (HOUSEKEEPING_EVERY / 2) /* two turns in each */

/* How a thread's previous call on a listener returned. */
enum prev_call {
	PREV_NONE = 0, /* no call yet */
	PREV_ACCEPT,   /* with a connection */
	PREV_FAIL,     /* with an error: the loop is back at work */
	PREV_DRAIN,    /* EAGAIN: the loop went idle */
};

/*
 * What one thread remembers of its own loop on each listener. Thread-local,
 * so it is read and written without atomics; after fork the child starts
 * afresh (aw_accept_path_forked), its segment having stripes of its own.
 * The common path only reads it.
 */
struct thread_slot {
	/* The common path runs when mark equals the stripe's generation:
	 * mark is the generation while the thread writes a stripe it owns
	 * and its previous call took a connection, 0 (no generation) else. */
	uint32_t mark;
	uint32_t stripe_off;  /* the stripe as an offset into the segment,
				 0 unset */
	uint64_t next_sample; /* the listener's next probe (ticks), as this
				 thread last saw it */
	/* Kept off the common path (on it, the previous return is the
	 * stripe's last accept): */
	uint64_t last_return;	/* ticks, 0 never returned */
	uint64_t last_accept;	/* the connection before, while prev is not
				   PREV_ACCEPT */
	uint32_t generation;	/* of the slot these figures are for */
	uint8_t prev;		/* enum prev_call */
	uint8_t shared;		/* on the listener's shared stripe */
	uint8_t inside;		/* in_accept raised on the shared stripe */
} __attribute__((aligned(64))); /* a power-of-two stride: one shift */

/*
 * Indexed by fd map byte (listener_table.h): slot i's state is by_byte[i +
 * 1]. by_byte[0] (an fd not known) and by_byte[AW_FD_IGNORED] are never
 * written: mark 0, stripe offset 0, so that the common path's check fails
 * for them with no test of the byte (the word it then compares, the
 * segment's magic or the stand-in's, is no generation and not 0).
 */
struct thread_state {
	struct thread_slot by_byte[AW_FD_IGNORED + 1]; /* first: byte b at
							  b * 64 */
	int32_t tid;	     /* gettid(), 0 until first needed */
	uint32_t registered; /* thread_gone() will run at this thread's exit */
};

static __thread struct thread_state self;
static pthread_key_t exit_key;
static int exit_key_made;

struct call {
	int fd;
	int ret;
	int err;
	uint64_t t0, t1; /* ticks */
	/* Decided at entry: */
	int away_due;	/* out of accept longer than the threshold */
	int first;	/* the thread's first call on the slot: since when its
			   loop was out of accept is unknown */
	int probe;	/* a probe is due: slow check or rate-limited sample */
	int kept;	/* the probe was housekeeping only (drops, defer) */
	int moved;	/* fd names another socket than its slot's now */
	int idle;	/* the thread's previous call drained (or there was
			   none): the time since is no time away */
	uint32_t depth; /* queue depth the call met, UINT32_MAX unknown */
};

static struct aw_stripe *stripe_at(const struct aw_segment *s,
				   const struct thread_slot *ts)
{
	return (struct aw_stripe *)((char *)s + ts->stripe_off);
}

/* This thread's state for listener slot. */
static struct thread_slot *slot_state(int slot)
{
	return &self.by_byte[slot + 1];
}

/*
 * The common path's condition: the thread writes a stripe it owns and its
 * previous call took a connection. The common path then writes no thread
 * state: the stripe's last accept is the thread's previous return.
 */
static int on_common_path(const struct thread_slot *ts)
{
	return !ts->shared && ts->prev == PREV_ACCEPT;
}

/* The mark, restated after every call off the common path. */
static void set_mark(struct thread_slot *ts)
{
	ts->mark = on_common_path(ts) ? ts->generation : 0;
}

/* The thread's previous return on the slot (0: none). */
static uint64_t previous_return(const struct thread_slot *ts,
				const struct aw_stripe *st)
{
	return on_common_path(ts) ? st->last_accept_ticks : ts->last_return;
}

/* in_accept: 1 or 0 on a stripe of the thread's own, a count of threads
 * (raised and lowered once each, inside says whether) on the shared one. */
static void enter_accept(struct thread_slot *ts, struct aw_stripe *st)
{
	if (!ts->shared) {
		aw_segment_write_enter(st, 0);
		return;
	}
	aw_segment_write_enter(st, 1);
	ts->inside = 1;
}

/*
 * Lower what this thread raised: when its call returns; at its next call on
 * any slot, when a call never returned (longjmp out of a signal handler);
 * at thread exit, cancellation included. A call made by a signal handler
 * that interrupted an accept() of the same thread lowers that call's mark
 * too: the count then reads one less while the interrupted call waits,
 * never less than zero.
 */
static void leave_accept(struct thread_slot *ts, struct aw_stripe *st)
{
	if (!ts->shared) {
		aw_segment_write_leave(st, 0);
		return;
	}
	if (!ts->inside)
		return;
	ts->inside = 0;
	aw_segment_write_leave(st, 1);
}

/* Every slot this thread has a stripe on, with that stripe. */
static void each_stripe(void (*fn)(struct thread_slot *, struct aw_stripe *))
{
	struct aw_segment *s = aw_segment_current();
	uint32_t used = s ? aw_table_slots_used() : 0;
	for (uint32_t i = 0; i < used; i++) {
		struct thread_slot *ts = slot_state((int)i);
		if (ts->stripe_off != 0)
			fn(ts, stripe_at(s, ts));
	}
}

/* Leaving for good: in_accept lowered, the stripe free for another. */
static void give_up_stripe(struct thread_slot *ts, struct aw_stripe *st)
{
	leave_accept(ts, st);
	if (!ts->shared)
		aw_table_free_stripe((uint32_t)(ts - self.by_byte) - 1u,
				     ts->stripe_off);
	ts->stripe_off = 0;
	ts->mark = 0;
}

static void thread_gone(void *unused)
{
	(void)unused;
	each_stripe(give_up_stripe);
}

void aw_accept_path_forked(void)
{
	/* The child's segment has stripes of its own, made on use. */
	uint32_t registered = self.registered;
	memset(&self, 0, sizeof(self));
	self.registered = registered;
}

/*
 * The calling thread's stripe of listener slot, claimed on first use, in
 * the segment current now (taking a stripe may move it: segment.h), or NULL
 * when none can be had. A slot reused for another socket since the thread
 * last came starts over: nothing of the old socket's loop carries over.
 */
static struct aw_stripe *my_stripe(int slot)
{
	struct thread_slot *ts = slot_state(slot);
	uint32_t gen = aw_table_generation((uint32_t)slot);
	if (ts->generation != gen) {
		memset(ts, 0, sizeof(*ts));
		ts->generation = gen;
	}
	if (!self.registered && exit_key_made)
		self.registered = pthread_setspecific(exit_key, &self) == 0;
	if (self.tid == 0)
		self.tid = (int32_t)syscall(SYS_gettid);
	if (ts->stripe_off == 0) {
		int shared = 0;
		ts->stripe_off =
		    aw_table_claim_stripe((uint32_t)slot, self.tid, &shared);
		ts->shared = (uint8_t)shared;
		if (ts->stripe_off == 0)
			return NULL;
	}
	struct aw_segment *s = aw_segment_current();
	return s ? stripe_at(s, ts) : NULL;
}

static int call_real(struct call *c, struct sockaddr *addr, socklen_t *len,
		     int flags, int use4)
{
	return use4 ? aw_real_accept4(c->fd, addr, len, flags)
		    : aw_real_accept(c->fd, addr, len);
}

/*
 * later - earlier, 0 when time went backwards: a connection taken on the
 * stripe after this call's entry (a signal handler that interrupted the
 * call accepted on the same listener), or a last accept that another
 * process wrote into the segment. Off the common path, which steps aside
 * for both.
 */
static uint64_t ticks_since(uint64_t later, uint64_t earlier)
{
	return later > earlier ? later - earlier : 0;
}

static int is_drain(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

static enum aw_err_class err_class(int err)
{
	switch (err) {
	case EINTR:
		return AW_ERR_EINTR;
	case ECONNABORTED:
		return AW_ERR_ECONNABORTED;
	case EMFILE:
	case ENFILE:
		return AW_ERR_EMFILE;
	default:
		return AW_ERR_OTHER;
	}
}

/* Errors that say fd is not (or no longer) a listener. */
static int not_a_listener(int err)
{
	return err == EBADF || err == ENOTSOCK || err == EINVAL ||
	       err == EOPNOTSUPP;
}

/* One probe per sample interval per listener, whichever thread wins. */
static int sample_allowed(struct aw_listener *l, uint64_t now)
{
	return aw_segment_write_sample_due(
	    l, now, __atomic_load_n(&aw_clock.sample_ticks, __ATOMIC_RELAXED));
}

/*
 * Some probes read what changes rarely instead of the queue: the socket's
 * drop count, with the time it was read, for a reader that cannot ask the
 * kernel itself (another network namespace, or the socket gone) and to
 * date the drops it sees (they rose after this reading if they are higher
 * now); and TCP_DEFER_ACCEPT, which servers set after listen() (apache).
 * One reading each: the drops, or with defer_turn, while the flag is not
 * set, TCP_DEFER_ACCEPT (and before it, while the listener is not known
 * for an event loop's, O_NONBLOCK, which servers set after listen() too:
 * redis). Which probes: the one after a probe saw the queue
 * full (drops come from a full queue: so a reading follows the last one
 * seen), and two in HOUSEKEEPING_EVERY (periodic_turn), the first probe
 * first, about twice a second while the loop accepts; those also check
 * first that fd still names the listener (entry_probe). At most two system
 * calls beside that check, as a queue probe is.
 */
static void housekeep(struct aw_listener *l, int fd, int defer_turn)
{
	uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
	if (defer_turn && !(flags & AW_LF_EVENT_LOOP) &&
	    aw_probe_nonblocking(fd))
		aw_segment_write_flag_set(l, AW_LF_EVENT_LOOP);
	if (defer_turn && !(flags & AW_LF_DEFER_ACCEPT)) {
		if (aw_probe_defer_accept(fd))
			aw_segment_write_flag_set(l, AW_LF_DEFER_ACCEPT);
		return;
	}
	aw_table_read_drops(l, fd);
}

/* Probe n (counted from 1) is a periodic housekeeping turn: 1 the drops',
 * 2 the TCP_DEFER_ACCEPT one's; 0 not one. */
static int periodic_turn(uint64_t n)
{
	uint64_t r = n % HOUSEKEEPING_EVERY;
	if (r == 1)
		return 1;
	return r == 1 + HOUSEKEEPING_TURNS ? 2 : 0;
}

/*
 * Read the listener's queue at `now` (the caller counted the probe). extra
 * is added to the depth read (see
 * the long-call case in exit_probe); the depth never goes past backlog + 1,
 * what the queue holds at most. Returns the depth.
 */
static uint32_t sample_listener(struct aw_listener *l, int slot, int fd,
				uint64_t now, uint32_t extra)
{
	uint32_t depth, backlog;
	if (aw_probe_queue(fd, &depth, &backlog) != 0)
		return UINT32_MAX;
	depth += extra;
	if (depth > backlog + 1)
		depth = backlog + 1;
	if (backlog !=
	    __atomic_load_n(&l->effective_backlog, __ATOMIC_RELAXED)) {
		aw_table_lock();
		aw_table_refresh_backlog(slot, backlog);
		aw_table_unlock();
	}
	aw_segment_write_queue(l, depth, backlog, aw_ticks_to_mono(now));
	if (aw_clock_refine(now))
		aw_segment_clock_refined();
	return depth;
}

/* At most one warning line (and one stack capture) per second per
 * listener, whichever thread gets there first. */
static int slow_report_due(struct aw_listener *l, uint64_t now)
{
	uint64_t last =
	    __atomic_load_n(&l->slow_logged_ticks, __ATOMIC_RELAXED);
	if (last != 0 &&
	    aw_ticks_to_ns(ticks_since(now, last)) < SLOW_LOG_INTERVAL_NS)
		return 0;
	return aw_segment_write_slow_turn(l, last, now);
}

static void log_slow(const struct aw_segment *s, const struct aw_listener *l,
		     const struct aw_event *e, uint32_t slow_ms)
{
	char wait[32] = "unknown", depth[32] = "unknown", where[200];
	char away[64] = "idle in between (its last call drained the queue)";
	if (e->queue_wait_ms != UINT64_MAX)
		snprintf(wait, sizeof(wait), "%llu ms",
			 (unsigned long long)e->queue_wait_ms);
	if (e->away_ns != UINT64_MAX)
		snprintf(away, sizeof(away), "out of accept for %llu ms",
			 (unsigned long long)(e->away_ns / NS_PER_MS));
	if (e->depth != UINT32_MAX)
		snprintf(depth, sizeof(depth), "%u/%u", e->depth, e->backlog);
	aw_stack_top(s, e->stack, where, sizeof(where));
	/* The address as the segment has it: bounded, whatever another
	 * process wrote there. */
	aw_log("slow accept loop on %.*s fd=%d: a connection waited %s in the "
	       "queue (threshold %u ms), loop %s, "
	       "queue %s, %llu slow events so far%s%s",
	       (int)strnlen(l->address, AW_ADDR_LEN), l->address,
	       __atomic_load_n(&l->fd, __ATOMIC_RELAXED), wait, slow_ms, away,
	       depth,
	       (unsigned long long)__atomic_load_n(&l->slow_events,
						   __ATOMIC_RELAXED),
	       where[0] ? "; loop at " : "", where);
}

static void record_slow(struct aw_segment *s, int slot, struct aw_event *e,
			uint32_t slow_ms, uint64_t now)
{
	struct aw_listener *l = &s->listener[slot];
	int report = slow_report_due(l, now);
	if (report)
		e->stack = aw_stack_capture(s, AW_STACK_SLOW, (uint32_t)slot);
	aw_segment_write_slow_event(s, (uint32_t)slot, e);
	if (report)
		log_slow(s, l, e, slow_ms);
}

/*
 * Read how long the accepted connection waited in the queue, and record a
 * slow event when that is past the threshold: whichever probe read it (the
 * loop was away, the call was long, the thread's first call, or a
 * rate-limited sample), a connection that waited that long is the event.
 * Where no wait can be read (not TCP), a connection already waiting when a
 * loop that was away came back (the call did not block) is one, unless the
 * loop is an event loop's or its last call drained: it was idle, waiting
 * for this very connection elsewhere. The event's time away is the one the
 * away histogram has for this call (away_ns, UINT64_MAX when it has none).
 */
static void check_wait(struct aw_segment *s, int slot, const struct call *c,
		       struct thread_slot *ts, struct aw_stripe *st,
		       uint64_t away_ns, int away)
{
	struct aw_listener *l = &s->listener[slot];
	uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
	uint32_t wait_ms;
	int slow;
	uint64_t wait = UINT64_MAX;
	if ((flags & AW_LF_TCP) &&
	    aw_probe_queue_wait_ms(c->ret, &wait_ms) == 0) {
		aw_segment_write_queue_wait(st, wait_ms, ts->shared);
		wait = wait_ms;
		slow = wait_ms > aw_config.slow_ms;
	} else {
		slow = away && !c->idle && !(flags & AW_LF_EVENT_LOOP) &&
		       aw_ticks_to_ns(c->t1 - c->t0) < NS_PER_MS;
	}
	if (!slow)
		return;
	struct aw_event e = {
	    .time_real_ns = aw_real_ns(),
	    .away_ns = away_ns,
	    .queue_wait_ms = wait,
	    .depth = c->depth,
	    .backlog = __atomic_load_n(&l->effective_backlog, __ATOMIC_RELAXED),
	    .tid = self.tid, /* set by my_stripe: no gettid per event */
	};
	record_slow(s, slot, &e, aw_config.slow_ms, c->t1);
}

static int is_tcp(struct aw_listener *l)
{
	return __atomic_load_n(&l->flags, __ATOMIC_RELAXED) & AW_LF_TCP;
}

/* Probes taken on l, this one counted. */
static uint64_t count_probe(struct aw_listener *l)
{
	return aw_segment_write_probe(l);
}

/*
 * A probe was due at entry: read the queue now, which is exactly the depth
 * this call meets; or, when it is only a sample's turn for housekeeping,
 * that instead. A call that must take the slow check never gives it up
 * for housekeeping: back after being out of accept too long (the turn
 * waits for the next probe), or the thread's first call, which may take a
 * connection that waited since before the loop began (a pre-fork worker
 * stopped before its first accept): that one does both, so that the
 * listener's first probe still reads the drops (the process's baseline)
 * and the queue's is counted as a second: two system calls each, once per
 * thread and listener.
 */
static void entry_probe(struct aw_listener *l, int slot, struct call *c)
{
	if (!is_tcp(l))
		return;
	int saved = errno;
	int turn = periodic_turn(count_probe(l) + 1); /* counted from 1 */
	if (!c->away_due && (turn || aw_segment_write_take_drops_due(l))) {
		/* A listener closed where the shim could not see it, its
		 * number now another socket's: nothing more on this slot. */
		c->moved = turn && !aw_table_names_slot((uint32_t)slot, c->fd);
		if (!c->moved)
			housekeep(l, c->fd, turn == 2);
		c->kept = 1;
		if (c->first && !c->moved) {
			count_probe(l); /* a second probe: the queue's */
			c->kept = 0;
		}
	}
	if (!c->kept && !c->moved)
		c->depth = sample_listener(l, slot, c->fd, c->t0, 0);
	errno = saved;
}

/*
 * After the call, when something is worth a look: a probe was due, or the
 * call blocked longer than the threshold and returned a connection. In that
 * last case only now can the queue be read (a stopped process resumes a
 * blocked accept inside the kernel, so the whole stop is one long call); the
 * queue held what is left plus the connection just taken.
 */
static void exit_probe(struct aw_segment *s, int slot, struct thread_slot *ts,
		       struct aw_stripe *st, struct call *c, uint64_t last)
{
	struct aw_listener *l = &s->listener[slot];
	int long_call = c->t1 - c->t0 > aw_slow_ticks();
	if (c->ret < 0 || (c->kept && !long_call))
		return;
	if (long_call && is_tcp(l)) {
		count_probe(l);
		c->depth = sample_listener(l, slot, c->fd, c->t1, 1);
	}
	/* Out of accept too long (busy elsewhere since the last accept, back
	 * late after a drain, or stuck in this very call), the thread's first
	 * call (away since when, unknown), or a sample. */
	uint64_t away_ns = c->idle || last == 0
			       ? UINT64_MAX
			       : aw_ticks_to_ns(ticks_since(c->t0, last));
	check_wait(s, slot, c, ts, st, away_ns, c->away_due || long_call);
}

/* An accept on slot returned EAGAIN: its loop waits for connections
 * elsewhere (its listener is nonblocking). Once per listener. */
static void mark_event_loop(int slot)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	struct aw_listener *l = &s->listener[slot];
	if (!(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & AW_LF_EVENT_LOOP))
		aw_segment_write_flag_set(l, AW_LF_EVENT_LOOP);
}

/* A failed call on a known listener: drained, an error, or not a listener
 * any more (closed, or the fd now names another kind of file). */
static void count_failure(struct thread_slot *ts, struct aw_stripe *st,
			  const struct call *c)
{
	if (is_drain(c->err)) {
		aw_segment_write_drained(st, ts->shared);
		mark_event_loop((int)(ts - self.by_byte) - 1);
		return;
	}
	aw_segment_write_error(st, err_class(c->err), ts->shared);
	if (not_a_listener(c->err))
		aw_table_forget_fd(c->fd);
}

static enum prev_call kind_of(const struct call *c)
{
	if (c->ret >= 0)
		return PREV_ACCEPT;
	return is_drain(c->err) ? PREV_DRAIN : PREV_FAIL;
}

/*
 * A call that entered at t0 and returned at t1 (kind says how), the
 * thread's previous return at last: its time away from accept since then
 * (unless it went idle: idle time after a drain is not the loop being
 * away), its gap since its previous connection, and what it keeps for its
 * next call. Threads keep their own gaps: a gap shared by all threads would
 * put every accept on one contended cache line.
 */
static void record_call(struct thread_slot *ts, struct aw_stripe *st,
			const struct call *c, uint64_t last)
{
	enum prev_call kind = kind_of(c);
	int shared = ts->shared;
	/* No time away when the previous return came after this entry. */
	if ((ts->prev == PREV_ACCEPT || ts->prev == PREV_FAIL) && last <= c->t0)
		aw_segment_write_away(st, aw_ticks_to_ns(c->t0 - last), shared);
	if (ts->prev == PREV_ACCEPT)
		ts->last_accept = last;
	if (kind == PREV_ACCEPT) {
		if (ts->last_accept != 0 && ts->last_accept <= c->t1)
			aw_segment_write_gap(
			    st, aw_ticks_to_ns(c->t1 - ts->last_accept),
			    shared);
		aw_segment_write_accept(st, c->t1, shared);
	}
	ts->last_return = c->t1;
	ts->prev = (uint8_t)kind;
}

/*
 * Everything that follows a call on a known listener, once the common path
 * has stepped aside: the call failed, blocked past the threshold, or came
 * with a probe. Restores the call's errno last.
 */
static int finish(struct aw_segment *s, int slot, struct aw_stripe *st,
		  struct call *c, uint64_t last)
{
	struct thread_slot *ts = slot_state(slot);
	c->idle = ts->prev == PREV_DRAIN || ts->prev == PREV_NONE;
	record_call(ts, st, c, last);
	set_mark(ts);
	if (c->ret < 0)
		count_failure(ts, st, c);
	if (c->probe || c->t1 - c->t0 > aw_slow_ticks())
		exit_probe(s, slot, ts, st, c, last);
	errno = c->err;
	return c->ret;
}

static int other_case(int fd, struct sockaddr *addr, socklen_t *len, int flags,
		      int use4);

/*
 * A known listener off the common path: this thread's first call on it,
 * back after being out of accept past the threshold (maybe idle after a
 * drain: a probe tells), a rate-limited sample due, the previous call
 * without a connection, the slot reused for another socket, or the thread
 * on the shared stripe; or no listener with a segment at all (byte: the
 * fd's map byte), for other_case. Its entry time is read here: six
 * arguments, all in registers, so that the common path's way here is a
 * jump.
 */
static __attribute__((noinline)) int full_call(uint32_t byte, int fd,
					       struct sockaddr *addr,
					       socklen_t *len, int flags,
					       int use4)
{
	if (byte == 0 || byte > AW_MAX_LISTENERS ||
	    aw_segment_current() == NULL)
		return other_case(fd, addr, len, flags, use4);
	int slot = (int)byte - 1;
	uint64_t t0 = aw_ticks();
	struct call c = {.fd = fd, .t0 = t0, .depth = UINT32_MAX};
	struct thread_slot *ts = slot_state(slot);
	int host_errno = errno;	   /* what a successful accept leaves there */
	each_stripe(leave_accept); /* marks a call left behind */
	struct aw_stripe *st = my_stripe(slot);
	if (st == NULL) {
		errno = host_errno;
		return call_real(&c, addr, len, flags, use4);
	}
	struct aw_segment *s = aw_segment_current();
	struct aw_listener *l = &s->listener[slot];
	uint64_t last = previous_return(ts, st);
	c.away_due = last != 0 && ticks_since(t0, last) > aw_slow_ticks();
	c.first = last == 0;
	c.probe = sample_allowed(l, t0) || c.away_due || c.first;
	ts->next_sample =
	    __atomic_load_n(&l->next_sample_ticks, __ATOMIC_RELAXED);
	if (c.probe)
		entry_probe(l, slot, &c);
	if (__builtin_expect(c.moved, 0)) {
		/* Forgotten here, adopted afresh by other_case (its first
		 * call is this one). */
		aw_table_forget_moved(fd);
		errno = host_errno;
		return other_case(fd, addr, len, flags, use4);
	}
	errno = host_errno;
	enter_accept(ts, st);
	c.ret = call_real(&c, addr, len, flags, use4);
	c.err = errno;
	c.t1 = aw_ticks();
	leave_accept(ts, st);
	return finish(s, slot, st, &c, last);
}

/*
 * The common path's way out when the call failed or was long: slot and
 * segment follow from the stripe (nothing more kept across the call), in
 * process memory: the segment it lies in (the current one, or the shared
 * one a detach left during the call), its offset there, the slot the
 * table made it for, and this thread's offset for that slot. The stripe's
 * own `slot` is a figure for the reader, which another process may write.
 */
static __attribute__((noinline)) int finish_odd(struct aw_stripe *st, int fd,
						int ret, uint64_t t0,
						uint64_t t1, uint64_t last)
{
	struct call c = {.fd = fd,
			 .ret = ret,
			 .err = errno,
			 .t0 = t0,
			 .t1 = t1,
			 .depth = UINT32_MAX};
	struct aw_segment *s = aw_segment_holding(st);
	uint32_t off = s ? (uint32_t)((char *)st - (char *)s) : 0;
	int slot = aw_table_stripe_slot(off);
	if (slot < 0 || slot_state(slot)->stripe_off != off) {
		errno = c.err; /* not ours to count: only the host's result */
		return ret;
	}
	return finish(s, slot, st, &c, last);
}

/*
 * The common path records values no larger than the slow threshold: a gap
 * past it steps aside, and the time away is shorter than the gap. Twice
 * that (a margin kept from when the call and the absence were bounded
 * apart) is within the histograms' range and aw_short_ticks_ns's, with
 * room for the clock's rate: no clamp, a 64-bit product.
 */
_Static_assert(AW_SLOW_MS_MIN *NS_PER_MS >= AW_SAMPLE_NS,
	       "the probe interval is at most the slow threshold");
_Static_assert(2ull * AW_SLOW_MS_MAX * NS_PER_MS * 101 / 100 < AW_HIST_RANGE,
	       "twice the largest threshold is within the histograms");
_Static_assert(2ull * AW_SLOW_MS_MAX * NS_PER_MS * 101 / 100 < 1ull << 44,
	       "and within aw_short_ticks_ns");

/*
 * The common case: fd is a listener this thread has accepted on before,
 * on a stripe of its own that counts for the slot as it is now (the slot
 * not reused for another socket), its previous call took a connection and
 * no sample is due. That last one also bounds the thread's absence: its
 * copy of the next sample time is at most a probe interval past its last
 * call off this path, and its previous return came after that call's
 * entry; so a thread back after longer than the slow threshold (which is
 * at least the interval) always finds a sample due, and takes full_call's
 * slow check. The straight line is two tick reads, the real call, two
 * histogram records and plain stores on the thread's own stripe; anything
 * else leaves it for full_call or finish_odd (noinline), so that it stays
 * short. errno is not touched here: only those functions, which may make
 * system calls, save and restore it. tsc and use4 are constants in each
 * copy (known_accept4_tsc...), which the entry points reach by one jump
 * through a pointer set at load (known_now): so they need no frame and no
 * test of the clock, and a copy keeps only st, t0 and fd across the call.
 * byte is the fd's map byte; the check below fails for any fd the common
 * case is not for (thread_state), segment or not (aw_segment_base).
 */
static inline __attribute__((always_inline)) int
known_listener(int fd, struct sockaddr *addr, socklen_t *len, int flags,
	       uint32_t byte, int use4, int tsc)
{
	uint64_t t0 = aw_ticks_of(tsc);
	const struct thread_slot *ts = &self.by_byte[byte];
	/* With no stripe yet (offset 0) this reads the header's magic (or
	 * the stand-in's word), which no mark equals. */
	const struct aw_stripe *cst =
	    (const struct aw_stripe *)(aw_segment_base_now() + ts->stripe_off);
	if (__builtin_expect((__atomic_load_n(&cst->generation,
					      __ATOMIC_RELAXED) != ts->mark) |
				 (t0 >= ts->next_sample),
			     0))
		return full_call(byte, fd, addr, len, flags, use4);
	/* A mark: a stripe of a segment, the thread's own. */
	struct aw_stripe *st = (struct aw_stripe *)cst;
	aw_segment_write_enter(st, 0);
	int ret = use4 ? aw_real_accept4(fd, addr, len, flags)
		       : aw_real_accept(fd, addr, len);
	uint64_t t1 = aw_ticks_of(tsc);
	aw_segment_write_leave(st, 0);
	uint64_t last =
	    __atomic_load_n(&st->last_accept_ticks, __ATOMIC_RELAXED);
	/*
	 * A call longer than the threshold steps aside (finish_odd); the
	 * gap, never shorter than the call, tells with no subtraction of
	 * its own (a gap past the threshold after a short call is rare and
	 * recorded right there too). So does time that went backwards: a
	 * connection taken on this stripe after this call's entry (by a
	 * signal handler that interrupted it), or any value another process
	 * wrote over the last accept: the time away would wrap. With last at
	 * most t0, the time away is at most the gap: both in range.
	 */
	uint64_t gap = t1 - last;
	if (__builtin_expect(ret < 0, 0) ||
	    __builtin_expect(gap > aw_slow_ticks(), 0) ||
	    __builtin_expect(last > t0, 0))
		return finish_odd(st, fd, ret, t0, t1, last);
	uint64_t mult20 = __atomic_load_n(&aw_clock.mult20, __ATOMIC_RELAXED);
	aw_segment_write_away_in_range(
	    st, aw_short_ticks_ns(t0 - last, mult20, tsc));
	aw_segment_write_gap_in_range(st, aw_short_ticks_ns(gap, mult20, tsc));
	aw_segment_write_accept(st, t1, 0);
	return ret;
}

/* known_listener for each call and clock, its arguments in the order the
 * entry points have them in registers. */
static __attribute__((noinline)) int known_accept4_tsc(int fd,
						       struct sockaddr *addr,
						       socklen_t *len,
						       int flags, uint32_t byte)
{
	return known_listener(fd, addr, len, flags, byte, 1, 1);
}

static __attribute__((noinline)) int
known_accept4_mono(int fd, struct sockaddr *addr, socklen_t *len, int flags,
		   uint32_t byte)
{
	return known_listener(fd, addr, len, flags, byte, 1, 0);
}

static __attribute__((noinline)) int known_accept_tsc(int fd,
						      struct sockaddr *addr,
						      socklen_t *len, int flags,
						      uint32_t byte)
{
	return known_listener(fd, addr, len, flags, byte, 0, 1);
}

static __attribute__((noinline)) int known_accept_mono(int fd,
						       struct sockaddr *addr,
						       socklen_t *len,
						       int flags, uint32_t byte)
{
	return known_listener(fd, addr, len, flags, byte, 0, 0);
}

/* Adopt a listener met first here (inherited, or socket-activated). */
static int adopt(const struct call *c)
{
	if (c->ret < 0 && !is_drain(c->err) &&
	    err_class(c->err) == AW_ERR_OTHER)
		return AW_NO_SLOT;
	if (!aw_probe_is_listener(c->fd))
		return AW_NO_SLOT;
	const struct aw_config *cfg = aw_ready_config();
	aw_table_lock();
	int slot = aw_table_lookup(c->fd);
	if (slot == AW_NO_SLOT)
		slot = aw_table_register(c->fd, -1, -1, 1, cfg);
	aw_table_unlock();
	return slot;
}

/*
 * Everything but the common case: a known listener without a segment yet
 * (first use, or a child whose segment could not be made at fork), or an fd
 * the shim does not know, which may be a listener to adopt.
 */
static __attribute__((noinline)) int other_fd(struct call *c, int slot,
					      struct sockaddr *addr,
					      socklen_t *len, int flags,
					      int use4)
{
	if (slot >= 0) {
		/* Making the segment may leave errno set; a successful
		 * accept must leave the host's as it was. */
		int host_errno = errno;
		const struct aw_config *cfg = aw_ready_config();
		aw_table_lock();
		struct aw_segment *s = aw_table_attach(cfg);
		aw_table_unlock();
		errno = host_errno;
		if (s != NULL)
			return full_call((uint32_t)slot + 1u, c->fd, addr, len,
					 flags, use4);
		return call_real(c, addr, len, flags, use4);
	}
	c->t0 = aw_ticks();
	c->ret = call_real(c, addr, len, flags, use4);
	c->err = errno;
	c->t1 = aw_ticks();
	slot = adopt(c);
	struct aw_stripe *st = slot >= 0 ? my_stripe(slot) : NULL;
	if (st != NULL) {
		/* Counted from here on: a new slot has no previous call (no
		 * away time, no gap); an unseen descriptor of a known one
		 * carries on from the thread's last call on it. */
		struct thread_slot *ts = slot_state(slot);
		record_call(ts, st, c, previous_return(ts, st));
		set_mark(ts);
		if (c->ret < 0)
			count_failure(ts, st, c);
	}
	errno = c->err;
	return c->ret;
}

static __attribute__((noinline)) int
other_case(int fd, struct sockaddr *addr, socklen_t *len, int flags, int use4)
{
	/* Initialized first: the clock picks its ticks there, so none is read
	 * before (a library's constructor may accept before the shim's has
	 * run); and a child made without fork handlers becomes a forked
	 * child there, its fd map back (listener_table.h). */
	int host_errno = errno;
	aw_ready_config();
	errno = host_errno;
	int slot = aw_table_lookup(fd);
	struct call c = {.fd = fd, .depth = UINT32_MAX};
	if (slot == AW_IGNORED)
		return call_real(&c, addr, len, flags, use4);
	return other_fd(&c, slot, addr, len, flags, use4);
}

/* The copies for the clock chosen at load (aw_accept_path_init); before
 * that no segment exists, so the common case cannot happen yet. */
typedef int (*known_fn)(int fd, struct sockaddr *addr, socklen_t *len,
			int flags, uint32_t byte);
static known_fn known_accept4_now = known_accept4_mono;
static known_fn known_accept_now = known_accept_mono;

static int known_now(int fd, struct sockaddr *addr, socklen_t *len, int flags,
		     uint32_t byte, int use4)
{
	known_fn f = __atomic_load_n(
	    use4 ? &known_accept4_now : &known_accept_now, __ATOMIC_RELAXED);
	return f(fd, addr, len, flags, byte);
}

void aw_accept_path_init(void)
{
	exit_key_made = pthread_key_create(&exit_key, thread_gone) == 0;
	if (aw_clock.tsc) {
		__atomic_store_n(&known_accept4_now, known_accept4_tsc,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&known_accept_now, known_accept_tsc,
				 __ATOMIC_RELAXED);
	}
}

const struct aw_life_above aw_accept_path_life = {
    .start = aw_accept_path_init,
    .forked = aw_accept_path_forked,
};

const struct aw_config *aw_ready_config(void)
{
	return aw_life_ready(&aw_accept_path_life);
}

/* A descriptor past the flat map: its map byte is a call away, made here
 * so that the entry points make no call but tail calls (no frame). */
static __attribute__((noinline)) int far_fd(int fd, struct sockaddr *addr,
					    socklen_t *len, int flags, int use4)
{
	return known_now(fd, addr, len, flags, aw_table_far_byte(fd), use4);
}

/* Two entry points rather than a flag: each makes its own jump. */
int aw_accept_path(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (__builtin_expect((unsigned)fd >= AW_FD_MAP, 0))
		return far_fd(fd, addr, len, 0, 0);
	return known_now(fd, addr, len, 0, aw_table_near_byte(fd), 0);
}

int aw_accept4_path(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	if (__builtin_expect((unsigned)fd >= AW_FD_MAP, 0))
		return far_fd(fd, addr, len, flags, 1);
	return known_now(fd, addr, len, flags, aw_table_near_byte(fd), 1);
}
