/*
 * stack_frames_copy() and symbolize_frame() on this very program's file:
 * a frame inside a function is named with its offset from the start; an
 * address no sized symbol holds (after a sizeless one, where libdwfl would
 * guess) reads module+0xOFF; another build-id says the file changed; a
 * missing file, a FIFO, a file that is no program, a pseudo-file, forged
 * counts and indexes are survived and said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <elf.h>
#include <link.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acceptwatch_abi.h"
#include "stack_frames.h"
#include "stack_names.h"

/* A symbol without a size (as hand-written assembly leaves them), with
 * code after it that no sized symbol holds. */
__asm__(".text\n"
	".globl aw_sizeless\n"
	".type aw_sizeless, @function\n"
	"aw_sizeless:\n"
	"  nop\n  nop\n  nop\n  nop\n  nop\n  nop\n  nop\n  ret\n");
void aw_sizeless(void);

__attribute__((noinline)) int aw_named_target(int x);
__attribute__((noinline)) int aw_named_target(int x)
{
	return x * 3 + 1;
}

struct self {
	uintptr_t bias;
	struct aw_module module;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self *me = arg;
	(void)size;
	if (info->dlpi_name[0] != '\0')
		return 0; /* the executable comes first, named "" */
	me->bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *at = (const char *)(info->dlpi_addr + ph->p_vaddr);
		size_t pos = 0;
		while (pos + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
			const ElfW(Nhdr) *nh = (const void *)(at + pos);
			size_t desc =
			    pos + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID) {
				memcpy(me->module.build_id, at + desc,
				       nh->n_descsz);
				me->module.build_id_len = nh->n_descsz;
			}
			pos = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;
}

static struct self self_module(void)
{
	struct self me;
	memset(&me, 0, sizeof(me));
	ssize_t n = readlink("/proc/self/exe", me.module.path,
			     sizeof(me.module.path) - 1);
	assert_true(n > 0);
	dl_iterate_phdr(find_self, &me);
	assert_true(me.module.build_id_len > 0);
	return me;
}

static struct aw_stack *one_frame_stack(const struct self *me, uint64_t offset)
{
	struct aw_stack *raw = calloc(1, sizeof(*raw));
	assert_non_null(raw);
	raw->frames = 1;
	raw->modules = 1;
	raw->module[0] = me->module;
	raw->frame[0].offset = offset;
	raw->frame[0].module = 0;
	return raw;
}

/* stack_frames_copy and stack_names_resolve, the previous text freed. */
static void copy(struct model_stack *st, const struct aw_stack *raw)
{
	free(st->text);
	stack_frames_copy(st, raw);
	assert_non_null(st->text);
	stack_names_resolve(st, getpid());
	assert_non_null(st->text);
}

static void release(struct model_stack *st, struct aw_stack *raw)
{
	free(st->text);
	free(st);
	free(raw);
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void test_named_within_extent(void **state)
{
	(void)state;
	struct self me = self_module();
	/* A return address 5 bytes into the function. */
	uint64_t off = (uintptr_t)aw_named_target - me.bias + 5;
	struct aw_stack *raw = one_frame_stack(&me, off);
	struct model_stack *st = calloc(1, sizeof(*st));
	char want[512];

	copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_FOUND);
	assert_true(st->frame[0].named);
	assert_string_equal(st->frame[0].symbol, "aw_named_target");
	assert_int_equal(st->frame[0].symbol_offset, 5);
	snprintf(want, sizeof(want), "aw_named_target+0x5 (%s)\n",
		 base(me.module.path));
	assert_string_equal(st->text, want);
	release(st, raw);
}

static void test_sizeless_not_guessed(void **state)
{
	(void)state;
	struct self me = self_module();
	uint64_t off = (uintptr_t)aw_sizeless - me.bias + 4;
	struct aw_stack *raw = one_frame_stack(&me, off);
	struct model_stack *st = calloc(1, sizeof(*st));
	char want[512];

	copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_FOUND);
	assert_false(st->frame[0].named);
	snprintf(want, sizeof(want), "%s+0x%llx\n", base(me.module.path),
		 (unsigned long long)off);
	assert_string_equal(st->text, want);
	release(st, raw);
}

static void test_build_id_mismatch(void **state)
{
	(void)state;
	struct self me = self_module();
	uint64_t off = (uintptr_t)aw_named_target - me.bias + 5;
	struct aw_stack *raw = one_frame_stack(&me, off);
	struct model_stack *st = calloc(1, sizeof(*st));
	char want[512];

	raw->module[0].build_id[0] ^= 0xff;
	copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_MISMATCH);
	assert_false(st->frame[0].named);
	snprintf(want, sizeof(want),
		 "%s+0x%llx (build-id differs from the file on disk)\n",
		 base(me.module.path), (unsigned long long)off);
	assert_string_equal(st->text, want);
	release(st, raw);
}

