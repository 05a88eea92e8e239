/* test-tools.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The built-in tools, run through ConfabTool as the agent runs them:
 * real shell commands (their process groups killed on timeout and
 * cancellation), real files in temporary folders (confinement, caps,
 * binary files), fetches from a ConfabTestServer on 127.0.0.1 and the
 * private-address checks. No test sleeps: each iterates the main context
 * until what it waits for has happened, with a bound.
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <glib-unix.h>

#include "confab-engine.h"
#include "confab-builtin-tools-private.h"
#include "confab-fetch-url-tool-private.h"
#include "confab-test-server.h"

#define WAIT_BOUND_MS 5000

#define assert_contains(haystack, needle)                                 \
  G_STMT_START {                                                          \
    const char *h_ = (haystack);                                          \
    const char *n_ = (needle);                                            \
    if (h_ == NULL || strstr (h_, n_) == NULL)                            \
      {                                                                   \
        g_autofree char *msg_ = g_strdup_printf ("“%s” does not contain “%s”", \
                                                 h_, n_);                 \
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, \
                             msg_);                                       \
      }                                                                   \
  } G_STMT_END

#define assert_not_contains(haystack, needle)                             \
  G_STMT_START {                                                          \
    const char *h_ = (haystack);                                          \
    const char *n_ = (needle);                                            \
    if (h_ != NULL && strstr (h_, n_) != NULL)                            \
      {                                                                   \
        g_autofree char *msg_ = g_strdup_printf ("“%s” contains “%s”",    \
                                                 h_, n_);                 \
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, \
                             msg_);                                       \
      }                                                                   \
  } G_STMT_END

/* Running tools */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
run_tool_start (ConfabTool         *tool,
                ConfabToolContext  *context,
                const char         *arguments_json,
                GCancellable       *cancellable,
                GAsyncResult      **out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) arguments = json_from_string (arguments_json, &error);

  g_assert_no_error (error);
  *out = NULL;
  confab_tool_run_async (tool, context, arguments, cancellable, store_result_cb, out);
}

