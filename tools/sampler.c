/*
 * The sampler's ticks. Every tick: one listener dump for all processes,
 * one reading of each thread; about once a second the threads and the
 * listeners of each process are looked for again; a connection dump at
 * most every conn_period_ns, and only while some queue holds connections
 * (or connections seen queued are still tracked): the kernel walks its
 * whole established hash for each.
 */
#include "sampler.h"

#include "bypass.h"
#include "procinfo.h"
#include "sample_defer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define RESCAN_NS 1000000000ull
#define CONN_HZ 10u
#define DEFAULT_SLOW_MS 50u /* the shim's default threshold */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

int sampler_listener_of_fd(const struct sampler_proc *p, int fd)
{
	for (size_t i = 0; i < p->n_listeners; i++)
		if (p->listener[i].fd == fd)
			return (int)i;
	return -1;
}

static struct sampler_listener *listener_by_ino(struct sampler_proc *p,
						uint64_t ino)
{
	for (size_t i = 0; i < p->n_listeners; i++)
		if (p->listener[i].ino == ino)
			return &p->listener[i];
	return NULL;
}

static void listener_add(struct sampler_proc *p, const struct sockdiag_entry *e,
			 int fd)
{
	struct sampler_listener *l = listener_by_ino(p, e->ino);

	if (l) {
		if (l->fd < 0)
			l->fd = fd;
		return;
	}
	if (grow((void **)&p->listener, &p->cap_listeners, p->n_listeners,
		 sizeof(*l)))
		return;
	l = &p->listener[p->n_listeners++];
	memset(l, 0, sizeof(*l));
	l->ino = e->ino;
	l->fd = fd;
	l->defer = -1;
	l->family = e->family;
	l->port = e->port;
	snprintf(l->address, sizeof(l->address), "%s", e->address);
	uint8_t family;
	l->exact = sample_listen_parse(e->address, &family, l->addr) == 0 &&
		   family == e->family;
}

/* "tfd: N events: HEX" lines of an epoll fd's fdinfo: a listener of p
 * registered edge-triggered is marked so. */
static void epoll_scan(struct sampler_proc *p, int epfd)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)p->pid, epfd);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int tfd;
		unsigned int events;
		if (sscanf(line, "tfd: %d events: %x", &tfd, &events) != 2)
			continue;
		int li = sampler_listener_of_fd(p, tfd);
		if (li >= 0 && (events & EPOLLET))
			p->listener[li].edge_triggered = 1;
	}
	fclose(f);
}

/*
 * The listeners among pid's descriptors. Descriptors that cannot be read
 * (another uid): the listeners its uid owns stand in for them.
 */
static void scan_fds(struct sampler_proc *p, const struct sockdiag_table *t)
{
	char path[64], link[64];
	int epfd[16], n_ep = 0;
	struct dirent *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
	DIR *dir = opendir(path);
	p->fds_readable = dir != NULL;
	if (!dir) {
		for (size_t i = 0; i < t->n; i++)
			if (t->entry[i].uid == p->uid)
				listener_add(p, &t->entry[i], -1);
		return;
	}
	while ((d = readdir(dir))) {
		char *end;
		long fd = strtol(d->d_name, &end, 10);
		if (*end || end == d->d_name)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)p->pid,
			 fd);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		unsigned long long ino;
		if (sscanf(link, "socket:[%llu]", &ino) == 1) {
			const struct sockdiag_entry *e = sockdiag_find(t, ino);
			if (e)
				listener_add(p, e, (int)fd);
		} else if (!strcmp(link, "anon_inode:[eventpoll]") &&
			   n_ep < 16) {
			epfd[n_ep++] = (int)fd;
		}
	}
	closedir(dir);
	for (int i = 0; i < n_ep; i++)
		epoll_scan(p, epfd[i]);
}

static struct sampler_thread *thread_by_tid(struct sampler_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->n_threads; i++)
		if (p->thread[i].task.tid == tid)
			return &p->thread[i];
	return NULL;
}

static void thread_add(struct sampler_proc *p, pid_t tid)
{
	struct sampler_thread *th;
	char path[80];

	if (p->n_threads >= SAMPLER_MAX_THREADS) {
		p->threads_cut++;
		return;
	}
	if (grow((void **)&p->thread, &p->cap_threads, p->n_threads,
		 sizeof(*th)))
		return;
	th = &p->thread[p->n_threads];
	memset(th, 0, sizeof(*th));
	if (sample_task_open(&th->task, p->pid, tid))
		return;
	th->accept_listener = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)p->pid, (int)tid);
	/* The thread's own name: procinfo_comm reads /proc/ID/comm. */
	if (procinfo_comm(tid, th->comm, sizeof(th->comm)))
		th->comm[0] = '\0';
	p->n_threads++;
}

