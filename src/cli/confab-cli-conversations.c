/* confab-cli-conversations.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>

#include <gio/gunixinputstream.h>

#include "confab-cli-common.h"
#include "confab-cli-conversations.h"

/* confab-cli conversations list|show|search|export|import|delete */

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n", _("Usage:"));
  /* Translators: keep the commands and options; translate the words in
   * capitals. */
  fprintf (out, "%s\n", _("  confab-cli conversations list [--limit N] [--archived]\n"
                          "  confab-cli conversations show ID\n"
                          "  confab-cli conversations search QUERY\n"
                          "  confab-cli conversations export ID|--all --format markdown|json\n"
                          "  confab-cli conversations import FILE\n"
                          "  confab-cli conversations delete ID"));
  fputc ('\n', out);
  /* Translators: show, export and import are commands, Markdown and JSON
   * formats. */
  fprintf (out, "%s\n", _("Conversations are stored in $XDG_DATA_HOME/confab/confab.db.\n"
                          "show prints a conversation as Markdown; export writes Markdown or JSON\n"
                          "(the JSON format is described in docs/export-format.md) to standard\n"
                          "output; import reads such a JSON file."));
}

static int
usage_error (const char *message)
{
  confab_cli_print_error ("%s", message);
  print_usage (stderr);
  return CONFAB_CLI_EXIT_USAGE;
}

static gboolean
parse_id (const char *text,
          gint64     *id)
{
  char *end = NULL;
  gint64 value;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;
  value = g_ascii_strtoll (text, &end, 10);
  if (*end != '\0' || value <= 0)
    return FALSE;
  *id = value;
  return TRUE;
}

static char *
format_time (gint64 unix_ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (unix_ms / 1000);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

/* Titles and snippets go on one line of a tab-separated listing. */
static char *
one_line (const char *text)
{
  char *line = g_strdup (text != NULL ? text : "");

  g_strdelimit (line, "\t\r\n", ' ');
  return line;
}

static int
command_list (ConfabStore  *store,
              int           argc,
              char        **argv)
{
  /* Translators: shown after “confab-cli conversations list [OPTION…]” in --help. */
  g_autoptr(GOptionContext) context = g_option_context_new (N_("- list conversations"));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GError) error = NULL;
  int limit = 50;
  gboolean archived = FALSE;
  const GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("At most N conversations (default 50; 0 for all)"), N_("N") },
    { "archived", 0, 0, G_OPTION_ARG_NONE, &archived, N_("Also list archived conversations"), NULL },
    { NULL }
  };

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);
  if (limit < 0)
    return usage_error (_("--limit must be 0 or more"));
  if (argc > 1)
    return usage_error (_("list takes no arguments"));

  confab_store_list_conversations_async (store, limit, archived, NULL, confab_cli_async_cb, &result);
  conversations = confab_store_list_conversations_finish (store, confab_cli_wait (&result), &error);
  if (conversations == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < conversations->len; i++)
    {
      ConfabConversation *conversation = g_ptr_array_index (conversations, i);
      g_autofree char *updated = format_time (confab_conversation_get_updated_at (conversation));
      g_autofree char *title = one_line (confab_conversation_get_title (conversation));
      const char *model = confab_conversation_get_model (conversation);

      printf ("%" G_GINT64_FORMAT "\t%s\t%s%s%s\t%s\t%u\n",
              confab_conversation_get_id (conversation), updated,
              confab_conversation_get_pinned (conversation) ? "[pinned] " : "",
              confab_conversation_get_archived (conversation) ? "[archived] " : "",
              title[0] != '\0' ? title : "(untitled)",
              model != NULL ? model : "-",
              confab_conversation_get_n_messages (conversation));
    }

  return EXIT_SUCCESS;
}

static int
export (ConfabStore        *store,
        gint64              conversation_id,
        ConfabExportFormat  format)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  confab_store_export_async (store, conversation_id, format, NULL, confab_cli_async_cb, &result);
  text = confab_store_export_finish (store, confab_cli_wait (&result), &error);
  if (text == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  fputs (text, stdout);
  if (text[0] != '\0' && !g_str_has_suffix (text, "\n"))
    fputc ('\n', stdout);
  return EXIT_SUCCESS;
}

static int
command_show (ConfabStore  *store,
              int           argc,
              char        **argv)
{
  gint64 id;

  if (argc != 2 || !parse_id (argv[1], &id))
    return usage_error (_("show needs one conversation ID (a number, see “conversations list”)"));

  return export (store, id, CONFAB_EXPORT_MARKDOWN);
}

