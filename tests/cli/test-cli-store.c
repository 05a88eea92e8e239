/* test-cli-store.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "confab-cli-runner.h"
#include "confab-test-server.h"

/* Runs the real confab-cli (from $CONFAB_CLI) with --save, --continue,
 * --provider and the conversations commands against a ConfabTestServer
 * served from this process's main loop. Every test gets its own
 * temporary XDG_DATA_HOME, XDG_CONFIG_HOME and XDG_RUNTIME_DIR, and a
 * session bus address nobody listens on, so no run touches the user's
 * conversations, providers or keyring. */

#define WATCHDOG_SECONDS 40

/* The slow stream of the durability test: SLOW_TOKENS tokens, one event
 * every SLOW_DELAY_MS, about 5 s in all. */
#define SLOW_TOKENS   200
#define SLOW_DELAY_MS 25

typedef struct
{
  ConfabTestServer *server;
  char             *openai_url;
  char             *tmp_dir;
  char             *data_home;
  char             *config_home;
  char             *runtime_dir;
  char             *home;
  guint             watchdog_id;
} Fixture;

/* When a piece of stdout arrived, and how long stdout was after it. */
typedef struct
{
  gint64 time;
  gsize  end;
} Chunk;

/* A child whose stdout is read as it arrives, and which can be killed
 * once it has printed kill_at bytes. */
typedef struct
{
  GSubprocess         *proc;
  GString             *out;
  GArray              *chunks;
  GMemoryOutputStream *err;
  guint8               buf[4096];
  gsize                kill_at;
  gboolean             killed;
  gint64               kill_time;
  gsize                killed_len;
  gboolean             out_eof;
  gboolean             err_done;
  gboolean             waited;
  GError              *error;
} Child;

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("Test took longer than %d seconds", WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static char *
make_dir (const char *parent,
          const char *name)
{
  char *path = g_build_filename (parent, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);

  return path;
}

static void
rm_rf (GFile *file)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;

  enumerator = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (enumerator != NULL)
    {
      GFile *child;

      while (g_file_enumerator_iterate (enumerator, NULL, &child, NULL, NULL) && child != NULL)
        rm_rf (child);
    }

  g_file_delete (file, NULL, NULL);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->server = confab_test_server_new ();
  fixture->openai_url = g_strconcat (confab_test_server_get_url (fixture->server), "/v1", NULL);

  fixture->tmp_dir = g_dir_make_tmp ("test-cli-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->data_home = make_dir (fixture->tmp_dir, "data");
  fixture->config_home = make_dir (fixture->tmp_dir, "config");
  fixture->runtime_dir = make_dir (fixture->tmp_dir, "runtime");
  fixture->home = make_dir (fixture->tmp_dir, "home");

  fixture->watchdog_id = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GFile) tmp = g_file_new_for_path (fixture->tmp_dir);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (fixture->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  rm_rf (tmp);

  g_clear_pointer (&fixture->openai_url, g_free);
  g_clear_pointer (&fixture->tmp_dir, g_free);
  g_clear_pointer (&fixture->data_home, g_free);
  g_clear_pointer (&fixture->config_home, g_free);
  g_clear_pointer (&fixture->runtime_dir, g_free);
  g_clear_pointer (&fixture->home, g_free);
  g_clear_handle_id (&fixture->watchdog_id, g_source_remove);
}

/* Queues a fixture as the response for @path. */
static ConfabTestResponse *
add_fixture (Fixture    *fixture,
             const char *path,
             const char *dir,
             const char *name)
{
  ConfabTestResponse *resp = confab_test_server_add_response (fixture->server, path, 200);
  g_autofree char *file = confab_test_fixture_path (dir, name);

  confab_test_response_set_body_file (resp, file);

  return resp;
}

/* Byte offset just past the @n-th blank line ("\n\n") of a fixture. */
static gsize
offset_after_event (const char *dir,
                    const char *name,
                    guint       n)
{
  g_autofree char *contents = confab_test_fixture_contents (dir, name, NULL);
  const char *p = contents;

  for (guint i = 0; i < n; i++)
    {
      p = strstr (p, "\n\n");
      g_assert_nonnull (p);
      p += 2;
    }

  return p - contents;
}

/* A launcher whose children see only this test's directories, the store
 * in @data_home, no API key and no keyring. */
static GSubprocessLauncher *
new_launcher (Fixture    *fixture,
              const char *data_home)
{
  GSubprocessLauncher *launcher = confab_cli_launcher_new ();
  g_autofree char *no_bus = NULL;

  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", fixture->config_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", fixture->runtime_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", fixture->home, TRUE);

  /* A socket nobody listens on: a key lookup fails at once instead of
   * reaching the user's keyring. */
  no_bus = g_strconcat ("unix:path=", fixture->runtime_dir, "/no-bus", NULL);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);

  return launcher;
}

