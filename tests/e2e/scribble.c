/*
 * scribble - a hostile process of the segment owner's user: writes random
 * values into a live acceptwatch segment while its process serves.
 *
 * usage: scribble PATH SECONDS SEED
 * Maps PATH (a segment under /dev/shm) shared and, for SECONDS, writes into
 * it as fast as it can. Half the writes are random 8-byte words at random
 * places past the first 64 bytes (the magic and layout stay, so that a
 * reader still finds the segment); the other half hit the words a writer
 * might act on: the header's high-water marks, each slot's stripe offsets,
 * state, generation, flags, rate limits, stack refs and address, each
 * stripe's owner, slot, generation, last accept and maxima, each stack's
 * counts and module path, each event's seq. Those get extremes (0, all
 * ones, INT32_MAX, just past a table, a whole page of non-NUL bytes) or
 * random values. Prints "wrote N" and exits 0.
 */
#include "lib/prog.h"

#include "acceptwatch_abi.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* A value a careless writer would trip on. */
static uint64_t nasty(void)
{
	static const uint64_t pick[] = {
	    0,
	    1,
	    UINT32_MAX,
	    INT32_MAX,
	    0x80000000u,
	    UINT64_MAX,
	    AW_MAX_LISTENERS,
	    AW_MAX_LISTENERS + 1,
	    AW_MAX_STRIPES,
	    AW_MAX_STRIPES + 1,
	    AW_MAX_STACKS + 1,
	    AW_SEG_SIZE,
	    AW_SEG_SIZE - 64,
	    0x4141414141414141ull,
	};
	uint64_t r = rnd();
	if (r % 3 == 0)
		return rnd();
	return pick[(r >> 8) % (sizeof(pick) / sizeof(pick[0]))];
}

static void put32(volatile char *seg, size_t off, uint64_t v)
{
	*(volatile uint32_t *)(seg + (off & ~(size_t)3)) = (uint32_t)v;
}

static void put64(volatile char *seg, size_t off, uint64_t v)
{
	*(volatile uint64_t *)(seg + (off & ~(size_t)7)) = v;
}

/* A field of slot i, stripe i, stack i or event i. */
#define LST(i, f) (offsetof(struct aw_segment, listener[i].f))
#define STR(i, f) (offsetof(struct aw_segment, stripe[i].f))
#define STK(i, f) (offsetof(struct aw_segment, stack[i].f))
#define EVT(i, f) (offsetof(struct aw_segment, event[i].f))
#define HDR(f) (offsetof(struct aw_seg_header, f))

static void targeted(volatile char *seg)
{
	uint32_t l = (uint32_t)(rnd() % AW_MAX_LISTENERS);
	uint32_t s = (uint32_t)(rnd() % 16); /* the stripes a server uses */
	uint32_t k = (uint32_t)(rnd() % AW_MAX_STACKS);
	uint64_t v = nasty();
	switch (rnd() % 24) {
	case 0:
		put32(seg, HDR(listeners_used), v);
		break;
	case 1:
		put32(seg, HDR(stripes_used), v);
		break;
	case 2:
		put32(seg, HDR(stacks_used), v);
		break;
	case 3:
		put32(seg, LST(l, stripe_ref[rnd() % AW_STRIPES]), v);
		break;
	case 4:
		put32(seg, LST(l, state), v);
		break;
	case 5:
		put32(seg, LST(l, generation), v);
		break;
	case 6:
		put32(seg, LST(l, flags), v);
		break;
	case 7:
		put64(seg, LST(l, next_sample_ticks), v);
		break;
	case 8:
		put64(seg, LST(l, slow_logged_ticks), v);
		break;
	case 9:
		put32(seg, LST(l, listen_stack), v);
		put32(seg, LST(l, slow_stack), v);
		break;
	case 10:
		memset((char *)seg + LST(l, address), 'A', AW_ADDR_LEN);
		break;
	case 11:
		put32(seg, STR(s, owner), v);
		break;
	case 12:
		put32(seg, STR(s, slot), v);
		break;
	case 13:
		put32(seg, STR(s, generation), v);
		break;
	case 14:
		put64(seg, STR(s, last_accept_ticks), v);
		break;
	case 15:
		put64(seg, STR(s, gap_ns.max), v);
		put64(seg, STR(s, away_ns.max), v);
		break;
	case 16:
		put32(seg, STR(s, in_accept), v);
		break;
	case 17:
		put32(seg, STK(k, frames), v);
		put32(seg, STK(k, modules), v);
		break;
	case 18:
		put32(seg, STK(k, frame[0].module), v);
		break;
	case 19:
		memset((char *)seg + STK(k, module[rnd() % AW_STACK_MODULES]),
		       'B', AW_MODULE_PATH);
		break;
	case 20:
		put64(seg, EVT(rnd() % AW_MAX_EVENTS, seq), v);
		break;
	case 21:
		put64(seg, HDR(event_head), v);
		break;
	case 22:
		put32(seg, LST(l, seq), v);
		put32(seg, LST(l, fds), v);
		break;
	default:
		put32(seg, HDR(pid), v);
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: scribble PATH SECONDS SEED\n");
		return 2;
	}
	long seconds = parse_long(argv[2], "SECONDS", 0, 3600);
	rng_state = (uint64_t)parse_long(argv[3], "SEED", 1, INT32_MAX);
	int fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die_errno(argv[1]);
	struct stat st;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < AW_SEG_SIZE) {
		fprintf(stderr, "scribble: %s: not a whole segment\n", argv[1]);
		return 1;
	}
	volatile char *seg =
	    mmap(NULL, AW_SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (seg == MAP_FAILED)
		die_errno("mmap");
	close(fd);
	uint64_t until = now_ns() + (uint64_t)seconds * 1000000000u;
	unsigned long n = 0;
	while (now_ns() < until) {
		for (int i = 0; i < 1024; i++, n++) {
			if (rnd() & 1)
				targeted(seg);
			else
				put64(seg, 64 + rnd() % (AW_SEG_SIZE - 64),
				      rnd());
		}
	}
	printf("wrote %lu\n", n);
	return 0;
}
