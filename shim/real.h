/*
 * The wrapped functions as the next object in the lookup order (libc)
 * defines them, bound lazily on first use, once.
 */
#ifndef AW_REAL_H
#define AW_REAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef int (*aw_accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*aw_accept4_fn)(int, struct sockaddr *, socklen_t *, int);

typedef int (*aw_close_fn)(int);

/* Bound by the first call through the *_slow versions (real.c). */
extern aw_accept_fn aw_next_accept;
extern aw_accept4_fn aw_next_accept4;
extern aw_close_fn aw_next_close;

int aw_real_listen(int fd, int backlog);
int aw_real_accept_slow(int fd, struct sockaddr *addr, socklen_t *len);
int aw_real_accept4_slow(int fd, struct sockaddr *addr, socklen_t *len,
			 int flags);

/* The accept hot path: one load and an indirect call once bound. */
static inline int aw_real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	aw_accept_fn f = __atomic_load_n(&aw_next_accept, __ATOMIC_RELAXED);
	if (__builtin_expect(f != NULL, 1))
		return f(fd, addr, len);
	return aw_real_accept_slow(fd, addr, len);
}

static inline int aw_real_accept4(int fd, struct sockaddr *addr, socklen_t *len,
				  int flags)
{
	aw_accept4_fn f = __atomic_load_n(&aw_next_accept4, __ATOMIC_RELAXED);
	if (__builtin_expect(f != NULL, 1))
		return f(fd, addr, len, flags);
	return aw_real_accept4_slow(fd, addr, len, flags);
}
int aw_real_close_slow(int fd);

/* close() is as hot as accept() in a server: the same one-load path. */
static inline int aw_real_close(int fd)
{
	aw_close_fn f = __atomic_load_n(&aw_next_close, __ATOMIC_RELAXED);
	if (__builtin_expect(f != NULL, 1))
		return f(fd);
	return aw_real_close_slow(fd);
}

int aw_real_dup2(int oldfd, int newfd);
int aw_real_dup3(int oldfd, int newfd, int flags);
int aw_real_setuid(uid_t uid);
int aw_real_seteuid(uid_t euid);
int aw_real_setreuid(uid_t ruid, uid_t euid);
int aw_real_setresuid(uid_t ruid, uid_t euid, uid_t suid);

#endif