/* Runs confab-cli with @args and the store in @data_home, feeding it
 * @stdin_text (the empty string when NULL). The server keeps serving
 * meanwhile. */
static ConfabCliResult *
run_cli_in (Fixture            *fixture,
            const char         *data_home,
            const char         *stdin_text,
            const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (fixture, data_home);

  return confab_cli_run (launcher, stdin_text, args);
}

#define RUN_CLI(fixture, ...) \
  run_cli_in ((fixture), (fixture)->data_home, NULL, (const char * const[]) { __VA_ARGS__, NULL })
#define RUN_CLI_IN(fixture, data_home, ...) \
  run_cli_in ((fixture), (data_home), NULL, (const char * const[]) { __VA_ARGS__, NULL })

static void
assert_exit (const ConfabCliResult *result,
             int              status)
{
  g_assert_true (result->exited);
  g_assert_cmpint (result->exit_status, ==, status);
}

/* The id in the "confab-cli: conversation ID" line of @err, which must
 * be there exactly once; 0 when it is not. */
static gint64
find_conversation_id (const char *err)
{
  g_autoptr(GRegex) regex = g_regex_new ("^confab-cli: conversation ([0-9]+)$", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *digits = NULL;
  gint64 id;

  if (!g_regex_match (regex, err, 0, &match))
    return 0;

  digits = g_match_info_fetch (match, 1);
  id = g_ascii_strtoll (digits, NULL, 10);
  g_assert_cmpint (id, >, 0);
  g_assert_false (g_match_info_next (match, NULL));

  return id;
}

static gint64
conversation_id (const char *err)
{
  gint64 id = find_conversation_id (err);

  g_assert_cmpint (id, >, 0);

  return id;
}

static JsonNode *
parse_json (const char *data,
            gssize      len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, data, len, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
request_body (Fixture *fixture,
              guint    i)
{
  GBytes *body = confab_test_server_get_request_body (fixture->server, i);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  g_assert_cmpuint (len, >, 0);

  return parse_json (data, len);
}

/* `conversations show ID`, which must succeed; the Markdown. */
static char *
show (Fixture    *fixture,
      const char *data_home,
      gint64      id)
{
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autoptr(ConfabCliResult) result = RUN_CLI_IN (fixture, data_home, "conversations", "show", id_text);

  assert_exit (result, 0);
  g_assert_cmpstr (result->err, ==, "");

  return g_steal_pointer (&result->out);
}

/* `conversations export ID|--all --format json`, which must succeed and
 * be a Confab export; the document. */
static JsonNode *
export_json (Fixture    *fixture,
             const char *data_home,
             gint64      id)
{
  g_autofree char *id_text = id > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, id) : g_strdup ("--all");
  g_autoptr(ConfabCliResult) result = RUN_CLI_IN (fixture, data_home,
                                            "conversations", "export", id_text, "--format", "json");
  JsonNode *root;
  JsonObject *obj;

  assert_exit (result, 0);
  g_assert_cmpstr (result->err, ==, "");

  root = parse_json (result->out, -1);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  obj = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (obj, "format"), ==, "confab-conversations");
  g_assert_cmpint (json_object_get_int_member (obj, "version"), ==, 1);

  return root;
}

static JsonArray *
export_conversations (JsonNode *root)
{
  return json_object_get_array_member (json_node_get_object (root), "conversations");
}

/* Message @i of the only conversation of a single export. */
static JsonObject *
export_message (JsonNode *root,
                guint     i)
{
  JsonArray *conversations = export_conversations (root);
  JsonArray *messages;

  g_assert_cmpuint (json_array_get_length (conversations), ==, 1);
  messages = json_object_get_array_member (json_array_get_object_element (conversations, 0), "messages");
  g_assert_cmpuint (i, <, json_array_get_length (messages));

  return json_array_get_object_element (messages, i);
}

static guint
export_n_messages (JsonNode *root)
{
  JsonArray *conversations = export_conversations (root);

  g_assert_cmpuint (json_array_get_length (conversations), ==, 1);

  return json_array_get_length (json_object_get_array_member (json_array_get_object_element (conversations, 0),
                                                              "messages"));
}

static gboolean
contains_nocase (const char *haystack,
                 const char *needle)
{
  g_autofree char *lower_haystack = g_ascii_strdown (haystack, -1);
  g_autofree char *lower_needle = g_ascii_strdown (needle, -1);

  return strstr (lower_haystack, lower_needle) != NULL;
}

