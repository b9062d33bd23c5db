/*
 * loaderlock.c - the shim's lock against the dynamic loader's.
 *
 *   loaderlock LIB N
 *
 * One thread dlopen()s and dlclose()s LIB N times (its constructor listens,
 * with the loader's lock held); another makes, listens on and closes N
 * listeners from a call site of its own (each listen() records a call-site
 * stack). If the shim took the loader's lock (unwinding, dladdr,
 * dl_iterate_phdr, dlsym) while holding its own, the two would deadlock.
 * Prints "rounds N ok"; exit 1 on an error. A hang is for the caller's
 * timeout to catch.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/prog.h"

static const char *lib;
static long rounds;

static void *loading(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			fprintf(stderr, "loaderlock: %s\n", dlerror());
			exit(1);
		}
		dlclose(h);
	}
	return NULL;
}

static void *listening(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		int l = loopback_listener(0, 5, NULL);
		if (l < 0)
			die_errno("listen");
		close(l);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	if (argc != 3) {
		fprintf(stderr, "usage: loaderlock LIB N\n");
		return 1;
	}
	lib = argv[1];
	rounds = parse_long(argv[2], "N", 1, 1000000);
	if (pthread_create(&a, NULL, loading, NULL) != 0 ||
	    pthread_create(&b, NULL, listening, NULL) != 0)
		die_errno("pthread_create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("rounds %ld ok\n", rounds);
	return 0;
}
