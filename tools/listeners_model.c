/*
 * listeners' model: the kernel's table of listening sockets, their
 * holders found under /proc, their segments and verdicts. Without root
 * only the caller's own processes can be matched: the /proc entries that
 * could not be read are counted.
 */
#include "listeners_model.h"

#include "bypass.h"
#include "procinfo.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct model_process *cache_get(struct listeners_model *m,
					     pid_t pid)
{
	struct listeners_cache *c = &m->cache;
	char err[SEGMENT_ERR_LEN];

	for (size_t i = 0; i < c->n; i++)
		if (c->pid[i] == pid)
			return c->snap[i];
	pid_t *np = realloc(c->pid, (c->n + 1) * sizeof(*np));
	if (!np)
		return NULL;
	c->pid = np;
	struct model_process **ns = realloc(c->snap, (c->n + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	c->snap = ns;
	struct model_process *snap = malloc(sizeof(*snap));
	if (snap &&
	    segment_snapshot(pid, snap, err, sizeof(err)) == SEGMENT_OK &&
	    snap->alive) {
		live_apply(&m->live, snap);
		/* Out of memory: a looser bound, never a wrong one. */
		recent_update_snapshot(&m->mem, snap);
	} else if (snap) {
		model_process_free(snap);
		free(snap);
		snap = NULL;
	}
	c->pid[c->n] = pid;
	c->snap[c->n] = snap;
	c->n++;
	return snap;
}

static int add_owner(struct listeners_model *m, struct listeners_row *row,
		     pid_t pid)
{
	for (size_t i = 0; i < row->n_owner; i++)
		if (row->owner[i].pid == pid)
			return 0; /* the same socket on two fds */
	struct listeners_owner *o =
	    realloc(row->owner, (row->n_owner + 1) * sizeof(*row->owner));
	if (!o)
		return -1;
	row->owner = o;
	o = &row->owner[row->n_owner++];
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	if (procinfo_comm(pid, o->comm, sizeof(o->comm)))
		snprintf(o->comm, sizeof(o->comm), "?");
	char state;
	o->stopped =
	    procinfo_state(pid, &state) == 0 && (state == 'T' || state == 't');
	o->snap = cache_get(m, pid);
	for (uint32_t i = 0; o->snap && i < o->snap->n_listeners; i++) {
		const struct model_listener *l = &o->snap->listener[i];
		if (l->ino == row->e->ino && !(l->flags & AW_LF_CLOSED))
			o->l = l;
	}
	/* Under the shim the program is dynamic; else say why it may not
	 * be, so "no shim" is not read as "nothing to see". */
	o->bypass = o->snap ? o->snap->bypass : bypass_detect(pid);
	return 0;
}

/* The listener row of socket inode ino, or NULL. */
static struct listeners_row *row_of(struct listeners_model *m, uint64_t ino)
{
	for (size_t i = 0; i < m->n_rows; i++)
		if (m->row[i].e->ino == ino)
			return &m->row[i];
	return NULL;
}

/* The fds of one process: "socket:[INO]" links naming a listener. */
static void scan_pid(struct listeners_model *m, pid_t pid)
{
	char path[64], link[64 + 256], target[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		/* ENOENT: it exited meanwhile, nothing to count. */
		if (errno != ENOENT)
			m->proc_unreadable++;
		return;
	}
	m->proc_seen++;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		unsigned long long ino;
		if (sscanf(target, "socket:[%llu]", &ino) != 1)
			continue;
		struct listeners_row *row = row_of(m, ino);
		if (row)
			add_owner(m, row, pid);
	}
	closedir(d);
}

static void scan_proc(struct listeners_model *m)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || end == e->d_name)
			continue;
		scan_pid(m, (pid_t)pid);
	}
	closedir(d);
}

static int row_cmp(const void *a, const void *b)
{
	const struct listeners_row *x = a, *y = b;

	if (x->e->port != y->e->port)
		return x->e->port < y->e->port ? -1 : 1;
	if (x->e->family != y->e->family)
		return x->e->family < y->e->family ? -1 : 1;
	return strcmp(x->e->address, y->e->address);
}

/* o's verdicts, judged over the window as check judges them. */
static void judge_owner(const struct listeners_model *m,
			struct listeners_owner *o)
{
	struct verdict v[VERDICT_KINDS];
	struct verdict_window w;

	if (!o->l)
		return;
	memset(&w, 0, sizeof(w));
	w.recent_ns = m->recent_ns;
	recent_apply(&m->mem, o->snap, o->l, &w);
	o->n_verdicts = verdict_assess(o->snap, o->l, &w, v);
	for (int i = 0; i < o->n_verdicts; i++)
		o->verdict[i] = v[i].kind;
}

static int stalled_by_holders(const struct listeners_row *r)
{
	if (r->n_owner == 0 || r->e->rqueue == 0)
		return 0;
	for (size_t i = 0; i < r->n_owner; i++)
		if (r->owner[i].l || !r->owner[i].stopped)
			return 0;
	return 1;
}

static void judge_row(const struct listeners_model *m, struct listeners_row *r)
{
	for (size_t i = 0; i < r->n_owner; i++) {
		struct listeners_owner *o = &r->owner[i];
		judge_owner(m, o);
		if (!o->l || (r->speaker && r->speaker->n_verdicts))
			continue;
		r->speaker = o;
	}
	r->stalled_by_holders = stalled_by_holders(r);
}

int listeners_model_build(struct listeners_model *m, uint64_t recent_ns,
			  char *err, size_t errlen)
{
	char path[4096], why[512];

	memset(m, 0, sizeof(*m));
	m->recent_ns = recent_ns;
	live_init(&m->live);
	recent_init(&m->mem);
	if (sockdiag_dump(&m->table, err, errlen))
		return -1;
	if (recent_default_path(path, sizeof(path)) == 0 &&
	    recent_load(&m->mem, path, why, sizeof(why)))
		recent_free(&m->mem); /* check says why; not used */
	m->n_rows = m->table.n;
	m->row = calloc(m->n_rows ? m->n_rows : 1, sizeof(*m->row));
	if (!m->row) {
		m->n_rows = 0;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m->n_rows; i++)
		m->row[i].e = &m->table.entry[i];
	scan_proc(m);
	qsort(m->row, m->n_rows, sizeof(*m->row), row_cmp);
	for (size_t i = 0; i < m->n_rows; i++) {
		judge_row(m, &m->row[i]);
		if (m->row[i].speaker)
			m->with_shim++;
	}
	return 0;
}

void listeners_model_free(struct listeners_model *m)
{
	for (size_t i = 0; m->row && i < m->n_rows; i++)
		free(m->row[i].owner);
	free(m->row);
	for (size_t i = 0; i < m->cache.n; i++) {
		if (m->cache.snap[i])
			model_process_free(m->cache.snap[i]);
		free(m->cache.snap[i]);
	}
	free(m->cache.pid);
	free(m->cache.snap);
	sockdiag_free(&m->table);
	live_free(&m->live);
	recent_free(&m->mem);
	memset(m, 0, sizeof(*m));
}
