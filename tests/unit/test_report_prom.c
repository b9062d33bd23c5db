/*
 * report_prometheus(): socket series once per socket (a pre-fork server's
 * master and two workers hold one socket), with the largest drops and
 * queue reading of its members, never a sum; stalled only when every
 * member is; the requested backlog from a member that did not adopt the
 * socket; process series summed per socket without pid labels (the
 * default), or once per process and listener (by_process); closed
 * listeners and listeners without an identity are left out where they
 * must be; a network-namespace label when known; the last accept as a
 * Unix time; floats in the fewest digits that read back the same; a
 * document fed a process at a time and read in small pieces is the same
 * as one written whole; a host with no process under the shim (no socket
 * to sort) is still a document, by socket and by process.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"
#include "report.h"
#include "report_fixture.h"
#include "version.h"

static struct model_listener L[6];
static struct model_process P[4];
static struct report R;

/* Processes 10 (master), 11 and 12 (workers) hold socket ino 500 on
 * 127.0.0.1:80; 11 also has a closed slot; 13 holds ino 600 on :81 and a
 * listener whose identity is unknown (ino 0). */
static void setup_report(void)
{
	/* proc, dev, ino, accepts, drops, queue now, peak, flags, stalled */
	static const struct fixture_row f[6] = {
	    {0, 9, 500, 0, 40, 17, 0, AW_LF_ADOPTED | AW_LF_CLAMPED, 1},
	    {1, 9, 500, 7, 52, 17, 0, AW_LF_INHERITED | AW_LF_CLAMPED, 1},
	    {1, 9, 500, 99, 99, 0, 0, AW_LF_CLOSED, 0},
	    {2, 9, 500, 13, 52, 16, 0,
	     AW_LF_INHERITED | AW_LF_CLAMPED | AW_LF_DEFER_ACCEPT, 0},
	    {3, 9, 600, 5, 0, 0, 0, 0, 0},
	    {3, 9, 0, 3, 0, 0, 0, 0, 0},
	};
	report_fixture_rows(&R, P, 4, L, f, 6, 1000000);
	for (int i = 0; i < 6; i++) {
		struct model_listener *l = &L[i];
		int on81 = f[i].ino == 600;
		l->fd = i == 5 ? 6 : 5;
		snprintf(l->address, sizeof(l->address), "127.0.0.1:%d",
			 on81 ? 81 : 80);
		l->requested_backlog = on81 ? 64 : 511;
		l->effective_backlog = 16;
	}
	for (int p = 0; p < 4; p++) {
		snprintf(P[p].comm, sizeof(P[p].comm), "nginx");
		P[p].alive = 1;
	}
}

static char *render(int by_process)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_prometheus(f, &R, by_process), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Lines starting with prefix. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);

	for (const char *s = text; s && *s;) {
		if (!strncmp(s, prefix, pl))
			n++;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return n;
}

static void assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n%s", line, text);
}

static void test_socket_series_once(void **state)
{
	(void)state;
	setup_report();
	char *t = render(0);
	/* One socket line each for ino 500 and 600; nothing for ino 0. */
	assert_int_equal(count_lines(t, "acceptwatch_socket_drops_total{"), 2);
	assert_line(t, "acceptwatch_socket_drops_total{address=\"127.0.0.1:"
		       "80\",inode=\"500\"} 52");
	assert_line(t, "acceptwatch_socket_queue_length{address=\"127.0.0.1:"
		       "80\",inode=\"500\"} 17");
	/* One worker saw TCP_DEFER_ACCEPT: the socket has it. */
	assert_line(t, "acceptwatch_socket_defer_accept{address=\"127.0.0.1:"
		       "80\",inode=\"500\"} 1");
	assert_line(t, "acceptwatch_socket_defer_accept{address=\"127.0.0.1:"
		       "81\",inode=\"600\"} 0");
	/* One worker not stalled: the socket is not. */
	assert_line(t, "acceptwatch_socket_stalled{address=\"127.0.0.1:80\","
		       "inode=\"500\"} 0");
	/* The master adopted the socket: the requested backlog is a
	 * worker's. */
	assert_line(t, "acceptwatch_socket_backlog_requested{address=\"127.0."
		       "0.1:80\",inode=\"500\"} 511");
	assert_line(t, "acceptwatch_socket_backlog_clamped{address=\"127.0.0."
		       "1:80\",inode=\"500\"} 1");
	assert_line(t, "acceptwatch_socket_processes{address=\"127.0.0.1:80\","
		       "inode=\"500\"} 3");
	char info[128];
	snprintf(info, sizeof(info),
		 "acceptwatch_build_info{version=\"%s\",abi=\"%u\"} 1",
		 AW_VERSION, (unsigned)AW_ABI_VERSION);
	assert_line(t, info);
	assert_line(t, "acceptwatch_processes 4");
	free(t);
}

