/*
 * Frame names with libdwfl. Each module is reported on its own, offline, at
 * its file's own addresses (base 0): a captured offset is an address of the
 * ELF file, so the only translation is the module's bias in libdwfl.
 *
 * The files are named by a segment, which any local user can write: a file
 * is opened O_NONBLOCK (a FIFO does not hang us) and read only if it is a
 * regular file; libdwfl reads it as untrusted ELF.
 */
#include "symbolize.h"

#include <elf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_SIZE 64
#define LOOKUPS 256 /* per module, a power of two */

/* A name found: libdwfl's search is linear in the symbol table (libc's
 * debug file holds thousands), and many processes share their stacks. */
struct lookup {
	uint64_t offset; /* 0: free */
	uint64_t sym_offset;
	char name[SYMBOLIZE_NAME_LEN];
};

struct module_entry {
	char file[4096 + 32];
	uint8_t build_id[64];
	size_t build_id_len;
	int status; /* enum symbolize_file */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct lookup *lookups; /* LOOKUPS, open addressing; NULL until used */
};

/* Guarded by cache_lock; the entries live until symbolize_release(). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module_entry *cache[CACHE_SIZE];
static size_t cache_used;

static char
    *debuginfo_path; /* NULL: libdwfl's default, :.debug:/usr/lib/debug */
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* The file behind path as process pid sees it. A process in our mount
 * namespace root is read through our own path (so the cache is shared);
 * one with another root through /proc/PID/root. */
static void file_name(const struct symbolize_module *m, char *out, size_t size)
{
	static const char deleted[] = " (deleted)";
	/* Cache lock held: our root, and whether the last process asked
	 * about has another (a stack's frames come one after another). */
	static struct stat ours;
	static int have_ours;
	static pid_t last_pid;
	static int last_other;
	char root[64];
	struct stat theirs;
	size_t len = strlen(m->path);

	/* The kernel's mark on a replaced executable's link: the path is
	 * what is there now, and the build-id says whether it still fits. */
	if (len > sizeof(deleted) - 1 &&
	    strcmp(m->path + len - (sizeof(deleted) - 1), deleted) == 0)
		len -= sizeof(deleted) - 1;
	if (!have_ours)
		have_ours = stat("/", &ours) == 0;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)m->pid);
	if (m->pid != last_pid) {
		last_pid = m->pid;
		last_other = m->pid > 0 && have_ours &&
			     stat(root, &theirs) == 0 &&
			     (theirs.st_dev != ours.st_dev ||
			      theirs.st_ino != ours.st_ino);
	}
	if (last_other)
		snprintf(out, size, "%s%.*s", root, (int)len, m->path);
	else
		snprintf(out, size, "%.*s", (int)len, m->path);
}

static int same_build_id(Dwfl_Module *mod, const uint8_t *id, size_t len)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	return n > 0 && (size_t)n == len && memcmp(bits, id, len) == 0;
}

/* An executable or a shared object, by its ELF header: not a core file
 * (/proc/kcore is a regular file too), not anything else. */
static int loadable_elf(int fd)
{
	unsigned char h[18];
	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, ELFMAG, SELFMAG) != 0)
		return 0;
	unsigned type = h[EI_DATA] == ELFDATA2MSB ? (h[16] << 8) | h[17]
						  : h[16] | (h[17] << 8);
	return type == ET_EXEC || type == ET_DYN;
}

