/*
 * The library's life cycle: its start, once, and the fork handlers.
 *
 * The start reads the configuration (config.c), sets up the log's output, has
 * the fd map wiped in children, chooses the clock, starts the module above
 * (the accept path: its hooks, struct aw_life_above) and registers the fork
 * handlers. It runs at the first of: the library's constructor, or a
 * wrapper that needs the configuration, since another library's constructor
 * may call a wrapper before ours has run. So the start lives below the
 * accept path, which calls it: the accept path hands its own hooks down as
 * an argument, and nothing here calls up by name.
 */
#include "lifecycle.h"

#include "clock.h"
#include "config.h"
#include "listener_table.h"
#include "log.h"
#include "segment.h"
#include "stacks.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int initialized;
/* The module above: set before the start runs, the same at every call. */
static const struct aw_life_above *life_above;

static const char *env(const char *name)
{
	return secure_getenv(name);
}

/* Fork handlers: the child must not inherit a held table lock, and must
 * stop writing the parent's segment. The parent's TCP_DEFER_ACCEPT flags
 * are brought up to date first: the child's segment copies them. */
static void before_fork(void)
{
	aw_table_lock();
	aw_table_refresh_defer();
}

static void after_fork_parent(void)
{
	aw_table_unlock();
}

/*
 * The child writes no segment until it listens or accepts itself: most
 * children exec or exit first (a fork+exec server, a test harness, a shell
 * out), and those must leave nothing behind. A pre-fork worker that never
 * reaches accept is still seen: the reader finds the parent's listener and
 * the socket's other holders. vfork and posix_spawn run no fork handlers.
 */
static void after_fork_child(void)
{
	/* Signals wait until the child's state is whole: a handler's accept()
	 * between the two steps below could claim a stripe in the parent's
	 * segment just before the segment goes, and its offset would then
	 * point past the stand-in the common path reads (segment.h,
	 * aw_segment_base). */
	sigset_t all, old;
	int saved = errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	aw_stacks_after_fork_child();
	aw_table_reset_lock();
	__atomic_load_n(&life_above, __ATOMIC_RELAXED)->forked();
	aw_segment_forked();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

static void init(void)
{
	aw_config_read(&aw_config, env, aw_log_hold);
	aw_log_setup(&aw_config);
	int err = aw_table_wipe_on_fork();
	if (err != 0)
		aw_log("cannot have the fd map wiped in children (madvise "
		       "MADV_WIPEONFORK: %s): a child made by a raw clone() "
		       "goes on counting in its parent's figures",
		       strerror(err));
	aw_clock_init(!aw_config.monotonic_clock, aw_config.slow_ns);
	__atomic_load_n(&life_above, __ATOMIC_RELAXED)->start();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	__atomic_store_n(&initialized, 1, __ATOMIC_RELEASE);
}

void aw_life_start(const struct aw_life_above *above)
{
	__atomic_store_n(&life_above, above, __ATOMIC_RELAXED);
	pthread_once(&init_once, init);
}

static __attribute__((noinline)) void
init_now(const struct aw_life_above *above)
{
	aw_life_start(above);
}

/*
 * A child made without fork handlers (a raw clone() without CLONE_VM,
 * _Fork): its memory is its parent's but for the pages wiped at fork
 * (listener_table.h), so it runs the child's handler now, with signals
 * held: a handler's accept() in the middle would meet half of it.
 */
static __attribute__((noinline, cold)) void adopt_unforked(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (aw_table_unforked())
		after_fork_child();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Cheap once initialized. */
const struct aw_config *aw_life_ready(const struct aw_life_above *above)
{
	if (__builtin_expect(!__atomic_load_n(&initialized, __ATOMIC_ACQUIRE),
			     0))
		init_now(above);
	if (__builtin_expect(aw_table_unforked(), 0))
		adopt_unforked();
	return &aw_config;
}