static void test_process_series(void **state)
{
	(void)state;
	setup_report();
	char *t = render(1);
	/* Five open listeners, the closed one left out. */
	assert_int_equal(count_lines(t, "acceptwatch_accepts_total{"), 5);
	assert_line(t, "acceptwatch_accepts_total{pid=\"11\",comm=\"nginx\","
		       "address=\"127.0.0.1:80\",inode=\"500\",fd=\"5\"} 7");
	/* Without an identity: process series, inode 0. */
	assert_line(t, "acceptwatch_accepts_total{pid=\"13\",comm=\"nginx\","
		       "address=\"127.0.0.1:80\",inode=\"0\",fd=\"6\"} 3");
	assert_int_equal(
	    count_lines(t, "acceptwatch_accept_gap_seconds_count{pid="), 5);
	free(t);
}

/* The default: process figures summed per socket, no pid label. */
static void test_by_socket(void **state)
{
	(void)state;
	setup_report();
	char *t = render(0);
	assert_null(strstr(t, "pid=\""));
	assert_int_equal(count_lines(t, "acceptwatch_accepts_total{"), 2);
	/* 0 + 7 + 13 over the open members of ino 500. */
	assert_line(t, "acceptwatch_accepts_total{address=\"127.0.0.1:80\","
		       "inode=\"500\"} 20");
	assert_line(t, "acceptwatch_accept_gap_seconds_count{address=\"127.0."
		       "0.1:80\",inode=\"500\"} 3");
	/* Socket series unchanged by the mode. */
	assert_line(t, "acceptwatch_socket_drops_total{address=\"127.0.0.1:"
		       "80\",inode=\"500\"} 52");
	assert_line(t, "acceptwatch_socket_backlog_effective{address=\"127.0."
		       "0.1:80\",inode=\"500\"} 16");
	assert_line(t, "acceptwatch_listeners_lost_total 0");
	free(t);
}

static void test_all_stalled(void **state)
{
	(void)state;
	setup_report();
	L[3].stalled = 1;
	char *t = render(0);
	assert_line(t, "acceptwatch_socket_stalled{address=\"127.0.0.1:80\","
		       "inode=\"500\"} 1");
	free(t);
}

/* Bucket counts at each bound equal aw_hist_count_le(), for values on,
 * around and between the bounds. */
