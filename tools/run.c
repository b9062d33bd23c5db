/*
 * acceptwatch run: start a command under the shim and wait for it. Only
 * its environment changes (ACCEPTWATCH_* and LD_PRELOAD). A death that
 * runs no exit path of the command's (a signal from outside: systemd's or
 * docker's SIGTERM, a SIGKILL) leaves its segment: run removes it once the
 * command is gone, unless it is to be kept. Signals sent to run go on to
 * the command; those the terminal sent (Ctrl-C) reached it already. run
 * ends as the command did: its exit status, or its signal.
 */
#include "commands.h"
#include "error.h"
#include "segment_name.h"
#include "segment_reader.h"
#include "shim_path.h"
#include "usage.h"

#include "acceptwatch_abi.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_usage(FILE *out)
{
	usage_command(out, "run");
}

/* LD_PRELOAD with the shim first; entries already there are kept. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");

	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	size_t len = strlen(shim) + strlen(old) + 2;
	char *val = malloc(len);
	if (!val)
		return -1;
	/* ld.so splits the list on spaces and colons alike. */
	snprintf(val, len, "%s:%s", shim, old);
	int ret = setenv("LD_PRELOAD", val, 1);
	free(val);
	return ret;
}

/* A positive decimal count of milliseconds. */
static int valid_ms(const char *arg)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && v > 0 && v <= INT_MAX;
}

/*
 * --log DEST into ACCEPTWATCH_LOG. The shim takes only an absolute file
 * path (its cwd may be any), so a relative one is made absolute here,
 * against ours: `--log app.log` means ./app.log, as a person expects.
 * 0, or -1 with a message.
 */
static int set_log(const char *dest)
{
	char cwd[PATH_MAX], path[PATH_MAX * 2];

	if (!strcmp(dest, "stderr") || !strcmp(dest, "none") ||
	    !strcmp(dest, "syslog") || dest[0] == '/')
		return setenv("ACCEPTWATCH_LOG", dest, 1);
	if (!dest[0] || !getcwd(cwd, sizeof(cwd))) {
		aw_error("run: --log '%s': not stderr, none, syslog or a file",
			 dest);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%s", cwd, dest) >=
	    (int)sizeof(path)) {
		aw_error("run: --log '%s': path too long", dest);
		return -1;
	}
	return setenv("ACCEPTWATCH_LOG", path, 1);
}

