/* test-cli-mcp.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "confab-cli-runner.h"
#include "confab-test-server.h"

/* Runs the real confab-cli (from $CONFAB_CLI) with "mcp list", "mcp call"
 * and "mcp import" against tests/mcp/mock-mcp-server.py. Every test has
 * its own XDG_CONFIG_HOME, so the default paths (ours and Claude
 * Desktop's) point into it. */

#define WATCHDOG_SECONDS 30

typedef struct
{
  char                *dir;
  char                *config_home;
  char                *config_path;
  GSubprocessLauncher *launcher;
  guint                watchdog_id;
} Fixture;

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("Test took longer than %d seconds", WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("test-cli-mcp-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->config_home = g_build_filename (fixture->dir, "config", NULL);
  fixture->config_path = g_build_filename (fixture->config_home, "confab", "mcp.json", NULL);

  fixture->launcher = confab_cli_launcher_new ();
  g_subprocess_launcher_setenv (fixture->launcher, "XDG_CONFIG_HOME", fixture->config_home, TRUE);
  g_subprocess_launcher_unsetenv (fixture->launcher, "CONFAB_MCP_CONFIG");

  fixture->watchdog_id = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  rm_rf (fixture->dir);
  g_clear_object (&fixture->launcher);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->config_home, g_free);
  g_clear_pointer (&fixture->config_path, g_free);
  g_clear_handle_id (&fixture->watchdog_id, g_source_remove);
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* A configuration with the mock as "mock", then @more servers (JSON
 * members, or ""). */
static char *
mock_config (const char *more)
{
  g_autofree char *python = g_strescape (g_getenv ("CONFAB_TEST_PYTHON"), NULL);
  g_autofree char *mock = g_strescape (g_getenv ("CONFAB_TEST_MCP_SERVER"), NULL);

  return g_strdup_printf ("{\"mcpServers\": {\"mock\": {\"command\": \"%s\", \"args\": [\"%s\"]}%s}}",
                          python, mock, more);
}

static void
test_list (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autofree char *json = mock_config (", \"broken\": {\"command\": \"/nonexistent/mcp\"},"
                                       "  \"off\": {\"command\": \"/nonexistent/mcp\", \"disabled\": true}");
  g_autofree char *path = g_build_filename (fixture->dir, "elsewhere.json", NULL);
  g_autoptr(ConfabCliResult) result = NULL;

  write_file (path, json);
  /* Every server is listed, in file order; the one that failed says why
   * on stderr, and the status is 1. */
  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "list", "--mcp-config", path, NULL });
  g_assert_true (result->exited);
  g_assert_cmpint (result->exit_status, ==, 1);
  g_assert_cmpstr (result->out, ==,
                   "mock\trunning\t2025-11-25\n"
                   "  echo\tEcho the text back.\n"
                   "  sleep\tWait for a number of seconds.\n"
                   "  crash\tExit with status 3.\n"
                   "  garbage\tWrite a line that is not JSON.\n"
                   "  fail\tReturn a result with isError.\n"
                   "  pid\tReturn the server's process id.\n"
                   "  add_tool\tAdd a tool and say the list changed.\n"
                   "broken\tfailed\n"
                   "off\tdisabled\n");
  confab_cli_assert_one_error_line (result->err);
  g_assert_nonnull (strstr (result->err, "The MCP server “broken” could not be started"));
}

static void
test_list_default_path (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *json = mock_config ("");
  g_autoptr(ConfabCliResult) result = NULL;

  /* Nothing configured yet: said, not an error. */
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "list", NULL });
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_nonnull (strstr (result->err, "No MCP server is configured"));
  g_clear_pointer (&result, confab_cli_result_free);

  write_file (fixture->config_path, json);
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "list", NULL });
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_true (g_str_has_prefix (result->out, "mock\trunning\t"));
  g_assert_cmpstr (result->err, ==, "");
}