static void test_buckets(void **state)
{
	(void)state;
	static const struct {
		const char *le;
		uint64_t ns;
	} b[] = {{"1e-05", 10000u},	{"0.0005", 500000u},
		 {"0.001", 1000000u},	{"0.025", 25000000u},
		 {"0.1", 100000000u},	{"1", 1000000000u},
		 {"60", 60000000000ull}};
	static const uint64_t v[] = {
	    1,		 9999,	      10000,	      10001,	     499000,
	    500000,	 999999,      1000000,	      1000001,	     24000000,
	    25000000,	 99999999,    100000000,      100000001,     999999999,
	    1000000000u, 5000000000u, 60000000000ull, 90000000000ull};
	char line[512];

	setup_report();
	memset(&L[1].gap_ns, 0, sizeof(L[1].gap_ns));
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		aw_hist_add(&L[1].gap_ns, v[i]);
	char *t = render(1);
	for (size_t k = 0; k < sizeof(b) / sizeof(*b); k++) {
		snprintf(line, sizeof(line),
			 "acceptwatch_accept_gap_seconds_bucket{pid=\"11\","
			 "comm=\"nginx\",address=\"127.0.0.1:80\",inode="
			 "\"500\",fd=\"5\",le=\"%s\"} %llu",
			 b[k].le,
			 (unsigned long long)aw_hist_count_le(&L[1].gap_ns,
							      b[k].ns));
		assert_line(t, line);
	}
	snprintf(line, sizeof(line),
		 "acceptwatch_accept_gap_seconds_bucket{pid=\"11\",comm="
		 "\"nginx\",address=\"127.0.0.1:80\",inode=\"500\",fd="
		 "\"5\",le=\"+Inf\"} %zu",
		 sizeof(v) / sizeof(*v));
	assert_line(t, line);
	for (unsigned int c = 0; c < AW_ERR_CLASSES; c++) {
		snprintf(line, sizeof(line),
			 "acceptwatch_accept_errors_total{pid=\"11\",comm="
			 "\"nginx\",address=\"127.0.0.1:80\",inode=\"500\","
			 "fd=\"5\",class=\"%s\"} %llu",
			 report_err_name(c),
			 (unsigned long long)L[1].errors[c]);
		assert_line(t, line);
	}
	free(t);
}

/* The namespace, when the reader knows it, labels both kinds of series;
 * the last accept is a timestamp from the snapshot's two clocks. */
static void test_netns_and_timestamp(void **state)
{
	(void)state;
	setup_report();
	P[3].netns = 4026531840ull;
	P[3].now_real_ns = 1700000000ull * 1000000000ull;
	P[3].now_mono_ns = 5000000000ull;
	L[4].last_accept_mono_ns = 4750000000ull; /* 0.25 s before */
	char *t = render(0);
	assert_line(t, "acceptwatch_socket_drops_total{address=\"127.0.0.1:"
		       "81\",inode=\"600\",netns=\"4026531840\"} 0");
	assert_line(t, "acceptwatch_last_accept_timestamp_seconds{address="
		       "\"127.0.0.1:81\",inode=\"600\",netns=\"4026531840\"} "
		       "1699999999.75");
	/* No accept known: no sample, rather than a made-up age. */
	assert_int_equal(
	    count_lines(t, "acceptwatch_last_accept_timestamp_seconds{"), 1);
	assert_null(strstr(t, "age_seconds"));
	free(t);
	t = render(1);
	assert_line(t, "acceptwatch_accepts_total{pid=\"13\",comm=\"nginx\","
		       "address=\"127.0.0.1:81\",inode=\"600\",netns="
		       "\"4026531840\",fd=\"5\"} 5");
	free(t);
}

static void test_shortest_double(void **state)
{
	static const double v[] = {
	    26.738992229,  0.1,	   1e-05,   1.5e300,
	    1699999999.75, 0.3e-7, 2.0 / 3, 123456789012345678.0};
	char b[40];

	(void)state;
	assert_int_equal(report_prom_double(b, sizeof(b), 26.738992229), 12);
	assert_string_equal(b, "26.738992229");
	report_prom_double(b, sizeof(b), 0.1);
	assert_string_equal(b, "0.1");
	report_prom_double(b, sizeof(b), 52);
	assert_string_equal(b, "52");
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		report_prom_double(b, sizeof(b), v[i]);
		assert_true(strtod(b, NULL) == v[i]);
	}
}

/* Whole numbers (printed without the bisection) as the bisection printed
 * them: their digits, but %g's exponent form where trailing zeros make it
 * shorter, and -0 kept. */
