/*
 * libacceptwatch.so: the exported wrappers and the library's load and
 * unload.
 *
 * Each wrapper calls the real function and the policy around it, held in
 * the module of its job: accept and accept4 in accept_path.c, listen in
 * listen_path.c (the ACCEPTWATCH_BACKLOG raise, the listener registered,
 * its call-site stack), the uid changes in uid_handover.c (the segment
 * handed over on a permanent drop, and back when the call did not do as
 * predicted), kill and raise in self_signal.c (the segment removed before a
 * signal the process sends itself kills it). The rest are a few lines here:
 * close, close_range, closefrom, dup, dup2, dup3 and fcntl's
 * F_DUPFD(_CLOEXEC) keeping the fd map in step; _exit and _Exit removing
 * the segment, the wait family removing that of a reaped child a signal
 * killed; the exec family removing it before an exec and making it again
 * when the exec fails. The library's start (at load, or at the first
 * wrapper that comes before it) and its fork handlers are in lifecycle.c;
 * the real functions are bound lazily on first use (real.c). Nothing here
 * may exit, abort or print to stdout: a failure of the shim's own turns
 * that part of it off and is said once on the log.
 */
#include "accept_path.h"
#include "lifecycle.h"
#include "listen_path.h"
#include "listener_table.h"
#include "real.h"
#include "segment.h"
#include "self_signal.h"
#include "uid_handover.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#define AW_EXPORT __attribute__((visibility("default")))

/* Called by the loader; the wrappers also start the library, since another
 * library's constructor may call them before this one has run. */
__attribute__((constructor)) static void on_load(void)
{
	aw_life_start(&aw_accept_path_life);
}

__attribute__((destructor)) static void on_unload(void)
{
	aw_segment_release();
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

/*
 * _exit skips the destructor that removes the segment, and it is how most
 * forked children end (Python's multiprocessing children, a fork server's,
 * every child that must not flush its parent's stdio): remove it here too.
 * A vfork child's _exit leaves its parent's alone (segment.c checks the
 * owner).
 */
AW_EXPORT void _exit(int status)
{
	aw_segment_release();
	aw_real__exit(status, 0);
}

AW_EXPORT void _Exit(int status)
{
	aw_segment_release();
	aw_real__exit(status, 1);
}

/*
 * A child killed by a signal ran none of its exit paths and left its
 * segment: the parent that reaps it removes it (when it is this user's and
 * not to be kept). Only signal deaths cost the lookup; errno is the
 * call's.
 */
static pid_t reaped(pid_t pid, const int *status)
{
	if (pid > 0 && WIFSIGNALED(*status))
		aw_segment_reaped(pid);
	return pid;
}

AW_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	int st = 0, *sp = status ? status : &st;
	return reaped(aw_real_waitpid(pid, sp, options), sp);
}

AW_EXPORT pid_t wait(int *status)
{
	int st = 0, *sp = status ? status : &st;
	return reaped(aw_real_wait4(-1, sp, 0, NULL), sp);
}

AW_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	int st = 0, *sp = status ? status : &st;
	return reaped(aw_real_wait4(-1, sp, options, ru), sp);
}

AW_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int st = 0, *sp = status ? status : &st;
	return reaped(aw_real_wait4(pid, sp, options, ru), sp);
}

AW_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int ret = aw_real_waitid(type, id, info, options);
	if (ret == 0 && info != NULL && !(options & WNOWAIT) &&
	    info->si_pid > 0 &&
	    (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED))
		aw_segment_reaped(info->si_pid);
	return ret;
}

/* A signal the process sends itself may kill it: self_signal.c. */
AW_EXPORT int kill(pid_t pid, int sig)
{
	aw_self_signal_kill(pid, sig);
	return aw_real_kill(pid, sig);
}

AW_EXPORT int raise(int sig)
{
	aw_self_signal_raise(sig);
	return aw_real_raise(sig);
}

/*
 * exec() ends the image that wrote the segment, not the process: the
 * segment goes first (segment.h, aw_segment_exec), and comes back with its
 * figures when the exec fails. errno is the call's.
 */
static int exec_failed(int ret)
{
	aw_segment_exec_failed();
	return ret;
}

AW_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	aw_segment_exec();
	return exec_failed(aw_real_execve(path, argv, envp));
}

AW_EXPORT int execv(const char *path, char *const argv[])
{
	aw_segment_exec();
	return exec_failed(aw_real_execv(path, argv));
}

AW_EXPORT int execvp(const char *file, char *const argv[])
{
	aw_segment_exec();
	return exec_failed(aw_real_execvp(file, argv));
}

AW_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	aw_segment_exec();
	return exec_failed(aw_real_execvpe(file, argv, envp));
}

AW_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	aw_segment_exec();
	return exec_failed(aw_real_fexecve(fd, argv, envp));
}

