/* test-mcp.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The MCP client: the configuration file (parsing, errors, rewriting,
 * Claude Desktop import), and servers run for real from
 * tests/mcp/mock-mcp-server.py: the handshake, pagination, concurrent
 * calls, crashes, garbage, cancellation, timeouts, the stop sequence, the
 * tools and the manager's toolbox. The mock logs every message it
 * receives, so a test can check what Confab sent. No test sleeps: each
 * iterates the main context until what it waits for has happened; the
 * only fixed waits are the documented backoff and stop delays.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "confab-engine.h"
#include "confab-test-server.h"

#define WATCHDOG_SECONDS 30

typedef struct
{
  char  *dir;
  char  *log_path;
  guint  watchdog_id;
} Fixture;

typedef struct
{
  GAsyncResult *result;
} Wait;

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("Test took longer than %d seconds", WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert_null (wait->result);
  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Wait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
}

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context for @ms: only for the documented delays (the
 * backoff), never to wait for something to happen. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-mcp-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->log_path = g_build_filename (fixture->dir, "requests.log", NULL);
  fixture->watchdog_id = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  drain_main_context ();
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);

  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->log_path, g_free);
  g_clear_handle_id (&fixture->watchdog_id, g_source_remove);
}

static char *
write_file (Fixture    *fixture,
            const char *name,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->dir, name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static ConfabMcpServerConfig *
mock_config_va (Fixture    *fixture,
                const char *name,
                va_list     ap)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) args = NULL;
  const char *python = g_getenv ("CONFAB_TEST_PYTHON");
  const char *mock = g_getenv ("CONFAB_TEST_MCP_SERVER");
  const char *arg;

  g_assert_nonnull (python);
  g_assert_nonnull (mock);

  g_strv_builder_add_many (builder, mock, "--log-requests", fixture->log_path, NULL);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_strv_builder_add (builder, arg);
  args = g_strv_builder_end (builder);

  return confab_mcp_server_config_new (name, python, (const char * const *)args);
}

/* The mock server's configuration: its requests logged to the
 * fixture's log, then more arguments, NULL-terminated. */
static ConfabMcpServerConfig *
mock_config (Fixture    *fixture,
             const char *name,
             ...)
{
  ConfabMcpServerConfig *config;
  va_list ap;

  va_start (ap, name);
  config = mock_config_va (fixture, name, ap);
  va_end (ap);
  return config;
}

/* A server "mock" running the mock with more arguments, NULL-terminated. */
static ConfabMcpServer *
mock_server (Fixture *fixture,
             ...)
{
  g_autoptr(ConfabMcpServerConfig) config = NULL;
  va_list ap;

  va_start (ap, fixture);
  config = mock_config_va (fixture, "mock", ap);
  va_end (ap);

  return confab_mcp_server_new (config);
}

static gboolean
start_server (ConfabMcpServer  *server,
              GError          **error)
{
  Wait wait = { 0 };
  gboolean ok;

  confab_mcp_server_start_async (server, NULL, wait_cb, &wait);
  ok = confab_mcp_server_start_finish (server, wait_result (&wait), error);
  wait_clear (&wait);
  return ok;
}

static void
stop_server (ConfabMcpServer *server)
{
  g_autoptr(GError) error = NULL;
  Wait wait = { 0 };

  confab_mcp_server_stop_async (server, NULL, wait_cb, &wait);
  confab_mcp_server_stop_finish (server, wait_result (&wait), &error);
  g_assert_no_error (error);
  wait_clear (&wait);
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_STOPPED);
}

static JsonObject *
call_tool (ConfabMcpServer  *server,
           const char       *tool,
           const char       *arguments,
           guint             timeout,
           GError          **error)
{
  g_autoptr(JsonNode) node = arguments != NULL ? json_from_string (arguments, NULL) : NULL;
  Wait wait = { 0 };
  JsonObject *result;

  confab_mcp_server_call_tool_async (server, tool, node != NULL ? json_node_get_object (node) : NULL,
                                     timeout, NULL, wait_cb, &wait);
  result = confab_mcp_server_call_tool_finish (server, wait_result (&wait), error);
  wait_clear (&wait);
  return result;
}

/* The text of a successful call's first content item. */
static char *
call_text (ConfabMcpServer *server,
           const char      *tool,
           const char      *arguments)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = call_tool (server, tool, arguments, 0, &error);
  JsonObject *item;

  g_assert_no_error (error);
  g_assert_nonnull (result);
  item = json_array_get_object_element (json_object_get_array_member (result, "content"), 0);
  return g_strdup (json_object_get_string_member (item, "text"));
}

static GPid
call_pid (ConfabMcpServer *server)
{
  g_autofree char *text = call_text (server, "pid", NULL);

  return (GPid)g_ascii_strtoll (text, NULL, 10);
}

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node) : NULL;
}

/* Every message the mock received, in order. */
static GPtrArray *
read_log (Fixture *fixture)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (fixture->log_path, &contents, NULL, NULL))
    return messages;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) node = NULL;

      if (lines[i][0] == '\0')
        continue;
      node = json_from_string (lines[i], NULL);
      g_assert_nonnull (node);
      g_ptr_array_add (messages, json_object_ref (json_node_get_object (node)));
    }
  return messages;
}

static guint
count_method (GPtrArray  *messages,
              const char *method)
{
  guint n = 0;

  for (guint i = 0; i < messages->len; i++)
    if (g_strcmp0 (string_member (g_ptr_array_index (messages, i), "method"), method) == 0)
      n++;
  return n;
}

static JsonObject *
find_method (GPtrArray  *messages,
             const char *method,
             guint       nth)
{
  for (guint i = 0; i < messages->len; i++)
    if (g_strcmp0 (string_member (g_ptr_array_index (messages, i), "method"), method) == 0 && nth-- == 0)
      return g_ptr_array_index (messages, i);
  return NULL;
}

static void
assert_process_gone (GPid pid)
{
  g_assert_true (confab_test_wait_for_process_death (pid, 5000));
}

