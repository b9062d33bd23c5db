/*
 * Reading a thread from outside. The syscall file needs ptrace-attach
 * permission but takes no ptrace stop: the kernel reads the registers of
 * a thread that is off CPU (task_current_syscall), or says "running".
 * wchan needs read permission only and names a kernel function, never an
 * fd. A state letter alone says running, asleep or stopped.
 */
#include "sample_task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct syscall_name {
	long nr;
	const char *name;
	enum sample_kind kind; /* SAMPLE_ASLEEP: any other call */
};

/* The calls a server's threads sit in, by this architecture's numbers. */
static const struct syscall_name names[] = {
#ifdef SYS_accept
    {SYS_accept, "accept", SAMPLE_IN_ACCEPT},
#endif
    {SYS_accept4, "accept4", SAMPLE_IN_ACCEPT},
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, "epoll_wait", SAMPLE_IN_POLL},
#endif
    {SYS_epoll_pwait, "epoll_pwait", SAMPLE_IN_POLL},
#ifdef SYS_epoll_pwait2
    {SYS_epoll_pwait2, "epoll_pwait2", SAMPLE_IN_POLL},
#endif
#ifdef SYS_poll
    {SYS_poll, "poll", SAMPLE_IN_POLL},
#endif
    {SYS_ppoll, "ppoll", SAMPLE_IN_POLL},
#ifdef SYS_select
    {SYS_select, "select", SAMPLE_IN_POLL},
#endif
    {SYS_pselect6, "pselect6", SAMPLE_IN_POLL},
    {SYS_read, "read", SAMPLE_ASLEEP},
    {SYS_write, "write", SAMPLE_ASLEEP},
    {SYS_recvfrom, "recvfrom", SAMPLE_ASLEEP},
    {SYS_recvmsg, "recvmsg", SAMPLE_ASLEEP},
    {SYS_sendto, "sendto", SAMPLE_ASLEEP},
    {SYS_sendmsg, "sendmsg", SAMPLE_ASLEEP},
    {SYS_connect, "connect", SAMPLE_ASLEEP},
    {SYS_futex, "futex", SAMPLE_ASLEEP},
#ifdef SYS_nanosleep
    {SYS_nanosleep, "nanosleep", SAMPLE_ASLEEP},
#endif
    {SYS_clock_nanosleep, "clock_nanosleep", SAMPLE_ASLEEP},
    {SYS_wait4, "wait4", SAMPLE_ASLEEP},
    {SYS_waitid, "waitid", SAMPLE_ASLEEP},
#ifdef SYS_pause
    {SYS_pause, "pause", SAMPLE_ASLEEP},
#endif
    {SYS_rt_sigsuspend, "rt_sigsuspend", SAMPLE_ASLEEP},
    {SYS_rt_sigtimedwait, "rt_sigtimedwait", SAMPLE_ASLEEP},
#ifdef SYS_io_uring_enter
    {SYS_io_uring_enter, "io_uring_enter", SAMPLE_ASLEEP},
#endif
    {SYS_fsync, "fsync", SAMPLE_ASLEEP},
    {SYS_flock, "flock", SAMPLE_ASLEEP},
    {SYS_fcntl, "fcntl", SAMPLE_ASLEEP},
    {SYS_close, "close", SAMPLE_ASLEEP},
    {SYS_openat, "openat", SAMPLE_ASLEEP},
    {SYS_sched_yield, "sched_yield", SAMPLE_ASLEEP},
};

const char *sample_syscall_name(long nr)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

static enum sample_kind syscall_kind(long nr)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (names[i].nr == nr)
			return names[i].kind;
	return SAMPLE_ASLEEP;
}

/* The state letter decides first: stopped and running say it all. 1 when
 * it did (r filled). */
static int classify_state(char state, struct sample_reading *r)
{
	r->fd = -1;
	r->label[0] = '\0';
	switch (state) {
	case 'T':
	case 't':
		r->kind = SAMPLE_STOPPED;
		return 1;
	case 'R':
		r->kind = SAMPLE_RUNNING;
		return 1;
	default:
		r->kind = SAMPLE_UNKNOWN;
		return 0;
	}
}

void sample_classify_syscall(const char *text, char state,
			     struct sample_reading *r)
{
	if (classify_state(state, r))
		return;
	if (!strncmp(text, "running", 7)) {
		r->kind = SAMPLE_RUNNING;
		return;
	}
	char *end;
	errno = 0;
	long nr = strtol(text, &end, 10);
	if (errno || end == text)
		return;
	if (nr < 0) { /* blocked, but not in a system call */
		r->kind = SAMPLE_ASLEEP;
		snprintf(r->label, sizeof(r->label), "the kernel");
		return;
	}
	unsigned long long arg0 = strtoull(end, NULL, 16);
	const char *name = sample_syscall_name(nr);
	r->kind = syscall_kind(nr);
	if (name)
		snprintf(r->label, sizeof(r->label), "%s", name);
	else
		snprintf(r->label, sizeof(r->label), "syscall %ld", nr);
	if (r->kind == SAMPLE_IN_ACCEPT || r->kind == SAMPLE_IN_POLL)
		r->fd = arg0 <= 0x7fffffffull ? (int)arg0 : -1;
	/* poll and select name an array, not an fd. */
	if (r->kind == SAMPLE_IN_POLL && strstr(r->label, "epoll") == NULL)
		r->fd = -1;
}

