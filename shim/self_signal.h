/*
 * A process that kills itself with a signal (kill of itself or its process
 * group, raise) runs no exit path: its segment goes first, as at exit, when
 * the death is certain (self_signal.c says when). errno is kept.
 */
#ifndef AW_SELF_SIGNAL_H
#define AW_SELF_SIGNAL_H

#include <sys/types.h>

/* Before kill(pid, sig). */
void aw_self_signal_kill(pid_t pid, int sig);

/* Before raise(sig). */
void aw_self_signal_raise(int sig);

#endif