static ConfabToolResult *
run_tool_finish (ConfabTool    *tool,
                 GAsyncResult **async_result,
                 GError       **error)
{
  ConfabToolResult *result;

  /* The tool's own timeout bounds this wait. */
  while (*async_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  result = confab_tool_run_finish (tool, *async_result, error);
  g_clear_object (async_result);
  return result;
}

static ConfabToolResult *
run_tool (ConfabTool         *tool,
          ConfabToolContext  *context,
          const char         *arguments_json,
          GError            **error)
{
  GAsyncResult *async_result = NULL;

  run_tool_start (tool, context, arguments_json, NULL, &async_result);
  return run_tool_finish (tool, &async_result, error);
}

static ConfabToolResult *
run_tool_ok (ConfabTool        *tool,
             ConfabToolContext *context,
             const char        *arguments_json)
{
  g_autoptr(GError) error = NULL;
  ConfabToolResult *result = run_tool (tool, context, arguments_json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

/* Runs @tool and expects it to fail with @code; returns the message. */
static char *
run_tool_error (ConfabTool        *tool,
                ConfabToolContext *context,
                const char        *arguments_json,
                int                code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ConfabToolResult) result = run_tool (tool, context, arguments_json, &error);

  if (result != NULL)
    g_error ("Expected an error, got the result “%s”", confab_tool_result_get_text (result));
  g_assert_error (error, CONFAB_ERROR, code);
  return g_strdup (error->message);
}

static JsonObject *
structured_object (ConfabToolResult *result)
{
  JsonNode *node = confab_tool_result_get_structured (result);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

/* Waiting on the main loop */

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_CONTINUE;
}

/* Checks @done every 10 ms from the main loop, for at most
 * WAIT_BOUND_MS; returns whether it became true. */
static gboolean
wait_for (gboolean (*done) (gpointer data),
          gpointer  data)
{
  gboolean expired = FALSE;
  gboolean tick = FALSE;
  guint bound = g_timeout_add (WAIT_BOUND_MS, flag_cb, &expired);
  guint ticker = g_timeout_add (10, tick_cb, &tick);
  gboolean ok;

  while (!(ok = done (data)) && !expired)
    {
      tick = FALSE;
      while (!tick && !expired)
        g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (ticker);
  if (!expired)
    g_source_remove (bound);
  return ok;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* Drops the last reference to @tool and waits until a call still winding
 * down (a killed command being reaped) has let go of it too. */
static void
release_tool (ConfabTool *tool)
{
  gpointer weak = tool;

  g_object_add_weak_pointer (G_OBJECT (tool), &weak);
  g_object_unref (tool);
  g_assert_true (wait_for (pointer_cleared, &weak));
}

static gboolean
process_is_dead (gpointer data)
{
  return confab_test_process_is_dead (GPOINTER_TO_INT (data));
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static pid_t
read_pid_file (const char *dir,
               const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gint64 pid;

  g_assert_true (wait_for (file_exists, path));
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  pid = g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (pid, >, 1);
  return (pid_t) pid;
}

/* Folders */

static void
remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_clear_pointer (&dir, g_dir_close);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("confab-tools-XXXXXX", &error);

  g_assert_no_error (error);
  /* Real paths, as the tools report them ($TMPDIR may be a link). */
  return realpath (dir, NULL);
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents,
            gssize      len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (parent, 0700);
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
}

static void
make_symlink (const char *target,
              const char *dir,
              const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

typedef struct
{
  char              *dir;      /* granted */
  char              *outside;  /* not granted */
  ConfabToolContext *context;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  fixture->dir = make_temp_dir ();
  fixture->outside = make_temp_dir ();
  fixture->context = confab_tool_context_new ();
  confab_tool_context_add_allowed_dir (fixture->context, fixture->dir, &error);
  g_assert_no_error (error);

  write_file (fixture->dir, "hello.txt", "line one\nline two\nline three\n", -1);
  write_file (fixture->dir, "sub/nested.c", "int\nmain (void)\n{\n  return NEEDLE;\n}\n", -1);
  write_file (fixture->dir, "binary.bin", "NEEDLE\0\1\2\3\4", 12);
  write_file (fixture->dir, ".git/config", "NEEDLE in git\n", -1);
  write_file (fixture->outside, "secret.txt", "NEEDLE outside\n", -1);

  secret = g_build_filename (fixture->outside, "secret.txt", NULL);
  make_symlink (fixture->outside, fixture->dir, "escape");
  make_symlink (secret, fixture->dir, "secret-link");
  make_symlink ("loop", fixture->dir, "loop");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  remove_tree (fixture->dir);
  remove_tree (fixture->outside);
  g_free (fixture->dir);
  g_free (fixture->outside);
  g_assert_finalize_object (fixture->context);
}

/* run_command */

static void
test_command_output_and_status (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  JsonObject *structured;

  result = run_tool_ok (tool, fixture->context,
                        "{\"command\": \"echo out; echo err >&2; echo more; exit 3\"}");
  /* A failing command is a result, with its status: the model decides. */
  g_assert_false (confab_tool_result_get_is_error (result));
  g_assert_cmpstr (confab_tool_result_get_text (result), ==, "out\nerr\nmore\n[exit status 3]");

  structured = structured_object (result);
  g_assert_cmpint (json_object_get_int_member (structured, "exit_status"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (structured, "output"), ==, "out\nerr\nmore\n");
  g_assert_false (json_object_get_boolean_member (structured, "truncated"));
}

static void
test_command_signal (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  JsonObject *structured;

  result = run_tool_ok (tool, fixture->context, "{\"command\": \"echo bye; kill -TERM $$\"}");
  assert_contains (confab_tool_result_get_text (result), "bye\n[killed by signal 15");
  structured = structured_object (result);
  g_assert_true (json_object_get_null_member (structured, "exit_status"));
  g_assert_cmpint (json_object_get_int_member (structured, "signal"), ==, SIGTERM);
}

static void
test_command_working_directory (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *expected = g_strconcat (fixture->dir, "\n", NULL);

  result = run_tool_ok (tool, fixture->context, "{\"command\": \"pwd -P\"}");
  g_assert_cmpstr (json_object_get_string_member (structured_object (result), "output"), ==, expected);
}

static void
test_command_stdin_closed (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(GError) error = NULL;
  int fds[2];
  int saved_stdin;

  /* Our stdin becomes a pipe that never ends: a command that inherited
   * it would wait on it until the timeout. */
  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  saved_stdin = dup (STDIN_FILENO);
  g_assert_cmpint (dup2 (fds[0], STDIN_FILENO), ==, STDIN_FILENO);

  confab_tool_set_timeout (tool, 10);
  result = run_tool (tool, fixture->context, "{\"command\": \"cat; echo done\"}", &error);

  dup2 (saved_stdin, STDIN_FILENO);
  close (saved_stdin);
  close (fds[0]);
  close (fds[1]);

  g_assert_no_error (error);
  g_assert_cmpstr (confab_tool_result_get_text (result), ==, "done\n[exit status 0]");
}

static void
test_command_output_cap (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  JsonObject *structured;
  const char *output;

  g_assert_cmpuint (confab_run_command_tool_get_max_output (CONFAB_RUN_COMMAND_TOOL (tool)), ==, 64 * 1024);

  /* 1 MB, far more than a pipe holds: the command only finishes (and says
   * so) if the output is read on past the cap. */
  result = run_tool_ok (tool, fixture->context,
                        "{\"command\": \"head -c 1000000 /dev/zero | tr '\\\\0' a; echo; echo finished >&2\"}");
  structured = structured_object (result);
  output = json_object_get_string_member (structured, "output");
  g_assert_cmpuint (strlen (output), ==, 64 * 1024);
  g_assert_true (json_object_get_boolean_member (structured, "truncated"));
  g_assert_cmpint (json_object_get_int_member (structured, "exit_status"), ==, 0);
  /* 1000000 + "\n" + "finished\n" - 65536 */
  assert_contains (confab_tool_result_get_text (result),
                   "a\n[output cut: 934474 more bytes not shown]\n[exit status 0]");
}

static void
test_command_invalid_utf8 (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;

  confab_run_command_tool_set_max_output (CONFAB_RUN_COMMAND_TOOL (tool), 8);
  /* An invalid byte, and "é" cut in half by the cap. */
  result = run_tool_ok (tool, fixture->context, "{\"command\": \"printf 'a\\\\377b\\\\n1234\\\\303\\\\251'\"}");
  g_assert_cmpstr (json_object_get_string_member (structured_object (result), "output"), ==,
                   "a\xEF\xBF\xBD" "b\n1234");
  g_assert_true (g_utf8_validate (confab_tool_result_get_text (result), -1, NULL));
}

/* `sh -c 'sleep 100 & echo $! > FILE; wait'`: the grandchild's pid */
#define GRANDCHILD_COMMAND "sleep 100 & echo $! > grandchild.pid; wait"

static void
test_command_timeout_kills_group (Fixture       *fixture,
                                  gconstpointer  data)
{
  ConfabTool *tool = confab_run_command_tool_new ();
  g_autofree char *message = NULL;
  gint64 start = g_get_monotonic_time ();
  pid_t grandchild;

  confab_tool_set_timeout (tool, 1);
  message = run_tool_error (tool, fixture->context, "{\"command\": \"" GRANDCHILD_COMMAND "\"}",
                            CONFAB_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  assert_contains (message, "run_command");

  grandchild = read_pid_file (fixture->dir, "grandchild.pid");
  g_assert_true (wait_for (process_is_dead, GINT_TO_POINTER (grandchild)));
  release_tool (tool);
}

static void
test_command_argument_timeout (Fixture       *fixture,
                               gconstpointer  data)
{
  ConfabTool *tool = confab_run_command_tool_new ();
  g_autofree char *message = NULL;
  pid_t grandchild;

  g_assert_cmpuint (confab_tool_get_timeout (tool), ==, 60);
  message = run_tool_error (tool, fixture->context,
                            "{\"command\": \"" GRANDCHILD_COMMAND "\", \"timeout\": 1}",
                            CONFAB_ERROR_TIMEOUT);
  assert_contains (message, "within 1 second");

  grandchild = read_pid_file (fixture->dir, "grandchild.pid");
  g_assert_true (wait_for (process_is_dead, GINT_TO_POINTER (grandchild)));
  release_tool (tool);
}

static void
test_command_cancel_kills_group (Fixture       *fixture,
                                 gconstpointer  data)
{
  ConfabTool *tool = confab_run_command_tool_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *async_result = NULL;
  pid_t grandchild;

  run_tool_start (tool, fixture->context, "{\"command\": \"" GRANDCHILD_COMMAND "\"}", cancellable,
                  &async_result);
  grandchild = read_pid_file (fixture->dir, "grandchild.pid");
  g_assert_false (process_is_dead (GINT_TO_POINTER (grandchild)));

  g_cancellable_cancel (cancellable);
  result = run_tool_finish (tool, &async_result, &error);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED);
  g_assert_null (result);

  g_assert_true (wait_for (process_is_dead, GINT_TO_POINTER (grandchild)));
  release_tool (tool);
}

static void
test_command_background_output (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  pid_t background;

  /* The shell exits at once, but its background child keeps the output
   * open: the result comes after a short grace period, not after 100 s. */
  result = run_tool_ok (tool, fixture->context,
                        "{\"command\": \"sleep 100 & echo $! > background.pid; echo started\"}");
  assert_contains (confab_tool_result_get_text (result), "started\n");
  assert_contains (confab_tool_result_get_text (result), "left running");
  assert_contains (confab_tool_result_get_text (result), "[exit status 0]");

  background = read_pid_file (fixture->dir, "background.pid");
  g_assert_false (process_is_dead (GINT_TO_POINTER (background)));
  kill (background, SIGKILL);
  g_assert_true (wait_for (process_is_dead, GINT_TO_POINTER (background)));
}

static void
test_command_bad_arguments (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_run_command_tool_new ();
  g_autofree char *missing = run_tool_error (tool, fixture->context, "{}", CONFAB_ERROR_INVALID_ARGUMENT);
  g_autofree char *empty = run_tool_error (tool, fixture->context, "{\"command\": \"\"}",
                                           CONFAB_ERROR_INVALID_ARGUMENT);

  assert_contains (missing, "command");
  assert_contains (empty, "empty");
}

/* read_file */

static void
test_read_file (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(ConfabToolResult) absolute_result = NULL;
  g_autofree char *absolute = g_build_filename (fixture->dir, "hello.txt", NULL);
  g_autofree char *arguments = g_strdup_printf ("{\"path\": \"%s\"}", absolute);
  JsonObject *structured;

  g_assert_false (confab_tool_get_needs_approval (tool));

  result = run_tool_ok (tool, fixture->context, "{\"path\": \"hello.txt\"}");
  g_assert_cmpstr (confab_tool_result_get_text (result), ==, "line one\nline two\nline three\n");
  structured = structured_object (result);
  g_assert_cmpstr (json_object_get_string_member (structured, "path"), ==, "hello.txt");
  g_assert_cmpint (json_object_get_int_member (structured, "last_line"), ==, 3);

  absolute_result = run_tool_ok (tool, fixture->context, arguments);
  g_assert_cmpstr (confab_tool_result_get_text (absolute_result), ==, "line one\nline two\nline three\n");
}

static void
test_read_file_lines (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autoptr(ConfabToolResult) middle = NULL;
  g_autoptr(ConfabToolResult) tail = NULL;
  g_autoptr(ConfabToolResult) past = NULL;

  middle = run_tool_ok (tool, fixture->context, "{\"path\": \"hello.txt\", \"offset\": 2, \"limit\": 1}");
  g_assert_cmpstr (confab_tool_result_get_text (middle), ==,
                   "line two\n[lines 2–2 are shown; the file goes on: read on with offset 3]");

  tail = run_tool_ok (tool, fixture->context, "{\"path\": \"./sub/../hello.txt\", \"offset\": 3}");
  g_assert_cmpstr (confab_tool_result_get_text (tail), ==, "line three\n");

  past = run_tool_ok (tool, fixture->context, "{\"path\": \"hello.txt\", \"offset\": 10}");
  g_assert_cmpstr (confab_tool_result_get_text (past), ==, "[the file has only 3 lines]");
}

static void
test_read_file_dotdot (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *outside_name = g_path_get_basename (fixture->outside);
  g_autofree char *arguments = g_strdup_printf ("{\"path\": \"../%s/secret.txt\"}", outside_name);
  g_autofree char *message = run_tool_error (tool, fixture->context, arguments, CONFAB_ERROR_DENIED);
  g_autofree char *missing = run_tool_error (tool, fixture->context, "{\"path\": \"../no-such-file\"}",
                                             CONFAB_ERROR_DENIED);

  assert_contains (message, "is outside the folders the user granted");
  assert_contains (message, fixture->dir);
  assert_not_contains (message, "NEEDLE");
  /* Outside, whether it exists or not tells nothing. */
  assert_contains (missing, "is outside the folders the user granted");
}

static void
test_read_file_absolute_outside (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *message = run_tool_error (tool, fixture->context, "{\"path\": \"/etc/passwd\"}",
                                             CONFAB_ERROR_DENIED);

  assert_contains (message, "“/etc/passwd” is outside the folders the user granted");
}

static void
test_read_file_symlink_outside (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *file_link = run_tool_error (tool, fixture->context, "{\"path\": \"secret-link\"}",
                                               CONFAB_ERROR_DENIED);
  g_autofree char *dir_link = run_tool_error (tool, fixture->context, "{\"path\": \"escape/secret.txt\"}",
                                              CONFAB_ERROR_DENIED);

  assert_contains (file_link, "“secret-link” leads outside the folders the user granted");
  assert_contains (file_link, "symbolic link");
  assert_contains (dir_link, "“escape/secret.txt” leads outside");
}

static void
test_read_file_symlink_loop (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *message = run_tool_error (tool, fixture->context, "{\"path\": \"loop\"}", CONFAB_ERROR_TOOL);

  g_assert_cmpstr (message, ==, "“loop” cannot be opened: its symbolic links form a loop");
}

static void
test_read_file_no_folder (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autoptr(ConfabTool) list = confab_list_directory_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autofree char *arguments = g_strdup_printf ("{\"path\": \"%s/hello.txt\"}", fixture->dir);
  g_autofree char *message = run_tool_error (tool, context, arguments, CONFAB_ERROR_DENIED);
  g_autofree char *list_message = run_tool_error (list, context, "{}", CONFAB_ERROR_DENIED);

  assert_contains (message, "has not granted any folder");
  g_assert_cmpstr (list_message, ==, message);
}

static void
test_read_file_missing (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *message = run_tool_error (tool, fixture->context, "{\"path\": \"sub/nope.txt\"}",
                                             CONFAB_ERROR_NOT_FOUND);
  g_autofree char *folder = run_tool_error (tool, fixture->context, "{\"path\": \"sub\"}", CONFAB_ERROR_TOOL);
  g_autofree char *no_path = run_tool_error (tool, fixture->context, "{}", CONFAB_ERROR_INVALID_ARGUMENT);

  g_assert_cmpstr (message, ==, "“sub/nope.txt” does not exist");
  assert_contains (folder, "is a folder");
  assert_contains (no_path, "path");
}

static void
test_read_file_big (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(ConfabToolResult) small = NULL;
  g_autoptr(GString) big = g_string_new (NULL);
  const char *text;
  JsonObject *structured;

  /* 300 KiB: 10000 lines of 31 bytes */
  for (guint i = 1; i <= 10000; i++)
    g_string_append_printf (big, "line %05u of the big test file\n", i);
  write_file (fixture->dir, "big.txt", big->str, big->len);

  result = run_tool_ok (tool, fixture->context, "{\"path\": \"big.txt\"}");
  text = confab_tool_result_get_text (result);
  structured = structured_object (result);
  g_assert_true (json_object_get_boolean_member (structured, "truncated"));
  g_assert_cmpint (json_object_get_int_member (structured, "size"), ==, big->len);
  g_assert_cmpuint (strlen (text), <, 256 * 1024 + 200);
  g_assert_true (g_str_has_prefix (text, "line 00001 of the big test file\n"));
  /* 262144 / 32 = 8192 lines, the last one cut */
  /* g_format_size() puts a no-break space before the unit. */
  assert_contains (text, "\n[cut at 262.1\u00A0kB: lines 1–8193 of a 320.0\u00A0kB file are shown; "
                         "read on with offset 8194]");

  /* A cut inside a character is not mistaken for binary. */
  write_file (fixture->dir, "accents.txt", "ééééé\n", -1);
  g_object_set (tool, "max-size", (guint64) 9, NULL);
  small = run_tool_ok (tool, fixture->context, "{\"path\": \"accents.txt\"}");
  assert_contains (confab_tool_result_get_text (small), "éééé\n[cut at 9 bytes");
}

static void
test_read_file_binary (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_read_file_tool_new ();
  g_autofree char *nul = run_tool_error (tool, fixture->context, "{\"path\": \"binary.bin\"}", CONFAB_ERROR_TOOL);
  g_autofree char *latin1 = NULL;

  g_assert_cmpstr (nul, ==, "“binary.bin” is a binary file (12 bytes); only text files can be read");

  write_file (fixture->dir, "latin1.txt", "caf\xE9\n", -1);
  latin1 = run_tool_error (tool, fixture->context, "{\"path\": \"latin1.txt\"}", CONFAB_ERROR_TOOL);
  assert_contains (latin1, "is a binary file (5 bytes)");
}

/* list_directory */

static void
test_list_directory (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_list_directory_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(ConfabToolResult) sub = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *outside_message = NULL;
  JsonArray *entries;

  write_file (fixture->dir, "empty/.keep", "", 0);
  result = run_tool_ok (tool, fixture->context, "{}");
  expected = g_strdup_printf (".: 8 entries\n"
                              ".git/\n"
                              "binary.bin (12 bytes)\n"
                              "empty/\n"
                              "escape/ -> %s\n"
                              "hello.txt (29 bytes)\n"
                              "loop -> loop\n"
                              "secret-link -> %s/secret.txt\n"
                              "sub/\n",
                              fixture->outside, fixture->outside);
  /* Sorted bytewise, so ".git" and "escape/" in this order. */
  g_assert_cmpstr (confab_tool_result_get_text (result), ==, expected);
  entries = json_object_get_array_member (structured_object (result), "entries");
  g_assert_cmpuint (json_array_get_length (entries), ==, 8);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (entries, 1), "type"), ==, "file");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (entries, 1), "size"), ==, 12);

  sub = run_tool_ok (tool, fixture->context, "{\"path\": \"sub\"}");
  g_assert_cmpstr (confab_tool_result_get_text (sub), ==, "sub: 1 entry\nnested.c (37 bytes)\n");

  outside_message = run_tool_error (tool, fixture->context, "{\"path\": \"escape\"}", CONFAB_ERROR_DENIED);
  assert_contains (outside_message, "leads outside");
}

static void
test_list_directory_cap (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_list_directory_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *many = g_build_filename (fixture->dir, "many", NULL);
  JsonObject *structured;

  g_mkdir (many, 0700);
  for (guint i = 0; i < 1005; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%04u", i);

      write_file (many, name, "", 0);
    }

  result = run_tool_ok (tool, fixture->context, "{\"path\": \"many\"}");
  structured = structured_object (result);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (structured, "entries")), ==, 1000);
  g_assert_true (json_object_get_boolean_member (structured, "truncated"));
  assert_contains (confab_tool_result_get_text (result), "many: 1005 entries\nf0000 (0 bytes)\n");
  assert_contains (confab_tool_result_get_text (result), "\nf0999 (0 bytes)\n[5 more entries not shown]\n");
  assert_not_contains (confab_tool_result_get_text (result), "f1000");
}

