/*
 * report_hist(): bpftrace's hist() layout (power-of-two ranges, a count, a
 * bar of '@' scaled to the largest count, 52 wide), from the first range
 * with a count to the last, empty ranges between them shown; "(none)" for
 * an empty distribution; ns shown in us, the queue wait in ms; a socket
 * held by two processes gets a block of its own with their sum.
 */
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

static struct model_listener L[2];
static struct model_process P[2];
static struct report R;

static char *render(size_t n_proc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	R.proc = P;
	R.n_proc = n_proc;
	report_hist(f, &R);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void setup(void)
{
	memset(L, 0, sizeof(L));
	memset(P, 0, sizeof(P));
	memset(&R, 0, sizeof(R));
	for (int i = 0; i < 2; i++) {
		L[i].fd = 3;
		L[i].dev = 9;
		L[i].ino = 500;
		snprintf(L[i].address, sizeof(L[i].address), "127.0.0.1:80");
		P[i].pid = 10 + i;
		snprintf(P[i].comm, sizeof(P[i].comm), "nginx");
		P[i].listener = &L[i];
		P[i].n_listeners = 1;
	}
	for (int k = 0; k < 3; k++)
		aw_hist_add(&L[0].gap_ns, 5000); /* 5 us */
	aw_hist_add(&L[0].gap_ns, 100000);	 /* 100 us */
	aw_hist_add(&L[0].queue_wait_ms, 0);
	aw_hist_add(&L[0].queue_wait_ms, 0);
	aw_hist_add(&L[0].queue_wait_ms, 3);
}

static const char bar52[] =
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";

static void test_layout(void **state)
{
	char want[2048];

	(void)state;
	setup();
	char *t = render(1);
	snprintf(want, sizeof(want),
		 "pid 10 (nginx) 127.0.0.1:80 fd 3:\n\n"
		 "@gap_us:\n"
		 "[4, 8)                  3 |%s|\n"
		 "[8, 16)                 0 |%52s|\n"
		 "[16, 32)                0 |%52s|\n"
		 "[32, 64)                0 |%52s|\n"
		 "[64, 128)               1 |%.17s%35s|\n\n"
		 "@away_us:\n(none)\n\n"
		 "@queue_wait_ms:\n"
		 "[0]                     2 |%s|\n"
		 "[1, 2)                  0 |%52s|\n"
		 "[2, 4)                  1 |%.26s%26s|\n\n",
		 bar52, "", "", "", bar52, "", bar52, "", bar52, "");
	assert_string_equal(t, want);
	free(t);
}

/* Two processes on one socket: a block each, then the socket's sum. */
static void test_socket_sum(void **state)
{
	(void)state;
	setup();
	aw_hist_add(&L[1].gap_ns, 5000);
	char *t = render(2);
	const char *s =
	    strstr(t, "socket 127.0.0.1:80 inode 500, 2 processes:");
	assert_non_null(s);
	assert_non_null(strstr(s, "[4, 8)                  4 |"));
	assert_non_null(strstr(t, "pid 11 (nginx) 127.0.0.1:80 fd 3:"));
	free(t);
}

/* Suffixes of 1024, as bpftrace prints them. */
static void test_suffixes(void **state)
{
	(void)state;
	setup();
	memset(&L[0].gap_ns, 0, sizeof(L[0].gap_ns));
	aw_hist_add(&L[0].gap_ns, 1500000000ull); /* 1.5 s */
	char *t = render(1);
	assert_non_null(strstr(t, "\n[1M, 2M)                1 |"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_socket_sum),
	    cmocka_unit_test(test_suffixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
