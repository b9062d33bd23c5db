/*
 * The accept path: the shim's hot path.
 *
 * Common case (a known listener, no probe due): two clock reads and a few
 * relaxed atomic updates on the calling thread's own stripe; no lock, no
 * allocation, no syscall. Probes (getsockopt) come only when a time-based
 * rate limit allows (one per millisecond per listener) or when the loop was
 * out of accept longer than the slow threshold, which by construction
 * happens at most once per threshold per thread. Each thread keeps, per
 * listener, its last return and the listener's next sample time, so that
 * the common path decides with two comparisons, and stores only the
 * return time when it is done.
 */
#include "accept_path.h"

#include "clock.h"
#include "hist_record.h"
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
#define SAMPLE_INTERVAL_NS NS_PER_MS
#define SLOW_LOG_INTERVAL_NS (1000 * NS_PER_MS)

/* How a thread's previous call on a listener returned. */
enum prev_call {
	PREV_NONE = 0, /* no call yet */
	PREV_ACCEPT,   /* with a connection */
	PREV_FAIL,     /* with an error: the loop is back at work */
	PREV_DRAIN,    /* EAGAIN: the loop went idle */
};

/*
 * What one thread remembers of its own loop on each listener. Thread-local,
 * so the common path reads and writes it without atomics; after fork the
 * child's thread carries on from its parent's values, which is right (the
 * same loop, the same clock).
 */
struct thread_slot {
	/* The next call leaves the common path when it comes later than the
	 * threshold after last_return_ns (0: never returned, so the first
	 * call does) or at next_sample_ns (0 until the first call). */
	uint64_t last_return_ns; /* previous return from accept, 0 never */
	/* The previous connection's return, kept from the moment a call
	 * fails: while prev is PREV_ACCEPT it is last_return_ns. */
	uint64_t last_accept_ns;
	uint64_t next_sample_ns; /* the listener's, as this thread last saw */
	uint32_t stripe_off;	 /* this thread's stripe as an offset into the
				    segment (stripe_ref), 0 unset */
	/*
	 * mark: the slot's generation these figures are for (below 2^24, as
	 * every generation), and in its top byte, inside, 1 while this
	 * thread's call on the slot is inside accept() (its in_accept count
	 * raised). The common path compares mark whole with the stripe's
	 * generation: one test finds both a slot reused for another socket
	 * and a mark left by a call that never returned (longjmp out of a
	 * signal handler), and sends either off the common path; the byte
	 * alone is set and cleared around the call.
	 */
	union {
		uint32_t mark;
		struct {
			uint8_t generation_bytes[3];
			uint8_t inside;
		};
	};
	uint8_t prev;		/* enum prev_call */
} __attribute__((aligned(64))); /* a power-of-two stride: one shift */

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "inside is the top byte of mark");

struct thread_state {
	struct thread_slot slot[AW_MAX_LISTENERS]; /* first: slot i at i * 64 */
	uint32_t stripe;     /* 1 + stripe index, 0 until first use */
	uint32_t registered; /* thread_gone() will run at this thread's exit */
};

static __thread struct thread_state self;
static uint32_t next_stripe;
static pthread_key_t exit_key;
static int exit_key_made;

struct call {
	int fd;
	int ret;
	int err;
	uint64_t t0, t1;
	/* Decided at entry: */
	int away_due;	/* out of accept longer than the threshold */
	int probe;	/* a probe is due: slow check or rate-limited sample */
	uint32_t depth; /* queue depth the call met, UINT32_MAX unknown */
};

static struct aw_stripe *stripe_at(const struct aw_segment *s,
				   const struct thread_slot *ts)
{
	return (struct aw_stripe *)((char *)s + ts->stripe_off);
}

static void enter_accept(struct thread_slot *ts, struct aw_stripe *st)
{
	__atomic_fetch_add(&st->in_accept, 1, __ATOMIC_RELAXED);
	ts->inside = 1;
}

