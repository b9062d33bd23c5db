/*
 * cancel.c - threads taken out of a blocking accept() without returning
 * from it: the "threads in accept" count must not keep them.
 *
 *   cancel MODE      MODE: cancel | jump-exit | jump-again
 *
 * Listens on 127.0.0.1 (ephemeral port, backlog 4), then:
 *   cancel      a thread blocks in accept() and is cancelled (pthread_cancel
 *               acts at the cancellation point inside accept), then joined;
 *   jump-exit   a thread blocks in accept(), a signal handler siglongjmps
 *               it out, and the thread returns (it ends);
 *   jump-again  the main thread blocks in accept(), a signal handler
 *               siglongjmps it out, and it goes on to call accept() on a
 *               second, non-blocking listener (EAGAIN).
 * No connection is accepted. Prints "ready PORT" and waits for a signal
 * (SIGTERM ends it). Exit 1 on a setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/prog.h"

static int listener;
static __thread sigjmp_buf jump;

static int make_listener(int flags, int *port)
{
	int fd = loopback_listener(flags, 4, port);
	if (fd < 0)
		die_errno("listen");
	return fd;
}

static void jump_out(int sig)
{
	(void)sig;
	siglongjmp(jump, 1);
}

/* Blocks in accept() until cancelled or jumped out of. */
static void *blocked(void *arg)
{
	(void)arg;
	if (sigsetjmp(jump, 1) == 0)
		accept(listener, NULL, NULL);
	return NULL;
}

static void settle(void)
{
	usleep(200 * 1000); /* the thread is inside accept() by then */
}

static void run_cancel(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, blocked, NULL) != 0)
		die_errno("pthread_create");
	settle();
	pthread_cancel(t);
	pthread_join(t, NULL);
}

static void run_jump_exit(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, blocked, NULL) != 0)
		die_errno("pthread_create");
	settle();
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
}

static void run_jump_again(void)
{
	int other = make_listener(SOCK_NONBLOCK, NULL);
	alarm(1);
	if (sigsetjmp(jump, 1) == 0)
		accept(listener, NULL, NULL);
	if (accept(other, NULL, NULL) >= 0 || errno != EAGAIN)
		die_errno("accept on the non-blocking listener");
}

int main(int argc, char **argv)
{
	int port;
	struct sigaction sa;

	if (argc != 2) {
		fprintf(stderr, "usage: cancel cancel|jump-exit|jump-again\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = jump_out;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	listener = make_listener(0, &port);
	if (strcmp(argv[1], "cancel") == 0)
		run_cancel();
	else if (strcmp(argv[1], "jump-exit") == 0)
		run_jump_exit();
	else if (strcmp(argv[1], "jump-again") == 0)
		run_jump_again();
	else {
		fprintf(stderr, "cancel: unknown mode %s\n", argv[1]);
		return 1;
	}
	printf("ready %d\n", port);
	fflush(stdout);
	for (;;)
		pause();
}