/* search_files */

static void
test_search_files (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_search_files_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(ConfabToolResult) exact = NULL;
  g_autoptr(ConfabToolResult) glob = NULL;
  g_autoptr(ConfabToolResult) one_file = NULL;
  JsonObject *structured;
  JsonObject *match;

  /* Not in .git, not in the binary file, not through the links that lead
   * outside. */
  result = run_tool_ok (tool, fixture->context, "{\"pattern\": \"needle\", \"ignore_case\": true}");
  g_assert_cmpstr (confab_tool_result_get_text (result), ==,
                   "sub/nested.c:4:   return NEEDLE;\n"
                   "[1 match in 1 file]\n"
                   "[1 binary file skipped]\n");
  structured = structured_object (result);
  match = json_array_get_object_element (json_object_get_array_member (structured, "matches"), 0);
  g_assert_cmpstr (json_object_get_string_member (match, "path"), ==, "sub/nested.c");
  g_assert_cmpint (json_object_get_int_member (match, "line"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (structured, "skipped_binary"), ==, 1);

  exact = run_tool_ok (tool, fixture->context, "{\"pattern\": \"needle\"}");
  assert_contains (confab_tool_result_get_text (exact), "[no line contains “needle”]");

  glob = run_tool_ok (tool, fixture->context, "{\"pattern\": \"line t\", \"glob\": \"*.txt\"}");
  g_assert_cmpstr (confab_tool_result_get_text (glob), ==,
                   "hello.txt:2: line two\nhello.txt:3: line three\n[2 matches in 1 file]\n");

  one_file = run_tool_ok (tool, fixture->context, "{\"pattern\": \"main\", \"path\": \"sub/nested.c\"}");
  g_assert_cmpstr (confab_tool_result_get_text (one_file), ==, "sub/nested.c:2: main (void)\n[1 match in 1 file]\n");
}

static void
test_search_files_caps (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(ConfabTool) tool = confab_search_files_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(GString) many = g_string_new (NULL);
  g_autoptr(GString) large = g_string_new (NULL);
  g_autofree char *outside = NULL;
  JsonObject *structured;

  for (guint i = 0; i < 250; i++)
    g_string_append (many, "a match here\n");
  write_file (fixture->dir, "caps/many.txt", many->str, many->len);
  while (large->len <= 1024 * 1024)
    g_string_append (large, "a match in a big file\n");
  write_file (fixture->dir, "caps/large.txt", large->str, large->len);

  result = run_tool_ok (tool, fixture->context, "{\"pattern\": \"match\", \"path\": \"caps\"}");
  structured = structured_object (result);
  g_assert_true (json_object_get_boolean_member (structured, "truncated"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (structured, "matches")), ==, 200);
  g_assert_cmpint (json_object_get_int_member (structured, "skipped_large"), ==, 1);
  assert_contains (confab_tool_result_get_text (result),
                   "caps/many.txt:200: a match here\n[stopped at 200 matches;");
  assert_contains (confab_tool_result_get_text (result), "[1 file over 1 MiB skipped]");

  outside = run_tool_error (tool, fixture->context, "{\"pattern\": \"x\", \"path\": \"..\"}", CONFAB_ERROR_DENIED);
  assert_contains (outside, "outside");
}

/* fetch_url */

static void
test_fetch_html (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *arguments = NULL;
  g_autofree char *expected = NULL;
  ConfabTestResponse *response;
  JsonObject *structured;

  response = confab_test_server_add_response (server, "/page", 200);
  confab_test_response_set_content_type (response, "text/html; charset=utf-8");
  confab_test_response_set_body_string (response,
    "<!DOCTYPE html><html><head><title>A &amp; B</title>"
    "<style>body { color: red }</style><script>var s = '<p>hidden</p>';</script></head>"
    "<body><h1>Hello</h1><p>Some   <b>bold</b>\n text &lt;tag&gt; &#233;&#xE9;</p>"
    "<ul><li>one</li><li>two</li></ul></body></html>");

  confab_tool_context_set_allow_private_network (context, TRUE);
  arguments = g_strdup_printf ("{\"url\": \"%s/page\"}", confab_test_server_get_url (server));
  result = run_tool_ok (tool, context, arguments);

  g_assert_false (confab_tool_result_get_is_error (result));
  expected = g_strdup_printf ("URL: %s/page\n"
                              "Content type: text/html; charset=utf-8\n"
                              "Title: A & B\n"
                              "\n"
                              "Hello\n\nSome bold text <tag> éé\n\n- one\n- two",
                              confab_test_server_get_url (server));
  g_assert_cmpstr (confab_tool_result_get_text (result), ==, expected);
  structured = structured_object (result);
  g_assert_cmpint (json_object_get_int_member (structured, "status"), ==, 200);
  g_assert_cmpstr (json_object_get_string_member (structured, "content_type"), ==, "text/html; charset=utf-8");
  g_assert_cmpstr (json_object_get_string_member (structured, "title"), ==, "A & B");
}

static void
test_fetch_size_cap (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *arguments = NULL;
  g_autofree char *body = g_malloc (3 * 1024 * 1024);
  ConfabTestResponse *response;
  JsonObject *structured;

  memset (body, 'x', 3 * 1024 * 1024);
  response = confab_test_server_add_response (server, "/big", 200);
  confab_test_response_set_content_type (response, "text/plain");
  confab_test_response_set_body (response, g_bytes_new_take (g_steal_pointer (&body), 3 * 1024 * 1024));

  confab_tool_context_set_allow_private_network (context, TRUE);
  arguments = g_strdup_printf ("{\"url\": \"%s/big\"}", confab_test_server_get_url (server));
  result = run_tool_ok (tool, context, arguments);

  structured = structured_object (result);
  g_assert_true (json_object_get_boolean_member (structured, "truncated"));
  g_assert_cmpint (json_object_get_int_member (structured, "bytes"), ==, 2 * 1024 * 1024);
  assert_contains (confab_tool_result_get_text (result), "Content type: text/plain\n\nxxx");
  assert_contains (confab_tool_result_get_text (result), "xxx\n[cut: only the first 2.1\u00A0MB were read]");
}

static void
test_fetch_not_found (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *arguments = NULL;
  ConfabTestResponse *response;

  response = confab_test_server_add_response (server, "/gone", 404);
  confab_test_response_set_content_type (response, "text/html");
  confab_test_response_set_body_string (response, "<html><body><h1>No such page</h1></body></html>");

  confab_tool_context_set_allow_private_network (context, TRUE);
  arguments = g_strdup_printf ("{\"url\": \"%s/gone\"}", confab_test_server_get_url (server));
  result = run_tool_ok (tool, context, arguments);

  g_assert_true (confab_tool_result_get_is_error (result));
  g_assert_true (g_str_has_prefix (confab_tool_result_get_text (result), "HTTP 404 Not Found\n"));
  assert_contains (confab_tool_result_get_text (result), "\n\nNo such page");
  g_assert_cmpint (json_object_get_int_member (structured_object (result), "status"), ==, 404);
}

static void
test_fetch_private_refused (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autofree char *arguments = NULL;
  g_autofree char *message = NULL;
  g_autofree char *localhost = NULL;

  confab_test_response_set_body_string (confab_test_server_add_response (server, "/page", 200), "page");
  arguments = g_strdup_printf ("{\"url\": \"%s/page\"}", confab_test_server_get_url (server));
  message = run_tool_error (tool, context, arguments, CONFAB_ERROR_DENIED);
  assert_contains (message, "“127.0.0.1” is at 127.0.0.1, a private, loopback or link-local address");

  /* A name is looked up first. */
  g_free (arguments);
  arguments = g_strdup_printf ("{\"url\": \"http://localhost:%u/page\"}", confab_test_server_get_port (server));
  localhost = run_tool_error (tool, context, arguments, CONFAB_ERROR_DENIED);
  assert_contains (localhost, "“localhost” is at ");

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 0);
}