/*
 * Lower the in_accept count this thread raised on the slot, if it still
 * stands: when its call returns; at its next call on the slot, when a call
 * never returned (longjmp out of a signal handler); at thread exit,
 * cancellation included. A call made by a signal handler that interrupted
 * an accept() of the same thread on the same slot lowers that call's mark,
 * which then finds none when it returns: the count is never lowered twice.
 */
static void lower_mark(struct thread_slot *ts, struct aw_stripe *st)
{
	if (__builtin_expect(!ts->inside, 0))
		return;
	ts->inside = 0;
	__atomic_fetch_sub(&st->in_accept, 1, __ATOMIC_RELAXED);
}

/*
 * Every count this thread still has raised: at thread exit (cancellation
 * included), and off the common path, where a call that never returned
 * (longjmp) may have left one on any listener. A signal handler's call
 * that interrupted an accept() lowers that call's mark too: the count
 * then reads one less while the interrupted call waits, never less than
 * zero.
 */
static void lower_marks(void)
{
	struct aw_segment *s = aw_segment_current();
	uint32_t used = s ? s->header.listeners_used : 0;
	for (uint32_t i = 0; i < used && i < AW_MAX_LISTENERS; i++) {
		struct thread_slot *ts = &self.slot[i];
		if (ts->stripe_off != 0)
			lower_mark(ts, stripe_at(s, ts));
	}
}

static void thread_gone(void *unused)
{
	(void)unused;
	lower_marks();
}

void aw_accept_path_init(void)
{
	exit_key_made = pthread_key_create(&exit_key, thread_gone) == 0;
}

void aw_accept_path_forked(void)
{
	/* The child's segment has stripes of its own, made on use. */
	uint32_t registered = self.registered;
	memset(&self, 0, sizeof(self));
	self.registered = registered;
}

/*
 * The calling thread's stripe of listener slot, chosen on first use, in the
 * segment current now (taking a stripe may move it: segment.h), or NULL
 * when none can be had. A slot reused for another socket since the thread
 * last came starts over: nothing of the old socket's loop carries over.
 */
static struct aw_stripe *my_stripe(int slot)
{
	struct thread_slot *ts = &self.slot[slot];
	uint32_t gen = aw_table_generation((uint32_t)slot);
	if ((ts->mark & AW_GENERATION_MAX) != gen) {
		memset(ts, 0, sizeof(*ts));
		ts->mark = gen;
	}
	if (!self.registered && exit_key_made)
		self.registered = pthread_setspecific(exit_key, &self) == 0;
	if (ts->stripe_off == 0) {
		if (self.stripe == 0)
			self.stripe = 1 + __atomic_fetch_add(&next_stripe, 1,
							     __ATOMIC_RELAXED) %
					      AW_STRIPES;
		ts->stripe_off =
		    aw_table_stripe((uint32_t)slot, self.stripe - 1);
		if (ts->stripe_off == 0)
			return NULL;
	}
	struct aw_segment *s = aw_segment_current();
	return s ? (struct aw_stripe *)((char *)s + ts->stripe_off) : NULL;
}

