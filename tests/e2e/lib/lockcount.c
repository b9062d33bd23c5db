/*
 * liblockcount.so - counts the pthread_mutex_lock calls made from inside
 * libacceptwatch.so, for tests that hold the shim to "no lock on this
 * path". Preloaded before the shim, so that the shim's calls bind here;
 * every other caller's calls are passed on uncounted.
 *
 *   long aw_test_shim_locks(void)   the count so far
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

typedef int (*lock_fn)(pthread_mutex_t *);

long aw_test_shim_locks(void);

static long shim_locks;

static int from_shim(const void *caller)
{
	Dl_info info;
	return dladdr(caller, &info) && info.dli_fname &&
	       strstr(info.dli_fname, "libacceptwatch.so") != NULL;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	static lock_fn next;
	if (next == NULL)
		next = (lock_fn)dlsym(RTLD_NEXT, "pthread_mutex_lock");
	if (from_shim(__builtin_return_address(0)))
		__atomic_fetch_add(&shim_locks, 1, __ATOMIC_RELAXED);
	return next(m);
}

long aw_test_shim_locks(void)
{
	return __atomic_load_n(&shim_locks, __ATOMIC_RELAXED);
}
