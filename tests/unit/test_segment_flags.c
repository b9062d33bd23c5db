/*
 * A listener's flags word is shared: close() sets CLOSED and a probe sets
 * DEFER_ACCEPT, each with no lock, while the table (under its lock) writes
 * the description at listen and the effective backlog with CLAMPED when
 * the kernel reports another. The writer (shim/segment_writer.c) must
 * change only the bits each write is about, with atomic or/and: a store
 * of the whole word loses a bit set by another thread in between (a
 * closed listener shown and exported as open until its slot is reused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "segment_writer.h"

#include <string.h>

#define OTHERS (AW_LF_TCP | AW_LF_CLOSED | AW_LF_DEFER_ACCEPT)

static uint32_t flags_of(struct aw_listener *l)
{
	return __atomic_load_n(&l->flags, __ATOMIC_RELAXED);
}

/* A new effective backlog changes CLAMPED alone. */
static void test_backlog_keeps_other_flags(void **state)
{
	(void)state;
	struct aw_listener l;
	memset(&l, 0, sizeof(l));
	l.flags = OTHERS;
	aw_segment_write_backlog(&l, 8, AW_LF_CLAMPED);
	assert_int_equal(l.effective_backlog, 8);
	assert_int_equal(flags_of(&l), OTHERS | AW_LF_CLAMPED);
	aw_segment_write_backlog(&l, 64, 0);
	assert_int_equal(l.effective_backlog, 64);
	assert_int_equal(flags_of(&l), OTHERS);
	assert_int_equal(l.seq % 2, 0);
}

/* A description (listen again, or a slot's first) sets the bits it
 * describes and leaves CLOSED, which only close() and the table's reuse
 * of a slot change. */
static void test_description_keeps_closed(void **state)
{
	(void)state;
	struct aw_listener l, d;
	memset(&l, 0, sizeof(l));
	memset(&d, 0, sizeof(d));
	l.flags = AW_LF_CLOSED | AW_LF_ADOPTED | AW_LF_COMPUTED;
	d.fd = 5;
	d.flags = AW_LF_TCP | AW_LF_CLAMPED;
	aw_segment_write_description(&l, &d);
	assert_int_equal(flags_of(&l),
			 AW_LF_CLOSED | AW_LF_TCP | AW_LF_CLAMPED);
	assert_int_equal(l.fd, 5);
	assert_int_equal(l.state, AW_SLOT_READY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backlog_keeps_other_flags),
	    cmocka_unit_test(test_description_keeps_closed),
	};
	return cmocka_run_group_tests_name("segment_flags", tests, NULL, NULL);
}