static int call_real(struct call *c, struct sockaddr *addr, socklen_t *len,
		     int flags, int use4)
{
	return use4 ? aw_real_accept4(c->fd, addr, len, flags)
		    : aw_real_accept(c->fd, addr, len);
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

static void store_max32(uint32_t *p, uint32_t v)
{
	uint32_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/* One probe per SAMPLE_INTERVAL_NS per listener, whichever thread wins. */
static int sample_allowed(struct aw_listener *l, uint64_t now)
{
	uint64_t next =
	    __atomic_load_n(&l->next_sample_mono_ns, __ATOMIC_RELAXED);
	return now >= next &&
	       __atomic_compare_exchange_n(&l->next_sample_mono_ns, &next,
					   now + SAMPLE_INTERVAL_NS, 0,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * Read the listener's queue and drop count at `now`. extra is added to the
 * depth read (see the long-call case in exit_probe); the depth never goes
 * past backlog + 1, what the queue holds at most. Returns the depth.
 */
static uint32_t sample_listener(struct aw_listener *l, int slot, int fd,
				uint64_t now, uint32_t extra)
{
	uint32_t depth, backlog;
	uint64_t drops;
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
	__atomic_store_n(&l->queue_now, depth, __ATOMIC_RELAXED);
	store_max32(&l->queue_peak, depth);
	/* The queue holds backlog + 1 before SYNs are dropped. */
	if (depth > backlog)
		__atomic_fetch_add(&l->full_events, 1, __ATOMIC_RELAXED);
	if (aw_probe_drops(fd, &drops) == 0)
		__atomic_store_n(&l->drops, drops, __ATOMIC_RELAXED);
	__atomic_store_n(&l->sample_mono_ns, now, __ATOMIC_RELAXED);
	uint64_t n = __atomic_fetch_add(&l->samples, 1, __ATOMIC_RELAXED);
	/* Servers set it after listen() (apache): look again now and then
	 * (the first sample, then one in 1024: about once a second). */
	if (n % 1024 == 0 &&
	    !(__atomic_load_n(&l->flags, __ATOMIC_RELAXED) &
	      AW_LF_DEFER_ACCEPT) &&
	    aw_probe_defer_accept(fd))
		__atomic_fetch_or(&l->flags, AW_LF_DEFER_ACCEPT,
				  __ATOMIC_RELAXED);
	return depth;
}

/* At most one warning line (and one stack capture) per second per
 * listener, whichever thread gets there first. */
static int slow_report_due(struct aw_listener *l, uint64_t now)
{
	uint64_t last =
	    __atomic_load_n(&l->slow_logged_mono_ns, __ATOMIC_RELAXED);
	if (last != 0 && now - last < SLOW_LOG_INTERVAL_NS)
		return 0;
	return __atomic_compare_exchange_n(&l->slow_logged_mono_ns, &last, now,
					   0, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

static void log_slow(const struct aw_segment *s, const struct aw_listener *l,
		     const struct aw_event *e, uint32_t slow_ms)
{
	char wait[32] = "unknown", depth[32] = "unknown", where[200];
	if (e->queue_wait_ms != UINT64_MAX)
		snprintf(wait, sizeof(wait), "%llu ms",
			 (unsigned long long)e->queue_wait_ms);
	if (e->depth != UINT32_MAX)
		snprintf(depth, sizeof(depth), "%u/%u", e->depth, e->backlog);
	aw_stack_top(s, e->stack, where, sizeof(where));
	aw_log("slow accept loop on %s fd=%d: a connection waited %s in the "
	       "queue (threshold %u ms), loop out of accept for %llu ms, "
	       "queue %s, %llu slow events so far%s%s",
	       l->address, l->fd, wait, slow_ms,
	       (unsigned long long)(e->away_ns / NS_PER_MS), depth,
	       (unsigned long long)__atomic_load_n(&l->slow_events,
						   __ATOMIC_RELAXED),
	       where[0] ? "; loop at " : "", where);
}

static void record_slow(struct aw_segment *s, int slot, struct aw_event *e,
			uint32_t slow_ms, uint64_t now)
{
	struct aw_listener *l = &s->listener[slot];
	int report = slow_report_due(l, now);
	if (report) {
		e->stack = aw_stack_capture(s, AW_STACK_SLOW, (uint32_t)slot);
		if (e->stack != 0)
			__atomic_store_n(&l->slow_stack, e->stack,
					 __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&l->slow_events, 1, __ATOMIC_RELAXED);
	uint64_t pos = aw_segment_write_event(s, (uint32_t)slot, e);
	__atomic_store_n(&l->last_slow_event, pos + 1, __ATOMIC_RELAXED);
	if (report)
		log_slow(s, l, e, slow_ms);
}

/*
 * Read how long the accepted connection waited in the queue, and record a
 * slow event when that is past the threshold: whichever probe read it (the
 * loop was away, the call was long, or a rate-limited sample), a connection
 * that waited that long is the event. Where no wait can be read (not TCP),
 * a connection already waiting when a loop that was away came back (the
 * call did not block) is one.
 */
static void check_wait(struct aw_segment *s, int slot, const struct call *c,
		       struct aw_stripe *st, uint64_t since_ns, int away,
		       uint32_t slow_ms)
{
	struct aw_listener *l = &s->listener[slot];
	uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
	uint32_t wait_ms;
	int slow;
	uint64_t wait = UINT64_MAX;
	if ((flags & AW_LF_TCP) &&
	    aw_probe_queue_wait_ms(c->ret, &wait_ms) == 0) {
		aw_hist_record(&st->queue_wait_ms, wait_ms);
		wait = wait_ms;
		slow = wait_ms > slow_ms;
	} else {
		slow = away && c->t1 - c->t0 < NS_PER_MS;
	}
	if (!slow)
		return;
	struct aw_event e = {
	    .time_real_ns = aw_real_ns(),
	    .away_ns = since_ns,
	    .queue_wait_ms = wait,
	    .depth = c->depth,
	    .backlog = __atomic_load_n(&l->effective_backlog, __ATOMIC_RELAXED),
	    .tid = (int32_t)syscall(SYS_gettid),
	};
	record_slow(s, slot, &e, slow_ms, c->t1);
}

static int is_tcp(struct aw_listener *l)
{
	return __atomic_load_n(&l->flags, __ATOMIC_RELAXED) & AW_LF_TCP;
}

/*
 * A probe was due at entry: read the queue now, which is exactly the depth
 * this call meets.
 */
static void entry_probe(struct aw_listener *l, int slot, struct call *c)
{
	int saved = errno;
	if (is_tcp(l))
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
static void exit_probe(struct aw_segment *s, int slot, struct aw_stripe *st,
		       struct call *c, uint64_t last)
{
	struct aw_listener *l = &s->listener[slot];
	int long_call = c->t1 - c->t0 > aw_config.slow_ns;
	if (c->ret < 0)
		return;
	if (long_call && is_tcp(l))
		c->depth = sample_listener(l, slot, c->fd, c->t1, 1);
	/* Out of accept too long (busy elsewhere since the last accept, back
	 * late after a drain, or stuck in this very call), or a sample. */
	check_wait(s, slot, c, st, c->t1 - (last ? last : c->t0),
		   c->away_due || long_call, aw_config.slow_ms);
}

/* A failed call on a known listener: drained, an error, or not a listener
 * any more (closed, or the fd now names another kind of file). */
static void count_failure(struct aw_stripe *st, const struct call *c)
{
	if (is_drain(c->err)) {
		__atomic_fetch_add(&st->drained, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&st->errors[err_class(c->err)], 1, __ATOMIC_RELAXED);
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
 * record_call when the previous call brought no connection: away only if
 * it returned an error (idle time after a drain is not the loop being away),
 * the gap from the connection before it.
 */
static __attribute__((noinline)) void
record_after_other(struct aw_stripe *st, struct thread_slot *ts, uint64_t t0,
		   uint64_t t1, enum prev_call kind)
{
	if (ts->prev == PREV_FAIL)
		aw_hist_record(&st->away_ns, t0 - ts->last_return_ns);
	if (kind == PREV_ACCEPT && ts->last_accept_ns != 0)
		aw_hist_record(&st->gap_ns, t1 - ts->last_accept_ns);
	ts->prev = (uint8_t)kind;
}

/*
 * A call that entered at t0 returned at t1 (kind says how): the loop's
 * time away from accept since its previous return, this thread's gap since
 * its previous connection, and when to step aside next. Threads keep their
 * own gaps: a gap shared by all threads would put every accept on one
 * contended cache line. The branch taken call after call in a busy loop
 * (a connection after a connection) comes first and stores nothing it need
 * not.
 */
static inline __attribute__((always_inline)) void
record_call(struct aw_stripe *st, struct thread_slot *ts, uint64_t t0,
	    uint64_t t1, enum prev_call kind)
{
	if (__builtin_expect(ts->prev == PREV_ACCEPT, 1)) {
		aw_hist_record(&st->away_ns, t0 - ts->last_return_ns);
		if (kind == PREV_ACCEPT) {
			aw_hist_record(&st->gap_ns, t1 - ts->last_return_ns);
		} else {
			ts->last_accept_ns = ts->last_return_ns;
			ts->prev = (uint8_t)kind;
		}
	} else {
		record_after_other(st, ts, t0, t1, kind);
	}
	if (kind == PREV_ACCEPT) {
		__atomic_fetch_add(&st->accepts, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&st->last_accept_mono_ns, t1,
				 __ATOMIC_RELAXED);
	}
	ts->last_return_ns = t1;
}

/*
 * Everything that follows a call on a known listener, once the common path
 * has stepped aside: the call failed, blocked past the threshold, or came
 * with a probe. Restores the call's errno last.
 */
static int finish(struct aw_segment *s, int slot, struct aw_stripe *st,
		  struct call *c)
{
	struct thread_slot *ts = &self.slot[slot];
	uint64_t last = ts->last_return_ns;
	record_call(st, ts, c->t0, c->t1, kind_of(c));
	if (c->ret < 0)
		count_failure(st, c);
	if (c->probe || c->t1 - c->t0 > aw_config.slow_ns)
		exit_probe(s, slot, st, c, last);
	errno = c->err;
	return c->ret;
}

/*
 * A known listener off the common path: this thread's first call on it,
 * back after being out of accept past the threshold (maybe idle after a
 * drain: a probe tells), a rate-limited sample due, the slot reused for
 * another socket, or a mark left by a call that never returned. t0: entry
 * time.
 */
static __attribute__((noinline)) int full_call(int slot, int fd,
					       struct sockaddr *addr,
					       socklen_t *len, int flags,
					       int use4, uint64_t t0)
{
	struct call c = {.fd = fd, .t0 = t0, .depth = UINT32_MAX};
	struct thread_slot *ts = &self.slot[slot];
	int host_errno = errno; /* what a successful accept leaves there */
	lower_marks();		/* marks a call left behind */
	struct aw_stripe *st = my_stripe(slot);
	if (st == NULL) {
		errno = host_errno;
		return call_real(&c, addr, len, flags, use4);
	}
	struct aw_segment *s = aw_segment_current();
	struct aw_listener *l = &s->listener[slot];
	uint64_t last = ts->last_return_ns;
	c.away_due = last != 0 && t0 - last > aw_config.slow_ns;
	c.probe = sample_allowed(l, t0) || c.away_due;
	ts->next_sample_ns =
	    __atomic_load_n(&l->next_sample_mono_ns, __ATOMIC_RELAXED);
	if (c.probe)
		entry_probe(l, slot, &c);
	errno = host_errno;
	enter_accept(ts, st);
	c.ret = call_real(&c, addr, len, flags, use4);
	c.err = errno;
	c.t1 = aw_mono_ns();
	lower_mark(ts, st);
	return finish(s, slot, st, &c);
}

/* The common path's way out when the call failed or was long: slot and
 * segment follow from the thread slot and the stripe. */
static __attribute__((noinline)) int finish_odd(struct thread_slot *ts,
						struct aw_stripe *st, int fd,
						int ret, uint64_t t0,
						uint64_t t1)
{
	struct call c = {.fd = fd,
			 .ret = ret,
			 .err = errno,
			 .t0 = t0,
			 .t1 = t1,
			 .depth = UINT32_MAX};
	struct aw_segment *s =
	    (struct aw_segment *)((char *)st - ts->stripe_off);
	return finish(s, (int)(ts - self.slot), st, &c);
}

/*
 * The common case: fd is a listener this thread has accepted on before, it
 * came back within the threshold, no sample is due, the
 * slot is the socket it was (the stripe's generation, on the line the call
 * writes anyway) and no call of this thread was left unfinished.
 * The straight line is two clock reads, the real call and a few relaxed
 * atomics on this thread's stripe; anything else leaves it for full_call
 * or finish_odd (noinline), so that it stays short. errno is not touched
 * here: only those functions, which may make system calls, save and
 * restore it.
 */
static inline __attribute__((always_inline)) int
known_listener(struct aw_segment *s, int slot, int fd, struct sockaddr *addr,
	       socklen_t *len, int flags, int use4)
{
	uint64_t t0 = aw_mono_ns();
	struct thread_slot *ts = &self.slot[slot];
	/* Keep the address in a register: otherwise the compiler computes
	 * it from the thread pointer anew after every atomic. */
	__asm__("" : "+r"(ts));
	if (__builtin_expect((t0 - ts->last_return_ns >= aw_config.slow_ns) ||
				 (t0 >= ts->next_sample_ns),
			     0))
		return full_call(slot, fd, addr, len, flags, use4, t0);
	struct aw_stripe *st = stripe_at(s, ts);
	if (__builtin_expect(
		__atomic_load_n(&st->generation, __ATOMIC_RELAXED) != ts->mark,
		0))
		return full_call(slot, fd, addr, len, flags, use4, t0);
	enter_accept(ts, st);
	int ret = use4 ? aw_real_accept4(fd, addr, len, flags)
		       : aw_real_accept(fd, addr, len);
	uint64_t t1 = aw_mono_ns();
	lower_mark(ts, st);
	if (__builtin_expect(ret < 0, 0) ||
	    __builtin_expect(t1 - t0 > aw_config.slow_ns, 0))
		return finish_odd(ts, st, fd, ret, t0, t1);
	record_call(st, ts, t0, t1, PREV_ACCEPT);
	return ret;
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
		struct aw_segment *s = aw_segment_attach(cfg);
		aw_table_unlock();
		errno = host_errno;
		if (s != NULL)
			return full_call(slot, c->fd, addr, len, flags, use4,
					 aw_mono_ns());
		return call_real(c, addr, len, flags, use4);
	}
	c->t0 = aw_mono_ns();
	c->ret = call_real(c, addr, len, flags, use4);
	c->err = errno;
	c->t1 = aw_mono_ns();
	slot = adopt(c);
	struct aw_stripe *st = slot >= 0 ? my_stripe(slot) : NULL;
	if (st != NULL) {
		/* Counted from here on (a new slot: no previous call, so
		 * no away time and no gap). */
		struct thread_slot *ts = &self.slot[slot];
		record_call(st, ts, c->t0, c->t1, kind_of(c));
		if (c->ret < 0)
			count_failure(st, c);
	}
	errno = c->err;
	return c->ret;
}

/* fd and the segment when fd is a listener on the common path. */
static inline __attribute__((always_inline)) struct aw_segment *
common_case(int fd, uint32_t *slot)
{
	*slot = aw_table_fast_slot(fd);
	struct aw_segment *s = aw_segment_current();
	return *slot < AW_MAX_LISTENERS ? s : NULL;
}

static __attribute__((noinline)) int
other_case(int fd, struct sockaddr *addr, socklen_t *len, int flags, int use4)
{
	int slot = aw_table_lookup(fd);
	struct call c = {.fd = fd, .depth = UINT32_MAX};
	if (slot == AW_IGNORED)
		return call_real(&c, addr, len, flags, use4);
	return other_fd(&c, slot, addr, len, flags, use4);
}

/* Two entry points rather than a flag: each inlines its own common path. */
int aw_accept_path(int fd, struct sockaddr *addr, socklen_t *len)
{
	uint32_t slot;
	struct aw_segment *s = common_case(fd, &slot);
	if (__builtin_expect(s != NULL, 1))
		return known_listener(s, (int)slot, fd, addr, len, 0, 0);
	return other_case(fd, addr, len, 0, 0);
}

int aw_accept4_path(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	uint32_t slot;
	struct aw_segment *s = common_case(fd, &slot);
	if (__builtin_expect(s != NULL, 1))
		return known_listener(s, (int)slot, fd, addr, len, flags, 1);
	return other_case(fd, addr, len, flags, 1);
}
