/*
 * fdreuse - a daemon that closes and reuses every descriptor above its
 * listener while its accept loop is slow, and checks that no byte of its
 * data changed: what an unwinder that writes through descriptor numbers it
 * remembers would break.
 *
 * usage: fdreuse DATAFILE [ROUNDS]
 * Listens on 127.0.0.1 (fd 3), prints "ready PORT". Each round: closes every
 * descriptor from 4 up, takes 4 back as a placeholder, opens DATAFILE for
 * appending (5), socket pairs after it with 8 known bytes in one direction,
 * frees 4, appends a line to DATAFILE, waits until a client is queued and
 * then 1.1 s (its wait makes a slow event, and the shim's rate limit lets
 * one capture through per round), accepts (the client gets 4), reads the
 * client's 16-byte request "REQUEST-NN-abcde", answers "OK\n", and checks
 * every pair and the file. Prints "round N ok" or "round N corrupt: WHAT".
 * Then closes every descriptor from 4 up, prints "idle" and waits for a
 * signal. The rounds run in a thread of their own: a thread's stack ends in
 * clone3, which has no unwind information, where an unwinder falls back to
 * validating addresses.
 */
#include "lib/prog.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAIRS 6
#define PATTERN "PATTERN!"

static int make_listener(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die_errno("listener");
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Reads exactly n bytes within 3 s; returns how many came. */
static size_t read_exact(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Nothing more to read on a non-blocking fd. */
static int drained(int fd)
{
	char c;
	return read(fd, &c, 1) < 0 && errno == EAGAIN;
}

static const char *check_pairs(int pairs[PAIRS][2])
{
	char buf[sizeof(PATTERN)];
	for (int k = 0; k < PAIRS; k++) {
		ssize_t r = read(pairs[k][1], buf, sizeof(PATTERN) - 1);
		if (r != (ssize_t)sizeof(PATTERN) - 1 ||
		    memcmp(buf, PATTERN, sizeof(PATTERN) - 1) != 0)
			return "a socket pair lost bytes";
		if (!drained(pairs[k][1]) || !drained(pairs[k][0]))
			return "a socket pair got bytes nobody sent";
	}
	return NULL;
}

static void fill_pairs(int pairs[PAIRS][2])
{
	for (int k = 0; k < PAIRS; k++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
			       pairs[k]) != 0)
			die_errno("socketpair");
		if (write(pairs[k][0], PATTERN, sizeof(PATTERN) - 1) !=
		    (ssize_t)sizeof(PATTERN) - 1)
			die_errno("write pair");
	}
}

static const char *serve(int client, int round)
{
	char want[32], got[16];
	snprintf(want, sizeof(want), "REQUEST-%02d-abcde", round % 100);
	size_t n = read_exact(client, got, 16);
	const char *reply =
	    n == 16 && memcmp(got, want, 16) == 0 ? "OK\n" : "BAD\n";
	if (write(client, reply, strlen(reply)) < 0)
		return "cannot answer the client";
	return reply[0] == 'O' ? NULL : "the client's request changed";
}

static const char *round_once(int listener, const char *path, int round,
			      off_t *size)
{
	int pairs[PAIRS][2];
	char line[32];

	closefrom(4);
	int hold = open("/dev/null", O_RDONLY);
	int data = open(path, O_WRONLY | O_APPEND);
	if (hold != 4 || data != 5)
		die_errno("descriptors 4 and 5");
	fill_pairs(pairs);
	close(hold);
	snprintf(line, sizeof(line), "round %02d\n", round % 100);
	if (write(data, line, 9) != 9)
		die_errno("write data");
	*size += 9;
	/* The client queued first, then 1.1 s: its wait makes the slow
	 * event, however late a loaded machine lets the client connect. */
	struct pollfd queued = {.fd = listener, .events = POLLIN};
	while (poll(&queued, 1, -1) < 0)
		if (errno != EINTR)
			die_errno("poll");
	usleep(1100 * 1000);
	int client = accept(listener, NULL, NULL);
	if (client < 0)
		die_errno("accept");
	const char *bad = serve(client, round);
	close(client);
	if (bad == NULL)
		bad = check_pairs(pairs);
	struct stat st;
	if (bad == NULL && (fstat(data, &st) != 0 || st.st_size != *size))
		bad = "the data file changed";
	return bad;
}

struct job {
	const char *path;
	int rounds;
};

static void *rounds_thread(void *arg)
{
	const struct job *job = arg;
	off_t size = 0;

	for (int r = 1; r <= job->rounds; r++) {
		const char *bad = round_once(3, job->path, r, &size);
		if (bad)
			printf("round %d corrupt: %s\n", r, bad);
		else
			printf("round %d ok\n", r);
		fflush(stdout);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int port;
	struct job job = {.rounds = 3};
	pthread_t t;

	if (argc < 2) {
		fprintf(stderr, "usage: fdreuse DATAFILE [ROUNDS]\n");
		return 2;
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die_errno(argv[1]);
	close(fd);
	int listener = make_listener(&port);
	if (listener != 3) {
		fprintf(stderr, "fdreuse: listener is fd %d, not 3\n",
			listener);
		return 1;
	}
	job.path = argv[1];
	if (argc > 2)
		job.rounds = (int)parse_long(argv[2], "ROUNDS", 1, 100);
	printf("ready %d\n", port);
	fflush(stdout);
	if (pthread_create(&t, NULL, rounds_thread, &job) != 0 ||
	    pthread_join(t, NULL) != 0)
		die_errno("rounds thread");
	closefrom(4);
	printf("idle\n");
	fflush(stdout);
	for (;;)
		pause();
}
