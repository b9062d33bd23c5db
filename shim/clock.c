/*
 * Ticks and their rate (clock.h). A reading pairs a tick count with a
 * CLOCK_MONOTONIC read taken between two tick reads; of a few tries the
 * tightest counts, so that an interrupt or a preemption in the middle of
 * one cannot skew the rate.
 */
#include "clock.h"

#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CALIBRATE_MIN_NS 200000u /* the first measure spans 0.2 ms or more */
#define PAIR_TRIES 8

struct aw_clock aw_clock = {.mult = 1ull << 32, .mult20 = 1ull << 20};

/* Whether the kernel keeps time with the time-stamp counter (always, in
 * the test build that runs the TSC copy of the accept path anywhere). */
static int kernel_uses_tsc(void)
{
#ifdef AW_TEST_TSC
	return 1;
#endif
	char buf[16] = "";
	int fd = open("/sys/devices/system/clocksource/clocksource0/"
		      "current_clocksource",
		      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	aw_real_close(fd);
	return n == 4 && memcmp(buf, "tsc\n", 4) == 0;
}

/* One instant on both clocks: the tick count halfway between the two tick
 * reads around the monotonic read, from the tightest of a few tries. */
static void read_pair(uint64_t *ticks, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < PAIR_TRIES; i++) {
		uint64_t a = aw_ticks();
		uint64_t m = aw_mono_ns();
		uint64_t b = aw_ticks();
		if (b - a < best) {
			best = b - a;
			*ticks = a + (b - a) / 2;
			*ns = m;
		}
	}
}

uint64_t aw_ns_to_ticks(uint64_t ns)
{
	uint64_t mult = __atomic_load_n(&aw_clock.mult, __ATOMIC_RELAXED);
	return (uint64_t)(((unsigned __int128)ns << 32) / mult);
}

/* The rate from the base to a reading `ticks` later, `ns` later. */
static void set_rate(uint64_t ticks, uint64_t ns)
{
	if (ticks == 0 || ns == 0)
		return;
	uint64_t mult = (uint64_t)(((unsigned __int128)ns << 32) / ticks);
	__atomic_store_n(&aw_clock.mult, mult, __ATOMIC_RELAXED);
	__atomic_store_n(&aw_clock.mult20, mult >> 12, __ATOMIC_RELAXED);
	__atomic_store_n(&aw_clock.slow_ticks, aw_ns_to_ticks(aw_clock.slow_ns),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&aw_clock.sample_ticks, aw_ns_to_ticks(AW_SAMPLE_NS),
			 __ATOMIC_RELAXED);
}

void aw_clock_init(int allow_tsc, uint64_t slow_ns)
{
	int saved = errno; /* maybe inside a host's call: see lifecycle.c */
	aw_clock.slow_ns = slow_ns;
	aw_clock.slow_ticks = slow_ns;
	aw_clock.sample_ticks = AW_SAMPLE_NS;
#if defined(__x86_64__)
	aw_clock.tsc = allow_tsc && kernel_uses_tsc();
#else
	(void)allow_tsc;
#endif
	if (aw_clock.tsc)
		read_pair(&aw_clock.base_ticks, &aw_clock.base_ns);
	errno = saved;
}

void aw_clock_calibrate(void)
{
	if (!aw_clock.tsc ||
	    __atomic_load_n(&aw_clock.measured, __ATOMIC_RELAXED) != 0)
		return;
	uint64_t ticks, ns;
	do
		read_pair(&ticks, &ns);
	while (ns - aw_clock.base_ns < CALIBRATE_MIN_NS);
	set_rate(ticks - aw_clock.base_ticks, ns - aw_clock.base_ns);
	__atomic_store_n(&aw_clock.measured, ticks - aw_clock.base_ticks,
			 __ATOMIC_RELEASE);
}

int aw_clock_refine(uint64_t now)
{
	uint64_t measured =
	    __atomic_load_n(&aw_clock.measured, __ATOMIC_RELAXED);
	uint64_t since = now - aw_clock.base_ticks;
	if (measured == 0 || since / 2 < measured)
		return 0;
	/* One thread measures; the others go on with the rate they have. */
	if (!__atomic_compare_exchange_n(&aw_clock.measured, &measured, since,
					 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return 0;
	uint64_t ticks, ns;
	read_pair(&ticks, &ns);
	set_rate(ticks - aw_clock.base_ticks, ns - aw_clock.base_ns);
	return 1;
}
