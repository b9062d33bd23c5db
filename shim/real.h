/*
 * The wrapped functions as the next object in the lookup order (libc)
 * defines them, bound lazily on first use, once.
 */
#ifndef AW_REAL_H
#define AW_REAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

typedef int (*aw_accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*aw_accept4_fn)(int, struct sockaddr *, socklen_t *, int);

typedef int (*aw_close_fn)(int);

/*
 * The hot pointers: each starts at its *_slow function, which binds the
 * real one on first use and stores it here, so a call through them is one
 * load and an indirect call, with no test. When the symbol cannot be found
 * they keep pointing at the slow function, which makes the system call.
 */
extern aw_accept_fn aw_next_accept __attribute__((visibility("hidden")));
extern aw_accept4_fn aw_next_accept4 __attribute__((visibility("hidden")));
extern aw_close_fn aw_next_close __attribute__((visibility("hidden")));

/* Bind every real function now (dlsym: it takes the loader's lock), unless
 * another thread is: nobody waits for it. */
void aw_real_bind(void);

int aw_real_listen(int fd, int backlog);
int aw_real_accept_slow(int fd, struct sockaddr *addr, socklen_t *len);
int aw_real_accept4_slow(int fd, struct sockaddr *addr, socklen_t *len,
			 int flags);
int aw_real_close_slow(int fd);

static inline int aw_real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return __atomic_load_n(&aw_next_accept, __ATOMIC_RELAXED)(fd, addr,
								  len);
}

static inline int aw_real_accept4(int fd, struct sockaddr *addr, socklen_t *len,
				  int flags)
{
	return __atomic_load_n(&aw_next_accept4, __ATOMIC_RELAXED)(fd, addr,
								   len, flags);
}

/* close() is as hot as accept() in a server: the same one-load path. */
static inline int aw_real_close(int fd)
{
	return __atomic_load_n(&aw_next_close, __ATOMIC_RELAXED)(fd);
}

int aw_real_close_range(unsigned int first, unsigned int last, int flags);
void aw_real_closefrom(int lowfd);
int aw_real_dup2(int oldfd, int newfd);
int aw_real_dup3(int oldfd, int newfd, int flags);
int aw_real_dup(int oldfd);
pid_t aw_real_wait4(pid_t pid, int *status, int options, struct rusage *ru);
pid_t aw_real_waitpid(pid_t pid, int *status, int options);
int aw_real_waitid(idtype_t type, id_t id, siginfo_t *info, int options);
/* _exit, or _Exit with upper set. */
__attribute__((noreturn)) void aw_real__exit(int status, int upper);
int aw_real_fcntl(int fd, int cmd, void *arg, int use64);
int aw_real_setuid(uid_t uid);
int aw_real_seteuid(uid_t euid);
int aw_real_setreuid(uid_t ruid, uid_t euid);
int aw_real_setresuid(uid_t ruid, uid_t euid, uid_t suid);
int aw_real_kill(pid_t pid, int sig);
int aw_real_raise(int sig);
int aw_real_execve(const char *path, char *const argv[], char *const envp[]);
int aw_real_execv(const char *path, char *const argv[]);
int aw_real_execvp(const char *file, char *const argv[]);
int aw_real_execvpe(const char *file, char *const argv[], char *const envp[]);
int aw_real_fexecve(int fd, char *const argv[], char *const envp[]);

#endif
