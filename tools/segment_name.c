/*
 * Segment names across PID namespaces. A segment written in another
 * namespace is found by one walk of /proc, and only when such a name
 * exists: each process's /proc/PID/ns/pid is stat'ed, and the NSpid line
 * of those in a wanted namespace read.
 */
#include "segment_name.h"

#include "acceptwatch_abi.h"
#include "segment_reader.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A positive decimal of at most max without a leading zero, ending at
 * *end ('\0' or '.'), into *v. 0 or -1. */
static int parse_number(const char *s, unsigned long long max,
			unsigned long long *v, const char **end)
{
	const char *p = s;

	if (*p < '1' || *p > '9')
		return -1;
	unsigned long long x = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (unsigned)(*p - '0');
		if (x > max)
			return -1;
	}
	*v = x;
	*end = p;
	return 0;
}

int segment_name_parse(const char *name, struct segment_ref *ref)
{
	size_t plen = strlen(AW_SEG_PREFIX);
	unsigned long long a, b;
	const char *p;

	memset(ref, 0, sizeof(*ref));
	if (strncmp(name, AW_SEG_PREFIX, plen) != 0 ||
	    strlen(name) >= sizeof(ref->name))
		return -1;
	if (parse_number(name + plen, UINT32_MAX, &a, &p))
		return -1;
	if (*p == '\0') {
		if (a > INT_MAX)
			return -1;
		ref->ns_pid = (pid_t)a;
	} else {
		if (*p != '.' || parse_number(p + 1, INT_MAX, &b, &p) ||
		    *p != '\0')
			return -1;
		ref->pid_ns = (uint32_t)a;
		ref->ns_pid = (pid_t)b;
	}
	snprintf(ref->name, sizeof(ref->name), "%s", name);
	return 0;
}

/* The inode of /proc/PID/ns/pid (pid 0: self), 0 when it cannot be read. */
static uint32_t pid_ns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/ns/pid");
	else
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

/* Asked once per reader (a process never changes PID namespace), by any of
 * the snapshot threads (gather.c): they agree on the value. */
uint32_t segment_own_pid_ns(void)
{
	static int known;
	static uint32_t ns;

	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&ns, pid_ns_of(0), __ATOMIC_RELAXED);
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&ns, __ATOMIC_RELAXED);
}

/* The pid of pid in its own namespace: the last NSpid field. 0 unknown. */
static pid_t innermost_pid(pid_t pid)
{
	char path[64], buf[4096];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	pid_t last = 0;
	while (fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, "NSpid:", 6) != 0)
			continue;
		char *s = buf + 6, *end;
		for (;;) {
			errno = 0;
			long v = strtol(s, &end, 10);
			if (end == s || errno || v <= 0 || v > INT_MAX)
				break;
			last = (pid_t)v;
			s = end;
		}
		break;
	}
	fclose(f);
	return last;
}

void segment_ref_of_pid(pid_t pid, struct segment_ref *ref)
{
	uint32_t ns = pid_ns_of(pid);
	pid_t inner = ns ? innermost_pid(pid) : 0;

	memset(ref, 0, sizeof(*ref));
	ref->pid = pid;
	ref->ns_pid = pid;
	if (ns == 0 || ns == AW_PIDNS_INIT_INO || inner == 0) {
		snprintf(ref->name, sizeof(ref->name), AW_SEG_PREFIX "%d",
			 (int)pid);
		return;
	}
	ref->pid_ns = ns;
	ref->ns_pid = inner;
	snprintf(ref->name, sizeof(ref->name), AW_SEG_PREFIX "%u.%d",
		 (unsigned)ns, (int)inner);
}

/* Every name in SEGMENT_DIR that parses, unresolved. 0 or -1 with err. */
static int list_names(struct segment_ref **refs, size_t *n, char *err,
		      size_t errlen)
{
	size_t cap = 0;
	struct dirent *e;
	struct segment_ref ref;

	*refs = NULL;
	*n = 0;
	DIR *d = opendir(SEGMENT_DIR);
	if (!d) {
		snprintf(err, errlen, "%s: %s", SEGMENT_DIR, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (segment_name_parse(e->d_name, &ref))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct segment_ref *p =
			    realloc(*refs, cap * sizeof(*p));
			if (!p) {
				snprintf(err, errlen, "out of memory");
				closedir(d);
				free(*refs);
				*refs = NULL;
				*n = 0;
				return -1;
			}
			*refs = p;
		}
		(*refs)[(*n)++] = ref;
	}
	closedir(d);
	return 0;
}

/* Whether any of refs[0, n) still waits for a pid in namespace ns. */
static int wanted(const struct segment_ref *refs, size_t n, uint32_t ns)
{
	for (size_t i = 0; i < n; i++)
		if (refs[i].pid_ns == ns && refs[i].pid == 0)
			return 1;
	return 0;
}

/*
 * Names of other namespaces: one walk of /proc. A process in a wanted
 * namespace marks that namespace seen; its innermost pid picks its name.
 * An unresolved name is then of an exited process if its namespace is
 * visible from here (the initial namespace sees every process; otherwise
 * a process of it was seen), else hidden.
 */
static void resolve_foreign(struct segment_ref *refs, size_t n, uint32_t own)
{
	uint32_t *seen = calloc(n, sizeof(*seen));
	size_t n_seen = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (*end || v <= 0 || v > INT_MAX)
			continue;
		uint32_t ns = pid_ns_of((pid_t)v);
		if (ns == 0 || ns == own || !wanted(refs, n, ns))
			continue;
		if (seen && n_seen < n)
			seen[n_seen++] = ns;
		pid_t inner = innermost_pid((pid_t)v);
		for (size_t i = 0; i < n; i++)
			if (refs[i].pid_ns == ns && refs[i].ns_pid == inner)
				refs[i].pid = (pid_t)v;
	}
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++) {
		struct segment_ref *r = &refs[i];
		if (r->pid || r->pid_ns == 0 || r->pid_ns == own)
			continue;
		int visible = own == AW_PIDNS_INIT_INO;
		for (size_t k = 0; !visible && seen && k < n_seen; k++)
			visible = seen[k] == r->pid_ns;
		r->hidden = !visible;
	}
	free(seen);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct segment_ref *x = a, *y = b;

	if (x->pid != y->pid) {
		if (!x->pid || !y->pid)
			return x->pid ? -1 : 1; /* unresolved last */
		return x->pid < y->pid ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

int segment_scan(struct segment_ref **refs, size_t *n, char *err, size_t errlen)
{
	if (list_names(refs, n, err, errlen))
		return -1;
	uint32_t own = segment_own_pid_ns();
	int foreign = 0;
	for (size_t i = 0; i < *n; i++) {
		struct segment_ref *r = &(*refs)[i];
		/* A short name, or this namespace's: the pid as named. */
		if (r->pid_ns == 0 || r->pid_ns == own)
			r->pid = r->ns_pid;
		else
			foreign = 1;
	}
	if (foreign)
		resolve_foreign(*refs, *n, own);
	if (*n)
		qsort(*refs, *n, sizeof(**refs), ref_cmp);
	return 0;
}
