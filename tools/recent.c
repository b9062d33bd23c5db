/*
 * The verdict window's memory. A state file is one header line, then one
 * line of 14 decimal numbers per listener (struct recent_entry in order).
 * It holds only this reader's own judgement, in its owner's directory; a
 * file that is not ours, or not one, is refused and nothing is believed.
 */
#include "recent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECENT_MAGIC "acceptwatch check state 1"
#define RECENT_KEEP_NS (86400ull * 1000000000ull) /* a day unseen: gone */
#define RECENT_MAX_BYTES (16u << 20)

void recent_init(struct recent_table *t)
{
	memset(t, 0, sizeof(*t));
}

void recent_free(struct recent_table *t)
{
	free(t->e);
	recent_init(t);
}

static int same_listener(const struct recent_entry *e,
			 const struct recent_entry *k)
{
	return e->pid == k->pid && e->start_ticks == k->start_ticks &&
	       e->start_real_ns == k->start_real_ns && e->slot == k->slot &&
	       e->dev == k->dev && e->ino == k->ino;
}

static struct recent_entry *find(const struct recent_table *t,
				 const struct recent_entry *k)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_listener(&t->e[i], k))
			return &t->e[i];
	return NULL;
}

static void key_of(const struct model_process *p,
		   const struct model_listener *l, struct recent_entry *k)
{
	memset(k, 0, sizeof(*k));
	k->pid = (int32_t)p->pid;
	k->start_ticks = p->header.pid_start_ticks;
	k->start_real_ns = p->header.start_real_ns;
	k->slot = l->slot;
	k->dev = l->dev;
	k->ino = l->ino;
}

static struct recent_entry *add(struct recent_table *t,
				const struct recent_entry *k)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct recent_entry *e = realloc(t->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->n] = *k;
	return &t->e[t->n++];
}

/*
 * The new bound on a last rise: none without evidence; this reading's
 * bound when the counter rose since (or nothing was remembered); else it
 * rose before both readings' bounds, so the earlier of the two.
 */
static uint64_t moved(uint64_t last, int rose, uint64_t bound)
{
	if (bound == 0)
		return 0;
	if (rose || last == 0)
		return bound;
	return last < bound ? last : bound;
}

/*
 * A listener new to the memory whose only overflow evidence is the
 * socket's drops (a worker started by a reload, holding the socket its
 * predecessors held): the drop count is the socket's, not the process's.
 * When another process's entry for the same socket saw exactly this
 * count, the drops did not rise since, and that entry's bound dates them:
 * the new process is not charged with drops from before it existed. The
 * bound for the new entry: the earlier of that and this reading's.
 */
static uint64_t socket_overflow_last(const struct recent_table *t,
				     const struct model_listener *l,
				     uint64_t bound)
{
	if (l->ino == 0 || l->full_events > 0 || l->live.drops == 0)
		return bound;
	/* The queue past its backlog now is evidence of the moment. */
	if (l->live.queue_known && l->live.queue_now > l->effective_backlog)
		return bound;
	for (size_t i = 0; i < t->n; i++) {
		const struct recent_entry *o = &t->e[i];
		if (o->dev == l->dev && o->ino == l->ino &&
		    o->drops == l->live.drops && o->overflow_last_ns &&
		    o->overflow_last_ns < bound)
			bound = o->overflow_last_ns;
	}
	return bound;
}

static int update_one(struct recent_table *t, const struct model_process *p,
		      const struct model_listener *l)
{
	struct recent_entry k;

	key_of(p, l, &k);
	struct recent_entry *e = find(t, &k);
	int known = e != NULL;
	uint64_t ob = verdict_overflow_bound(p, l);
	if (!known && ob)
		ob = socket_overflow_last(t, l, ob);
	if (!e && !(e = add(t, &k)))
		return -1;
	uint64_t sb = verdict_slow_bound(p, l);
	uint64_t pb = verdict_peak_bound(p, l);
	/* Drops rising are overflow evidence but under TCP_DEFER_ACCEPT
	 * (its discarded ACKs rise under any load) or where it is unknown
	 * (the kernel's sockets without the shim). */
	int drops_count = !(l->flags & AW_LF_DEFER_ACCEPT) && !p->kernel_only;
	e->overflow_last_ns =
	    moved(e->overflow_last_ns,
		  !known || l->full_events > e->full_events ||
		      (drops_count && l->live.drops > e->drops),
		  ob);
	e->slow_last_ns = moved(e->slow_last_ns,
				!known || l->slow_events > e->slow_events, sb);
	e->peak_last_ns =
	    moved(e->peak_last_ns, !known || l->queue_peak > e->queue_peak, pb);
	e->full_events = l->full_events;
	e->drops = l->live.drops;
	e->slow_events = l->slow_events;
	e->queue_peak = l->queue_peak;
	e->seen_ns = p->now_mono_ns;
	return 0;
}

