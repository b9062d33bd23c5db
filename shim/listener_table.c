/* The listener table: fd map, slots per socket, listener descriptions. */
#include "listener_table.h"

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "real.h"
#include "segment.h"
#include "segment_writer.h"
#include "stacks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Descriptors past the flat map: pages of AW_FD_MAP bytes, made on demand
 * and never freed; up to 2^30 descriptors (the kernel's nr_open ceiling). */
#define FAR_PAGES (1u << 14)

uint8_t aw_fd_slot[AW_FD_MAP_SPAN] __attribute__((aligned(AW_WIPE_ALIGN)));
/*
 * Wiped in every child too (MADV_WIPEONFORK): the far pages' addresses (the
 * pages themselves are not: a child without them knows no far descriptor),
 * and `own`, set at load and by the fork handler: 0 in a child made without
 * fork handlers.
 */
struct wiped_state {
	uint8_t *far_page[FAR_PAGES];
	uint32_t own;
};
static union {
	struct wiped_state s;
	char span[(sizeof(struct wiped_state) + AW_WIPE_ALIGN - 1) /
		  AW_WIPE_ALIGN * AW_WIPE_ALIGN];
} wiped __attribute__((aligned(AW_WIPE_ALIGN)));
static uint8_t **const far_page = wiped.s.far_page;
/* What a forked child gets back: the flat map's bytes up to the highest
 * descriptor ever mapped, and the far pages' addresses up to the highest
 * page made. */
static uint8_t fd_slot_kept[AW_FD_MAP];
static uint8_t *far_page_kept[FAR_PAGES];
static uint32_t fd_high, far_high;

/*
 * Per slot, process memory. fds: how many descriptors map to the slot (the
 * socket is open here while it is not 0); lock-free, like the map. rep_fd:
 * one of them, for probes that need any (-1 none). gen: the slot's
 * generation. closed_at: when it closed (a tick of closes), to reuse the
 * longest closed first. gen and claims: table lock.
 */
static uint32_t slot_fds[AW_MAX_LISTENERS];
static int slot_rep_fd[AW_MAX_LISTENERS] = {[0 ... AW_MAX_LISTENERS - 1] = -1};
static uint32_t slot_gen[AW_MAX_LISTENERS];
static uint64_t slot_closed_at[AW_MAX_LISTENERS];
/* The socket each slot was described for (st_dev, st_ino), set under the
 * table lock at register, read lock-free by aw_table_names_slot. */
static uint64_t slot_dev[AW_MAX_LISTENERS];
static uint64_t slot_ino[AW_MAX_LISTENERS];
static uint64_t close_ticks;
/*
 * What the table acts on, in process memory: the segment is a mirror the
 * shim writes, which any process of the user may write too (its figures
 * may be wrong, never a bound, an index or an offset of ours). slots_used:
 * slots claimed so far (release after the slot's generation; any thread
 * reads it). Under the table lock, per slot: its stripes' offsets
 * (slot_stripe, 0 none yet; the last the shared one) and which thread owns
 * each (stripe_owner, 0 none; cleared lock-free at thread exit); per
 * stripe of the segment (by index), the slot it serves (stripe_slot, read
 * lock-free: a stripe never changes slot). A forked child starts these
 * afresh (aw_table_reset_lock): its segment makes stripes of its own.
 */
static uint32_t slots_used;
static uint32_t slot_stripe[AW_MAX_LISTENERS][AW_STRIPES];
static int32_t stripe_owner[AW_MAX_LISTENERS][AW_STRIPES];
static uint8_t stripe_slot[AW_MAX_STRIPES];
static int said_full;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* The process this table describes: set at the first register and in a
 * forked child (0: nothing registered yet, so nothing to forget). */
static pid_t table_pid;

/*
 * Nothing that can take the dynamic loader's lock may run under the table
 * lock: a library constructor that listens runs with the loader's lock held
 * and then wants this one. Binding the real functions (dlsym) is done
 * before, so that no call made under the lock binds.
 */
void aw_table_lock(void)
{
	aw_real_bind();
	pthread_mutex_lock(&table_lock);
}

void aw_table_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

void aw_table_reset_lock(void)
{
	pthread_mutex_init(&table_lock, NULL);
	__atomic_store_n(&table_pid, getpid(), __ATOMIC_RELAXED);
	/* The fd map as the parent had it at fork (wiped here). */
	uint32_t high = __atomic_load_n(&fd_high, __ATOMIC_RELAXED);
	if (high < AW_FD_MAP)
		memcpy(aw_fd_slot, fd_slot_kept, high + 1u);
	uint32_t pages = __atomic_load_n(&far_high, __ATOMIC_RELAXED);
	if (pages > 0 && pages < FAR_PAGES)
		memcpy(far_page, far_page_kept,
		       (pages + 1u) * sizeof(*far_page));
	__atomic_store_n(&wiped.s.own, 1, __ATOMIC_RELEASE);
	memset(slot_stripe, 0, sizeof(slot_stripe));
	memset(stripe_owner, 0, sizeof(stripe_owner));
	memset(stripe_slot, 0, sizeof(stripe_slot));
}

int aw_table_wipe_on_fork(void)
{
	__atomic_store_n(&wiped.s.own, 1, __ATOMIC_RELEASE);
	if (madvise(aw_fd_slot, sizeof(aw_fd_slot), MADV_WIPEONFORK) != 0 ||
	    madvise(&wiped, sizeof(wiped), MADV_WIPEONFORK) != 0)
		return errno;
	return 0;
}

int aw_table_unforked(void)
{
	return !__atomic_load_n(&wiped.s.own, __ATOMIC_ACQUIRE);
}

uint32_t aw_table_slots_used(void)
{
	uint32_t used = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);
	return used < AW_MAX_LISTENERS ? used : AW_MAX_LISTENERS;
}

