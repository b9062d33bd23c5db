/*
 * libbigpage.so - a kernel with 64 KiB pages, as far as a preloaded
 * library can tell: sysconf(_SC_PAGESIZE) and getpagesize() say 65536,
 * shared file mappings start on a 64 KiB boundary, and madvise() refuses a
 * range that does not (EINVAL), as such a kernel does. Each refusal appends
 * a line to the file named by AW_BIGPAGE_LOG. Preloaded before the shim,
 * so that the shim's calls bind here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BIG_PAGE 65536ul

typedef long (*sysconf_fn)(int);
typedef int (*madvise_fn)(void *, size_t, int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

long sysconf(int name)
{
	static sysconf_fn real;
	if (name == _SC_PAGESIZE)
		return (long)BIG_PAGE;
	if (real == NULL)
		real = (sysconf_fn)next("sysconf");
	return real(name);
}

int getpagesize(void)
{
	return (int)BIG_PAGE;
}

static void note_refusal(const void *addr, int advice)
{
	const char *path = getenv("AW_BIGPAGE_LOG");
	if (path == NULL)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char line[96];
	int n = snprintf(line, sizeof(line), "madvise(%p, advice %d): EINVAL\n",
			 addr, advice);
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

int madvise(void *addr, size_t len, int advice)
{
	static madvise_fn real;
	if ((uintptr_t)addr % BIG_PAGE != 0) {
		note_refusal(addr, advice);
		errno = EINVAL;
		return -1;
	}
	if (real == NULL)
		real = (madvise_fn)next("madvise");
	return real(addr, len, advice);
}

/* A shared mapping of a file where the kernel puts it: on a page. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static mmap_fn real;
	if (real == NULL)
		real = (mmap_fn)next("mmap");
	if (addr != NULL || fd < 0 || !(flags & MAP_SHARED) ||
	    (flags & MAP_FIXED))
		return real(addr, len, prot, flags, fd, off);
	size_t room = len + BIG_PAGE;
	char *r = real(NULL, room, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return r;
	char *at = (char *)(((uintptr_t)r + BIG_PAGE - 1) & ~(BIG_PAGE - 1));
	void *p = real(at, len, prot, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		int err = errno;
		munmap(r, room);
		errno = err;
		return p;
	}
	size_t used = (len + 4095) & ~(size_t)4095;
	if (at > r)
		munmap(r, (size_t)(at - r));
	if (r + room > at + used)
		munmap(at + used, (size_t)(r + room - (at + used)));
	return p;
}
