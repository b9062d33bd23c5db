/*
 * What watch reports, built before anything is printed: for each process
 * sampled, the same snapshot a segment gives (so every renderer and the
 * verdict code work on it unchanged), marked as sampled, with the thread
 * breakdown, the verdicts and what the samples cannot tell.
 */
#ifndef AW_WATCH_MODEL_H
#define AW_WATCH_MODEL_H

#include "report.h"
#include "sampler.h"
#include "model.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>

#define WATCH_NOTES 8
#define WATCH_NOTE_LEN 320

struct watch_listener_verdicts {
	struct verdict v[VERDICT_KINDS];
	int n;
	uint64_t away_mean_ns; /* 0: no accept thread seen */
};

/* The sampled side of one process's snapshot (model_process.sampled). */
struct watch_view {
	const struct sampler *s;
	const struct sampler_proc *p;
	struct watch_listener_verdicts *lv; /* one per listener, heap */
	int threads_known; /* syscall or wchan said what threads did */
	char note[WATCH_NOTES][WATCH_NOTE_LEN]; /* what it cannot know */
	size_t n_notes;
};

struct watch_model {
	struct report r; /* proc[i].sampled = &view[i] */
	struct watch_view *view;
};

/* The model of sampler s after its last tick (and sampler_finish). 0, or
 * -1 when out of memory. Release with watch_model_free() either way. */
int watch_model_build(struct watch_model *m, const struct sampler *s);

void watch_model_free(struct watch_model *m);

/* The verdict window of listener l over the whole watch (the deltas the
 * samples saw). Pure. */
void watch_model_window(const struct sampler *s, const struct sampler_proc *p,
			const struct sampler_listener *l,
			struct verdict_window *w);

#endif