static void test_missing_and_fifo(void **state)
{
	(void)state;
	struct self me = self_module();
	struct aw_stack *raw = one_frame_stack(&me, 0x10);
	struct model_stack *st = calloc(1, sizeof(*st));
	char fifo[] = "/tmp/aw-unit-fifo.XXXXXX";

	snprintf(raw->module[0].path, sizeof(raw->module[0].path),
		 "/nonexistent/libgone.so.1");
	copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_MISSING);
	assert_string_equal(st->text, "libgone.so.1+0x10\n");

	/* A FIFO is not read (nor waited on). */
	int fd = mkstemp(fifo);
	assert_true(fd >= 0);
	close(fd);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(raw->module[0].path, sizeof(raw->module[0].path), "%s", fifo);
	copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_MISSING);
	unlink(fifo);
	/* Paths spelled around the pseudo-filesystems, and a link into one:
	 * judged by the file opened, refused all the same. */
	char link[] = "/tmp/aw-unit-link.XXXXXX";
	fd = mkstemp(link);
	assert_true(fd >= 0);
	close(fd);
	unlink(link);
	assert_int_equal(symlink("/proc/version", link), 0);
	const char *const spelled[] = {"//proc/version", "/./proc/version",
				       "/sys/../proc/version", link};
	for (size_t i = 0; i < sizeof(spelled) / sizeof(spelled[0]); i++) {
		snprintf(raw->module[0].path, sizeof(raw->module[0].path), "%s",
			 spelled[i]);
		copy(st, raw);
		assert_int_equal(st->module[0].file, SYMBOLIZE_UNREADABLE);
	}
	unlink(link);

	/* A regular file that is no program; a pseudo-file; a relative path;
	 * the vDSO: none is read. */
	char text[] = "/tmp/aw-unit-text.XXXXXX";
	fd = mkstemp(text);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a program at all\n", 21), 21);
	close(fd);
	const char *const unread[] = {text, "/proc/version", "../../bin/sh",
				      "linux-vdso.so.1"};
	for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++) {
		snprintf(raw->module[0].path, sizeof(raw->module[0].path), "%s",
			 unread[i]);
		copy(st, raw);
		assert_int_equal(st->module[0].file, SYMBOLIZE_UNREADABLE);
		assert_false(st->frame[0].named);
	}
	unlink(text);
	release(st, raw);
}

static void test_forged_counts(void **state)
{
	(void)state;
	struct self me = self_module();
	struct aw_stack *raw = one_frame_stack(&me, 0x10);
	struct model_stack *st = calloc(1, sizeof(*st));

	raw->frames = 1000;
	raw->modules = 1000;
	for (uint32_t i = 0; i < AW_STACK_MODULES; i++) {
		memset(raw->module[i].path, 'A', sizeof(raw->module[i].path));
		raw->module[i].build_id_len = 200;
	}
	for (uint32_t i = 0; i < AW_STACK_FRAMES; i++) {
		raw->frame[i].module = i == 1 ? 99 : 0;
		raw->frame[i].offset = 0x1000 + i;
	}
	copy(st, raw);
	assert_int_equal(st->frames, AW_STACK_FRAMES);
	assert_int_equal(st->modules, AW_STACK_MODULES);
	assert_int_equal(strlen(st->module[0].path), AW_MODULE_PATH - 1);
	assert_string_equal(st->module[0].build_id, "");
	/* Module index past the modules: the offset alone. */
	assert_int_equal(st->frame[1].module, AW_FRAME_NO_MODULE);
	assert_non_null(strstr(st->text, "\n0x1001\n"));
	release(st, raw);
}

/* Copied, not named: the module's file is not read, the frame is
 * printed module+0xOFF. */
static void test_unnamed_copy(void **state)
{
	(void)state;
	struct self me = self_module();
	uint64_t off = (uintptr_t)aw_named_target - me.bias + 5;
	struct aw_stack *raw = one_frame_stack(&me, off);
	struct model_stack *st = calloc(1, sizeof(*st));
	char want[512];

	stack_frames_copy(st, raw);
	assert_int_equal(st->module[0].file, SYMBOLIZE_NOT_ASKED);
	assert_false(st->frame[0].named);
	snprintf(want, sizeof(want), "%s+0x%llx\n", base(me.module.path),
		 (unsigned long long)off);
	assert_string_equal(st->text, want);
	release(st, raw);
}

/* The build-id in lower-case hex, two digits a byte, leading zeros
 * kept. */