static void
test_fetch_scheme_refused (void)
{
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autofree char *file = NULL;
  g_autofree char *ftp = NULL;
  g_autofree char *relative = NULL;

  /* Even where the private network is allowed. */
  confab_tool_context_set_allow_private_network (context, TRUE);
  file = run_tool_error (tool, context, "{\"url\": \"file:///etc/passwd\"}", CONFAB_ERROR_DENIED);
  ftp = run_tool_error (tool, context, "{\"url\": \"ftp://example.com/x\"}", CONFAB_ERROR_DENIED);
  relative = run_tool_error (tool, context, "{\"url\": \"example.com/page\"}", CONFAB_ERROR_INVALID_ARGUMENT);

  g_assert_cmpstr (file, ==, "fetch_url only fetches http and https addresses, not “file:” ones");
  assert_contains (ftp, "not “ftp:” ones");
  assert_contains (relative, "is not a valid address");
}

/* In these tests 127.0.0.1 plays a public server: every other address is
 * private. */
static gboolean
only_127_0_0_1_public (GInetAddress *address)
{
  g_autofree char *text = g_inet_address_to_string (address);

  return !g_str_equal (text, "127.0.0.1");
}

static void
test_fetch_redirect_to_private (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autofree char *arguments = NULL;
  g_autofree char *message = NULL;
  g_autofree char *location = NULL;
  ConfabTestResponse *response;

  _confab_fetch_url_tool_set_test_hooks (CONFAB_FETCH_URL_TOOL (tool), only_127_0_0_1_public, FALSE);

  /* Allowed: a page on the "public" server, through a redirect. */
  response = confab_test_server_add_response (server, "/moved", 301);
  confab_test_response_add_header (response, "Location", "/page");
  confab_test_response_set_body_string (response, "moved");
  response = confab_test_server_add_response (server, "/page", 200);
  confab_test_response_set_content_type (response, "text/plain");
  confab_test_response_set_body_string (response, "public text");
  arguments = g_strdup_printf ("{\"url\": \"%s/moved\"}", confab_test_server_get_url (server));
  result = run_tool_ok (tool, context, arguments);
  assert_contains (confab_tool_result_get_text (result), "/page\n");
  assert_contains (confab_tool_result_get_text (result), "\n\npublic text");

  /* Refused: a redirect to a private address. */
  response = confab_test_server_add_response (server, "/to-private", 302);
  location = g_strdup_printf ("http://127.0.0.2:%u/secret", confab_test_server_get_port (server));
  confab_test_response_add_header (response, "Location", location);
  confab_test_response_set_body_string (response, "moved");
  g_free (arguments);
  arguments = g_strdup_printf ("{\"url\": \"%s/to-private\"}", confab_test_server_get_url (server));
  message = run_tool_error (tool, context, arguments, CONFAB_ERROR_DENIED);
  assert_contains (message, "“127.0.0.2” is at 127.0.0.2");
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 3);
}

