/*
 * The listener table (shim/listener_table.c) against a fake segment in
 * process memory and fake sockets: no /dev/shm, no real descriptors, no
 * other process. This file defines the segment's and the probes' functions
 * the table calls, so the linker takes neither segment.o nor probe.o from
 * the archive: a descriptor here is a number with a socket identity in
 * fake_fd[], a fork is the table's child handler and a new segment.
 *
 * The table's state is process-wide and lives as long as the program, so
 * each test uses descriptors and sockets of its own and checks what its
 * own calls changed; the test that fills every slot runs last.
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

#include "acceptwatch_abi.h"
#include "config.h"
#include "listener_table.h"
#include "probe.h"
#include "segment.h"
#include "segment_writer.h"

/* --- the fake sockets ---------------------------------------------------- */
#define FAKE_FDS 200

static struct {
	int open;     /* the number names a listener */
	uint64_t ino; /* its socket */
	uint64_t drops;
} fake_fd[FAKE_FDS];

static uint64_t next_ino = 1000;

/* A new listener socket on descriptor fd. */
static void fake_socket(int fd)
{
	fake_fd[fd].open = 1;
	fake_fd[fd].ino = next_ino++;
	fake_fd[fd].drops = 0;
}

/* newfd names oldfd's socket (dup). */
static void fake_dup(int oldfd, int newfd)
{
	fake_fd[newfd] = fake_fd[oldfd];
}

int aw_probe_identity(int fd, struct aw_sock_id *id)
{
	if (fd < 0 || fd >= FAKE_FDS || !fake_fd[fd].open)
		return -1;
	id->dev = 7;
	id->ino = fake_fd[fd].ino;
	id->family = 2; /* AF_INET */
	id->tcp = 1;
	return 0;
}

int aw_probe_is_listener(int fd)
{
	return fd >= 0 && fd < FAKE_FDS && fake_fd[fd].open;
}

void aw_probe_address(int fd, char *out, size_t len)
{
	snprintf(out, len, "127.0.0.1:%d", 10000 + fd);
}

int aw_probe_somaxconn(void)
{
	return 4096;
}

int aw_probe_queue(int fd, uint32_t *depth, uint32_t *backlog)
{
	(void)fd;
	*depth = 0;
	*backlog = 128;
	return 0;
}

int aw_probe_defer_accept(int fd)
{
	(void)fd;
	return 0;
}

int aw_probe_drops(int fd, uint64_t *drops)
{
	if (fd < 0 || fd >= FAKE_FDS || !fake_fd[fd].open)
		return -1;
	*drops = fake_fd[fd].drops;
	return 0;
}

int aw_probe_queue_wait_ms(int fd, uint32_t *ms)
{
	(void)fd;
	(void)ms;
	return -1;
}

int aw_probe_nonblocking(int fd)
{
	(void)fd;
	return 0;
}

uint64_t aw_probe_start_ticks(void)
{
	return 1;
}

/* --- the fake segment ---------------------------------------------------- */
struct aw_segment *aw_segment_now;
const char *aw_segment_base;
static uint32_t fake_stripes;
/* A forked child's parent segment, until the child's first attach. */
static struct aw_segment *fake_parent;
static const struct aw_segment_hooks *fake_hooks;

struct aw_segment *aw_segment_attach(const struct aw_config *c,
				     const struct aw_segment_hooks *h)
{
	(void)c;
	if (aw_segment_now != NULL)
		return aw_segment_now;
	struct aw_segment *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	aw_seg_header_layout(&s->header);
	fake_hooks = h;
	fake_stripes = 0;
	if (fake_parent != NULL)
		h->inherit(s, fake_parent);
	fake_parent = NULL;
	__atomic_store_n(&aw_segment_now, s, __ATOMIC_RELEASE);
	return s;
}

uint32_t aw_segment_add_stripe(uint32_t generation)
{
	struct aw_segment *s = aw_segment_now;
	if (s == NULL || fake_stripes >= AW_MAX_STRIPES)
		return 0;
	uint32_t i = fake_stripes++;
	aw_segment_write_new_stripe(s, i, generation);
	return (uint32_t)offsetof(struct aw_segment, stripe[i]);
}

