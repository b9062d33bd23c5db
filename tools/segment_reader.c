/*
 * Segment discovery, and what a segment cannot say about its process: the
 * file opened without following links (a FIFO or a link planted under the
 * name refused), decoded (segment_decode.h), then judged against the
 * process: the same process still (pid and start time: pids are reused),
 * alive, stopped, still running the shim, an io_uring ring (a bypass of
 * accept()), and the file's owner one of the process's uids (else planted
 * by another user: forged).
 */
#include "segment_reader.h"

#include "bypass.h"
#include "proc_cache.h"
#include "procinfo.h"
#include "segment_decode.h"
#include "segment_name.h"
#include "stack_names.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Alive iff signal 0 reaches pid (EPERM: it exists but is not ours) and
 * /proc says it started when the segment says: otherwise the pid is free or
 * names a newer process. A header without a start time trusts kill alone.
 * ps: what /proc/PID/stat said (state '?' and all 0 when unreadable).
 */
static int process_alive(pid_t pid, uint64_t start_ticks,
			 struct procinfo_stat *ps)
{
	/* One read of /proc/PID/stat for the state, the start and the
	 * image (proc_cache.h); where /proc hides it (hidepid), signal 0
	 * says whether it runs. */
	if (procinfo_stat_image(pid, ps)) {
		ps->state = '?';
		if (kill(pid, 0) != 0 && errno != EPERM)
			return 0;
		return start_ticks == 0;
	}
	/* A zombie still answers signal 0, but its sockets are closed. */
	if (ps->state == 'Z' || ps->state == 'X')
		return 0;
	return start_ticks == 0 || ps->start_ticks == start_ticks;
}

void segment_snapshot_name(struct model_process *snap)
{
	for (uint32_t i = 0; snap->stack && i < snap->n_stacks; i++)
		stack_names_resolve(&snap->stack[i], snap->pid);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the segment cannot say: is its process still the same one, is it
 * stopped, and its comm when the shim left it empty. st: the segment file
 * as opened; ps: what /proc/PID/stat says, for owner_matches. */
static void add_process_state(struct model_process *snap, const struct stat *st,
			      struct procinfo_stat *ps)
{
	snap->now_mono_ns = clock_ns(CLOCK_MONOTONIC);
	snap->now_real_ns = clock_ns(CLOCK_REALTIME);
	snap->alive =
	    process_alive(snap->pid, snap->header.pid_start_ticks, ps);
	char main_state = ps->state;
	/* Same pid, same process, but it exec'd a program without the shim:
	 * nobody writes the segment any more (unreadable maps: trust the
	 * rest). The shim keeps its segment mapped for the life of the
	 * image: the process maps this very file (device and inode) whatever
	 * the shim's library is called (a copy, a bind mount, an upgrade);
	 * a library named libacceptwatch.so counts too (an image that has
	 * not made its segment yet). The same read tells whether it maps an
	 * io_uring ring, whose accepts never call accept(). */
	unsigned maps = 0;
	int readable = snap->alive && proc_cache_maps(snap->pid, ps, st->st_dev,
						      st->st_ino, &maps) == 0;
	snap->unshimmed =
	    readable && !(maps & (PROCINFO_MAPS_SHIM | PROCINFO_MAPS_SEGMENT));
	if (snap->unshimmed)
		snap->alive = 0;
	if (readable && (maps & PROCINFO_MAPS_IO_URING))
		snap->bypass |= BYPASS_IO_URING;
	/* Every task stopped implies the main one is: only then look at
	 * each task (a directory and a file per thread). */
	snap->stopped = snap->alive &&
			(main_state == 'T' || main_state == 't') &&
			procinfo_stopped(snap->pid) == 1;
	if (!snap->comm[0] && snap->alive)
		procinfo_comm(snap->pid, snap->comm, sizeof(snap->comm));
}

/* Open and fstat the segment file: a regular file, never through a link. */
static int open_segment(struct model_process *snap, struct stat *st, char *err,
			size_t errlen)
{
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];

	snprintf(path, sizeof(path), SEGMENT_DIR "/%s", snap->name);
	/* O_NONBLOCK: a FIFO planted under the name must not hang us. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int missing = errno == ENOENT;
		/* O_NOFOLLOW says ELOOP: name what was refused. */
		snprintf(err, errlen, "%s",
			 errno == ELOOP ? "a symbolic link, not followed"
					: strerror(errno));
		return missing ? SEGMENT_MISSING : SEGMENT_UNREADABLE;
	}
	if (fstat(fd, st)) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		close(fd);
		return SEGMENT_UNREADABLE;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return SEGMENT_UNREADABLE;
	}
	return fd;
}

