#include "file_arg.h"

#include "error.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int file_arg_check(const char *what, const char *option, const char *path)
{
	char dir[4096];
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		aw_error("%s: %s: name too long", what, option);
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		aw_error("%s: %s %s: no directory %s (it is not created)", what,
			 option, path, dir);
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		aw_error("%s: %s %s: a directory, not a file", what, option,
			 path);
		return -1;
	}
	return 0;
}