int aw_segment_back(struct aw_segment *s, size_t offset, size_t len)
{
	(void)s;
	(void)offset;
	(void)len;
	return 0;
}

/* fork(), as the table sees it: the child handler, then a child whose
 * segment is its parent's until it attaches one of its own. */
static struct aw_segment *fake_fork(void)
{
	struct aw_segment *parent = aw_segment_now;
	aw_table_reset_lock();
	fake_parent = parent;
	aw_segment_now = NULL;
	return parent;
}

/* --- helpers ------------------------------------------------------------- */
static const struct aw_config cfg = {.slow_ms = 50, .slow_ns = 50000000u};

/* listen(fd): its slot. */
static int listen_on(int fd)
{
	aw_table_lock();
	int slot = aw_table_register(fd, 16, 16, 0, &cfg);
	aw_table_unlock();
	return slot;
}

/* accept() on a descriptor the table does not know: adopted. */
static int adopt(int fd)
{
	aw_table_lock();
	int slot = aw_table_register(fd, -1, -1, 1, &cfg);
	aw_table_unlock();
	return slot;
}

static struct aw_listener *row(int slot)
{
	return &aw_segment_now->listener[slot];
}

static void close_fd(int fd)
{
	aw_table_forget_fd(fd);
	fake_fd[fd].open = 0;
}

/* --- tests --------------------------------------------------------------- */

/* A listener's slot: its row describes the socket, one descriptor. */
static void test_register(void **state)
{
	(void)state;
	fake_socket(10);
	int slot = listen_on(10);
	assert_true(slot >= 0);
	assert_int_equal(aw_table_lookup(10), slot);
	assert_int_equal(aw_table_near_byte(10), (uint32_t)slot + 1u);
	assert_true(aw_table_slot_open((uint32_t)slot));
	assert_int_equal(row(slot)->state, AW_SLOT_READY);
	assert_int_equal(row(slot)->ino, fake_fd[10].ino);
	assert_int_equal(row(slot)->fds, 1);
	assert_int_equal(row(slot)->requested_backlog, 16);
	assert_int_equal(row(slot)->generation, aw_table_generation(slot));
	assert_int_equal(aw_table_lookup(11), AW_NO_SLOT);
	close_fd(10);
}

/*
 * dup and close: every descriptor of the socket maps to its slot; the slot
 * stays open while one is left, closes with the last, whose drop count is
 * read then.
 */
static void test_dup_close(void **state)
{
	(void)state;
	fake_socket(20);
	int slot = listen_on(20);
	assert_true(slot >= 0);
	fake_dup(20, 21);
	aw_table_dup(20, 21);
	assert_int_equal(aw_table_lookup(21), slot);
	assert_int_equal(row(slot)->fds, 2);

	close_fd(20);
	assert_int_equal(aw_table_lookup(20), AW_NO_SLOT);
	assert_true(aw_table_slot_open((uint32_t)slot));
	assert_int_equal(row(slot)->fds, 1);
	assert_false(row(slot)->flags & AW_LF_CLOSED);

	fake_fd[21].drops = 33;
	close_fd(21);
	assert_int_equal(aw_table_lookup(21), AW_NO_SLOT);
	assert_false(aw_table_slot_open((uint32_t)slot));
	assert_int_equal(row(slot)->fds, 0);
	assert_true(row(slot)->flags & AW_LF_CLOSED);
	assert_int_equal(row(slot)->drops, 33);
}

/* A copy of a descriptor that is no listener is none either; a dup2 onto a
 * listener's number takes that number out of the listener's slot. */
