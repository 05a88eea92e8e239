/* confab-cli-common.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdio.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_CLI_EXIT_USAGE       2
#define CONFAB_CLI_EXIT_INTERRUPTED 130

void          confab_cli_print_error (const char     *format,
                                      ...) G_GNUC_PRINTF (1, 2);
/* An async callback that stores the result in *user_data (a
 * GAsyncResult* slot), for confab_cli_wait(). */
void          confab_cli_async_cb    (GObject        *object,
                                      GAsyncResult   *result,
                                      gpointer        user_data);
/* Runs the main context until *slot is set; returns it. A command-line
 * tool has nothing else to do meanwhile. */
GAsyncResult *confab_cli_wait        (GAsyncResult  **slot);
/* Opens the conversation store at its default place. When the database
 * file cannot be used, warns on stderr and, when @writing, fails. */
ConfabStore  *confab_cli_open_store  (gboolean        writing,
                                      GError        **error);

/* A subcommand of a command group ("providers add", "mcp call"): its
 * main() gets its own argv, the subcommand's name as argv[0]. */
typedef struct
{
  const char *name;
  int       (*main) (int    argc,
                     char **argv);
} ConfabCliSubcommand;

/* Runs the subcommand named by argv[1] of the group argv[0] (from the
 * NULL-terminated @subcommands), or prints the group's usage for
 * --help / -h / help (to stdout, status 0) or no subcommand (to stderr,
 * status 2); an unknown one is a usage error through @usage_error. */
int           confab_cli_dispatch    (int                        argc,
                                      char                     **argv,
                                      const ConfabCliSubcommand *subcommands,
                                      void                     (*print_usage) (FILE *out),
                                      int                      (*usage_error) (const char *message));

G_END_DECLS
