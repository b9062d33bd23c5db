/*
 * The slow-event ring under stress: writer threads emit events into a ring
 * of RING_SIZE entries (the writer of shim/segment_writer.c) while a reader
 * thread copies it in a loop (the reader of tools/event_ring.c, through
 * pread() of the file as the acceptwatch reader does). Every event carries
 * a checksum of its own fields (in `stack`), and the writer notes which
 * event it wrote at which position. The reader must never accept an entry
 * whose checksum is wrong (torn: fields of two writes) nor one that is not
 * the event written at the position the head gives it (stale: an older
 * lap's, or a newer one's). Events a writer gives up (lost) are counted by
 * the writer and must add up.
 *
 * ACCEPTWATCH_RING_EVENTS sets the number of events (default 3,000,000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "event_ring.h"
#include "segment_writer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RING_SIZE 4u
#define WRITERS 8u
#define DEFAULT_EVENTS 3000000u
#define TAG_EVENT_BITS 24u /* events per writer, in a tag */
#define YIELD_EVERY 4096u

/* The shared file: the ring's head and lost counter, then its entries. */
struct ring_file {
	uint64_t head;
	uint64_t lost;
	uint64_t pad[6];
	struct aw_event entry[RING_SIZE];
};

struct stress {
	int fd;
	struct ring_file *map;
	struct aw_ring ring;
	uint32_t per_writer;
	uint32_t *wrote; /* tag of the event written at each position */
	uint32_t *seen;	 /* tag of the event the reader took there */
	int writers_done;
	/* The reader's findings. */
	uint64_t copies, accepted, torn, changed;
};

