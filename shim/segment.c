/* Creating, growing, replacing and releasing the per-process segment. */
#include "segment.h"

#include "log.h"
#include "real.h"
#include "clock.h"
#include "probe.h"
#include "segment_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Guarded by the table lock, except aw_segment_now's and
 * aw_segment_base's lock-free reads; publish() sets both. */
struct aw_segment *aw_segment_now;
static const uint32_t no_segment[16] __attribute__((aligned(64))) = {
    UINT32_MAX}; /* above AW_GENERATION_MAX: no generation */
const char *aw_segment_base = (const char *)no_segment;
static struct aw_segment *seg_parent; /* the parent's, after fork */
static int seg_owner_pid;	      /* who created aw_segment_now */
static int seg_shared;		      /* aw_segment_now is in /dev/shm */
static int seg_keep;
static int seg_said_memory;
static int seg_detached;	   /* went on in process memory (detach()) */
static struct aw_segment *seg_map; /* the shared mapping this process made */
/* Stripes handed out in aw_segment_now (and the shared segment it went on
 * from): process memory, as every bound the shim acts on. */
static uint32_t seg_stripes;
static int seg_exec_removed; /* removed for an exec() under way */
static uid_t seg_owner_uid;  /* the segment file's owner */
/* The table's hooks (segment.h): set at each attach, always the same. */
static const struct aw_segment_hooks *seg_hooks;

/* The segment the accept path writes from now on (s NULL: none). */
static void publish(struct aw_segment *s)
{
	__atomic_store_n(&aw_segment_now, s, __ATOMIC_RELEASE);
	__atomic_store_n(&aw_segment_base,
			 s ? (const char *)s : (const char *)no_segment,
			 __ATOMIC_RELEASE);
}

/*
 * The inode of this process's PID namespace, 0 when /proc cannot say. Read
 * once per process (a pid namespace never changes for a process; a child
 * forked after unshare(CLONE_NEWPID) is another pid and reads its own), so
 * the name a segment is released under is the one it was created under,
 * even if /proc goes away in between. A race only reads the same value.
 */
static uint32_t own_pid_ns(void)
{
	static int read_by;
	static uint32_t ns;
	int pid = (int)getpid();

	if (__atomic_load_n(&read_by, __ATOMIC_ACQUIRE) == pid)
		return __atomic_load_n(&ns, __ATOMIC_RELAXED);
	struct stat st;
	uint32_t v =
	    stat("/proc/self/ns/pid", &st) == 0 ? (uint32_t)st.st_ino : 0;
	__atomic_store_n(&ns, v, __ATOMIC_RELAXED);
	__atomic_store_n(&read_by, pid, __ATOMIC_RELEASE);
	return v;
}

/* See the ABI header: the short name in the initial PID namespace (or
 * when the namespace is unknown), the namespace's inode in any other. */
void aw_segment_name(char *name, size_t size, int pid)
{
	uint32_t ns = own_pid_ns();

	if (ns == 0 || ns == AW_PIDNS_INIT_INO)
		snprintf(name, size, "/" AW_SEG_PREFIX "%d", pid);
	else
		snprintf(name, size, "/" AW_SEG_PREFIX "%u.%d", (unsigned)ns,
			 pid);
}

/* How remove_segment_of() may judge a file. */
enum remove_rule {
	REMOVE_OURS_EVEN_KEPT, /* our uid's, ACCEPTWATCH_KEEP or not */
	REMOVE_UNLESS_KEPT,    /* not to be kept; any uid's when we are root */
};

/*
 * Remove the segment under name if it is a plain file that says it belongs
 * to pid, as rule allows. Anything else (another user's file, a link,
 * garbage) is left alone. Returns 0 when removed.
 */
static int remove_segment_of(const char *name, pid_t pid, enum remove_rule rule)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	struct aw_seg_header h;
	uid_t me = geteuid();
	int owner_ok = rule == REMOVE_UNLESS_KEPT && me == 0;
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		 (st.st_uid == me || owner_ok) &&
		 pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		 h.magic == AW_SEG_MAGIC && h.pid == (int32_t)pid &&
		 (rule == REMOVE_OURS_EVEN_KEPT || !(h.flags & AW_SF_KEEP));
	aw_real_close(fd);
	if (!ok)
		return -1;
	return shm_unlink(name);
}

/*
 * A segment of our own name already exists: left by this process before
 * exec(), or by a dead process whose pid we now have. Ours to replace.
 */
static int remove_own_leftover(const char *name)
{
	return remove_segment_of(name, getpid(), REMOVE_OURS_EVEN_KEPT);
}

