/*
 * stackcost - what a call-site stack capture costs the host: the shim's
 * stacks.c (linked in from the release build) called from an accept-loop
 * shaped thread, 5 calls deep, into a process-memory segment.
 *
 * usage: stackcost [N]
 * Prints three lines, ns per capture:
 *   first NS            the first capture: libunwind loaded and initialized
 *   known MEDIAN P99    a stack already in the table (a loop's every slow
 *                       event after its first): unwind, hash, count
 *   new MEDIAN P99      a stack never seen: also its modules looked up
 *                       (dl_iterate_phdr, build-id notes) and copied out
 */
#include "acceptwatch_abi.h"
#include "stacks.h"

#include "../e2e/lib/prog.h"

#include <pthread.h>
#include <sys/mman.h>

static struct aw_segment *seg;
static long n_runs = 20000;
static uint64_t *ns;

static __attribute__((noinline)) uint32_t level(int depth)
{
	if (depth == 0)
		return aw_stack_capture(seg, AW_STACK_SLOW, 0);
	uint32_t ref = level(depth - 1);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return ref;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Captures n_runs times; fresh: each into a segment the table has not
 * seen (another pid, no stacks), so each stack is new. */
static void run(const char *label, int fresh)
{
	for (long i = 0; i < n_runs; i++) {
		if (fresh) {
			seg->header.pid = (int32_t)(i + 1000);
			seg->header.stacks_used = 0;
		}
		uint64_t t0 = now_ns();
		uint32_t ref = level(5);
		ns[i] = now_ns() - t0;
		if (ref == 0) {
			fprintf(stderr, "stackcost: no stack captured\n");
			exit(1);
		}
	}
	qsort(ns, (size_t)n_runs, sizeof(*ns), cmp_u64);
	printf("%s %llu %llu\n", label, (unsigned long long)ns[n_runs / 2],
	       (unsigned long long)ns[n_runs * 99 / 100]);
}

static void *thread_main(void *arg)
{
	(void)arg;
	uint64_t t0 = now_ns();
	if (level(5) == 0) {
		fprintf(stderr, "stackcost: stacks off (see above)\n");
		exit(1);
	}
	printf("first %llu\n", (unsigned long long)(now_ns() - t0));
	run("known", 0);
	run("new", 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1)
		n_runs = parse_long(argv[1], "N", 100, 10000000);
	seg = mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ns = calloc((size_t)n_runs, sizeof(*ns));
	if (seg == MAP_FAILED || ns == NULL)
		die_errno("memory");
	aw_seg_header_layout(&seg->header);
	seg->header.pid = 1;
	if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		die_errno("thread");
	return 0;
}