/* A child of vfork() (or clone with CLONE_VM), until it execs, runs in this
 * very memory: what it closes or dups are its own descriptors, never this
 * process's listeners, so it must change nothing here. */
static int in_vfork_child(void)
{
	pid_t owner = __atomic_load_n(&table_pid, __ATOMIC_RELAXED);
	return owner != 0 && getpid() != owner;
}

static void raise_high(uint32_t *high, uint32_t v)
{
	uint32_t cur = __atomic_load_n(high, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange_n(high, &cur, v, 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/* Set fd's map byte b to v, returning what it was; the flat map's copy
 * that forked children get back follows (far pages are not wiped). */
static uint8_t set_byte(int fd, uint8_t *b, uint8_t v)
{
	if (fd < AW_FD_MAP) {
		__atomic_store_n(&fd_slot_kept[fd], v, __ATOMIC_RELAXED);
		raise_high(&fd_high, (uint32_t)fd);
	}
	return __atomic_exchange_n(b, v, __ATOMIC_RELAXED);
}

/* The map byte of fd; with make, a far page is made when missing (NULL
 * only when it cannot be). Lock-free: two threads making one page keep
 * the first. */
static uint8_t *map_byte(int fd, int make)
{
	if (fd < 0)
		return NULL;
	if (fd < AW_FD_MAP)
		return &aw_fd_slot[fd];
	uint32_t page = (uint32_t)fd / AW_FD_MAP;
	if (page >= FAR_PAGES)
		return NULL;
	uint8_t *p = __atomic_load_n(&far_page[page], __ATOMIC_ACQUIRE);
	if (p == NULL && make) {
		void *m = mmap(NULL, AW_FD_MAP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		uint8_t *none = NULL;
		if (__atomic_compare_exchange_n(&far_page[page], &none, m, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			p = m;
			__atomic_store_n(&far_page_kept[page], p,
					 __ATOMIC_RELEASE);
			raise_high(&far_high, page);
		} else {
			munmap(m, AW_FD_MAP);
			p = none;
		}
	}
	return p ? p + (uint32_t)fd % AW_FD_MAP : NULL;
}

uint8_t aw_table_far_byte(int fd)
{
	const uint8_t *b = map_byte(fd, 0);
	return b ? __atomic_load_n(b, __ATOMIC_RELAXED) : 0;
}

int aw_table_lookup(int fd)
{
	const uint8_t *b = map_byte(fd, 0);
	uint8_t v = b ? __atomic_load_n(b, __ATOMIC_RELAXED) : 0;
	if (v == 0)
		return AW_NO_SLOT;
	return v == AW_FD_IGNORED ? AW_IGNORED : (int)v - 1;
}

int aw_table_slot_open(uint32_t slot)
{
	return slot < AW_MAX_LISTENERS &&
	       __atomic_load_n(&slot_fds[slot], __ATOMIC_RELAXED) > 0;
}

uint32_t aw_table_generation(uint32_t slot)
{
	return __atomic_load_n(&slot_gen[slot], __ATOMIC_RELAXED);
}

/*
 * The map bytes naming slot, flat map then far pages, skipping fd except:
 * with clear, each is cleared and -1 returned; without, the first one's
 * descriptor is returned (-1 none). A whole scan: only for rare events.
 */
static int scan_slot(uint32_t slot, int except, int clear)
{
	uint8_t want = (uint8_t)(slot + 1);
	/* Page 0 is the flat map; far_page[0] is never made. */
	for (uint32_t p = 0; p < FAR_PAGES; p++) {
		uint8_t *pg =
		    p == 0 ? aw_fd_slot
			   : __atomic_load_n(&far_page[p], __ATOMIC_ACQUIRE);
		uint32_t base = p * AW_FD_MAP;
		for (uint32_t i = 0; pg != NULL && i < AW_FD_MAP; i++) {
			int fd = (int)(base + i);
			if (fd == except ||
			    __atomic_load_n(&pg[i], __ATOMIC_RELAXED) != want)
				continue;
			if (!clear)
				return fd;
			set_byte(fd, &pg[i], 0);
		}
	}
	return -1;
}

/* Another descriptor of slot's socket, or -1: when the descriptor probes
 * used closes while others stay open. */
static int other_fd(uint32_t slot, int except)
{
	return scan_slot(slot, except, 0);
}

void aw_table_unmap_slot(uint32_t slot)
{
	scan_slot(slot, -1, 1);
	__atomic_store_n(&slot_fds[slot], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot_rep_fd[slot], -1, __ATOMIC_RELAXED);
}

static void mirror_fds(uint32_t slot, uint32_t n, int rep)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	aw_segment_write_fds(&s->listener[slot], n, rep);
}

void aw_table_read_drops(struct aw_listener *l, int fd)
{
	int saved = errno;
	uint64_t drops;
	if (aw_probe_drops(fd, &drops) == 0)
		aw_segment_write_drops(l, drops, aw_mono_ns());
	errno = saved;
}

/* fd no longer names slot's socket here. The last descriptor closes the
 * slot; the one probes used hands over to another. With still_names, fd
 * names the socket yet (it is about to close): its last drop count is read
 * there. */
static void leave_slot(uint32_t slot, int fd, int still_names)
{
	uint32_t n = __atomic_sub_fetch(&slot_fds[slot], 1, __ATOMIC_ACQ_REL);
	int rep = __atomic_load_n(&slot_rep_fd[slot], __ATOMIC_RELAXED);
	if (n > 0 && rep == fd) {
		rep = other_fd(slot, fd);
		__atomic_store_n(&slot_rep_fd[slot], rep, __ATOMIC_RELAXED);
	}
	mirror_fds(slot, n, n > 0 ? rep : -1);
	if (n > 0)
		return;
	__atomic_store_n(&slot_rep_fd[slot], -1, __ATOMIC_RELAXED);
	__atomic_store_n(&slot_closed_at[slot],
			 __atomic_add_fetch(&close_ticks, 1, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	struct aw_listener *l = &s->listener[slot];
	if (still_names)
		aw_table_read_drops(l, fd);
	aw_segment_write_flag_set(l, AW_LF_CLOSED);
}

void aw_table_final_drops(void)
{
	struct aw_segment *s = aw_segment_current();
	uint32_t used = s ? aw_table_slots_used() : 0;
	for (uint32_t i = 0; i < used; i++) {
		int fd = __atomic_load_n(&slot_rep_fd[i], __ATOMIC_RELAXED);
		struct aw_listener *l = &s->listener[i];
		if (fd >= 0)
			aw_table_read_drops(l, fd);
	}
}

/* fd names slot's socket from now on (v: the map byte, slot + 1 or
 * AW_FD_IGNORED); whatever fd named before leaves its slot (still_names:
 * leave_slot). */
static void map_fd_as(int fd, uint8_t v, int still_names)
{
	uint8_t *b = map_byte(fd, 1);
	if (b == NULL || __atomic_load_n(b, __ATOMIC_RELAXED) == v)
		return;
	if (v != 0 && v != AW_FD_IGNORED) {
		uint32_t slot = v - 1u;
		uint32_t n =
		    __atomic_add_fetch(&slot_fds[slot], 1, __ATOMIC_ACQ_REL);
		int none = -1;
		__atomic_compare_exchange_n(&slot_rep_fd[slot], &none, fd, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		mirror_fds(slot, n, -1);
	}
	uint8_t old = set_byte(fd, b, v);
	if (old != 0 && old != AW_FD_IGNORED)
		leave_slot(old - 1u, fd, still_names);
}

static void map_fd(int fd, uint8_t v)
{
	map_fd_as(fd, v, 1);
}

void aw_table_forget_fd(int fd)
{
	uint8_t *b = map_byte(fd, 0);
	if (b == NULL || __atomic_load_n(b, __ATOMIC_RELAXED) == 0)
		return; /* not a listener: the common close */
	/* A listener's number from here on: rare enough for a getpid(). */
	if (in_vfork_child())
		return;
	map_fd(fd, 0);
}

int aw_table_names_slot(uint32_t slot, int fd)
{
	struct stat st;
	int saved = errno;
	int known = slot < AW_MAX_LISTENERS && fstat(fd, &st) == 0;
	errno = saved;
	if (!known)
		return 1; /* the accept itself will say what fd is */
	return (uint64_t)st.st_dev ==
		   __atomic_load_n(&slot_dev[slot], __ATOMIC_RELAXED) &&
	       (uint64_t)st.st_ino ==
		   __atomic_load_n(&slot_ino[slot], __ATOMIC_RELAXED);
}

void aw_table_forget_moved(int fd)
{
	const uint8_t *b = map_byte(fd, 0);
	if (b == NULL || __atomic_load_n(b, __ATOMIC_RELAXED) == 0 ||
	    in_vfork_child())
		return;
	map_fd_as(fd, 0, 0);
}

void aw_table_forget_range(unsigned int first, unsigned int last)
{
	unsigned int end = last < AW_FD_MAP - 1u ? last : AW_FD_MAP - 1u;
	for (unsigned int fd = first; fd <= end; fd++)
		if (__atomic_load_n(&aw_fd_slot[fd], __ATOMIC_RELAXED) != 0)
			aw_table_forget_fd((int)fd);
	if (last < AW_FD_MAP)
		return;
	uint32_t from = first > AW_FD_MAP ? first / AW_FD_MAP : 1;
	for (uint32_t p = from; p < FAR_PAGES && p <= last / AW_FD_MAP; p++) {
		const uint8_t *pg =
		    __atomic_load_n(&far_page[p], __ATOMIC_ACQUIRE);
		for (uint32_t i = 0; pg != NULL && i < AW_FD_MAP; i++) {
			unsigned int fd = p * AW_FD_MAP + i;
			if (fd >= first && fd <= last &&
			    __atomic_load_n(&pg[i], __ATOMIC_RELAXED) != 0)
				aw_table_forget_fd((int)fd);
		}
	}
}

void aw_table_dup(int oldfd, int newfd)
{
	if (oldfd == newfd || in_vfork_child())
		return;
	int slot = aw_table_lookup(oldfd);
	if (slot >= 0)
		map_fd(newfd, (uint8_t)(slot + 1));
	else
		aw_table_forget_fd(newfd);
}

/* When slot closed (a tick of closes): written by close() with no lock. */
static uint64_t closed_at(uint32_t slot)
{
	return __atomic_load_n(&slot_closed_at[slot], __ATOMIC_RELAXED);
}

/* An open or closed READY slot for the socket (dev, ino): a descriptor of
 * a socket tracked before (a dup the shim did not see, one passed over a
 * Unix socket) joins its row. The most recent wins. */
static int find_socket(const struct aw_segment *s, const struct aw_sock_id *id)
{
	int found = -1;
	uint64_t found_at = 0;
	uint32_t used = aw_table_slots_used();
	for (uint32_t i = 0; i < used; i++) {
		const struct aw_listener *l = &s->listener[i];
		if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) !=
			AW_SLOT_READY ||
		    l->dev != id->dev || l->ino != id->ino)
			continue;
		uint64_t at = closed_at(i);
		if (found < 0 || aw_table_slot_open(i) || at > found_at) {
			found = (int)i;
			found_at = at;
		}
		if (aw_table_slot_open(i))
			break;
	}
	return found;
}

static int said_lost_memory;

static int lose_listener(struct aw_segment *s)
{
	aw_segment_write_listener_lost(s);
	return -1;
}

/* No thread of this process is inside accept() on the slot's stripes (one
 * still blocked on a descriptor another thread closed would count on). */
static int slot_idle(const struct aw_segment *s, uint32_t slot)
{
	for (uint32_t k = 0; k < AW_STRIPES; k++) {
		uint32_t ref = slot_stripe[slot][k];
		const struct aw_stripe *st =
		    (const struct aw_stripe *)((const char *)s + ref);
		if (ref != 0 &&
		    __atomic_load_n(&st->in_accept, __ATOMIC_RELAXED))
			return 0;
	}
	return 1;
}

/* The slot closed longest ago and idle, or -1. */
static int reusable_slot(const struct aw_segment *s)
{
	int best = -1;
	uint64_t best_at = 0;
	uint32_t used = aw_table_slots_used();
	for (uint32_t i = 0; i < used; i++) {
		if (aw_table_slot_open(i) || !slot_idle(s, i))
			continue;
		uint64_t at = closed_at(i);
		if (best < 0 || at < best_at) {
			best = (int)i;
			best_at = at;
		}
	}
	return best;
}

/*
 * A closed slot taken for another socket: a new generation, and the old
 * socket's figures gone from the head and from the stripes no thread owns
 * (they stay the slot's, so that reuse costs no memory). An owned stripe
 * is its thread's alone to write but for its generation, which goes to 0
 * (no generation's): the owner's next call then leaves the common path and
 * restarts it (aw_table_claim_stripe), and the reader skips it until then.
 */
static void reset_slot(struct aw_segment *s, uint32_t slot)
{
	uint32_t gen = slot_gen[slot] % AW_GENERATION_MAX + 1;
	uint32_t owned = 0;
	__atomic_store_n(&slot_gen[slot], gen, __ATOMIC_RELAXED);
	for (uint32_t k = 0; k < AW_STRIPES; k++)
		if (__atomic_load_n(&stripe_owner[slot][k], __ATOMIC_RELAXED) >
		    0)
			owned |= 1u << k;
	aw_segment_write_slot_reset(s, slot, gen, slot_stripe[slot], owned);
}

/*
 * A slot for a new listener: a closed one first (its row, kept until now,
 * gives way; its stripes serve again), so that a process that opens and
 * closes listeners all day (FTP passive mode, test harnesses) holds memory
 * only for those open at once; else a fresh one.
 */
static int claim_slot(struct aw_segment *s)
{
	int slot = reusable_slot(s);
	if (slot >= 0) {
		reset_slot(s, (uint32_t)slot);
		return slot;
	}
	uint32_t used = aw_table_slots_used();
	if (used < AW_MAX_LISTENERS) {
		slot_gen[used] = 1;
		aw_segment_write_new_slot(s, used, 1);
		__atomic_store_n(&slots_used, used + 1, __ATOMIC_RELEASE);
		return (int)used;
	}
	if (!said_full)
		aw_log("listener table full (%u open listeners): further "
		       "listeners are not tracked",
		       AW_MAX_LISTENERS);
	said_full = 1;
	return lose_listener(s);
}

/* Stripe k of slot, made when it has none yet; 0 when none can be had. */
static uint32_t stripe_ref(uint32_t slot, uint32_t k)
{
	uint32_t ref = slot_stripe[slot][k];
	if (ref != 0)
		return ref;
	ref = aw_segment_add_stripe(slot_gen[slot]);
	if (ref == 0)
		return 0;
	slot_stripe[slot][k] = ref;
	__atomic_store_n(&stripe_slot[aw_stripe_index(ref)], (uint8_t)slot,
			 __ATOMIC_RELAXED);
	/* A detach may have moved the segment: the current one. */
	aw_segment_write_stripe_ref(&aw_segment_current()->listener[slot], k,
				    ref);
	return ref;
}

int aw_table_stripe_slot(uint32_t ref)
{
	if (!aw_is_stripe_ref(ref))
		return -1;
	uint32_t slot = __atomic_load_n(&stripe_slot[aw_stripe_index(ref)],
					__ATOMIC_RELAXED);
	return slot < AW_MAX_LISTENERS ? (int)slot : -1;
}

void aw_table_free_stripe(uint32_t slot, uint32_t ref)
{
	struct aw_segment *s = aw_segment_current();
	for (uint32_t k = 0; slot < AW_MAX_LISTENERS && k < AW_STRIPES; k++) {
		if (slot_stripe[slot][k] != ref)
			continue;
		if (s != NULL)
			aw_segment_write_stripe_free(
			    (struct aw_stripe *)((char *)s + ref));
		__atomic_store_n(&stripe_owner[slot][k], 0, __ATOMIC_RELEASE);
	}
}

static struct aw_stripe *stripe_of(uint32_t ref)
{
	return (struct aw_stripe *)((char *)aw_segment_current() + ref);
}

/* The stripe (k) of slot that thread tid owns, else one no thread owns,
 * else a new one, all but the last (the shared stripe), now tid's; 0 when
 * all are owned. */
static uint32_t owned_stripe(uint32_t slot, int32_t tid)
{
	int free_k = -1;
	for (uint32_t k = 0; k + 1 < AW_STRIPES; k++) {
		int32_t owner =
		    __atomic_load_n(&stripe_owner[slot][k], __ATOMIC_ACQUIRE);
		if (owner == tid && slot_stripe[slot][k] != 0)
			return slot_stripe[slot][k];
		if (owner == 0 && free_k < 0)
			free_k = (int)k;
	}
	if (free_k < 0)
		return 0;
	uint32_t ref = stripe_ref(slot, (uint32_t)free_k);
	if (ref != 0)
		__atomic_store_n(&stripe_owner[slot][free_k], tid,
				 __ATOMIC_RELAXED);
	return ref;
}

uint32_t aw_table_claim_stripe(uint32_t slot, int32_t tid, int *shared)
{
	aw_table_lock();
	uint32_t ref = 0;
	if (aw_segment_current() != NULL) {
		ref = owned_stripe(slot, tid);
		*shared = ref == 0;
		if (ref == 0)
			ref = stripe_ref(slot, AW_STRIPES - 1);
	}
	if (ref != 0)
		aw_segment_write_stripe_claim(stripe_of(ref), slot, tid,
					      *shared, slot_gen[slot]);
	aw_table_unlock();
	if (ref == 0 && !said_lost_memory) {
		said_lost_memory = 1;
		aw_log("no stripe for a listener: its per-thread figures are "
		       "not counted");
	}
	return ref;
}

struct listen_facts {
	struct aw_sock_id id;
	char address[AW_ADDR_LEN];
	int somaxconn;
	uint32_t effective;
	uint32_t flags;
};

/* Ask the kernel what it made of listen(fd, passed). */
static void gather(int fd, int requested, int passed, int adopted,
		   struct listen_facts *f)
{
	uint32_t depth;
	aw_probe_address(fd, f->address, sizeof(f->address));
	f->somaxconn = aw_probe_somaxconn();
	f->flags = adopted ? AW_LF_ADOPTED : 0;
	if (f->id.tcp && aw_probe_queue(fd, &depth, &f->effective) == 0) {
		f->flags |= AW_LF_TCP;
		if (aw_probe_defer_accept(fd))
			f->flags |= AW_LF_DEFER_ACCEPT;
	} else {
		/* Other families: compute what __sys_listen() does. With an
		 * unknown request (adopted), only the ceiling is known. */
		uint32_t ceiling =
		    f->somaxconn >= 0 ? (uint32_t)f->somaxconn : UINT32_MAX;
		uint32_t asked = adopted ? ceiling : (uint32_t)passed;
		f->effective = asked < ceiling ? asked : ceiling;
		f->flags |= AW_LF_COMPUTED;
		if (adopted)
			f->flags |= AW_LF_BACKLOG_UNKNOWN;
	}
	if (!adopted && passed != requested)
		f->flags |= AW_LF_RAISED;
	if (!adopted && (uint32_t)passed > f->effective)
		f->flags |= AW_LF_CLAMPED;
}

static void describe(struct aw_listener *l, int fd, int requested, int passed,
		     const struct listen_facts *f)
{
	struct aw_listener d = {
	    .fd = fd,
	    .family = (uint32_t)f->id.family,
	    .dev = f->id.dev,
	    .ino = f->id.ino,
	    .requested_backlog = requested,
	    .passed_backlog = passed,
	    .effective_backlog = f->effective,
	    .somaxconn = f->somaxconn >= 0 ? (uint32_t)f->somaxconn : 0,
	    .flags = f->flags,
	    .listen_real_ns = aw_real_ns(),
	    .listen_mono_ns = aw_mono_ns(),
	};
	memcpy(d.address, f->address, sizeof(d.address));
	aw_segment_write_description(l, &d);
}

static void log_listen(const struct aw_listener *l, int fd, int adopted,
		       int relisten, int old_requested, uint32_t old_effective)
{
	char requested[48], was[48] = "";
	if (adopted)
		snprintf(requested, sizeof(requested), "?");
	else if (l->flags & AW_LF_RAISED)
		snprintf(requested, sizeof(requested), "%d raised=%d",
			 l->requested_backlog, l->passed_backlog);
	else
		snprintf(requested, sizeof(requested), "%d",
			 l->requested_backlog);
	if (relisten)
		snprintf(was, sizeof(was), " (was requested=%d effective=%u)",
			 old_requested, old_effective);
	aw_log("%s fd=%d %.*s requested=%s effective=%u%s somaxconn=%u%s%s",
	       adopted	  ? "adopt"
	       : relisten ? "relisten"
			  : "listen",
	       fd, (int)strnlen(l->address, AW_ADDR_LEN), l->address, requested,
	       l->effective_backlog,
	       (l->flags & AW_LF_COMPUTED) ? " (computed)" : "", l->somaxconn,
	       (l->flags & AW_LF_CLAMPED) ? " CLAMPED" : "", was);
}

/*
 * The child keeps the parent's open listeners (same sockets, same backlogs,
 * same slot numbers: the fd map, inherited as process memory, names them)
 * with its own counters and no stripes yet; slots of closed listeners stay
 * free. Caller holds the table lock.
 */
static void carry_over(struct aw_segment *to, const struct aw_segment *from)
{
	uint32_t used = aw_table_slots_used();
	for (uint32_t i = 0; i < used; i++) {
		const struct aw_listener *src = &from->listener[i];
		if (__atomic_load_n(&src->state, __ATOMIC_ACQUIRE) !=
			AW_SLOT_READY ||
		    !aw_table_slot_open(i))
			continue;
		/* The parent's row is read now, maybe long after the fork:
		 * a slot it gave to another socket since no longer describes
		 * ours. Its descriptors are forgotten here, and adopted
		 * afresh at their next accept. */
		if (__atomic_load_n(&src->generation, __ATOMIC_RELAXED) !=
		    aw_table_generation(i)) {
			aw_table_unmap_slot(i);
			continue;
		}
		aw_segment_write_inherited(&to->listener[i], src);
	}
	aw_segment_write_lineage(to, (int32_t)getppid(), used);
	aw_stacks_carry_over(to, from, used);
}

/* The segment's hooks (segment.h): fork carry-over is the table's policy. */
static const struct aw_segment_hooks table_hooks = {
    .lock = aw_table_lock,
    .unlock = aw_table_unlock,
    .inherit = carry_over,
    .stacks_published = aw_stacks_published,
    .kept_at_exit = aw_table_final_drops,
};

struct aw_segment *aw_table_attach(const struct aw_config *c)
{
	return aw_segment_attach(c, &table_hooks);
}

int aw_table_register(int fd, int requested, int passed, int adopted,
		      const struct aw_config *c)
{
	struct listen_facts f;
	if (aw_probe_identity(fd, &f.id) != 0)
		return -1;
	if (table_pid == 0)
		__atomic_store_n(&table_pid, getpid(), __ATOMIC_RELAXED);
	struct aw_segment *s = aw_table_attach(c);
	if (s == NULL)
		return -1;

	int slot = aw_table_lookup(fd);
	if (slot >= 0 && (s->listener[slot].dev != f.id.dev ||
			  s->listener[slot].ino != f.id.ino))
		slot = AW_NO_SLOT; /* the fd now names another socket */
	if (slot < 0) {
		/* Another descriptor of a socket tracked before: its row. */
		slot = find_socket(s, &f.id);
		if (slot >= 0) {
			map_fd(fd, (uint8_t)(slot + 1));
			aw_segment_write_flag_clear(&s->listener[slot],
						    AW_LF_CLOSED);
			if (adopted)
				return slot;
		}
	}
	int relisten = slot >= 0 && !adopted;
	if (slot < 0)
		slot = claim_slot(s);
	if (slot < 0) {
		map_fd(fd, AW_FD_IGNORED);
		return -1;
	}
	struct aw_listener *l = &s->listener[slot];
	int old_requested = l->requested_backlog;
	uint32_t old_effective = l->effective_backlog;
	gather(fd, requested, passed, adopted, &f);
	describe(l, fd, requested, passed, &f);
	__atomic_store_n(&slot_dev[slot], f.id.dev, __ATOMIC_RELAXED);
	__atomic_store_n(&slot_ino[slot], f.id.ino, __ATOMIC_RELAXED);
	if (aw_table_lookup(fd) != slot)
		map_fd(fd, (uint8_t)(slot + 1));
	/* The process meets the socket: its drops so far are its baseline
	 * (a re-listen keeps the first). */
	if (f.id.tcp)
		aw_table_read_drops(l, fd);
	int saved = errno;
	if (aw_probe_nonblocking(fd))
		aw_segment_write_flag_set(l, AW_LF_EVENT_LOOP);
	errno = saved;
	log_listen(l, fd, adopted, relisten, old_requested, old_effective);
	return slot;
}

void aw_table_refresh_backlog(int slot, uint32_t effective)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	struct aw_listener *l = &s->listener[slot];
	uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
	int32_t passed = __atomic_load_n(&l->passed_backlog, __ATOMIC_RELAXED);
	int clamped = !(flags & AW_LF_ADOPTED) && (uint32_t)passed > effective;
	aw_segment_write_backlog(l, effective, clamped ? AW_LF_CLAMPED : 0);
}

/*
 * Servers set TCP_DEFER_ACCEPT after listen() (nginx's `deferred`, apache's
 * accept filter), often in a master that never accepts. Its flag tells the
 * reader that the socket's drop count holds discarded handshake ACKs, so it
 * must be right in every process holding the socket, not only in those
 * whose accepts sample it: look again now. Called before fork (the child's
 * segment copies the flags), where one getsockopt per unflagged TCP
 * listener is nothing beside the fork itself.
 */
void aw_table_refresh_defer(void)
{
	struct aw_segment *s = aw_segment_current();
	if (s == NULL)
		return;
	int saved = errno;
	for (uint32_t i = 0; i < AW_MAX_LISTENERS; i++) {
		struct aw_listener *l = &s->listener[i];
		uint32_t flags = __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
		int fd = __atomic_load_n(&slot_rep_fd[i], __ATOMIC_RELAXED);
		if (fd < 0 || !(flags & AW_LF_TCP) ||
		    (flags & AW_LF_DEFER_ACCEPT))
			continue;
		if (aw_probe_defer_accept(fd))
			aw_segment_write_flag_set(l, AW_LF_DEFER_ACCEPT);
	}
	errno = saved;
}
