/*
 * The wrapped functions as the next object in the lookup order (libc)
 * defines them, bound lazily on first use, once.
 */
#ifndef AW_REAL_H
#define AW_REAL_H

#include <sys/socket.h>
#include <sys/types.h>

int aw_real_listen(int fd, int backlog);
int aw_real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int aw_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int aw_real_setuid(uid_t uid);
int aw_real_seteuid(uid_t euid);
int aw_real_setreuid(uid_t ruid, uid_t euid);
int aw_real_setresuid(uid_t ruid, uid_t euid, uid_t suid);

#endif