void aw_segment_reaped(pid_t pid)
{
	char name[AW_SEG_NAME_MAX];
	int saved = errno;
	aw_segment_name(name, sizeof(name), (int)pid);
	/* The child may have dropped root for another user (a worker); a
	 * root parent that reaped it removes what it left all the same. */
	remove_segment_of(name, pid, REMOVE_UNLESS_KEPT);
	errno = saved;
}

/* The kernel's page size (4, 16 or 64 KiB: arm64 and ppc64 kernels differ),
 * which madvise wants ranges to start on. sysconf reads it from the
 * auxiliary vector: no syscall. */
static uintptr_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 && (p & (p - 1)) == 0 ? (uintptr_t)p : 4096;
}

/*
 * Back [offset, offset + len) of the mapped segment with real pages now. A
 * write to a hole of a full tmpfs raises SIGBUS in the writer, the host:
 * populating up front turns that into an error we can handle, and through
 * the mapping needs no descriptor and no permission on the file (the process
 * may have changed its effective uid since). Kernels before 5.14 lack
 * MADV_POPULATE_WRITE: fallocate on the file instead. Returns 0 or an errno.
 */
static int reserve(struct aw_segment *s, size_t offset, size_t len)
{
	uintptr_t page = page_size(), base = (uintptr_t)s;
	uintptr_t from = (base + offset) & ~(page - 1);
	uintptr_t to = (base + offset + len + page - 1) & ~(page - 1);
	int err;
	do
		err = madvise((void *)from, to - from, MADV_POPULATE_WRITE);
	while (err != 0 && (errno == EINTR || errno == EAGAIN));
	/* EFAULT: the write fault would have raised SIGBUS, the tmpfs is
	 * full. Say it the way fallocate would. */
	if (err == 0 || errno != EINVAL)
		return err == 0 ? 0 : errno == EFAULT ? ENOSPC : errno;
	char name[AW_SEG_NAME_MAX];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	int fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	do
		err = posix_fallocate(fd, (off_t)offset, (off_t)len);
	while (err == EINTR);
	aw_real_close(fd);
	return err;
}

/* Backed at creation: the header, the listener table and the ring (about
 * 22 KiB). A stack is backed when it is published (aw_segment_back), a
 * stripe when a listener gets it. */
#define AW_SEG_BACKED offsetof(struct aw_segment, stack)

static struct aw_segment *create_shared(const char *name, int *err)
{
	int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = shm_open(name, flags, 0600);
	if (fd < 0 && errno == EEXIST && remove_own_leftover(name) == 0)
		fd = shm_open(name, flags, 0600);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	void *p = MAP_FAILED;
	*err = 0;
	if (ftruncate(fd, (off_t)AW_SEG_SIZE) != 0)
		*err = errno;
	if (*err == 0) {
		p = mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (p == MAP_FAILED)
			*err = errno;
	}
	aw_real_close(fd);
	if (p != MAP_FAILED) {
		seg_owner_pid = (int)getpid();
		seg_owner_uid = geteuid();
		*err = reserve(p, 0, AW_SEG_BACKED);
		if (*err == 0) {
			__atomic_store_n(&seg_map, p, __ATOMIC_RELAXED);
			return p;
		}
		munmap(p, AW_SEG_SIZE);
	}
	shm_unlink(name);
	return NULL;
}

static struct aw_segment *create_private(void)
{
	void *p = mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* The header this process's segment starts with (its magic 0: the writer
 * publishes it last). */
static struct aw_seg_header header_for(const struct aw_config *c)
{
	struct aw_seg_header h;
	memset(&h, 0, sizeof(h));
	aw_seg_header_layout(&h);
	h.pid = (int32_t)getpid();
	h.pid_start_ticks = aw_probe_start_ticks();
	h.start_real_ns = aw_real_ns();
	h.uid = (uint32_t)geteuid();
	h.pid_ns = own_pid_ns();
	int somaxconn = aw_probe_somaxconn();
	h.somaxconn = somaxconn > 0 ? (uint32_t)somaxconn : 0;
	h.slow_ms = c->slow_ms;
	aw_clock_calibrate();
	h.clock_base_ticks = aw_clock.base_ticks;
	h.clock_base_ns = aw_clock.base_ns;
	h.clock_mult = __atomic_load_n(&aw_clock.mult, __ATOMIC_RELAXED);
	h.flags = (c->keep ? AW_SF_KEEP : 0) | aw_log_seg_flags();
	prctl(PR_GET_NAME, h.comm, 0, 0, 0);
	h.comm[AW_COMM_LEN - 1] = '\0';
	return h;
}

/* The table's hooks: set by the attach that made the segment being written,
 * released or restored. */
