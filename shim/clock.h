/* Monotonic and wall-clock nanoseconds (vDSO clock reads, no syscall). */
#ifndef AW_CLOCK_H
#define AW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t aw_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t aw_mono_ns(void)
{
	return aw_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t aw_real_ns(void)
{
	return aw_clock_ns(CLOCK_REALTIME);
}

#endif