static void
record_pid_cb (ConfabMcpServer *server,
               GParamSpec      *pspec,
               GPid            *pid)
{
  if (confab_mcp_server_get_pid (server) != 0)
    *pid = confab_mcp_server_get_pid (server);
}

/* Configuration */

static const char good_config[] =
  "{\n"
  "  \"globalShortcut\": \"Ctrl+Space\",\n"
  "  \"mcpServers\": {\n"
  "    \"files\": {\n"
  "      \"command\": \"npx\",\n"
  "      \"args\": [\"-y\", \"@modelcontextprotocol/server-filesystem\", \"/tmp\"],\n"
  "      \"env\": {\"B_VAR\": \"2\", \"A_VAR\": \"1\"},\n"
  "      \"alwaysAllow\": [\"read_file\"]\n"
  "    },\n"
  "    \"off\": {\"command\": \"uvx\", \"disabled\": true},\n"
  "    \"off-too\": {\"command\": \"x\", \"enabled\": false},\n"
  "    \"plain_1\": {\"command\": \"/usr/bin/true\"}\n"
  "  }\n"
  "}\n";

/* A server reached over HTTP is kept in the file but not started; the
 * stdio servers next to it still load. */
static void
test_config_remote_kept (Fixture       *fixture,
                         gconstpointer  user_data)
{
  static const char config_text[] =
    "{\"mcpServers\": {"
    "  \"web\": {\"url\": \"https://mcp.example.com/mcp\"},"
    "  \"local\": {\"command\": \"true\"}"
    "}}";
  g_autofree char *path = write_file (fixture, "mcp.json", config_text);
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) unsupported = NULL;
  g_autofree char *written = NULL;

  config = confab_mcp_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_mcp_config_get_servers (config)->len, ==, 1);
  g_assert_cmpstr (confab_mcp_server_config_get_name (g_ptr_array_index (confab_mcp_config_get_servers (config), 0)),
                   ==, "local");
  unsupported = confab_mcp_config_dup_unsupported (config);
  g_assert_cmpuint (g_strv_length (unsupported), ==, 1);
  g_assert_cmpstr (unsupported[0], ==, "web");

  /* Saving keeps it. */
  written = confab_mcp_config_to_data (config);
  g_assert_nonnull (strstr (written, "https://mcp.example.com/mcp"));
}