static void
test_call (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autofree char *json = mock_config ("");
  g_autoptr(ConfabCliResult) result = NULL;

  write_file (fixture->config_path, json);

  g_subprocess_launcher_setenv (fixture->launcher, "CONFAB_MCP_CONFIG", fixture->config_path, TRUE);

  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "call", "mock", "echo", "{\"text\": \"héllo\"}", NULL });
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_cmpstr (result->out, ==, "héllo\n");
  g_assert_cmpstr (result->err, ==, "");
  g_clear_pointer (&result, confab_cli_result_free);

  /* isError: the tool's words on stderr, status 1. */
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "call", "mock", "fail", NULL });
  g_assert_cmpint (result->exit_status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_cmpstr (result->err, ==, "it failed as asked\n");
  g_clear_pointer (&result, confab_cli_result_free);

  /* A crash: one line that says so. */
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "call", "mock", "crash", NULL });
  g_assert_cmpint (result->exit_status, ==, 1);
  g_assert_cmpstr (result->err, ==,
                   "confab-cli: The MCP server “mock” stopped (exit status 3): mock-mcp-server: crashing as asked\n");
  g_clear_pointer (&result, confab_cli_result_free);

  /* A tool the server does not have: its tools are named. */
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "call", "mock", "nope", NULL });
  g_assert_cmpint (result->exit_status, ==, 1);
  confab_cli_assert_one_error_line (result->err);
  g_assert_nonnull (strstr (result->err, "has no tool “nope”; its tools are: echo, sleep"));
}

static void
test_call_usage (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *json = mock_config ("");
  g_autoptr(ConfabCliResult) result = NULL;

  write_file (fixture->config_path, json);

  /* Bad JSON never reaches the server. */
  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "call", "mock", "echo", "{\"text\":", NULL });
  g_assert_cmpint (result->exit_status, ==, 2);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "confab-cli: the arguments are not valid JSON: line 1, column 8: "));
  g_clear_pointer (&result, confab_cli_result_free);

  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "call", "mock", "echo", "[1, 2]", NULL });
  g_assert_cmpint (result->exit_status, ==, 2);
  g_assert_true (g_str_has_prefix (result->err, "confab-cli: the arguments must be a JSON object"));
  g_clear_pointer (&result, confab_cli_result_free);

  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "call", "nobody", "echo", NULL });
  g_assert_cmpint (result->exit_status, ==, 2);
  g_assert_true (g_str_has_prefix (result->err, "confab-cli: there is no MCP server “nobody”"));
  g_clear_pointer (&result, confab_cli_result_free);

  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "call", "mock", NULL });
  g_assert_cmpint (result->exit_status, ==, 2);
  g_clear_pointer (&result, confab_cli_result_free);

  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "frobnicate", NULL });
  g_assert_cmpint (result->exit_status, ==, 2);
  g_assert_true (g_str_has_prefix (result->err, "confab-cli: unknown command “mcp frobnicate”"));
}

static void
test_import (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autofree char *claude_path = g_build_filename (fixture->config_home, "Claude", "claude_desktop_config.json", NULL);
  g_autofree char *other = g_build_filename (fixture->dir, "missing.json", NULL);
  g_autofree char *written = NULL;
  g_autoptr(ConfabCliResult) result = NULL;
  GStatBuf st;

  write_file (claude_path,
              "{\"mcpServers\": {"
              "  \"files\": {\"command\": \"npx\", \"args\": [\"server-filesystem\", \"/tmp\"]},"
              "  \"github\": {\"command\": \"docker\"}}}");
  write_file (fixture->config_path, "{\"mcpServers\": {\"github\": {\"command\": \"/opt/github-mcp\"}}}");

  /* Claude Desktop's file by default; an existing name is kept. */
  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "import", NULL });
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_cmpstr (result->out, ==, "imported\tfiles\n");
  confab_cli_assert_one_error_line (result->err);
  g_assert_nonnull (strstr (result->err, "kept the server “github”"));
  g_clear_pointer (&result, confab_cli_result_free);

  g_file_get_contents (fixture->config_path, &written, NULL, NULL);
  g_assert_nonnull (strstr (written, "/opt/github-mcp"));
  g_assert_nonnull (strstr (written, "server-filesystem"));
  g_assert_cmpint (g_stat (fixture->config_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "mcp", "import", "--replace", claude_path, NULL });
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_cmpstr (result->out, ==, "imported\tfiles\nimported\tgithub\n");
  g_assert_cmpstr (result->err, ==, "");
  g_clear_pointer (&result, confab_cli_result_free);

  result = confab_cli_run (fixture->launcher, NULL, (const char * const[]) { "mcp", "import", other, NULL });
  g_assert_cmpint (result->exit_status, ==, 1);
  confab_cli_assert_one_error_line (result->err);
  g_assert_nonnull (strstr (result->err, "missing.json"));
}

