/*
 * Standalone fences for the segment's seqlocks, shared by the writer
 * (shim/segment_writer.c) and the reader (tools/event_ring.c,
 * tools/segment_reader.c). segment_writer.h says why each one is there.
 *
 * ThreadSanitizer does not model standalone fences, and GCC says so under
 * -fsanitize=thread (-Wtsan). Every fence here orders accesses against a
 * reader TSan cannot see (another process, or the kernel's copy in
 * pread()), so nothing it checks depends on them: the warning is turned
 * off for these two functions only.
 */
#ifndef AW_FENCE_H
#define AW_FENCE_H

#pragma GCC diagnostic push
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

/* Loads and stores before it are ordered before stores after it:
 * Linux's smp_wmb() and more (dmb ish on arm64, nothing on x86). */
static inline void aw_fence_release(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* Loads before it are ordered before loads and stores after it: Linux's
 * smp_rmb() and more (dmb ishld on arm64, nothing on x86). */
static inline void aw_fence_acquire(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

#pragma GCC diagnostic pop

#endif