static void
test_config_parse (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *path = write_file (fixture, "mcp.json", good_config);
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(ConfabMcpConfig) again = NULL;
  g_autoptr(ConfabMcpServerConfig) added = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *written = NULL;
  const char * const files_args[] = { "-y", "@modelcontextprotocol/server-filesystem", "/tmp", NULL };
  ConfabMcpServerConfig *files;
  GPtrArray *servers;
  GStatBuf st;

  config = confab_mcp_config_load (path, &error);
  g_assert_no_error (error);
  servers = confab_mcp_config_get_servers (config);
  g_assert_cmpuint (servers->len, ==, 4);

  /* File order, not name order. */
  files = g_ptr_array_index (servers, 0);
  g_assert_cmpstr (confab_mcp_server_config_get_name (files), ==, "files");
  g_assert_cmpstr (confab_mcp_server_config_get_name (g_ptr_array_index (servers, 1)), ==, "off");
  g_assert_cmpstr (confab_mcp_server_config_get_name (g_ptr_array_index (servers, 2)), ==, "off-too");
  g_assert_cmpstr (confab_mcp_server_config_get_name (g_ptr_array_index (servers, 3)), ==, "plain_1");

  g_assert_cmpstr (confab_mcp_server_config_get_command (files), ==, "npx");
  g_assert_true (g_strv_equal (confab_mcp_server_config_get_args (files), files_args));
  g_assert_cmpstr (g_hash_table_lookup (confab_mcp_server_config_get_env (files), "A_VAR"), ==, "1");
  g_assert_cmpstr (g_hash_table_lookup (confab_mcp_server_config_get_env (files), "B_VAR"), ==, "2");
  g_assert_true (confab_mcp_server_config_get_enabled (files));
  g_assert_false (confab_mcp_server_config_get_enabled (g_ptr_array_index (servers, 1)));
  g_assert_false (confab_mcp_server_config_get_enabled (g_ptr_array_index (servers, 2)));
  g_assert_cmpstrv (confab_mcp_server_config_get_args (g_ptr_array_index (servers, 3)), ((const char *[]) { NULL }));

  /* Rewritten: what Confab changed changes, everything else stays. */
  confab_mcp_server_config_set_enabled (files, FALSE);
  confab_mcp_server_config_set_enabled (g_ptr_array_index (servers, 2), TRUE);
  confab_mcp_server_config_set_env (files, "C_VAR", "3");
  added = confab_mcp_server_config_new ("added", "/bin/mcp", NULL);
  confab_mcp_config_add_server (config, added);
  g_assert_true (confab_mcp_config_remove_server (config, "plain_1"));
  g_assert_false (confab_mcp_config_remove_server (config, "plain_1"));
  g_assert_true (confab_mcp_config_save (config, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_file_get_contents (path, &written, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", written);
  g_assert_nonnull (strstr (written, "\"globalShortcut\" : \"Ctrl+Space\""));
  g_assert_nonnull (strstr (written, "\"alwaysAllow\" : ["));
  /* Variables keep their order; a new one follows. */
  g_assert_true (strstr (written, "B_VAR") < strstr (written, "A_VAR"));
  g_assert_true (strstr (written, "A_VAR") < strstr (written, "C_VAR"));
  g_assert_null (strstr (written, "plain_1"));

  again = confab_mcp_config_load (path, &error);
  g_assert_no_error (error);
  servers = confab_mcp_config_get_servers (again);
  g_assert_cmpuint (servers->len, ==, 4);
  g_assert_cmpstr (confab_mcp_server_config_get_name (g_ptr_array_index (servers, 3)), ==, "added");
  g_assert_false (confab_mcp_server_config_get_enabled (confab_mcp_config_lookup (again, "files")));
  g_assert_true (confab_mcp_server_config_get_enabled (confab_mcp_config_lookup (again, "off-too")));
  g_assert_false (confab_mcp_server_config_get_enabled (confab_mcp_config_lookup (again, "off")));
  g_assert_cmpstr (g_hash_table_lookup (confab_mcp_server_config_get_env (confab_mcp_config_lookup (again, "files")),
                                        "C_VAR"), ==, "3");
  g_assert_true (confab_mcp_server_config_equal (confab_mcp_config_lookup (again, "files"), files));
  g_assert_false (confab_mcp_server_config_equal (confab_mcp_config_lookup (again, "files"), added));
}

static void
test_config_missing_and_empty (Fixture       *fixture,
                               gconstpointer  user_data)
{
  g_autofree char *missing = g_build_filename (fixture->dir, "nothing-here.json", NULL);
  g_autofree char *empty = write_file (fixture, "empty.json", "  \n");
  g_autofree char *default_path = NULL;
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  config = confab_mcp_config_load (missing, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_mcp_config_get_servers (config)->len, ==, 0);
  g_clear_object (&config);

  config = confab_mcp_config_load (empty, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_mcp_config_get_servers (config)->len, ==, 0);

  /* $XDG_CONFIG_HOME/confab/mcp.json, unless CONFAB_MCP_CONFIG says. */
  g_unsetenv ("CONFAB_MCP_CONFIG");
  default_path = confab_mcp_config_get_default_path ();
  g_assert_true (g_str_has_prefix (default_path, g_get_user_config_dir ()));
  g_assert_true (g_str_has_suffix (default_path, "/confab/mcp.json"));
  g_free (default_path);
  g_setenv ("CONFAB_MCP_CONFIG", missing, TRUE);
  default_path = confab_mcp_config_get_default_path ();
  g_assert_cmpstr (default_path, ==, missing);
  g_unsetenv ("CONFAB_MCP_CONFIG");
}

static void
test_config_errors (Fixture       *fixture,
                    gconstpointer  user_data)
{
  static const struct {
    const char *json;
    const char *expected[3];
  } cases[] = {
    { "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n",
      { "is not valid JSON: line 3, column ", NULL } },
    { "{\"mcpServers\": {\"github\": {\"args\": [\"serve\"]}}}",
      { "the MCP server “github” has no “command”", NULL } },
    { "{\"mcpServers\": {\"github\": {\"command\": 12}}}",
      { "the “command” of the MCP server “github” must be", NULL } },
    { "{\"mcpServers\": {\"s1\": {\"command\": \"x\", \"args\": \"--verbose\"}}}",
      { "the “args” of the MCP server “s1” must be a list of strings", NULL } },
    { "{\"mcpServers\": {\"s1\": {\"command\": \"x\", \"args\": [\"a\", 2]}}}",
      { "the “args” of the MCP server “s1”", NULL } },
    { "{\"mcpServers\": {\"s2\": {\"command\": \"x\", \"env\": {\"PORT\": 8080}}}}",
      { "the “env” of the MCP server “s2”", NULL } },
    { "{\"mcpServers\": {\"s3\": {\"command\": \"x\", \"disabled\": \"yes\"}}}",
      { "“disabled” of the MCP server “s3” must be true or false", NULL } },
    { "{\"mcpServers\": {\"my server\": {\"command\": \"x\"}}}",
      { "“my server” is not a valid MCP server name", "letters, digits", NULL } },
    { "{\"mcpServers\": {\"a.b\": {\"command\": \"x\"}}}",
      { "“a.b” is not a valid MCP server name", NULL } },
    { "{\"mcpServers\": {\"ok\": \"npx\"}}",
      { "the MCP server “ok” is not a JSON object", NULL } },
    { "{\"mcpServers\": [\"a\"]}",
      { "“mcpServers” must be a JSON object", NULL } },
    { "[1, 2]",
      { "must hold a JSON object", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_file (fixture, "bad.json", cases[i].json);
      g_autoptr(ConfabMcpConfig) config = NULL;
      g_autoptr(GError) error = NULL;

      config = confab_mcp_config_load (path, &error);
      g_assert_null (config);
      g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      /* Every message says which file. */
      g_assert_true (g_str_has_prefix (error->message, path));
      for (guint j = 0; cases[i].expected[j] != NULL; j++)
        if (strstr (error->message, cases[i].expected[j]) == NULL)
          g_error ("“%s” not in “%s”", cases[i].expected[j], error->message);
    }
}

static void
test_config_names (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *long_name = g_strnfill (CONFAB_MCP_SERVER_NAME_MAX + 1, 'a');

  g_assert_true (confab_mcp_server_name_validate ("GitHub_2-x", &error));
  g_assert_no_error (error);
  g_assert_false (confab_mcp_server_name_validate ("", &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (confab_mcp_server_name_validate ("é", &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (confab_mcp_server_name_validate (long_name, &error));
  g_assert_nonnull (strstr (error->message, "too long"));
}

static void
test_config_import (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autofree char *claude = write_file (fixture, "claude_desktop_config.json",
                                        "{\"mcpServers\": {"
                                        "  \"files\": {\"command\": \"npx\", \"args\": [\"server-filesystem\"]},"
                                        "  \"github\": {\"command\": \"docker\", \"args\": [\"run\", \"github\"],"
                                        "             \"env\": {\"TOKEN\": \"t\"}, \"x-claude\": 1}"
                                        "}, \"theme\": \"dark\"}");
  g_autofree char *path = write_file (fixture, "mcp.json",
                                      "{\"mcpServers\": {\"files\": {\"command\": \"/opt/files-mcp\"}}}");
  g_autofree char *missing = g_build_filename (fixture->dir, "no-claude.json", NULL);
  g_autofree char *written = NULL;
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(ConfabMcpConfig) again = NULL;
  g_autoptr(GPtrArray) imported = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GError) error = NULL;

  config = confab_mcp_config_load (path, &error);
  g_assert_no_error (error);

  /* An existing name is kept. */
  g_assert_true (confab_mcp_config_import (config, claude, FALSE, &imported, &skipped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imported->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (imported, 0), ==, "github");
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (skipped, 0), ==, "files");
  g_assert_cmpstr (confab_mcp_server_config_get_command (confab_mcp_config_lookup (config, "files")), ==,
                   "/opt/files-mcp");
  g_assert_true (confab_mcp_config_save (config, &error));
  g_assert_no_error (error);

  again = confab_mcp_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_mcp_config_get_servers (again)->len, ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (confab_mcp_server_config_get_env (confab_mcp_config_lookup (again, "github")),
                                        "TOKEN"), ==, "t");
  g_file_get_contents (path, &written, NULL, NULL);
  /* The server's own members come along; Claude's settings do not. */
  g_assert_nonnull (strstr (written, "x-claude"));
  g_assert_null (strstr (written, "theme"));
  g_clear_pointer (&imported, g_ptr_array_unref);
  g_clear_pointer (&skipped, g_ptr_array_unref);

  /* Asked to, it replaces. */
  g_assert_true (confab_mcp_config_import (again, claude, TRUE, &imported, &skipped, &error));
  g_assert_cmpuint (imported->len, ==, 2);
  g_assert_cmpuint (skipped->len, ==, 0);
  g_assert_cmpstr (confab_mcp_server_config_get_command (confab_mcp_config_lookup (again, "files")), ==, "npx");

  /* A missing file says so and changes nothing. */
  g_assert_false (confab_mcp_config_import (again, missing, FALSE, NULL, NULL, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no-claude.json"));
  g_assert_cmpuint (confab_mcp_config_get_servers (again)->len, ==, 2);
  g_clear_error (&error);

  /* By default, Claude Desktop's own file. */
  g_clear_pointer (&claude, g_free);
  claude = confab_mcp_config_get_claude_desktop_path ();
  g_assert_true (g_str_has_suffix (claude, "/Claude/claude_desktop_config.json"));
}

/* Servers */

static void
test_handshake (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--ping-client", NULL);
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *echo = NULL;
  Wait first = { 0 }, second = { 0 };
  JsonObject *initialize, *params, *answer;
  GPid pid;
  gboolean ping_answered = FALSE, unknown_refused = FALSE;

  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_STOPPED);

  /* Two starts at once share one process and one handshake. */
  confab_mcp_server_start_async (server, NULL, wait_cb, &first);
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_STARTING);
  pid = confab_mcp_server_get_pid (server);
  g_assert_cmpint (pid, >, 0);
  confab_mcp_server_start_async (server, NULL, wait_cb, &second);
  g_assert_true (confab_mcp_server_start_finish (server, wait_result (&first), &error));
  g_assert_no_error (error);
  g_assert_true (confab_mcp_server_start_finish (server, wait_result (&second), &error));
  g_assert_no_error (error);
  wait_clear (&first);
  wait_clear (&second);

  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_RUNNING);
  g_assert_cmpint (confab_mcp_server_get_pid (server), ==, pid);
  g_assert_cmpstr (confab_mcp_server_get_protocol_version (server), ==, "2025-11-25");
  g_assert_cmpuint (confab_mcp_server_get_tools (server)->len, ==, 7);
  g_assert_null (confab_mcp_server_get_error (server));

  /* The server asked for a ping and something unknown during the
   * handshake; a call made after has been read after their answers. */
  echo = call_text (server, "echo", "{\"text\": \"after\"}");
  g_assert_cmpstr (echo, ==, "after");

  log = read_log (fixture);
  g_assert_cmpuint (count_method (log, "initialize"), ==, 1);
  initialize = g_ptr_array_index (log, 0);
  g_assert_cmpstr (json_object_get_string_member (initialize, "method"), ==, "initialize");
  params = json_object_get_object_member (initialize, "params");
  g_assert_cmpstr (json_object_get_string_member (params, "protocolVersion"), ==, "2025-11-25");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (params, "capabilities")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (params, "clientInfo"), "name"),
                   ==, "Confab");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (params, "clientInfo"), "version"),
                   ==, PACKAGE_VERSION);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (log, 1), "method"), ==,
                   "notifications/initialized");
  g_assert_false (json_object_has_member (g_ptr_array_index (log, 1), "id"));

  for (guint i = 0; i < log->len; i++)
    {
      answer = g_ptr_array_index (log, i);
      if (g_strcmp0 (string_member (answer, "id"), "ping-1") == 0)
        ping_answered = json_object_has_member (answer, "result") &&
                        json_object_get_size (json_object_get_object_member (answer, "result")) == 0;
      if (g_strcmp0 (string_member (answer, "id"), "unknown-1") == 0)
        unknown_refused = json_object_get_int_member (json_object_get_object_member (answer, "error"), "code")
                          == -32601;
    }
  g_assert_true (ping_answered);
  g_assert_true (unknown_refused);

  stop_server (server);
  g_assert_true (confab_test_process_is_dead (pid));
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_version_fallback (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--protocol", "2025-03-26", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (confab_mcp_server_get_protocol_version (server), ==, "2025-03-26");

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_version_unsupported (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--protocol", "1999-01-01", NULL);
  g_autoptr(GError) error = NULL;
  GPid pid = 0;

  g_signal_connect (server, "notify::pid", G_CALLBACK (record_pid_cb), &pid);

  g_assert_false (start_server (server, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“mock”"));
  g_assert_nonnull (strstr (error->message, "1999-01-01"));
  g_assert_nonnull (strstr (error->message, "2025-11-25"));
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_FAILED);
  g_assert_cmpstr (confab_mcp_server_get_error (server)->message, ==, error->message);
  g_assert_cmpint (confab_mcp_server_get_pid (server), ==, 0);

  /* The server is stopped. */
  g_assert_cmpint (pid, >, 0);
  assert_process_gone (pid);

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_spawn_failure (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServerConfig) config = confab_mcp_server_config_new ("nothing", "/nonexistent/mcp-server", NULL);
  g_autoptr(ConfabMcpServer) server = confab_mcp_server_new (config);
  g_autoptr(GError) error = NULL;

  g_assert_false (start_server (server, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "The MCP server “nothing” could not be started"));
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_FAILED);
  g_clear_error (&error);

  /* Within the backoff, at once, saying when. */
  g_assert_false (start_server (server, &error));
  g_assert_nonnull (strstr (error->message, "could not be started"));
  g_assert_nonnull (strstr (error->message, "again in 1 second"));

  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_pagination (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const char * const names[] = { "echo", "sleep", "crash", "garbage", "fail", "pid", "add_tool" };
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--page-size", "2", NULL);
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *tools;
  JsonObject *params;

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);

  tools = confab_mcp_server_get_tools (server);
  g_assert_cmpuint (tools->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (tools, i), "name"), ==, names[i]);

  log = read_log (fixture);
  g_assert_cmpuint (count_method (log, "tools/list"), ==, 4);
  params = json_object_get_object_member (find_method (log, "tools/list", 0), "params");
  g_assert_false (json_object_has_member (params, "cursor"));
  params = json_object_get_object_member (find_method (log, "tools/list", 3), "params");
  g_assert_cmpstr (json_object_get_string_member (params, "cursor"), ==, "6");

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_concurrent_calls (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GError) error = NULL;
  Wait waits[3] = { { 0 } };
  gint64 start, elapsed;

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);

  /* Three one-second calls in flight at once take about a second, not
   * three. */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_autoptr(JsonNode) arguments = json_from_string ("{\"seconds\": 1}", NULL);

      confab_mcp_server_call_tool_async (server, "sleep", json_node_get_object (arguments), 0, NULL,
                                         wait_cb, &waits[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_autoptr(JsonObject) result = confab_mcp_server_call_tool_finish (server, wait_result (&waits[i]), &error);

      g_assert_no_error (error);
      g_assert_nonnull (result);
      wait_clear (&waits[i]);
    }
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("3 concurrent 1 s calls took %.3f s", elapsed / 1e6);
  g_assert_cmpint (elapsed, >=, 900 * 1000);
  g_assert_cmpint (elapsed, <, 2500 * 1000);

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_started_once (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GPtrArray) log = NULL;
  GPid first;

  /* The first call starts it; the next 19 reuse it. */
  first = call_pid (server);
  g_assert_cmpint (first, ==, confab_mcp_server_get_pid (server));
  for (guint i = 1; i < 20; i++)
    g_assert_cmpint (call_pid (server), ==, first);

  log = read_log (fixture);
  g_assert_cmpuint (count_method (log, "initialize"), ==, 1);
  g_assert_cmpuint (count_method (log, "tools/call"), ==, 20);

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_crash_and_restart (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autofree char *log = NULL;
  Wait sleeping = { 0 };
  g_autoptr(JsonNode) arguments = json_from_string ("{\"seconds\": 10}", NULL);
  GPid first, second;

  first = call_pid (server);

  /* A call in flight fails with the crash too. */
  confab_mcp_server_call_tool_async (server, "sleep", json_node_get_object (arguments), 0, NULL,
                                     wait_cb, &sleeping);
  result = call_tool (server, "crash", NULL, 0, &error);
  g_assert_null (result);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==,
                   "The MCP server “mock” stopped (exit status 3): mock-mcp-server: crashing as asked");
  g_clear_error (&error);
  g_assert_null (confab_mcp_server_call_tool_finish (server, wait_result (&sleeping), &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "exit status 3"));
  g_clear_error (&error);
  wait_clear (&sleeping);

  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_FAILED);
  g_assert_nonnull (strstr (confab_mcp_server_get_error (server)->message, "exit status 3"));
  log = confab_mcp_server_dup_log (server);
  g_assert_nonnull (strstr (log, "crashing as asked"));
  assert_process_gone (first);

  /* Within the backoff the next use fails at once, saying when. */
  result = call_tool (server, "pid", NULL, 0, &error);
  g_assert_null (result);
  g_assert_nonnull (strstr (error->message, "exit status 3"));
  g_assert_nonnull (strstr (error->message, "again in 1 second"));
  g_clear_error (&error);

  /* After it, the next use starts a new process. */
  run_for (1100);
  second = call_pid (server);
  g_assert_cmpint (second, !=, first);
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_RUNNING);
  g_assert_null (confab_mcp_server_get_error (server));

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_garbage (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(JsonNode) arguments = json_from_string ("{\"seconds\": 10}", NULL);
  g_autofree char *echo = NULL;
  Wait sleeping = { 0 };
  GPid first;

  first = call_pid (server);

  confab_mcp_server_call_tool_async (server, "sleep", json_node_get_object (arguments), 0, NULL,
                                     wait_cb, &sleeping);
  result = call_tool (server, "garbage", NULL, 0, &error);
  g_assert_null (result);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The MCP server “mock” sent something that is not JSON-RPC: this is not JSON");
  g_clear_error (&error);
  g_assert_null (confab_mcp_server_call_tool_finish (server, wait_result (&sleeping), &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_clear_error (&error);
  wait_clear (&sleeping);

  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_FAILED);
  /* It is stopped (its stdin closed, which ends the mock). */
  assert_process_gone (first);

  run_for (1100);
  echo = call_text (server, "echo", "{\"text\": \"back\"}");
  g_assert_cmpstr (echo, ==, "back");
  g_assert_cmpint (confab_mcp_server_get_pid (server), !=, first);

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
cancel_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = confab_mcp_server_call_tool_finish (CONFAB_MCP_SERVER (object), result, &error);

  g_assert_null (answer);
  g_assert_nonnull (error);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(ConfabMcpTool) tool = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) log = NULL;
  g_autoptr(JsonNode) arguments = json_from_string ("{\"seconds\": 10}", NULL);
  g_autoptr(ConfabToolResult) tool_result = NULL;
  g_autofree char *echo = NULL;
  JsonObject *call, *cancelled;
  gint64 start;
  Wait wait = { 0 };

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);
  tool = confab_mcp_tool_new (server, g_ptr_array_index (confab_mcp_server_get_tools (server), 1));
  g_assert_cmpstr (confab_tool_get_name (CONFAB_TOOL (tool)), ==, "mock__sleep");

  /* Through the tool, as the agent runs it. */
  confab_tool_run_async (CONFAB_TOOL (tool), NULL, arguments, cancellable, wait_cb, &wait);
  /* Once echo answered, the mock has read the sleep request. */
  echo = call_text (server, "echo", "{\"text\": \"x\"}");

  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  tool_result = confab_tool_run_finish (CONFAB_TOOL (tool), wait_result (&wait), &error);
  g_assert_null (tool_result);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_clear_error (&error);
  wait_clear (&wait);

  /* And through the server: a cancellable already cancelled. */
  confab_mcp_server_call_tool_async (server, "sleep", json_node_get_object (arguments), 0, cancellable,
                                     cancel_cb, NULL);

  /* notifications/cancelled went before the next request. */
  g_free (echo);
  echo = call_text (server, "echo", "{\"text\": \"y\"}");
  log = read_log (fixture);
  call = find_method (log, "tools/call", 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (call, "params"), "name"), ==, "sleep");
  cancelled = find_method (log, "notifications/cancelled", 0);
  g_assert_nonnull (cancelled);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (cancelled, "params"), "requestId"), ==,
                   json_object_get_int_member (call, "id"));
  g_assert_true (json_object_has_member (json_object_get_object_member (cancelled, "params"), "reason"));
  g_assert_cmpuint (count_method (log, "notifications/cancelled"), ==, 1);
  /* The server stays up. */
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_RUNNING);

  stop_server (server);
  g_clear_object (&tool);
  drain_main_context ();
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_timeout (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(GPtrArray) log = NULL;
  g_autofree char *echo = NULL;
  JsonObject *cancelled;

  result = call_tool (server, "sleep", "{\"seconds\": 10}", 1, &error);
  g_assert_null (result);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "The MCP server “mock” did not answer “tools/call” within 1 second");

  echo = call_text (server, "echo", "{\"text\": \"still here\"}");
  g_assert_cmpstr (echo, ==, "still here");
  log = read_log (fixture);
  cancelled = find_method (log, "notifications/cancelled", 0);
  g_assert_nonnull (cancelled);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (cancelled, "params"), "requestId"), ==,
                   json_object_get_int_member (find_method (log, "tools/call", 0), "id"));

  stop_server (server);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_tool_results (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tools = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autofree char *schema = NULL;
  g_autofree char *structured = NULL;
  ConfabToolResult *tool_result;
  Wait wait = { 0 };

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < confab_mcp_server_get_tools (server)->len; i++)
    g_ptr_array_add (tools, confab_mcp_tool_new (server, g_ptr_array_index (confab_mcp_server_get_tools (server), i)));

  /* echo: named after the server, described and typed by the server. */
  g_assert_cmpstr (confab_tool_get_name (g_ptr_array_index (tools, 0)), ==, "mock__echo");
  g_assert_cmpstr (confab_mcp_tool_get_mcp_name (g_ptr_array_index (tools, 0)), ==, "echo");
  g_assert_cmpstr (confab_tool_get_description (g_ptr_array_index (tools, 0)), ==,
                   "Echo the text back.\nA second line.");
  g_assert_true (confab_tool_get_needs_approval (g_ptr_array_index (tools, 0)));
  schema = json_to_string (confab_tool_get_parameters (g_ptr_array_index (tools, 0)), FALSE);
  g_assert_nonnull (strstr (schema, "\"required\":[\"text\"]"));
  g_free (schema);
  /* crash has no schema, fail an invalid one: both become any object. */
  schema = json_to_string (confab_tool_get_parameters (g_ptr_array_index (tools, 2)), FALSE);
  g_assert_cmpstr (schema, ==, "{\"type\":\"object\"}");
  g_free (schema);
  schema = json_to_string (confab_tool_get_parameters (g_ptr_array_index (tools, 4)), FALSE);
  g_assert_cmpstr (schema, ==, "{\"type\":\"object\"}");

  /* Text verbatim, an image summarized, the structured form kept. */
  arguments = json_from_string ("{\"text\": \"hello\", \"image\": true}", NULL);
  confab_tool_run_async (g_ptr_array_index (tools, 0), NULL, arguments, NULL, wait_cb, &wait);
  tool_result = confab_tool_run_finish (g_ptr_array_index (tools, 0), wait_result (&wait), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (confab_tool_result_get_text (tool_result), ==, "hello\n[image: image/png, 3 bytes]");
  g_assert_false (confab_tool_result_get_is_error (tool_result));
  structured = json_to_string (confab_tool_result_get_structured (tool_result), FALSE);
  g_assert_cmpstr (structured, ==, "{\"text\":\"hello\"}");
  g_object_unref (tool_result);
  wait_clear (&wait);

  /* isError is a result the model sees, not a failure of the call. */
  g_clear_pointer (&arguments, json_node_unref);
  arguments = json_from_string ("{}", NULL);
  confab_tool_run_async (g_ptr_array_index (tools, 4), NULL, arguments, NULL, wait_cb, &wait);
  tool_result = confab_tool_run_finish (g_ptr_array_index (tools, 4), wait_result (&wait), &error);
  g_assert_no_error (error);
  g_assert_true (confab_tool_result_get_is_error (tool_result));
  g_assert_cmpstr (confab_tool_result_get_text (tool_result), ==, "it failed as asked");
  g_object_unref (tool_result);
  wait_clear (&wait);

  /* A JSON-RPC error is a failure, with the server's words. */
  result = call_tool (server, "no-such-tool", "{}", 0, &error);
  g_assert_null (result);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL);
  g_assert_cmpstr (error->message, ==, "The MCP server “mock” returned an error: Unknown tool: no-such-tool");

  stop_server (server);
  g_clear_pointer (&tools, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_tool_result_conversion (void)
{
  g_autoptr(JsonNode) node = json_from_string (
    "{\"content\": ["
    "  {\"type\": \"text\", \"text\": \"one\"},"
    "  {\"type\": \"audio\", \"mimeType\": \"audio/wav\", \"data\": \"AAAAAA==\"},"
    "  {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///a.txt\", \"text\": \"inside\"}},"
    "  {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///b.bin\", \"mimeType\": \"application/zip\","
    "                                        \"blob\": \"AAAA\"}},"
    "  {\"type\": \"resource_link\", \"uri\": \"file:///c\", \"name\": \"c\"},"
    "  {\"type\": \"hologram\"}"
    "]}", NULL);
  g_autoptr(JsonNode) structured_only = json_from_string ("{\"structuredContent\": {\"n\": 1}, \"content\": []}", NULL);
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(ConfabToolResult) second = NULL;

  result = confab_mcp_tool_result_new_from_json (json_node_get_object (node));
  g_assert_cmpstr (confab_tool_result_get_text (result), ==,
                   "one\n"
                   "[audio: audio/wav, 4 bytes]\n"
                   "[resource: file:///a.txt]\ninside\n"
                   "[resource: file:///b.bin, application/zip, 3 bytes]\n"
                   "[resource link: file:///c (c)]\n"
                   "[hologram content]");
  g_assert_null (confab_tool_result_get_structured (result));

  second = confab_mcp_tool_result_new_from_json (json_node_get_object (structured_only));
  g_assert_cmpstr (confab_tool_result_get_text (second), ==, "{\"n\":1}");
  g_assert_nonnull (confab_tool_result_get_structured (second));
}

static void
test_tool_names (void)
{
  g_autofree char *simple = confab_mcp_tool_make_name ("github", "create_issue");
  g_autofree char *dotted = confab_mcp_tool_make_name ("fs", "read.file/v2");
  g_autofree char *long_tool = g_strnfill (80, 't');
  g_autofree char *long_name = confab_mcp_tool_make_name ("server", long_tool);
  g_autofree char *long_tool2 = g_strconcat (long_tool, "2", NULL);
  g_autofree char *long_name2 = confab_mcp_tool_make_name ("server", long_tool2);

  g_assert_cmpstr (simple, ==, "github__create_issue");
  g_assert_cmpstr (dotted, ==, "fs__read_file_v2");
  g_assert_cmpuint (strlen (long_name), ==, 64);
  g_assert_true (g_str_has_prefix (long_name, "server__ttt"));
  g_assert_cmpstr (long_name, !=, long_name2);
}

static void
test_shutdown (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--grandchild", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;
  const char *line;
  GPid pid, grandchild;

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);
  pid = confab_mcp_server_get_pid (server);

  /* The mock says its child's pid on stderr before it answers. */
  log = confab_mcp_server_dup_log (server);
  while ((line = strstr (log, "grandchild ")) == NULL || strchr (line, '\n') == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      g_free (log);
      log = confab_mcp_server_dup_log (server);
    }
  grandchild = (GPid)g_ascii_strtoll (line + strlen ("grandchild "), NULL, 10);
  g_assert_cmpint (grandchild, >, 0);
  g_assert_false (confab_test_process_is_dead (grandchild));

  /* Stopped: the server and what it started are gone. */
  stop_server (server);
  g_assert_cmpint (confab_mcp_server_get_pid (server), ==, 0);
  g_assert_true (confab_test_process_is_dead (pid));
  assert_process_gone (grandchild);

  g_assert_finalize_object (g_steal_pointer (&server));
}

