/* What happens around every accept()/accept4() of the host. */
#ifndef AW_ACCEPT_PATH_H
#define AW_ACCEPT_PATH_H

#include "config.h"

#include <sys/socket.h>

/*
 * Call the real accept (use4 = 0) or accept4, measure it, and return exactly
 * what it returned with its errno.
 */
int aw_accept_path(const struct aw_config *c, int fd, struct sockaddr *addr,
		   socklen_t *len, int flags, int use4);

#endif