int recent_update_snapshot(struct recent_table *t,
			   const struct model_process *p)
{
	int ret = 0;

	if (!p->alive)
		return 0;
	for (uint32_t j = 0; j < p->n_listeners; j++)
		if (update_one(t, p, &p->listener[j]))
			ret = -1;
	return ret;
}

int recent_update(struct recent_table *t, const struct report *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->n_proc; i++)
		if (recent_update_snapshot(t, &r->proc[i]))
			ret = -1;
	return ret;
}

void recent_apply(const struct recent_table *t, const struct model_process *p,
		  const struct model_listener *l, struct verdict_window *w)
{
	struct recent_entry k;

	key_of(p, l, &k);
	const struct recent_entry *e = find(t, &k);
	w->overflow_last_ns = e ? e->overflow_last_ns : 0;
	w->slow_last_ns = e ? e->slow_last_ns : 0;
	w->peak_last_ns = e ? e->peak_last_ns : 0;
}

int recent_default_path(char *dst, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(dst, len, "%s/acceptwatch/check.state", xdg);
	else if (home && home[0] == '/')
		n = snprintf(dst, len,
			     "%s/.local/state/acceptwatch/check.state", home);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int parse_line(const char *line, struct recent_entry *e)
{
	int n = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(line,
		   "%" SCNd32 " %" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n",
		   &e->pid, &e->start_ticks, &e->start_real_ns, &e->slot,
		   &e->dev, &e->ino, &e->full_events, &e->drops,
		   &e->slow_events, &e->queue_peak, &e->overflow_last_ns,
		   &e->slow_last_ns, &e->peak_last_ns, &e->seen_ns, &n) != 14)
		return -1;
	return line[n] == '\n' || line[n] == '\0' ? 0 : -1;
}

/* The file at path, opened for reading if it is ours to trust. A FILE or
 * NULL (errno ENOENT: none; else err says why). */
static FILE *open_trusted(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path,
			 e == ELOOP ? "a symbolic link, not followed"
				    : strerror(e));
		errno = e;
		return NULL;
	}
	const char *why = NULL;
	if (fstat(fd, &st))
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "owned by another user";
	else if (st.st_size > RECENT_MAX_BYTES)
		why = "too large for a state file";
	if (why) {
		snprintf(err, errlen, "%s: %s", path, why);
		close(fd);
		errno = EPERM;
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int recent_load(struct recent_table *t, const char *path, char *err,
		size_t errlen)
{
	char line[512];
	struct recent_entry e;

	FILE *f = open_trusted(path, err, errlen);
	if (!f)
		return errno == ENOENT ? 0 : -1;
	int ret = 0;
	if (!fgets(line, sizeof(line), f) ||
	    strcmp(line, RECENT_MAGIC "\n") != 0) {
		snprintf(err, errlen, "%s: not an acceptwatch state file",
			 path);
		ret = -1;
	}
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		if (parse_line(line, &e)) {
			snprintf(err, errlen, "%s: a line is not a state entry",
				 path);
			ret = -1;
		} else if (!find(t, &e) && !add(t, &e)) {
			snprintf(err, errlen, "out of memory");
			ret = -1;
		}
	}
	fclose(f);
	return ret;
}

/* mkdir -p of path's directory, each missing part 0700. 0 or -1. */
static int make_parent(const char *path)
{
	char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) && errno != EEXIST ? -1 : 0;
}

static int write_entries(FILE *f, const struct recent_table *t, uint64_t now)
{
	fprintf(f, RECENT_MAGIC "\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct recent_entry *e = &t->e[i];
		if (e->seen_ns > now || now - e->seen_ns > RECENT_KEEP_NS)
			continue; /* long unseen, or of a boot before */
		fprintf(f,
			"%" PRId32 " %" PRIu64 " %" PRIu64 " %" PRIu32
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 "\n",
			e->pid, e->start_ticks, e->start_real_ns, e->slot,
			e->dev, e->ino, e->full_events, e->drops,
			e->slow_events, e->queue_peak, e->overflow_last_ns,
			e->slow_last_ns, e->peak_last_ns, e->seen_ns);
	}
	return ferror(f) ? -1 : 0;
}

int recent_save(const struct recent_table *t, const char *path,
		uint64_t now_mono_ns, char *err, size_t errlen)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	if (make_parent(path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	int bad = write_entries(f, t, now_mono_ns);
	if (fclose(f))
		bad = 1;
	if (bad || rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path,
			 bad ? "write failed" : strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