static void test_whole_double(void **state)
{
	static const struct {
		double v;
		const char *s;
	} w[] = {{0, "0"},
		 {-0.0, "-0"},
		 {7, "7"},
		 {128, "128"},
		 {4096, "4096"},
		 {1000001, "1000001"},
		 {100, "1e+02"},
		 {1e6, "1e+06"},
		 {9007199254740991.0, "9007199254740991"},
		 {9007199254740992.0, "9007199254740992"},
		 {-3, "-3"}};
	char b[40];

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++) {
		size_t n = report_prom_double(b, sizeof(b), w[i].v);
		assert_string_equal(b, w[i].s);
		assert_int_equal(n, strlen(w[i].s));
	}
}

/* The answer of a bisection over all 17 precisions, as report_prom_double
 * once found it. */
static void by_bisection(char *b, size_t len, double v)
{
	int lo = 1, hi = 17;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2,
		    n = snprintf(b, len, "%.*g", mid, v);
		if (n > 0 && (size_t)n < len && strtod(b, NULL) == v)
			hi = mid;
		else
			lo = mid + 1;
	}
	snprintf(b, len, "%.*g", lo, v);
}

/* Times in seconds made of ns or ms (as the sums and timestamps are),
 * fractions, powers of two and their neighbours, random bits: the text
 * of the bisection over every precision. */
static void test_double_as_bisected(void **state)
{
	char got[40], want[40];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		switch (i % 5) {
		case 0: /* a timestamp with its nanoseconds */
			v = (double)(1700000000 + x % 100000000) +
			    (double)(x % 1000000000) / 1e9;
			break;
		case 1: /* a sum in ns as seconds */
			v = (double)(x % 100000000000ull) / 1e9;
			break;
		case 2: /* a sum in ms as seconds */
			v = (double)(x % 10000000) / 1e3;
			break;
		case 3: /* a power of two, or next to one */
			v = ldexp(1.0, (int)(x % 200) - 100);
			v = x & 1 ? nextafter(v, 0) : v;
			break;
		default: /* any finite double */
			memcpy(&v, &x, sizeof(v));
			if (!isfinite(v))
				v = 1.0 / 3;
			break;
		}
		report_prom_double(got, sizeof(got), v);
		by_bisection(want, sizeof(want), v);
		if (strcmp(got, want))
			fail_msg("%.17g: %s, the bisection %s", v, got, want);
	}
}

/* Read in pieces of 7 bytes, fed a process at a time: the same text. */
static void test_streamed(void **state)
{
	(void)state;
	setup_report();
	char *whole = render(1);
	struct prom_doc *d = report_prom_new(1);
	assert_non_null(d);
	for (size_t i = 0; i < R.n_proc; i++)
		assert_int_equal(report_prom_add(d, &R.proc[i]), 0);
	report_prom_totals(d, 0, -1);
	size_t cap = strlen(whole) + 64, len = 0, n;
	char *got = calloc(1, cap);
	assert_non_null(got);
	while ((n = report_prom_read(d, got + len, 7)) > 0) {
		len += n;
		assert_true(len + 7 < cap);
	}
	assert_string_equal(got, whole);
	report_prom_free(d);
	free(got);
	free(whole);
}

/* Nothing added (no process under the shim, as on a fresh host): the
 * reader still says so, and a streamed read of it is undefined behaviour
 * nowhere (the exporter runs sanitized in the tests; it died at its first
 * scrape of an empty host). */