static void scan_tasks(struct sampler_proc *p)
{
	char path[64];
	struct dirent *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	DIR *dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char *end;
		long tid = strtol(d->d_name, &end, 10);
		if (*end || end == d->d_name || tid <= 0)
			continue;
		struct sampler_thread *th = thread_by_tid(p, (pid_t)tid);
		if (!th)
			thread_add(p, (pid_t)tid);
	}
	closedir(dir);
}

/* Still the process we started with (pid reuse: another start time). */
static int proc_same(const struct sampler_proc *p)
{
	uint64_t ticks;
	char state;

	if (procinfo_stat(p->pid, &state, &ticks))
		return 0;
	return ticks == p->start_ticks && state != 'Z' && state != 'X';
}

static void rescan(struct sampler *s, const struct sockdiag_table *t)
{
	for (size_t i = 0; i < s->n_proc; i++) {
		struct sampler_proc *p = &s->proc[i];
		if (p->gone)
			continue;
		if (!proc_same(p)) {
			p->gone = 1;
			continue;
		}
		scan_tasks(p);
		scan_fds(p, t);
	}
}

static void episode_add(struct sampler_listener *l, uint64_t ns)
{
	if (grow((void **)&l->episode, &l->cap_episodes, l->n_episodes,
		 sizeof(*l->episode)))
		return;
	l->episode[l->n_episodes++] = ns;
}

static void state_count(struct sampler_thread *th,
			const struct sample_reading *r)
{
	th->samples++;
	for (size_t i = 0; i < th->n_states; i++) {
		struct sampler_state *st = &th->state[i];
		if (st->kind == r->kind && st->fd == r->fd &&
		    !strcmp(st->label, r->label)) {
			st->samples++;
			return;
		}
	}
	if (th->n_states == SAMPLER_STATES) {
		th->other_samples++;
		return;
	}
	struct sampler_state *st = &th->state[th->n_states++];
	st->kind = r->kind;
	st->fd = r->fd;
	snprintf(st->label, sizeof(st->label), "%s", r->label);
	st->samples = 1;
}

/* The listener a reading in accept is on: its fd, or, with no fd known
 * (wchan), the process's only listener. -1 when none. */
static int accept_target(const struct sampler_proc *p,
			 const struct sample_reading *r)
{
	if (r->kind != SAMPLE_IN_ACCEPT)
		return -1;
	if (r->fd >= 0)
		return sampler_listener_of_fd(p, r->fd);
	return p->n_listeners == 1 ? 0 : -1;
}

/* The accept loop's time away: a stretch runs from the first sample out
 * of accept to the next one in it; each sample out of it counts the time
 * since the tick before (the period, or more when the watcher ran late
 * on a busy machine): unbiased for a stretch of any phase. */
static void follow_accept(struct sampler *s, struct sampler_proc *p,
			  struct sampler_thread *th,
			  const struct sample_reading *r)
{
	int li = accept_target(p, r);

	if (li >= 0) {
		struct sampler_listener *l = &p->listener[li];
		if (th->accept_listener < 0 && th->away_ns) {
			/* First seen in accept: the loop was away since the
			 * watch began. */
			l->away_ns += th->away_ns;
			episode_add(l, th->away_ns);
		} else if (th->accept_listener == li && !th->in_accept &&
			   th->away_ns) {
			episode_add(l, th->away_ns);
		}
		th->accept_listener = li;
		th->in_accept = 1;
		th->away_ns = 0;
		l->in_accept_now++;
		return;
	}
	if (th->accept_listener < 0) {
		th->away_ns += th->weight_ns; /* an accept loop's, if it is */
		return;
	}
	if ((size_t)th->accept_listener >= p->n_listeners)
		return;
	struct sampler_listener *l = &p->listener[th->accept_listener];
	if (th->in_accept) {
		/* It returned from accept between the two samples. */
		uint64_t t = s->now_ns - s->period_ns / 2;
		if (t > l->last_accept_ns)
			l->last_accept_ns = t;
		if (l->queue_before == 0)
			l->fresh++;
	}
	th->in_accept = 0;
	th->away_ns += th->weight_ns;
	l->away_ns += th->weight_ns;
}