static const struct aw_segment_hooks *hooks(void)
{
	return __atomic_load_n(&seg_hooks, __ATOMIC_ACQUIRE);
}

/* The log's flags into the current segment's header (log.h). */
static void set_header_flag(uint32_t flag)
{
	struct aw_segment *s = aw_segment_current();
	if (s != NULL)
		aw_segment_write_header_flag(s, flag);
}

void aw_segment_clock_refined(void)
{
	struct aw_segment *s = aw_segment_now;
	if (s != NULL)
		aw_segment_write_clock_mult(
		    s, __atomic_load_n(&aw_clock.mult, __ATOMIC_RELAXED));
}

struct aw_segment *aw_segment_attach(const struct aw_config *c,
				     const struct aw_segment_hooks *above)
{
	if (aw_segment_now != NULL)
		return aw_segment_now;
	__atomic_store_n(&seg_hooks, above, __ATOMIC_RELEASE);

	/* Given before the header copies the log's flags. A flag the log
	 * sets between that copy and publish() reaches neither (the sink
	 * finds no current segment yet). */
	aw_log_flag_sink(set_header_flag);
	char name[AW_SEG_NAME_MAX];
	int err;
	aw_segment_name(name, sizeof(name), (int)getpid());
	struct aw_segment *s = create_shared(name, &err);
	seg_shared = s != NULL;
	if (s == NULL)
		s = create_private();
	if (err != 0 && !seg_said_memory) {
		aw_log("cannot create shared memory segment %s: %s; "
		       "counting in process memory only%s",
		       name, strerror(err),
		       s ? "" : " (and that failed too: disabled)");
		seg_said_memory = 1;
	}
	if (s == NULL)
		return NULL;
	struct aw_seg_header h = header_for(c);
	aw_segment_write_header(s, &h);
	seg_stripes = 0;
	if (seg_parent != NULL) {
		above->inherit(s, seg_parent);
		munmap(seg_parent, AW_SEG_SIZE);
		seg_parent = NULL;
	}
	seg_keep = c->keep;
	aw_segment_write_magic(s);
	publish(s);
	return s;
}

/*
 * Shared memory ran out (a full or tiny /dev/shm): go on in a private copy
 * of everything backed so far, at the same offsets, so that every offset a
 * thread keeps stays good. The shared segment says when and why it
 * stopped, and stays (a reader shows what it had); it is not unmapped, since
 * a thread may still be finishing a call against it.
 */
static struct aw_segment *detach(struct aw_segment *shared, int err)
{
	struct aw_segment *p = create_private();
	if (p == NULL)
		return NULL;
	/* Only what this process backed: a hole read on a full tmpfs would
	 * raise SIGBUS, whatever the header says. */
	aw_segment_write_private_copy(p, shared, hooks()->stacks_published(),
				      seg_stripes);
	aw_segment_write_detached(shared, aw_real_ns(), err);
	seg_detached = 1;
	aw_log("cannot back more figures with shared memory: %s; counting in "
	       "process memory from now on (the reader shows the figures up "
	       "to now)",
	       strerror(err));
	publish(p);
	return p;
}

struct aw_segment *aw_segment_holding(const void *p)
{
	const char *c = p;
	struct aw_segment *now = aw_segment_current();
	if (now != NULL && c >= (const char *)now &&
	    c < (const char *)now + AW_SEG_SIZE)
		return now;
	struct aw_segment *map = __atomic_load_n(&seg_map, __ATOMIC_RELAXED);
	if (map != NULL && c >= (const char *)map &&
	    c < (const char *)map + AW_SEG_SIZE)
		return map;
	return NULL;
}

int aw_segment_back(struct aw_segment *s, size_t offset, size_t len)
{
	/* Process memory (a segment that could not be shared, or went on
	 * privately) has no holes to fear, and no file of ours behind it. */
	if (s != seg_map || seg_detached)
		return 0;
	return reserve(s, offset, len);
}

uint32_t aw_segment_add_stripe(uint32_t generation)
{
	struct aw_segment *s = aw_segment_now;
	if (s == NULL || seg_stripes >= AW_MAX_STRIPES)
		return 0;
	uint32_t i = seg_stripes;
	size_t off = offsetof(struct aw_segment, stripe[i]);
	if (seg_shared && !seg_detached) {
		int err = reserve(s, off, sizeof(struct aw_stripe));
		if (err != 0 && (s = detach(s, err)) == NULL)
			return 0;
	}
	aw_segment_write_new_stripe(s, i, generation);
	seg_stripes = i + 1;
	return (uint32_t)off;
}

void aw_segment_forked(void)
{
	if (aw_segment_now != NULL)
		seg_parent = aw_segment_now;
	publish(NULL);
	seg_shared = 0;
	seg_detached = 0;
	seg_said_memory = 0;
}

