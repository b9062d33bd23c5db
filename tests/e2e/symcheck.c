/*
 * symcheck - which library the program's own symbol lookups reach, after a
 * listen() (which makes the shim load libunwind for its stacks). Prints
 * "SYMBOL MODULE" per line, and "stack-frames N" from glibc's backtrace():
 * with the shim preloaded they must read exactly as without it.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *module_of(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);
	Dl_info info;
	if (p == NULL || dladdr(p, &info) == 0 || info.dli_fname == NULL)
		return "-";
	const char *slash = strrchr(info.dli_fname, '/');
	return slash ? slash + 1 : info.dli_fname;
}

int main(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 4) != 0) {
		perror("symcheck: listen");
		return 1;
	}
	static const char *const names[] = {"backtrace",
					    "backtrace_symbols",
					    "_Unwind_Backtrace",
					    "_Unwind_RaiseException",
					    "unw_backtrace",
					    "malloc",
					    "read",
					    "open",
					    "socket",
					    "connect"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf("%s %s\n", names[i], module_of(names[i]));
	void *frames[16];
	printf("stack-frames-ok %d\n", backtrace(frames, 16) > 0);
	close(fd);
	return 0;
}
