/* test-mcp-page.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MCP Servers page of Preferences, driven through its widgets, with
 * servers run for real from tests/mcp/mock-mcp-server.py: each server's
 * status, tools and live log; turning one off and on, adding one
 * (and refusing bad input with nothing written), removing one, importing
 * a Claude Desktop file, and a configuration that could not be read.
 * Every check of the file reads it after the manager applied the save.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "confab-mcp-page.h"
#include "confab-resources.h"

typedef struct
{
  char             *dir;
  char             *config_path;
  ConfabMcpManager *manager;
  GtkWidget        *window;
  ConfabMcpPage    *page;
  /* ::servers-changed of the manager: a save was applied */
  guint             changes;
} Fixture;

static gboolean
timeout_cb (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *)data);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @check is true, failing after 20 s. */
#define WAIT_FOR(check)                                                      \
  G_STMT_START {                                                             \
    guint _guard = g_timeout_add_seconds (20, timeout_cb, (gpointer)#check); \
    while (!(check))                                                         \
      g_main_context_iteration (NULL, TRUE);                                 \
    g_source_remove (_guard);                                                \
  } G_STMT_END

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
clicked_cb (GtkButton *button,
            gpointer   user_data)
{
  *(gboolean *)user_data = TRUE;
}

/* Activates @button as the keyboard does, and returns once its "clicked"
 * handlers ran. */
static void
activate_button (GtkWidget *button)
{
  gboolean clicked = FALSE;
  gulong handler = g_signal_connect (button, "clicked", G_CALLBACK (clicked_cb), &clicked);

  g_assert_true (gtk_widget_activate (button));
  WAIT_FOR (clicked);
  g_signal_handler_disconnect (button, handler);
}

static gpointer
child (Fixture    *fixture,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (fixture->page), CONFAB_TYPE_MCP_PAGE, name);

  g_assert_nonnull (object);
  return object;
}

/* The first widget named @name under @root, depth first. */
static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* The row of the server @name, or NULL. */
static GtkWidget *
server_row (Fixture    *fixture,
            const char *name)
{
  GtkListBox *list = child (fixture, "servers_list");
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), name) == 0)
      return GTK_WIDGET (row);

  return NULL;
}

static const char *
row_title_at (Fixture *fixture,
              guint    index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (child (fixture, "servers_list"), index);

  return row != NULL ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)) : NULL;
}

static const char *
status_of (Fixture    *fixture,
           const char *name)
{
  GtkWidget *row = server_row (fixture, name);

  if (row == NULL)
    return NULL;
  if (ADW_IS_EXPANDER_ROW (row))
    return adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row));
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
}

static gboolean
status_is (Fixture    *fixture,
           const char *name,
           const char *status)
{
  return g_strcmp0 (status_of (fixture, name), status) == 0;
}

/* A part of a server's row, shown (its row expanded). */
static GtkWidget *
row_part (Fixture    *fixture,
          const char *server,
          const char *part)
{
  GtkWidget *row = server_row (fixture, server);
  GtkWidget *found;

  g_assert_nonnull (row);
  found = find_named (row, part);
  g_assert_nonnull (found);
  if (!gtk_widget_get_mapped (found) && gtk_widget_get_visible (found))
    {
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
      WAIT_FOR (gtk_widget_get_mapped (found));
    }
  return found;
}

static char *
dup_log_text (Fixture    *fixture,
              const char *server)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (row_part (fixture, server, "log-view")));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static gboolean
log_shows (Fixture    *fixture,
           const char *server,
           const char *text)
{
  g_autofree char *log = dup_log_text (fixture, server);

  return strstr (log, text) != NULL;
}

static gboolean
label_shows (GtkWidget  *label,
             const char *text)
{
  return gtk_widget_get_visible (label) && strstr (gtk_label_get_text (GTK_LABEL (label)), text) != NULL;
}

/* The "mcpServers" entry of the file for a mock server started with
 * @options (a JSON list's members, may be empty), then @extra members. */