/* Asserts @needles occur in @haystack in this order, without overlap. */
static void
assert_in_order (const char         *haystack,
                 const char * const *needles)
{
  const char *p = haystack;

  for (guint i = 0; needles[i] != NULL; i++)
    {
      const char *found = strstr (p, needles[i]);

      if (found == NULL)
        g_error ("“%s” is not in the text after offset %u:\n%s",
                 needles[i], (guint)(p - haystack), haystack);
      p = found + strlen (needles[i]);
    }
}

#define ASSERT_IN_ORDER(haystack, ...) \
  assert_in_order ((haystack), (const char * const[]) { __VA_ARGS__, NULL })

/* Child: a confab-cli read as it runs */

static void child_read_next (Child *child);

static void
child_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Child *child = user_data;
  Chunk chunk;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &child->error);
  g_assert_no_error (child->error);

  if (n == 0)
    {
      child->out_eof = TRUE;
      return;
    }

  chunk.time = g_get_monotonic_time ();
  g_string_append_len (child->out, (const char *)child->buf, n);
  chunk.end = child->out->len;
  g_array_append_val (child->chunks, chunk);

  /* Killed right here, as soon as the threshold is read: no timer, so
   * the kill point follows the stream, whatever the machine's speed. */
  if (child->kill_at > 0 && !child->killed && child->out->len >= child->kill_at)
    {
      g_subprocess_force_exit (child->proc);
      child->killed = TRUE;
      child->kill_time = g_get_monotonic_time ();
      child->killed_len = child->out->len;
    }

  child_read_next (child);
}

static void
child_read_next (Child *child)
{
  g_input_stream_read_async (g_subprocess_get_stdout_pipe (child->proc),
                             child->buf, sizeof child->buf, G_PRIORITY_DEFAULT, NULL,
                             child_read_cb, child);
}

static void
child_splice_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Child *child = user_data;

  g_output_stream_splice_finish (G_OUTPUT_STREAM (object), result, &child->error);
  g_assert_no_error (child->error);
  child->err_done = TRUE;
}

static void
child_wait_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Child *child = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, &child->error);
  g_assert_no_error (child->error);
  child->waited = TRUE;
}

static Child *
child_spawn (Fixture            *fixture,
             const char         *data_home,
             const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (fixture, data_home);
  g_auto(GStrv) argv = confab_cli_argv (args);
  g_autoptr(GError) error = NULL;
  Child *child = g_new0 (Child, 1);

  child->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv, &error);
  g_assert_no_error (error);
  child->out = g_string_new (NULL);
  child->chunks = g_array_new (FALSE, FALSE, sizeof (Chunk));
  child->err = G_MEMORY_OUTPUT_STREAM (g_memory_output_stream_new_resizable ());

  g_output_stream_close (g_subprocess_get_stdin_pipe (child->proc), NULL, &error);
  g_assert_no_error (error);
  child_read_next (child);
  g_output_stream_splice_async (G_OUTPUT_STREAM (child->err), g_subprocess_get_stderr_pipe (child->proc),
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, NULL, child_splice_cb, child);
  g_subprocess_wait_async (child->proc, NULL, child_wait_cb, child);

  return child;
}

#define CHILD_SPAWN(fixture, ...) \
  child_spawn ((fixture), (fixture)->data_home, (const char * const[]) { __VA_ARGS__, NULL })

/* Runs the main loop until the child has exited and closed its output. */
static void
child_wait (Child *child)
{
  while (!child->out_eof || !child->err_done || !child->waited)
    g_main_context_iteration (NULL, TRUE);
}

/* What the child wrote to stderr so far (all of it, after child_wait). */
static char *
child_dup_err (Child *child)
{
  const char *data = g_memory_output_stream_get_data (child->err);

  return data != NULL ? g_strndup (data, g_memory_output_stream_get_data_size (child->err)) : g_strdup ("");
}

static void
child_free (Child *child)
{
  g_clear_object (&child->proc);
  g_string_free (child->out, TRUE);
  g_array_unref (child->chunks);
  g_clear_object (&child->err);
  g_free (child);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Child, child_free)

/* Bytes of stdout read by @time. */
static gsize
child_printed_by (Child  *child,
                  gint64  time)
{
  gsize len = 0;

  for (guint i = 0; i < child->chunks->len; i++)
    {
      const Chunk *chunk = &g_array_index (child->chunks, Chunk, i);

      if (chunk->time > time)
        break;
      len = chunk->end;
    }

  return len;
}

/* When stdout first grew past @len bytes (the arrival of byte len + 1). */
static gint64
child_time_past (Child *child,
                 gsize  len)
{
  for (guint i = 0; i < child->chunks->len; i++)
    {
      const Chunk *chunk = &g_array_index (child->chunks, Chunk, i);

      if (chunk->end > len)
        return chunk->time;
    }

  g_assert_not_reached ();
}

