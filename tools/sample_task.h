/*
 * One thread of another process, read from outside: its state letter
 * (/proc/PID/task/TID/stat), the system call it sits in
 * (/proc/PID/task/TID/syscall) or, where that file is refused, the kernel
 * function it sleeps in (wchan). Reading these files stops nothing: no
 * ptrace, no signal; the target never notices.
 */
#ifndef AW_SAMPLE_TASK_H
#define AW_SAMPLE_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What a thread was doing at one sample, from the watcher's side. */
enum sample_kind {
	SAMPLE_IN_ACCEPT = 0, /* blocked in accept()/accept4() on fd */
	SAMPLE_IN_POLL = 1,   /* in epoll_wait/poll/select (epoll: on fd) */
	SAMPLE_RUNNING = 2,   /* on a CPU or runnable (R) */
	SAMPLE_ASLEEP = 3,    /* blocked in some other system call */
	SAMPLE_STOPPED = 4,   /* SIGSTOP or a tracer (T, t) */
	SAMPLE_UNKNOWN = 5,   /* nothing readable said more */
	SAMPLE_KINDS = 6,
};

#define SAMPLE_LABEL_LEN 32

struct sample_reading {
	enum sample_kind kind;
	int fd; /* accept's listener, epoll's epoll fd; -1 unknown */
	char label[SAMPLE_LABEL_LEN]; /* "accept4", "clock_nanosleep",
					 "futex_wait_queue (wchan)" */
	uint64_t cpu_ticks;	      /* utime + stime */
};

/* The files of one thread, kept open between samples (pread at 0 reads
 * them afresh). */
struct sample_task {
	pid_t tid;
	int stat_fd;
	int syscall_fd; /* -1: refused (another uid, yama): wchan_fd used */
	int wchan_fd;	/* -1: refused too: the state letter only */
};

/*
 * Open tid's files (of process pid). 0, or -1 when the thread is gone or
 * even its stat is unreadable. t->syscall_fd and t->wchan_fd may be -1.
 */
int sample_task_open(struct sample_task *t, pid_t pid, pid_t tid);

void sample_task_close(struct sample_task *t);

/* Read the thread now into r. 0, or -1 when it is gone. A syscall file
 * refused at read time is closed (wchan from then on). */
int sample_task_read(struct sample_task *t, struct sample_reading *r);

/*
 * Classify a syscall file's text ("NR ARG0 ... SP PC", "running", "-1 SP
 * PC") with the state letter into r (kind, fd, label). Pure: unit tested.
 */
void sample_classify_syscall(const char *text, char state,
			     struct sample_reading *r);

/* The same from a wchan name (no fd is known then). Pure. */
void sample_classify_wchan(const char *wchan, char state,
			   struct sample_reading *r);

/* The name of system call nr on this architecture, or NULL. */
const char *sample_syscall_name(long nr);

/* A label for people: "in accept", "asleep in clock_nanosleep"... into
 * dst. Returns dst. */
char *sample_describe(char *dst, size_t len, enum sample_kind kind,
		      const char *label);

#endif