/*
 * shm_unlink as the file's owner. A process that ends while it runs under
 * a temporary effective uid (seteuid(nobody) in a root server) may not
 * remove its owner's file from /dev/shm (sticky): this thread alone takes
 * the owner's id back for the call (a raw setresuid: glibc's changes every
 * thread) and then the one it had. Only when both steps are allowed: the
 * owner is the real or saved uid, and the id it had is one of those too or
 * the owner is root (whose id may take any).
 */
static int unlink_as_owner(const char *name)
{
	uid_t r, e, s, owner = seg_owner_uid;
	if (shm_unlink(name) == 0 || (errno != EACCES && errno != EPERM))
		return 0;
	if (getresuid(&r, &e, &s) != 0 || e == owner ||
	    (owner != r && owner != s) || (owner != 0 && e != r && e != s))
		return -1;
	if (syscall(SYS_setresuid, -1, owner, -1) != 0)
		return -1;
	int ret = shm_unlink(name);
	syscall(SYS_setresuid, -1, e, -1);
	return ret;
}

void aw_segment_release(void)
{
	if (!seg_shared || seg_owner_pid != (int)getpid())
		return;
	if (seg_keep) {
		hooks()->kept_at_exit();
		return;
	}
	char name[AW_SEG_NAME_MAX];
	int saved = errno;
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	unlink_as_owner(name);
	errno = saved;
	seg_shared = 0;
}

void aw_segment_exec(void)
{
	seg_exec_removed = seg_shared && !seg_keep && !seg_detached &&
			   seg_owner_pid == (int)getpid();
	aw_segment_release();
}

/*
 * The segment again under its name, as it was: a new file, backed for
 * what the old one backed, a copy of that, published. The old mapping
 * stays (a thread may be finishing a call against it), its file gone.
 * Caller holds the table lock.
 */
static int restore_after_exec(const char *name)
{
	struct aw_segment *old = aw_segment_now, *p;
	struct aw_segment *old_map = seg_map;
	int err;
	if (old == NULL || (p = create_shared(name, &err)) == NULL)
		return -1;
	/* The stripes as counted in process memory; the stacks' count,
	 * read back, capped (a hostile value only copies more of ours). */
	uint32_t stacks =
	    __atomic_load_n(&old->header.stacks_used, __ATOMIC_RELAXED);
	uint32_t stripes = seg_stripes;
	stacks = stacks < AW_MAX_STACKS ? stacks : AW_MAX_STACKS;
	err = reserve(p, offsetof(struct aw_segment, stack),
		      stacks * sizeof(struct aw_stack));
	if (err == 0)
		err = reserve(p, offsetof(struct aw_segment, stripe),
			      stripes * sizeof(struct aw_stripe));
	if (err != 0) {
		munmap(p, AW_SEG_SIZE);
		shm_unlink(name);
		__atomic_store_n(&seg_map, old_map, __ATOMIC_RELAXED);
		return -1;
	}
	aw_segment_write_private_copy(p, old, stacks, stripes);
	seg_shared = 1;
	publish(p);
	return 0;
}

void aw_segment_exec_failed(void)
{
	if (!seg_exec_removed)
		return;
	seg_exec_removed = 0;
	int saved = errno;
	char name[AW_SEG_NAME_MAX];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	hooks()->lock();
	int ret = restore_after_exec(name);
	hooks()->unlock();
	if (ret != 0)
		aw_log("exec failed, and segment %s could not be made again: "
		       "counting in process memory only",
		       name);
	errno = saved;
}

int aw_segment_give_to(uid_t uid, uid_t *was)
{
	/* A vfork child (this memory, another process) drops root for
	 * itself: the segment stays with the parent's user. */
	struct aw_segment *seg = aw_segment_now;
	if (!seg_shared || seg_owner_pid != (int)getpid() || uid == (uid_t)-1 ||
	    seg == NULL || seg->header.uid == (uint32_t)uid)
		return 0;
	int saved = errno;
	char name[AW_SEG_NAME_MAX];
	aw_segment_name(name, sizeof(name), seg_owner_pid);
	int fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	int given = fd >= 0 && fchown(fd, uid, (gid_t)-1) == 0;
	if (given) {
		*was = (uid_t)seg->header.uid;
		seg_owner_uid = uid;
		aw_segment_write_uid(seg, (uint32_t)uid);
	} else {
		aw_log("cannot give segment %s to uid %u: %s", name,
		       (unsigned)uid, strerror(errno));
	}
	if (fd >= 0)
		aw_real_close(fd);
	errno = saved;
	return given;
}
