/* What happens around every accept()/accept4() of the host. */
#ifndef AW_ACCEPT_PATH_H
#define AW_ACCEPT_PATH_H

#include "config.h"
#include "lifecycle.h"

#include <sys/socket.h>

/*
 * Call the real accept or accept4, measure it, and return exactly what it
 * returned, with its errno. Configuration: aw_config.
 */
int aw_accept_path(int fd, struct sockaddr *addr, socklen_t *len);
int aw_accept4_path(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* At load, once the clock is chosen: the thread-exit hook that lowers a
 * cancelled thread's count, and the common path's copy for that clock. */
void aw_accept_path_init(void);

/* In a forked child: the calling thread's state refers to the parent's
 * stripes; it starts over. */
void aw_accept_path_forked(void);

/* The two above, as the life cycle's hooks (lifecycle.h). */
extern const struct aw_life_above aw_accept_path_life
    __attribute__((visibility("hidden")));

/*
 * The configuration, the library started (lifecycle.h, aw_life_ready, with
 * the accept path's hooks): what every wrapper that may come first calls.
 * Cheap once started.
 */
const struct aw_config *aw_ready_config(void);

#endif
