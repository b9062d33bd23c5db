/*
 * The per-process cache of proc_cache.h: a uthash table under one mutex.
 * /proc is read outside the lock (the threads of gather.c read different
 * processes at once); only the lookups and stores hold it.
 */
#include "proc_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* uthash: out of memory is a failed add (the entry is freed, the answer
 * still given), never exit(). */
static int add_failed;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((void)(e), add_failed = 1)
#include <uthash.h>

struct proc_key {
	uint64_t pid; /* 64 bits: no padding in the key uthash hashes */
	uint64_t start_ticks;
	uint64_t dev;
	uint64_t ino;
	uint64_t image[PROCINFO_IMAGE_FIELDS];
};

struct proc_entry {
	struct proc_key key;
	uint32_t pass; /* of the last use */
	int has_maps;
	unsigned maps;
	int owner_ok; /* owner was one of the process's uids */
	uid_t owner;
	UT_hash_handle hh;
};

static int enabled;
static uint32_t pass;
static struct proc_entry *table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void proc_cache_enable(void)
{
	__atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
}

/* The key of pid's image and file, or -1 when the image is unknown (hidden
 * by /proc: nothing tells an exec apart, so nothing is kept). */
static int make_key(struct proc_key *k, pid_t pid,
		    const struct procinfo_stat *ps, uint64_t dev, uint64_t ino)
{
	/* The arguments' address: 0 when hidden, or without an image. */
	if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) || !ps->image[6] ||
	    !ps->start_ticks || !ino)
		return -1;
	memset(k, 0, sizeof(*k));
	k->pid = (uint64_t)pid;
	k->start_ticks = ps->start_ticks;
	k->dev = dev;
	k->ino = ino;
	memcpy(k->image, ps->image, sizeof(k->image));
	return 0;
}

/* The entry of k, marked used in this pass; NULL when none. Locked. */
static struct proc_entry *find(const struct proc_key *k)
{
	struct proc_entry *e;

	HASH_FIND(hh, table, k, sizeof(*k), e);
	if (e)
		e->pass = pass;
	return e;
}

/* The entry of k, made when there is room. Locked. */
static struct proc_entry *find_or_add(const struct proc_key *k)
{
	struct proc_entry *e = find(k);

	if (e || HASH_COUNT(table) >= PROC_CACHE_MAX)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *k;
	e->pass = pass;
	add_failed = 0;
	HASH_ADD(hh, table, key, sizeof(e->key), e);
	if (add_failed) {
		free(e);
		return NULL;
	}
	return e;
}

int proc_cache_maps(pid_t pid, const struct procinfo_stat *ps, uint64_t dev,
		    uint64_t ino, unsigned *found)
{
	struct proc_key k;

	if (make_key(&k, pid, ps, dev, ino))
		return procinfo_maps_file(pid, (dev_t)dev, (ino_t)ino, found);
	pthread_mutex_lock(&lock);
	struct proc_entry *e = find(&k);
	int hit = e && e->has_maps;
	if (hit)
		*found = e->maps;
	pthread_mutex_unlock(&lock);
	if (hit)
		return 0;
	if (procinfo_maps_file(pid, (dev_t)dev, (ino_t)ino, found))
		return -1;
	pthread_mutex_lock(&lock);
	e = find_or_add(&k);
	if (e) {
		e->maps = *found;
		e->has_maps = 1;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

int proc_cache_owner(pid_t pid, const struct procinfo_stat *ps, uint64_t dev,
		     uint64_t ino, uid_t owner, uid_t *euid)
{
	struct proc_key k;
	uid_t uids[4];
	int keyed = make_key(&k, pid, ps, dev, ino) == 0;

	if (keyed) {
		pthread_mutex_lock(&lock);
		struct proc_entry *e = find(&k);
		int hit = e && e->owner_ok && e->owner == owner;
		pthread_mutex_unlock(&lock);
		if (hit)
			return 1;
	}
	if (procinfo_uids(pid, uids))
		return -1;
	*euid = uids[1];
	int match = 0;
	for (int i = 0; i < 4; i++)
		if (uids[i] == owner)
			match = 1;
	if (!match || !keyed)
		return match;
	pthread_mutex_lock(&lock);
	struct proc_entry *e = find_or_add(&k);
	if (e) {
		e->owner_ok = 1;
		e->owner = owner;
	}
	pthread_mutex_unlock(&lock);
	return 1;
}

void proc_cache_sweep(void)
{
	struct proc_entry *e, *tmp;

	pthread_mutex_lock(&lock);
	HASH_ITER(hh, table, e, tmp)
	{
		/* HASH_ITER sets e before the body: cppcheck cannot see it. */
		// cppcheck-suppress uninitvar
		if (e->pass != pass) {
			HASH_DELETE(hh, table, e);
			free(e);
		}
	}
	pass++;
	pthread_mutex_unlock(&lock);
}

size_t proc_cache_size(void)
{
	pthread_mutex_lock(&lock);
	size_t n = HASH_COUNT(table);
	pthread_mutex_unlock(&lock);
	return n;
}