static char *
mock_entry (const char *name,
            const char *options,
            const char *extra)
{
  const char *python = g_getenv ("CONFAB_TEST_PYTHON");
  const char *script = g_getenv ("CONFAB_TEST_MCP_SERVER");

  g_assert_nonnull (python);
  g_assert_nonnull (script);
  return g_strdup_printf ("\"%s\": {\"command\": \"%s\", \"args\": [\"%s\"%s%s]%s%s}",
                          name, python, script, options[0] != '\0' ? ", " : "", options,
                          extra[0] != '\0' ? ", " : "", extra);
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* The "mcpServers" object of the file, parsed. */
static JsonObject *
read_servers (Fixture *fixture)
{
  g_autofree char *contents = read_file (fixture->config_path);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, contents, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                         "mcpServers"));
}

static char *
server_names (JsonObject *servers)
{
  g_autoptr(GList) members = json_object_get_members (servers);
  GString *names = g_string_new (NULL);

  for (const GList *l = members; l != NULL; l = l->next)
    g_string_append_printf (names, "%s%s", names->len > 0 ? " " : "", (const char *)l->data);
  return g_string_free (names, FALSE);
}

/* Writes the configuration and has the manager read it. */
static void
load_config (Fixture    *fixture,
             const char *contents)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  write_file (fixture->config_path, contents);
  confab_mcp_manager_load_async (fixture->manager, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  confab_mcp_manager_load_finish (fixture->manager, result, &error);
  g_assert_no_error (error);
}

/* As the app does once the file is read. */
static void
start_all (Fixture *fixture)
{
  confab_mcp_manager_start_all_async (fixture->manager, NULL, NULL, NULL);
}

static void
open_page (Fixture      *fixture,
           const GError *load_error)
{
  fixture->page = CONFAB_MCP_PAGE (confab_mcp_page_new (fixture->manager, load_error));
  g_object_add_weak_pointer (G_OBJECT (fixture->page), (gpointer *)&fixture->page);
  fixture->window = adw_preferences_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 640, 720);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (fixture->window), ADW_PREFERENCES_PAGE (fixture->page));
  gtk_window_present (GTK_WINDOW (fixture->window));
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (fixture->page)));
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("confab-test-mcp-page-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->config_path = g_build_filename (fixture->dir, "mcp.json", NULL);
  fixture->manager = confab_mcp_manager_new (fixture->config_path);
  g_signal_connect (fixture->manager, "servers-changed", G_CALLBACK (count_cb), &fixture->changes);
}

static AdwMessageDialog *
find_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return l->data;

  return NULL;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  GList *toplevels;

  /* Nothing holds the page once its window is gone. */
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (toplevels);
  WAIT_FOR (fixture->page == NULL);

  g_assert_true (confab_mcp_manager_shutdown_sync (fixture->manager, 10000));
  g_assert_finalize_object (fixture->manager);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  dir = g_dir_open (fixture->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->config_path);
  g_free (fixture->dir);
}

