/* What happens around every listen() of the host (listen_path.h). */
#include "listen_path.h"

#include "accept_path.h"
#include "config.h"
#include "listener_table.h"
#include "real.h"
#include "segment.h"
#include "segment_writer.h"
#include "stacks.h"

#include <errno.h>

/*
 * ACCEPTWATCH_BACKLOG raises, never lowers: a negative backlog already asks
 * the kernel for its maximum ((unsigned) comparison, as __sys_listen does).
 */
static int raised_backlog(const struct aw_config *c, int backlog)
{
	if (c->raise_backlog > 0 && backlog >= 0 && backlog < c->raise_backlog)
		return c->raise_backlog;
	return backlog;
}

int aw_listen_path(int fd, int backlog)
{
	const struct aw_config *c = aw_ready_config();
	int passed = raised_backlog(c, backlog);
	int ret = aw_real_listen(fd, passed);
	if (ret != 0)
		return ret;
	int saved = errno;
	aw_table_lock();
	int slot = aw_table_register(fd, backlog, passed, 0, c);
	aw_table_unlock();
	/* Who chose the backlog: captured without the table lock (the
	 * unwinder may take the loader's). */
	struct aw_segment *s = aw_segment_current();
	if (slot >= 0 && s != NULL)
		aw_segment_write_listen_stack(
		    &s->listener[slot],
		    aw_stack_capture(s, AW_STACK_LISTEN, (uint32_t)slot));
	errno = saved;
	return ret;
}
