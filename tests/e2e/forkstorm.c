/*
 * forkstorm.c - fork while other threads are inside the shim's wrappers.
 *
 *   forkstorm N
 *
 * Three threads loop without pause: one on accept4() of a non-blocking
 * listener (EAGAIN), one making listeners (socket, bind, listen, close),
 * one copying and closing the listener's descriptor (dup, fcntl F_DUPFD,
 * dup2, close). Meanwhile the main thread forks N children, one after the
 * other. Each child goes through the same wrappers once (listen, accept4,
 * dup2, close) and exit()s; the parent waits for it at most 5 s: a child
 * that inherited a lock held by another thread at fork would hang there.
 * Prints "forks N ok" and exits 0; exit 1 on a hang or an error.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/prog.h"

static int listener;
static volatile int stop;

static int make_listener(void)
{
	return loopback_listener(SOCK_NONBLOCK, 8, NULL);
}

static void *accepting(void *arg)
{
	(void)arg;
	while (!stop)
		accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	return NULL;
}

static void *listening(void *arg)
{
	(void)arg;
	while (!stop) {
		int fd = make_listener();
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void *copying(void *arg)
{
	(void)arg;
	while (!stop) {
		int a = dup(listener);
		int b = fcntl(listener, F_DUPFD_CLOEXEC, 100);
		if (b >= 0 && a >= 0)
			dup2(listener, b);
		close(a);
		close(b);
	}
	return NULL;
}

static void child(void)
{
	int fd = make_listener();
	accept4(listener, NULL, NULL, 0);
	if (fd >= 0) {
		dup2(listener, fd);
		close(fd);
	}
	exit(0);
}

/* 0 when pid exited 0 within 5 s. */
static int reap(pid_t pid)
{
	int status;
	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0
				   ? 0
				   : -1;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int main(int argc, char **argv)
{
	pthread_t t[3];
	void *(*fn[3])(void *) = {accepting, listening, copying};

	if (argc != 2) {
		fprintf(stderr, "usage: forkstorm N\n");
		return 1;
	}
	long n = parse_long(argv[1], "N", 1, 100000);
	listener = make_listener();
	if (listener < 0)
		die_errno("listener");
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, fn[i], NULL) != 0)
			die_errno("pthread_create");
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die_errno("fork");
		if (pid == 0)
			child();
		if (reap(pid) != 0) {
			fprintf(stderr,
				"forkstorm: child %ld of %ld hung or "
				"failed\n",
				i + 1, n);
			return 1;
		}
	}
	stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("forks %ld ok\n", n);
	return 0;
}