static void
test_status (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *mock = mock_entry ("mock", "\"--stderr\", \"hello from the mock\"", "");
  g_autofree char *off = mock_entry ("off", "", "\"disabled\": true");
  g_autofree char *contents = NULL;
  g_autofree char *command = NULL;
  GtkWidget *tools;

  contents = g_strdup_printf ("{\"mcpServers\": {%s, %s, "
                              "\"broken\": {\"command\": \"/nonexistent/confab-test-program\"}, "
                              "\"remote\": {\"url\": \"http://127.0.0.1:1/mcp\"}}}",
                              mock, off);
  load_config (fixture, contents);

  /* Open before the servers start: the rows follow them. */
  open_page (fixture, NULL);
  g_assert_cmpstr (row_title_at (fixture, 0), ==, "mock");
  g_assert_cmpstr (row_title_at (fixture, 1), ==, "off");
  g_assert_cmpstr (row_title_at (fixture, 2), ==, "broken");
  g_assert_cmpstr (row_title_at (fixture, 3), ==, "remote");
  g_assert_null (row_title_at (fixture, 4));
  g_assert_true (status_is (fixture, "mock", "Stopped"));
  g_assert_true (status_is (fixture, "off", "Disabled"));
  g_assert_true (status_is (fixture, "remote", "Not supported: reached over HTTP"));
  g_assert_false (gtk_widget_get_visible (child (fixture, "error_group")));

  start_all (fixture);
  WAIT_FOR (status_is (fixture, "mock", "Running · 7 tools"));
  WAIT_FOR (g_str_has_prefix (status_of (fixture, "broken"), "Failed: "));
  g_assert_true (status_is (fixture, "off", "Disabled"));

  /* Inside: the command line, the tools, the log as it is written. */
  command = g_strdup_printf ("%s %s --stderr 'hello from the mock'",
                             g_getenv ("CONFAB_TEST_PYTHON"), g_getenv ("CONFAB_TEST_MCP_SERVER"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (row_part (fixture, "mock", "command-label"))), ==, command);
  tools = row_part (fixture, "mock", "tools-label");
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (tools)), "echo, sleep, crash"));
  WAIT_FOR (log_shows (fixture, "mock", "hello from the mock"));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (row_part (fixture, "mock", "enable-switch"))));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (row_part (fixture, "off", "enable-switch"))));

  /* A failure says why, in full inside. */
  g_assert_true (label_shows (row_part (fixture, "broken", "error-label"), "confab-test-program"));

  /* A server that adds a tool: the row counts it. */
  {
    ConfabMcpServer *server = confab_mcp_manager_lookup (fixture->manager, "mock");
    g_autoptr(JsonObject) arguments = json_object_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(GError) error = NULL;

    json_object_set_string_member (arguments, "name", "extra");
    confab_mcp_server_call_tool_async (server, "add_tool", arguments, 10, NULL, result_cb, &result);
    WAIT_FOR (result != NULL);
    reply = confab_mcp_server_call_tool_finish (server, result, &error);
    g_assert_no_error (error);
    WAIT_FOR (status_is (fixture, "mock", "Running · 8 tools"));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (tools)), "extra"));
  }

  /* Nothing was written. */
  g_assert_cmpuint (fixture->changes, ==, 1);
  {
    g_autofree char *now = read_file (fixture->config_path);

    g_assert_cmpstr (now, ==, contents);
  }
}

static void
test_disable_enable (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *mock = mock_entry ("mock", "", "\"note\": \"kept\"");
  g_autofree char *contents = g_strdup_printf ("{\"mcpServers\": {%s}}", mock);
  g_autoptr(ConfabMcpServer) server = NULL;
  g_autoptr(JsonObject) servers = NULL;
  JsonObject *entry;
  GtkWidget *enable_switch;

  load_config (fixture, contents);
  start_all (fixture);
  open_page (fixture, NULL);
  WAIT_FOR (status_is (fixture, "mock", "Running · 7 tools"));
  server = g_object_ref (confab_mcp_manager_lookup (fixture->manager, "mock"));
  g_assert_cmpint (confab_mcp_server_get_pid (server), >, 0);
  fixture->changes = 0;

  /* Off, as from the keyboard */
  enable_switch = row_part (fixture, "mock", "enable-switch");
  g_assert_true (gtk_widget_activate (enable_switch));
  WAIT_FOR (fixture->changes == 1);
  servers = read_servers (fixture);
  entry = json_object_get_object_member (servers, "mock");
  g_assert_true (json_object_get_boolean_member (entry, "disabled"));
  g_assert_cmpstr (json_object_get_string_member (entry, "note"), ==, "kept");
  g_assert_null (confab_mcp_manager_lookup (fixture->manager, "mock"));
  WAIT_FOR (confab_mcp_server_get_status (server) == CONFAB_MCP_SERVER_STOPPED &&
            confab_mcp_server_get_pid (server) == 0);
  g_assert_true (status_is (fixture, "mock", "Disabled"));
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (enable_switch)));

  /* On again: started again */
  g_assert_true (gtk_widget_activate (enable_switch));
  WAIT_FOR (fixture->changes == 2);
  g_clear_pointer (&servers, json_object_unref);
  servers = read_servers (fixture);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (servers, "mock"), "disabled"));
  WAIT_FOR (status_is (fixture, "mock", "Running · 7 tools"));
  g_assert_true (confab_mcp_manager_lookup (fixture->manager, "mock") != server);
}

static void
fill_form (Fixture    *fixture,
           const char *name,
           const char *command,
           const char *env)
{
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_name_row")), name);
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_command_row")), command);
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_env_row")), env);
}

