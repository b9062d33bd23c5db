/*
 * Call-site stacks, captured raw: return addresses from libunwind, each
 * named by the module it falls in (path, build-id) and its offset there.
 * Nothing is symbolized in the host; the reader does that from the files.
 *
 * libunwind is loaded with dlopen(RTLD_LOCAL) on first use. Linked the usual
 * way, libunwind.so.8 would join the host's global symbol scope, and its weak
 * `backtrace` and its `_Unwind_*` would take the place of glibc's and
 * libgcc's for the host program.
 *
 * The host's descriptors. libunwind 1.6 validates addresses it is unsure of
 * (frames without unwind info) by write()ing a byte from them into a pipe it
 * opens in its one-time init (src/x86_64/Ginit.c, tdep_init_mem_validate), and
 * reopens that pipe on the descriptor numbers it remembers: in a host that
 * closes and reuses descriptors, that reads and writes the host's sockets
 * and files. So the init runs in a clone(CLONE_VM | CLONE_VFORK) child with a
 * descriptor table of its own (the pipe is made and dropped there; the
 * memory it initializes is ours), and the local address space's access_mem
 * is replaced by one that validates with process_vm_readv() on ourselves: a
 * syscall that needs no descriptor and reports EFAULT for an unreadable
 * address. libunwind never reaches its pipe code after that.
 *
 * Locks. Nothing here is called with the table lock held, and the stacks
 * lock below is never held across anything that can take the dynamic
 * loader's lock (dlopen, dl_iterate_phdr, unwinding): those run first,
 * unlocked, into the caller's stack memory; the lock covers only the
 * dedup table and the copy into the segment. Nothing here calls malloc, but
 * the loader allocates on its behalf: in the one dlopen() of libunwind (and
 * its dependencies), and at each thread's first capture, whose unwind has
 * __tls_get_addr allocate libunwind's thread-local block for that thread.
 */
#include "stacks.h"

#include "real.h"

#include "log.h"
#include "segment.h"
#include "segment_writer.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* The validate flag's place in the local address space's argument is
 * libunwind's x86_64 layout (include/tdep-x86_64/libunwind_i.h,
 * AS_ARG_VALIDATE_MASK): other architectures keep stacks off. */
#if defined(__x86_64__)
#define UNW_ARCH "x86_64"
#define UNW_AS_ARG_VALIDATE 0x1ul
#endif

#define RAW_FRAMES (AW_STACK_FRAMES + 16) /* room for the shim's own */
#define MAX_SITES 256
#define CHILD_STACK (64 * 1024)

enum api_state {
	API_UNTRIED = 0,
	API_LOADING = 1,
	API_READY = 2,
	API_OFF = -1,
	API_OFF_FORK = -2, /* forked mid-capture: libunwind's locks unknown */
};

struct unw_api {
	int (*backtrace)(void **buffer, int size);
	unw_accessors_t *(*get_accessors)(unw_addr_space_t as);
	unw_addr_space_t *local_as;
	int (*set_caching_policy)(unw_addr_space_t as,
				  unw_caching_policy_t policy);
};

static struct unw_api api;
static int api_state;	      /* enum api_state, atomic */
static int said_off_fork;     /* the API_OFF_FORK line was logged */
static int capturing;	      /* threads inside aw_stack_capture */
static unw_accessors_t *accs; /* set by the init child */
static char exe_path[AW_MODULE_PATH];

/*
 * The dedup table: a fixed array searched linearly (it holds at most
 * MAX_SITES entries, and is searched once per capture, a rare event).
 * Guarded by stacks_lock; table_pid names the segment its refs point into.
 */
struct site {
	uint64_t hash; /* of the return addresses and the kind */
	uint32_t ref;  /* stack index + 1 in the segment */
};

/* Why the last stack could not be stored (its pages could not be backed:
 * a full /dev/shm); said once, outside the lock. Stacks lock. */
static int backing_err;
static int said_backing;

static struct site sites[MAX_SITES];
static uint32_t sites_used;
static int32_t table_pid;
/* Stacks published in the current segment: process memory, as every bound
 * the shim acts on (the segment's stacks_used is the reader's, and any
 * process of the user may write it). Stacks lock; read atomically. */
static uint32_t stacks_made;
static int stacks_lock; /* a spin lock: held for a lookup or a copy */