static void open_module(struct module_entry *e)
{
	const char *base = strrchr(e->file, '/');
	int fd = open(e->file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	e->status = SYMBOLIZE_MISSING;
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	e->status = SYMBOLIZE_UNREADABLE;
	if (!loadable_elf(fd)) {
		close(fd);
		return;
	}
	e->dwfl = dwfl_begin(&callbacks);
	if (e->dwfl == NULL) {
		close(fd);
		return;
	}
	/* fd is libdwfl's on success. */
	e->mod = dwfl_report_elf(e->dwfl, base ? base + 1 : e->file, e->file,
				 fd, 0, false);
	if (e->mod == NULL) {
		close(fd);
		return;
	}
	dwfl_report_end(e->dwfl, NULL, NULL);
	e->status = SYMBOLIZE_FOUND;
	if (e->build_id_len &&
	    !same_build_id(e->mod, e->build_id, e->build_id_len))
		e->status = SYMBOLIZE_MISMATCH;
}

static void free_entry(struct module_entry *e)
{
	if (e->dwfl)
		dwfl_end(e->dwfl);
	free(e->lookups);
	free(e);
}

/* Cache lock held. The entry for m, opened; NULL when out of memory. */
static struct module_entry *find_module(const struct symbolize_module *m,
					int *temporary)
{
	struct module_entry key;
	file_name(m, key.file, sizeof(key.file));
	key.build_id_len = m->build_id_len < sizeof(key.build_id)
			       ? m->build_id_len
			       : sizeof(key.build_id);
	memcpy(key.build_id, m->build_id, key.build_id_len);
	*temporary = 0;
	for (size_t i = 0; i < cache_used; i++) {
		struct module_entry *e = cache[i];
		if (e->build_id_len == key.build_id_len &&
		    memcmp(e->build_id, key.build_id, key.build_id_len) == 0 &&
		    strcmp(e->file, key.file) == 0)
			return e;
	}
	struct module_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	memcpy(e->file, key.file, sizeof(e->file));
	memcpy(e->build_id, key.build_id, key.build_id_len);
	e->build_id_len = key.build_id_len;
	open_module(e);
	if (cache_used < CACHE_SIZE)
		cache[cache_used++] = e;
	else
		*temporary = 1;
	return e;
}

/* The function whose extent holds the call before the return address.
 * libdwfl falls back to the closest sizeless symbol before an address that
 * no sized symbol holds: that guess is refused here. */
static void name_in(Dwfl_Module *mod, uint64_t offset, char *name, size_t size,
		    uint64_t *sym_offset)
{
	GElf_Addr bias = 0, off = 0;
	GElf_Sym sym;

	name[0] = '\0';
	*sym_offset = 0;
	if (offset == 0 || dwfl_module_getelf(mod, &bias) == NULL)
		return;
	const char *found = dwfl_module_addrinfo(mod, offset - 1 + bias, &off,
						 &sym, NULL, NULL, NULL);
	if (found == NULL || sym.st_size == 0 || off >= sym.st_size)
		return;
	snprintf(name, size, "%s", found);
	*sym_offset = off + 1;
}

/* A path the loader could have mapped a module from: absolute, and not in
 * a pseudo-filesystem (the vDSO's "linux-vdso.so.1" is neither). */
static int plain_path(const char *path)
{
	static const char *const pseudo[] = {"/proc/", "/sys/", "/dev/"};
	if (path[0] != '/')
		return 0;
	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (strncmp(path, pseudo[i], strlen(pseudo[i])) == 0)
			return 0;
	return 1;
}

/* Cache lock held. The slot for offset in e's lookups (its own, or the
 * free one to fill), NULL when there is none. */
static struct lookup *lookup_slot(struct module_entry *e, uint64_t offset)
{
	if (e->lookups == NULL)
		e->lookups = calloc(LOOKUPS, sizeof(*e->lookups));
	if (e->lookups == NULL || offset == 0)
		return NULL;
	uint64_t h = offset * 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 8; i++) {
		struct lookup *l = &e->lookups[(h + i) & (LOOKUPS - 1)];
		if (l->offset == offset || l->offset == 0)
			return l;
	}
	return NULL;
}

static void name_cached(struct module_entry *e, uint64_t offset, char *name,
			size_t size, uint64_t *sym_offset)
{
	struct lookup *l = lookup_slot(e, offset);
	if (l != NULL && l->offset == offset) {
		snprintf(name, size, "%s", l->name);
		*sym_offset = l->sym_offset;
		return;
	}
	name_in(e->mod, offset, name, size, sym_offset);
	if (l == NULL)
		return;
	l->offset = offset;
	l->sym_offset = *sym_offset;
	snprintf(l->name, sizeof(l->name), "%s", name);
}

int symbolize_frame(const struct symbolize_module *m, uint64_t offset,
		    char *name, size_t size, uint64_t *sym_offset)
{
	int temporary, status = SYMBOLIZE_UNREADABLE;

	name[0] = '\0';
	*sym_offset = 0;
	if (!plain_path(m->path))
		return SYMBOLIZE_UNREADABLE;
	pthread_mutex_lock(&cache_lock);
	struct module_entry *e = find_module(m, &temporary);
	if (e != NULL) {
		status = e->status;
		if (status == SYMBOLIZE_FOUND)
			name_cached(e, offset, name, size, sym_offset);
		if (temporary)
			free_entry(e);
	}
	pthread_mutex_unlock(&cache_lock);
	return status;
}

void symbolize_release(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_used; i++)
		free_entry(cache[i]);
	cache_used = 0;
	pthread_mutex_unlock(&cache_lock);
}
