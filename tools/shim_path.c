/* Finding the shim (shim_path.h). */
#include "shim_path.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AW_LIBDIR
#define AW_LIBDIR "/usr/local/lib/acceptwatch"
#endif

int shim_path_find(char *dst, size_t len)
{
	static const char *const relative[] = {
	    "../shim/" SHIM_NAME,
	    "../lib/acceptwatch/" SHIM_NAME,
	};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	const char *dir = NULL;
	if (n > 0) {
		exe[n] = '\0';
		dir = dirname(exe); /* in place: once */
	}
	for (size_t i = 0; dir != NULL && i < 2; i++) {
		char candidate[PATH_MAX + 64];
		char real[PATH_MAX];
		snprintf(candidate, sizeof(candidate), "%s/%s", dir,
			 relative[i]);
		/* realpath: LD_PRELOAD wants a clean absolute path. */
		if (access(candidate, R_OK) == 0 && realpath(candidate, real) &&
		    strlen(real) < len) {
			memcpy(dst, real, strlen(real) + 1);
			return 0;
		}
	}
	snprintf(dst, len, "%s/" SHIM_NAME, AW_LIBDIR);
	return access(dst, R_OK) == 0 ? 0 : -1;
}