/* 1. --save, then every conversations command on what it saved. */
static void
test_save (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autofree char *expected = confab_test_fixture_contents ("openai", "stream-text.expected.txt", NULL);
  g_autofree char *expected_err = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *markdown = NULL;
  g_autoptr(ConfabCliResult) result = NULL;
  g_autoptr(ConfabCliResult) list = NULL;
  g_autoptr(ConfabCliResult) search = NULL;
  g_autoptr(ConfabCliResult) delete = NULL;
  g_autoptr(ConfabCliResult) shown = NULL;
  g_autoptr(ConfabCliResult) listed = NULL;
  g_autoptr(JsonNode) exported = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) fields = NULL;
  const char *prompt = "Say hello to the store";
  JsonObject *message;
  gint64 id;

  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");

  result = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "gpt-4o-mini", "--save", prompt);

  assert_exit (result, 0);
  g_assert_cmpstr (result->out, ==, expected);
  id = conversation_id (result->err);
  expected_err = g_strdup_printf ("confab-cli: conversation %" G_GINT64_FORMAT "\n", id);
  g_assert_cmpstr (result->err, ==, expected_err);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  /* list: ID, updated, title, model, number of messages. */
  list = RUN_CLI (fixture, "conversations", "list");
  assert_exit (list, 0);
  g_assert_cmpstr (list->err, ==, "");
  lines = g_strsplit (list->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_cmpstr (lines[1], ==, "");
  fields = g_strsplit (lines[0], "\t", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  g_assert_cmpstr (fields[0], ==, id_text);
  g_assert_cmpstr (fields[2], ==, prompt);
  g_assert_cmpstr (fields[3], ==, "gpt-4o-mini");
  g_assert_cmpstr (fields[4], ==, "2");

  /* show: the prompt, then the whole reply, as it was printed. */
  markdown = show (fixture, fixture->data_home, id);
  ASSERT_IN_ORDER (markdown, "# Say hello to the store\n", "## You\n\n", prompt, "## Assistant\n\n", expected);
  g_assert_null (strstr (markdown, "*Reply "));

  /* search: a word that is only in the reply. */
  search = RUN_CLI (fixture, "conversations", "search", "quoted");
  assert_exit (search, 0);
  g_assert_true (g_str_has_prefix (search->out, id_text));
  g_assert_cmpint (search->out[strlen (id_text)], ==, '\t');
  g_assert_nonnull (strstr (search->out, prompt));

  /* export: the format, both messages as they were. */
  exported = export_json (fixture, fixture->data_home, id);
  g_assert_cmpuint (export_n_messages (exported), ==, 2);
  message = export_message (exported, 0);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, prompt);
  message = export_message (exported, 1);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, expected);
  g_assert_cmpstr (json_object_get_string_member (message, "state"), ==, "complete");

  /* delete: gone from show and list. */
  delete = RUN_CLI (fixture, "conversations", "delete", id_text);
  assert_exit (delete, 0);
  g_assert_cmpstr (delete->out, ==, "");
  g_assert_cmpstr (delete->err, ==, "");

  shown = RUN_CLI (fixture, "conversations", "show", id_text);
  assert_exit (shown, 1);
  g_assert_cmpstr (shown->out, ==, "");
  confab_cli_assert_one_error_line (shown->err);
  g_assert_true (contains_nocase (shown->err, "no conversation"));
  g_assert_nonnull (strstr (shown->err, id_text));

  listed = RUN_CLI (fixture, "conversations", "list");
  assert_exit (listed, 0);
  g_assert_cmpstr (listed->out, ==, "");
}