struct writer {
	struct stress *st;
	uint32_t id;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint32_t checksum(const struct aw_event *e)
{
	uint64_t h = mix(e->listener ^ ((uint64_t)(uint32_t)e->tid << 32));
	h = mix(h ^ e->time_real_ns);
	h = mix(h ^ e->away_ns);
	h = mix(h ^ e->queue_wait_ms);
	h = mix(h ^ e->depth ^ ((uint64_t)e->backlog << 32));
	return (uint32_t)h | 1u;
}

/* Writer id and event number: never 0. */
static uint32_t tag(uint32_t id, uint64_t k)
{
	return ((id << TAG_EVENT_BITS) | (uint32_t)k) + 1u;
}

/* Event k of writer id: every field differs between events. */
static void fill(struct aw_event *e, uint32_t id, uint64_t k)
{
	e->listener = id;
	e->tid = (int32_t)id;
	e->time_real_ns = k;
	e->away_ns = mix(k * WRITERS + id);
	e->queue_wait_ms = mix(e->away_ns);
	e->depth = (uint32_t)mix(e->queue_wait_ms);
	e->backlog = (uint32_t)(e->away_ns >> 32);
	e->stack = checksum(e);
}

static void *write_events(void *arg)
{
	struct writer *w = arg;
	struct stress *st = w->st;
	struct aw_event e = {0};

	for (uint64_t k = 0; k < st->per_writer; k++) {
		uint64_t pos;
		fill(&e, w->id, k);
		if (aw_segment_write_ring(&st->ring, w->id, &e, &pos))
			st->wrote[pos] = tag(w->id, k);
		/* Writers outnumber the cores: let the reader run too. */
		if (k % YIELD_EVERY == 0)
			sched_yield();
	}
	return NULL;
}

static int file_read(const void *src, uint64_t off, void *dst, size_t len)
{
	const struct stress *st = src;
	ssize_t n = pread(st->fd, dst, len, (off_t)off);
	return n == (ssize_t)len ? 0 : -1;
}

/* One copy of the ring, checked: positions head - RING_SIZE .. head - 1. */
static void read_once(struct stress *st)
{
	struct aw_event ring[RING_SIZE];
	int ok[RING_SIZE];
	uint64_t head;

	if (file_read(st, offsetof(struct ring_file, head), &head,
		      sizeof(head)) ||
	    event_ring_copy(file_read, st, offsetof(struct ring_file, entry),
			    RING_SIZE, head, ring, ok))
		fail_msg("ring read failed");
	st->copies++;
	uint64_t first = head > RING_SIZE ? head - RING_SIZE : 0;
	for (uint64_t pos = first; pos < head; pos++) {
		const struct aw_event *e = &ring[pos % RING_SIZE];
		if (!ok[pos % RING_SIZE])
			continue;
		st->accepted++;
		if (e->stack != checksum(e)) {
			st->torn++;
			continue;
		}
		uint32_t t = tag(e->listener, e->time_real_ns);
		if (st->seen[pos] != 0 && st->seen[pos] != t)
			st->changed++; /* two events taken for one position */
		st->seen[pos] = t;
	}
}

static void *read_events(void *arg)
{
	struct stress *st = arg;
	while (!__atomic_load_n(&st->writers_done, __ATOMIC_ACQUIRE))
		read_once(st);
	read_once(st);
	return NULL;
}

static uint32_t events_wanted(void)
{
	const char *s = getenv("ACCEPTWATCH_RING_EVENTS");
	unsigned long n = s ? strtoul(s, NULL, 10) : DEFAULT_EVENTS;
	if (n < WRITERS || n / WRITERS >= (1ul << TAG_EVENT_BITS))
		n = DEFAULT_EVENTS;
	return (uint32_t)(n / WRITERS * WRITERS);
}

static void setup_file(struct stress *st, uint32_t events)
{
	st->fd = memfd_create("aw-ring", MFD_CLOEXEC);
	assert_true(st->fd >= 0);
	assert_int_equal(ftruncate(st->fd, sizeof(struct ring_file)), 0);
	st->map = mmap(NULL, sizeof(struct ring_file), PROT_READ | PROT_WRITE,
		       MAP_SHARED, st->fd, 0);
	assert_true(st->map != MAP_FAILED);
	st->ring = (struct aw_ring){st->map->entry, RING_SIZE, &st->map->head,
				    &st->map->lost};
	st->per_writer = events / WRITERS;
	st->wrote = calloc(events, sizeof(*st->wrote));
	st->seen = calloc(events, sizeof(*st->seen));
	assert_non_null(st->wrote);
	assert_non_null(st->seen);
}

/* Positions the reader took an event for that is not the one written
 * there (or none was: the writer gave it up). */
static uint64_t stale_positions(const struct stress *st, uint32_t events)
{
	uint64_t stale = 0;
	for (uint32_t pos = 0; pos < events; pos++)
		if (st->seen[pos] != 0 && st->seen[pos] != st->wrote[pos])
			stale++;
	return stale;
}

static uint64_t written_positions(const struct stress *st, uint32_t events)
{
	uint64_t written = 0;
	for (uint32_t pos = 0; pos < events; pos++)
		written += st->wrote[pos] != 0;
	return written;
}

static void test_no_torn_or_stale_entry(void **state)
{
	(void)state;
	struct stress st = {0};
	struct writer w[WRITERS];
	pthread_t wt[WRITERS], rt;
	uint32_t events = events_wanted();

	setup_file(&st, events);
	assert_int_equal(pthread_create(&rt, NULL, read_events, &st), 0);
	for (uint32_t i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){&st, i};
		assert_int_equal(
		    pthread_create(&wt[i], NULL, write_events, &w[i]), 0);
	}
	for (uint32_t i = 0; i < WRITERS; i++)
		pthread_join(wt[i], NULL);
	__atomic_store_n(&st.writers_done, 1, __ATOMIC_RELEASE);
	pthread_join(rt, NULL);

	uint64_t stale = stale_positions(&st, events);
	uint64_t written = written_positions(&st, events);
	printf("events %u: written %llu, lost %llu; reader: %llu copies, "
	       "%llu entries accepted, %llu torn, %llu stale, %llu changed\n",
	       events, (unsigned long long)written,
	       (unsigned long long)st.map->lost, (unsigned long long)st.copies,
	       (unsigned long long)st.accepted, (unsigned long long)st.torn,
	       (unsigned long long)stale, (unsigned long long)st.changed);
	uint64_t head = st.map->head, lost = st.map->lost;
	free(st.wrote);
	free(st.seen);
	munmap(st.map, sizeof(*st.map));
	close(st.fd);
	assert_int_equal(head, events);
	assert_int_equal(written + lost, events);
	/* The reader saw the ring in use, not only once it was still. */
	assert_true(st.copies > 1000);
	assert_true(st.accepted > 1000);
	assert_int_equal(st.torn, 0);
	assert_int_equal(stale, 0);
	assert_int_equal(st.changed, 0);
}