static void test_dup_other(void **state)
{
	(void)state;
	aw_table_dup(30, 31);
	assert_int_equal(aw_table_lookup(31), AW_NO_SLOT);

	fake_socket(32);
	fake_socket(33);
	int a = listen_on(32);
	int b = listen_on(33);
	assert_true(a >= 0 && b >= 0 && a != b);
	fake_dup(32, 33); /* dup2(32, 33) */
	aw_table_dup(32, 33);
	assert_int_equal(aw_table_lookup(33), a);
	assert_int_equal(row(a)->fds, 2);
	assert_false(aw_table_slot_open((uint32_t)b));
	assert_true(row(b)->flags & AW_LF_CLOSED);
	close_fd(32);
	close_fd(33);
	assert_false(aw_table_slot_open((uint32_t)a));
}

/* A descriptor of a socket the table tracks, met first in accept, joins
 * the socket's slot instead of taking a new one. */
static void test_adopt_joins(void **state)
{
	(void)state;
	fake_socket(40);
	int slot = listen_on(40);
	fake_dup(40, 41); /* a copy the shim did not see made */
	uint32_t used = aw_table_slots_used();
	assert_int_equal(adopt(41), slot);
	assert_int_equal(aw_table_slots_used(), used);
	assert_int_equal(aw_table_lookup(41), slot);
	assert_int_equal(row(slot)->fds, 2);
	close_fd(40);
	close_fd(41);
}

/*
 * A closed slot is taken for the next new socket before a fresh one (the
 * one closed longest ago), under the next generation; its row then
 * describes the new socket. Every slot earlier tests used is closed now.
 */
static void test_slot_reuse_generation(void **state)
{
	(void)state;
	uint32_t used = aw_table_slots_used();
	assert_true(used > 1);
	fake_socket(50);
	int slot = listen_on(50);
	assert_true(slot >= 0);
	assert_int_equal(aw_table_slots_used(), used);
	uint32_t gen = aw_table_generation((uint32_t)slot);
	assert_true(gen >= 2);
	close_fd(50);

	/* The slot just closed is the last to come back: every other
	 * closed one first. */
	int again = -1;
	for (uint32_t i = 0; i < used && again != slot; i++) {
		if (again >= 0)
			close_fd(51);
		fake_socket(51);
		again = listen_on(51);
		assert_true(i + 1 == used || again != slot);
	}
	assert_int_equal(again, slot);
	assert_int_equal(aw_table_slots_used(), used);
	assert_int_equal(aw_table_generation((uint32_t)slot), gen + 1);
	assert_int_equal(row(slot)->generation, gen + 1);
	assert_int_equal(row(slot)->ino, fake_fd[51].ino);
	assert_false(row(slot)->flags & AW_LF_CLOSED);
	assert_int_equal(row(slot)->fds, 1);
	close_fd(51);
}

/* The same socket listened on again after its slot closed (a descriptor
 * passed back): the slot it had, its row open again. */
static void test_same_socket_rejoins(void **state)
{
	(void)state;
	fake_socket(55);
	int slot = listen_on(55);
	uint64_t ino = fake_fd[55].ino;
	close_fd(55);
	fake_fd[56].open = 1;
	fake_fd[56].ino = ino;
	assert_int_equal(adopt(56), slot);
	assert_false(row(slot)->flags & AW_LF_CLOSED);
	assert_true(aw_table_slot_open((uint32_t)slot));
	close_fd(56);
}

/*
 * fork: the child's segment keeps the parent's open listeners (same slots,
 * same sockets), not its closed ones; a slot the parent gave to another
 * socket since (its row's generation moved on) is forgotten in the child,
 * its descriptor adopted afresh later.
 */