/*
 * Whether the segment file, owned by owner, can be the running process's:
 * made by the process itself (the shim creates it under the process's
 * effective uid and hands it over when the process drops root), so its
 * owner is one of the process's uids, or root (only root can make a file
 * root's: no other user can have planted it). Anything else was put under
 * the process's name by another user, before the shim could create it:
 * its figures are not the process's. Uids unreadable (the process just
 * exited, hidepid): nothing to compare, the file is taken as before.
 * SEGMENT_OK or SEGMENT_FORGED with err.
 */
static int owner_matches(const struct model_process *snap,
			 const struct stat *st, const struct procinfo_stat *ps,
			 char *err, size_t errlen)
{
	uid_t owner = st->st_uid, euid;

	if (owner == 0 || !snap->alive ||
	    proc_cache_owner(snap->pid, ps, st->st_dev, st->st_ino, owner,
			     &euid) != 0)
		return SEGMENT_OK;
	snprintf(err, errlen,
		 "owned by uid %u, but process %d runs as uid %u: not its "
		 "segment (another user's file under its name), refused",
		 (unsigned)owner, (int)snap->pid, (unsigned)euid);
	return SEGMENT_FORGED;
}

static void snapshot_init(struct model_process *snap,
			  const struct segment_ref *ref)
{
	memset(snap, 0, sizeof(*snap));
	snap->pid = ref->pid;
	snap->ns_pid = ref->ns_pid;
	snap->pid_ns = ref->pid_ns;
	snprintf(snap->name, sizeof(snap->name), "%s", ref->name);
}

/*
 * Whether the process of a segment can be looked for here. A name of a
 * namespace not visible from here, or a short name (the initial
 * namespace's, says the header) read from inside another namespace: its
 * pid means nothing in this /proc. SEGMENT_OK or SEGMENT_HIDDEN with err.
 */
static int visible_here(const struct segment_ref *ref,
			const struct model_process *snap, char *err,
			size_t errlen)
{
	uint32_t ns = ref->pid_ns ? ref->pid_ns : snap->header.pid_ns;

	if (!ref->hidden && !(ref->pid_ns == 0 && snap->header.pid_ns != 0 &&
			      snap->header.pid_ns != segment_own_pid_ns()))
		return SEGMENT_OK;
	snprintf(err, errlen,
		 "written in PID namespace %u, not visible from here: left "
		 "alone",
		 (unsigned)ns);
	return SEGMENT_HIDDEN;
}

int segment_snapshot_ref(const struct segment_ref *ref,
			 struct model_process *snap, char *err, size_t errlen)
{
	struct stat st;
	struct procinfo_stat ps;

	snapshot_init(snap, ref);
	int fd = open_segment(snap, &st, err, errlen);
	if (fd < 0)
		return fd;
	struct segment_source src = {.fd = fd, .size = (uint64_t)st.st_size};
	int ret = segment_decode(&src, st.st_uid, snap, err, errlen);
	close(fd);
	if (ret == SEGMENT_OK)
		ret = visible_here(ref, snap, err, errlen);
	if (ret != SEGMENT_OK || snap->pid == 0)
		return ret; /* pid 0: its process is gone, alive stays 0 */
	add_process_state(snap, &st, &ps);
	return owner_matches(snap, &st, &ps, err, errlen);
}

int segment_snapshot(pid_t pid, struct model_process *snap, char *err,
		     size_t errlen)
{
	struct segment_ref ref;

	segment_ref_of_pid(pid, &ref);
	return segment_snapshot_ref(&ref, snap, err, errlen);
}
