/*
 * Binding the real functions with dlsym(RTLD_NEXT): the 27 that the
 * wrappers pass their calls on to (bind_all).
 *
 * dlsym may allocate, and an interposed allocator may call back into us
 * before the binding is done; dlsym also takes the dynamic loader's lock,
 * which a thread in dlopen() holds while a library constructor calls
 * listen(). So nobody waits for the binding: one thread binds, and a call
 * that comes meanwhile (a nested one on that thread, or another thread's)
 * goes straight to the system call, or, for the uid changes and the exec
 * family, looks its one symbol up itself. A wait there (pthread_once)
 * deadlocked a thread binding, blocked on the loader's lock, against a
 * thread in dlopen whose constructor listened (test_loader_lock).
 */
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*listen_fn)(int, int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);
typedef void (*closefrom_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*dup_fn)(int);
typedef void (*exit_fn)(int);
typedef pid_t (*wait4_fn)(pid_t, int *, int, struct rusage *);
typedef pid_t (*waitpid_fn)(pid_t, int *, int);
typedef int (*waitid_fn)(idtype_t, id_t, siginfo_t *, int);
typedef int (*fcntl_fn)(int, int, ...);
typedef int (*setuid_fn)(uid_t);
typedef int (*setreuid_fn)(uid_t, uid_t);
typedef int (*setresuid_fn)(uid_t, uid_t, uid_t);
typedef int (*kill_fn)(pid_t, int);
typedef int (*raise_fn)(int);
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

static listen_fn real_listen;
static aw_accept_fn real_accept;
static aw_accept4_fn real_accept4;
static aw_close_fn real_close;
aw_accept_fn aw_next_accept = aw_real_accept_slow;
aw_accept4_fn aw_next_accept4 = aw_real_accept4_slow;
aw_close_fn aw_next_close = aw_real_close_slow;
static close_range_fn real_close_range;
static closefrom_fn real_closefrom;
static dup2_fn real_dup2;
static dup3_fn real_dup3;
static dup_fn real_dup;
static exit_fn real__exit, real__Exit;
static wait4_fn real_wait4;
static waitpid_fn real_waitpid;
static waitid_fn real_waitid;
static fcntl_fn real_fcntl, real_fcntl64;
static setuid_fn real_setuid, real_seteuid;
static setreuid_fn real_setreuid;
static setresuid_fn real_setresuid;
static kill_fn real_kill;
static raise_fn real_raise;
static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static fexecve_fn real_fexecve;
enum { BIND_NONE, BIND_RUNNING, BIND_DONE };
static int bind_state;	     /* atomic */
static __thread int binding; /* this thread is in bind_all */

/* A symbol that resolves back into this library would recurse forever. */
static void *next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	Dl_info self, found;
	if (p == NULL || dladdr((void *)next_symbol, &self) == 0 ||
	    dladdr(p, &found) == 0)
		return p;
	return found.dli_fbase == self.dli_fbase ? NULL : p;
}

/* Point the hot pointers at the real functions, those that were found. */
static void hot_pointers(void)
{
	if (real_accept != NULL)
		__atomic_store_n(&aw_next_accept, real_accept,
				 __ATOMIC_RELEASE);
	if (real_accept4 != NULL)
		__atomic_store_n(&aw_next_accept4, real_accept4,
				 __ATOMIC_RELEASE);
	if (real_close != NULL)
		__atomic_store_n(&aw_next_close, real_close, __ATOMIC_RELEASE);
}

