/*
 * The reader's version, for --version and acceptwatch_build_info. The
 * segment layout has its own number (AW_ABI_VERSION).
 */
#ifndef AW_VERSION_H
#define AW_VERSION_H

#define AW_VERSION "0.9.0"

#endif
