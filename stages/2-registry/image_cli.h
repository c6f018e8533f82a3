/* image_cli.h: the command table of cutaway-image.
 *
 * Every subcommand of bin/cutaway-image is a function `int image_cmd_X(int
 * argc, char **argv)` that gets argv starting at the subcommand name (argv[0]
 * is "pull", "unpack", ...) after the global options were parsed by main.c,
 * and returns the process exit status (0 ok, 1 error, 2 usage).  Errors are
 * printed by the command itself with cut_err_print.  The global options live
 * in main.c and are read through the accessors below. */
#ifndef CUTAWAY_IMAGE_CLI_H
#define CUTAWAY_IMAGE_CLI_H

#include <stdbool.h>

#define IMAGE_DEFAULT_LAYOUT "/var/lib/cutaway/images"

/* Global options (main.c). */
const char *image_cli_layout(void); /* --layout DIR, default above */
bool image_cli_debug(void);         /* --debug */
/* --insecure-registry HOST (repeatable), NULL-terminated list. */
const char *const *image_cli_insecure_registries(void);

/* Local commands (cmd_local.c, store + unpack). */
int image_cmd_import(int argc, char **argv);
int image_cmd_unpack(int argc, char **argv);
int image_cmd_inspect(int argc, char **argv);
int image_cmd_ls(int argc, char **argv);
int image_cmd_tag(int argc, char **argv);
int image_cmd_rm(int argc, char **argv);

/* Registry commands (cmd_remote.c). */
int image_cmd_pull(int argc, char **argv);
int image_cmd_push(int argc, char **argv);
int image_cmd_login(int argc, char **argv);
int image_cmd_logout(int argc, char **argv);

#endif
