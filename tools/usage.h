/*
 * The help texts of the reader and its commands.
 */
#ifndef AW_USAGE_H
#define AW_USAGE_H

#include <stdio.h>

/* The command list. */
void usage_main(FILE *out);

/* A command's synopsis and every option with its short form; nothing for
 * an unknown name. */
void usage_command(FILE *out, const char *name);

/* The command name word was most likely meant to be (a prefix of one, or
 * one or two edits away), or NULL. Pure. */
const char *usage_suggest(const char *word);

#endif
