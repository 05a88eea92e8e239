/* confab-cli-mcp.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confab-engine.h"
#include "confab-cli-common.h"
#include "confab-cli-mcp.h"

/* confab-cli mcp: the MCP servers of mcp.json, started and asked as the
 * app does (the same ConfabMcpServer), for checking a configuration and
 * calling a tool by hand. Results go to stdout; errors are lines on
 * stderr starting "confab-cli: ".
 */

#define EXIT_USAGE       CONFAB_CLI_EXIT_USAGE
#define EXIT_INTERRUPTED CONFAB_CLI_EXIT_INTERRUPTED

static char *opt_config = NULL;

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n", _("Usage:"));
  /* Translators: keep the commands and options; translate the words in
   * capitals and in parentheses. */
  fprintf (out, "%s\n", _("  confab-cli mcp list                        (starts every enabled server)\n"
                          "  confab-cli mcp call SERVER TOOL [JSON]     [--timeout SECONDS]\n"
                          "  confab-cli mcp import [PATH]               [--replace]"));
  fputc ('\n', out);
  /* Translators: keep “--mcp-config”, “CONFAB_MCP_CONFIG” and the path. */
  fprintf (out, "%s\n", _("Every command takes --mcp-config PATH; CONFAB_MCP_CONFIG does the same. The default\n"
                          "is ~/.config/confab/mcp.json. import reads Claude Desktop's configuration\n"
                          "(~/.config/Claude/claude_desktop_config.json) unless given another file."));
}

static int
usage_error (const char *message)
{
  confab_cli_print_error ("%s", message);
  fprintf (stderr, "%s\n", _("Try “confab-cli mcp --help” for more information."));
  return EXIT_USAGE;
}

/* Parses a subcommand's options, --mcp-config among them; what remains
 * in @argv are its arguments, after argv[0]. */
static gboolean
parse_options (const char          *parameters,
               const GOptionEntry  *entries,
               int                 *argc,
               char              ***argv,
               GError             **error)
{
  const GOptionEntry common[] = {
    { "mcp-config", 0, 0, G_OPTION_ARG_FILENAME, &opt_config,
      N_("The MCP configuration file (default: $CONFAB_MCP_CONFIG, else ~/.config/confab/mcp.json)"),
      N_("PATH") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);
  g_autofree char *prgname = g_strconcat ("confab-cli mcp ", (*argv)[0], NULL);

  g_set_prgname (prgname);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common, NULL);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

static ConfabMcpConfig *
load_config (GError **error)
{
  return confab_mcp_config_load (opt_config, error);
}

static void
stop_server (ConfabMcpServer *server)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_mcp_server_stop_async (server, NULL, confab_cli_async_cb, &result);
  confab_mcp_server_stop_finish (server, confab_cli_wait (&result), NULL);
}

/* The first line of @text, without its line end. */
static char *
first_line (const char *text)
{
  const char *end = text != NULL ? strchr (text, '\n') : NULL;

  if (text == NULL)
    return g_strdup ("");
  return end != NULL ? g_strndup (text, end - text) : g_strdup (text);
}

/* list */

static const char *
status_word (ConfabMcpServerStatus status)
{
  /* Not translated: scripts read it (--help documents it). */
  switch (status)
    {
    case CONFAB_MCP_SERVER_STOPPED: return "stopped";
    case CONFAB_MCP_SERVER_STARTING: return "starting";
    case CONFAB_MCP_SERVER_RUNNING: return "running";
    case CONFAB_MCP_SERVER_FAILED: return "failed";
    default: g_return_val_if_reached ("failed");
    }
}