static void lock_stacks(void)
{
	while (__atomic_exchange_n(&stacks_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void unlock_stacks(void)
{
	__atomic_store_n(&stacks_lock, 0, __ATOMIC_RELEASE);
}

/*
 * Pages this thread's current capture has read successfully. Once an
 * unwind falls back to the frame-pointer chain, libunwind asks for every
 * later read to be validated; those reads are mostly of the thread's own
 * stack, one or two pages. Reset at each capture: a page readable now may
 * be unmapped by the next one (a thread's stack, freed).
 */
#define VALID_PAGES 4
static __thread uintptr_t valid_page[VALID_PAGES];
static __thread unsigned valid_next;

static int page_known(uintptr_t page)
{
	for (unsigned i = 0; i < VALID_PAGES; i++)
		if (valid_page[i] == page)
			return 1;
	return 0;
}

/*
 * libunwind's access_mem for the local address space, minus the pipe.
 * Addresses it is sure of (arg's validate bit clear) are read directly, as
 * libunwind does; the others through process_vm_readv on our own pid,
 * which copies or fails with EFAULT, touching no descriptor.
 */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
		      int write, void *arg)
{
	uintptr_t first = addr & ~(uintptr_t)4095;
	uintptr_t last = (addr + sizeof(*val) - 1) & ~(uintptr_t)4095;

	(void)as;
	if (write) {
		*(unw_word_t *)addr = *val;
		return 0;
	}
	if (((uintptr_t)arg & UNW_AS_ARG_VALIDATE) == 0 ||
	    (first != 0 && page_known(first) && page_known(last))) {
		*val = *(unw_word_t *)addr;
		return 0;
	}
	struct iovec here = {.iov_base = val, .iov_len = sizeof(*val)};
	struct iovec there = {.iov_base = (void *)addr,
			      .iov_len = sizeof(*val)};
	int saved = errno;
	ssize_t n = process_vm_readv(getpid(), &here, 1, &there, 1, 0);
	errno = saved;
	if (n != (ssize_t)sizeof(*val))
		return -UNW_EINVAL;
	valid_page[valid_next++ % VALID_PAGES] = first;
	if (last != first)
		valid_page[valid_next++ % VALID_PAGES] = last;
	return 0;
}

/*
 * The clone child: runs libunwind's init (unw_get_accessors calls it) in
 * our memory, on its own stack, with its own copy of the descriptor table.
 * Its thread pointer is the suspended parent thread's, as in a vfork.
 */
__attribute__((no_sanitize_address, no_sanitize_thread,
	       no_sanitize_undefined)) static int
init_child(void *arg)
{
	(void)arg;
	accs = api.get_accessors(*api.local_as);
	return 0;
}

static int init_libunwind(void)
{
	static unsigned char child_stack[CHILD_STACK]
	    __attribute__((aligned(16)));
	sigset_t all, old;
	int saved = errno, status;

	/* No handler of the host may run in the child. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Exit signal 0: the host gets no SIGCHLD, and its wait() calls
	 * (without __WALL) do not see the child. */
	pid_t pid = clone(init_child, child_stack + CHILD_STACK,
			  CLONE_VM | CLONE_VFORK, NULL);
	int reaped = pid > 0 && aw_real_waitpid(pid, &status, __WCLONE) == pid;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	if (pid <= 0) {
		aw_log("call-site stacks off: cannot run libunwind's init "
		       "apart from this process's descriptors");
		aw_log_note(AW_SF_STACKS_INIT_FAILED);
		return -1;
	}
	if (!reaped || accs == NULL) {
		/* valgrind, for one, runs a vfork-like clone as a fork: the
		 * init happened in a copy of our memory. */
		aw_log("call-site stacks off: libunwind's init, run in a "
		       "child sharing this memory, did not reach it");
		aw_log_note(AW_SF_STACKS_INIT_FAILED);
		return -1;
	}
	accs->access_mem = access_mem;
	/* libunwind's global cache takes a lock with every signal blocked
	 * (two rt_sigprocmask per lookup); a cache per thread takes none, so
	 * that a capture at a site seen before makes no syscall of its own
	 * (slow events capture while the loop is slow: the probe path). */
	api.set_caching_policy(*api.local_as, UNW_CACHE_PER_THREAD);
	return 0;
}

static void *sym(void *lib, const char *name, int *missing)
{
	void *p = dlsym(lib, name);
	if (p == NULL)
		*missing = 1;
	return p;
}

static int load_api(void)
{
#ifndef UNW_ARCH
	aw_log("call-site stacks off: libunwind's address validation is "
	       "not known for this architecture");
	aw_log_note(AW_SF_STACKS_NO_LIB);
	return -1;
#else
	void *lib = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (lib == NULL) {
		aw_log("call-site stacks off: %s", dlerror());
		aw_log_note(AW_SF_STACKS_NO_LIB);
		return -1;
	}
	int missing = 0;
	api.backtrace =
	    (int (*)(void **, int))sym(lib, "unw_backtrace", &missing);
	api.get_accessors = (unw_accessors_t * (*)(unw_addr_space_t))
	    sym(lib, "_U" UNW_ARCH "_get_accessors", &missing);
	api.local_as = (unw_addr_space_t *)sym(
	    lib, "_UL" UNW_ARCH "_local_addr_space", &missing);
	api.set_caching_policy =
	    (int (*)(unw_addr_space_t, unw_caching_policy_t))sym(
		lib, "_UL" UNW_ARCH "_set_caching_policy", &missing);
	if (missing) {
		aw_log("call-site stacks off: libunwind.so.8 lacks a symbol");
		aw_log_note(AW_SF_STACKS_NO_LIB);
		return -1;
	}
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[n > 0 ? n : 0] = '\0';
	return init_libunwind();
#endif
}

/* Loaded once; a thread that finds another one loading goes without a
 * stack this time rather than wait (it may hold locks the loader needs). */
static int stacks_ready(void)
{
	int state = __atomic_load_n(&api_state, __ATOMIC_ACQUIRE);
	if (state == API_READY)
		return 1;
	if (state == API_OFF_FORK &&
	    !__atomic_exchange_n(&said_off_fork, 1, __ATOMIC_RELAXED)) {
		aw_log("call-site stacks off: forked while a thread was "
		       "capturing one");
		aw_log_note(AW_SF_STACKS_FORKED);
	}
	if (state != API_UNTRIED)
		return 0;
	if (!__atomic_compare_exchange_n(&api_state, &state, API_LOADING, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	state = load_api() == 0 ? API_READY : API_OFF;
	__atomic_store_n(&api_state, state, __ATOMIC_RELEASE);
	return state == API_READY;
}

static uint64_t hash_frames(void *const *ips, int n, uint32_t kind)
{
	uint64_t h = 1469598103934665603ull ^ kind; /* FNV-1a */
	for (int i = 0; i < n; i++) {
		uint64_t v = (uint64_t)(uintptr_t)ips[i];
		for (int b = 0; b < 8; b++) {
			h ^= (v >> (8 * b)) & 0xff;
			h *= 1099511628211ull;
		}
	}
	return h;
}

/* --- modules ------------------------------------------------------------ */

struct lookup {
	void *const *ips;
	int n;
	uintptr_t skip_a, skip_b;	/* inside the shim, inside libunwind */
	int64_t module[RAW_FRAMES];	/* index into st->module, -1 none */
	uint64_t offset[RAW_FRAMES];	/* ip minus the module's load bias */
	unsigned char skip[RAW_FRAMES]; /* in the shim or libunwind */
	struct aw_stack
	    draft; /* the stack, built here before it is published */
};

static int in_load(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && addr >= start &&
		    addr - start < ph->p_memsz)
			return 1;
	}
	return 0;
}

static size_t note_align(size_t n, size_t align)
{
	return (n + align - 1) & ~(align - 1);
}

/* The module's NT_GNU_BUILD_ID, read from its mapped notes. */
static void read_build_id(const struct dl_phdr_info *info, struct aw_module *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t at = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_NOTE || !in_load(info, at) ||
		    !in_load(info, at + ph->p_memsz - 1))
			continue;
		size_t align = ph->p_align == 8 ? 8 : 4, pos = 0;
		while (pos + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
			const ElfW(Nhdr) *nh = (const void *)(at + pos);
			size_t name = pos + sizeof(*nh);
			size_t desc = name + note_align(nh->n_namesz, align);
			size_t next = desc + note_align(nh->n_descsz, align);
			if (next > ph->p_memsz || next <= pos)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID &&
			    nh->n_namesz == 4 &&
			    memcmp((const char *)(at + name), "GNU", 4) == 0 &&
			    nh->n_descsz <= AW_BUILD_ID_MAX) {
				memcpy(m->build_id, (const void *)(at + desc),
				       nh->n_descsz);
				m->build_id_len = nh->n_descsz;
				return;
			}
			pos = next;
		}
	}
}