/*
 * A thread seen in the same state for STEADY_READS readings in a row, and
 * never in accept, is read every STEADY_EVERY ticks only (idle workers in
 * futex or pause): its shares keep their meaning, its cost falls tenfold.
 * Until read again it counts as it was last seen (for a whole-process
 * stop, for one).
 */
#define STEADY_READS 10u
#define STEADY_EVERY 10u

static int skip_thread(const struct sampler *s, const struct sampler_thread *th,
		       size_t i)
{
	return th->steady >= STEADY_READS && th->accept_listener < 0 &&
	       (s->ticks + i) % STEADY_EVERY != 0;
}

static void note_steady(struct sampler_thread *th,
			const struct sample_reading *r)
{
	if (th->samples && r->kind == th->last_kind && r->fd == th->last_fd &&
	    !strcmp(r->label, th->last_label))
		th->steady++;
	else
		th->steady = 0;
	th->last_kind = r->kind;
	th->last_fd = r->fd;
	snprintf(th->last_label, sizeof(th->last_label), "%s", r->label);
}

static void read_threads(struct sampler *s, struct sampler_proc *p)
{
	size_t readable = 0, stopped = 0;
	uint64_t cpu = 0, t0 = clock_ns(CLOCK_MONOTONIC);

	for (size_t i = 0; i < p->n_listeners; i++)
		p->listener[i].in_accept_now = 0;
	for (size_t i = 0; i < p->n_threads; i++) {
		struct sampler_thread *th = &p->thread[i];
		struct sample_reading r;
		if (th->gone)
			continue;
		if (skip_thread(s, th, i)) {
			readable++;
			stopped += th->last_kind == SAMPLE_STOPPED;
			cpu += th->last_cpu;
			continue;
		}
		if (sample_task_read(&th->task, &r)) {
			th->gone = 1;
			sample_task_close(&th->task);
			continue;
		}
		/* What this reading stands for: the time since the thread's
		 * reading before (none for its first). */
		th->weight_ns =
		    th->last_read_ns ? s->now_ns - th->last_read_ns : 0;
		if (th->weight_ns > 1000000000ull)
			th->weight_ns = 1000000000ull;
		th->last_read_ns = s->now_ns;
		th->last_cpu = r.cpu_ticks;
		s->thread_reads++;
		readable++;
		cpu += r.cpu_ticks;
		if (r.kind == SAMPLE_STOPPED)
			stopped++;
		if (th->task.syscall_fd >= 0)
			p->syscall_known = 1;
		else if (strstr(r.label, "(wchan)"))
			p->wchan_known = 1;
		note_steady(th, &r);
		state_count(th, &r);
		follow_accept(s, p, th, &r);
	}
	s->thread_read_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	if (readable == 0)
		return;
	if (p->samples == 0)
		p->cpu_first = cpu;
	p->cpu_now = cpu;
	p->samples++;
	p->stopped_now = stopped == readable;
	if (p->stopped_now) {
		p->stopped_samples++;
		p->stopped_ns += s->tick_ns;
		p->stopped_run++;
	} else {
		p->stopped_run = 0;
	}
}

static void listener_reading(struct sampler_listener *l,
			     const struct sockdiag_entry *e)
{
	if (!e) {
		l->present = 0;
		l->queue_now = 0;
		return;
	}
	l->present = 1;
	l->queue_before = l->dumps ? l->queue_now : 1;
	if (l->dumps && e->rqueue < l->queue_now)
		l->falls += l->queue_now - e->rqueue;
	l->dumps++;
	l->backlog = e->wqueue;
	l->queue_now = e->rqueue;
	if (e->rqueue > l->queue_peak)
		l->queue_peak = e->rqueue;
	if (e->rqueue > e->wqueue)
		l->full_events++;
	if (e->has_drops) {
		if (!l->has_drops)
			l->drops_first = e->drops;
		l->has_drops = 1;
		l->drops_now = e->drops;
	}
}

struct left_ctx {
	struct sampler *s;
};

/* A tracked connection left the queue: its listener is encoded as
 * process index * 65536 + listener index. */
static void conn_left(void *ctx, int code, uint64_t arrival_ns,
		      uint64_t left_ns)
{
	struct sampler *s = ctx;
	size_t pi = (size_t)code >> 16, li = (size_t)code & 0xffff;

	if (pi >= s->n_proc || li >= s->proc[pi].n_listeners)
		return;
	struct sampler_listener *l = &s->proc[pi].listener[li];
	uint64_t wait_ms =
	    left_ns > arrival_ns ? (left_ns - arrival_ns) / 1000000u : 0;
	l->left++;
	aw_hist_add(&l->queue_wait_ms, wait_ms);
	if (wait_ms > s->slow_ms)
		l->slow_waits++;
	if (left_ns > l->last_accept_ns)
		l->last_accept_ns = left_ns;
}

