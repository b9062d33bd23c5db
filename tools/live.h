/*
 * Live readings: the kernel's view of each listener at the moment the reader
 * runs, and the STALLED verdict that depends on it.
 */
#ifndef AW_LIVE_H
#define AW_LIVE_H

#include "segment_reader.h"
#include "sockdiag.h"

#include <stdint.h>

/* Another network namespace's dump (a container's), once per run. */
struct live_netns {
	uint64_t dev, ino;
	int dump_ok;
	struct sockdiag_table table;
};

#define LIVE_MAX_NETNS 32

/* What the reader knows about its own network namespace, and about the
 * others its processes are in, once per run. */
struct live_context {
	int have_netns;
	uint64_t netns_dev;
	uint64_t netns_ino;
	int dump_tried;
	int dump_ok;
	struct sockdiag_table table;
	struct live_netns other[LIVE_MAX_NETNS];
	size_t n_other;
};

void live_init(struct live_context *ctx);
void live_free(struct live_context *ctx);

/*
 * Fill every listener's `live` reading and `stalled` verdict in snap:
 * netlink in snap's process's network namespace (ours, or entered through
 * /proc/PID/ns/net when permitted; each dumped lazily, once per context),
 * else /proc/PID/net/tcp{,6} for the queue with the shim's sampled drops
 * (live = 0: said "(sampled)").
 */
void live_apply(struct live_context *ctx, struct model_process *snap);

/*
 * STALLED: connections wait (queue_now > 0), no thread can take them (none
 * in accept, or the process is stopped), and the last accept (the listen
 * when there was none) is older than slow_ms. Closed listeners, listeners
 * without a kernel queue reading and exited processes never stall. Pure.
 */
int live_is_stalled(const struct model_listener *l, int alive, int stopped,
		    uint64_t now_mono_ns, uint32_t slow_ms);

/* The time the listener last made progress: last accept, else listen. */
uint64_t live_last_progress(const struct model_listener *l);

#endif