static void copy_path(char *dst, const char *src)
{
	size_t len = strnlen(src, AW_MODULE_PATH - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int64_t add_module(struct lookup *lk, const struct dl_phdr_info *info)
{
	if (lk->draft.modules >= AW_STACK_MODULES)
		return -1;
	struct aw_module *m = &lk->draft.module[lk->draft.modules];
	memset(m, 0, sizeof(*m));
	/* The loader names every object by the path it mapped, but the
	 * executable, which it names "". */
	const char *name = info->dlpi_name;
	copy_path(m->path, name && name[0] ? name : exe_path);
	read_build_id(info, m);
	return lk->draft.modules++;
}

static int match_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup *lk = arg;
	int64_t index = -2; /* not added yet */
	int skip = in_load(info, lk->skip_a) || in_load(info, lk->skip_b);
	(void)size;
	for (int i = 0; i < lk->n; i++) {
		/* A return address: the call is the byte before it. */
		uintptr_t ip = (uintptr_t)lk->ips[i] - 1;
		if (lk->module[i] != -1 || lk->skip[i] || !in_load(info, ip))
			continue;
		if (skip) {
			lk->skip[i] = 1;
			continue;
		}
		if (index == -2)
			index = add_module(lk, info);
		lk->module[i] = index;
		lk->offset[i] = (uintptr_t)lk->ips[i] - info->dlpi_addr;
		if (index < 0)
			lk->module[i] = -3; /* no room: absolute address */
	}
	return 0;
}

/* The draft's frames and modules from lk's raw return addresses: those of
 * the shim and of libunwind at the top left out. Takes the loader's lock
 * (not ours). */
static void describe(struct lookup *lk)
{
	void *const *ips = lk->ips;
	int n = lk->n;
	lk->skip_a = (uintptr_t)describe;
	lk->skip_b = (uintptr_t)api.backtrace;
	for (int i = 0; i < n; i++)
		lk->module[i] = -1;
	dl_iterate_phdr(match_module, lk);
	int first = 0;
	while (first < n && lk->skip[first])
		first++;
	for (int i = first; i < n && lk->draft.frames < AW_STACK_FRAMES; i++) {
		struct aw_frame *f = &lk->draft.frame[lk->draft.frames++];
		if (lk->module[i] >= 0) {
			f->module = (uint32_t)lk->module[i];
			f->offset = lk->offset[i];
		} else {
			f->module = AW_FRAME_NO_MODULE;
			f->offset = (uint64_t)(uintptr_t)ips[i];
		}
	}
}

/* --- the table ------------------------------------------------------------ */

/* Stacks lock held. The ref of hash, or 0. */
static uint32_t find_site(uint64_t hash)
{
	for (uint32_t i = 0; i < sites_used; i++)
		if (sites[i].hash == hash)
			return sites[i].ref;
	return 0;
}

/* Stacks lock held. Copies draft into the segment's next stack and
 * publishes it. Returns its ref, or 0 when the table is full. */
static uint32_t publish(struct aw_segment *s, const struct aw_stack *draft)
{
	uint32_t idx = stacks_made;
	if (idx >= AW_MAX_STACKS)
		return 0;
	int err = aw_segment_back(s, offsetof(struct aw_segment, stack[idx]),
				  sizeof(struct aw_stack));
	if (err != 0) {
		backing_err = err;
		return 0;
	}
	aw_segment_write_stack(s, idx, draft);
	__atomic_store_n(&stacks_made, idx + 1, __ATOMIC_RELAXED);
	if (sites_used < MAX_SITES)
		sites[sites_used++] = (struct site){draft->hash, idx + 1};
	return idx + 1;
}

/* Stacks lock held. Counts a capture of a known stack; 0 when unknown. */
static uint32_t count_known(struct aw_segment *s, uint64_t hash)
{
	if (table_pid != s->header.pid) {
		/* Another segment (a fork's child made its own): our refs
		 * name stacks it does not hold. */
		sites_used = 0;
		__atomic_store_n(&stacks_made, 0, __ATOMIC_RELAXED);
		table_pid = s->header.pid;
	}
	uint32_t ref = find_site(hash);
	if (ref == 0)
		return 0;
	/* A ref past what this segment published names a stack page it may
	 * never have backed (a segment detached to process memory, a child
	 * that could not copy its parent's stacks): writing its hits could
	 * meet a hole of a full tmpfs, SIGBUS. Forget the table instead. */
	if (ref > stacks_made) {
		sites_used = 0;
		return 0;
	}
	aw_segment_write_stack_hit(s, ref);
	return ref;
}

static uint32_t capture(struct aw_segment *s, uint32_t kind, uint32_t slot)
{
	void *ips[RAW_FRAMES];
	memset(valid_page, 0, sizeof(valid_page));
	int n = api.backtrace(ips, RAW_FRAMES);
	if (n <= 0)
		return 0;
	uint64_t hash = hash_frames(ips, n, kind);

	lock_stacks();
	uint32_t ref = count_known(s, hash);
	unlock_stacks();
	if (ref != 0)
		return ref;

	struct lookup lk;
	memset(&lk, 0, sizeof(lk));
	lk.ips = ips;
	lk.n = n;
	lk.draft.hash = hash;
	lk.draft.kind = kind;
	lk.draft.listener = slot;
	describe(&lk);

	lock_stacks();
	/* Another thread may have published it meanwhile. */
	ref = count_known(s, hash);
	if (ref == 0)
		ref = publish(s, &lk.draft);
	int err = backing_err;
	unlock_stacks();
	if (err != 0 &&
	    !__atomic_exchange_n(&said_backing, 1, __ATOMIC_RELAXED))
		aw_log("call-site stacks: cannot back a stack with shared "
		       "memory: %s; stacks that do not fit are not kept",
		       strerror(err));
	return ref;
}

/* This thread is capturing: a signal handler that calls accept() or
 * listen() in the middle goes without a stack rather than spin on the
 * stacks lock its own thread holds. */
static __thread int in_capture;

uint32_t aw_stack_capture(struct aw_segment *s, uint32_t kind, uint32_t slot)
{
	if (in_capture || !stacks_ready())
		return 0;
	in_capture = 1;
	/* Counted for the fork handler: a fork in here may copy libunwind's,
	 * the loader's or our own lock held, and the table half written. */
	__atomic_fetch_add(&capturing, 1, __ATOMIC_ACQ_REL);
	uint32_t ref = capture(s, kind, slot);
	__atomic_fetch_sub(&capturing, 1, __ATOMIC_ACQ_REL);
	in_capture = 0;
	return ref;
}

void aw_stacks_carry_over(struct aw_segment *to, const struct aw_segment *from,
			  uint32_t slots)
{
	/* As many as the parent had published when it forked: this copy of
	 * its memory says so (its segment may say anything). */
	uint32_t had = __atomic_load_n(&stacks_made, __ATOMIC_RELAXED);
	uint32_t used = had < AW_MAX_STACKS ? had : AW_MAX_STACKS;
	if (used > 0 && aw_segment_back(to, offsetof(struct aw_segment, stack),
					used * sizeof(struct aw_stack)) != 0)
		used = 0; /* a full /dev/shm: the child starts without them */
	aw_segment_write_inherited_stacks(to, from, used);
	/* Who chose the inherited listeners' backlogs. */
	for (uint32_t i = 0; i < slots && i < AW_MAX_LISTENERS; i++) {
		uint32_t ref = from->listener[i].listen_stack;
		if (to->listener[i].state == AW_SLOT_READY && ref <= used)
			aw_segment_write_listen_stack(&to->listener[i], ref);
	}
	/* The dedup table (process memory, inherited) names these same
	 * stacks by the same refs: it holds for the child's segment, unless
	 * the child could not copy them all. */
	lock_stacks();
	table_pid = (int32_t)getpid();
	__atomic_store_n(&stacks_made, used, __ATOMIC_RELAXED);
	if (used < had)
		sites_used = 0;
	unlock_stacks();
}

void aw_stacks_after_fork_child(void)
{
	/* The only thread left: whoever held the lock is gone. A fork
	 * during a load or an unwind may have copied libunwind's (or the
	 * loader's) locks held: no more stacks in this child then. */
	__atomic_store_n(&stacks_lock, 0, __ATOMIC_RELAXED);
	if (__atomic_load_n(&api_state, __ATOMIC_RELAXED) == API_LOADING ||
	    __atomic_load_n(&capturing, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&api_state, API_OFF_FORK, __ATOMIC_RELAXED);
	__atomic_store_n(&capturing, 0, __ATOMIC_RELAXED);
}

uint32_t aw_stacks_published(void)
{
	return __atomic_load_n(&stacks_made, __ATOMIC_RELAXED);
}

void aw_stack_top(const struct aw_segment *s, uint32_t ref, char *out,
		  size_t size)
{
	out[0] = '\0';
	if (ref == 0 || ref > AW_MAX_STACKS)
		return;
	/* Read as any process may have written it: every index and string
	 * bounded. */
	const struct aw_stack *st = &s->stack[ref - 1];
	if (st->frames == 0)
		return;
	const struct aw_frame *f = &st->frame[0];
	uint32_t module = f->module;
	if (module >= st->modules || module >= AW_STACK_MODULES) {
		snprintf(out, size, "0x%llx", (unsigned long long)f->offset);
		return;
	}
	const char *path = st->module[module].path;
	size_t len = strnlen(path, AW_MODULE_PATH);
	const char *slash = memrchr(path, '/', len);
	const char *name = slash ? slash + 1 : path;
	snprintf(out, size, "%.*s+0x%llx", (int)(len - (size_t)(name - path)),
		 name, (unsigned long long)f->offset);
}
