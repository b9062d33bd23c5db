/*
 * The help texts: the command list, each command's options with their
 * short forms, and a suggestion for a mistyped command name.
 */
#include "usage.h"

#include <stdio.h>
#include <string.h>

struct usage_cmd {
	const char *name;
	const char *brief;    /* for the command list */
	const char *synopsis; /* after "acceptwatch NAME " */
	const char *summary;
	const char *options; /* one "  -x, --long ARG  what" a line */
};

static const struct usage_cmd usage_cmds[] = {
    {"stat", "figures of processes under the shim (text, JSON, Prometheus)",
     "[OPTIONS] [PID...]",
     "Accept-queue figures of processes running under the shim: every\n"
     "live one, or the PIDs given (shown even when exited).",
     "  -j, --json          one JSON object on stdout\n"
     "      --per-process   text: a block per process (default: a socket\n"
     "                      pre-fork workers share gets one block)\n"
     "  -H, --hist          each distribution as bars (bpftrace's hist)\n"
     "  -p, --prometheus    Prometheus text exposition format\n"
     "  -P, --by-process    with -p: process figures per process and\n"
     "                      listener, labelled pid (default: summed per\n"
     "                      socket, no pid label)\n"
     "  -o, --output FILE   write FILE atomically instead of stdout\n"
     "  -a, --all           also segments of processes that exited\n"},
    {"check", "a verdict per listener, with evidence and fix",
     "[OPTIONS] [PID...]",
     "A verdict per listener with evidence and fix; reads twice, SEC\n"
     "apart. Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
     "  -j, --json          one JSON object on stdout\n"
     "  -i, --interval SEC  seconds between the two readings (default 1,\n"
     "                      0: read once)\n"
     "  -w, --window DUR    judge what happened within DUR (300, 90s, 5m,\n"
     "                      1h; default 5m; 0: the whole history)\n"
     "  -s, --state FILE    remember between runs when trouble last rose\n"
     "                      (default ~/.local/state/acceptwatch/\n"
     "                      check.state; none: do not)\n"
     "      --ignore V[@ADDR]  accept verdict V (clamped...) everywhere\n"
     "                      or on ADDR; repeatable\n"
     "      --per-process   a block per process (default: a pre-fork\n"
     "                      server's identical blocks share one)\n"},
    {"top", "refreshing view sorted by trouble", "[OPTIONS]",
     "Refreshing view sorted by trouble; q or Ctrl-C quits. Colour only\n"
     "on a terminal and without NO_COLOR. Sockets without the shim show\n"
     "the kernel's figures, sampled 10 times a second.",
     "  -i, --interval SEC  seconds between refreshes (default 1)\n"
     "  -1, --once          print one screen and exit\n"
     "  -w, --window DUR    STATE judges what happened within DUR\n"
     "                      (default 5m; 0: the whole history)\n"},
    {"listeners", "every listening TCP socket, with or without the shim",
     "[OPTIONS]",
     "Every listening TCP socket of this network namespace, its owners\n"
     "and, under the shim, backlog, clamp and verdict; the queue's peak\n"
     "and socket drops a second sampled from the kernel 10 times a second.",
     "  -i, --interval SEC  how long to sample (default 1; 0: one reading)\n"
     "  -j, --json          one JSON object on stdout\n"
     "  -w, --window DUR    verdicts judge what happened within DUR\n"
     "                      (default 5m; 0: the whole history)\n"},
    {"serve", "Prometheus exporter: /metrics over HTTP", "[OPTIONS]",
     "Serve the Prometheus metrics of every process under the shim over\n"
     "HTTP at /metrics, read at each scrape, and the kernel's figures of\n"
     "every other listening socket, sampled 10 times a second. Read-only;\n"
     "stops on SIGTERM.",
     "  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:9437;\n"
     "                          :PORT for every address, [ADDR6]:PORT)\n"
     "  -P, --by-process        process figures per process and listener,\n"
     "                          labelled pid (default: summed per socket)\n"},
    {"watch", "sample a running server from outside, no preload needed",
     "[OPTIONS] PID...",
     "Sample running processes from outside for DUR (no restart, no\n"
     "preload, no ptrace stop), then report them as stat does, with each\n"
     "thread's states and the verdicts. Ctrl-C ends early with the report.",
     "  -f, --for DUR       how long to watch (default 10s; 30s, 5m)\n"
     "  -z, --hz N          thread samples a second (default 100, max\n"
     "                      1000); connections at 10 Hz while queued\n"
     "  -j, --json          one JSON object on stdout (stat's schema)\n"
     "  -p, --prometheus    Prometheus text exposition format\n"
     "  -H, --hist          away and queue wait as bars (bpftrace's hist)\n"},
    {"gc", "remove segments of processes that are gone", "[OPTIONS]",
     "Remove segments of processes that exited or exec'd without the\n"
     "shim; never a live one, a link or a non-segment.",
     "  -n, --dry-run       say what would be removed, remove nothing\n"},
    {"run", "run a command with the shim preloaded",
     "[OPTIONS] -- CMD [ARGS...]", "Run CMD with the shim preloaded.",
     "  -s, --slow-ms N     a connection waiting longer is a slow event\n"
     "  -l, --log DEST      where the shim writes its warnings (stderr,\n"
     "                      syslog, or a file)\n"
     "  -k, --keep          keep the segment after CMD exits\n"},
};

