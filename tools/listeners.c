/*
 * acceptwatch listeners: every listening TCP socket of the reader's network
 * namespace, as `ss -ntl` lists them (NETLINK_SOCK_DIAG: Recv-Q is the
 * accept queue now, Send-Q the effective backlog), with the processes that
 * hold each one, found through the socket inodes under /proc/PID/fd. Where
 * such a process runs the shim, its segment adds the requested backlog,
 * the clamp and the verdict. Without root only the caller's own processes
 * can be matched: the /proc entries that could not be read are counted.
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "format.h"
#include "live.h"
#include "procinfo.h"
#include "recent.h"
#include "report.h"
#include "segment_reader.h"
#include "sockdiag.h"
#include "bypass.h"
#include "verdict.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A process holding a listener, and what its segment says about it. */
struct owner {
	pid_t pid;
	char comm[AW_COMM_LEN + 1];
	const struct segment_snapshot *snap; /* NULL: no readable segment */
	const struct segment_listener *l;    /* NULL: not in the segment */
	unsigned bypass; /* bypass_kind bits: what LD_PRELOAD cannot see */
	int stopped;	 /* SIGSTOP'd or traced: no thread of it can accept */
};

struct socket_row {
	const struct sockdiag_entry *e;
	struct owner *owner;
	size_t n_owner;
};

/* Segments read so far, one attempt per pid. */
struct seg_cache {
	pid_t *pid;
	struct segment_snapshot **snap; /* NULL when unreadable */
	size_t n;
};

struct listeners_state {
	struct sockdiag_table table;
	struct socket_row *row; /* one per table entry */
	struct seg_cache cache;
	struct live_context live;
	size_t proc_seen;
	size_t proc_unreadable; /* fd directories we may not read */
};

/*
 * When each listener's trouble last rose: check's state file, read once
 * by listeners_command before any snapshot, then each snapshot as it is
 * taken, so the VERDICT column judges check's default window as check
 * does. Freed at the end of listeners_command.
 */
static struct recent_table listeners_mem;
static uint64_t listeners_recent_ns = VERDICT_DEFAULT_RECENT_NS;

static const struct segment_snapshot *cache_get(struct listeners_state *s,
						pid_t pid)
{
	struct seg_cache *c = &s->cache;
	char err[SEGMENT_ERR_LEN];

	for (size_t i = 0; i < c->n; i++)
		if (c->pid[i] == pid)
			return c->snap[i];
	pid_t *np = realloc(c->pid, (c->n + 1) * sizeof(*np));
	if (!np)
		return NULL;
	c->pid = np;
	struct segment_snapshot **ns =
	    realloc(c->snap, (c->n + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	c->snap = ns;
	struct segment_snapshot *snap = malloc(sizeof(*snap));
	if (snap &&
	    segment_snapshot(pid, snap, err, sizeof(err)) == SEGMENT_OK &&
	    snap->alive) {
		live_apply(&s->live, snap);
		/* Out of memory: a looser bound, never a wrong one. */
		recent_update_snapshot(&listeners_mem, snap);
	} else if (snap) {
		segment_snapshot_free(snap);
		free(snap);
		snap = NULL;
	}
	c->pid[c->n] = pid;
	c->snap[c->n] = snap;
	c->n++;
	return snap;
}

static int add_owner(struct listeners_state *s, struct socket_row *row,
		     pid_t pid)
{
	for (size_t i = 0; i < row->n_owner; i++)
		if (row->owner[i].pid == pid)
			return 0; /* the same socket on two fds */
	struct owner *o =
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
	o->snap = cache_get(s, pid);
	for (uint32_t i = 0; o->snap && i < o->snap->n_listeners; i++) {
		const struct segment_listener *l = &o->snap->listener[i];
		if (l->ino == row->e->ino && !(l->flags & AW_LF_CLOSED))
			o->l = l;
	}
	/* Under the shim the program is dynamic; else say why it may not
	 * be, so "no shim" is not read as "nothing to see". */
	o->bypass = o->snap ? o->snap->bypass : bypass_detect(pid);
	return 0;
}

/* The listener row of socket inode ino, or NULL. */
static struct socket_row *row_of(struct listeners_state *s, uint64_t ino)
{
	for (size_t i = 0; i < s->table.n; i++)
		if (s->row[i].e->ino == ino)
			return &s->row[i];
	return NULL;
}

/* The fds of one process: "socket:[INO]" links naming a listener. */
static void scan_pid(struct listeners_state *s, pid_t pid)
{
	char path[64], link[64 + 256], target[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		/* ENOENT: it exited meanwhile, nothing to count. */
		if (errno != ENOENT)
			s->proc_unreadable++;
		return;
	}
	s->proc_seen++;
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
		struct socket_row *row = row_of(s, ino);
		if (row)
			add_owner(s, row, pid);
	}
	closedir(d);
}

static void scan_proc(struct listeners_state *s)
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
		scan_pid(s, (pid_t)pid);
	}
	closedir(d);
}

