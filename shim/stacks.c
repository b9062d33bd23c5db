/*
 * Call-site stacks with libunwind, loaded with dlopen(RTLD_LOCAL) on first
 * use. Linked the usual way, libunwind.so.8 would join the host's global
 * symbol scope, and its weak `backtrace` and its `_Unwind_*` would take the
 * place of glibc's and libgcc's for the host program.
 *
 * A capture takes the return addresses (unw_backtrace, fast) and looks their
 * hash up in a process-local uthash table. Only a stack never seen before is
 * walked again with a cursor to name its frames (slow: symbol tables), and
 * written to the segment. The table's memory is a static arena: nothing here
 * calls malloc, and nothing here can exit on out-of-memory.
 */
#include "stacks.h"

#include "log.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* libunwind's exported names carry the architecture. */
#if defined(__x86_64__)
#define UNW_ARCH "x86_64"
#elif defined(__aarch64__)
#define UNW_ARCH "aarch64"
#endif

#define MAX_FRAMES 32
#define SHOWN_FRAMES 16
#define ARENA_SIZE (32 * 1024)
#define MAX_SITES 256

/* uthash allocates from a static arena and never frees (sites are few). */
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(16)));
static size_t arena_used;
static int arena_full;

static void *arena_alloc(size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (arena_used + size > sizeof(arena)) {
		arena_full = 1;
		return NULL;
	}
	void *p = arena + arena_used;
	arena_used += size;
	return p;
}

#define HASH_NONFATAL_OOM 1
#define uthash_malloc(size) arena_alloc(size)
#define uthash_free(ptr, size) ((void)(ptr), (void)(size))
#include <uthash.h>

struct site {
	uint64_t hash; /* key: hash of the return addresses */
	uint32_t ref;  /* stack index + 1 in the segment, 0 not stored */
	UT_hash_handle hh;
};

static struct site sites[MAX_SITES];
static uint32_t sites_used;
static struct site *site_table;
static int32_t table_pid; /* the segment the refs point into */

struct unw_api {
	int (*backtrace)(void **buffer, int size);
	int (*getcontext)(unw_context_t *uc);
	int (*init_local)(unw_cursor_t *c, unw_context_t *uc);
	int (*step)(unw_cursor_t *c);
	int (*get_reg)(unw_cursor_t *c, int reg, unw_word_t *value);
	int (*get_proc_name)(unw_cursor_t *c, char *buf, size_t len,
			     unw_word_t *offset);
};

static struct unw_api api;
static int api_state; /* 0 not tried, 1 loaded, -1 unavailable */
static void *self_base;

static void *sym(void *lib, const char *name, int *missing)
{
	void *p = dlsym(lib, name);
	if (p == NULL)
		*missing = 1;
	return p;
}

static int load_api(void)
{
	if (api_state != 0)
		return api_state;
	api_state = -1;
#ifndef UNW_ARCH
	aw_log("call-site stacks off: no libunwind names for this "
	       "architecture");
	return api_state;
#else
	void *lib = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (lib == NULL) {
		aw_log("call-site stacks off: %s", dlerror());
		return api_state;
	}
	int missing = 0;
	api.backtrace =
	    (int (*)(void **, int))sym(lib, "unw_backtrace", &missing);
	api.getcontext = (int (*)(unw_context_t *))sym(
	    lib, "_U" UNW_ARCH "_getcontext", &missing);
	api.init_local = (int (*)(unw_cursor_t *, unw_context_t *))sym(
	    lib, "_UL" UNW_ARCH "_init_local", &missing);
	api.step =
	    (int (*)(unw_cursor_t *))sym(lib, "_UL" UNW_ARCH "_step", &missing);
	api.get_reg = (int (*)(unw_cursor_t *, int, unw_word_t *))sym(
	    lib, "_UL" UNW_ARCH "_get_reg", &missing);
	api.get_proc_name =
	    (int (*)(unw_cursor_t *, char *, size_t, unw_word_t *))sym(
		lib, "_UL" UNW_ARCH "_get_proc_name", &missing);
	Dl_info self;
	if (missing || dladdr((void *)load_api, &self) == 0) {
		aw_log("call-site stacks off: libunwind.so.8 lacks a symbol");
		return api_state;
	}
	self_base = self.dli_fbase;
	api_state = 1;
	return api_state;
#endif
}