static void
test_add (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *python = g_shell_quote (g_getenv ("CONFAB_TEST_PYTHON"));
  g_autofree char *script = g_shell_quote (g_getenv ("CONFAB_TEST_MCP_SERVER"));
  g_autofree char *command = g_strdup_printf ("%s %s --stderr 'added server'", python, script);
  g_autofree char *names = NULL;
  g_autoptr(JsonObject) servers = NULL;
  JsonObject *entry;
  JsonArray *args;

  /* Not started: the page starts what it adds itself. */
  load_config (fixture, "{\"other\": 1, \"mcpServers\": {\"first\": {\"command\": \"true\", \"disabled\": true}}}");
  open_page (fixture, NULL);
  fixture->changes = 0;

  fill_form (fixture, "added", command, "GREETING=hi 'SPACED=a b'");
  activate_button (child (fixture, "add_button"));
  WAIT_FOR (fixture->changes == 1);

  /* Appended, the rest of the file kept */
  servers = read_servers (fixture);
  names = server_names (servers);
  g_assert_cmpstr (names, ==, "first added");
  entry = json_object_get_object_member (servers, "added");
  g_assert_cmpstr (json_object_get_string_member (entry, "command"), ==, g_getenv ("CONFAB_TEST_PYTHON"));
  args = json_object_get_array_member (entry, "args");
  g_assert_cmpuint (json_array_get_length (args), ==, 3);
  g_assert_cmpstr (json_array_get_string_element (args, 0), ==, g_getenv ("CONFAB_TEST_MCP_SERVER"));
  g_assert_cmpstr (json_array_get_string_element (args, 2), ==, "added server");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (entry, "env"), "GREETING"), ==, "hi");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (entry, "env"), "SPACED"), ==, "a b");
  {
    g_autofree char *contents = read_file (fixture->config_path);

    g_assert_nonnull (strstr (contents, "\"other\" : 1"));
  }

  /* Started, shown after the others; the form is empty again. */
  g_assert_cmpstr (row_title_at (fixture, 1), ==, "added");
  WAIT_FOR (status_is (fixture, "added", "Running · 7 tools"));
  WAIT_FOR (log_shows (fixture, "added", "added server"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (row_part (fixture, "added", "env-label"))), ==, "GREETING, SPACED");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_name_row"))), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_command_row"))), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_env_row"))), ==, "");
  g_assert_true (status_is (fixture, "first", "Disabled"));
}

/* Presses Add with the form filled in, and checks that @field shows
 * @message inline and that nothing was written. */
static void
refused (Fixture    *fixture,
         const char *before,
         const char *field,
         const char *message)
{
  g_autofree char *after = NULL;
  GtkWidget *label = child (fixture, "add_message_label");

  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (label, message));
  g_assert_true (gtk_widget_has_css_class (label, "error"));
  g_assert_true (gtk_widget_has_css_class (child (fixture, field), "error"));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  after = read_file (fixture->config_path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (fixture->changes, ==, 0);
}

static void
test_add_invalid (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *contents = "{\"mcpServers\": {\"taken\": {\"command\": \"true\", \"disabled\": true},\n"
                         "  \"remote\": {\"url\": \"http://127.0.0.1:1/mcp\"}}}";

  load_config (fixture, contents);
  open_page (fixture, NULL);
  fixture->changes = 0;

  fill_form (fixture, "my server", "true", "");
  refused (fixture, contents, "add_name_row", "“my server” is not a valid MCP server name");
  g_assert_false (gtk_widget_has_css_class (child (fixture, "add_command_row"), "error"));

  /* Editing the field clears its mark. */
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_name_row")), "taken");
  g_assert_false (gtk_widget_has_css_class (child (fixture, "add_name_row"), "error"));
  refused (fixture, contents, "add_name_row", "There already is an MCP server named “taken”");
  /* An HTTP server's name is taken too. */
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_name_row")), "remote");
  refused (fixture, contents, "add_name_row", "There already is an MCP server named “remote”");

  fill_form (fixture, "fine", "", "");
  refused (fixture, contents, "add_command_row", "Enter the command that starts the server");
  fill_form (fixture, "fine", "npx 'unterminated", "");
  refused (fixture, contents, "add_command_row", "The command cannot be read");
  g_assert_false (gtk_widget_has_css_class (child (fixture, "add_name_row"), "error"));
  fill_form (fixture, "fine", "true", "TOKEN=1 oops");
  refused (fixture, contents, "add_env_row", "“oops” is not NAME=VALUE");
  fill_form (fixture, "fine", "true", "=value");
  refused (fixture, contents, "add_env_row", "“=value” is not NAME=VALUE");

  g_assert_null (server_row (fixture, "fine"));
  g_assert_null (server_row (fixture, "my server"));
}