static int row_cmp(const void *a, const void *b)
{
	const struct socket_row *x = a, *y = b;

	if (x->e->port != y->e->port)
		return x->e->port < y->e->port ? -1 : 1;
	if (x->e->family != y->e->family)
		return x->e->family < y->e->family ? -1 : 1;
	return strcmp(x->e->address, y->e->address);
}

/* --- output -------------------------------------------------------------*/

/*
 * The kernel's own view, where no holder's segment speaks for the socket (a
 * pre-fork pool whose workers never accepted yet have none, and a daemon's
 * master none either): connections wait and every process that holds the
 * socket is stopped, so none of them can take one.
 */
static int stalled_by_holders(const struct socket_row *r)
{
	if (r->n_owner == 0 || r->e->rqueue == 0)
		return 0;
	for (size_t i = 0; i < r->n_owner; i++)
		if (r->owner[i].l || !r->owner[i].stopped)
			return 0;
	return 1;
}

static const char *owner_verdict(const struct owner *o, int *n_out,
				 struct verdict *v)
{
	struct verdict_window w;

	*n_out = 0;
	if (!o->l)
		return NULL;
	memset(&w, 0, sizeof(w));
	w.recent_ns = listeners_recent_ns;
	recent_apply(&listeners_mem, o->snap, o->l, &w);
	*n_out = verdict_assess(o->snap, o->l, &w, v);
	return *n_out ? verdict_name(v[0].kind) : "OK";
}

static void text_row(const struct socket_row *r)
{
	struct verdict v[VERDICT_KINDS];
	char procs[320] = "-", req[16] = "-";
	char comm[FMT_PRINTABLE_LEN(AW_COMM_LEN)],
	    addr[FMT_PRINTABLE_LEN(sizeof(r->e->address))];
	const char *clamp = "-", *verdict = "(no shim)";
	size_t used = 0;
	int n;

	/* comm and a Unix socket's path are any local user's choice: never
	 * raw to the terminal. */
	for (size_t i = 0; i < r->n_owner; i++) {
		fmt_printable(comm, sizeof(comm), r->owner[i].comm,
			      sizeof(r->owner[i].comm));
		int w = snprintf(procs + used, sizeof(procs) - used, "%s%d/%s",
				 i ? "," : "", (int)r->owner[i].pid, comm);
		if (w < 0 || (size_t)w >= sizeof(procs) - used)
			break;
		used += (size_t)w;
	}
	char why[80];
	if (r->n_owner == 0)
		verdict = "(owner not visible)";
	for (size_t i = 0; i < r->n_owner; i++) {
		unsigned cannot = r->owner[i].bypass;
		if (!cannot || r->owner[i].l)
			continue;
		char kinds[48];
		snprintf(why, sizeof(why), "(no shim: %s)",
			 bypass_describe(cannot, kinds, sizeof(kinds)));
		verdict = why;
	}
	for (size_t i = 0; i < r->n_owner; i++) {
		const struct owner *o = &r->owner[i];
		const char *name = owner_verdict(o, &n, v);
		if (!name)
			continue;
		verdict = name;
		clamp = (o->l->flags & AW_LF_CLAMPED) ? "yes" : "no";
		if (o->l->flags & AW_LF_ADOPTED)
			snprintf(req, sizeof(req), "?");
		else
			snprintf(req, sizeof(req), "%" PRId32,
				 o->l->requested_backlog);
		if (n)
			break; /* the first owner with a problem speaks */
	}
	if (stalled_by_holders(r))
		verdict = "STALLED (holders stopped)";
	fmt_printable(addr, sizeof(addr), r->e->address, sizeof(r->e->address));
	printf("%-28s %7" PRIu32 " %7" PRIu32 "  %-9s %-7s %-18s %s\n", addr,
	       r->e->rqueue, r->e->wqueue, req, clamp, verdict, procs);
}