/* 2. --continue sends the history and appends to it. */
static void
test_continue (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autofree char *expected = confab_test_fixture_contents ("openai", "stream-text.expected.txt", NULL);
  g_autofree char *second_text = NULL;
  g_autofree char *id_text = NULL;
  g_autofree char *markdown = NULL;
  g_autoptr(GBytes) second_body = confab_test_generate_openai_stream (12, &second_text);
  g_autoptr(ConfabCliResult) first = NULL;
  g_autoptr(ConfabCliResult) second = NULL;
  g_autoptr(ConfabCliResult) missing = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) exported = NULL;
  ConfabTestResponse *resp;
  JsonObject *obj;
  JsonArray *messages;
  const char *roles[] = { "user", "assistant", "user" };
  const char *contents[] = { "First question", expected, "Second question" };
  gint64 id;

  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");
  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, second_body);

  first = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "gpt-4o-mini", "--save",
                   "First question");
  assert_exit (first, 0);
  id = conversation_id (first->err);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  /* No --model: the conversation's. */
  second = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--continue", id_text, "Second question");
  assert_exit (second, 0);
  g_assert_cmpstr (second->out, ==, second_text);
  g_assert_cmpint (conversation_id (second->err), ==, id);

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 2);
  body = request_body (fixture, 1);
  obj = json_node_get_object (body);
  g_assert_cmpstr (json_object_get_string_member (obj, "model"), ==, "gpt-4o-mini");
  messages = json_object_get_array_member (obj, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, G_N_ELEMENTS (roles));
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);

      g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, roles[i]);
      g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, contents[i]);
    }

  markdown = show (fixture, fixture->data_home, id);
  ASSERT_IN_ORDER (markdown,
                   "## You\n\nFirst question\n", "## Assistant\n\n", expected,
                   "## You\n\nSecond question\n", "## Assistant\n\n", second_text);
  g_assert_null (strstr (markdown, "*Reply "));

  exported = export_json (fixture, fixture->data_home, id);
  g_assert_cmpuint (export_n_messages (exported), ==, 4);

  /* An unknown conversation: an error, and nothing sent. */
  missing = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "m", "--continue", "999", "Third");
  assert_exit (missing, 1);
  g_assert_cmpstr (missing->out, ==, "");
  confab_cli_assert_one_error_line (missing->err);
  g_assert_nonnull (strstr (missing->err, "999"));
  g_assert_true (contains_nocase (missing->err, "no conversation"));
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 2);
}

/* 3a. An error event mid-stream: the partial text is saved as failed,
 * with the server's message. */
static void
test_save_error_midway (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(ConfabCliResult) result = NULL;
  g_autoptr(JsonNode) exported = NULL;
  g_autofree char *markdown = NULL;
  JsonObject *reply;
  gint64 id;

  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-error-midway.sse");
  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");

  result = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "some/model", "--save", "hi");

  assert_exit (result, 1);
  g_assert_cmpstr (result->out, ==, "Partial ans");
  id = conversation_id (result->err);
  g_assert_nonnull (strstr (result->err, "Upstream provider returned an error"));

  markdown = show (fixture, fixture->data_home, id);
  ASSERT_IN_ORDER (markdown, "## You\n\nhi\n", "## Assistant\n\n", "Partial ans\n", "*Reply failed: ");
  g_assert_true (g_regex_match_simple ("^\\*Reply failed: .*Upstream provider returned an error.*\\*$",
                                       markdown, G_REGEX_MULTILINE, 0));

  exported = export_json (fixture, fixture->data_home, id);
  reply = export_message (exported, 1);
  g_assert_cmpstr (json_object_get_string_member (reply, "content"), ==, "Partial ans");
  g_assert_cmpstr (json_object_get_string_member (reply, "state"), ==, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (reply, "error"), "Upstream provider returned an error"));

  /* Continuing does not send the failed fragment back as if the model
   * had said it. */
  {
    g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
    g_autoptr(ConfabCliResult) again = NULL;
    g_autoptr(JsonNode) body = NULL;
    JsonArray *messages;

    again = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--continue", id_text, "Try again");
    assert_exit (again, 0);
    body = request_body (fixture, 1);
    messages = json_object_get_array_member (json_node_get_object (body), "messages");
    g_assert_cmpuint (json_array_get_length (messages), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "content"), ==, "hi");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 1), "content"), ==,
                     "Try again");
  }
}

/* 3b. SIGINT while the server stalls: exit 130, the partial reply saved
 * as stopped. On the way, the user's message is in the store while the
 * request is still open. */
static void
test_save_sigint (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(Child) child = NULL;
  g_autoptr(JsonNode) exported = NULL;
  g_autofree char *err_text = NULL;
  g_autofree char *during = NULL;
  g_autofree char *markdown = NULL;
  const char *partial = "Hello! Here is";
  ConfabTestResponse *resp;
  JsonObject *reply;
  gint64 id = 0;

  resp = add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_STALL,
                                  offset_after_event ("openai", "stream-text.sse", 3));

  child = CHILD_SPAWN (fixture, "--base-url", fixture->openai_url, "--model", "m", "--timeout", "0",
                       "--save", "Tell me something");

  while (confab_test_server_get_n_requests (fixture->server) == 0 || !g_str_equal (child->out->str, partial) ||
         id == 0)
    {
      g_assert_false (child->out_eof);
      g_assert_cmpuint (child->out->len, <=, strlen (partial));
      g_main_context_iteration (NULL, TRUE);
      if (id == 0)
        {
          g_autofree char *err_so_far = child_dup_err (child);
          id = find_conversation_id (err_so_far);
        }
    }
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 1);

  /* Committed before the request went out. (Opening the store from here
   * also marks the reply being written "stopped" for now, so its state is
   * not checked until the writer has closed it.) */
  during = show (fixture, fixture->data_home, id);
  ASSERT_IN_ORDER (during, "## You\n\nTell me something\n", "## Assistant\n\n");

  g_subprocess_send_signal (child->proc, SIGINT);
  child_wait (child);

  err_text = child_dup_err (child);
  g_test_message ("stdout: %s; stderr: %s", child->out->str, err_text);
  g_assert_true (g_subprocess_get_if_exited (child->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (child->proc), ==, 130);
  g_assert_cmpstr (child->out->str, ==, partial);
  g_assert_cmpint (conversation_id (err_text), ==, id);

  while (confab_test_server_get_n_active (fixture->server) > 0)
    g_main_context_iteration (NULL, TRUE);

  markdown = show (fixture, fixture->data_home, id);
  ASSERT_IN_ORDER (markdown, "## You\n\nTell me something\n", "## Assistant\n\n", partial, "\n\n*Reply stopped.*\n");

  exported = export_json (fixture, fixture->data_home, id);
  reply = export_message (exported, 1);
  g_assert_cmpstr (json_object_get_string_member (reply, "content"), ==, partial);
  g_assert_cmpstr (json_object_get_string_member (reply, "state"), ==, "stopped");
}

