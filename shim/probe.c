/* Socket and process queries: getsockopt, fstat and small /proc reads. */
#include "probe.h"

#include "real.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static int sockopt_int(int fd, int level, int name, int *out)
{
	socklen_t len = sizeof(*out);
	return getsockopt(fd, level, name, out, &len);
}

int aw_probe_identity(int fd, struct aw_sock_id *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return -1;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	int family = 0, protocol = 0;
	if (sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &family) != 0)
		return -1;
	id->family = family;
	if ((family == AF_INET || family == AF_INET6) &&
	    sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &protocol) == 0)
		id->tcp = protocol == IPPROTO_TCP;
	return 0;
}

int aw_probe_is_listener(int fd)
{
	int on = 0;
	return sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &on) == 0 && on;
}

static void format_unix(const struct sockaddr_un *un, socklen_t len, char *out,
			size_t size)
{
	size_t path_len = len > offsetof(struct sockaddr_un, sun_path)
			      ? len - offsetof(struct sockaddr_un, sun_path)
			      : 0;
	if (path_len == 0) {
		snprintf(out, size, "unix:(unnamed)");
		return;
	}
	/* Abstract names start with a NUL; show it as '@', as ss does. */
	if (un->sun_path[0] == '\0') {
		snprintf(out, size, "@%.*s", (int)(path_len - 1),
			 un->sun_path + 1);
		return;
	}
	snprintf(out, size, "%.*s", (int)strnlen(un->sun_path, path_len),
		 un->sun_path);
}

void aw_probe_address(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	snprintf(out, size, "?");
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		format_unix((const struct sockaddr_un *)&ss, len, out, size);
	}
}

static int read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	aw_real_close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int aw_probe_somaxconn(void)
{
	char buf[32];
	if (read_small_file("/proc/sys/net/core/somaxconn", buf, sizeof(buf)))
		return -1;
	long v = strtol(buf, NULL, 10);
	return v >= 0 && v <= 0x7fffffff ? (int)v : -1;
}

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);
	memset(ti, 0, sizeof(*ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) != 0)
		return -1;
	return len >= offsetof(struct tcp_info, tcpi_rcv_rtt) ? 0 : -1;
}

int aw_probe_queue(int fd, uint32_t *depth, uint32_t *backlog)
{
	struct tcp_info ti;
	/* On a listener the kernel aliases these two fields: tcpi_unacked
	 * is sk_ack_backlog, tcpi_sacked is sk_max_ack_backlog. */
	if (tcp_info(fd, &ti) != 0 || ti.tcpi_state != TCP_LISTEN)
		return -1;
	*depth = ti.tcpi_unacked;
	*backlog = ti.tcpi_sacked;
	return 0;
}

int aw_probe_defer_accept(int fd)
{
	int secs = 0;
	return sockopt_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs) == 0 &&
	       secs > 0;
}

int aw_probe_nonblocking(int fd)
{
	int fl = aw_real_fcntl(fd, F_GETFL, NULL, 0);
	return fl >= 0 && (fl & O_NONBLOCK);
}

int aw_probe_drops(int fd, uint64_t *drops)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	memset(mem, 0, sizeof(mem));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
	    len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return -1;
	*drops = mem[SK_MEMINFO_DROPS];
	return 0;
}

int aw_probe_queue_wait_ms(int fd, uint32_t *ms)
{
	struct tcp_info ti;
	if (tcp_info(fd, &ti) != 0)
		return -1;
	*ms = ti.tcpi_last_ack_recv;
	return 0;
}

uint64_t aw_probe_start_ticks(void)
{
	char buf[1024];
	if (read_small_file("/proc/self/stat", buf, sizeof(buf)))
		return 0;
	/* comm may hold spaces and parentheses: fields count from the last
	 * ')'. starttime is field 22, the 20th after it. */
	const char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	return p != NULL ? strtoull(p + 1, NULL, 10) : 0;
}
