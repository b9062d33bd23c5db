/*
 * Gathering snapshots: the loop stat had, shared. A scanned segment that
 * vanished since the scan is skipped silently, an exited one counted unless
 * `all`; an asked pid is shown even when its process exited, and a missing
 * or unreadable one makes the answer incomplete. Nothing here prints: what
 * went wrong is in the report (r->unreadable) or the caller's buffer.
 */
#include "gather.h"

#include "bypass.h"
#include "live.h"
#include "proc_cache.h"
#include "procinfo.h"
#include "segment_reader.h"
#include "shim_path.h"
#include "verdict.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gather_state {
	struct report *r;
	const struct gather_opts *o;
	size_t proc_cap;
	size_t unreadable_cap;
	int incomplete; /* an asked or forged segment unreadable */
	struct live_context live;
	gather_fn fn; /* gather_each: each snapshot to fn, then freed */
	void *arg;
};

static int add_unreadable(struct gather_state *s, const char *name,
			  const char *reason)
{
	struct report *r = s->r;

	if (r->n_unreadable == s->unreadable_cap) {
		size_t cap = s->unreadable_cap ? s->unreadable_cap * 2 : 8;
		struct report_unreadable *p =
		    realloc(r->unreadable, cap * sizeof(*p));
		if (!p)
			return -1;
		r->unreadable = p;
		s->unreadable_cap = cap;
	}
	struct report_unreadable *u = &r->unreadable[r->n_unreadable++];
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->reason, sizeof(u->reason), "%s", reason);
	return 0;
}

/* Takes ownership of snap. */
static int add_proc(struct gather_state *s, struct model_process *snap)
{
	struct report *r = s->r;

	if (s->fn) {
		live_apply(&s->live, snap);
		verdict_mark_stalled(snap);
		r->n_proc++;
		int ret = s->fn(s->arg, snap);
		model_process_free(snap);
		return ret;
	}
	if (r->n_proc == s->proc_cap) {
		size_t cap = s->proc_cap ? s->proc_cap * 2 : 8;
		struct model_process *p = realloc(r->proc, cap * sizeof(*p));
		if (!p) {
			model_process_free(snap);
			return -1;
		}
		r->proc = p;
		s->proc_cap = cap;
	}
	live_apply(&s->live, snap);
	verdict_mark_stalled(snap);
	r->proc[r->n_proc++] = *snap;
	return 0;
}

/* Why an asked pid has no segment: no such process, one that runs
 * without the shim (or whose maps this reader may not read), or one that
 * has not listened nor accepted yet. */
static void missing_reason(pid_t pid, char *why, size_t len)
{
	char comm[32];

	if (kill(pid, 0) && errno == ESRCH) {
		snprintf(why, len, "no process with pid %d", (int)pid);
		return;
	}
	if (procinfo_comm(pid, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	/* Go's runtime and static binaries never call libc's accept: the
	 * shim, loaded or not, sees nothing there. */
	unsigned cannot = bypass_detect(pid) & (BYPASS_GO | BYPASS_STATIC);
	if (cannot) {
		char kinds[48];
		snprintf(why, len,
			 "pid %d (%s) is a %s: it makes its own system calls, "
			 "not libc's accept(), so the shim cannot see its "
			 "listeners ('acceptwatch listeners' shows their "
			 "queues)",
			 (int)pid, comm,
			 bypass_describe(cannot, kinds, sizeof(kinds)));
		return;
	}
	if (procinfo_maps_shim(pid) == 1) {
		snprintf(why, len,
			 "pid %d (%s) has the shim but no segment yet: it has "
			 "not listened nor accepted since it started",
			 (int)pid, comm);
		return;
	}
	/* The full path: "LD_PRELOAD=libacceptwatch.so" taken literally makes
	 * ld.so look in the default directories, where it is not. */
	char shim[PATH_MAX], msg[PATH_MAX + 128];
	shim_path_find(shim, sizeof(shim));
	snprintf(msg, sizeof(msg),
		 "pid %d (%s) runs without the shim: start it with "
		 "LD_PRELOAD=%s or 'acceptwatch run'",
		 (int)pid, comm, shim);
	size_t n = strlen(msg) < len ? strlen(msg) : len - 1;
	memcpy(why, msg, n);
	why[n] = '\0';
}

/* err, and when the segment is another user's and this reader is not
 * root, whose it is and how to read it. */
static void owner_hint(const char *name, pid_t pid, const char *err, char *why,
		       size_t len)
{
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];
	struct stat st;
	uid_t me = geteuid();

	snprintf(path, sizeof(path), SEGMENT_DIR "/%s", name);
	if (me == 0 || lstat(path, &st) || st.st_uid == me) {
		snprintf(why, len, "%s", err);
		return;
	}
	struct passwd *pw = getpwuid(st.st_uid);
	char who[64];
	if (pw)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "%u", (unsigned)st.st_uid);
	/* Cut to fit: the hint matters more than the end of err. */
	if (st.st_uid == 0)
		snprintf(why, len,
			 "%.60s: the segment belongs to root; run as root "
			 "(sudo acceptwatch stat %d)",
			 err, (int)pid);
	else
		snprintf(why, len,
			 "%.60s: the segment belongs to user %.24s; run as "
			 "%.24s or root (sudo -u %.24s acceptwatch stat %d)",
			 err, who, who, who, (int)pid);
}