static void track_connections(struct sampler *s)
{
	struct sample_conn_port port[256];
	size_t n = 0;
	int busy = s->conns.queued > 0;
	char err[128];

	if (s->conns.gen &&
	    s->now_ns - s->conns.last_dump_ns < s->conn_period_ns)
		return;
	for (size_t i = 0; i < s->n_proc && i < 32768; i++)
		for (size_t j = 0; j < s->proc[i].n_listeners && j < 65536;
		     j++) {
			const struct sampler_listener *l =
			    &s->proc[i].listener[j];
			if (!l->present || n == 256)
				continue;
			busy = busy || l->queue_now > 0;
			port[n].port = l->port;
			port[n].listener = (int)((i << 16) | j);
			n++;
		}
	if (!busy || n == 0)
		return;
	if (sample_conn_dump(&s->conns, port, n, s->now_ns, conn_left, s, err,
			     sizeof(err))) {
		s->conn_errors++;
		snprintf(s->last_error, sizeof(s->last_error), "%s", err);
	}
}

/* Every listener by lookup, where it can be: 1 when some needs a dump
 * (not parsed, gone, another socket answered, or the request failed). */
static int read_exact(struct sampler *s)
{
	int need_dump = 0;

	for (size_t i = 0; i < s->n_proc; i++) {
		struct sampler_proc *p = &s->proc[i];
		for (size_t j = 0; !p->gone && j < p->n_listeners; j++) {
			struct sampler_listener *l = &p->listener[j];
			struct sockdiag_entry e;
			l->read_now = 0;
			/* An empty queue is read at a tenth of the rate:
			 * the moment it fills is found within 10 ticks. */
			if (l->dumps && l->queue_now == 0 &&
			    s->ticks % STEADY_EVERY != 0) {
				l->read_now = 1;
				continue;
			}
			if (!l->exact ||
			    sample_listen_read(&s->listen_nl, l->family,
					       l->addr, l->port, l->ino, &e)) {
				need_dump = 1;
				continue;
			}
			listener_reading(l, &e);
			l->read_now = 1;
		}
	}
	return need_dump;
}

/* A dump for the listeners the lookups did not read, and the rescan
 * (threads, descriptors, new listeners) when due. */
static void read_dump(struct sampler *s, int rescan_due)
{
	struct sockdiag_table t;
	char err[128];

	if (sockdiag_dump(&t, err, sizeof(err))) {
		snprintf(s->last_error, sizeof(s->last_error), "%s", err);
		return;
	}
	s->listener_dumps++;
	if (rescan_due) {
		rescan(s, &t);
		s->last_rescan_ns = s->now_ns;
	}
	for (size_t i = 0; i < s->n_proc; i++) {
		struct sampler_proc *p = &s->proc[i];
		for (size_t j = 0; !p->gone && j < p->n_listeners; j++)
			if (!p->listener[j].read_now)
				listener_reading(
				    &p->listener[j],
				    sockdiag_find(&t, p->listener[j].ino));
	}
	sockdiag_free(&t);
}

void sampler_tick(struct sampler *s, uint64_t now_ns)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	/* What a sample stands for: the time since the tick before (none
	 * for the first), at most a second (a watcher stopped longer knows
	 * nothing of it). */
	s->tick_ns = s->ticks ? now_ns - s->now_ns : 0;
	if (s->tick_ns > 1000000000ull)
		s->tick_ns = 1000000000ull;
	s->now_ns = now_ns;
	s->now_real_ns = clock_ns(CLOCK_REALTIME);
	int rescan_due =
	    s->ticks == 0 || now_ns - s->last_rescan_ns >= RESCAN_NS;
	s->ticks++;
	/* New listeners and threads are looked for once a second; between,
	 * a lookup per listener costs microseconds where a dump walks every
	 * listener of the host. */
	int need_dump = read_exact(s);
	if (need_dump || rescan_due)
		read_dump(s, rescan_due);
	s->listener_reads++;
	s->listener_dump_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	for (size_t i = 0; i < s->n_proc; i++)
		if (!s->proc[i].gone)
			read_threads(s, &s->proc[i]);
	track_connections(s);
}

