/*
 * symbolize_frame(): names made by libdwfl in a worker process, so that no
 * file a local user names can hang the reader or grow it. libdwfl inflates
 * .gnu_debugdata (an xz "bomb" of 150 KB is 1 GiB), parses DWARF and
 * follows debuglinks on its own; bounding each of those from outside is
 * what a process does best:
 *  - time: each answer is awaited SYMBOLIZE_TIMEOUT_MS at most, and the
 *    time answers take past 100 ms is SYMBOLIZE_BUDGET_MS at most in all
 *    (however many hostile modules there are); a worker late is killed, its
 *    module given up (never asked again), the next call starts another;
 *  - memory: the worker's address space is limited to what it has at
 *    start plus SYMBOLIZE_MEMORY: an allocation past it fails inside
 *    libdwfl (the module is left unnamed) and never reaches the reader;
 *  - a crash in libdwfl on a crafted file is the worker's, not the run's.
 * One request, one answer, in order, on a SOCK_SEQPACKET pair (whole
 * messages). The worker is forked, not exec'd: the reader is single
 * threaded where it names frames (gather.c names after its threads end).
 */
#include "symbolize.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int given_up_add_failed;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((void)(e), given_up_add_failed = 1)
#include <uthash.h>

#define SLOW_MS 100

struct request {
	int32_t pid;
	uint32_t build_id_len;
	uint64_t offset;
	uint8_t build_id[64];
	char path[4096];
};

struct reply {
	int32_t status;
	uint32_t pad;
	uint64_t sym_offset;
	char name[SYMBOLIZE_NAME_LEN];
};

/* A module path whose reading took too long or killed the worker. */
struct given_up {
	UT_hash_handle hh;
	char path[]; /* the key */
};

/* Guarded by lock; live until symbolize_release(). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t worker = -1;
static int sock = -1;
static uint64_t waited_ms; /* awaiting answers past SLOW_MS, in all */
static struct given_up *given_up;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The worker's address space: what it has now (the reader's mappings,
 * ASan's shadow in a sanitized build) and SYMBOLIZE_MEMORY more. */
static void limit_memory(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	rlim_t have = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
	struct rlimit rl = {have + SYMBOLIZE_MEMORY, have + SYMBOLIZE_MEMORY};
	if (pages == 0 || setrlimit(RLIMIT_AS, &rl))
		_exit(1); /* unbounded is not an option: no names */
}

static void worker_main(int fd)
{
	struct request q;
	struct reply a;

	/* Gone with the reader, whatever it dies of. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	/* libdwfl would ask a debuginfod server when this is set. */
	unsetenv("DEBUGINFOD_URLS");
	limit_memory();
	for (;;) {
		ssize_t n = recv(fd, &q, sizeof(q), 0);
		if (n != (ssize_t)sizeof(q))
			_exit(0); /* the reader closed its end */
		q.path[sizeof(q.path) - 1] = '\0';
		if (q.build_id_len > sizeof(q.build_id))
			q.build_id_len = 0;
		struct symbolize_module m = {.pid = q.pid,
					     .path = q.path,
					     .build_id = q.build_id,
					     .build_id_len = q.build_id_len};
		memset(&a, 0, sizeof(a));
		a.status = symbolize_frame_here(&m, q.offset, a.name,
						sizeof(a.name), &a.sym_offset);
		if (send(fd, &a, sizeof(a), MSG_NOSIGNAL) != (ssize_t)sizeof(a))
			_exit(0);
	}
}

/* Lock held. 0, or -1 when no worker can be started. */
static int worker_start(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	sock = sv[0];
	worker = pid;
	return 0;
}

/* Lock held. */
static void worker_stop(void)
{
	if (worker < 0)
		return;
	close(sock);
	kill(worker, SIGKILL);
	while (waitpid(worker, NULL, 0) < 0 && errno == EINTR)
		;
	worker = -1;
	sock = -1;
}

/* Lock held. */
static int is_given_up(const char *path)
{
	struct given_up *g;
	HASH_FIND_STR(given_up, path, g);
	return g != NULL;
}

/* Lock held. A module not to be asked about again (out of memory: it may
 * be asked again, and cost its timeout again, within the budget). */
static void give_up(const char *path)
{
	size_t len = strlen(path);
	struct given_up *g = malloc(sizeof(*g) + len + 1);
	if (g == NULL)
		return;
	memcpy(g->path, path, len + 1);
	given_up_add_failed = 0;
	HASH_ADD_KEYPTR(hh, given_up, g->path, len, g);
	if (given_up_add_failed)
		free(g);
}

/* Lock held. The worker's answer to q within its time, or -1 (the worker
 * is then gone). */
static int ask(const struct request *q, struct reply *a)
{
	if (worker < 0 && worker_start())
		return -1;
	if (send(sock, q, sizeof(*q), MSG_NOSIGNAL) != (ssize_t)sizeof(*q)) {
		worker_stop();
		return -1;
	}
	uint64_t start = now_ms(), left = SYMBOLIZE_BUDGET_MS - waited_ms;
	uint64_t wait =
	    left < SYMBOLIZE_TIMEOUT_MS ? left : SYMBOLIZE_TIMEOUT_MS;
	struct pollfd p = {.fd = sock, .events = POLLIN};
	int ready;
	for (;;) {
		uint64_t spent = now_ms() - start;
		ready = spent >= wait ? 0 : poll(&p, 1, (int)(wait - spent));
		if (ready >= 0 || errno != EINTR)
			break;
	}
	/* Answers within SLOW_MS are free: a run naming many stacks is not
	 * cut short by its honest modules. */
	uint64_t took = now_ms() - start;
	waited_ms += took > SLOW_MS ? took - SLOW_MS : 0;
	if (ready != 1 || recv(sock, a, sizeof(*a), 0) != (ssize_t)sizeof(*a)) {
		worker_stop();
		return -1;
	}
	a->name[sizeof(a->name) - 1] = '\0';
	return 0;
}

int symbolize_frame(const struct symbolize_module *m, uint64_t offset,
		    char *name, size_t size, uint64_t *sym_offset)
{
	struct request q;
	struct reply a;
	int status = SYMBOLIZE_GAVE_UP;

	name[0] = '\0';
	*sym_offset = 0;
	if (m->path[0] != '/')
		return SYMBOLIZE_UNREADABLE; /* not a file: [vdso] */
	if (strlen(m->path) >= sizeof(q.path))
		return SYMBOLIZE_UNREADABLE;
	memset(&q, 0, sizeof(q));
	q.pid = (int32_t)m->pid;
	q.offset = offset;
	q.build_id_len = m->build_id_len <= sizeof(q.build_id)
			     ? (uint32_t)m->build_id_len
			     : 0;
	memcpy(q.build_id, m->build_id, q.build_id_len);
	snprintf(q.path, sizeof(q.path), "%s", m->path);
	pthread_mutex_lock(&lock);
	if (waited_ms < SYMBOLIZE_BUDGET_MS && !is_given_up(m->path)) {
		if (ask(&q, &a) == 0) {
			status = a.status;
			snprintf(name, size, "%s", a.name);
			*sym_offset = a.sym_offset;
		} else {
			give_up(m->path);
		}
	}
	pthread_mutex_unlock(&lock);
	return status;
}

void symbolize_release(void)
{
	struct given_up *g, *tmp;

	pthread_mutex_lock(&lock);
	worker_stop();
	HASH_ITER(hh, given_up, g, tmp)
	{
		HASH_DELETE(hh, given_up, g);
		free(g);
	}
	waited_ms = 0;
	pthread_mutex_unlock(&lock);
}