/* 4. export --all, import elsewhere, export again: the same document. */
static void
test_import_export (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autofree char *other_home = make_dir (fixture->tmp_dir, "other-data");
  g_autofree char *file = g_build_filename (fixture->tmp_dir, "export.json", NULL);
  g_autofree char *garbage = g_build_filename (fixture->tmp_dir, "garbage.json", NULL);
  g_autofree char *id_text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ConfabCliResult) first = NULL;
  g_autoptr(ConfabCliResult) second = NULL;
  g_autoptr(ConfabCliResult) third = NULL;
  g_autoptr(ConfabCliResult) exported = NULL;
  g_autoptr(ConfabCliResult) imported = NULL;
  g_autoptr(ConfabCliResult) bad = NULL;
  g_autoptr(ConfabCliResult) listed = NULL;
  g_autoptr(JsonNode) original = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) rows = NULL;
  gint64 id;

  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");
  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");
  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-error-midway.sse");

  /* Three exchanges in two conversations, one failed. */
  first = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "gpt-4o-mini",
                   "--system", "Be brief.", "--save", "One");
  assert_exit (first, 0);
  id = conversation_id (first->err);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  second = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--continue", id_text, "Two");
  assert_exit (second, 0);
  third = RUN_CLI (fixture, "--base-url", fixture->openai_url, "--model", "some/model", "--save", "Three");
  assert_exit (third, 1);

  exported = RUN_CLI (fixture, "conversations", "export", "--all", "--format", "json");
  assert_exit (exported, 0);
  g_assert_cmpstr (exported->err, ==, "");
  g_file_set_contents (file, exported->out, -1, &error);
  g_assert_no_error (error);
  original = parse_json (exported->out, -1);
  g_assert_cmpuint (json_array_get_length (export_conversations (original)), ==, 2);

  imported = RUN_CLI_IN (fixture, other_home, "conversations", "import", file);
  assert_exit (imported, 0);
  ids = g_strsplit (imported->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  g_assert_cmpstr (ids[2], ==, "");
  g_assert_nonnull (strstr (imported->err, "imported 2 conversations"));

  again = export_json (fixture, other_home, 0);
  json_object_remove_member (json_node_get_object (original), "exported_at");
  json_object_remove_member (json_node_get_object (again), "exported_at");
  if (!json_node_equal (original, again))
    {
      g_autofree char *a = json_to_string (original, TRUE);
      g_autofree char *b = json_to_string (again, TRUE);

      g_error ("The re-exported document differs.\nBefore:\n%s\nAfter:\n%s", a, b);
    }

  /* Garbage: a specific message, and nothing imported. */
  g_file_set_contents (garbage, "this is not { JSON", -1, &error);
  g_assert_no_error (error);
  bad = RUN_CLI_IN (fixture, other_home, "conversations", "import", garbage);
  assert_exit (bad, 1);
  g_assert_cmpstr (bad->out, ==, "");
  confab_cli_assert_one_error_line (bad->err);
  g_assert_nonnull (strstr (bad->err, "could not import"));
  g_assert_nonnull (strstr (bad->err, garbage));
  g_assert_nonnull (strstr (bad->err, "Not a JSON document"));

  listed = RUN_CLI_IN (fixture, other_home, "conversations", "list");
  assert_exit (listed, 0);
  rows = g_strsplit (listed->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 3);
}

/* 5. --provider: a stored configuration, here a local server without a
 * key. */
