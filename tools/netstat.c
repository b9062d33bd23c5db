/*
 * /proc/PID/net/netstat reader. The file pairs a line of names with a line
 * of values per prefix ("TcpExt:", "IpExt:", ...); columns are matched by
 * name, since their order changes between kernels.
 */
#include "netstat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NETSTAT_MAX 65536

/* The line starting at p, as [p, end). Returns the next line or NULL. */
static const char *next_line(const char *p, const char **end)
{
	const char *nl = strchr(p, '\n');
	*end = nl ? nl : p + strlen(p);
	return nl ? nl + 1 : NULL;
}

/* Values of names line [n, ne) matched against values line [v, ve). */
static int match_columns(const char *n, const char *ne, const char *v,
			 const char *ve, struct netstat_listen *out)
{
	int found = 0;

	while (n < ne && v < ve) {
		size_t nl = strcspn(n, " \n");
		size_t vl = strcspn(v, " \n");
		if (n + nl > ne)
			nl = (size_t)(ne - n);
		char *endp;
		unsigned long long val = strtoull(v, &endp, 10);
		if (nl == 15 && !strncmp(n, "ListenOverflows", 15)) {
			out->overflows = val;
			found |= 1;
		} else if (nl == 11 && !strncmp(n, "ListenDrops", 11)) {
			out->drops = val;
			found |= 2;
		}
		n += nl;
		v += vl;
		while (n < ne && *n == ' ')
			n++;
		while (v < ve && *v == ' ')
			v++;
	}
	return found == 3 ? 0 : -1;
}

int netstat_parse(const char *text, struct netstat_listen *out)
{
	static const char prefix[] = "TcpExt:";
	const char *p = text;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		const char *ne, *ve;
		const char *names = p;
		p = next_line(names, &ne);
		if (strncmp(names, prefix, sizeof(prefix) - 1) || !p)
			continue;
		const char *values = p;
		p = next_line(values, &ve);
		if (strncmp(values, prefix, sizeof(prefix) - 1))
			continue;
		names += sizeof(prefix);
		values += sizeof(prefix);
		if (names > ne || values > ve)
			return -1;
		return match_columns(names, ne, values, ve, out);
	}
	return -1;
}

int netstat_read(pid_t pid, struct netstat_listen *out)
{
	char path[64];

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/net/netstat");
	else
		snprintf(path, sizeof(path), "/proc/%d/net/netstat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char *buf = malloc(NETSTAT_MAX);
	size_t len = 0;
	ssize_t n = 0;
	if (buf) {
		while (len < NETSTAT_MAX - 1 &&
		       (n = read(fd, buf + len, NETSTAT_MAX - 1 - len)) > 0)
			len += (size_t)n;
	}
	close(fd);
	if (!buf || n < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	int ret = netstat_parse(buf, out);
	free(buf);
	return ret;
}