/*
 * execl, execlp, execle: libc's call its own execve inside, not the
 * symbol. Their list becomes an argv here (on the stack: exec needs no
 * allocation), and what follows its NULL is execle's envp.
 */
static size_t count_args(const char *arg0, va_list *ap)
{
	size_t n = 0;
	va_list c;
	if (arg0 == NULL)
		return 0;
	va_copy(c, *ap);
	for (n = 1; va_arg(c, char *) != NULL; n++)
		;
	va_end(c);
	return n;
}

/* argv: room for n + 1 (count_args); takes the list's NULL from ap. */
static void fill_args(char **argv, size_t n, const char *arg0, va_list *ap)
{
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(*ap, char *);
}

enum exec_list_kind {
	EXEC_L,	 /* execl: a path */
	EXEC_LP, /* execlp: a file searched in PATH */
	EXEC_LE, /* execle: a path, and envp after the list's NULL */
};

static int exec_list(enum exec_list_kind kind, const char *file,
		     const char *arg, va_list *ap)
{
	size_t n = count_args(arg, ap);
	char *argv[n + 1];
	fill_args(argv, n, arg, ap);
	aw_segment_exec();
	if (kind == EXEC_LP)
		return exec_failed(aw_real_execvp(file, argv));
	if (kind == EXEC_LE)
		return exec_failed(
		    aw_real_execve(file, argv, va_arg(*ap, char *const *)));
	return exec_failed(aw_real_execv(file, argv));
}

AW_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int ret = exec_list(EXEC_L, path, arg, &ap);
	va_end(ap);
	return ret;
}

AW_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int ret = exec_list(EXEC_LP, file, arg, &ap);
	va_end(ap);
	return ret;
}

AW_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int ret = exec_list(EXEC_LE, path, arg, &ap);
	va_end(ap);
	return ret;
}

/*
 * A copy of a listener's descriptor names the same socket, so it counts on
 * the same row (daemons move listeners to fixed numbers: dup2, then close
 * the original). The table changes only after the call succeeded: a failed
 * dup2 closes nothing. errno is the call's: the table keeps it.
 */
static int copied(int oldfd, int ret)
{
	int saved = errno;
	if (ret >= 0)
		aw_table_dup(oldfd, ret);
	errno = saved;
	return ret;
}

AW_EXPORT int dup(int oldfd)
{
	return copied(oldfd, aw_real_dup(oldfd));
}

AW_EXPORT int dup2(int oldfd, int newfd)
{
	return copied(oldfd, aw_real_dup2(oldfd, newfd));
}

AW_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return copied(oldfd, aw_real_dup3(oldfd, newfd, flags));
}

/* The third argument is an int or a pointer: passed on as a pointer-sized
 * word, as every libc fcntl reads it. */
static int fcntl_path(int fd, int cmd, void *arg, int use64)
{
	int ret = aw_real_fcntl(fd, cmd, arg, use64);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return copied(fd, ret);
	return ret;
}

AW_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_path(fd, cmd, arg, 0);
}

AW_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_path(fd, cmd, arg, 1);
}

/*
 * User id changes. The segment goes to the new user only on a permanent drop
 * (real, effective and saved ids all that user): then that user's reader may
 * read its own process, and nobody else may. A temporary seteuid() keeps it
 * with the user the process can become again; given to that user, it could
 * be read or truncated under a server that runs as root again (SIGBUS at its
 * next accept). The policy is in uid_handover.c.
 */
/* -1 is EINVAL for setuid and seteuid, not "keep". */
AW_EXPORT int setuid(uid_t uid)
{
	struct aw_uid_change c = {.handed = 0};
	if (uid != (uid_t)-1)
		aw_uid_change_begin(&c, uid, uid, uid);
	int ret = aw_real_setuid(uid);
	aw_uid_change_end(&c, ret);
	return ret;
}

/* glibc's seteuid is setresuid(-1, euid, -1). */
AW_EXPORT int seteuid(uid_t euid)
{
	struct aw_uid_change c = {.handed = 0};
	if (euid != (uid_t)-1)
		aw_uid_change_begin(&c, (uid_t)-1, euid, (uid_t)-1);
	int ret = aw_real_seteuid(euid);
	aw_uid_change_end(&c, ret);
	return ret;
}

AW_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	struct aw_uid_change c;
	int saved = errno;
	uid_t suid = aw_uid_setreuid_saved(ruid, euid);
	errno = saved;
	aw_uid_change_begin(&c, ruid, euid, suid);
	int ret = aw_real_setreuid(ruid, euid);
	aw_uid_change_end(&c, ret);
	return ret;
}

AW_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	struct aw_uid_change c;
	aw_uid_change_begin(&c, ruid, euid, suid);
	int ret = aw_real_setresuid(ruid, euid, suid);
	aw_uid_change_end(&c, ret);
	return ret;
}
