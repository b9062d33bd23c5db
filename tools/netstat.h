/*
 * The namespace-wide listen counters: TcpExt ListenOverflows and
 * ListenDrops of /proc/PID/net/netstat, which is the netstat of the network
 * namespace PID runs in (what `nstat` shows inside it).
 */
#ifndef AW_NETSTAT_H
#define AW_NETSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct netstat_listen {
	uint64_t overflows; /* TcpExtListenOverflows: SYNs or ACKs dropped on
			       a full accept queue */
	uint64_t drops;	    /* TcpExtListenDrops: every listen drop,
			       overflows included */
};

/*
 * Parse the text of a netstat file: a "TcpExt:" line of names followed by
 * a "TcpExt:" line of values. 0 when both counters were found, else -1.
 * Pure: unit tested.
 */
int netstat_parse(const char *text, struct netstat_listen *out);

/* Read /proc/PID/net/netstat (pid 0: this process). 0 or -1. */
int netstat_read(pid_t pid, struct netstat_listen *out);

#endif
