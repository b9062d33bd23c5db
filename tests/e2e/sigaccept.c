/*
 * sigaccept - accept() in a signal handler, on the listener that the
 * interrupted accept() of the same thread is blocked on.
 *
 * usage: sigaccept ROUNDS
 * Listens on 127.0.0.1 and prints "ready PORT". The main thread accepts in
 * a blocking loop and closes what it gets. A driver thread, each round:
 * connects BURST clients back to back (the loop takes them, each call soon
 * after the one before: the shim's common path), waits until the loop has
 * taken them all and sits in accept() again, sends it SIGUSR1, whose
 * SA_RESTART handler accepts one connection itself, and connects two more
 * clients: one for the handler, one for the interrupted call, which resumes.
 * The handler's accept thus returns inside the loop's call, after that
 * call's entry. Prints "done LOOP HANDLER" (accepts each made) and exits 0
 * at SIGTERM.
 */
#include "lib/prog.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#define BURST 3
#define WAIT_NS (10ull * 1000000000ull)

static int listen_fd;
static pid_t loop_tid;
static unsigned long loop_accepts;    /* atomic */
static unsigned long handler_accepts; /* atomic */

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	int fd = accept(listen_fd, NULL, NULL);
	if (fd >= 0) {
		__atomic_add_fetch(&handler_accepts, 1, __ATOMIC_RELEASE);
		close(fd);
	}
	errno = saved;
}

static int client(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die_errno("connect");
	return fd;
}

static void pause_briefly(void)
{
	struct timespec ts = {0, 100000};
	nanosleep(&ts, NULL);
}

/* Whether the loop's thread is inside accept() (or accept4) now. */
static int loop_in_accept(void)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", loop_tid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		die_errno(path);
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	long nr = strtol(buf, NULL, 10);
	return nr == SYS_accept || nr == SYS_accept4;
}

/* Until the loop made `want` accepts and (with blocked) sits in accept(). */
static void wait_for(unsigned long *count, unsigned long want, int blocked)
{
	uint64_t until = now_ns() + WAIT_NS;
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want ||
	       (blocked && !loop_in_accept())) {
		if (now_ns() > until) {
			fprintf(stderr, "sigaccept: stuck at %lu of %lu\n",
				__atomic_load_n(count, __ATOMIC_ACQUIRE), want);
			exit(1);
		}
		pause_briefly();
	}
}

struct drive {
	int port;
	long rounds;
};

static void *driver(void *arg)
{
	const struct drive *d = arg;
	unsigned long loop = 0, handler = 0;
	wait_for(&loop_accepts, 0, 1);
	for (long r = 0; r < d->rounds; r++) {
		int fds[BURST + 2];
		for (int i = 0; i < BURST; i++)
			fds[i] = client(d->port);
		loop += BURST;
		wait_for(&loop_accepts, loop, 1);
		if (syscall(SYS_tgkill, getpid(), loop_tid, SIGUSR1) != 0)
			die_errno("tgkill");
		fds[BURST] = client(d->port);
		fds[BURST + 1] = client(d->port);
		wait_for(&handler_accepts, ++handler, 0);
		wait_for(&loop_accepts, ++loop, 1);
		for (int i = 0; i < BURST + 2; i++)
			close(fds[i]);
	}
	printf("done %lu %lu\n", loop, handler);
	fflush(stdout);
	/* SIGTERM (blocked in every thread) ends it with exit(): the shim's
	 * segment goes with it. */
	sigset_t term;
	int sig;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigwait(&term, &sig);
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sigaccept ROUNDS\n");
		return 2;
	}
	struct drive d = {.rounds = parse_long(argv[1], "ROUNDS", 1, 100000)};
	listen_fd = loopback_listener(SOCK_CLOEXEC, 64, &d.port);
	if (listen_fd < 0)
		die_errno("listen");
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	loop_tid = (pid_t)syscall(SYS_gettid);
	printf("ready %d\n", d.port);
	fflush(stdout);
	pthread_t t;
	if (pthread_create(&t, NULL, driver, &d) != 0)
		die_errno("pthread_create");
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die_errno("accept");
		}
		__atomic_add_fetch(&loop_accepts, 1, __ATOMIC_RELEASE);
		close(fd);
	}
}