static int read_somaxconn(uint32_t *v)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	unsigned int n;

	if (!f)
		return -1;
	int ok = fscanf(f, "%u", &n) == 1;
	fclose(f);
	if (ok)
		*v = n;
	return ok ? 0 : -1;
}

static int proc_init(struct sampler_proc *p, pid_t pid, char *err,
		     size_t errlen)
{
	uid_t uids[4];
	char state;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (procinfo_stat(pid, &state, &p->start_ticks) || state == 'Z') {
		snprintf(err, errlen, "pid %d: no such process", (int)pid);
		return -1;
	}
	if (procinfo_uids(pid, uids) == 0)
		p->uid = uids[1];
	if (procinfo_comm(pid, p->comm, sizeof(p->comm)))
		snprintf(p->comm, sizeof(p->comm), "?");
	p->bypass = bypass_detect(pid);
	p->have_netstat = netstat_read(pid, &p->netstat_first) == 0;
	return 0;
}

int sampler_init(struct sampler *s, const pid_t *pids, size_t n,
		 unsigned int hz, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	sample_conn_init(&s->conns);
	s->listen_nl = -1;
	s->hz = hz ? hz : 1;
	s->period_ns = 1000000000ull / s->hz;
	s->conn_period_ns = 1000000000ull / CONN_HZ;
	if (s->conn_period_ns < s->period_ns)
		s->conn_period_ns = s->period_ns;
	s->slow_ms = DEFAULT_SLOW_MS;
	if (read_somaxconn(&s->somaxconn))
		s->somaxconn = 0;
	s->proc = calloc(n ? n : 1, sizeof(*s->proc));
	if (!s->proc) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (proc_init(&s->proc[i], pids[i], err, errlen))
			return -1;
		s->n_proc++;
	}
	s->start_ns = clock_ns(CLOCK_MONOTONIC);
	s->start_real_ns = clock_ns(CLOCK_REALTIME);
	s->now_ns = s->start_ns;
	s->now_real_ns = s->start_real_ns;
	return 0;
}

void sampler_free(struct sampler *s)
{
	for (size_t i = 0; i < s->n_proc; i++) {
		struct sampler_proc *p = &s->proc[i];
		for (size_t j = 0; j < p->n_threads; j++)
			sample_task_close(&p->thread[j].task);
		for (size_t j = 0; j < p->n_listeners; j++)
			free(p->listener[j].episode);
		free(p->thread);
		free(p->listener);
	}
	free(s->proc);
	sample_conn_free(&s->conns);
	if (s->listen_nl >= 0)
		close(s->listen_nl);
	memset(s, 0, sizeof(*s));
	s->listen_nl = -1;
}

/*
 * TCP_DEFER_ACCEPT of p's listeners, once, at the end (a server sets it
 * after listen(), so no earlier reading is surer). The pidfd is taken
 * before the start time is checked: then it names the process sampled.
 */
static void read_defer(struct sampler_proc *p)
{
	if (p->gone)
		return;
	int pidfd = sample_defer_pidfd(p->pid);
	if (pidfd < 0)
		return;
	if (proc_same(p))
		for (size_t i = 0; i < p->n_listeners; i++) {
			struct sampler_listener *l = &p->listener[i];
			if (l->present)
				l->defer =
				    sample_defer_read(pidfd, l->fd, l->ino);
		}
	close(pidfd);
}

void sampler_finish(struct sampler *s)
{
	for (size_t i = 0; i < s->n_proc; i++) {
		struct sampler_proc *p = &s->proc[i];
		if (p->have_netstat)
			p->have_netstat =
			    netstat_read(p->pid, &p->netstat_last) == 0;
		read_defer(p);
		for (size_t j = 0; j < p->n_threads; j++) {
			struct sampler_thread *th = &p->thread[j];
			int li = th->accept_listener;
			if (li < 0 || (size_t)li >= p->n_listeners ||
			    th->in_accept || !th->away_ns)
				continue;
			episode_add(&p->listener[li], th->away_ns);
			th->away_ns = 0;
		}
	}
}

uint64_t sampler_accepts(const struct sampler_listener *l)
{
	uint64_t seen = (l->left > l->falls ? l->left : l->falls) + l->fresh;

	return l->n_episodes > seen ? l->n_episodes : seen;
}

uint64_t sampler_away_mean_ns(const struct sampler *s,
			      const struct sampler_listener *l)
{
	uint64_t accepts = sampler_accepts(l);

	(void)s;
	if (l->away_ns == 0 || accepts == 0)
		return 0;
	return l->away_ns / accepts;
}