static void test_build_id_hex(void **state)
{
	(void)state;
	struct self me = self_module();
	struct aw_stack *raw = one_frame_stack(&me, 0x10);
	struct model_stack *st = calloc(1, sizeof(*st));
	static const uint8_t id[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};

	memcpy(raw->module[0].build_id, id, sizeof(id));
	raw->module[0].build_id_len = sizeof(id);
	stack_frames_copy(st, raw);
	assert_string_equal(st->module[0].build_id, "000fa5ff10");
	assert_int_equal(st->module[0].build_id_len, sizeof(id));
	assert_memory_equal(st->module[0].build_id_raw, id, sizeof(id));
	release(st, raw);
}

/* The module cache holds 64 modules and lets the least recently used go:
 * 100 missing paths asked after this program's file leave at most 64,
 * and this file, asked again every 10, is still kept (the old cache kept
 * the first 64 forever and opened every later module at each frame). */
static void test_cache_lru(void **state)
{
	(void)state;
	struct self me = self_module();
	struct symbolize_module own = {.pid = getpid(), .path = me.module.path};
	uint64_t off = (uintptr_t)aw_named_target - me.bias + 5, so;
	char name[SYMBOLIZE_NAME_LEN], path[64];
	int has;

	symbolize_release_here();
	for (int i = 0; i < 100; i++) {
		if (i % 10 == 0) {
			assert_int_equal(symbolize_frame_here(&own, off, name,
							      sizeof(name),
							      &so),
					 SYMBOLIZE_FOUND);
			assert_string_equal(name, "aw_named_target");
		}
		snprintf(path, sizeof(path), "/nonexistent/junk%d.so", i);
		struct symbolize_module junk = {.pid = getpid(), .path = path};
		assert_int_equal(
		    symbolize_frame_here(&junk, 0x10, name, sizeof(name), &so),
		    SYMBOLIZE_MISSING);
		assert_true(symbolize_cached(NULL, &has) <= 64);
	}
	assert_int_equal(symbolize_cached(&own, &has), 64);
	assert_true(has);
	struct symbolize_module first = {.pid = getpid(),
					 .path = "/nonexistent/junk0.so"};
	symbolize_cached(&first, &has);
	assert_false(has);
	symbolize_release_here();
	assert_int_equal(symbolize_cached(NULL, &has), 0);
}

/* The worker process of symbolize_frame(), from our children. */
static pid_t worker_pid(void)
{
	char path[64];
	long pid = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A worker that does not answer (stopped with SIGSTOP, as one stuck in
 * libdwfl would be): the frame is given up once SYMBOLIZE_TIMEOUT_MS have
 * passed, that module is not asked again (at once), and the next module
 * is named by a new worker. */
static void test_worker_timeout(void **state)
{
	(void)state;
	struct self me = self_module();
	struct symbolize_module own = {.pid = getpid(),
				       .path = me.module.path,
				       .build_id = me.module.build_id,
				       .build_id_len = me.module.build_id_len};
	struct symbolize_module stuck = {.pid = getpid(),
					 .path = "/nonexistent/stuck.so"};
	uint64_t off = (uintptr_t)aw_named_target - me.bias + 5, so;
	char name[SYMBOLIZE_NAME_LEN];

	symbolize_release();
	assert_int_equal(symbolize_frame(&own, off, name, sizeof(name), &so),
			 SYMBOLIZE_FOUND);
	pid_t w = worker_pid();
	assert_true(w > 0);
	assert_int_equal(kill(w, SIGSTOP), 0);
	double t = mono_s();
	assert_int_equal(symbolize_frame(&stuck, 0x10, name, sizeof(name), &so),
			 SYMBOLIZE_GAVE_UP);
	double took = mono_s() - t;
	assert_true(took >= SYMBOLIZE_TIMEOUT_MS / 1000.0 - 0.05);
	assert_true(took < SYMBOLIZE_TIMEOUT_MS / 1000.0 + 5);
	assert_int_not_equal(kill(w, 0), 0); /* killed and reaped */
	t = mono_s();
	assert_int_equal(symbolize_frame(&stuck, 0x20, name, sizeof(name), &so),
			 SYMBOLIZE_GAVE_UP);
	assert_true(mono_s() - t < 0.5);
	assert_int_equal(symbolize_frame(&own, off, name, sizeof(name), &so),
			 SYMBOLIZE_FOUND);
	assert_string_equal(name, "aw_named_target");
	assert_int_not_equal(worker_pid(), w);
	symbolize_release();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_named_within_extent),
	    cmocka_unit_test(test_sizeless_not_guessed),
	    cmocka_unit_test(test_build_id_mismatch),
	    cmocka_unit_test(test_build_id_hex),
	    cmocka_unit_test(test_missing_and_fifo),
	    cmocka_unit_test(test_forged_counts),
	    cmocka_unit_test(test_unnamed_copy),
	    cmocka_unit_test(test_cache_lru),
	    cmocka_unit_test(test_worker_timeout),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	symbolize_release();
	symbolize_release_here();
	return failed;
}