static void bind_all(void)
{
	__atomic_store_n(&real_listen, (listen_fn)next_symbol("listen"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_accept, (aw_accept_fn)next_symbol("accept"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_accept4, (aw_accept4_fn)next_symbol("accept4"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_close, (aw_close_fn)next_symbol("close"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_close_range,
			 (close_range_fn)next_symbol("close_range"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_closefrom,
			 (closefrom_fn)next_symbol("closefrom"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_dup2, (dup2_fn)next_symbol("dup2"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_dup3, (dup3_fn)next_symbol("dup3"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_dup, (dup_fn)next_symbol("dup"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real__exit, (exit_fn)next_symbol("_exit"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_wait4, (wait4_fn)next_symbol("wait4"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_waitpid, (waitpid_fn)next_symbol("waitpid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_waitid, (waitid_fn)next_symbol("waitid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real__Exit, (exit_fn)next_symbol("_Exit"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_fcntl, (fcntl_fn)next_symbol("fcntl"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_fcntl64, (fcntl_fn)next_symbol("fcntl64"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_setuid, (setuid_fn)next_symbol("setuid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_seteuid, (setuid_fn)next_symbol("seteuid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_setreuid, (setreuid_fn)next_symbol("setreuid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_setresuid,
			 (setresuid_fn)next_symbol("setresuid"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_kill, (kill_fn)next_symbol("kill"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_raise, (raise_fn)next_symbol("raise"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_execve, (execve_fn)next_symbol("execve"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_execvpe, (execve_fn)next_symbol("execvpe"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_execv, (execv_fn)next_symbol("execv"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_execvp, (execv_fn)next_symbol("execvp"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_fexecve, (fexecve_fn)next_symbol("fexecve"),
			 __ATOMIC_RELEASE);
	hot_pointers();
}

void aw_real_bind(void)
{
	int state = BIND_NONE;
	if (__atomic_compare_exchange_n(&bind_state, &state, BIND_RUNNING, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		binding = 1;
		bind_all();
		binding = 0;
		__atomic_store_n(&bind_state, BIND_DONE, __ATOMIC_RELEASE);
	}
}

/* The bound pointer, binding first if nobody is; NULL: use the syscall
 * (a call made while a binding is under way, on any thread). */
static void *bound(void **ptr)
{
	void *p = __atomic_load_n(ptr, __ATOMIC_ACQUIRE);
	if (p != NULL || binding)
		return p;
	aw_real_bind();
	return __atomic_load_n(ptr, __ATOMIC_ACQUIRE);
}

/*
 * For the uid changes and the exec family (no system call to fall back on
 * but execve's; never called under the table lock): while another thread
 * binds (it may be waiting for the loader's lock our caller holds), name's
 * symbol is looked up here, alone.
 */
static void *bound_named(void **ptr, const char *name)
{
	void *p = bound(ptr);
	if (p == NULL && !binding &&
	    __atomic_load_n(&bind_state, __ATOMIC_ACQUIRE) != BIND_DONE) {
		p = next_symbol(name);
		if (p != NULL)
			__atomic_store_n(ptr, p, __ATOMIC_RELEASE);
	}
	return p;
}

int aw_real_listen(int fd, int backlog)
{
	listen_fn f = (listen_fn)bound((void **)&real_listen);
	if (f == NULL)
		return (int)syscall(SYS_listen, fd, backlog);
	return f(fd, backlog);
}

int aw_real_accept_slow(int fd, struct sockaddr *addr, socklen_t *len)
{
	aw_accept_fn f = (aw_accept_fn)bound((void **)&real_accept);
	if (f == NULL)
		return (int)syscall(SYS_accept4, fd, addr, len, 0);
	return f(fd, addr, len);
}

int aw_real_accept4_slow(int fd, struct sockaddr *addr, socklen_t *len,
			 int flags)
{
	aw_accept4_fn f = (aw_accept4_fn)bound((void **)&real_accept4);
	if (f == NULL)
		return (int)syscall(SYS_accept4, fd, addr, len, flags);
	return f(fd, addr, len, flags);
}

int aw_real_close_slow(int fd)
{
	aw_close_fn f = (aw_close_fn)bound((void **)&real_close);
	return f ? f(fd) : (int)syscall(SYS_close, fd);
}

int aw_real_close_range(unsigned int first, unsigned int last, int flags)
{
	close_range_fn f = (close_range_fn)bound((void **)&real_close_range);
	return f ? f(first, last, flags)
		 : (int)syscall(SYS_close_range, first, last, flags);
}

/* Without the symbol: what closefrom does first, the range to the top. */
void aw_real_closefrom(int lowfd)
{
	closefrom_fn f = (closefrom_fn)bound((void **)&real_closefrom);
	if (f != NULL) {
		f(lowfd);
		return;
	}
	syscall(SYS_close_range, lowfd < 0 ? 0u : (unsigned int)lowfd, ~0u, 0);
}

int aw_real_dup2(int oldfd, int newfd)
{
	dup2_fn f = (dup2_fn)bound((void **)&real_dup2);
	if (f != NULL)
		return f(oldfd, newfd);
	/* dup3 refuses oldfd == newfd, which dup2 allows: a valid fd is
	 * returned as it is. */
	if (oldfd == newfd)
		return (int)syscall(SYS_fcntl, oldfd, F_GETFD) < 0 ? -1 : newfd;
	return (int)syscall(SYS_dup3, oldfd, newfd, 0);
}

int aw_real_dup3(int oldfd, int newfd, int flags)
{
	dup3_fn f = (dup3_fn)bound((void **)&real_dup3);
	return f ? f(oldfd, newfd, flags)
		 : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

int aw_real_dup(int oldfd)
{
	dup_fn f = (dup_fn)bound((void **)&real_dup);
	return f ? f(oldfd) : (int)syscall(SYS_dup, oldfd);
}

/* fcntl64 is what programs built with 64-bit file offsets call; without
 * it (older libc) both names are one function. */
int aw_real_fcntl(int fd, int cmd, void *arg, int use64)
{
	fcntl_fn f = NULL;
	if (use64)
		f = (fcntl_fn)bound((void **)&real_fcntl64);
	if (f == NULL)
		f = (fcntl_fn)bound((void **)&real_fcntl);
	return f ? f(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

/* wait, wait3 and wait4 are one system call; waitpid is libc's own
 * symbol, and some programs interpose it. */
pid_t aw_real_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	wait4_fn f = (wait4_fn)bound((void **)&real_wait4);
	return f ? f(pid, status, options, ru)
		 : (pid_t)syscall(SYS_wait4, pid, status, options, ru);
}

pid_t aw_real_waitpid(pid_t pid, int *status, int options)
{
	waitpid_fn f = (waitpid_fn)bound((void **)&real_waitpid);
	return f ? f(pid, status, options)
		 : (pid_t)syscall(SYS_wait4, pid, status, options, NULL);
}

int aw_real_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	waitid_fn f = (waitid_fn)bound((void **)&real_waitid);
	return f ? f(type, id, info, options)
		 : (int)syscall(SYS_waitid, type, id, info, options, NULL);
}

/* Without the symbol: what _exit is, the end of every thread. */
void aw_real__exit(int status, int upper)
{
	exit_fn f = upper ? (exit_fn)bound((void **)&real__Exit)
			  : (exit_fn)bound((void **)&real__exit);
	if (f != NULL)
		f(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

/*
 * No system-call fallback for the uid changes: glibc's versions change every
 * thread of the process (SETXID), a bare syscall only the caller's.
 */
static int no_symbol(void)
{
	errno = ENOSYS;
	return -1;
}

int aw_real_setuid(uid_t uid)
{
	setuid_fn f = (setuid_fn)bound_named((void **)&real_setuid, "setuid");
	return f ? f(uid) : no_symbol();
}

int aw_real_seteuid(uid_t euid)
{
	setuid_fn f = (setuid_fn)bound_named((void **)&real_seteuid, "seteuid");
	return f ? f(euid) : no_symbol();
}

int aw_real_setreuid(uid_t ruid, uid_t euid)
{
	setreuid_fn f =
	    (setreuid_fn)bound_named((void **)&real_setreuid, "setreuid");
	return f ? f(ruid, euid) : no_symbol();
}

int aw_real_setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	setresuid_fn f =
	    (setresuid_fn)bound_named((void **)&real_setresuid, "setresuid");
	return f ? f(ruid, euid, suid) : no_symbol();
}

int aw_real_kill(pid_t pid, int sig)
{
	kill_fn f = (kill_fn)bound((void **)&real_kill);
	return f ? f(pid, sig) : (int)syscall(SYS_kill, pid, sig);
}

/* Without the symbol: the calling thread, as raise(3) signals it. */
int aw_real_raise(int sig)
{
	raise_fn f = (raise_fn)bound((void **)&real_raise);
	if (f != NULL)
		return f(sig);
	return (int)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid),
			    sig);
}

/* The exec family: no system-call fallback but execve's (the others
 * search PATH or need /proc). */
int aw_real_execve(const char *path, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)bound_named((void **)&real_execve, "execve");
	return f ? f(path, argv, envp)
		 : (int)syscall(SYS_execve, path, argv, envp);
}

int aw_real_execv(const char *path, char *const argv[])
{
	execv_fn f = (execv_fn)bound_named((void **)&real_execv, "execv");
	return f ? f(path, argv) : no_symbol();
}

int aw_real_execvp(const char *file, char *const argv[])
{
	execv_fn f = (execv_fn)bound_named((void **)&real_execvp, "execvp");
	return f ? f(file, argv) : no_symbol();
}

int aw_real_execvpe(const char *file, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)bound_named((void **)&real_execvpe, "execvpe");
	return f ? f(file, argv, envp) : no_symbol();
}

int aw_real_fexecve(int fd, char *const argv[], char *const envp[])
{
	fexecve_fn f =
	    (fexecve_fn)bound_named((void **)&real_fexecve, "fexecve");
	return f ? f(fd, argv, envp) : no_symbol();
}