/* A snapshot taken (ret, err from segment_snapshot) goes into the report,
 * or is counted, or is said to be unreadable. */
static int place(struct gather_state *s, struct model_process *snap, int ret,
		 const char *err, int asked)
{
	if (ret == SEGMENT_OK && (asked || s->o->all || snap->alive))
		return add_proc(s, snap);
	model_process_free(snap);
	if (ret == SEGMENT_OK) {
		s->r->skipped_exited++;
		return 0;
	}
	/* Another namespace's, from a sidecar: not this reader's to judge. */
	if ((ret == SEGMENT_MISSING || ret == SEGMENT_HIDDEN) && !asked)
		return 0;
	/* A planted file hides the process it names: never a quiet pass. */
	if (asked || ret == SEGMENT_FORGED)
		s->incomplete = 1;
	char why[SEGMENT_ERR_LEN];
	if (ret == SEGMENT_MISSING)
		missing_reason(snap->pid, why, sizeof(why));
	else
		owner_hint(snap->name, snap->pid, err, why, sizeof(why));
	return add_unreadable(s, snap->name, why);
}

static int gather_pid(struct gather_state *s, pid_t pid, int asked)
{
	struct model_process snap;
	char err[SEGMENT_ERR_LEN];

	int ret = segment_snapshot(pid, &snap, err, sizeof(err));
	return place(s, &snap, ret, err, asked);
}

/*
 * Snapshots of many processes are independent system calls (/dev/shm,
 * /proc) and page faults, nearly all kernel time: a few threads take them,
 * each the next pid not yet taken, and the report is then put together in
 * pid order as if one thread had done it all.
 */
struct snap_result {
	struct model_process snap;
	int ret; /* segment_snapshot's */
	char err[SEGMENT_ERR_LEN];
};

struct snap_batch {
	const struct segment_ref *ref;
	size_t n;
	size_t next; /* the next index to take, shared */
	struct snap_result *out;
};

#define GATHER_MAX_THREADS 4
#define GATHER_PER_THREAD 64 /* segments at least: under 128, one thread */
/* Segments snapshot at once: what gather_each holds at most. */
#define GATHER_BATCH 256

static void *snap_worker(void *arg)
{
	struct snap_batch *b = arg;
	for (;;) {
		size_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
		if (i >= b->n)
			return NULL;
		struct snap_result *o = &b->out[i];
		o->ret = segment_snapshot_ref(&b->ref[i], &o->snap, o->err,
					      sizeof(o->err));
	}
}

