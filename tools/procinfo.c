/*
 * /proc readers. Each opens, reads and closes one small file; every
 * failure is a -1 the caller turns into "unknown", never a crash.
 */
#include "procinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Read a whole small file into buf (NUL-terminated). Length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Fields of a stat line the readers ask for: up to 51 (exit_code). */
#define STAT_FIELDS 52

/*
 * Where each field (1-based, >= 3) of a stat line starts, in at[3..]:
 * comm (field 2) may hold spaces and parentheses, so fields are counted
 * after the last ')'. One pass over the line, however many fields are
 * read from it. The number of fields found plus one (at[] valid below
 * it), or -1.
 */
static int stat_split(const char *line, const char *at[STAT_FIELDS])
{
	const char *p = strrchr(line, ')');
	int f = 3;

	if (!p || p[1] != ' ')
		return -1;
	at[f++] = p += 2;
	for (; *p && f < STAT_FIELDS; p++)
		if (*p == ' ')
			at[f++] = p + 1;
	return f;
}

/* Field `field` of a split line (stat_split gave n) as a number. */
static int stat_value(const char *const at[STAT_FIELDS], int n, int field,
		      uint64_t *value)
{
	char *end;

	if (field >= n)
		return -1;
	errno = 0;
	unsigned long long v = strtoull(at[field], &end, 10);
	if (errno || end == at[field])
		return -1;
	*value = v;
	return 0;
}

/* The state letter and field `field` (3 to 51) of a stat line. */
static int parse_stat(const char *line, int field, char *state, uint64_t *value)
{
	const char *at[STAT_FIELDS];
	int n = stat_split(line, at);

	if (n < 0)
		return -1;
	if (state)
		*state = *at[3];
	return value ? stat_value(at, n, field, value) : 0;
}

int procinfo_start_ticks(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	return parse_stat(buf, 22, NULL, ticks);
}

int procinfo_stat(pid_t pid, char *state, uint64_t *ticks)
{
	struct procinfo_stat ps;

	if (procinfo_stat_image(pid, &ps))
		return -1;
	*state = ps.state;
	*ticks = ps.start_ticks;
	return 0;
}

int procinfo_stat_image(pid_t pid, struct procinfo_stat *ps)
{
	static const int field[PROCINFO_IMAGE_FIELDS] = {26, 27, 28, 45, 46,
							 47, 48, 49, 50, 51};
	char path[64], buf[1024];

	const char *at[STAT_FIELDS];
	int n;

	memset(ps, 0, sizeof(*ps));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0 ||
	    (n = stat_split(buf, at)) < 0 ||
	    stat_value(at, n, 22, &ps->start_ticks))
		return -1;
	ps->state = *at[3];
	/* A hidden or missing field stays 0: older kernels end at 44. */
	for (int i = 0; i < PROCINFO_IMAGE_FIELDS; i++)
		if (stat_value(at, n, field[i], &ps->image[i]))
			ps->image[i] = 0;
	return 0;
}

int procinfo_state(pid_t pid, char *state)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	return parse_stat(buf, 3, state, NULL);
}

int procinfo_uids(pid_t pid, uid_t uids[4])
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	const char *p = strstr(buf, "\nUid:");
	if (!p)
		return -1;
	p += 5;
	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || end == p || v > (uid_t)-1)
			return -1;
		uids[i] = (uid_t)v;
		p = end;
	}
	return 0;
}

int procinfo_comm(pid_t pid, char *dst, size_t dstlen)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(dst, dstlen, "%s", buf);
	return 0;
}

/* 1 stopped, 0 may run, -1 unreadable (the task may have just exited). */
static int task_stopped(pid_t pid, const char *tid)
{
	char path[96], buf[1024], state;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	if (parse_stat(buf, 3, &state, NULL))
		return -1;
	return state == 'T' || state == 't';
}

int procinfo_stopped(pid_t pid)
{
	char path[64];
	int seen = 0, running = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int s = task_stopped(pid, e->d_name);
		if (s < 0)
			continue; /* exited while we looked: not a runner */
		seen++;
		if (!s)
			running++;
	}
	closedir(d);
	if (!seen)
		return -1;
	return running == 0;
}

int procinfo_netns(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/*
 * Whether a maps line in buf[0, len) maps the shim: a path whose last part
 * is "libacceptwatch.so", ended by the line's end, by " (deleted)" (the
 * file was replaced or removed since it was mapped: an upgrade while the
 * process runs; the mapping is still the shim) or by a version suffix
 * ("libacceptwatch.so.1"). A hit at the very end of buf is left for the
 * next read, which keeps the tail.
 */
static int maps_has_shim(const char *buf, size_t len)
{
	static const char shim[] = "/libacceptwatch.so";
	const size_t n = sizeof(shim) - 1;
	const char *p = buf, *end = buf + len;

	while ((p = memmem(p, (size_t)(end - p), shim, n)) != NULL) {
		p += n;
		if (p < end && (*p == '\n' || *p == ' ' || *p == '.'))
			return 1;
	}
	return 0;
}

/* Which of the needles occur in buf[0, len): PROCINFO_MAPS_* bits. file
 * is the " MAJ:MIN INODE " of a maps line mapping the segment, or "". */
static unsigned maps_hits(const char *buf, size_t len, const char *file)
{
	static const char ring[] = "anon_inode:[io_uring]";
	unsigned hits = 0;
	if (maps_has_shim(buf, len))
		hits |= PROCINFO_MAPS_SHIM;
	if (memmem(buf, len, ring, sizeof(ring) - 1))
		hits |= PROCINFO_MAPS_IO_URING;
	if (file[0] && memmem(buf, len, file, strlen(file)))
		hits |= PROCINFO_MAPS_SEGMENT;
	return hits;
}

int procinfo_maps(pid_t pid, unsigned *found)
{
	return procinfo_maps_file(pid, 0, 0, found);
}

int procinfo_maps_file(pid_t pid, dev_t dev, ino_t ino, unsigned *found)
{
	/* Longer than any needle: a name split across reads is kept. */
	const size_t keep = 64;
	char path[64], buf[65536], file[48] = "";
	size_t kept = 0;
	int ret = 0;

	*found = 0;
	/* The fields as the kernel prints them (show_map_vma: "%02x:%02x
	 * %lu "), between the offset and the padded path. */
	if (ino)
		snprintf(file, sizeof(file), " %02x:%02x %llu ", major(dev),
			 minor(dev), (unsigned long long)ino);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Big reads and memmem, one pass for every needle. */
	for (;;) {
		ssize_t n = read(fd, buf + kept, sizeof(buf) - kept);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -1 : 0;
			break;
		}
		size_t have = kept + (size_t)n;
		*found |= maps_hits(buf, have, file);
		kept = have < keep ? have : keep;
		memmove(buf, buf + have - kept, kept);
	}
	close(fd);
	return ret;
}

int procinfo_maps_shim(pid_t pid)
{
	unsigned found;
	if (procinfo_maps(pid, &found) != 0)
		return -1;
	return (found & PROCINFO_MAPS_SHIM) != 0;
}
