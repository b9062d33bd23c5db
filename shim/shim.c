/*
 * libacceptwatch.so: the exported wrappers and the library's life cycle.
 *
 * The exported functions are one-line trampolines into the policy
 * (aw_listen_path here, aw_accept_path in accept_path.c). Configuration is
 * read once, at load, from the environment; the real functions are bound
 * lazily on first use (real.c). Nothing here may exit, abort or print to
 * stdout: a failure of the shim's own turns that part of it off and is said
 * once on the log.
 */
#include "accept_path.h"
#include "config.h"
#include "listener_table.h"
#include "log.h"
#include "real.h"
#include "segment.h"
#include "stacks.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define AW_EXPORT __attribute__((visibility("default")))

struct aw_config aw_config = {
    .slow_ms = AW_SLOW_MS_DEFAULT,
    .slow_ns = AW_SLOW_MS_DEFAULT * 1000000ull,
};
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int initialized;

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
 * The child gets its own segment now, not at its first accept: a pre-fork
 * worker that is stuck before it ever accepts (or stopped) must still be
 * visible with the listeners it inherited. vfork and posix_spawn run no fork
 * handlers, so a spawned program costs nothing here.
 */
static void after_fork_child(void)
{
	aw_stacks_after_fork_child();
	aw_table_reset_lock();
	if (!aw_segment_forked())
		return;
	aw_table_lock();
	aw_segment_attach(&aw_config);
	aw_table_unlock();
}

static void init(void)
{
	aw_config_read(&aw_config, env, aw_log_stderr);
	aw_log_setup(&aw_config);
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	__atomic_store_n(&initialized, 1, __ATOMIC_RELEASE);
}

/* Called by the loader; the wrappers also call it, since another library's
 * constructor may call them before this one has run. */
__attribute__((constructor)) static void on_load(void)
{
	pthread_once(&init_once, init);
}

__attribute__((destructor)) static void on_unload(void)
{
	aw_segment_release();
}

static __attribute__((noinline)) void init_now(void)
{
	pthread_once(&init_once, init);
}

/* Cheap once initialized. */
const struct aw_config *aw_ready_config(void)
{
	if (__builtin_expect(!__atomic_load_n(&initialized, __ATOMIC_ACQUIRE),
			     0))
		init_now();
	return &aw_config;
}

/*
 * ACCEPTWATCH_BACKLOG raises, never lowers: a negative backlog already asks
 * the kernel for its maximum ((unsigned) comparison, as __sys_listen does).
 */
static int raised_backlog(const struct aw_config *c, int backlog)
{
	if (c->raise_backlog > 0 && backlog >= 0 && backlog < c->raise_backlog)
		return c->raise_backlog;
	return backlog;
}

static int aw_listen_path(int fd, int backlog)
{
	const struct aw_config *c = aw_ready_config();
	int passed = raised_backlog(c, backlog);
	int ret = aw_real_listen(fd, passed);
	if (ret != 0)
		return ret;
	int saved = errno;
	aw_table_lock();
	int slot = aw_table_register(fd, backlog, passed, 0, c);
	aw_table_unlock();
	/* Who chose the backlog: captured without the table lock (the
	 * unwinder may take the loader's). */
	struct aw_segment *s = aw_segment_current();
	if (slot >= 0 && s != NULL)
		__atomic_store_n(
		    &s->listener[slot].listen_stack,
		    aw_stack_capture(s, AW_STACK_LISTEN, (uint32_t)slot),
		    __ATOMIC_RELAXED);
	errno = saved;
	return ret;
}

AW_EXPORT int listen(int fd, int backlog)
{
	return aw_listen_path(fd, backlog);
}

/*
 * No initialization check on the way in: a descriptor the common path knows
 * was registered by listen() or adopted, and both read the configuration
 * first; everything else goes through paths that do.
 */
AW_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return aw_accept_path(fd, addr, len);
}

AW_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return aw_accept4_path(fd, addr, len, flags);
}

/*
 * A descriptor number that stops naming a listener must take none of its
 * figures along to whatever the number names next: forget it first, then
 * let it go. No lock here (close may run in a signal handler).
 */
AW_EXPORT int close(int fd)
{
	if (__builtin_expect(aw_table_may_know(fd), 0))
		aw_table_forget_fd(fd);
	return aw_real_close(fd);
}

/*
 * The same for a range of descriptors. With CLOSE_RANGE_CLOEXEC nothing
 * closes now (and exec ends the shim's figures anyway); a call the kernel
 * refuses outright (first past last, unknown flags) closes nothing either.
 */
AW_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	unsigned int f = (unsigned int)flags;
	if (first <= last && f == (f & CLOSE_RANGE_UNSHARE))
		aw_table_forget_range(first, last);
	return aw_real_close_range(first, last, flags);
}

/* glibc's closefrom closes through its own close_range, not the symbol. */
AW_EXPORT void closefrom(int lowfd)
{
	aw_table_forget_range(lowfd < 0 ? 0u : (unsigned int)lowfd, ~0u);
	aw_real_closefrom(lowfd);
}

AW_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd != newfd)
		aw_table_forget_fd(newfd);
	return aw_real_dup2(oldfd, newfd);
}

AW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd)
		aw_table_forget_fd(newfd);
	return aw_real_dup3(oldfd, newfd, flags);
}

/* Changing the effective uid: the segment follows (segment.c). */
static void follow_uid(uid_t euid)
{
	aw_ready_config();
	aw_table_lock();
	aw_segment_give_to(euid);
	aw_table_unlock();
}

AW_EXPORT int setuid(uid_t uid)
{
	follow_uid(uid);
	return aw_real_setuid(uid);
}

AW_EXPORT int seteuid(uid_t euid)
{
	follow_uid(euid);
	return aw_real_seteuid(euid);
}

AW_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	follow_uid(euid);
	return aw_real_setreuid(ruid, euid);
}

AW_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	follow_uid(euid);
	return aw_real_setresuid(ruid, euid, suid);
}