/* The cases one at a time, on a ring in plain memory. */
static int mem_read(const void *src, uint64_t off, void *dst, size_t len)
{
	memcpy(dst, (const char *)src + off, len);
	return 0;
}

/* Entry 1 of a 4-entry ring after 6 positions is position 5's. */
static void test_reader_takes_only_the_head_s_lap(void **state)
{
	(void)state;
	struct ring_file f = {.head = 6};
	struct aw_event ring[RING_SIZE];
	int ok[RING_SIZE];
	const uint64_t seqs[] = {
	    2 * 5 + 2, /* the event of position 5: taken */
	    2 * 1 + 2, /* position 1's: claimed for 5, not yet written */
	    2 * 5 + 1, /* position 5 being written */
	    2 * 9 + 2, /* position 9's: rewritten since head was read */
	    0,	       /* never written */
	};
	for (size_t c = 0; c < sizeof(seqs) / sizeof(seqs[0]); c++) {
		f.entry[1].seq = seqs[c];
		assert_int_equal(
		    event_ring_copy(mem_read, &f,
				    offsetof(struct ring_file, entry),
				    RING_SIZE, f.head, ring, ok),
		    0);
		assert_int_equal(ok[1], c == 0);
	}
	/* Before any event, nothing; a count the reader cannot hold, an
	 * error. */
	f.entry[0].seq = 2;
	assert_int_equal(event_ring_copy(mem_read, &f,
					 offsetof(struct ring_file, entry),
					 RING_SIZE, 0, ring, ok),
			 0);
	assert_false(ok[0]);
	assert_int_equal(event_ring_copy(mem_read, &f,
					 offsetof(struct ring_file, entry),
					 AW_MAX_EVENTS + 1, 6, ring, ok),
			 -1);
}

/* A writer gives its event up, untouched, when the entry is another
 * writer's (odd) or a newer lap's; it takes an older lap's. */
static void test_writer_gives_up_a_busy_entry(void **state)
{
	(void)state;
	struct ring_file f = {.head = 5};
	struct aw_ring r = {f.entry, RING_SIZE, &f.head, &f.lost};
	struct aw_event e;
	uint64_t pos;

	fill(&e, 3, 7);
	f.entry[1].seq = 2 * 1 + 1; /* position 1 still being written */
	assert_int_equal(aw_segment_write_ring(&r, 3, &e, &pos), 0);
	assert_int_equal(pos, 5);
	assert_int_equal(f.entry[1].seq, 2 * 1 + 1);
	assert_int_equal(f.entry[1].stack, 0);
	f.entry[2].seq = 2 * 10 + 2; /* position 10 overtook position 6 */
	assert_int_equal(aw_segment_write_ring(&r, 3, &e, &pos), 0);
	assert_int_equal(f.entry[2].seq, 2 * 10 + 2);
	assert_int_equal(f.lost, 2);
	f.entry[3].seq = 2 * 3 + 2; /* position 3's, done: taken for 7 */
	assert_int_equal(aw_segment_write_ring(&r, 3, &e, &pos), 1);
	assert_int_equal(pos, 7);
	assert_int_equal(f.entry[3].seq, 2 * 7 + 2);
	assert_int_equal(f.entry[3].stack, checksum(&f.entry[3]));
	assert_int_equal(f.entry[3].time_real_ns, 7);
	assert_int_equal(f.head, 8);
	assert_int_equal(f.lost, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_takes_only_the_head_s_lap),
	    cmocka_unit_test(test_writer_gives_up_a_busy_entry),
	    cmocka_unit_test(test_no_torn_or_stale_entry),
	};
	return cmocka_run_group_tests_name("event_ring", tests, NULL, NULL);
}