static int
list_main (int    argc,
           char **argv)
{
  g_autoptr(ConfabMcpManager) manager = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *configs;
  int status = EXIT_SUCCESS;

  /* Translators: shown after “confab-cli mcp list [OPTION…]” in --help. */
  if (!parse_options (N_("- start the MCP servers and list their tools"), NULL, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc > 1)
    return usage_error (_("list takes no arguments"));

  manager = confab_mcp_manager_new (opt_config);
  if (!confab_mcp_manager_reload (manager, &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  configs = confab_mcp_config_get_servers (confab_mcp_manager_get_config (manager));
  if (configs->len == 0)
    {
      /* Translators: %s is a file. */
      fprintf (stderr, _("No MCP server is configured in %s (see “confab-cli mcp import”)."),
               confab_mcp_manager_get_config_path (manager));
      fputc ('\n', stderr);
      return EXIT_SUCCESS;
    }

  /* All at once: a slow server does not hold up the others. */
  confab_mcp_manager_start_all_async (manager, NULL, confab_cli_async_cb, &result);
  confab_mcp_manager_start_all_finish (manager, confab_cli_wait (&result), NULL);
  g_clear_object (&result);

  for (guint i = 0; i < configs->len; i++)
    {
      ConfabMcpServerConfig *config = g_ptr_array_index (configs, i);
      const char *name = confab_mcp_server_config_get_name (config);
      ConfabMcpServer *server = confab_mcp_manager_lookup (manager, name);
      GPtrArray *tools;

      if (server == NULL)
        {
          printf ("%s\tdisabled\n", name);
          continue;
        }

      if (confab_mcp_server_get_status (server) != CONFAB_MCP_SERVER_RUNNING)
        {
          const GError *server_error = confab_mcp_server_get_error (server);

          printf ("%s\t%s\n", name, status_word (confab_mcp_server_get_status (server)));
          fflush (stdout);
          if (server_error != NULL)
            confab_cli_print_error ("%s", server_error->message);
          status = EXIT_FAILURE;
          continue;
        }

      printf ("%s\trunning\t%s\n", name, confab_mcp_server_get_protocol_version (server));
      tools = confab_mcp_server_get_tools (server);
      for (guint j = 0; j < tools->len; j++)
        {
          JsonObject *tool = g_ptr_array_index (tools, j);
          JsonNode *description = json_object_get_member (tool, "description");
          g_autofree char *line = NULL;

          line = first_line (description != NULL && json_node_get_value_type (description) == G_TYPE_STRING
                             ? json_node_get_string (description) : NULL);
          printf ("  %s\t%s\n", json_object_get_string_member (tool, "name"), line);
        }
    }
  fflush (stdout);

  confab_mcp_manager_shutdown_async (manager, NULL, confab_cli_async_cb, &result);
  confab_mcp_manager_shutdown_finish (manager, confab_cli_wait (&result), NULL);

  return status;
}

/* call */

typedef struct
{
  GCancellable *cancellable;
  gboolean      interrupted;
} Call;

static gboolean
signal_cb (gpointer user_data)
{
  Call *call = user_data;

  call->interrupted = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
has_tool (ConfabMcpServer *server,
          const char      *name)
{
  GPtrArray *tools = confab_mcp_server_get_tools (server);

  for (guint i = 0; i < tools->len; i++)
    if (g_strcmp0 (json_object_get_string_member (g_ptr_array_index (tools, i), "name"), name) == 0)
      return TRUE;
  return FALSE;
}

static char *
tool_names (ConfabMcpServer *server)
{
  GPtrArray *tools = confab_mcp_server_get_tools (server);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < tools->len; i++)
    g_strv_builder_add (builder, json_object_get_string_member (g_ptr_array_index (tools, i), "name"));
  names = g_strv_builder_end (builder);
  return g_strjoinv (", ", names);
}

static int
call_main (int    argc,
           char **argv)
{
  int timeout = 60;
  const GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Give up after this long (default 60; 0 waits forever)"), N_("SECONDS") },
    { NULL }
  };
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(ConfabMcpServer) server = NULL;
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(ConfabToolResult) tool_result = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  ConfabMcpServerConfig *server_config;
  const char *text;
  Call call = { cancellable, FALSE };
  guint sigint_id, sigterm_id;
  int status;

  /* Translators: shown after “confab-cli mcp call [OPTION…]” in --help;
   * translate the words in capitals as in the usage text. */
  if (!parse_options (N_("SERVER TOOL [JSON] - call one tool of an MCP server"), entries, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc < 3 || argc > 4)
    return usage_error (_("call takes a SERVER, a TOOL and, optionally, its arguments as a JSON object"));
  if (timeout < 0)
    return usage_error (_("--timeout must be 0 or more seconds"));

  if (!confab_json_parse (argc == 4 ? argv[3] : "{}", -1, &arguments, &error))
    {
      /* Translators: %s says where the JSON is wrong and how. */
      g_autofree char *message = g_strdup_printf (_("the arguments are not valid JSON: %s"), error->message);
      return usage_error (message);
    }
  if (arguments == NULL || !JSON_NODE_HOLDS_OBJECT (arguments))
    return usage_error (_("the arguments must be a JSON object, such as {\"path\": \"/tmp\"}"));

  config = load_config (&error);
  if (config == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }
  server_config = confab_mcp_config_lookup (config, argv[1]);
  if (server_config == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("there is no MCP server “%s” in %s (see “confab-cli mcp list”)"),
                                                  argv[1], confab_mcp_config_get_path (config));

      return usage_error (message);
    }
  if (!confab_mcp_server_config_get_enabled (server_config))
    {
      confab_cli_print_error (_("the MCP server “%s” is disabled in %s"), argv[1], confab_mcp_config_get_path (config));
      return EXIT_FAILURE;
    }

  sigint_id = g_unix_signal_add (SIGINT, signal_cb, &call);
  sigterm_id = g_unix_signal_add (SIGTERM, signal_cb, &call);

  server = confab_mcp_server_new (server_config);
  confab_mcp_server_start_async (server, cancellable, confab_cli_async_cb, &result);
  if (!confab_mcp_server_start_finish (server, confab_cli_wait (&result), &error))
    {
      status = EXIT_FAILURE;
      goto out;
    }
  g_clear_object (&result);

  if (!has_tool (server, argv[2]))
    {
      g_autofree char *names = tool_names (server);

      g_set_error (&error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: the last %s is a list of tool names. */
                   _("the MCP server “%s” has no tool “%s”; its tools are: %s"), argv[1], argv[2], names);
      status = EXIT_FAILURE;
      goto out;
    }

  confab_mcp_server_call_tool_async (server, argv[2], json_node_get_object (arguments), timeout, cancellable,
                                     confab_cli_async_cb, &result);
  answer = confab_mcp_server_call_tool_finish (server, confab_cli_wait (&result), &error);
  if (answer == NULL)
    {
      status = EXIT_FAILURE;
      goto out;
    }

  tool_result = confab_mcp_tool_result_new_from_json (answer);
  text = confab_tool_result_get_text (tool_result);
  /* The tool's own failure: its words, on stderr. */
  fputs (text, confab_tool_result_get_is_error (tool_result) ? stderr : stdout);
  if (text[0] != '\0' && !g_str_has_suffix (text, "\n"))
    fputc ('\n', confab_tool_result_get_is_error (tool_result) ? stderr : stdout);
  status = confab_tool_result_get_is_error (tool_result) ? EXIT_FAILURE : EXIT_SUCCESS;

out:
  if (call.interrupted)
    {
      confab_cli_print_error (_("interrupted"));
      status = EXIT_INTERRUPTED;
    }
  else if (error != NULL)
    confab_cli_print_error ("%s", error->message);

  fflush (stdout);
  stop_server (server);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  return status;
}

/* import */

static int
import_main (int    argc,
             char **argv)
{
  gboolean replace = FALSE;
  const GOptionEntry entries[] = {
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      N_("Replace the servers that have the same name"), NULL },
    { NULL }
  };
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GPtrArray) imported = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GError) error = NULL;

  /* Translators: shown after “confab-cli mcp import [OPTION…]” in --help. */
  if (!parse_options (N_("[PATH] - add the servers of a Claude Desktop configuration"), entries,
                      &argc, &argv, &error))
    return usage_error (error->message);
  if (argc > 2)
    return usage_error (_("import takes at most one PATH"));

  if (!(config = load_config (&error)) ||
      !confab_mcp_config_import (config, argc == 2 ? argv[1] : NULL, replace, &imported, &skipped, &error) ||
      !confab_mcp_config_save (config, &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  /* Not translated: scripts read it. */
  for (guint i = 0; i < imported->len; i++)
    printf ("imported\t%s\n", (const char *)g_ptr_array_index (imported, i));
  fflush (stdout);
  for (guint i = 0; i < skipped->len; i++)
    confab_cli_print_error (_("kept the server “%s” already in %s (--replace overwrites it)"),
                            (const char *)g_ptr_array_index (skipped, i), confab_mcp_config_get_path (config));

  return EXIT_SUCCESS;
}

/* Entry point */

/**
 * confab_cli_mcp_main:
 * @argc: the number of arguments, "mcp" included
 * @argv: "mcp", a subcommand and its arguments; GOption may reorder them
 *
 * Returns: 0 on success, 1 on failure, 2 for a usage error, 130 when
 *   interrupted.
 */
int
confab_cli_mcp_main (int    argc,
                     char **argv)
{
  static const ConfabCliSubcommand subcommands[] = {
    { "list", list_main },
    { "call", call_main },
    { "import", import_main },
    { NULL, NULL },
  };
  int status = confab_cli_dispatch (argc, argv, subcommands, print_usage, usage_error);

  g_clear_pointer (&opt_config, g_free);
  fflush (stdout);
  return status;
}
