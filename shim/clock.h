/*
 * The shim's clocks. Wall-clock and monotonic nanoseconds are vDSO reads.
 * The accept path counts in ticks instead: the CPU's time-stamp counter
 * where the kernel itself keeps time with it (its current clocksource is
 * "tsc", which the kernel picks only once it has found the counter
 * constant-rate, running in every idle state and in step across CPUs), else
 * CLOCK_MONOTONIC nanoseconds. A tick read is one instruction where a vDSO
 * read is some twenty; a difference of ticks becomes nanoseconds with
 * aw_ticks_to_ns().
 *
 * Nanoseconds per tick (mult) are measured against CLOCK_MONOTONIC: first
 * when the process first needs the accept path (aw_clock_calibrate), then
 * again whenever the time since the first reading has doubled
 * (aw_clock_refine, off the hot path), so the error falls as the process
 * runs: about 1e-4 after the first 0.2 ms, 1e-7 after a second.
 */
#ifndef AW_CLOCK_H
#define AW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The accept path's probe interval: one probe per listener per this. */
#define AW_SAMPLE_NS 1000000u

struct aw_clock {
	uint64_t mult;	     /* ns per tick, 32.32 fixed point */
	uint64_t mult20;     /* the same in 12.20 (aw_short_ticks_ns) */
	uint64_t slow_ticks; /* the slow threshold, slow_ns in ticks */
	uint64_t slow_ns;
	uint64_t sample_ticks; /* the probe interval, 1 ms in ticks */
	uint64_t base_ticks;   /* one instant read on both clocks */
	uint64_t base_ns;
	uint64_t measured; /* ticks from base to the last measure, 0 none */
	int tsc;	   /* ticks are the time-stamp counter */
};

/* Written at calibration (and its refinements), read on every accept. */
extern struct aw_clock aw_clock __attribute__((visibility("hidden")));

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

/*
 * A tick read and a tick difference in ns, for a caller that read
 * aw_clock.tsc once (the accept path, which then inlines one of the two
 * kinds with no test left in it).
 */
static inline uint64_t aw_ticks_of(int tsc)
{
#if defined(__x86_64__)
	if (tsc)
		return __builtin_ia32_rdtsc();
#endif
	(void)tsc;
	return aw_mono_ns();
}

/*
 * A short difference of ticks in ns, for the common path: below 2^44 ns (4.9
 * hours), so that the product with mult20 (ns per tick in 12.20 fixed
 * point, below 2^20 for any counter of 1 GHz or more) fits 64 bits; one
 * multiply and one shift, within 3e-6 of aw_ticks_to_ns. mult20: read once
 * by the caller, unused when !tsc.
 */
static inline uint64_t aw_short_ticks_ns(uint64_t ticks, uint64_t mult20,
					 int tsc)
{
	if (!tsc)
		return ticks; /* CLOCK_MONOTONIC: ticks are ns */
	return (ticks * mult20) >> 20;
}

static inline uint64_t aw_ticks(void)
{
	return aw_ticks_of(aw_clock.tsc);
}

/* A difference of ticks in nanoseconds. */
static inline uint64_t aw_ticks_to_ns(uint64_t ticks)
{
	if (!aw_clock.tsc)
		return ticks;
	uint64_t mult = __atomic_load_n(&aw_clock.mult, __ATOMIC_RELAXED);
	return (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
}

/* The slow threshold in ticks (a refinement may change it any time). */
static inline uint64_t aw_slow_ticks(void)
{
	return __atomic_load_n(&aw_clock.slow_ticks, __ATOMIC_RELAXED);
}

/* A tick count as CLOCK_MONOTONIC nanoseconds. */
static inline uint64_t aw_ticks_to_mono(uint64_t t)
{
	return aw_clock.base_ns + aw_ticks_to_ns(t - aw_clock.base_ticks);
}

/* Nanoseconds as ticks (rounded down). */
uint64_t aw_ns_to_ticks(uint64_t ns);

/*
 * Pick the tick source (once, at load): the time-stamp counter when the
 * kernel keeps time with it and ACCEPTWATCH_CLOCK is not "monotonic".
 * Takes its first reading of both clocks.
 */
void aw_clock_init(int allow_tsc, uint64_t slow_ns);

/* Measure ticks per ns for the first time, waiting if need be until
 * 0.2 ms have passed since aw_clock_init. Caller holds the table lock. */
void aw_clock_calibrate(void);

/* Measure again when the time since the base has doubled since the last
 * measure (now: a tick read); a comparison otherwise. Any thread; one
 * measures. Returns 1 when the rate changed. */
int aw_clock_refine(uint64_t now);

#endif