static void
test_stop_escalation (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServer) server = mock_server (fixture, "--ignore-stdin-eof", "--ignore-sigterm", NULL);
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;
  GPid pid;

  g_assert_true (start_server (server, &error));
  g_assert_no_error (error);
  pid = confab_mcp_server_get_pid (server);

  /* Closing stdin does nothing, SIGTERM does nothing: SIGKILL after
   * 2 s + 2 s. */
  start = g_get_monotonic_time ();
  stop_server (server);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("stopping a server that ignores EOF and SIGTERM took %.3f s", elapsed / 1e6);
  g_assert_cmpint (elapsed, >=, 3900 * 1000);
  g_assert_cmpint (elapsed, <, 8 * G_USEC_PER_SEC);
  g_assert_true (confab_test_process_is_dead (pid));

  g_assert_finalize_object (g_steal_pointer (&server));
}

/* Manager */

static gboolean
toolbox_has (ConfabToolbox *toolbox,
             const char    *name)
{
  return confab_toolbox_lookup (toolbox, name) != NULL;
}

static void
test_manager (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServerConfig) mock = mock_config (fixture, "mock", NULL);
  g_autoptr(ConfabMcpServerConfig) off = mock_config (fixture, "off", NULL);
  g_autoptr(ConfabMcpServerConfig) broken = confab_mcp_server_config_new ("broken", "/nonexistent/mcp", NULL);
  g_autofree char *path = g_build_filename (fixture->dir, "mcp.json", NULL);
  g_autoptr(ConfabMcpConfig) config = confab_mcp_config_new (path);
  g_autoptr(ConfabMcpManager) manager = NULL;
  g_autoptr(ConfabToolbox) toolbox = confab_toolbox_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ConfabToolResult) tool_result = NULL;
  g_autoptr(JsonNode) arguments = json_from_string ("{\"name\": \"added\"}", NULL);
  ConfabMcpServer *server;
  ConfabTool *add_tool;
  Wait wait = { 0 };
  GPid pid;

  confab_mcp_server_config_set_enabled (off, FALSE);
  confab_mcp_config_add_server (config, mock);
  confab_mcp_config_add_server (config, off);
  confab_mcp_config_add_server (config, broken);
  g_assert_true (confab_mcp_config_save (config, &error));
  g_assert_no_error (error);

  manager = confab_mcp_manager_new (path);
  g_assert_true (confab_mcp_manager_reload (manager, &error));
  g_assert_no_error (error);
  /* Only the enabled ones, in file order. */
  g_assert_cmpuint (confab_mcp_manager_get_servers (manager)->len, ==, 2);
  g_assert_null (confab_mcp_manager_lookup (manager, "off"));
  server = confab_mcp_manager_lookup (manager, "mock");
  g_assert_nonnull (server);
  confab_mcp_manager_set_toolbox (manager, toolbox);

  /* One failing server does not stop the others. */
  confab_mcp_manager_start_all_async (manager, NULL, wait_cb, &wait);
  g_assert_true (confab_mcp_manager_start_all_finish (manager, wait_result (&wait), &error));
  g_assert_no_error (error);
  wait_clear (&wait);
  g_assert_cmpint (confab_mcp_server_get_status (server), ==, CONFAB_MCP_SERVER_RUNNING);
  g_assert_cmpint (confab_mcp_server_get_status (confab_mcp_manager_lookup (manager, "broken")), ==,
                   CONFAB_MCP_SERVER_FAILED);
  g_assert_nonnull (strstr (confab_mcp_server_get_error (confab_mcp_manager_lookup (manager, "broken"))->message,
                            "could not be started"));
  pid = confab_mcp_server_get_pid (server);

  g_assert_cmpuint (confab_toolbox_get_n_tools (toolbox), ==, 7);
  g_assert_true (toolbox_has (toolbox, "mock__echo"));
  g_assert_true (toolbox_has (toolbox, "mock__add_tool"));
  g_assert_cmpint (confab_toolbox_get_policy (toolbox, "mock__echo"), ==, CONFAB_TOOL_POLICY_ASK);

  /* notifications/tools/list_changed: the toolbox follows. */
  add_tool = confab_toolbox_lookup (toolbox, "mock__add_tool");
  confab_tool_run_async (add_tool, NULL, arguments, NULL, wait_cb, &wait);
  tool_result = confab_tool_run_finish (add_tool, wait_result (&wait), &error);
  g_assert_no_error (error);
  wait_clear (&wait);
  while (!toolbox_has (toolbox, "mock__added"))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (confab_toolbox_get_n_tools (toolbox), ==, 8);
  /* The same process: the server was not restarted for it. */
  g_assert_cmpint (confab_mcp_server_get_pid (server), ==, pid);

  /* A reload that keeps a server keeps it running; one that drops a
   * server stops it and takes its tools away. */
  g_assert_true (confab_mcp_manager_reload (manager, &error));
  g_assert_true (confab_mcp_manager_lookup (manager, "mock") == server);
  g_assert_true (confab_mcp_config_remove_server (config, "mock"));
  g_assert_true (confab_mcp_config_save (config, &error));
  g_assert_true (confab_mcp_manager_reload (manager, &error));
  g_assert_no_error (error);
  g_assert_null (confab_mcp_manager_lookup (manager, "mock"));
  g_assert_cmpuint (confab_toolbox_get_n_tools (toolbox), ==, 0);

  /* A broken file changes nothing. */
  g_assert_true (g_file_set_contents (path, "{", -1, NULL));
  g_assert_false (confab_mcp_manager_reload (manager, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (confab_mcp_manager_get_servers (manager)->len, ==, 1);

  confab_mcp_manager_shutdown_async (manager, NULL, wait_cb, &wait);
  g_assert_true (confab_mcp_manager_shutdown_finish (manager, wait_result (&wait), NULL));
  wait_clear (&wait);
  g_assert_true (confab_test_process_is_dead (pid));

  g_clear_object (&tool_result);
  drain_main_context ();
  g_assert_finalize_object (g_steal_pointer (&manager));
}

static void
test_manager_shutdown_sync (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(ConfabMcpServerConfig) mock = mock_config (fixture, "mock", NULL);
  g_autofree char *path = g_build_filename (fixture->dir, "mcp.json", NULL);
  g_autoptr(ConfabMcpConfig) config = confab_mcp_config_new (path);
  g_autoptr(ConfabMcpManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { 0 };
  GPid pid;

  confab_mcp_config_add_server (config, mock);
  g_assert_true (confab_mcp_config_save (config, &error));
  manager = confab_mcp_manager_new (path);
  g_assert_true (confab_mcp_manager_reload (manager, &error));
  confab_mcp_manager_start_all_async (manager, NULL, wait_cb, &wait);
  g_assert_true (confab_mcp_manager_start_all_finish (manager, wait_result (&wait), &error));
  wait_clear (&wait);
  pid = confab_mcp_server_get_pid (confab_mcp_manager_lookup (manager, "mock"));
  g_assert_cmpint (pid, >, 0);

  g_assert_true (confab_mcp_manager_shutdown_sync (manager, 5000));
  g_assert_true (confab_test_process_is_dead (pid));

  drain_main_context ();
  g_assert_finalize_object (g_steal_pointer (&manager));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config_home = NULL;

  /* Claude Desktop's default path and ours live under a config home of
   * the test's own. */
  config_home = g_dir_make_tmp ("test-mcp-config-XXXXXX", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_unsetenv ("CONFAB_MCP_CONFIG");

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/mcp/config/parse", test_config_parse);
  ADD ("/mcp/config/missing-and-empty", test_config_missing_and_empty);
  ADD ("/mcp/config/errors", test_config_errors);
  ADD ("/mcp/config/remote-kept", test_config_remote_kept);
  g_test_add_func ("/mcp/config/names", test_config_names);
  ADD ("/mcp/config/import", test_config_import);
  ADD ("/mcp/server/handshake", test_handshake);
  ADD ("/mcp/server/version-fallback", test_version_fallback);
  ADD ("/mcp/server/version-unsupported", test_version_unsupported);
  ADD ("/mcp/server/spawn-failure", test_spawn_failure);
  ADD ("/mcp/server/pagination", test_pagination);
  ADD ("/mcp/server/concurrent-calls", test_concurrent_calls);
  ADD ("/mcp/server/started-once", test_started_once);
  ADD ("/mcp/server/crash-and-restart", test_crash_and_restart);
  ADD ("/mcp/server/garbage", test_garbage);
  ADD ("/mcp/server/cancel", test_cancel);
  ADD ("/mcp/server/timeout", test_timeout);
  ADD ("/mcp/server/shutdown", test_shutdown);
  ADD ("/mcp/server/stop-escalation", test_stop_escalation);
  ADD ("/mcp/tool/results", test_tool_results);
  g_test_add_func ("/mcp/tool/result-conversion", test_tool_result_conversion);
  g_test_add_func ("/mcp/tool/names", test_tool_names);
  ADD ("/mcp/manager/toolbox", test_manager);
  ADD ("/mcp/manager/shutdown-sync", test_manager_shutdown_sync);
#undef ADD

  return g_test_run ();
}
