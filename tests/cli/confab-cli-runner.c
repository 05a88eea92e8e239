/* confab-cli-runner.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "confab-cli-runner.h"

typedef struct
{
  gboolean  done;
  char     *out;
  char     *err;
  GError   *error;
} Communicate;

void
confab_cli_result_free (ConfabCliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

GSubprocessLauncher *
confab_cli_launcher_new (void)
{
  static const char * const proxy_vars[] = {
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
  };
  GSubprocessLauncher *launcher;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "CONFAB_API_KEY");

  /* Everything is on 127.0.0.1. */
  for (guint i = 0; i < G_N_ELEMENTS (proxy_vars); i++)
    g_subprocess_launcher_unsetenv (launcher, proxy_vars[i]);

  return launcher;
}

GStrv
confab_cli_argv (const char * const *args)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *cli = g_getenv ("CONFAB_CLI");

  g_assert_nonnull (cli);
  g_strv_builder_add (builder, cli);
  g_strv_builder_addv (builder, (const char **)args);

  return g_strv_builder_end (builder);
}

static void
communicate_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Communicate *comm = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result,
                                        &comm->out, &comm->err, &comm->error);
  comm->done = TRUE;
}

ConfabCliResult *
confab_cli_run (GSubprocessLauncher *launcher,
                const char          *stdin_text,
                const char * const  *args)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_auto(GStrv) argv = confab_cli_argv (args);
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  Communicate comm = { 0 };
  ConfabCliResult *result;

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv, &error);
  g_assert_no_error (error);

  g_subprocess_communicate_utf8_async (proc, stdin_text != NULL ? stdin_text : "", NULL,
                                       communicate_cb, &comm);
  while (!comm.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (comm.error);

  /* communicate finishes only once the child has been reaped too. */
  result = g_new0 (ConfabCliResult, 1);
  result->out = g_steal_pointer (&comm.out);
  result->err = g_steal_pointer (&comm.err);
  result->exited = g_subprocess_get_if_exited (proc);
  result->exit_status = result->exited ? g_subprocess_get_exit_status (proc) : -1;

  command = g_strjoinv (" ", (char **)args);

  /* A child killed by a signal (a sanitizer's abort, say) explains itself
   * only on its stderr: show it next to the assertion that will fail. */
  if (!result->exited)
    g_printerr ("confab-cli %s: killed by signal %d; stderr:\n%s\n",
                command, g_subprocess_get_term_sig (proc), result->err);

  g_test_message ("confab-cli %s: exit %d; stdout: %.200s%s; stderr: %s",
                  command, result->exit_status, result->out,
                  strlen (result->out) > 200 ? "…" : "", result->err);

  return result;
}

void
confab_cli_assert_one_error_line (const char *err)
{
  const char *newline;

  g_assert_true (g_str_has_prefix (err, "confab-cli: "));
  newline = strchr (err, '\n');
  g_assert_nonnull (newline);
  g_assert_cmpstr (newline, ==, "\n");
}
