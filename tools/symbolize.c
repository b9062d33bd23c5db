/*
 * Frame names with libdwfl, in this process (symbolize_frame_here; the
 * bounded caller is symbolize_worker.c). Each module is reported on its
 * own, offline, at its file's own addresses (base 0): a captured offset is
 * an address of the ELF file, so the only translation is the module's bias
 * in libdwfl.
 *
 * The files are named by a segment, which any local user can write, and
 * the reader is often root. A file is judged by what was opened, never by
 * how its path is spelled: opened O_PATH first (opening a device or a FIFO
 * for reading has effects of its own), read only if fstat says a regular
 * file of a size we accept and fstatfs says not a pseudo-filesystem (procfs,
 * sysfs...), then reopened through the descriptor, O_NONBLOCK. libdwfl
 * reads it as untrusted ELF; its debug file is found by the callback below
 * under the same rules (libdwfl's own search opens a debuglink with a
 * blocking open()). What libdwfl then does with a file it accepted (inflate
 * .gnu_debugdata, parse DWARF) is bounded by the worker.
 */
#include "symbolize.h"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* uthash: out of memory is a failed add (the entry is then used once and
 * freed), never exit(). */
static int cache_add_failed;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((void)(e), cache_add_failed = 1)
#include <uthash.h>

#define CACHE_SIZE 64 /* modules; least recently used goes first */
#define LOOKUPS 256   /* per module, a power of two */
/* Larger files stay unnamed ("module+0xOFF", for addr2line): libelf maps a
 * file whole, and the worker's address space is bounded (SYMBOLIZE_MEMORY:
 * this leaves libdwfl 64 MiB beside the largest file). */
#define FILE_MAX ((off_t)96 << 20)

/* A name found: libdwfl's search is linear in the symbol table (libc's
 * debug file holds thousands), and many processes share their stacks. */
struct lookup {
	uint64_t offset; /* 0: free */
	uint64_t sym_offset;
	char name[SYMBOLIZE_NAME_LEN];
};

struct module_entry {
	/* the file's path, a newline, the build-id in hex: the cache key */
	char key[4096 + 32 + 1 + 2 * 64 + 1];
	char file[4096 + 32];
	uint8_t build_id[64];
	size_t build_id_len;
	int status; /* enum symbolize_file */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct lookup *lookups; /* LOOKUPS, open addressing; NULL until used */
	UT_hash_handle hh;
};

/*
 * Guarded by cache_lock; entries live until evicted or symbolize_release().
 * The hash keeps insertion order: an entry used is deleted and added again,
 * so the first one is the least recently used (the uthash user guide's
 * cache), and it goes when a new one would pass CACHE_SIZE. Missing files
 * are cached too: they cost a slot, never another's re-read.
 */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module_entry *cache;

static int find_debuginfo(Dwfl_Module *mod, void **userdata,
			  const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name);

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

/* Filesystems whose "regular files" are the kernel's: reading one can
 * consume (/proc/kmsg), block or change state. */
static int pseudo_fs(long type)
{
	static const long pseudo[] = {
	    PROC_SUPER_MAGIC,	 SYSFS_MAGIC,	     DEBUGFS_MAGIC,
	    TRACEFS_MAGIC,	 SECURITYFS_MAGIC,   CGROUP_SUPER_MAGIC,
	    CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,	     DEVPTS_SUPER_MAGIC,
	    PSTOREFS_MAGIC,	 EFIVARFS_MAGIC,     SELINUX_MAGIC,
	    SMACK_MAGIC,	 ANON_INODE_FS_MAGIC};
	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (type == pseudo[i])
			return 1;
	return 0;
}

/*
 * path opened for reading if what it names is a regular file of at most
 * FILE_MAX bytes on a filesystem of files (not procfs, sysfs...): a
 * descriptor (O_NONBLOCK, O_CLOEXEC), or -1: no regular file there, or
 * one refused (*refused set). Judged on the file opened O_PATH, which runs
 * no driver's open and does not block on a FIFO; read through that very
 * file.
 */
static int open_regular(const char *path, struct stat *st, int *refused)
{
	struct statfs fs;
	char self[64];

	*refused = 0;
	int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	int regular = fstat(pfd, st) == 0 && S_ISREG(st->st_mode);
	*refused =
	    regular && (st->st_size > FILE_MAX || fstatfs(pfd, &fs) != 0 ||
			pseudo_fs((long)fs.f_type));
	int fd = -1;
	if (regular && !*refused) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	}
	close(pfd);
	struct stat again;
	if (fd >= 0 && (fstat(fd, &again) || again.st_dev != st->st_dev ||
			again.st_ino != st->st_ino)) {
		close(fd);
		fd = -1;
		*refused = 1;
	}
	return fd;
}

/* Whether the ELF file open at fd has the build-id id (len bytes). */
static int file_has_build_id(int fd, const unsigned char *id, int len)
{
	const void *bits;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf == NULL)
		return 0;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
	int same = n == len && memcmp(bits, id, (size_t)len) == 0;
	elf_end(elf);
	return same;
}

/* The debug file at path, if open_regular() takes it, it is not the
 * module's own file and it has the module's build-id (when it has one):
 * the descriptor, its name in *name (libdwfl's to free), or -1. */