static void snap_all(struct snap_batch *b)
{
	pthread_t t[GATHER_MAX_THREADS - 1];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = b->n / GATHER_PER_THREAD;
	if (cpus > 0 && want > (size_t)cpus)
		want = (size_t)cpus;
	if (want > GATHER_MAX_THREADS)
		want = GATHER_MAX_THREADS;
	size_t started = 0;
	/* A thread that cannot be started leaves its share to the others. */
	while (started + 1 < want &&
	       pthread_create(&t[started], NULL, snap_worker, b) == 0)
		started++;
	snap_worker(b);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

/*
 * A batch of snapshots is some 30 KB a process (a listener's histograms, a
 * stack's frames), freed before the next batch is taken: with malloc's
 * default 128 KiB trim threshold each batch's memory went back to the
 * kernel and the next one faulted it in again and zeroed it (a fifth of
 * the reader's CPU over 10,000 processes). Above the few MB a batch holds,
 * freed memory is kept for the next batch (and the next scrape); the
 * process's peak is what it was.
 */
#define GATHER_TRIM_THRESHOLD (32 << 20)

static void keep_freed_memory(void)
{
	mallopt(M_TRIM_THRESHOLD, GATHER_TRIM_THRESHOLD);
}

/* 0, or -1 with the reason in err when the scan itself failed. */
static int gather_scan(struct gather_state *s, char *err, size_t errlen)
{
	struct segment_ref *refs;
	size_t n;

	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, keep_freed_memory);
	if (segment_scan(&refs, &n, err, errlen))
		return -1;
	struct snap_result *out =
	    calloc(n < GATHER_BATCH ? (n ? n : 1) : GATHER_BATCH, sizeof(*out));
	if (!out) {
		free(refs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int stop = 0; /* out of memory: the rest is left */
	/* A batch at a time, in order: gather_each holds no more. */
	for (size_t first = 0; first < n && !stop; first += GATHER_BATCH) {
		struct snap_batch b = {
		    .ref = refs + first,
		    .n = n - first < GATHER_BATCH ? n - first : GATHER_BATCH,
		    .out = out};
		snap_all(&b);
		for (size_t i = 0; i < b.n; i++) {
			struct snap_result *o = &out[i];
			if (stop)
				model_process_free(&o->snap);
			else if (place(s, &o->snap, o->ret, o->err, 0))
				stop = 1;
		}
	}
	free(out);
	free(refs);
	proc_cache_sweep(); /* what this pass did not read is gone */
	return 0;
}

static int gather(struct report *r, const struct gather_opts *o, gather_fn fn,
		  void *arg, char *err, size_t errlen)
{
	struct gather_state s;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.o = o;
	s.fn = fn;
	s.arg = arg;
	live_init(&s.live);
	r->summary = o->n_pids == 0;
	if (o->n_pids == 0 && gather_scan(&s, err, errlen))
		ret = -1;
	for (size_t i = 0; i < o->n_pids; i++)
		if (gather_pid(&s, o->pids[i], 1))
			break;
	live_free(&s.live);
	/* Names after the snapshots, on this thread alone: naming is
	 * serialized anyway (symbolize.h), the snapshots are not. Snapshots
	 * handed to fn are gone by now (and r->proc holds none). */
	for (size_t i = 0; !o->no_names && !fn && i < r->n_proc; i++)
		segment_snapshot_name(&r->proc[i]);
	if (ret == 0 && s.incomplete)
		ret = GATHER_INCOMPLETE;
	return ret;
}

int gather_report(struct report *r, const struct gather_opts *o, char *err,
		  size_t errlen)
{
	return gather(r, o, NULL, NULL, err, errlen);
}

int gather_each(struct report *r, const struct gather_opts *o, gather_fn fn,
		void *arg, char *err, size_t errlen)
{
	return gather(r, o, fn, arg, err, errlen);
}

void gather_free(struct report *r)
{
	/* After gather_each, n_proc counts snapshots proc does not hold. */
	for (size_t i = 0; r->proc && i < r->n_proc; i++)
		model_process_free(&r->proc[i]);
	free(r->proc);
	free(r->unreadable);
	memset(r, 0, sizeof(*r));
}

pid_t gather_parse_pid(const char *arg)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

int gather_parse_pids(int argc, char **argv, int first, pid_t **pids, size_t *n,
		      char *err, size_t errlen)
{
	*pids = NULL;
	*n = 0;
	if (first >= argc)
		return 0;
	/* Check every pid before reading any: a typo is a usage error. */
	for (int i = first; i < argc; i++) {
		if (!gather_parse_pid(argv[i])) {
			snprintf(err, errlen, "not a pid: '%s'", argv[i]);
			return -1;
		}
	}
	*pids = calloc((size_t)(argc - first), sizeof(**pids));
	if (!*pids) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = first; i < argc; i++)
		(*pids)[(*n)++] = gather_parse_pid(argv[i]);
	return 0;
}

const struct model_process *gather_find(const struct report *r,
					const struct model_process *p)
{
	for (size_t i = 0; i < r->n_proc; i++) {
		const struct model_process *q = &r->proc[i];
		if (q->pid == p->pid &&
		    q->header.pid_start_ticks == p->header.pid_start_ticks &&
		    q->header.start_real_ns == p->header.start_real_ns)
			return q;
	}
	return NULL;
}

const struct model_listener *
gather_find_listener(const struct model_process *p,
		     const struct model_listener *l)
{
	for (uint32_t i = 0; i < p->n_listeners; i++) {
		const struct model_listener *m = &p->listener[i];
		if (m->slot == l->slot && m->ino == l->ino && m->dev == l->dev)
			return m;
	}
	return NULL;
}