/* A turn in which the model calls an MCP tool: --tools all starts the
 * configured servers, and the tool's result goes back to the model. */
static void
test_agent_uses_mcp_tool (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autofree char *json = mock_config ("");
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autofree char *url = confab_test_server_dup_base_url (server, "openai");
  const char *names[] = { "mock__echo", NULL };
  const char *arguments[] = { "{\"text\":\"through the MCP server\"}", NULL };
  const char *keys[] = { "call_0", NULL };
  const char *contains[] = { "through the MCP server", NULL };
  g_autoptr(GBytes) calls = confab_test_generate_tool_call_stream ("openai", NULL, names, arguments);
  g_autoptr(GBytes) answer = confab_test_generate_text_reply ("openai", "It echoed.");
  g_autoptr(ConfabCliResult) result = NULL;
  ConfabTestResponse *resp;

  write_file (fixture->config_path, json);
  confab_test_response_set_body (confab_test_server_add_response (server, "/v1/chat/completions", 200), calls);
  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, answer);
  confab_test_response_expect_tool_results (resp, "openai", keys, contains);

  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "--base-url", url, "--model", "m", "--tools", "all", "--yes",
                                                    "Echo it", NULL });
  g_assert_true (result->exited);
  g_assert_cmpstr (result->out, ==, "It echoed.");
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_nonnull (strstr (result->err, "mock__echo"));
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 2);
}

/* An MCP configuration that cannot be read fails the run (status 1, one
 * line naming the file), before anything is sent. */
static void
test_agent_bad_config (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autofree char *url = confab_test_server_dup_base_url (server, "openai");
  g_autoptr(ConfabCliResult) result = NULL;

  write_file (fixture->config_path, "{\"mcpServers\": {\"broken\": ");
  result = confab_cli_run (fixture->launcher, NULL,
                           (const char * const[]) { "--base-url", url, "--model", "m", "--tools", "all", "hi", NULL });
  g_assert_cmpint (result->exit_status, ==, 1);
  confab_cli_assert_one_error_line (result->err);
  g_assert_nonnull (strstr (result->err, "mcp.json"));
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("CONFAB_CLI") == NULL || g_getenv ("CONFAB_TEST_PYTHON") == NULL ||
      g_getenv ("CONFAB_TEST_MCP_SERVER") == NULL)
    {
      g_printerr ("CONFAB_CLI, CONFAB_TEST_PYTHON and CONFAB_TEST_MCP_SERVER must be set\n");
      return 1;
    }

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/cli/mcp/list", test_list);
  ADD ("/cli/mcp/list-default-path", test_list_default_path);
  ADD ("/cli/mcp/call", test_call);
  ADD ("/cli/mcp/call-usage", test_call_usage);
  ADD ("/cli/mcp/import", test_import);
  ADD ("/cli/mcp/agent-uses-mcp-tool", test_agent_uses_mcp_tool);
  ADD ("/cli/mcp/agent-bad-config", test_agent_bad_config);
#undef ADD

  return g_test_run ();
}
