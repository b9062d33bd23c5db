/*
 * proc_cache: an answer is kept per pid, start time, segment file and
 * image layout, and only for that key (another file, another image, a
 * hidden image: read afresh); only an owner that matched is kept; a sweep
 * drops what the pass did not use; nothing is kept until enabled. Runs
 * against this process's own /proc files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc_cache.h"
#include "procinfo.h"

static struct procinfo_stat me;

static void read_me(void)
{
	assert_int_equal(procinfo_stat_image(getpid(), &me), 0);
	/* This process may read its own layout. */
	assert_true(me.image[6] != 0);
}

/* procinfo_stat_image's state, start time and image fields are the
 * stat line's fields counted after the last ')': read here apart. */
static void test_stat_fields(void **state)
{
	static const int field[PROCINFO_IMAGE_FIELDS] = {26, 27, 28, 45, 46,
							 47, 48, 49, 50, 51};
	unsigned long long v[64] = {0};
	char buf[1024], st = 0;
	struct procinfo_stat ps;
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(procinfo_stat_image(getpid(), &ps), 0);
	f = fopen("/proc/self/stat", "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	assert_non_null(p);
	p += 2;
	st = *p;
	int k = 3;
	for (char *tok = strtok(p, " "); tok && k < 64; tok = strtok(NULL, " "))
		v[k++] = strtoull(tok, NULL, 10);
	assert_true(k > 51);
	assert_int_equal(ps.state, st);
	assert_int_equal(ps.start_ticks, v[22]);
	for (int i = 0; i < PROCINFO_IMAGE_FIELDS; i++)
		assert_int_equal(ps.image[i], v[field[i]]);
}

/* Two sweeps: whatever a test left is gone. */
static void empty_cache(void)
{
	proc_cache_sweep();
	proc_cache_sweep();
	assert_int_equal(proc_cache_size(), 0);
}

static void test_disabled_keeps_nothing(void **state)
{
	unsigned found;

	(void)state;
	read_me();
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 2, &found), 0);
	assert_int_equal(proc_cache_size(), 0);
}

static void test_keyed(void **state)
{
	unsigned a, b;

	(void)state;
	proc_cache_enable();
	read_me();
	empty_cache();
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 2, &a), 0);
	assert_int_equal(proc_cache_size(), 1);
	/* The same key: the same entry. */
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 2, &b), 0);
	assert_int_equal(b, a);
	assert_int_equal(proc_cache_size(), 1);
	/* Another segment file, another image: entries of their own. */
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 3, &b), 0);
	struct procinfo_stat other = me;
	other.image[2] += 4096; /* the stack elsewhere: an exec */
	assert_int_equal(proc_cache_maps(getpid(), &other, 1, 2, &b), 0);
	assert_int_equal(proc_cache_size(), 3);
	/* A hidden layout tells no exec apart: never kept. */
	struct procinfo_stat hidden = me;
	memset(hidden.image, 0, sizeof(hidden.image));
	assert_int_equal(proc_cache_maps(getpid(), &hidden, 1, 4, &b), 0);
	assert_int_equal(proc_cache_size(), 3);
	empty_cache();
}

static void test_owner(void **state)
{
	uid_t euid = 12345;

	(void)state;
	proc_cache_enable();
	read_me();
	empty_cache();
	/* Not one of this process's uids: refused, and not kept. */
	uid_t stranger = getuid() == 4242 ? 4243 : 4242;
	assert_int_equal(proc_cache_owner(getpid(), &me, 1, 2, stranger, &euid),
			 0);
	assert_int_equal(euid, geteuid());
	assert_int_equal(proc_cache_size(), 0);
	/* Its own uid: kept, and answered again for that owner only. */
	assert_int_equal(
	    proc_cache_owner(getpid(), &me, 1, 2, geteuid(), &euid), 1);
	assert_int_equal(proc_cache_size(), 1);
	assert_int_equal(
	    proc_cache_owner(getpid(), &me, 1, 2, geteuid(), &euid), 1);
	assert_int_equal(proc_cache_owner(getpid(), &me, 1, 2, stranger, &euid),
			 0);
	empty_cache();
}

static void test_sweep(void **state)
{
	unsigned found;

	(void)state;
	proc_cache_enable();
	read_me();
	empty_cache();
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 2, &found), 0);
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 3, &found), 0);
	proc_cache_sweep(); /* both used in this pass: kept */
	assert_int_equal(proc_cache_size(), 2);
	assert_int_equal(proc_cache_maps(getpid(), &me, 1, 2, &found), 0);
	proc_cache_sweep(); /* (1, 3) not used in this pass: gone */
	assert_int_equal(proc_cache_size(), 1);
	empty_cache();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat_fields),
	    cmocka_unit_test(test_disabled_keeps_nothing),
	    cmocka_unit_test(test_keyed),
	    cmocka_unit_test(test_owner),
	    cmocka_unit_test(test_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