/* Kernel functions a thread sleeps in, as wchan names them, per kind. */
static enum sample_kind wchan_kind(const char *w)
{
	if (strstr(w, "inet_csk_accept") || strstr(w, "inet_csk_wait"))
		return SAMPLE_IN_ACCEPT;
	if (strstr(w, "ep_poll") || strstr(w, "epoll") ||
	    strstr(w, "do_sys_poll") || strstr(w, "do_select") ||
	    strstr(w, "poll_schedule"))
		return SAMPLE_IN_POLL;
	return SAMPLE_ASLEEP;
}

void sample_classify_wchan(const char *wchan, char state,
			   struct sample_reading *r)
{
	if (classify_state(state, r))
		return;
	size_t n = strcspn(wchan, "\n");
	if (n == 0 || (n == 1 && wchan[0] == '0'))
		return; /* nothing said (refused, or off any wait) */
	r->kind = wchan_kind(wchan);
	snprintf(r->label, sizeof(r->label), "%.*s (wchan)",
		 (int)(n > 20 ? 20 : n), wchan);
}

char *sample_describe(char *dst, size_t len, enum sample_kind kind,
		      const char *label)
{
	switch (kind) {
	case SAMPLE_IN_ACCEPT:
		snprintf(dst, len, "in %s", label[0] ? label : "accept");
		break;
	case SAMPLE_IN_POLL:
		snprintf(dst, len, "in %s", label[0] ? label : "poll");
		break;
	case SAMPLE_RUNNING:
		snprintf(dst, len, "running");
		break;
	case SAMPLE_ASLEEP:
		snprintf(dst, len, "asleep in %s", label[0] ? label : "?");
		break;
	case SAMPLE_STOPPED:
		snprintf(dst, len, "stopped");
		break;
	default:
		snprintf(dst, len, "unknown");
		break;
	}
	return dst;
}

static int open_task_file(pid_t pid, pid_t tid, const char *name)
{
	char path[80];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, (int)tid,
		 name);
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int sample_task_open(struct sample_task *t, pid_t pid, pid_t tid)
{
	t->tid = tid;
	t->stat_fd = open_task_file(pid, tid, "stat");
	if (t->stat_fd < 0)
		return -1;
	t->syscall_fd = open_task_file(pid, tid, "syscall");
	t->wchan_fd = open_task_file(pid, tid, "wchan");
	return 0;
}

void sample_task_close(struct sample_task *t)
{
	if (t->stat_fd >= 0)
		close(t->stat_fd);
	if (t->syscall_fd >= 0)
		close(t->syscall_fd);
	if (t->wchan_fd >= 0)
		close(t->wchan_fd);
	t->stat_fd = t->syscall_fd = t->wchan_fd = -1;
}

/* The file afresh into buf (NUL-terminated): length, or -1. */
static ssize_t pread_all(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* State letter and utime + stime (fields 14, 15) of a stat line. */
static int parse_task_stat(const char *line, char *state, uint64_t *cpu)
{
	const char *p = strrchr(line, ')');
	unsigned long long ut, st;

	if (!p || p[1] != ' ')
		return -1;
	if (sscanf(p + 2,
		   "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   state, &ut, &st) != 3)
		return -1;
	*cpu = ut + st;
	return 0;
}

int sample_task_read(struct sample_task *t, struct sample_reading *r)
{
	char buf[512], state;

	if (pread_all(t->stat_fd, buf, sizeof(buf)) <= 0 ||
	    parse_task_stat(buf, &state, &r->cpu_ticks))
		return -1;
	if (state == 'Z' || state == 'X')
		return -1;
	if (t->syscall_fd >= 0) {
		if (pread_all(t->syscall_fd, buf, sizeof(buf)) > 0) {
			sample_classify_syscall(buf, state, r);
			return 0;
		}
		/* Refused at read time (yama, a changed uid): for good. */
		close(t->syscall_fd);
		t->syscall_fd = -1;
	}
	if (t->wchan_fd >= 0 && pread_all(t->wchan_fd, buf, sizeof(buf)) >= 0) {
		sample_classify_wchan(buf, state, r);
		return 0;
	}
	classify_state(state, r);
	if (r->kind == SAMPLE_UNKNOWN && (state == 'S' || state == 'D'))
		r->kind = SAMPLE_ASLEEP;
	return 0;
}