static void
test_fetch_connected_address_checked (void)
{
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autoptr(ConfabTool) tool = confab_fetch_url_tool_new ();
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autofree char *arguments = NULL;
  g_autofree char *message = NULL;

  /* As if the name had resolved to a public address when looked up, and
   * to a private one when connecting (DNS rebinding): only the check of
   * the address connected to is left, and it refuses. */
  _confab_fetch_url_tool_set_test_hooks (CONFAB_FETCH_URL_TOOL (tool), NULL, TRUE);
  confab_test_response_set_body_string (confab_test_server_add_response (server, "/page", 200), "page");
  arguments = g_strdup_printf ("{\"url\": \"http://localhost:%u/page\"}", confab_test_server_get_port (server));
  message = run_tool_error (tool, context, arguments, CONFAB_ERROR_DENIED);
  assert_contains (message, "“localhost” is at ");
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 0);
}

static void
test_address_classification (void)
{
  static const struct
  {
    const char *address;
    gboolean    is_private;
  } cases[] = {
    { "127.0.0.1", TRUE }, { "127.255.0.9", TRUE }, { "10.1.2.3", TRUE }, { "172.16.0.1", TRUE },
    { "172.31.255.255", TRUE }, { "172.32.0.1", FALSE }, { "172.15.0.1", FALSE },
    { "192.168.1.1", TRUE }, { "192.169.1.1", FALSE }, { "169.254.169.254", TRUE },
    { "0.0.0.0", TRUE }, { "0.1.2.3", TRUE }, { "100.64.0.1", TRUE }, { "100.128.0.1", FALSE },
    { "224.0.0.1", TRUE }, { "255.255.255.255", TRUE },
    { "8.8.8.8", FALSE }, { "93.184.216.34", FALSE }, { "1.1.1.1", FALSE },
    { "::1", TRUE }, { "::", TRUE }, { "fc00::1", TRUE }, { "fdab:cdef::1", TRUE },
    { "fe80::1", TRUE }, { "febf::1", TRUE }, { "fec0::1", TRUE }, { "ff02::1", TRUE },
    { "::ffff:127.0.0.1", TRUE }, { "::ffff:10.0.0.1", TRUE }, { "::ffff:192.168.0.1", TRUE },
    { "::ffff:8.8.8.8", FALSE }, { "::127.0.0.1", TRUE }, { "64:ff9b::a00:1", TRUE },
    { "64:ff9b::808:808", FALSE }, { "2002:c0a8:101::1", TRUE }, { "2002:808:808::1", FALSE },
    { "2001:4860:4860::8888", FALSE }, { "2a00:1450:4007:80e::200e", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (cases[i].address);

      g_assert_nonnull (address);
      if (_confab_inet_address_is_private (address) != cases[i].is_private)
        g_error ("%s should %sbe private", cases[i].address, cases[i].is_private ? "" : "not ");
    }
}

static void
assert_html_text (const char *html,
                  const char *expected)
{
  g_autofree char *text = _confab_html_to_text (html, strlen (html), NULL);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_html_to_text (void)
{
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;

  assert_html_text ("<p>a</p><p>b</p>", "a\n\nb");
  assert_html_text ("a<br>b<br/>c", "a\nb\nc");
  assert_html_text ("  lots \n\t of   space  ", "lots of space");
  assert_html_text ("<span>in</span><span>line</span> <i>x</i>", "inline x");
  assert_html_text ("&amp;&lt;&gt;&quot;&#39;&nbsp;x&#65;&#x42;&#X43;", "&<>\"' xABC");
  assert_html_text ("&bogus; &amp &#; &#xZZ; &#0; &#x110000;", "&bogus; &amp &#; &#xZZ; \xEF\xBF\xBD \xEF\xBF\xBD");
  assert_html_text ("a < b and c<1", "a < b and c<1");
  assert_html_text ("<!-- <p>hidden</p> -->shown<!DOCTYPE x><?xml x?>", "shown");
  assert_html_text ("<SCRIPT type=\"x\">if (a < b) { '</p>' }</SCRIPT>after", "after");
  assert_html_text ("<style>p { }</style><noscript>Enable JS</noscript><svg><text>s</text></svg>ok", "ok");
  assert_html_text ("<a href=\"x>y\" title='>'>link</a>", "link");
  assert_html_text ("<pre>\n  code\n    indented</pre>after", "  code\n    indented\n\nafter");
  assert_html_text ("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>", "1 2\n3");
  assert_html_text ("<script>never closed", "");
  assert_html_text ("<p>unclosed <b", "unclosed");

  text = _confab_html_to_text ("<head><title> The\n title </title></head><body>x</body>", 53, &title);
  g_assert_cmpstr (text, ==, "x");
  g_assert_cmpstr (title, ==, "The title");
}

/* current_datetime */

static void
test_current_datetime (void)
{
  g_autoptr(ConfabTool) tool = confab_datetime_tool_new ();
  g_autoptr(ConfabToolResult) result = NULL;
  g_autoptr(GDateTime) before = g_date_time_new_now_local ();
  g_autoptr(GDateTime) after = NULL;
  g_autoptr(GDateTime) parsed = NULL;
  g_autofree char *year_before = NULL;
  g_autofree char *year_after = NULL;
  JsonObject *structured;
  const char *datetime;

  result = run_tool_ok (tool, NULL, "{}");
  after = g_date_time_new_now_local ();
  structured = structured_object (result);
  datetime = json_object_get_string_member (structured, "datetime");

  /* The year of the local time (the test may straddle a new year). */
  year_before = g_strdup_printf ("%04d-", g_date_time_get_year (before));
  year_after = g_strdup_printf ("%04d-", g_date_time_get_year (after));
  g_assert_true (g_str_has_prefix (datetime, year_before) || g_str_has_prefix (datetime, year_after));

  parsed = g_date_time_new_from_iso8601 (datetime, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpint (g_date_time_to_unix (parsed), >=, g_date_time_to_unix (before));
  g_assert_cmpint (g_date_time_to_unix (parsed), <=, g_date_time_to_unix (after));
  g_assert_cmpint (json_object_get_int_member (structured, "unix_time"), ==, g_date_time_to_unix (parsed));
  g_assert_nonnull (json_object_get_string_member (structured, "weekday"));
  g_assert_nonnull (json_object_get_string_member (structured, "time_zone"));
  g_assert_true (g_str_has_prefix (confab_tool_result_get_text (result), datetime));
}

/* All of them */

static void
test_builtin_tools (void)
{
  static const char * const names[] = {
    "current_datetime", "fetch_url", "list_directory", "read_file", "run_command", "search_files",
  };
  g_autoptr(ConfabToolbox) toolbox = confab_toolbox_new ();

  confab_builtin_tools_add_all (toolbox);
  g_assert_cmpuint (confab_toolbox_get_n_tools (toolbox), ==, G_N_ELEMENTS (names));

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      ConfabTool *tool = confab_toolbox_lookup (toolbox, names[i]);
      g_autoptr(ConfabTool) fresh = confab_builtin_tool_new (names[i]);
      JsonObject *schema;

      g_assert_nonnull (tool);
      g_assert_nonnull (fresh);
      g_assert_cmpstr (confab_tool_get_name (fresh), ==, names[i]);
      g_assert_cmpuint (strlen (confab_tool_get_description (tool)), >, 40);
      g_assert_cmpuint (confab_tool_get_timeout (tool), >, 0);

      schema = json_node_get_object (confab_tool_get_parameters (tool));
      g_assert_cmpstr (json_object_get_string_member (schema, "type"), ==, "object");
      g_assert_true (json_object_has_member (schema, "properties"));

      /* Only run_command asks first. */
      g_assert_cmpint (confab_tool_get_needs_approval (tool), ==, g_str_equal (names[i], "run_command"));
      g_assert_cmpint (confab_toolbox_get_policy (toolbox, names[i]), ==,
                       g_str_equal (names[i], "run_command") ? CONFAB_TOOL_POLICY_ASK : CONFAB_TOOL_POLICY_ALLOW);
    }

  g_assert_null (confab_builtin_tool_new ("rm_rf"));
}

static void
test_utf8_complete_length (void)
{
  g_assert_cmpuint (_confab_utf8_complete_length ("abc", 3), ==, 3);
  g_assert_cmpuint (_confab_utf8_complete_length ("a\xC3\xA9", 3), ==, 3);
  g_assert_cmpuint (_confab_utf8_complete_length ("a\xC3", 2), ==, 1);
  g_assert_cmpuint (_confab_utf8_complete_length ("a\xE2\x82", 3), ==, 1);
  g_assert_cmpuint (_confab_utf8_complete_length ("a\xE2\x82\xAC", 4), ==, 4);
  g_assert_cmpuint (_confab_utf8_complete_length ("a\xF0\x9F\x98", 4), ==, 1);
  g_assert_cmpuint (_confab_utf8_complete_length ("\x80\x80\x80\x80", 4), ==, 4);
  g_assert_cmpuint (_confab_utf8_complete_length ("", 0), ==, 0);
}

/* Granting folders: the real path is looked up on a worker thread, and
 * what was stored is checked again there, dropping what is gone. */
static GAsyncResult *
wait_result (GAsyncResult **out)
{
  while (*out == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *out;
}

static void
test_context_folders (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(ConfabToolContext) context = confab_tool_context_new ();
  g_autofree char *real_dir = realpath (fixture->dir, NULL);
  g_autofree char *link = g_build_filename (fixture->outside, "link-to-granted", NULL);
  g_autofree char *file = g_build_filename (fixture->dir, "hello.txt", NULL);
  g_autofree char *missing = g_build_filename (fixture->outside, "missing", NULL);
  g_autofree char *later_gone = g_build_filename (fixture->outside, "later gone", NULL);
  g_autofree char *later_link = g_build_filename (fixture->outside, "later a link", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) gone = NULL;
  const char * const *dirs;

  /* Through a symbolic link: its real path is granted. */
  g_assert_cmpint (symlink (real_dir, link), ==, 0);
  confab_tool_context_add_allowed_dir_async (context, link, NULL, store_result_cb, &result);
  g_assert_true (confab_tool_context_add_allowed_dir_finish (context, wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  dirs = confab_tool_context_get_allowed_dirs (context);
  g_assert_cmpstr (dirs[0], ==, real_dir);
  g_assert_null (dirs[1]);

  /* What is no folder is refused, saying which and why. */
  confab_tool_context_add_allowed_dir_async (context, missing, NULL, store_result_cb, &result);
  g_assert_false (confab_tool_context_add_allowed_dir_finish (context, wait_result (&result), &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOENT)));
  g_clear_error (&error);
  g_clear_object (&result);

  confab_tool_context_add_allowed_dir_async (context, file, NULL, store_result_cb, &result);
  g_assert_false (confab_tool_context_add_allowed_dir_finish (context, wait_result (&result), &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, g_strerror (ENOTDIR)));
  g_clear_error (&error);
  g_clear_object (&result);
  g_assert_null (confab_tool_context_get_allowed_dirs (context)[1]);

  /* Stored grants come back at once, as they were; the check then drops
   * a folder that is gone and one whose path now leads elsewhere,
   * keeping the order of the rest (the first is where commands run). */
  g_clear_object (&context);
  context = confab_tool_context_new ();
  g_assert_cmpint (g_mkdir (later_gone, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (later_link, 0700), ==, 0);
  confab_tool_context_restore_allowed_dir (context, later_gone);
  confab_tool_context_restore_allowed_dir (context, real_dir);
  confab_tool_context_restore_allowed_dir (context, later_link);
  g_assert_cmpstr (confab_tool_context_get_working_directory (context), ==, later_gone);
  g_assert_cmpint (g_rmdir (later_gone), ==, 0);
  g_assert_cmpint (g_rmdir (later_link), ==, 0);
  g_assert_cmpint (symlink (real_dir, later_link), ==, 0);

  confab_tool_context_check_allowed_dirs_async (context, NULL, store_result_cb, &result);
  gone = confab_tool_context_check_allowed_dirs_finish (context, wait_result (&result), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (g_strv_length (gone), ==, 2);
  g_assert_cmpstr (gone[0], ==, later_gone);
  g_assert_cmpstr (gone[1], ==, later_link);
  dirs = confab_tool_context_get_allowed_dirs (context);
  g_assert_cmpstr (dirs[0], ==, real_dir);
  g_assert_null (dirs[1]);
  g_assert_cmpstr (confab_tool_context_get_working_directory (context), ==, real_dir);

  /* Nothing gone: an empty list. */
  g_clear_pointer (&gone, g_strfreev);
  confab_tool_context_check_allowed_dirs_async (context, NULL, store_result_cb, &result);
  gone = confab_tool_context_check_allowed_dirs_finish (context, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (gone);
  g_assert_null (gone[0]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/tools/run-command/output-and-status", test_command_output_and_status);
  ADD ("/tools/run-command/signal", test_command_signal);
  ADD ("/tools/run-command/working-directory", test_command_working_directory);
  ADD ("/tools/run-command/stdin-closed", test_command_stdin_closed);
  ADD ("/tools/run-command/output-cap", test_command_output_cap);
  ADD ("/tools/run-command/invalid-utf8", test_command_invalid_utf8);
  ADD ("/tools/run-command/timeout-kills-group", test_command_timeout_kills_group);
  ADD ("/tools/run-command/argument-timeout", test_command_argument_timeout);
  ADD ("/tools/run-command/cancel-kills-group", test_command_cancel_kills_group);
  ADD ("/tools/run-command/background-output", test_command_background_output);
  ADD ("/tools/run-command/bad-arguments", test_command_bad_arguments);

  ADD ("/tools/read-file/inside", test_read_file);
  ADD ("/tools/read-file/lines", test_read_file_lines);
  ADD ("/tools/read-file/dotdot", test_read_file_dotdot);
  ADD ("/tools/read-file/absolute-outside", test_read_file_absolute_outside);
  ADD ("/tools/read-file/symlink-outside", test_read_file_symlink_outside);
  ADD ("/tools/read-file/symlink-loop", test_read_file_symlink_loop);
  ADD ("/tools/read-file/no-folder", test_read_file_no_folder);
  ADD ("/tools/read-file/missing", test_read_file_missing);
  ADD ("/tools/read-file/big", test_read_file_big);
  ADD ("/tools/read-file/binary", test_read_file_binary);
  ADD ("/tools/list-directory/entries", test_list_directory);
  ADD ("/tools/list-directory/cap", test_list_directory_cap);
  ADD ("/tools/search-files/matches", test_search_files);
  ADD ("/tools/search-files/caps", test_search_files_caps);
  ADD ("/tools/context/folders", test_context_folders);
#undef ADD

  g_test_add_func ("/tools/fetch-url/html", test_fetch_html);
  g_test_add_func ("/tools/fetch-url/size-cap", test_fetch_size_cap);
  g_test_add_func ("/tools/fetch-url/not-found", test_fetch_not_found);
  g_test_add_func ("/tools/fetch-url/private-refused", test_fetch_private_refused);
  g_test_add_func ("/tools/fetch-url/scheme-refused", test_fetch_scheme_refused);
  g_test_add_func ("/tools/fetch-url/redirect-to-private", test_fetch_redirect_to_private);
  g_test_add_func ("/tools/fetch-url/connected-address-checked", test_fetch_connected_address_checked);
  g_test_add_func ("/tools/fetch-url/address-classification", test_address_classification);
  g_test_add_func ("/tools/fetch-url/html-to-text", test_html_to_text);

  g_test_add_func ("/tools/current-datetime", test_current_datetime);
  g_test_add_func ("/tools/builtin", test_builtin_tools);
  g_test_add_func ("/tools/utf8-complete-length", test_utf8_complete_length);

  return g_test_run ();
}
