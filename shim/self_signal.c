/* The segment removed before a signal the process sends itself kills it
 * (self_signal.h). */
#include "self_signal.h"

#include "segment.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

/*
 * A process that kills itself with a signal runs no exit path: CPython
 * after an uncaught KeyboardInterrupt (it finalises, then re-raises SIGINT
 * with the default action: kill(getpid(), SIGINT)), twistd and other
 * servers that stop and then die of the signal that stopped them. Its
 * segment goes first, as at exit, but only when the death is certain: the
 * signal's default action kills, that action is in place, and the calling
 * thread does not block it (a signal a process sends itself is delivered
 * to the sender before the call returns when the sender lets it through).
 * Else (blocked, handled, ignored) it stays for the reaper or gc.
 */
static int default_kills(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH: /* ignored by default */
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU: /* stop */
		return 0;
	default:
		return sig > 0 && sig < NSIG;
	}
}

static int will_kill_me(int sig)
{
	struct sigaction sa;
	sigset_t blocked;
	if (sig == SIGKILL)
		return 1;
	return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	       pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0 &&
	       !sigismember(&blocked, sig);
}

static void before_self_signal(int sig)
{
	int saved = errno;
	if (will_kill_me(sig))
		aw_segment_release();
	errno = saved;
}

/* This process is among kill()'s targets: itself, or its process group. */
void aw_self_signal_kill(pid_t pid, int sig)
{
	if (default_kills(sig)) {
		int saved = errno;
		int self = pid == 0 || pid == getpid() || pid == -getpgrp();
		errno = saved;
		if (self)
			before_self_signal(sig);
	}
}

void aw_self_signal_raise(int sig)
{
	if (default_kills(sig))
		before_self_signal(sig);
}
