/*
 * A hand-made snapshot for the verdict unit tests: one live process (pid
 * 42, slow threshold 50 ms) with one healthy TCP listener (backlog 16 asked
 * and given, somaxconn 4096, the kernel's queue read now and empty, last
 * accept and last probe a second ago). Each test adds the evidence it
 * judges.
 */
#ifndef AW_TEST_VERDICT_FIXTURE_H
#define AW_TEST_VERDICT_FIXTURE_H

#include <string.h>

#include "verdict.h"

#define S 1000000000ull
#define NOW (1000 * S)
#define NOW_REAL (2000 * S)
#define WINDOW (300 * S)

static inline void verdict_fixture(struct model_process *p,
				   struct model_listener *l)
{
	memset(p, 0, sizeof(*p));
	memset(l, 0, sizeof(*l));
	p->pid = 42;
	p->alive = 1;
	p->now_mono_ns = NOW;
	p->now_real_ns = NOW_REAL;
	p->header.pid_start_ticks = 7;
	p->header.start_real_ns = 1500 * S;
	p->header.slow_ms = 50;
	p->listener = l;
	p->n_listeners = 1;
	l->dev = 1;
	l->ino = 99;
	l->flags = AW_LF_TCP;
	l->requested_backlog = 16;
	l->passed_backlog = 16;
	l->effective_backlog = 16;
	l->somaxconn = 4096;
	l->listen_mono_ns = NOW - 100 * S;
	l->accepts = 10;
	l->last_accept_mono_ns = NOW - 1 * S;
	l->sample_mono_ns = NOW - 1 * S;
	l->live.queue_known = 1;
}

#endif