static void
test_provider (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autofree char *expected = confab_test_fixture_contents ("openai", "stream-text.expected.txt", NULL);
  g_autoptr(ConfabCliResult) added = NULL;
  g_autoptr(ConfabCliResult) result = NULL;
  g_autoptr(ConfabCliResult) unknown = NULL;
  g_autoptr(ConfabCliResult) both = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_auto(GStrv) err_lines = NULL;

  add_fixture (fixture, "/v1/chat/completions", "openai", "stream-text.sse");

  added = RUN_CLI (fixture, "providers", "add", "local", "--api", "openai", "--base-url", fixture->openai_url,
                   "--model", "m1");
  assert_exit (added, 0);

  result = RUN_CLI (fixture, "--provider", "local", "hi");
  assert_exit (result, 0);
  g_assert_cmpstr (result->out, ==, expected);
  /* Without a keyring, at most a warning that no key could be looked up. */
  err_lines = g_strsplit (result->err, "\n", -1);
  for (guint i = 0; err_lines[i] != NULL && err_lines[i][0] != '\0'; i++)
    g_assert_true (g_str_has_prefix (err_lines[i], "confab-cli: warning: "));

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_path (fixture->server, 0), ==, "/v1/chat/completions");
  g_assert_null (confab_test_server_get_request_header (fixture->server, 0, "Authorization"));
  body = request_body (fixture, 0);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (body), "model"), ==, "m1");

  unknown = RUN_CLI (fixture, "--provider", "nope", "hi");
  assert_exit (unknown, 2);
  g_assert_cmpstr (unknown->out, ==, "");
  g_assert_true (g_str_has_prefix (unknown->err, "confab-cli: "));
  g_assert_nonnull (strstr (unknown->err, "nope"));
  g_assert_nonnull (strstr (unknown->err, "no provider"));

  both = RUN_CLI (fixture, "--provider", "local", "--api", "ollama", "hi");
  assert_exit (both, 2);
  g_assert_cmpstr (both->out, ==, "");
  g_assert_true (g_str_has_prefix (both->err, "confab-cli: "));
  g_assert_nonnull (strstr (both->err, "--provider"));

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
}

/* 6. Durability: confab-cli --save killed with SIGKILL mid-stream keeps
 * everything up to its last flush, at most about a second behind what
 * it printed. */

/* Complete tokens within the first @len bytes of the stream's text;
 * @bounds[i] is the length of the first i tokens. */
static guint
tokens_in (const gsize *bounds,
           gsize        len)
{
  guint n = 0;

  while (n < SLOW_TOKENS && bounds[n + 1] <= len)
    n++;

  return n;
}