static void json_owner(const struct owner *o)
{
	struct verdict v[VERDICT_KINDS];
	int n;

	printf("{\"pid\":%d,\"comm\":", (int)o->pid);
	report_json_str(stdout, o->comm, sizeof(o->comm));
	printf(",\"shim\":%s,\"stopped\":%s", o->l ? "true" : "false",
	       o->stopped ? "true" : "false");
	char kinds[48];
	printf(",\"bypass\":");
	report_json_str(stdout,
			bypass_describe(o->bypass, kinds, sizeof(kinds)),
			sizeof(kinds));
	if (!o->l) {
		printf("}");
		return;
	}
	const struct segment_listener *l = o->l;
	owner_verdict(o, &n, v);
	printf(",\"requested_backlog\":");
	if (l->flags & AW_LF_ADOPTED)
		printf("null");
	else
		printf("%" PRId32, l->requested_backlog);
	printf(
	    ",\"effective_backlog\":%" PRIu32
	    ",\"clamped\":%s,\"raised\":%s,\"verdict\":\"%s\",\"verdicts\":[",
	    l->effective_backlog, (l->flags & AW_LF_CLAMPED) ? "true" : "false",
	    (l->flags & AW_LF_RAISED) ? "true" : "false",
	    n ? verdict_key(v[0].kind) : "ok");
	for (int i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", verdict_key(v[i].kind));
	printf("]}");
}

static void json_row(const struct socket_row *r)
{
	printf("{\"address\":");
	report_json_str(stdout, r->e->address, sizeof(r->e->address));
	printf(",\"family\":\"%s\",\"port\":%u,\"recv_q\":%" PRIu32
	       ",\"send_q\":%" PRIu32 ",\"ino\":%" PRIu64 ",\"uid\":%" PRIu32
	       ",",
	       r->e->family == AF_INET6 ? "inet6" : "inet",
	       (unsigned int)r->e->port, r->e->rqueue, r->e->wqueue, r->e->ino,
	       r->e->uid);
	/* "drops": the same figure, the name before socket_drops. */
	for (int i = 0; i < 2; i++) {
		printf("%s\"%s\":", i ? "," : "", i ? "drops" : "socket_drops");
		if (r->e->has_drops)
			printf("%" PRIu64, r->e->drops);
		else
			printf("null");
	}
	printf(",\"stalled_by_holders\":%s,\"owners\":[",
	       stalled_by_holders(r) ? "true" : "false");
	for (size_t i = 0; i < r->n_owner; i++) {
		if (i)
			printf(",");
		json_owner(&r->owner[i]);
	}
	printf("]}");
}

static void print_all(const struct listeners_state *s, int json)
{
	size_t shimmed = 0;

	for (size_t i = 0; i < s->table.n; i++)
		for (size_t j = 0; j < s->row[i].n_owner; j++)
			if (s->row[i].owner[j].l) {
				shimmed++;
				break;
			}
	if (json) {
		printf("{\"schema\":%d,\"listeners\":[", REPORT_JSON_SCHEMA);
		for (size_t i = 0; i < s->table.n; i++) {
			if (i)
				printf(",");
			json_row(&s->row[i]);
		}
		printf("],\"sockets\":%zu,\"with_shim\":%zu,"
		       "\"proc_scanned\":%zu,\"proc_unreadable\":%zu}\n",
		       s->table.n, shimmed, s->proc_seen, s->proc_unreadable);
		return;
	}
	printf("%-28s %7s %7s  %-9s %-7s %-18s %s\n", "ADDRESS", "RECV-Q",
	       "SEND-Q", "REQUESTED", "CLAMPED", "VERDICT", "PROCESS");
	for (size_t i = 0; i < s->table.n; i++)
		text_row(&s->row[i]);
	printf("\n%zu listening socket%s, %zu under acceptwatch; %zu "
	       "process%s scanned, %zu could not be read%s\n",
	       s->table.n, s->table.n == 1 ? "" : "s", shimmed, s->proc_seen,
	       s->proc_seen == 1 ? "" : "es", s->proc_unreadable,
	       s->proc_unreadable ? " (their sockets show no owner: run as "
				    "root to see every owner)"
				  : "");
}

static void state_free(struct listeners_state *s)
{
	for (size_t i = 0; s->row && i < s->table.n; i++)
		free(s->row[i].owner);
	free(s->row);
	for (size_t i = 0; i < s->cache.n; i++) {
		if (s->cache.snap[i])
			segment_snapshot_free(s->cache.snap[i]);
		free(s->cache.snap[i]);
	}
	free(s->cache.pid);
	free(s->cache.snap);
	sockdiag_free(&s->table);
	live_free(&s->live);
}

static int parse_opts(int argc, char **argv, int *json)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"window", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	listeners_recent_ns = VERDICT_DEFAULT_RECENT_NS;
	while ((c = getopt_long(argc, argv, "jw:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'w':
			if (check_parse_window(optarg, &listeners_recent_ns)) {
				aw_error("listeners: --window wants a duration "
					 "(300, 90s, 5m, 1h; 0 for none; at "
					 "most a day), not '%s'",
					 optarg);
				return -1;
			}
			break;
		case 'h':
			usage_command(stdout, "listeners");
			return 1;
		default:
			aw_error("listeners: unknown option '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		aw_error("listeners: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

int listeners_command(int argc, char **argv)
{
	struct listeners_state s;
	char err[128];
	int json = 0;

	int ret = parse_opts(argc, argv, &json);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	memset(&s, 0, sizeof(s));
	live_init(&s.live);
	if (sockdiag_dump(&s.table, err, sizeof(err))) {
		aw_error("listeners: %s", err);
		live_free(&s.live);
		return AW_EXIT_USAGE;
	}
	char path[4096], why[512];
	recent_init(&listeners_mem);
	if (recent_default_path(path, sizeof(path)) == 0 &&
	    recent_load(&listeners_mem, path, why, sizeof(why)))
		recent_free(&listeners_mem); /* check says why; not used */
	s.row = calloc(s.table.n ? s.table.n : 1, sizeof(*s.row));
	if (!s.row) {
		aw_error("listeners: out of memory");
		recent_free(&listeners_mem);
		state_free(&s);
		return AW_EXIT_USAGE;
	}
	for (size_t i = 0; i < s.table.n; i++)
		s.row[i].e = &s.table.entry[i];
	scan_proc(&s);
	qsort(s.row, s.table.n, sizeof(*s.row), row_cmp);
	print_all(&s, json);
	state_free(&s);
	recent_free(&listeners_mem);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return AW_EXIT_OK;
}