#define N_CMDS (sizeof(usage_cmds) / sizeof(*usage_cmds))

static const char usage_exit[] =
    "Exit status: 0 ok, 1 output failed, 2 usage or input error,\n"
    "127 CMD not run; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
    "See acceptwatch(1).\n";

void usage_main(FILE *out)
{
	fprintf(out, "usage: acceptwatch COMMAND [OPTIONS]\n"
		     "       acceptwatch --version\n\n");
	for (size_t i = 0; i < N_CMDS; i++) {
		fprintf(out, "  %-10s %s\n", usage_cmds[i].name,
			usage_cmds[i].brief);
	}
	fprintf(out,
		"\n'acceptwatch COMMAND --help' lists a command's "
		"options.\n%s",
		usage_exit);
}

/* The column where the descriptions of options start: after the first
 * run of two spaces past the option's own text in the first line. */
static int description_column(const char *options)
{
	const char *gap = strstr(options + 2, "  ");
	if (!gap)
		return 20;
	return (int)(gap + strspn(gap, " ") - options);
}

void usage_command(FILE *out, const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++) {
		const struct usage_cmd *c = &usage_cmds[i];
		if (strcmp(c->name, name))
			continue;
		fprintf(out, "usage: acceptwatch %s %s\n%s\n\n%s", c->name,
			c->synopsis, c->summary, c->options);
		/* Aligned with the command's own options. */
		fprintf(out, "  %-*sthis text\n",
			description_column(c->options) - 2, "-h, --help");
		return;
	}
}

/* Damerau-Levenshtein distance (adjacent swaps count one), for short
 * words; long ones are not compared. */
static size_t edit_distance(const char *a, const char *b)
{
	enum { MAXW = 32 };
	size_t la = strlen(a), lb = strlen(b);
	size_t d[MAXW + 1][MAXW + 1];

	if (la > MAXW || lb > MAXW)
		return MAXW;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *usage_suggest(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3; /* two edits at most */
	size_t wl = strlen(word);

	for (size_t i = 0; i < N_CMDS; i++) {
		const char *name = usage_cmds[i].name;
		/* A prefix of a command ("list") is what was meant. */
		if (wl >= 2 && !strncmp(name, word, wl))
			return name;
		size_t dist = edit_distance(word, name);
		/* One edit for short names: "gc" is not "cat". */
		if (dist < best_d && (dist == 1 || strlen(name) > 3)) {
			best = name;
			best_d = dist;
		}
	}
	return best;
}
