/* What happens around every listen() of the host. */
#ifndef AW_LISTEN_PATH_H
#define AW_LISTEN_PATH_H

/*
 * Call the real listen with the backlog ACCEPTWATCH_BACKLOG may raise, and
 * on success register the listener (listener_table.h) and its call-site
 * stack. Returns exactly what the real call returned, with its errno.
 */
int aw_listen_path(int fd, int backlog);

#endif