static int
command_export (ConfabStore  *store,
                int           argc,
                char        **argv)
{
  /* Translators: shown after “confab-cli conversations export [OPTION…]”
   * in --help; translate ID as in the usage text. */
  g_autoptr(GOptionContext) context = g_option_context_new (N_("ID|--all - export conversations"));
  g_autoptr(GError) error = NULL;
  g_autofree char *format_name = NULL;
  gboolean all = FALSE;
  ConfabExportFormat format;
  gint64 id = 0;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Export every conversation"), NULL },
    /* Translators: markdown and json are values to type. */
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name, N_("markdown or json"), N_("FORMAT") },
    { NULL }
  };

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);

  if (format_name == NULL)
    return usage_error (_("export needs --format markdown or --format json"));
  if (g_str_equal (format_name, "markdown"))
    format = CONFAB_EXPORT_MARKDOWN;
  else if (g_str_equal (format_name, "json"))
    format = CONFAB_EXPORT_JSON;
  else
    return usage_error (_("--format must be markdown or json"));

  if (all == (argc == 2))
    return usage_error (_("export needs either one conversation ID or --all"));
  if (!all && (argc != 2 || !parse_id (argv[1], &id)))
    return usage_error (_("export needs one conversation ID (a number) or --all"));

  return export (store, all ? 0 : id, format);
}

static int
command_search (ConfabStore  *store,
                int           argc,
                char        **argv)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *query = NULL;

  if (argc < 2)
    return usage_error (_("search needs a query"));

  query = g_strjoinv (" ", argv + 1);
  confab_store_search_async (store, query, 50, NULL, confab_cli_async_cb, &result);
  hits = confab_store_search_finish (store, confab_cli_wait (&result), &error);
  if (hits == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < hits->len; i++)
    {
      ConfabSearchHit *hit = g_ptr_array_index (hits, i);
      g_autofree char *title = one_line (hit->title);
      g_autofree char *snippet = one_line (hit->snippet);

      printf ("%" G_GINT64_FORMAT "\t%s\t%s\n", hit->conversation_id,
              title[0] != '\0' ? title : "(untitled)", snippet);
    }

  if (hits->len == 0)
    {
      g_autofree char *message = g_strdup_printf (_("no message matches “%s”"), query);

      fprintf (stderr, "confab-cli: %s\n", message);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}

static int
command_import (ConfabStore  *store,
                int           argc,
                char        **argv)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *imported = NULL;

  if (argc != 2)
    /* Translators: translate FILE as in the usage text. */
    return usage_error (_("import needs one FILE (a JSON export; - for standard input)"));

  if (g_str_equal (argv[1], "-"))
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
        {
          /* Translators: %s is the system's explanation. */
          confab_cli_print_error (_("could not read standard input: %s"), error->message);
          return EXIT_FAILURE;
        }
      g_output_stream_write (out, "", 1, NULL, NULL);
      contents = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
    }
  else if (!g_file_get_contents (argv[1], &contents, NULL, &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  confab_store_import_async (store, contents, NULL, confab_cli_async_cb, &result);
  ids = confab_store_import_finish (store, confab_cli_wait (&result), &error);
  if (ids == NULL)
    {
      /* Translators: the first %s is a file name, the second says why. */
      confab_cli_print_error (_("could not import %s: %s"), argv[1], error->message);
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < ids->len; i++)
    printf ("%" G_GINT64_FORMAT "\n", g_array_index (ids, gint64, i));
  imported = g_strdup_printf (ngettext ("imported %u conversation", "imported %u conversations", ids->len),
                              ids->len);
  fprintf (stderr, "confab-cli: %s\n", imported);
  return EXIT_SUCCESS;
}

static int
command_delete (ConfabStore  *store,
                int           argc,
                char        **argv)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  if (argc != 2 || !parse_id (argv[1], &id))
    return usage_error (_("delete needs one conversation ID (a number)"));

  confab_store_delete_conversation_async (store, id, NULL, confab_cli_async_cb, &result);
  if (!confab_store_delete_conversation_finish (store, confab_cli_wait (&result), &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }
  return EXIT_SUCCESS;
}

int
confab_cli_conversations_main (int    argc,
                               char **argv)
{
  static const struct {
    const char *name;
    gboolean    writes;
    int       (*run) (ConfabStore *, int, char **);
  } commands[] = {
    { "list", FALSE, command_list },
    { "show", FALSE, command_show },
    { "search", FALSE, command_search },
    { "export", FALSE, command_export },
    { "import", TRUE, command_import },
    { "delete", TRUE, command_delete },
  };
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GError) error = NULL;

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? CONFAB_CLI_EXIT_USAGE : EXIT_SUCCESS;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (!g_str_equal (argv[1], commands[i].name))
        continue;

      store = confab_cli_open_store (commands[i].writes, &error);
      if (store == NULL)
        {
          confab_cli_print_error ("%s", error->message);
          return EXIT_FAILURE;
        }
      return commands[i].run (store, argc - 1, argv + 1);
    }

  return usage_error (_("unknown conversations command"));
}
