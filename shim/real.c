/*
 * Binding the real listen/accept/accept4 with dlsym(RTLD_NEXT).
 *
 * dlsym may allocate, and an interposed allocator may call back into us
 * before the binding is done; such a nested call (same thread, binding in
 * progress) goes straight to the system call instead of waiting on the
 * pthread_once it is itself inside.
 */
#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*listen_fn)(int, int);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static listen_fn real_listen;
static accept_fn real_accept;
static accept4_fn real_accept4;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;
static __thread int binding;

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

static void bind_all(void)
{
	binding = 1;
	__atomic_store_n(&real_listen, (listen_fn)next_symbol("listen"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_accept, (accept_fn)next_symbol("accept"),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&real_accept4, (accept4_fn)next_symbol("accept4"),
			 __ATOMIC_RELEASE);
	binding = 0;
}

/* The bound pointer, binding first if need be; NULL: use the syscall. */
static void *bound(void **ptr)
{
	void *p = __atomic_load_n(ptr, __ATOMIC_ACQUIRE);
	if (p != NULL || binding)
		return p;
	pthread_once(&bind_once, bind_all);
	return __atomic_load_n(ptr, __ATOMIC_ACQUIRE);
}

int aw_real_listen(int fd, int backlog)
{
	listen_fn f = (listen_fn)bound((void **)&real_listen);
	if (f == NULL)
		return (int)syscall(SYS_listen, fd, backlog);
	return f(fd, backlog);
}

int aw_real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	accept_fn f = (accept_fn)bound((void **)&real_accept);
	if (f == NULL)
		return (int)syscall(SYS_accept4, fd, addr, len, 0);
	return f(fd, addr, len);
}

int aw_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	accept4_fn f = (accept4_fn)bound((void **)&real_accept4);
	if (f == NULL)
		return (int)syscall(SYS_accept4, fd, addr, len, flags);
	return f(fd, addr, len, flags);
}