static void test_fork_carry_over(void **state)
{
	(void)state;
	fake_socket(60);
	fake_socket(61);
	fake_socket(62);
	int kept = listen_on(60);
	int closed = listen_on(61);
	int moved = listen_on(62);
	close_fd(61);

	struct aw_segment *parent = fake_fork();
	/* The parent reuses `moved` before the child reads its row. */
	parent->listener[moved].generation =
	    aw_table_generation((uint32_t)moved) + 1;

	aw_table_lock();
	struct aw_segment *child = aw_table_attach(&cfg);
	aw_table_unlock();
	assert_non_null(child);
	assert_ptr_not_equal(child, parent);
	assert_int_equal(row(kept)->state, AW_SLOT_READY);
	assert_int_equal(row(kept)->ino, fake_fd[60].ino);
	assert_int_equal(aw_table_lookup(60), kept);
	assert_int_not_equal(row(closed)->state, AW_SLOT_READY);
	assert_int_not_equal(row(moved)->state, AW_SLOT_READY);
	assert_int_equal(aw_table_lookup(62), AW_NO_SLOT);
	assert_false(aw_table_slot_open((uint32_t)moved));
	assert_int_equal(child->header.parent_pid, (int32_t)getppid());
	close_fd(60);
	fake_fd[62].open = 0;
	free(parent);
}

/* A kept segment's last drop counts at exit come through the hook the
 * table gave the segment. */
static void test_kept_at_exit_drops(void **state)
{
	(void)state;
	fake_socket(70);
	int slot = listen_on(70);
	fake_fd[70].drops = 9;
	assert_non_null(fake_hooks);
	fake_hooks->kept_at_exit();
	assert_int_equal(row(slot)->drops, 9);
	close_fd(70);
}

/* Stripes: one per thread, counting for the slot's generation. */
static void test_stripe_claim(void **state)
{
	(void)state;
	fake_socket(80);
	int slot = listen_on(80);
	int shared = -1;
	uint32_t a = aw_table_claim_stripe((uint32_t)slot, 1001, &shared);
	assert_true(a != 0);
	assert_int_equal(shared, 0);
	assert_int_equal(aw_table_stripe_slot(a), slot);
	uint32_t again = aw_table_claim_stripe((uint32_t)slot, 1001, &shared);
	assert_int_equal(again, a);
	uint32_t b = aw_table_claim_stripe((uint32_t)slot, 1002, &shared);
	assert_true(b != 0 && b != a);
	aw_table_free_stripe((uint32_t)slot, a);
	uint32_t c = aw_table_claim_stripe((uint32_t)slot, 1003, &shared);
	assert_int_equal(c, a);
	/* One stripe per thread but the last, which threads past those
	 * share. */
	for (int32_t tid = 2001; tid < 2001 + (int32_t)AW_STRIPES - 3; tid++) {
		assert_true(
		    aw_table_claim_stripe((uint32_t)slot, tid, &shared) != 0);
		assert_int_equal(shared, 0);
	}
	uint32_t last = aw_table_claim_stripe((uint32_t)slot, 3000, &shared);
	assert_true(last != 0);
	assert_int_equal(shared, 1);
	assert_int_equal(aw_table_claim_stripe((uint32_t)slot, 3001, &shared),
			 last);
	close_fd(80);
}

/* Every slot taken: the next listener is not tracked, counted lost, and its
 * descriptor marked ignored. */
static void test_table_full(void **state)
{
	(void)state;
	int fd = 100;
	for (uint32_t i = 0; i < AW_MAX_LISTENERS; i++, fd++) {
		fake_socket(fd);
		assert_true(listen_on(fd) >= 0);
	}
	assert_int_equal(aw_table_slots_used(), AW_MAX_LISTENERS);
	uint32_t lost = aw_segment_now->header.listeners_lost;
	fake_socket(fd);
	assert_int_equal(listen_on(fd), -1);
	assert_int_equal(aw_table_lookup(fd), AW_IGNORED);
	assert_int_equal(aw_segment_now->header.listeners_lost, lost + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register),
	    cmocka_unit_test(test_dup_close),
	    cmocka_unit_test(test_dup_other),
	    cmocka_unit_test(test_adopt_joins),
	    cmocka_unit_test(test_slot_reuse_generation),
	    cmocka_unit_test(test_same_socket_rejoins),
	    cmocka_unit_test(test_fork_carry_over),
	    cmocka_unit_test(test_kept_at_exit_drops),
	    cmocka_unit_test(test_stripe_claim),
	    cmocka_unit_test(test_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