static void
test_durability (Fixture       *fixture,
                 gconstpointer  user_data)
{
  /* About 1.5 s, 2.5 s, 2.9 s and 4 s into the stream. The recorder
   * flushes every second from about when the request went out, so 2.9 s
   * is late in a flush interval: close to the most a kill can lose. */
  static const guint kill_tokens[] = { 60, 100, 116, 160 };
  g_autofree char *text = NULL;
  g_autoptr(GBytes) stream = confab_test_generate_openai_stream (SLOW_TOKENS, &text);
  gsize bounds[SLOW_TOKENS + 1];
  ConfabTestResponse *resp;

  for (guint i = 0; i <= SLOW_TOKENS; i++)
    {
      g_autofree char *prefix = NULL;

      g_bytes_unref (confab_test_generate_openai_stream (i, &prefix));
      g_assert_true (g_str_has_prefix (text, prefix));
      bounds[i] = strlen (prefix);
    }

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, stream);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_delay (resp, SLOW_DELAY_MS);

  for (guint k = 0; k < G_N_ELEMENTS (kill_tokens); k++)
    {
      g_autofree char *prompt = g_strdup_printf ("Durability run %u", k + 1);
      g_autofree char *user_heading = g_strdup_printf ("## You\n\n%s\n", prompt);
      g_autofree char *err_text = NULL;
      g_autofree char *expected_err = NULL;
      g_autofree char *markdown = NULL;
      g_autoptr(JsonNode) exported = NULL;
      g_autoptr(Child) child = NULL;
      guint request = confab_test_server_get_n_requests (fixture->server);
      JsonObject *user;
      JsonObject *reply;
      const char *saved;
      gsize saved_len;
      gsize printed_len;
      gsize floor_len;
      guint printed_tokens;
      guint saved_tokens;
      gint64 request_time;
      gint64 first_time;
      gint64 lost_usec;
      double pace;
      gint64 id;

      child = CHILD_SPAWN (fixture, "--base-url", fixture->openai_url, "--model", "m", "--save", prompt);
      child->kill_at = bounds[kill_tokens[k]];
      child_wait (child);

      err_text = child_dup_err (child);
      g_assert_true (child->killed);
      g_assert_true (g_subprocess_get_if_signaled (child->proc));
      g_assert_cmpint (g_subprocess_get_term_sig (child->proc), ==, SIGKILL);

      /* Only the id line: nothing ended the reply. */
      id = conversation_id (err_text);
      expected_err = g_strdup_printf ("confab-cli: conversation %" G_GINT64_FORMAT "\n", id);
      g_assert_cmpstr (err_text, ==, expected_err);

      /* Everything it printed, the bytes still in the pipe at the kill
       * included, is the start of the stream. */
      printed_len = child->out->len;
      g_assert_cmpuint (printed_len, >=, child->kill_at);
      g_assert_cmpuint (printed_len, <, bounds[SLOW_TOKENS]);
      g_assert_true (strncmp (child->out->str, text, printed_len) == 0);

      g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, request + 1);
      request_time = confab_test_server_get_request_time (fixture->server, request);
      while (confab_test_server_get_n_active (fixture->server) > 0)
        g_main_context_iteration (NULL, TRUE);

      /* The next open marks the reply it was writing stopped. */
      markdown = show (fixture, fixture->data_home, id);
      ASSERT_IN_ORDER (markdown, user_heading, "## Assistant\n\n");
      g_assert_true (g_str_has_suffix (markdown, "\n*Reply stopped.*\n"));
      g_assert_null (strstr (markdown, "*Reply still being written.*"));

      exported = export_json (fixture, fixture->data_home, id);
      g_assert_cmpuint (export_n_messages (exported), ==, 2);
      user = export_message (exported, 0);
      g_assert_cmpstr (json_object_get_string_member (user, "role"), ==, "user");
      g_assert_cmpstr (json_object_get_string_member (user, "content"), ==, prompt);
      reply = export_message (exported, 1);
      g_assert_cmpstr (json_object_get_string_member (reply, "role"), ==, "assistant");
      g_assert_cmpstr (json_object_get_string_member (reply, "state"), ==, "stopped");
      saved = json_object_get_string_member (reply, "content");
      saved_len = strlen (saved);

      /* What is saved was printed... */
      g_assert_cmpuint (saved_len, <=, printed_len);
      g_assert_true (strncmp (saved, child->out->str, saved_len) == 0);
      if (saved_len > 0)
        g_assert_nonnull (strstr (markdown, saved));

      /* ...and everything printed 2 s (one flush interval and then some)
       * before the kill is saved: a bound on what a kill can lose, not a
       * timing of the machine. */
      floor_len = child_printed_by (child, child->kill_time - 2 * G_USEC_PER_SEC);
      g_assert_cmpuint (saved_len, >=, floor_len);

      /* The loss: in bytes, in tokens, and in time, from when stdout
       * first went past what was saved to the kill. */
      printed_tokens = tokens_in (bounds, printed_len);
      saved_tokens = tokens_in (bounds, saved_len);
      lost_usec = saved_len < printed_len ? child->kill_time - child_time_past (child, saved_len) : 0;
      first_time = g_array_index (child->chunks, Chunk, 0).time;
      pace = printed_tokens > 0 ? (double)(child->kill_time - first_time) / G_USEC_PER_SEC / printed_tokens : 0;

      g_test_message ("kill after %.1f s: printed %u bytes, saved %u bytes, lost %.2f s of stream",
                      (double)(child->kill_time - request_time) / G_USEC_PER_SEC,
                      (guint)printed_len, (guint)saved_len, (double)lost_usec / G_USEC_PER_SEC);
      g_test_message ("  printed %u tokens, saved %u, lost %u tokens = %.2f s at the stream's pace "
                      "(%.1f ms/token); %u bytes were read after the kill",
                      printed_tokens, saved_tokens, printed_tokens - saved_tokens,
                      (printed_tokens - saved_tokens) * pace, pace * 1000,
                      (guint)(printed_len - child->killed_len));
      g_assert_cmpint (lost_usec, <=, 2 * G_USEC_PER_SEC);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("CONFAB_CLI") == NULL)
    {
      g_printerr ("CONFAB_CLI must name the confab-cli binary\n");
      return 1;
    }

#define ADD_TEST(path, data, func) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD_TEST ("/cli-store/save", NULL, test_save);
  ADD_TEST ("/cli-store/continue", NULL, test_continue);
  ADD_TEST ("/cli-store/save-error-midway", NULL, test_save_error_midway);
  ADD_TEST ("/cli-store/save-sigint", NULL, test_save_sigint);
  ADD_TEST ("/cli-store/import-export", NULL, test_import_export);
  ADD_TEST ("/cli-store/provider", NULL, test_provider);
  ADD_TEST ("/cli-store/durability", NULL, test_durability);

#undef ADD_TEST

  return g_test_run ();
}