static void
test_remove (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *mock = mock_entry ("mock", "", "");
  g_autofree char *keep = mock_entry ("keep", "", "");
  g_autofree char *contents = g_strdup_printf ("{\"mcpServers\": {%s, %s}}", mock, keep);
  g_autoptr(ConfabMcpServer) server = NULL;
  g_autoptr(JsonObject) servers = NULL;
  g_autofree char *names = NULL;
  AdwMessageDialog *dialog;

  load_config (fixture, contents);
  start_all (fixture);
  open_page (fixture, NULL);
  WAIT_FOR (status_is (fixture, "mock", "Running · 7 tools") && status_is (fixture, "keep", "Running · 7 tools"));
  server = g_object_ref (confab_mcp_manager_lookup (fixture->manager, "mock"));
  fixture->changes = 0;

  /* Cancel keeps it. */
  activate_button (row_part (fixture, "mock", "remove-button"));
  WAIT_FOR ((dialog = find_dialog ()) != NULL);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Remove “mock”?");
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_nonnull (server_row (fixture, "mock"));
  g_assert_cmpuint (fixture->changes, ==, 0);

  /* Remove removes it from the file and stops it. */
  activate_button (row_part (fixture, "mock", "remove-button"));
  WAIT_FOR ((dialog = find_dialog ()) != NULL);
  adw_message_dialog_response (dialog, "remove");
  gtk_window_destroy (GTK_WINDOW (dialog));
  WAIT_FOR (fixture->changes == 1);
  servers = read_servers (fixture);
  names = server_names (servers);
  g_assert_cmpstr (names, ==, "keep");
  g_assert_null (server_row (fixture, "mock"));
  g_assert_null (confab_mcp_manager_lookup (fixture->manager, "mock"));
  WAIT_FOR (confab_mcp_server_get_status (server) == CONFAB_MCP_SERVER_STOPPED &&
            confab_mcp_server_get_pid (server) == 0);
  g_assert_true (status_is (fixture, "keep", "Running · 7 tools"));
}

static void
test_import (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *claude_path = g_build_filename (fixture->dir, "claude_desktop_config.json", NULL);
  g_autofree char *claude_mock = mock_entry ("fromclaude", "", "\"env\": {\"TOKEN\": \"secret\"}");
  g_autofree char *claude = NULL;
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.json", NULL);
  g_autofree char *names = NULL;
  g_autoptr(JsonObject) servers = NULL;
  GtkWidget *message;

  load_config (fixture, "{\"mcpServers\": {\"taken\": {\"command\": \"true\", \"disabled\": true}}}");
  start_all (fixture);
  open_page (fixture, NULL);
  message = child (fixture, "import_message_label");
  fixture->changes = 0;

  /* A file that is not there, then one that is not JSON: said, nothing
   * written. */
  confab_mcp_page_set_import_path (fixture->page, missing);
  g_assert_cmpstr (adw_action_row_get_subtitle (child (fixture, "import_row")), ==, missing);
  activate_button (child (fixture, "import_button"));
  WAIT_FOR (label_shows (message, "Nothing to import"));
  g_assert_true (gtk_widget_has_css_class (message, "error"));

  write_file (claude_path, "{\"mcpServers\": {");
  confab_mcp_page_set_import_path (fixture->page, claude_path);
  activate_button (child (fixture, "import_button"));
  WAIT_FOR (label_shows (message, "is not valid JSON"));
  g_assert_cmpuint (fixture->changes, ==, 0);

  /* Its servers are added; one of the same name is kept as it is. */
  claude = g_strdup_printf ("{\"globalShortcut\": \"\", \"mcpServers\": {"
                            "\"taken\": {\"command\": \"false\"}, %s}}",
                            claude_mock);
  write_file (claude_path, claude);
  activate_button (child (fixture, "import_button"));
  WAIT_FOR (fixture->changes == 1);
  servers = read_servers (fixture);
  names = server_names (servers);
  g_assert_cmpstr (names, ==, "taken fromclaude");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (servers, "taken"), "command"), ==,
                   "true");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_object_get_object_member (servers, "fromclaude"), "env"), "TOKEN"), ==,
                   "secret");
  WAIT_FOR (label_shows (message, "Imported 1 server: fromclaude. Kept 1 server already configured: taken."));
  g_assert_false (gtk_widget_has_css_class (message, "error"));
  WAIT_FOR (status_is (fixture, "fromclaude", "Running · 7 tools"));
  /* The variables' names only: their values are often tokens. */
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (row_part (fixture, "fromclaude", "env-label"))), ==, "TOKEN");

  /* Again: nothing new */
  activate_button (child (fixture, "import_button"));
  WAIT_FOR (label_shows (message, "Nothing to import: Confab already has taken, fromclaude."));
  g_assert_cmpuint (fixture->changes, ==, 1);
}

