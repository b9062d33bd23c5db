/*
 * acceptwatch gc: remove the segments of processes that are gone or no
 * longer run the shim, and only those. What it will not touch: a segment
 * of a live process that still maps the shim, anything under a segment's
 * name that is not a valid segment (a symbolic link, a FIFO, garbage, a
 * header naming another pid), a segment of a PID namespace this reader
 * cannot see into (a sidecar sharing /dev/shm with other containers) and,
 * unless root, another user's segment.
 * Those are reported on their own line ("skip") and left alone.
 */
#include "commands.h"
#include "error.h"
#include "usage.h"

#include "procinfo.h"
#include "segment_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gc_counts {
	size_t removed;
	size_t kept;
	size_t skipped;
	size_t failed;
};

static void gc_usage(FILE *out)
{
	usage_command(out, "gc");
}

/* st_dev/st_ino of name in SEGMENT_DIR, the name itself (no link followed).
 * 0, or -1 when it is gone. */
static int name_identity(const char *name, dev_t *dev, ino_t *ino)
{
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];
	struct stat st;

	snprintf(path, sizeof(path), SEGMENT_DIR "/%s", name);
	if (lstat(path, &st))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/*
 * Why the segment of snap is stale, or NULL when it is in use: its process
 * is gone (or is another process under the same pid), or it exec'd a
 * program without the shim. Maps unreadable: alive decides alone.
 */
static const char *stale_reason(const struct model_process *snap)
{
	if (snap->unshimmed)
		return "process no longer runs the shim";
	return snap->alive ? NULL : "process exited";
}

static void gc_one(const struct segment_ref *ref, int dry_run,
		   struct gc_counts *c)
{
	struct model_process snap;
	char err[SEGMENT_ERR_LEN];
	dev_t dev, dev2;
	ino_t ino, ino2;

	/* The identity first: what is judged below must be what goes. */
	const char *name = ref->name;
	if (name_identity(name, &dev, &ino))
		return; /* gone since the scan */
	int ret = segment_snapshot_ref(ref, &snap, err, sizeof(err));
	const char *why = ret == SEGMENT_OK ? stale_reason(&snap) : NULL;
	model_process_free(&snap);
	if (ret == SEGMENT_MISSING)
		return;
	if (ret != SEGMENT_OK) {
		printf("skip %s: %s\n", name, err);
		c->skipped++;
		return;
	}
	if (!why) {
		c->kept++;
		return;
	}
	if (dry_run) {
		printf("would remove %s (%s)\n", name, why);
		c->removed++;
		return;
	}
	/* Replaced since it was read (a new process got the pid and made
	 * its own segment under the name): not what was judged, keep it. */
	if (name_identity(name, &dev2, &ino2) || dev2 != dev || ino2 != ino) {
		printf("skip %s: replaced while being checked\n", name);
		c->skipped++;
		return;
	}
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];
	snprintf(path, sizeof(path), SEGMENT_DIR "/%s", name);
	if (unlink(path) != 0 && errno != ENOENT) {
		aw_error("gc: %s: %s", path, strerror(errno));
		c->failed++;
		return;
	}
	printf("removed %s (%s)\n", name, why);
	c->removed++;
}

int gc_command(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct gc_counts c = {0};
	int dry_run = 0, opt;
	struct segment_ref *refs;
	size_t n;
	char err[SEGMENT_ERR_LEN];

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			dry_run = 1;
			break;
		case 'h':
			gc_usage(stdout);
			return AW_EXIT_OK;
		default:
			aw_error("gc: unknown option '%s'", argv[optind - 1]);
			return AW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		aw_error("gc: unexpected argument '%s'", argv[optind]);
		return AW_EXIT_USAGE;
	}
	if (segment_scan(&refs, &n, err, sizeof(err))) {
		aw_error("gc: %s", err);
		return AW_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		gc_one(&refs[i], dry_run, &c);
	free(refs);
	printf("gc: %s %zu stale segment%s, kept %zu in use, skipped %zu\n",
	       dry_run ? "would remove" : "removed", c.removed,
	       c.removed == 1 ? "" : "s", c.kept, c.skipped);
	if (fflush(stdout)) {
		aw_error("stdout: %s", strerror(errno));
		return 1;
	}
	return c.failed ? 1 : AW_EXIT_OK;
}
