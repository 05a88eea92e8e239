/* confab-cli-runner.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the built confab-cli ($CONFAB_CLI) from tests, on the main loop, so
 * that an in-process test server keeps serving while the child runs.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What one run of confab-cli left behind. */
typedef struct
{
  char     *out;
  char     *err;
  gboolean  exited;
  int       exit_status;
} ConfabCliResult;

void                 confab_cli_result_free           (ConfabCliResult     *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfabCliResult, confab_cli_result_free)

/* A launcher with piped stdin/stdout/stderr, no API key and no proxy. */
GSubprocessLauncher *confab_cli_launcher_new          (void);
/* $CONFAB_CLI followed by the NULL-terminated @args. */
GStrv                confab_cli_argv                  (const char * const  *args);
/* Runs confab-cli with @args, feeding it @stdin_text (the empty string
 * when NULL), until it has exited and closed its output. */
ConfabCliResult     *confab_cli_run                   (GSubprocessLauncher *launcher,
                                                       const char          *stdin_text,
                                                       const char * const  *args);
/* Asserts @err is exactly one line starting "confab-cli: ". */
void                 confab_cli_assert_one_error_line (const char          *err);

G_END_DECLS
