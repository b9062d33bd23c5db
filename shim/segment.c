/* Creating, replacing and releasing the per-process shared-memory segment. */
#include "segment.h"

#include "log.h"
#include "clock.h"
#include "probe.h"
#include "stacks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Guarded by the table lock, except aw_segment_now's lock-free reads. */
struct aw_segment *aw_segment_now;
static struct aw_segment *seg_parent; /* the parent's, after fork */
static int seg_owner_pid;	      /* who created aw_segment_now */
static int seg_shared;		      /* aw_segment_now is in /dev/shm */
static int seg_keep;
static int seg_said_memory;

void aw_segment_name(char *name, size_t size, int pid)
{
	snprintf(name, size, "/" AW_SEG_PREFIX "%d", pid);
}

/*
 * A segment of our own name already exists. It is ours to replace only if it
 * is a plain file of our uid that says it belongs to our pid: left by this
 * process before exec(), or by a dead process whose pid we now have. Anything
 * else (another user's file, a link, garbage) is left alone.
 */
static int remove_own_leftover(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	struct aw_seg_header h;
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		 st.st_uid == geteuid() &&
		 pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		 h.magic == AW_SEG_MAGIC && h.pid == (int32_t)getpid();
	close(fd);
	if (!ok)
		return -1;
	return shm_unlink(name);
}

/*
 * Back [offset, offset + len) of the segment with real pages now. A write to
 * a hole of a full tmpfs raises SIGBUS in the writer, the host: reserving
 * up front turns that into an error we can handle. Only the parts in use are
 * reserved (the header, events and stacks at creation; a listener slot when
 * it is claimed), so an idle table costs no memory. Returns 0 or an errno.
 */
static int reserve(int fd, size_t offset, size_t len)
{
	int err;
	do
		err = posix_fallocate(fd, (off_t)offset, (off_t)len);
	while (err == EINTR);
	return err;
}

static int reserve_fixed_parts(int fd)
{
	size_t listeners = offsetof(struct aw_segment, listener);
	size_t events = offsetof(struct aw_segment, event);
	int err = reserve(fd, 0, listeners);
	return err ? err : reserve(fd, events, AW_SEG_SIZE - events);
}

static struct aw_segment *create_shared(const char *name)
{
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = shm_open(name, flags, 0600);
	if (fd < 0 && errno == EEXIST && remove_own_leftover(name) == 0)
		fd = shm_open(name, flags, 0600);
	if (fd < 0)
		return NULL;
	void *p = MAP_FAILED;
	int err = 0;
	if (ftruncate(fd, (off_t)AW_SEG_SIZE) != 0)
		err = errno;
	if (err == 0)
		err = reserve_fixed_parts(fd);
	if (err == 0) {
		p = mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (p == MAP_FAILED)
			err = errno;
	}
	close(fd);
	if (p != MAP_FAILED)
		return p;
	shm_unlink(name);
	errno = err;
	return NULL;
}

int aw_segment_reserve_slot(uint32_t slot)
{
	if (!seg_shared)
		return 0;
	char name[32];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	int fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	size_t offset = offsetof(struct aw_segment, listener) +
			(size_t)slot * sizeof(struct aw_listener);
	int err = reserve(fd, offset, sizeof(struct aw_listener));
	close(fd);
	return err;
}