static void test_empty_host(void **state)
{
	(void)state;
	for (int by_process = 0; by_process < 2; by_process++) {
		struct prom_doc *d = report_prom_new(by_process);
		char got[16384];
		size_t len = 0, n;

		assert_non_null(d);
		report_prom_totals(d, 2, 0.25);
		while ((n = report_prom_read(d, got + len,
					     sizeof(got) - 1 - len)) > 0)
			len += n;
		got[len] = '\0';
		assert_line(got, "acceptwatch_processes 0");
		assert_line(got, "acceptwatch_segments_unreadable 2");
		assert_line(got, "acceptwatch_scrape_duration_seconds 0.25");
		assert_int_equal(
		    count_lines(got, "acceptwatch_socket_drops_total{"), 0);
		assert_int_equal(count_lines(got, "acceptwatch_accepts_total{"),
				 0);
		report_prom_free(d);
	}
}

/* The kernel's figures of a socket no segment speaks for (a server
 * without the shim, sampled by serve) beside a process under the shim:
 * socket series and the sampled peak for it alone, no process series,
 * nothing said of what is not known from outside (clamp, defer, stall),
 * and it is no process. */
static void test_kernel_only(void **state)
{
	(void)state;
	for (int by_process = 0; by_process < 2; by_process++) {
		struct model_listener k;
		struct model_process kp;
		memset(&k, 0, sizeof(k));
		memset(&kp, 0, sizeof(kp));
		k.ino = 700;
		snprintf(k.address, sizeof(k.address), "127.0.0.1:82");
		k.effective_backlog = 8;
		k.flags = AW_LF_ADOPTED;
		k.queue_peak = 6;
		k.live.queue_now = 5;
		k.live.drops = 9;
		kp.kernel_only = 1;
		kp.alive = 1;
		kp.n_listeners = 1;
		kp.listener = &k;
		setup_report();
		struct prom_doc *d = report_prom_new(by_process);
		assert_non_null(d);
		assert_int_equal(report_prom_add(d, &P[3]), 0);
		assert_int_equal(report_prom_add(d, &kp), 0);
		char *t = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&t, &len);
		assert_non_null(f);
		assert_int_equal(report_prom_write(f, d), 0);
		assert_int_equal(fclose(f), 0);
		report_prom_free(d);
		const char *lab = "{address=\"127.0.0.1:82\",inode=\"700\"}";
		char want[256];
		static const char *const have[] = {
		    "acceptwatch_socket_drops_total%s 9",
		    "acceptwatch_socket_queue_length%s 5",
		    "acceptwatch_socket_backlog_effective%s 8",
		    "acceptwatch_socket_processes%s 0",
		    "acceptwatch_socket_queue_peak%s 6",
		};
		for (size_t i = 0; i < sizeof(have) / sizeof(*have); i++) {
			snprintf(want, sizeof(want), have[i], lab);
			assert_line(t, want);
		}
		assert_line(t, "acceptwatch_processes 1");
		assert_int_equal(
		    count_lines(t, "acceptwatch_socket_queue_peak{"), 1);
		static const char *const absent[] = {
		    "acceptwatch_socket_backlog_clamped{address=\"127.0.0.1:"
		    "82\"",
		    "acceptwatch_socket_defer_accept{address=\"127.0.0.1:82\"",
		    "acceptwatch_socket_stalled{address=\"127.0.0.1:82\"",
		    "acceptwatch_socket_backlog_requested{address=\"127.0.0.1:"
		    "82\"",
		    "acceptwatch_accepts_total{address=\"127.0.0.1:82\"",
		    "acceptwatch_queue_peak{address=\"127.0.0.1:82\"",
		    "acceptwatch_accepts_total{pid=\"0\"",
		};
		for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++)
			if (strstr(t, absent[i]))
				fail_msg("%s in:\n%s", absent[i], t);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel_only),
	    cmocka_unit_test(test_socket_series_once),
	    cmocka_unit_test(test_process_series),
	    cmocka_unit_test(test_by_socket),
	    cmocka_unit_test(test_all_stalled),
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_netns_and_timestamp),
	    cmocka_unit_test(test_shortest_double),
	    cmocka_unit_test(test_whole_double),
	    cmocka_unit_test(test_double_as_bisected),
	    cmocka_unit_test(test_streamed),
	    cmocka_unit_test(test_empty_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
