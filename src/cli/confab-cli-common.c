/* confab-cli-common.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>

#include "confab-cli-common.h"

void
confab_cli_print_error (const char *format,
                        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fflush (stdout);
  fprintf (stderr, "confab-cli: %s\n", message);
  fflush (stderr);
}

void
confab_cli_async_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

GAsyncResult *
confab_cli_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

ConfabStore *
confab_cli_open_store (gboolean   writing,
                       GError   **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(ConfabStore) store = NULL;
  g_autofree char *warning = NULL;
  const GError *open_error;

  confab_store_new_async (NULL, NULL, confab_cli_async_cb, &result);
  store = confab_store_new_finish (confab_cli_wait (&result), error);
  if (store == NULL)
    return NULL;

  open_error = confab_store_get_open_error (store);
  if (open_error == NULL)
    return g_steal_pointer (&store);

  if (writing)
    {
      g_set_error (error, open_error->domain, open_error->code,
                   /* Translators: %s says why. */
                   _("nothing can be saved: %s"), open_error->message);
      return NULL;
    }

  if (confab_store_get_mode (store) == CONFAB_STORE_READ_ONLY)
    {
      /* Translators: %s is why the conversation database cannot be written. */
      warning = g_strdup_printf (_("warning: %s; showing what can be read, read-only"),
                                 open_error->message);
    }
  else
    {
      /* Translators: %s is why the conversation database cannot be used. */
      warning = g_strdup_printf (_("warning: %s; the file could not be read at all, nothing is shown"),
                                 open_error->message);
    }
  fprintf (stderr, "confab-cli: %s\n", warning);
  return g_steal_pointer (&store);
}

int
confab_cli_dispatch (int                        argc,
                     char                     **argv,
                     const ConfabCliSubcommand *subcommands,
                     void                     (*print_usage) (FILE *out),
                     int                      (*usage_error) (const char *message))
{
  g_autofree char *message = NULL;
  const char *command;

  if (argc < 2)
    {
      print_usage (stderr);
      return CONFAB_CLI_EXIT_USAGE;
    }

  command = argv[1];
  if (g_str_equal (command, "--help") || g_str_equal (command, "-h") || g_str_equal (command, "help"))
    {
      print_usage (stdout);
      return EXIT_SUCCESS;
    }

  /* The subcommand is the argv[0] of its own options. */
  for (guint i = 0; subcommands[i].name != NULL; i++)
    if (g_str_equal (command, subcommands[i].name))
      return subcommands[i].main (argc - 1, argv + 1);

  /* Translators: the first %s is a command group ("mcp", "providers"),
   * the second what was typed after it. */
  message = g_strdup_printf (_("unknown command “%s %s”"), argv[0], command);
  return usage_error (message);
}