static struct aw_segment *create_private(void)
{
	void *p = mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void fill_header(struct aw_segment *s, const struct aw_config *c)
{
	struct aw_seg_header *h = &s->header;
	aw_seg_header_layout(h);
	h->pid = (int32_t)getpid();
	h->pid_start_ticks = aw_probe_start_ticks();
	h->start_real_ns = aw_real_ns();
	h->uid = (uint32_t)geteuid();
	int somaxconn = aw_probe_somaxconn();
	h->somaxconn = somaxconn > 0 ? (uint32_t)somaxconn : 0;
	h->slow_ms = c->slow_ms;
	h->flags = c->keep ? AW_SF_KEEP : 0;
	prctl(PR_GET_NAME, h->comm, 0, 0, 0);
	h->comm[AW_COMM_LEN - 1] = '\0';
}

/*
 * The child keeps the parent's listeners (same sockets, same backlogs) with
 * its own, zeroed, counters; the fd map, inherited as process memory, keeps
 * naming the same slots. Returns 0, or an errno when a slot could not be
 * backed by memory (the segment must not be used then).
 */
static int carry_over(struct aw_segment *to, const struct aw_segment *from)
{
	to->header.parent_pid = (int32_t)getppid();
	uint32_t used = from->header.listeners_used;
	for (uint32_t i = 0; i < used && i < AW_MAX_LISTENERS; i++) {
		const struct aw_listener *src = &from->listener[i];
		struct aw_listener *dst = &to->listener[i];
		int err = aw_segment_reserve_slot(i);
		if (err != 0)
			return err;
		if (src->state != AW_SLOT_READY)
			continue;
		memcpy(dst, src,
		       offsetof(struct aw_listener, next_sample_mono_ns));
		dst->seq = 0;
		dst->flags |= AW_LF_INHERITED;
		__atomic_store_n(&dst->state, AW_SLOT_READY, __ATOMIC_RELEASE);
	}
	to->header.listeners_used = used;
	aw_stacks_carry_over(to, from);
	return 0;
}

/* Shared memory when it can be had, else process memory. Sets seg_shared
 * and seg_owner_pid (aw_segment_reserve_slot needs them). */
static struct aw_segment *create(const char *name, int *err)
{
	struct aw_segment *s = create_shared(name);
	seg_shared = s != NULL;
	seg_owner_pid = (int)getpid();
	*err = s ? 0 : errno;
	return s ? s : create_private();
}

static void unlink_shared(struct aw_segment *s, const char *name)
{
	munmap(s, AW_SEG_SIZE);
	shm_unlink(name);
	seg_shared = 0;
}

struct aw_segment *aw_segment_attach(const struct aw_config *c)
{
	if (aw_segment_now != NULL)
		return aw_segment_now;

	char name[32];
	int err;
	aw_segment_name(name, sizeof(name), (int)getpid());
	struct aw_segment *s = create(name, &err);
	if (s != NULL && seg_parent != NULL &&
	    (err = carry_over(s, seg_parent)) != 0) {
		unlink_shared(s, name);
		s = create_private();
		if (s != NULL)
			carry_over(s, seg_parent);
	}
	if (err != 0 && !seg_said_memory) {
		aw_log("cannot create shared memory segment %s: %s; "
		       "counting in process memory only%s",
		       name, strerror(err),
		       s ? "" : " (and that failed too: disabled)");
		seg_said_memory = 1;
	}
	if (s == NULL)
		return NULL;
	fill_header(s, c);
	if (seg_parent != NULL) {
		munmap(seg_parent, AW_SEG_SIZE);
		seg_parent = NULL;
	}
	seg_keep = c->keep;
	/* The magic last: a reader that sees it sees a complete header. */
	__atomic_store_n(&s->header.magic, AW_SEG_MAGIC, __ATOMIC_RELEASE);
	__atomic_store_n(&aw_segment_now, s, __ATOMIC_RELEASE);
	return s;
}

int aw_segment_forked(void)
{
	if (aw_segment_now != NULL)
		seg_parent = aw_segment_now;
	aw_segment_now = NULL;
	seg_shared = 0;
	seg_said_memory = 0;
	return seg_parent != NULL && seg_parent->header.listeners_used > 0;
}

void aw_segment_release(void)
{
	if (!seg_shared || seg_keep || seg_owner_pid != (int)getpid())
		return;
	char name[32];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	shm_unlink(name);
	seg_shared = 0;
}

void aw_segment_give_to(uid_t euid)
{
	/* A vfork child (this memory, another process) drops root for
	 * itself: the segment stays with the parent's user. */
	if (!seg_shared || seg_owner_pid != (int)getpid() ||
	    euid == (uid_t)-1 || geteuid() != 0 || aw_segment_now == NULL ||
	    aw_segment_now->header.uid == (uint32_t)euid)
		return;
	char name[32];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	int fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (fchown(fd, euid, (gid_t)-1) == 0)
		__atomic_store_n(&aw_segment_now->header.uid, (uint32_t)euid,
				 __ATOMIC_RELAXED);
	else
		aw_log("cannot give segment %s to uid %u: %s", name,
		       (unsigned)euid, strerror(errno));
	close(fd);
}

void aw_segment_write_begin(struct aw_listener *l)
{
	/* An acquire RMW: no later store to the fields may be seen before
	 * the odd seq that tells readers a write is under way. */
	__atomic_fetch_add(&l->seq, 1, __ATOMIC_ACQ_REL);
}

void aw_segment_write_end(struct aw_listener *l)
{
	uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->seq, seq + 1, __ATOMIC_RELEASE);
}