static void
test_unreadable (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *broken = "{\"mcpServers\": {\"a\": {\"command\": }}}";
  g_autofree char *mock = mock_entry ("mock", "", "");
  g_autofree char *fixed = g_strdup_printf ("{\"mcpServers\": {%s}}", mock);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *after = NULL;
  GtkWidget *error_group;

  /* As the app: the file could not be read at start-up. */
  write_file (fixture->config_path, broken);
  confab_mcp_manager_load_async (fixture->manager, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  g_assert_false (confab_mcp_manager_load_finish (fixture->manager, result, &error));
  g_assert_nonnull (error);

  open_page (fixture, error);
  error_group = child (fixture, "error_group");
  g_assert_true (gtk_widget_get_visible (error_group));
  g_assert_true (label_shows (child (fixture, "error_label"), "is not valid JSON: line 1"));
  g_assert_true (label_shows (child (fixture, "error_hint_label"), fixture->config_path));
  g_assert_true (label_shows (child (fixture, "error_hint_label"), "Fix the file"));

  /* Nothing can change it meanwhile. */
  g_assert_false (gtk_widget_is_sensitive (child (fixture, "add_button")));
  g_assert_false (gtk_widget_is_sensitive (child (fixture, "import_button")));
  fill_form (fixture, "new", "true", "");
  g_signal_emit_by_name (child (fixture, "add_name_row"), "entry-activated");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  after = read_file (fixture->config_path);
  g_assert_cmpstr (after, ==, broken);

  /* Still broken: the new reason */
  write_file (fixture->config_path, "[]");
  activate_button (child (fixture, "reload_button"));
  WAIT_FOR (label_shows (child (fixture, "error_label"), "must hold a JSON object"));
  g_assert_true (gtk_widget_get_visible (error_group));

  /* Fixed: read, started, editable */
  write_file (fixture->config_path, fixed);
  activate_button (child (fixture, "reload_button"));
  WAIT_FOR (!gtk_widget_get_visible (error_group));
  WAIT_FOR (status_is (fixture, "mock", "Running · 7 tools"));
  g_assert_true (gtk_widget_is_sensitive (child (fixture, "add_button")));
  g_free (after);
  after = read_file (fixture->config_path);
  g_assert_cmpstr (after, ==, fixed);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      if (g_strcmp0 (g_getenv ("CONFAB_REQUIRE_DISPLAY"), "1") == 0)
        g_error ("No display, but CONFAB_REQUIRE_DISPLAY=1");
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }

  adw_init ();
  g_resources_register (confab_get_resource ());

  g_test_add ("/mcp-page/status", Fixture, NULL, fixture_setup, test_status, fixture_teardown);
  g_test_add ("/mcp-page/disable-enable", Fixture, NULL, fixture_setup, test_disable_enable, fixture_teardown);
  g_test_add ("/mcp-page/add", Fixture, NULL, fixture_setup, test_add, fixture_teardown);
  g_test_add ("/mcp-page/add-invalid", Fixture, NULL, fixture_setup, test_add_invalid, fixture_teardown);
  g_test_add ("/mcp-page/remove", Fixture, NULL, fixture_setup, test_remove, fixture_teardown);
  g_test_add ("/mcp-page/import", Fixture, NULL, fixture_setup, test_import, fixture_teardown);
  g_test_add ("/mcp-page/unreadable", Fixture, NULL, fixture_setup, test_unreadable, fixture_teardown);

  return g_test_run ();
}