static int in_shim(const void *ip)
{
	Dl_info info;
	return dladdr(ip, &info) != 0 && info.dli_fbase == self_base;
}

static uint64_t hash_frames(void **ips, int n, uint32_t kind)
{
	uint64_t h = 1469598103934665603ull ^ kind; /* FNV-1a */
	for (int i = 0; i < n; i++) {
		uint64_t v = (uint64_t)(uintptr_t)ips[i];
		for (int b = 0; b < 8; b++) {
			h ^= (v >> (8 * b)) & 0xff;
			h *= 1099511628211ull;
		}
	}
	return h;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* One line per frame outside the shim: "name+0xoff (module)". */
static uint32_t describe_frames(char *text, size_t size)
{
	unw_context_t uc;
	unw_cursor_t cursor;
	size_t used = 0;
	uint32_t frames = 0;

	text[0] = '\0';
	if (api.getcontext(&uc) != 0 || api.init_local(&cursor, &uc) != 0)
		return 0;
	do {
		unw_word_t ip = 0, off = 0;
		char name[160];
		Dl_info info;
		if (api.get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
			break;
		if (in_shim((void *)ip))
			continue;
		const char *module = dladdr((void *)ip, &info) && info.dli_fname
					 ? base_name(info.dli_fname)
					 : "?";
		int n;
		if (api.get_proc_name(&cursor, name, sizeof(name), &off) == 0)
			n = snprintf(text + used, size - used,
				     "%s+0x%lx (%s)\n", name,
				     (unsigned long)off, module);
		else
			n = snprintf(text + used, size - used, "0x%lx (%s)\n",
				     (unsigned long)ip, module);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
		frames++;
	} while (frames < SHOWN_FRAMES && api.step(&cursor) > 0);
	return frames;
}

static uint32_t publish(struct aw_segment *s, uint64_t hash, uint32_t kind,
			uint32_t slot)
{
	uint32_t idx = s->header.stacks_used;
	if (idx >= AW_MAX_STACKS)
		return 0;
	struct aw_stack *st = &s->stack[idx];
	st->hash = hash;
	st->kind = kind;
	st->listener = slot;
	st->frames = describe_frames(st->text, sizeof(st->text));
	__atomic_store_n(&st->hits, 1, __ATOMIC_RELAXED);
	/* Readers trust stacks below stacks_used: raise it last. */
	__atomic_store_n(&s->header.stacks_used, idx + 1, __ATOMIC_RELEASE);
	return idx + 1;
}

static void reset_sites(int32_t pid)
{
	/* A fork: the refs name the parent's segment, and the arena holds
	 * the parent's table. Start over. */
	site_table = NULL;
	sites_used = 0;
	arena_used = 0;
	arena_full = 0;
	table_pid = pid;
}

uint32_t aw_stack_capture(struct aw_segment *s, uint32_t kind, uint32_t slot)
{
	void *ips[MAX_FRAMES];
	if (load_api() != 1)
		return 0;
	if (table_pid != s->header.pid)
		reset_sites(s->header.pid);

	int n = api.backtrace(ips, MAX_FRAMES);
	int first = 0;
	while (first < n && in_shim(ips[first]))
		first++;
	uint64_t hash = hash_frames(ips + first, n - first, kind);

	struct site *found = NULL;
	HASH_FIND(hh, site_table, &hash, sizeof(hash), found);
	if (found != NULL) {
		if (found->ref != 0)
			__atomic_fetch_add(&s->stack[found->ref - 1].hits, 1,
					   __ATOMIC_RELAXED);
		return found->ref;
	}
	uint32_t ref = publish(s, hash, kind, slot);
	if (sites_used >= MAX_SITES || arena_full)
		return ref;
	struct site *site = &sites[sites_used++];
	memset(site, 0, sizeof(*site));
	site->hash = hash;
	site->ref = ref;
	HASH_ADD(hh, site_table, hash, sizeof(site->hash), site);
	return ref;
}

void aw_stack_top(const struct aw_segment *s, uint32_t ref, char *out,
		  size_t size)
{
	out[0] = '\0';
	if (ref == 0 || ref > AW_MAX_STACKS)
		return;
	const char *text = s->stack[ref - 1].text;
	size_t len = strcspn(text, "\n");
	snprintf(out, size, "%.*s", (int)len, text);
}
