/*
 * segpeek.c - the shim's own probe and accept counters of one segment.
 *
 *   segpeek PID
 *
 * Prints "accepts A samples S slow_events E listeners L", summed over the
 * READY listener slots of /dev/shm/acceptwatch.PID (built against the same
 * acceptwatch_abi.h as the shim). `samples` counts listener probes (one
 * TCP_INFO and one SO_MEMINFO getsockopt on the listener each): the
 * benchmark divides it by time to show the probes are bounded by time. The
 * reader's JSON does not carry it. Exit 1 when the segment is missing or
 * does not match this build's layout.
 */
#include "acceptwatch_abi.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64];
	struct stat st;
	uint64_t accepts = 0, samples = 0, slow = 0;
	uint32_t n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: segpeek PID\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/shm/" AW_SEG_PREFIX "%d",
		 atoi(argv[1]));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size != AW_SEG_SIZE) {
		fprintf(stderr, "segpeek: %s: missing or not this layout\n",
			path);
		return 1;
	}
	const struct aw_segment *s =
	    mmap(NULL, AW_SEG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED ||
	    __atomic_load_n(&s->header.magic, __ATOMIC_ACQUIRE) !=
		AW_SEG_MAGIC ||
	    s->header.abi_version != AW_ABI_VERSION) {
		fprintf(stderr, "segpeek: %s: bad segment\n", path);
		return 1;
	}
	uint32_t used =
	    __atomic_load_n(&s->header.listeners_used, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < used && i < AW_MAX_LISTENERS; i++) {
		const struct aw_listener *l = &s->listener[i];
		if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) !=
		    AW_SLOT_READY)
			continue;
		n++;
		samples += __atomic_load_n(&l->samples, __ATOMIC_RELAXED);
		slow += __atomic_load_n(&l->slow_events, __ATOMIC_RELAXED);
		for (uint32_t j = 0; j < AW_STRIPES; j++) {
			uint32_t ref = __atomic_load_n(&l->stripe_ref[j],
						       __ATOMIC_ACQUIRE);
			const struct aw_stripe *stripe =
			    (const struct aw_stripe *)((const char *)s + ref);
			if (ref != 0)
				accepts += __atomic_load_n(&stripe->accepts,
							   __ATOMIC_RELAXED);
		}
	}
	printf("accepts %llu samples %llu slow_events %llu listeners %u\n",
	       (unsigned long long)accepts, (unsigned long long)samples,
	       (unsigned long long)slow, n);
	munmap((void *)s, AW_SEG_SIZE);
	return 0;
}
