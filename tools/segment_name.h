/*
 * Segment names and the processes they belong to, across PID namespaces.
 *
 * A shim in the initial PID namespace names its segment
 * "acceptwatch.<pid>"; one in any other namespace (a container)
 * "acceptwatch.<pidns>.<pid>", pid as that namespace numbers it (see the
 * ABI header). The reader works with pids of its own namespace (the one
 * /proc shows): a name is resolved to such a pid through each process's
 * /proc/PID/ns/pid inode and the last NSpid of /proc/PID/status.
 */
#ifndef AW_SEGMENT_NAME_H
#define AW_SEGMENT_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SEGMENT_NAME_LEN 64

/* What a segment's name says, and who it is from here. */
struct segment_ref {
	char name[SEGMENT_NAME_LEN]; /* "acceptwatch.1234", no directory */
	pid_t ns_pid;		     /* the pid in the name */
	uint32_t pid_ns;	     /* the namespace in the name, 0: short */
	pid_t pid;  /* the process as /proc numbers it, 0: none (exited) */
	int hidden; /* its namespace is not visible from here: whether
		       the process runs cannot be told */
};

/* Parse a directory entry: 0 and ref (pid unresolved) for a segment name,
 * -1 for anything else. */
int segment_name_parse(const char *name, struct segment_ref *ref);

/*
 * The segment name of pid (a pid as /proc numbers it): the namespaced one
 * when the process's PID namespace is not the initial one. A process whose
 * namespace cannot be read gets the short name. Never fails.
 */
void segment_ref_of_pid(pid_t pid, struct segment_ref *ref);

/*
 * Every segment name in SEGMENT_DIR, resolved: sorted by pid, unresolved
 * ones (pid 0) last by name. A heap array for the caller to free. 0, or -1
 * with err.
 */
int segment_scan(struct segment_ref **refs, size_t *n, char *err,
		 size_t errlen);

/* The inode of the PID namespace /proc/self is in (the reader's), 0 when
 * unknown. */
uint32_t segment_own_pid_ns(void);

#endif
