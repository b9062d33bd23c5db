/*
 * Where the shim is: for `run`, which preloads it, and for hints that
 * tell people what to preload (a path they can paste as it is).
 */
#ifndef AW_SHIM_PATH_H
#define AW_SHIM_PATH_H

#include <stddef.h>

#define SHIM_NAME "libacceptwatch.so"

/*
 * The shim's absolute path into dst, looked for relative to this binary
 * first: in a build tree (tools/acceptwatch -> shim/libacceptwatch.so),
 * then as installed (PREFIX/bin/acceptwatch ->
 * PREFIX/lib/acceptwatch/libacceptwatch.so, whatever PREFIX or DESTDIR
 * was), then in the configured AW_LIBDIR. 0, or -1 when none exists (dst
 * then names the AW_LIBDIR one).
 */
int shim_path_find(char *dst, size_t len);

#endif