static int try_debug_file(const char *path, const struct stat *main,
			  const unsigned char *id, int idlen, char **name)
{
	struct stat st;
	int refused;
	int fd = open_regular(path, &st, &refused);
	if (fd < 0)
		return -1;
	if ((main && st.st_dev == main->st_dev && st.st_ino == main->st_ino) ||
	    (idlen > 0 && !file_has_build_id(fd, id, idlen)) ||
	    (*name = strdup(path)) == NULL) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * libdwfl's find_debuginfo callback, searching where its standard one does
 * (by build-id under /usr/lib/debug/.build-id, then the debuglink beside
 * the file, in .debug/ and under /usr/lib/debug), with every file opened
 * by open_regular(). A descriptor libdwfl owns, or -1.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata,
			  const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	char path[4096 + 64], dir[4096];
	struct stat main_st, *main = NULL;
	(void)userdata;
	(void)modname;
	(void)base;
	(void)debuglink_crc;

	int idlen = dwfl_module_build_id(mod, &id, &vaddr);
	if (idlen > 1 && idlen <= 64) {
		int n = snprintf(path, sizeof(path),
				 "/usr/lib/debug/.build-id/%02x/", id[0]);
		for (int i = 1; i < idlen; i++)
			n += snprintf(path + n, sizeof(path) - (size_t)n,
				      "%02x", id[i]);
		snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
		int fd =
		    try_debug_file(path, NULL, id, idlen, debuginfo_file_name);
		if (fd >= 0)
			return fd;
	}
	if (file_name == NULL || debuglink_file == NULL ||
	    debuglink_file[0] == '\0' || strchr(debuglink_file, '/') ||
	    snprintf(dir, sizeof(dir), "%s", file_name) >= (int)sizeof(dir))
		return -1;
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (stat(file_name, &main_st) == 0)
		main = &main_st;
	static const char *const where[] = {"%s/%s", "%s/.debug/%s",
					    "/usr/lib/debug%s/%s"};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), where[i], dir, debuglink_file);
		int fd = try_debug_file(path, main, id, idlen > 0 ? idlen : 0,
					debuginfo_file_name);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

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
	struct stat st;
	int refused;
	int fd = open_regular(e->file, &st, &refused);

	e->status = refused ? SYMBOLIZE_UNREADABLE : SYMBOLIZE_MISSING;
	if (fd < 0)
		return;
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

/* Cache lock held. The entry for m, opened; NULL when out of memory.
 * *temporary: not in the cache (the caller frees it after use). */
static struct module_entry *find_module(const struct symbolize_module *m,
					int *temporary)
{
	char file[sizeof(((struct module_entry *)0)->file)];
	char key[sizeof(((struct module_entry *)0)->key)];
	size_t id_len = m->build_id_len < 64 ? m->build_id_len : 64;
	struct module_entry *e;

	file_name(m, file, sizeof(file));
	int n = snprintf(key, sizeof(key), "%s\n", file);
	for (size_t i = 0; i < id_len && n > 0 && (size_t)n + 3 < sizeof(key);
	     i++)
		n += snprintf(key + n, sizeof(key) - (size_t)n, "%02x",
			      m->build_id[i]);
	*temporary = 0;
	cache_add_failed = 0;
	HASH_FIND_STR(cache, key, e);
	if (e != NULL) {
		/* Most recently used: to the end of the order. */
		HASH_DELETE(hh, cache, e);
		HASH_ADD_STR(cache, key, e);
		if (cache_add_failed)
			*temporary = 1;
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, sizeof(e->key));
	memcpy(e->file, file, sizeof(e->file));
	if (id_len)
		memcpy(e->build_id, m->build_id, id_len);
	e->build_id_len = id_len;
	open_module(e);
	if (HASH_COUNT(cache) >= CACHE_SIZE) {
		struct module_entry *old = cache; /* the first: least recent */
		HASH_DELETE(hh, cache, old);
		free_entry(old);
	}
	HASH_ADD_STR(cache, key, e);
	if (cache_add_failed)
		*temporary = 1;
	return e;
}

size_t symbolize_cached(const struct symbolize_module *m, int *has)
{
	struct module_entry *e;
	char file[sizeof(((struct module_entry *)0)->file)];

	pthread_mutex_lock(&cache_lock);
	*has = 0;
	if (m != NULL) {
		file_name(m, file, sizeof(file));
		for (e = cache; e != NULL; e = e->hh.next)
			*has |= strcmp(e->file, file) == 0;
	}
	size_t n = HASH_COUNT(cache);
	pthread_mutex_unlock(&cache_lock);
	return n;
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

int symbolize_frame_here(const struct symbolize_module *m, uint64_t offset,
			 char *name, size_t size, uint64_t *sym_offset)
{
	int temporary, status = SYMBOLIZE_UNREADABLE;

	name[0] = '\0';
	*sym_offset = 0;
	/* Absolute (the vDSO's "linux-vdso.so.1" is not a file); what the
	 * path names is judged when it is opened. */
	if (m->path[0] != '/')
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

void symbolize_release_here(void)
{
	struct module_entry *e, *tmp;

	pthread_mutex_lock(&cache_lock);
	HASH_ITER(hh, cache, e, tmp)
	{
		HASH_DELETE(hh, cache, e);
		free_entry(e);
	}
	pthread_mutex_unlock(&cache_lock);
}