/* Options into the environment. 0, 1 for --help, -1 on a usage error. */
static int parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"slow-ms", required_argument, NULL, 's'},
	    {"log", required_argument, NULL, 'l'},
	    {"keep", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 1;
	/* "+": stop at CMD, its own options are not ours. */
	while ((c = getopt_long(argc, argv, "+s:l:kh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!valid_ms(optarg)) {
				aw_error("run: --slow-ms wants a positive "
					 "number of ms, not '%s'",
					 optarg);
				return -1;
			}
			setenv("ACCEPTWATCH_SLOW_MS", optarg, 1);
			break;
		case 'l':
			if (set_log(optarg))
				return -1;
			break;
		case 'k':
			setenv("ACCEPTWATCH_KEEP", "1", 1);
			break;
		case 'h':
			run_usage(stdout);
			return 1;
		default:
			aw_error("run: unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* The command, once started (0 before): where signals go on to. */
static volatile sig_atomic_t child_pid;

/* Signals for the command, as if sent to it. One the kernel sent (the
 * terminal's Ctrl-C, Ctrl-\\, hangup, resize) went to the whole foreground
 * process group: the command has it already. */
static const int forwarded[] = {SIGHUP,	 SIGINT,  SIGQUIT,  SIGTERM,
				SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

static void forward(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	int saved = errno;
	if (child_pid > 0 && info->si_code != SI_KERNEL)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

/* mask: the forwarded signals (blocked until the command runs). */
static void forward_signals(sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigemptyset(mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		sigaddset(mask, forwarded[i]);
		sigaction(forwarded[i], &sa, NULL);
	}
}

/* The segment name of pid, a process of this PID namespace. */
static void segment_path(pid_t pid, char *path, size_t len)
{
	uint32_t ns = segment_own_pid_ns();
	if (ns == 0 || ns == AW_PIDNS_INIT_INO)
		snprintf(path, len, SEGMENT_DIR "/" AW_SEG_PREFIX "%d",
			 (int)pid);
	else
		snprintf(path, len, SEGMENT_DIR "/" AW_SEG_PREFIX "%u.%d",
			 (unsigned)ns, (int)pid);
}

/*
 * The segment the command left, if its death ran no exit path: removed
 * when it is a plain file, ours (any user's as root: the command may have
 * dropped root), says it is that pid's and is not to be kept. Called while
 * the command is a zombie, so that no other process can have its pid.
 */
static void remove_left_segment(pid_t pid)
{
	char path[sizeof(SEGMENT_DIR) + SEGMENT_NAME_LEN];
	struct aw_seg_header h;
	struct stat st;
	segment_path(pid, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return; /* none left: the usual case */
	uid_t me = geteuid();
	int ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		   (st.st_uid == me || me == 0) &&
		   pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		   h.magic == AW_SEG_MAGIC && h.pid == (int32_t)pid &&
		   !(h.flags & AW_SF_KEEP);
	close(fd);
	if (ours && unlink(path) != 0 && errno != ENOENT)
		aw_error("run: %s: %s", path, strerror(errno));
}

/* End as the command ended: its exit status, or its signal (raised here
 * again with the default action, after the clean-up). */
static int end_as(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	int sig = WTERMSIG(status);
	sigset_t one;
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	return 128 + sig; /* a signal that does not kill (SIGCHLD...) */
}

/* In the child: the command, or errno through the pipe. */
static __attribute__((noreturn)) void
exec_command(char **cmd, const sigset_t *mask, int report)
{
	sigprocmask(SIG_UNBLOCK, mask, NULL);
	execvp(cmd[0], cmd);
	int err = errno;
	if (write(report, &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = 0;
	_exit(AW_EXIT_EXEC);
}

/* Start cmd, wait for it, clean up after it. Returns run's exit status. */
static int run_and_wait(char **cmd)
{
	sigset_t mask;
	int report[2], err = 0, status = 0;
	if (pipe2(report, O_CLOEXEC) != 0) {
		aw_error("run: pipe: %s", strerror(errno));
		return AW_EXIT_EXEC;
	}
	forward_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pid_t pid = fork();
	if (pid == 0)
		exec_command(cmd, &mask, report[1]);
	close(report[1]);
	if (pid < 0) {
		aw_error("run: fork: %s", strerror(errno));
		close(report[0]);
		return AW_EXIT_EXEC;
	}
	child_pid = pid;
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	ssize_t n;
	do
		n = read(report[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	siginfo_t info;
	int r;
	do {
		memset(&info, 0, sizeof(info));
		r = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
	} while (r != 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(err) && err != 0) {
		waitpid(pid, &status, 0);
		aw_error("run: %s: %s", cmd[0], strerror(err));
		return AW_EXIT_EXEC;
	}
	if (r == 0)
		remove_left_segment(pid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	return end_as(status);
}

int run_command(int argc, char **argv)
{
	char shim[PATH_MAX];

	int ret = parse_opts(argc, argv);
	if (ret)
		return ret > 0 ? AW_EXIT_OK : AW_EXIT_USAGE;
	if (optind >= argc) {
		aw_error("run: no command given");
		run_usage(stderr);
		return AW_EXIT_USAGE;
	}
	/* A person is watching: the shim's lines on stderr, unless the
	 * environment or --log already chose. */
	setenv("ACCEPTWATCH_LOG", "stderr", 0);
	if (shim_path_find(shim, sizeof(shim))) {
		aw_error("run: shim not found: %s", shim);
		return AW_EXIT_USAGE;
	}
	if (set_preload(shim)) {
		aw_error("run: LD_PRELOAD: %s", strerror(errno));
		return AW_EXIT_USAGE;
	}
	return run_and_wait(&argv[optind]);
}
