/* test-store.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* ConfabStore against real SQLite files, each test in its own temporary
 * folder: every operation, the worker thread, streaming and recovery,
 * branches, search, the migration of a version 1 file (a fixture made by
 * tests/fixtures/store/make-v1-db.sh), and what happens with a newer
 * schema, a damaged file, a lock and a full disk. No test sleeps: each
 * iterates the main context until its results arrive. The files are
 * checked with SQLite directly once the store is closed.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "confab-engine.h"
#include "confab-store-private.h"

/* Long enough never to fire in a healthy test (a lock costs the store's
 * 3 s busy timeout twice), short enough to fail before meson's timeout. */
#define DEFAULT_TIMEOUT_S 30

/* Where the full-disk test's subprocess finds its database. */
#define FULL_DISK_ENV "CONFAB_TEST_STORE_FULL_DISK_DB"

static GThread *test_thread;

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

/* Temporary folders */

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("confab-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "confab.db", NULL);
}

static void
remove_recursively (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      const char *name;

      g_assert_no_error (error);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_recursively (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    {
      g_assert_cmpint (g_remove (path), ==, 0);
    }
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  remove_recursively (fixture->dir);
  g_assert_false (g_file_test (fixture->dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->path, g_free);
}

static char *
file_checksum (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, len);
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (from, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, contents, len, &error);
  g_assert_no_error (error);
}

/* Waiting for the worker */

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_for_pointer (gpointer   *slot,
                  const char *what)
{
  GSource *timeout = g_timeout_source_new_seconds (DEFAULT_TIMEOUT_S);
  gboolean timed_out = FALSE;

  g_source_set_callback (timeout, set_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, NULL);
  while (*slot == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);

  if (*slot == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("Timed out waiting for %s", what);

      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  /* Results arrive on the caller's thread, never on the worker. */
  g_assert_true (g_thread_self () == test_thread);
  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

#define wait_for_result(slot) wait_for_pointer ((gpointer *)(slot), G_STRINGIFY (slot))

/* The store, synchronously */

static ConfabStore *
open_store (const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  ConfabStore *store;

  confab_store_new_async (path, NULL, result_cb, &result);
  wait_for_result (&result);
  store = confab_store_new_finish (result, &error);
  g_assert_no_error (error);
  g_assert_true (CONFAB_IS_STORE (store));
  g_assert_cmpstr (confab_store_get_path (store), ==, path);

  return store;
}

/* Drops the last reference and waits until the store is finalized: its
 * worker joined, the database closed (and, in WAL mode, checkpointed).
 *
 * The context is held meanwhile, as g_main_loop_run() and
 * g_application_run() hold it, so that the worker cannot release a task
 * (and with it the store) on its own thread whatever worker_main() does;
 * /store/worker/release checks that it never does. */
static void
close_store (ConfabStore **store)
{
  GSource *timeout = g_timeout_source_new_seconds (DEFAULT_TIMEOUT_S);
  gboolean timed_out = FALSE;

  g_assert_true (g_main_context_acquire (NULL));
  g_source_set_callback (timeout, set_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, NULL);

  g_object_add_weak_pointer (G_OBJECT (*store), (gpointer *)store);
  g_object_unref (*store);
  while (*store != NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_main_context_release (NULL);
  g_assert_null (*store);
}

static GPtrArray *
list_conversations (ConfabStore *store,
                    guint        limit,
                    gboolean     include_archived)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *conversations;

  confab_store_list_conversations_async (store, limit, include_archived, NULL, result_cb, &result);
  wait_for_result (&result);
  conversations = confab_store_list_conversations_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conversations);

  return conversations;
}

static ConfabConversation *
get_conversation (ConfabStore  *store,
                  gint64        id,
                  GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_get_conversation_async (store, id, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_get_conversation_finish (store, result, error);
}

static ConfabConversation *
create_conversation_full (ConfabStore         *store,
                          ConfabConversation  *draft,
                          GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_create_conversation_async (store, draft, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_create_conversation_finish (store, result, error);
}

static ConfabConversation *
create_conversation (ConfabStore *store,
                     const char  *title)
{
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(GError) error = NULL;
  ConfabConversation *conversation;

  confab_conversation_set_title (draft, title);
  conversation = create_conversation_full (store, draft, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conversation);
  g_assert_cmpint (confab_conversation_get_id (conversation), >, 0);

  return conversation;
}

static gboolean
set_tool_access (ConfabStore        *store,
                 gint64              id,
                 const char * const *folders,
                 gboolean            allow_private_network,
                 GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_set_tool_access_async (store, id, folders, allow_private_network, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_set_tool_access_finish (store, result, error);
}

static gboolean
update_conversation (ConfabStore         *store,
                     ConfabConversation  *conversation,
                     GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_update_conversation_async (store, conversation, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_update_conversation_finish (store, result, error);
}

static gboolean
delete_conversation (ConfabStore  *store,
                     gint64        id,
                     GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_delete_conversation_async (store, id, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_delete_conversation_finish (store, result, error);
}

static GPtrArray *
load_messages (ConfabStore  *store,
               gint64        conversation_id,
               GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_load_messages_async (store, conversation_id, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_load_messages_finish (store, result, error);
}

static GPtrArray *
load_messages_ok (ConfabStore *store,
                  gint64       conversation_id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *messages = load_messages (store, conversation_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (messages);
  return messages;
}

static GPtrArray *
load_page_ok (ConfabStore *store,
              gint64       conversation_id,
              gint64       last_id,
              guint        limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *messages;

  confab_store_load_messages_page_async (store, conversation_id, last_id, limit, NULL, result_cb, &result);
  wait_for_result (&result);
  messages = confab_store_load_messages_page_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (messages);
  return messages;
}

static gint64
add_message (ConfabStore    *store,
             gint64          conversation_id,
             ConfabMessage  *message,
             GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_add_message_async (store, conversation_id, message, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_add_message_finish (store, result, error);
}

/* Adds a message with @content after @parent_id (0: the current leaf,
 * -1: a new first message) and returns its id. */
static gint64
add_text (ConfabStore *store,
          gint64       conversation_id,
          ConfabRole   role,
          const char  *content,
          gint64       parent_id)
{
  g_autoptr(ConfabMessage) message = confab_message_new (role, content);
  g_autoptr(GError) error = NULL;
  gint64 id;

  confab_message_set_parent_id (message, parent_id);
  id = add_message (store, conversation_id, message, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static gint64
add_streaming (ConfabStore *store,
               gint64       conversation_id,
               const char  *content)
{
  g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_ASSISTANT, content);
  g_autoptr(GError) error = NULL;
  gint64 id;

  confab_message_set_state (message, CONFAB_MESSAGE_STREAMING);
  id = add_message (store, conversation_id, message, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static gboolean
append_to_message (ConfabStore  *store,
                   gint64        message_id,
                   const char   *text,
                   const char   *reasoning,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_append_to_message_async (store, message_id, text, reasoning, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_append_to_message_finish (store, result, error);
}

static gboolean
finish_message (ConfabStore    *store,
                ConfabMessage  *message,
                GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_finish_message_async (store, message, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_finish_message_finish (store, result, error);
}

/* Closes a streaming message with @content, complete. */
static void
finish_text (ConfabStore *store,
             gint64       message_id,
             const char  *content)
{
  g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_ASSISTANT, content);
  g_autoptr(GError) error = NULL;

  confab_message_set_id (message, message_id);
  confab_message_set_state (message, CONFAB_MESSAGE_COMPLETE);
  g_assert_true (finish_message (store, message, &error));
  g_assert_no_error (error);
}

static GArray *
list_siblings (ConfabStore  *store,
               gint64        message_id,
               GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_list_siblings_async (store, message_id, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_list_siblings_finish (store, result, error);
}

static gboolean
switch_branch (ConfabStore  *store,
               gint64        message_id,
               GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_switch_branch_async (store, message_id, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_switch_branch_finish (store, result, error);
}

static GPtrArray *
search (ConfabStore  *store,
        const char   *query,
        guint         limit,
        GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_search_async (store, query, limit, NULL, result_cb, &result);
  wait_for_result (&result);
  return confab_store_search_finish (store, result, error);
}

static GPtrArray *
search_ok (ConfabStore *store,
           const char  *query)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *hits = search (store, query, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (hits);
  return hits;
}

static ConfabSearchHit *
hit_at (GPtrArray *hits,
        guint      i)
{
  g_assert_cmpuint (i, <, hits->len);
  return g_ptr_array_index (hits, i);
}

static ConfabMessage *
message_at (GPtrArray *messages,
            guint      i)
{
  g_assert_cmpuint (i, <, messages->len);
  return g_ptr_array_index (messages, i);
}

static ConfabConversation *
conversation_at (GPtrArray *conversations,
                 guint      i)
{
  g_assert_cmpuint (i, <, conversations->len);
  return g_ptr_array_index (conversations, i);
}

static char *
format_ids (const gint64 *ids,
            guint         n)
{
  GString *str = g_string_new ("[");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (str, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "", ids[i]);
  g_string_append_c (str, ']');
  return g_string_free (str, FALSE);
}

static void
assert_ids_equal (const char   *file,
                  int           line,
                  const char   *what,
                  const gint64 *actual,
                  guint         n_actual,
                  const gint64 *expected,
                  guint         n_expected)
{
  g_autofree char *actual_text = format_ids (actual, n_actual);
  g_autofree char *expected_text = format_ids (expected, n_expected);

  if (g_strcmp0 (actual_text, expected_text) != 0)
    {
      g_autofree char *msg = g_strdup_printf ("%s is %s, expected %s", what, actual_text, expected_text);

      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, msg);
    }
}

/* The ids of the current branch, oldest first, checking the parent links. */
static void
assert_branch_ids (const char   *file,
                   int           line,
                   ConfabStore  *store,
                   gint64        conversation_id,
                   const gint64 *expected,
                   guint         n_expected)
{
  g_autoptr(GPtrArray) messages = load_messages_ok (store, conversation_id);
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *ids = g_new0 (gint64, messages->len + 1);

  for (guint i = 0; i < messages->len; i++)
    {
      ConfabMessage *message = g_ptr_array_index (messages, i);

      ids[i] = confab_message_get_id (message);
      g_assert_cmpint (confab_message_get_parent_id (message), ==, i > 0 ? ids[i - 1] : -1);
    }
  assert_ids_equal (file, line, "The branch", ids, messages->len, expected, n_expected);

  conversation = get_conversation (store, conversation_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (confab_conversation_get_current_leaf (conversation), ==,
                   n_expected > 0 ? expected[n_expected - 1] : 0);
}

#define assert_branch(store, conversation_id, ...)                                         \
  G_STMT_START {                                                                           \
    const gint64 expected_[] = { __VA_ARGS__ };                                            \
    assert_branch_ids (__FILE__, __LINE__, store, conversation_id, expected_,              \
                       G_N_ELEMENTS (expected_));                                          \
  } G_STMT_END

#define assert_siblings(store, message_id, ...)                                            \
  G_STMT_START {                                                                           \
    const gint64 expected_[] = { __VA_ARGS__ };                                            \
    g_autoptr(GError) error_ = NULL;                                                       \
    g_autoptr(GArray) siblings_ = list_siblings (store, message_id, &error_);              \
    g_assert_no_error (error_);                                                            \
    assert_ids_equal (__FILE__, __LINE__, "The siblings", (gint64 *)(gpointer)siblings_->data, \
                      siblings_->len, expected_, G_N_ELEMENTS (expected_));                \
  } G_STMT_END

static void
assert_json_equal (JsonNode   *actual,
                   const char *expected_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) expected = json_from_string (expected_json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (actual);
  if (!json_node_equal (actual, expected))
    {
      g_autofree char *actual_text = json_to_string (actual, FALSE);
      g_autofree char *msg = g_strdup_printf ("JSON %s is not %s", actual_text, expected_json);

      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

static ConfabToolCall *
tool_call_new (const char *id,
               const char *name,
               const char *arguments_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) arguments = json_from_string (arguments_json, &error);

  g_assert_no_error (error);
  return confab_tool_call_new (id, name, arguments);
}

static void
assert_tool_call (ConfabToolCall *call,
                  const char     *id,
                  const char     *name,
                  const char     *arguments_json)
{
  g_assert_cmpstr (confab_tool_call_get_id (call), ==, id);
  g_assert_cmpstr (confab_tool_call_get_name (call), ==, name);
  g_assert_null (confab_tool_call_get_arguments_error (call));
  assert_json_equal (confab_tool_call_get_arguments (call), arguments_json);
}

/* The file, with SQLite directly (only while no store has it open) */

static sqlite3 *
db_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  return db;
}

static void
db_exec (sqlite3    *db,
         const char *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    {
      g_autofree char *msg = g_strdup_printf ("“%s” failed: %s", sql, message);

      sqlite3_free (message);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

static char *
db_query (const char *path,
          const char *sql)
{
  sqlite3 *db = db_open (path);
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  g_assert_cmpint (sqlite3_finalize (stmt), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  return value;
}

static gint64
db_query_int (const char *path,
              const char *sql)
{
  g_autofree char *value = db_query (path, sql);

  g_assert_nonnull (value);
  return g_ascii_strtoll (value, NULL, 10);
}

/* The full-text index matches the messages table, row for row. */
static void
assert_file_consistent (const char *path)
{
  g_autofree char *integrity = db_query (path, "PRAGMA integrity_check");
  sqlite3 *db;

  g_assert_cmpstr (integrity, ==, "ok");
  g_assert_null (db_query (path, "PRAGMA foreign_key_check"));

  db = db_open (path);
  db_exec (db, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* Makes a version 2 database with one conversation of two messages. */
static void
make_database (const char *path,
               const char *title)
{
  g_autoptr(ConfabStore) store = open_store (path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, title);
  gint64 id = confab_conversation_get_id (conversation);

  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  add_text (store, id, CONFAB_ROLE_USER, "What is a quokka?", 0);
  add_text (store, id, CONFAB_ROLE_ASSISTANT, "A small marsupial from Western Australia.", 0);
  close_store (&store);

  /* Closed cleanly: one file, checkpointed. */
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* Asserts that @store has the conversation make_database() wrote. */
static void
assert_made_database (ConfabStore *store,
                      const char  *title)
{
  g_autoptr(GPtrArray) conversations = list_conversations (store, 0, TRUE);
  g_autoptr(GPtrArray) messages = NULL;
  ConfabConversation *conversation;

  g_assert_cmpuint (conversations->len, ==, 1);
  conversation = conversation_at (conversations, 0);
  g_assert_cmpstr (confab_conversation_get_title (conversation), ==, title);
  g_assert_cmpuint (confab_conversation_get_n_messages (conversation), ==, 2);

  messages = load_messages_ok (store, confab_conversation_get_id (conversation));
  g_assert_cmpuint (messages->len, ==, 2);
  g_assert_cmpstr (confab_message_get_content (message_at (messages, 0)), ==, "What is a quokka?");
  g_assert_cmpstr (confab_message_get_content (message_at (messages, 1)), ==,
                   "A small marsupial from Western Australia.");
}

/* Tests */

static void
test_conversation_operations (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "not", "yet", "there", "confab.db", NULL);
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(ConfabConversation) created = NULL;
  g_autoptr(ConfabConversation) got = NULL;
  g_autoptr(ConfabConversation) other = NULL;
  g_autoptr(ConfabConversation) missing = confab_conversation_new (424242);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before = g_get_real_time () / 1000;
  gint64 after;
  gint64 id;

  /* The default is under XDG_DATA_HOME (only computed here, never opened). */
  {
    g_autofree char *default_path = confab_store_get_default_path ();
    g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "confab", "confab.db", NULL);

    g_assert_cmpstr (default_path, ==, expected);
  }

  /* Missing folders are made. */
  store = open_store (path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  g_assert_null (confab_store_get_open_error (store));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  confab_conversation_set_title (draft, "Quokkas");
  confab_conversation_set_provider (draft, "openai");
  confab_conversation_set_model (draft, "gpt-4o-mini");
  confab_conversation_set_system_prompt (draft, "Be brief.");
  created = create_conversation_full (store, draft, &error);
  g_assert_no_error (error);
  after = g_get_real_time () / 1000;

  id = confab_conversation_get_id (created);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpstr (confab_conversation_get_title (created), ==, "Quokkas");
  g_assert_cmpstr (confab_conversation_get_provider (created), ==, "openai");
  g_assert_cmpstr (confab_conversation_get_model (created), ==, "gpt-4o-mini");
  g_assert_cmpstr (confab_conversation_get_system_prompt (created), ==, "Be brief.");
  g_assert_cmpint (confab_conversation_get_created_at (created), >=, before);
  g_assert_cmpint (confab_conversation_get_created_at (created), <=, after);
  g_assert_cmpint (confab_conversation_get_updated_at (created), ==,
                   confab_conversation_get_created_at (created));
  g_assert_false (confab_conversation_get_pinned (created));
  g_assert_false (confab_conversation_get_archived (created));
  g_assert_cmpint (confab_conversation_get_current_leaf (created), ==, 0);
  g_assert_cmpuint (confab_conversation_get_n_messages (created), ==, 0);

  got = get_conversation (store, id, &error);
  g_assert_no_error (error);
  g_assert_true (got != created);
  g_assert_cmpint (confab_conversation_get_id (got), ==, id);
  g_assert_cmpstr (confab_conversation_get_title (got), ==, "Quokkas");
  g_assert_cmpstr (confab_conversation_get_system_prompt (got), ==, "Be brief.");
  g_assert_cmpint (confab_conversation_get_created_at (got), ==, confab_conversation_get_created_at (created));
  g_clear_object (&got);

  /* An empty conversation has no messages. */
  messages = load_messages_ok (store, id);
  g_assert_cmpuint (messages->len, ==, 0);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* Rename, pin, archive, and clear the system prompt. */
  confab_conversation_set_title (created, "Quokkas, renamed");
  confab_conversation_set_pinned (created, TRUE);
  g_assert_true (update_conversation (store, created, &error));
  g_assert_no_error (error);
  got = get_conversation (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (confab_conversation_get_title (got), ==, "Quokkas, renamed");
  g_assert_true (confab_conversation_get_pinned (got));
  g_assert_false (confab_conversation_get_archived (got));
  g_clear_object (&got);

  confab_conversation_set_archived (created, TRUE);
  confab_conversation_set_system_prompt (created, NULL);
  confab_conversation_set_model (created, "gpt-4o");
  g_assert_true (update_conversation (store, created, &error));
  g_assert_no_error (error);
  got = get_conversation (store, id, &error);
  g_assert_no_error (error);
  g_assert_true (confab_conversation_get_pinned (got));
  g_assert_true (confab_conversation_get_archived (got));
  g_assert_null (confab_conversation_get_system_prompt (got));
  g_assert_cmpstr (confab_conversation_get_model (got), ==, "gpt-4o");
  g_assert_cmpstr (confab_conversation_get_provider (got), ==, "openai");
  /* Nothing granted to its tools yet. */
  g_assert_null (confab_conversation_get_tool_folders (got)[0]);
  g_assert_false (confab_conversation_get_tools_private_network (got));
  g_clear_object (&got);

  /* What the user granted to its tools is kept, folder names of any kind
   * included; updating the rest leaves it as it is. */
  {
    const char *folders[] = { "/home/ada/project", "/tmp/a \"quoted\" \xc3\xa9 folder", NULL };

    g_assert_true (set_tool_access (store, id, folders, TRUE, &error));
    g_assert_no_error (error);
    confab_conversation_set_title (created, "Quokkas, renamed again");
    g_assert_true (update_conversation (store, created, &error));
    got = get_conversation (store, id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (confab_conversation_get_title (got), ==, "Quokkas, renamed again");
    g_assert_cmpstrv (confab_conversation_get_tool_folders (got), folders);
    g_assert_true (confab_conversation_get_tools_private_network (got));
    g_clear_object (&got);

    g_assert_true (set_tool_access (store, id, NULL, FALSE, &error));
    got = get_conversation (store, id, &error);
    g_assert_no_error (error);
    g_assert_null (confab_conversation_get_tool_folders (got)[0]);
    g_assert_false (confab_conversation_get_tools_private_network (got));
    g_clear_object (&got);

    /* A new conversation starts with what its record says (a new chat's
     * grants become the conversation's). */
    {
      g_autoptr(ConfabConversation) granted = confab_conversation_new (0);
      g_autoptr(ConfabConversation) made = NULL;

      confab_conversation_set_title (granted, "Granted from the start");
      confab_conversation_set_tool_folders (granted, folders);
      confab_conversation_set_tools_private_network (granted, TRUE);
      made = create_conversation_full (store, granted, &error);
      g_assert_no_error (error);
      got = get_conversation (store, confab_conversation_get_id (made), &error);
      g_assert_no_error (error);
      g_assert_cmpstrv (confab_conversation_get_tool_folders (got), folders);
      g_assert_true (confab_conversation_get_tools_private_network (got));
      g_clear_object (&got);
      g_assert_true (delete_conversation (store, confab_conversation_get_id (made), &error));
      g_assert_no_error (error);
    }
  }

  /* What is not there. */
  got = get_conversation (store, 424242, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_null (got);
  g_clear_error (&error);
  g_assert_false (update_conversation (store, missing, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (delete_conversation (store, 424242, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (load_messages (store, 424242, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, "Anyone?");

    g_assert_cmpint (add_message (store, 424242, message, &error), <=, 0);
    g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  /* Deleting takes every message, branch and tool call along. */
  {
    g_autoptr(ConfabMessage) reply = confab_message_new (CONFAB_ROLE_ASSISTANT, "Checking the quokka census.");
    g_autoptr(ConfabToolCall) call = tool_call_new ("call_census", "census", "{\"species\":\"quokka\"}");
    gint64 question = add_text (store, id, CONFAB_ROLE_USER, "How many quokkas are there?", 0);

    confab_message_add_tool_call (reply, call);
    g_assert_cmpint (add_message (store, id, reply, &error), >, 0);
    g_assert_no_error (error);
    add_text (store, id, CONFAB_ROLE_ASSISTANT, "About twelve thousand quokkas.", question);
  }
  other = create_conversation (store, "Wombats");
  add_text (store, confab_conversation_get_id (other), CONFAB_ROLE_USER, "Wombats dig burrows.", 0);

  g_assert_true (delete_conversation (store, id, &error));
  g_assert_no_error (error);
  got = get_conversation (store, id, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_null (got);
  g_clear_error (&error);
  g_assert_null (load_messages (store, id, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (delete_conversation (store, id, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  hits = search_ok (store, "quokka");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* The other conversation is untouched. */
  messages = load_messages_ok (store, confab_conversation_get_id (other));
  g_assert_cmpuint (messages->len, ==, 1);
  hits = search_ok (store, "burrows");
  g_assert_cmpuint (hits->len, ==, 1);

  /* A cancelled call completes with G_IO_ERROR_CANCELLED. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GPtrArray) conversations = NULL;

    g_cancellable_cancel (cancellable);
    confab_store_list_conversations_async (store, 0, TRUE, cancellable, result_cb, &result);
    wait_for_result (&result);
    conversations = confab_store_list_conversations_finish (store, result, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_null (conversations);
    g_clear_error (&error);
  }

  /* Documented: "the new message's id, or 0 with @error set". */
  {
    g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, "Anyone?");

    g_assert_cmpint (add_message (store, 424242, message, &error), ==, 0);
    g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }

  close_store (&store);

  /* In the file: the cascade left nothing behind. */
  g_assert_cmpint (db_query_int (path, "SELECT count(*) FROM conversations"), ==, 1);
  g_assert_cmpint (db_query_int (path, "SELECT count(*) FROM messages"), ==, 1);
  g_assert_cmpint (db_query_int (path, "SELECT count(*) FROM tool_calls"), ==, 0);
  g_assert_cmpint (db_query_int (path, "PRAGMA user_version"), ==, CONFAB_STORE_SCHEMA_VERSION);
  assert_file_consistent (path);
}

static ConfabConversation *
create_dated (ConfabStore *store,
              const char  *title,
              gint64       updated_at)
{
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(GError) error = NULL;
  ConfabConversation *conversation;

  confab_conversation_set_title (draft, title);
  confab_conversation_set_created_at (draft, updated_at - 1000);
  confab_conversation_set_updated_at (draft, updated_at);
  conversation = create_conversation_full (store, draft, &error);
  g_assert_no_error (error);
  g_assert_cmpint (confab_conversation_get_created_at (conversation), ==, updated_at - 1000);
  g_assert_cmpint (confab_conversation_get_updated_at (conversation), ==, updated_at);

  return conversation;
}

static void
assert_titles (GPtrArray  *conversations,
               const char *expected)
{
  g_autoptr(GString) titles = g_string_new (NULL);

  for (guint i = 0; i < conversations->len; i++)
    g_string_append_printf (titles, "%s%s", i > 0 ? " " : "",
                            confab_conversation_get_title (g_ptr_array_index (conversations, i)));
  g_assert_cmpstr (titles->str, ==, expected);
}

static void
test_conversation_list (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  gint64 now = g_get_real_time () / 1000;
  g_autoptr(ConfabConversation) a = create_dated (store, "A", now - 40000);
  g_autoptr(ConfabConversation) b = create_dated (store, "B", now - 30000);
  g_autoptr(ConfabConversation) c = create_dated (store, "C", now - 20000);
  g_autoptr(ConfabConversation) d = create_dated (store, "D", now - 10000);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;

  list = list_conversations (store, 0, FALSE);
  assert_titles (list, "D C B A");
  g_assert_cmpint (confab_conversation_get_id (conversation_at (list, 1)), ==, confab_conversation_get_id (c));
  g_assert_cmpint (confab_conversation_get_updated_at (conversation_at (list, 1)), ==, now - 20000);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Pinned first; archived ones only on request, and then last, even
   * when pinned. */
  confab_conversation_set_pinned (b, TRUE);
  g_assert_true (update_conversation (store, b, &error));
  g_assert_no_error (error);
  confab_conversation_set_archived (d, TRUE);
  confab_conversation_set_pinned (d, TRUE);
  g_assert_true (update_conversation (store, d, &error));
  g_assert_no_error (error);

  list = list_conversations (store, 0, FALSE);
  assert_titles (list, "B C A");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = list_conversations (store, 0, TRUE);
  assert_titles (list, "B C A D");
  g_assert_true (confab_conversation_get_archived (conversation_at (list, 3)));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = list_conversations (store, 2, FALSE);
  assert_titles (list, "B C");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = list_conversations (store, 4, TRUE);
  assert_titles (list, "B C A D");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = list_conversations (store, 1, TRUE);
  assert_titles (list, "B");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A new message makes a conversation the most recently updated. */
  add_text (store, confab_conversation_get_id (a), CONFAB_ROLE_USER, "Bump", 0);
  list = list_conversations (store, 0, FALSE);
  assert_titles (list, "B A C");
  g_assert_cmpint (confab_conversation_get_updated_at (conversation_at (list, 1)), >=, now);
  g_assert_cmpuint (confab_conversation_get_n_messages (conversation_at (list, 1)), ==, 1);
  g_assert_cmpuint (confab_conversation_get_n_messages (conversation_at (list, 2)), ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Unpinned, B goes back to its place by date. */
  confab_conversation_set_pinned (b, FALSE);
  g_assert_true (update_conversation (store, b, &error));
  g_assert_no_error (error);
  list = list_conversations (store, 0, TRUE);
  assert_titles (list, "A C B D");
  g_clear_pointer (&list, g_ptr_array_unref);

  close_store (&store);
}

static void
test_messages (Fixture       *fixture,
               gconstpointer  data)
{
  static const char paris_arguments[] =
    "{\"city\":\"Paris\",\"units\":[\"C\",\"F\"],\"days\":3,"
    "\"nested\":{\"none\":null,\"yes\":true,\"pi\":3.25,\"text\":\"a \\\"quote\\\", a \\\\ and ünïcødé ✓\"}}";
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Weather");
  g_autoptr(ConfabConversation) got = NULL;
  g_autoptr(ConfabMessage) question = confab_message_new (CONFAB_ROLE_USER, "Weather in Paris and Rome? 🌦");
  g_autoptr(ConfabMessage) calling = confab_message_new (CONFAB_ROLE_ASSISTANT, "Let me check both.");
  g_autoptr(ConfabToolCall) paris = tool_call_new ("call_paris", "get_weather", paris_arguments);
  g_autoptr(ConfabToolCall) rome = tool_call_new ("call_rome", "get_weather", "{\"city\":\"Rome\"}");
  g_autoptr(ConfabToolCall) broken = confab_tool_call_new_from_json_text ("call_broken", "get_weather",
                                                                          "{\"city\": \"Ber");
  g_autoptr(ConfabMessage) paris_result = confab_message_new_tool_result (paris, "{\"temp\":21}", FALSE);
  g_autoptr(ConfabMessage) rome_result = confab_message_new_tool_result (rome, "HTTP 500 from the weather service", TRUE);
  g_autoptr(ConfabMessage) failed = confab_message_new (CONFAB_ROLE_ASSISTANT, "Paris is at 21");
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  gint64 conversation_id = confab_conversation_get_id (conversation);
  gint64 before = g_get_real_time () / 1000;
  gint64 ids[5];
  gint64 prompt_tokens;
  gint64 completion_tokens;
  GPtrArray *calls;
  ConfabMessage *message;

  ids[0] = add_message (store, conversation_id, question, &error);
  g_assert_no_error (error);

  confab_message_set_reasoning (calling, "Two cities, so two calls.");
  confab_message_set_model (calling, "gpt-test");
  confab_message_set_usage (calling, 120, 30);
  confab_message_set_created_at (calling, 1700000000123);
  confab_message_set_finished_at (calling, 1700000001456);
  confab_message_add_tool_call (calling, paris);
  confab_message_add_tool_call (calling, rome);
  confab_message_add_tool_call (calling, broken);
  ids[1] = add_message (store, conversation_id, calling, &error);
  g_assert_no_error (error);

  ids[2] = add_message (store, conversation_id, paris_result, &error);
  g_assert_no_error (error);
  ids[3] = add_message (store, conversation_id, rome_result, &error);
  g_assert_no_error (error);

  confab_message_set_state (failed, CONFAB_MESSAGE_FAILED);
  confab_message_set_error (failed, "The connection was reset");
  confab_message_set_model (failed, "gpt-test");
  ids[4] = add_message (store, conversation_id, failed, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_assert_cmpint (ids[i], >, i > 0 ? ids[i - 1] : 0);

  messages = load_messages_ok (store, conversation_id);
  g_assert_cmpuint (messages->len, ==, 5);
  for (guint i = 0; i < messages->len; i++)
    {
      message = message_at (messages, i);
      g_assert_cmpint (confab_message_get_id (message), ==, ids[i]);
      g_assert_cmpint (confab_message_get_parent_id (message), ==, i > 0 ? ids[i - 1] : -1);
    }

  message = message_at (messages, 0);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_USER);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Weather in Paris and Rome? 🌦");
  g_assert_null (confab_message_get_reasoning (message));
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_COMPLETE);
  g_assert_null (confab_message_get_error (message));
  g_assert_null (confab_message_get_model (message));
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, -1);
  g_assert_cmpint (completion_tokens, ==, -1);
  g_assert_cmpint (confab_message_get_created_at (message), >=, before);
  g_assert_cmpint (confab_message_get_created_at (message), <=, g_get_real_time () / 1000);
  g_assert_cmpint (confab_message_get_finished_at (message), ==, 0);
  g_assert_cmpuint (confab_message_get_tool_calls (message)->len, ==, 0);

  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_ASSISTANT);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Let me check both.");
  g_assert_cmpstr (confab_message_get_reasoning (message), ==, "Two cities, so two calls.");
  g_assert_cmpstr (confab_message_get_model (message), ==, "gpt-test");
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, 120);
  g_assert_cmpint (completion_tokens, ==, 30);
  g_assert_cmpint (confab_message_get_created_at (message), ==, 1700000000123);
  g_assert_cmpint (confab_message_get_finished_at (message), ==, 1700000001456);
  calls = confab_message_get_tool_calls (message);
  g_assert_cmpuint (calls->len, ==, 3);
  assert_tool_call (g_ptr_array_index (calls, 0), "call_paris", "get_weather", paris_arguments);
  assert_tool_call (g_ptr_array_index (calls, 1), "call_rome", "get_weather", "{\"city\":\"Rome\"}");
  /* Arguments that were not JSON come back as they were, still flagged. */
  g_assert_cmpstr (confab_tool_call_get_id (g_ptr_array_index (calls, 2)), ==, "call_broken");
  g_assert_cmpstr (confab_tool_call_get_raw_arguments (g_ptr_array_index (calls, 2)), ==, "{\"city\": \"Ber");
  g_assert_nonnull (confab_tool_call_get_arguments_error (g_ptr_array_index (calls, 2)));

  message = message_at (messages, 2);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_TOOL);
  g_assert_cmpstr (confab_message_get_content (message), ==, "{\"temp\":21}");
  g_assert_cmpstr (confab_message_get_tool_call_id (message), ==, "call_paris");
  g_assert_cmpstr (confab_message_get_tool_name (message), ==, "get_weather");
  g_assert_false (confab_message_get_is_error (message));

  message = message_at (messages, 3);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_TOOL);
  g_assert_cmpstr (confab_message_get_content (message), ==, "HTTP 500 from the weather service");
  g_assert_cmpstr (confab_message_get_tool_call_id (message), ==, "call_rome");
  g_assert_cmpstr (confab_message_get_tool_name (message), ==, "get_weather");
  g_assert_true (confab_message_get_is_error (message));

  message = message_at (messages, 4);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_ASSISTANT);
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_FAILED);
  g_assert_cmpstr (confab_message_get_error (message), ==, "The connection was reset");
  g_assert_cmpstr (confab_message_get_model (message), ==, "gpt-test");
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, -1);
  g_assert_cmpint (completion_tokens, ==, -1);

  got = get_conversation (store, conversation_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_conversation_get_n_messages (got), ==, 5);
  g_assert_cmpint (confab_conversation_get_current_leaf (got), ==, ids[4]);
  g_assert_cmpint (confab_conversation_get_updated_at (got), >=, before);
  g_clear_object (&got);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* The same after reopening. */
  close_store (&store);
  store = open_store (fixture->path);
  messages = load_messages_ok (store, conversation_id);
  g_assert_cmpuint (messages->len, ==, 5);
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_created_at (message), ==, 1700000000123);
  calls = confab_message_get_tool_calls (message);
  g_assert_cmpuint (calls->len, ==, 3);
  assert_tool_call (g_ptr_array_index (calls, 0), "call_paris", "get_weather", paris_arguments);
  g_assert_cmpint (confab_message_get_state (message_at (messages, 4)), ==, CONFAB_MESSAGE_FAILED);
  close_store (&store);

  assert_file_consistent (fixture->path);
}

static void
test_worker_thread (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GPtrArray) list = NULL;
  GAsyncResult *results[50] = { NULL, };
  GThread *worker = confab_store_get_worker_thread (store);
  guint n = confab_store_get_n_statements (store);
  guint m;

  g_assert_nonnull (worker);
  g_assert_true (worker != g_thread_self ());
  g_assert_true (worker != test_thread);
  /* Opening ran statements, on the worker. */
  g_assert_cmpuint (n, >, 0);

  conversation = create_conversation (store, "Threads");
  g_assert_cmpuint ((m = confab_store_get_n_statements (store)), >, n);
  n = m;
  add_text (store, confab_conversation_get_id (conversation), CONFAB_ROLE_USER, "Hello thread", 0);
  g_assert_cmpuint ((m = confab_store_get_n_statements (store)), >, n);
  n = m;
  messages = load_messages_ok (store, confab_conversation_get_id (conversation));
  g_assert_cmpuint ((m = confab_store_get_n_statements (store)), >, n);
  n = m;
  hits = search_ok (store, "thread");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpuint ((m = confab_store_get_n_statements (store)), >, n);
  n = m;
  list = list_conversations (store, 0, FALSE);
  g_assert_cmpuint ((m = confab_store_get_n_statements (store)), >, n);
  n = m;
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* Calls queued at once run one at a time, in order: each new message
   * follows the one queued before it. */
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *text = g_strdup_printf ("Queued %u", i);
      g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, text);

      confab_store_add_message_async (store, confab_conversation_get_id (conversation), message,
                                      NULL, result_cb, &results[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      gint64 id;

      wait_for_result (&results[i]);
      result = g_steal_pointer (&results[i]);
      id = confab_store_add_message_finish (store, result, &error);
      g_assert_no_error (error);
      g_assert_cmpint (id, >, 0);
    }
  g_assert_cmpuint (confab_store_get_n_statements (store), >=, n + G_N_ELEMENTS (results));

  messages = load_messages_ok (store, confab_conversation_get_id (conversation));
  g_assert_cmpuint (messages->len, ==, 1 + G_N_ELEMENTS (results));
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autofree char *text = g_strdup_printf ("Queued %u", i);

      g_assert_cmpstr (confab_message_get_content (message_at (messages, i + 1)), ==, text);
    }

  close_store (&store);
}

/* The worker hands its reference on each task back to the caller's
 * thread: the task, and the store it holds, are never finalized on the
 * worker (the store's finalizer joins the worker). The worker is held
 * where it frees the first call's data (after the task returned, before
 * it lets go of the task), and let go while this thread is outside the
 * main loop, as a program that iterates by hand is between iterations. */
typedef struct
{
  GMutex    mutex;
  GCond     cond;
  gboolean  go;
  gboolean  passed;
  GThread  *task_thread;
} Release;

static void
hold_worker_cb (gpointer  data,
                GObject  *where_the_object_was)
{
  Release *release = data;
  gint64 deadline = g_get_monotonic_time () + DEFAULT_TIMEOUT_S * G_TIME_SPAN_SECOND;

  g_mutex_lock (&release->mutex);
  while (!release->go && g_cond_wait_until (&release->cond, &release->mutex, deadline))
    ;
  g_mutex_unlock (&release->mutex);
}

static void
worker_passed_cb (gpointer  data,
                  GObject  *where_the_object_was)
{
  Release *release = data;

  g_mutex_lock (&release->mutex);
  release->passed = TRUE;
  g_cond_broadcast (&release->cond);
  g_mutex_unlock (&release->mutex);
}

static void
task_finalized_cb (gpointer  data,
                   GObject  *where_the_object_was)
{
  Release *release = data;

  g_atomic_pointer_set (&release->task_thread, g_thread_self ());
}

static void
test_worker_release (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Release");
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *first = NULL;
  Release release = { 0, };
  ConfabMessage *message;
  gint64 id = confab_conversation_get_id (conversation);
  gint64 deadline;

  g_mutex_init (&release.mutex);
  g_cond_init (&release.cond);

  message = confab_message_new (CONFAB_ROLE_USER, "First");
  g_object_weak_ref (G_OBJECT (message), hold_worker_cb, &release);
  confab_store_add_message_async (store, id, message, NULL, result_cb, &first);
  g_object_unref (message);
  wait_for_result (&first);
  g_object_weak_ref (G_OBJECT (first), task_finalized_cb, &release);
  g_assert_cmpint (confab_store_add_message_finish (store, first, &error), >, 0);
  g_assert_no_error (error);
  g_clear_object (&first);

  /* The second call's data is freed once the worker is past the first. */
  message = confab_message_new (CONFAB_ROLE_USER, "Second");
  g_object_weak_ref (G_OBJECT (message), worker_passed_cb, &release);
  confab_store_add_message_async (store, id, message, NULL, result_cb, &second);
  g_object_unref (message);

  g_mutex_lock (&release.mutex);
  release.go = TRUE;
  g_cond_broadcast (&release.cond);
  deadline = g_get_monotonic_time () + DEFAULT_TIMEOUT_S * G_TIME_SPAN_SECOND;
  while (!release.passed && g_cond_wait_until (&release.cond, &release.mutex, deadline))
    ;
  g_mutex_unlock (&release.mutex);
  g_assert_true (release.passed);

  wait_for_result (&second);
  g_assert_cmpint (confab_store_add_message_finish (store, second, &error), >, 0);
  g_assert_no_error (error);
  g_clear_object (&second);
  wait_for_pointer ((gpointer *)&release.task_thread, "the first task to be finalized");
  if (release.task_thread != test_thread)
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC,
                         "The first task was finalized on the worker thread");

  close_store (&store);
  g_mutex_clear (&release.mutex);
  g_cond_clear (&release.cond);
}

/* The rule every statement asserts is armed in this build: SQLite used
 * from the test's thread aborts. */
static void
test_worker_thread_assertion (void)
{
  if (g_test_subprocess ())
    {
      ConfabStore *store = g_object_new (CONFAB_TYPE_STORE, NULL);

      _confab_store_exec (store, "SELECT 1", NULL);
      g_assert_not_reached ();
    }

  g_test_trap_subprocess (NULL, DEFAULT_TIMEOUT_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*g_thread_self () == self->thread*");
}

static void
test_streaming_recovery (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Interrupted");
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[4] = { NULL, };
  static const char * const texts[] = { "Hello", ", wor", NULL, "ld! Tapirs" };
  static const char * const reasonings[] = { NULL, "thinking…", " more", NULL };
  gint64 conversation_id = confab_conversation_get_id (conversation);
  gint64 question;
  gint64 reply;
  ConfabMessage *message;

  question = add_text (store, conversation_id, CONFAB_ROLE_USER, "Say hello", 0);
  {
    g_autoptr(ConfabMessage) streaming = confab_message_new (CONFAB_ROLE_ASSISTANT, NULL);

    confab_message_set_state (streaming, CONFAB_MESSAGE_STREAMING);
    confab_message_set_model (streaming, "llama3.2");
    reply = add_message (store, conversation_id, streaming, &error);
    g_assert_no_error (error);
  }

  /* Flushes queued back to back land in order. */
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    confab_store_append_to_message_async (store, reply, texts[i], reasonings[i], NULL,
                                          result_cb, &results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;

      wait_for_result (&results[i]);
      result = g_steal_pointer (&results[i]);
      g_assert_true (confab_store_append_to_message_finish (store, result, &error));
      g_assert_no_error (error);
    }

  messages = load_messages_ok (store, conversation_id);
  g_assert_cmpuint (messages->len, ==, 2);
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_id (message), ==, reply);
  g_assert_cmpint (confab_message_get_parent_id (message), ==, question);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Hello, world! Tapirs");
  g_assert_cmpstr (confab_message_get_reasoning (message), ==, "thinking… more");
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_STREAMING);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* Still streaming: not in the index yet. */
  hits = search_ok (store, "tapirs");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Another Confab starting meanwhile (the CLI next to the app) leaves a
   * reply that is being written alone. */
  {
    g_autoptr(ConfabStore) other = open_store (fixture->path);
    g_autoptr(GPtrArray) seen = load_messages_ok (other, conversation_id);

    g_assert_cmpint (confab_store_get_mode (other), ==, CONFAB_STORE_READ_WRITE);
    g_assert_cmpint (confab_message_get_state (message_at (seen, 1)), ==, CONFAB_MESSAGE_STREAMING);
    close_store (&other);
  }

  /* Confab stops without finishing the reply; the next start finds all
   * it had, marked stopped, and searchable. */
  close_store (&store);
  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);

  messages = load_messages_ok (store, conversation_id);
  g_assert_cmpuint (messages->len, ==, 2);
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_id (message), ==, reply);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Hello, world! Tapirs");
  g_assert_cmpstr (confab_message_get_reasoning (message), ==, "thinking… more");
  g_assert_cmpstr (confab_message_get_model (message), ==, "llama3.2");
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_STOPPED);

  hits = search_ok (store, "tapirs");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, reply);

  close_store (&store);
  assert_file_consistent (fixture->path);
}

static void
test_streaming_finish (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Finishing");
  g_autoptr(ConfabMessage) streaming = confab_message_new (CONFAB_ROLE_ASSISTANT, "Draft ");
  g_autoptr(ConfabToolCall) old_call = tool_call_new ("call_old", "lookup", "{\"q\":\"old\"}");
  g_autoptr(ConfabMessage) final = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  gint64 conversation_id = confab_conversation_get_id (conversation);
  gint64 before = g_get_real_time () / 1000;
  gint64 prompt_tokens;
  gint64 completion_tokens;
  gint64 reply;
  GPtrArray *calls;
  ConfabMessage *message;

  add_text (store, conversation_id, CONFAB_ROLE_USER, "Look it up", 0);
  confab_message_set_state (streaming, CONFAB_MESSAGE_STREAMING);
  confab_message_set_model (streaming, "model-a");
  confab_message_add_tool_call (streaming, old_call);
  reply = add_message (store, conversation_id, streaming, &error);
  g_assert_no_error (error);
  g_assert_true (append_to_message (store, reply, "text that the final ", NULL, &error));
  g_assert_no_error (error);

  hits = search_ok (store, "draft");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* The whole reply replaces what was flushed; its tool calls replace
   * the old ones; a NULL model keeps the stored one. */
  final = confab_message_new (CONFAB_ROLE_ASSISTANT, "Final answer about narwhals.");
  confab_message_set_id (final, reply);
  confab_message_set_reasoning (final, "Narwhal reasoning");
  confab_message_set_state (final, CONFAB_MESSAGE_COMPLETE);
  confab_message_set_usage (final, 10, 20);
  {
    g_autoptr(ConfabToolCall) first = tool_call_new ("call_new1", "lookup", "{\"q\":\"narwhal\",\"n\":1}");
    g_autoptr(ConfabToolCall) second = tool_call_new ("call_new2", "fetch", "{\"url\":\"https://example.org/?a=1&b=2\"}");

    confab_message_add_tool_call (final, first);
    confab_message_add_tool_call (final, second);
  }
  g_assert_true (finish_message (store, final, &error));
  g_assert_no_error (error);

  messages = load_messages_ok (store, conversation_id);
  g_assert_cmpuint (messages->len, ==, 2);
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_id (message), ==, reply);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Final answer about narwhals.");
  g_assert_cmpstr (confab_message_get_reasoning (message), ==, "Narwhal reasoning");
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_model (message), ==, "model-a");
  g_assert_null (confab_message_get_error (message));
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, 10);
  g_assert_cmpint (completion_tokens, ==, 20);
  g_assert_cmpint (confab_message_get_finished_at (message), >=, before);
  calls = confab_message_get_tool_calls (message);
  g_assert_cmpuint (calls->len, ==, 2);
  assert_tool_call (g_ptr_array_index (calls, 0), "call_new1", "lookup", "{\"q\":\"narwhal\",\"n\":1}");
  assert_tool_call (g_ptr_array_index (calls, 1), "call_new2", "fetch", "{\"url\":\"https://example.org/?a=1&b=2\"}");
  g_clear_pointer (&messages, g_ptr_array_unref);

  hits = search_ok (store, "narwhals");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "draft");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Rewritten again: failed, with a new model, no tool calls, an explicit
   * finish time. */
  g_clear_object (&final);
  final = confab_message_new (CONFAB_ROLE_ASSISTANT, "Cut short");
  confab_message_set_id (final, reply);
  confab_message_set_state (final, CONFAB_MESSAGE_FAILED);
  confab_message_set_error (final, "HTTP 529: overloaded");
  confab_message_set_model (final, "model-b");
  confab_message_set_finished_at (final, 1700000009999);
  g_assert_true (finish_message (store, final, &error));
  g_assert_no_error (error);

  messages = load_messages_ok (store, conversation_id);
  message = message_at (messages, 1);
  g_assert_cmpstr (confab_message_get_content (message), ==, "Cut short");
  g_assert_null (confab_message_get_reasoning (message));
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_FAILED);
  g_assert_cmpstr (confab_message_get_error (message), ==, "HTTP 529: overloaded");
  g_assert_cmpstr (confab_message_get_model (message), ==, "model-b");
  g_assert_cmpint (confab_message_get_finished_at (message), ==, 1700000009999);
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, -1);
  g_assert_cmpint (completion_tokens, ==, -1);
  g_assert_cmpuint (confab_message_get_tool_calls (message)->len, ==, 0);
  g_clear_pointer (&messages, g_ptr_array_unref);

  hits = search_ok (store, "narwhals");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* No such message. */
  confab_message_set_id (final, 987654);
  g_assert_false (finish_message (store, final, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  close_store (&store);
  g_assert_cmpint (db_query_int (fixture->path, "SELECT count(*) FROM tool_calls"), ==, 0);
  assert_file_consistent (fixture->path);
}

static void
test_branches (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Branches");
  g_autoptr(ConfabConversation) got = NULL;
  g_autoptr(GArray) siblings = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = confab_conversation_get_id (conversation);
  gint64 u1, a1, a2, u2, a3, u2_edit, a4, u1_edit, b1;

  u1 = add_text (store, id, CONFAB_ROLE_USER, "U1", 0);
  a1 = add_text (store, id, CONFAB_ROLE_ASSISTANT, "A1", 0);
  assert_branch (store, id, u1, a1);

  /* Regenerate: a second reply to U1. */
  a2 = add_text (store, id, CONFAB_ROLE_ASSISTANT, "A2", u1);
  assert_branch (store, id, u1, a2);
  assert_siblings (store, a2, a1, a2);
  assert_siblings (store, a1, a1, a2);
  assert_siblings (store, u1, u1);

  /* Back to the first reply, and on from there. */
  g_assert_true (switch_branch (store, a1, &error));
  g_assert_no_error (error);
  assert_branch (store, id, u1, a1);
  u2 = add_text (store, id, CONFAB_ROLE_USER, "U2", 0);
  a3 = add_text (store, id, CONFAB_ROLE_ASSISTANT, "A3", 0);
  assert_branch (store, id, u1, a1, u2, a3);

  /* Edit U2: a sibling with U2's parent, then its reply. */
  u2_edit = add_text (store, id, CONFAB_ROLE_USER, "U2'", a1);
  a4 = add_text (store, id, CONFAB_ROLE_ASSISTANT, "A4", 0);
  assert_branch (store, id, u1, a1, u2_edit, a4);
  assert_siblings (store, u2_edit, u2, u2_edit);

  /* Back to U2 follows the reply below it. */
  g_assert_true (switch_branch (store, u2, &error));
  g_assert_no_error (error);
  assert_branch (store, id, u1, a1, u2, a3);

  /* Edit the first message: a new root (-1). */
  u1_edit = add_text (store, id, CONFAB_ROLE_USER, "U1'", -1);
  assert_branch (store, id, u1_edit);
  b1 = add_text (store, id, CONFAB_ROLE_ASSISTANT, "B1", 0);
  assert_branch (store, id, u1_edit, b1);
  assert_siblings (store, u1_edit, u1, u1_edit);
  assert_siblings (store, u1, u1, u1_edit);

  /* Back to U1: at each step the newest reply, so A2 (newer than A1). */
  g_assert_true (switch_branch (store, u1, &error));
  g_assert_no_error (error);
  assert_branch (store, id, u1, a2);

  /* Back to A1: its newest child is the edit U2', then A4. */
  g_assert_true (switch_branch (store, a1, &error));
  g_assert_no_error (error);
  assert_branch (store, id, u1, a1, u2_edit, a4);

  /* Switching to a leaf selects exactly that branch. */
  g_assert_true (switch_branch (store, b1, &error));
  g_assert_no_error (error);
  assert_branch (store, id, u1_edit, b1);

  /* Every version counts as a message. */
  got = get_conversation (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (confab_conversation_get_n_messages (got), ==, 9);

  /* What is not there. */
  g_assert_false (switch_branch (store, 424242, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  siblings = list_siblings (store, 424242, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_null (siblings);
  g_clear_error (&error);

  /* Reopened: the same current branch. */
  close_store (&store);
  store = open_store (fixture->path);
  assert_branch (store, id, u1_edit, b1);
  close_store (&store);
}

static void
test_search (Fixture       *fixture,
             gconstpointer  data)
{
  static const char * const harmless[] = {
    "\"a\" OR (b", "\"", "\"\"", "*", "(", ")", "NEAR(rust", "rust AND", "-rust", "rust:",
    "content:rust", "^rust", "'", "\\", "{rust}", "\"unterminated", "a\"b", "%", "_",
    "NOT", "OR", "AND", "+", "rust*", "\"rust\" *", "…", "🦀", "col:(a OR b) NOT c",
  };
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) rust = create_conversation (store, "Borrow checker");
  g_autoptr(ConfabConversation) misc = create_conversation (store, "Misc");
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  gint64 rust_id = confab_conversation_get_id (rust);
  gint64 misc_id = confab_conversation_get_id (misc);
  gint64 once, many, long_one, cafe, streaming_id, stream_words;

  once = add_text (store, rust_id, CONFAB_ROLE_USER, "I tried Rust once.", 0);
  many = add_text (store, rust_id, CONFAB_ROLE_ASSISTANT, "Rust, Rust and more Rust: Rust everywhere.", 0);
  long_one = add_text (store, rust_id, CONFAB_ROLE_USER,
                       "Most of the week went into the garden: the tomatoes needed stakes, the beans "
                       "climbed the fence, the shed door finally got a new hinge after the old one "
                       "turned to rust, and the compost heap was turned twice before the rain came "
                       "back on Sunday evening.", 0);
  add_text (store, rust_id, CONFAB_ROLE_ASSISTANT, "The garbage collector question again.", 0);
  cafe = add_text (store, misc_id, CONFAB_ROLE_USER, "I had a café au lait in Zürich this morning.", 0);
  stream_words = add_text (store, misc_id, CONFAB_ROLE_ASSISTANT, "Streaming replies arrive token by token.", 0);

  /* More occurrences in a shorter message rank first (bm25). */
  hits = search_ok (store, "rust");
  g_assert_cmpuint (hits->len, ==, 3);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, many);
  g_assert_cmpint (hit_at (hits, 1)->message_id, ==, once);
  g_assert_cmpint (hit_at (hits, 2)->message_id, ==, long_one);
  g_assert_cmpfloat (hit_at (hits, 0)->rank, <, hit_at (hits, 1)->rank);
  g_assert_cmpfloat (hit_at (hits, 1)->rank, <, hit_at (hits, 2)->rank);
  for (guint i = 0; i < hits->len; i++)
    {
      g_assert_cmpint (hit_at (hits, i)->conversation_id, ==, rust_id);
      g_assert_cmpstr (hit_at (hits, i)->title, ==, "Borrow checker");
    }
  assert_contains (hit_at (hits, 0)->snippet, "«Rust»");
  assert_contains (hit_at (hits, 1)->snippet, "I tried «Rust» once.");
  /* A long message is cut around the match. */
  assert_contains (hit_at (hits, 2)->snippet, "«rust»");
  assert_contains (hit_at (hits, 2)->snippet, "…");
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* The limit keeps the best. */
  hits = search (store, "rust", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 2);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, many);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* The last word may be the start of a word. */
  hits = search_ok (store, "stre");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, stream_words);
  g_assert_cmpint (hit_at (hits, 0)->conversation_id, ==, misc_id);
  g_assert_cmpstr (hit_at (hits, 0)->title, ==, "Misc");
  assert_contains (hit_at (hits, 0)->snippet, "«Streaming»");
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Every word must appear; only the last is a prefix. */
  hits = search_ok (store, "garbage coll");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "garb collector");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "rust garden");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, long_one);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* What people type is never query syntax. */
  for (guint i = 0; i < G_N_ELEMENTS (harmless); i++)
    {
      hits = search (store, harmless[i], 0, &error);
      g_assert_no_error (error);
      g_assert_nonnull (hits);
      g_clear_pointer (&hits, g_ptr_array_unref);
    }
  hits = search_ok (store, "(rust)");
  g_assert_cmpuint (hits->len, ==, 3);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "\"Rust!\"");
  g_assert_cmpuint (hits->len, ==, 3);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Diacritics and case do not matter, either way round. */
  hits = search_ok (store, "cafe");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, cafe);
  assert_contains (hit_at (hits, 0)->snippet, "«café»");
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "CAFÉ zurich");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* A streaming reply is found once it is finished. */
  streaming_id = add_streaming (store, misc_id, "A zebra crossing");
  g_assert_true (append_to_message (store, streaming_id, " in Kraków", NULL, &error));
  g_assert_no_error (error);
  hits = search_ok (store, "zebra");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "krakow");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  finish_text (store, streaming_id, "A zebra crossing in Kraków");
  hits = search_ok (store, "krakow");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, streaming_id);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Nothing to look for finds nothing. */
  hits = search_ok (store, "");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, " \t\n ");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Deleted conversations are not found. */
  g_assert_true (delete_conversation (store, rust_id, &error));
  g_assert_no_error (error);
  hits = search_ok (store, "rust");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  close_store (&store);
  assert_file_consistent (fixture->path);
}

/* Changing a message that is in the index (a rewrite, more text for a
 * stopped reply, a new state) swaps its old words for the new ones. */
static void
test_search_changed (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Crossings");
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = confab_conversation_get_id (conversation);
  gint64 reply;
  gint64 stopped;

  reply = add_text (store, id, CONFAB_ROLE_ASSISTANT, "A zebra crossing", 0);
  hits = search_ok (store, "zebra");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);

  finish_text (store, reply, "A giraffe crossing");
  hits = search_ok (store, "zebra");
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "giraffe");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, reply);
  assert_contains (hit_at (hits, 0)->snippet, "«giraffe»");
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* A reply recovered as stopped, then continued and finished. */
  stopped = add_streaming (store, id, "An okapi");
  close_store (&store);
  store = open_store (fixture->path);
  hits = search_ok (store, "okapi");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);
  g_assert_true (append_to_message (store, stopped, " and a tapir", NULL, &error));
  g_assert_no_error (error);
  hits = search_ok (store, "okapi tapir");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);
  finish_text (store, stopped, "An okapi, a tapir and a quagga");
  hits = search_ok (store, "quagga");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, stopped);
  g_clear_pointer (&hits, g_ptr_array_unref);

  messages = load_messages_ok (store, id);
  g_assert_cmpuint (messages->len, ==, 2);
  g_assert_cmpint (confab_message_get_state (message_at (messages, 1)), ==, CONFAB_MESSAGE_COMPLETE);

  close_store (&store);
  assert_file_consistent (fixture->path);
}

static void
test_migration_v1 (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *fixture_file = g_test_build_filename (G_TEST_DIST, "fixtures", "store", "confab-v1.db", NULL);
  g_autofree char *fixture_sum = file_checksum (fixture_file);
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autofree char *journal_mode = NULL;
  ConfabConversation *conversation;
  ConfabMessage *message;
  GPtrArray *calls;
  gint64 prompt_tokens;
  gint64 completion_tokens;

  copy_file (fixture_file, fixture->path);
  g_assert_cmpint (db_query_int (fixture->path, "PRAGMA user_version"), ==, 1);

  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  g_assert_null (confab_store_get_open_error (store));

  list = list_conversations (store, 0, TRUE);
  assert_titles (list, "Weather in Lyon Sourdough starter");
  conversation = conversation_at (list, 0);
  g_assert_cmpint (confab_conversation_get_id (conversation), ==, 2);
  g_assert_true (confab_conversation_get_pinned (conversation));
  g_assert_cmpstr (confab_conversation_get_provider (conversation), ==, "openai");
  g_assert_cmpstr (confab_conversation_get_model (conversation), ==, "gpt-4o-mini");
  g_assert_null (confab_conversation_get_system_prompt (conversation));
  g_assert_cmpint (confab_conversation_get_created_at (conversation), ==, 1700001000000);
  g_assert_cmpint (confab_conversation_get_updated_at (conversation), ==, 1700001009000);
  g_assert_cmpint (confab_conversation_get_current_leaf (conversation), ==, 8);
  g_assert_cmpuint (confab_conversation_get_n_messages (conversation), ==, 4);
  conversation = conversation_at (list, 1);
  g_assert_cmpint (confab_conversation_get_id (conversation), ==, 1);
  g_assert_false (confab_conversation_get_pinned (conversation));
  g_assert_cmpstr (confab_conversation_get_provider (conversation), ==, "ollama");
  g_assert_cmpstr (confab_conversation_get_model (conversation), ==, "llama3.2");
  g_assert_cmpstr (confab_conversation_get_system_prompt (conversation), ==, "You are a patient baker.");
  g_assert_cmpint (confab_conversation_get_current_leaf (conversation), ==, 4);
  g_assert_cmpuint (confab_conversation_get_n_messages (conversation), ==, 4);

  messages = load_messages_ok (store, 1);
  g_assert_cmpuint (messages->len, ==, 4);
  g_assert_cmpstr (confab_message_get_content (message_at (messages, 0)), ==,
                   "How often should I feed my sourdough starter?");
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_ASSISTANT);
  g_assert_cmpstr (confab_message_get_model (message), ==, "llama3.2");
  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  g_assert_cmpint (prompt_tokens, ==, 21);
  g_assert_cmpint (completion_tokens, ==, 17);
  g_assert_cmpint (confab_message_get_created_at (message), ==, 1700000001000);
  g_assert_cmpint (confab_message_get_finished_at (message), ==, 1700000004000);
  /* The reply that was streaming when the old version stopped. */
  message = message_at (messages, 3);
  g_assert_cmpint (confab_message_get_id (message), ==, 4);
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_STOPPED);
  g_assert_cmpstr (confab_message_get_content (message), ==,
                   "Weekly feeding is enough for a refrigerated starter; let it warm up before bak");
  g_clear_pointer (&messages, g_ptr_array_unref);

  messages = load_messages_ok (store, 2);
  g_assert_cmpuint (messages->len, ==, 4);
  message = message_at (messages, 1);
  g_assert_cmpint (confab_message_get_id (message), ==, 6);
  g_assert_cmpstr (confab_message_get_content (message), ==, "");
  calls = confab_message_get_tool_calls (message);
  g_assert_cmpuint (calls->len, ==, 1);
  assert_tool_call (g_ptr_array_index (calls, 0), "call_abc123", "get_weather",
                    "{\"city\":\"Lyon\",\"day\":\"tomorrow\"}");
  message = message_at (messages, 2);
  g_assert_cmpint (confab_message_get_role (message), ==, CONFAB_ROLE_TOOL);
  g_assert_cmpstr (confab_message_get_tool_call_id (message), ==, "call_abc123");
  g_assert_cmpstr (confab_message_get_tool_name (message), ==, "get_weather");
  g_assert_false (confab_message_get_is_error (message));
  g_assert_cmpstr (confab_message_get_content (message), ==, "{\"forecast\":\"rain\",\"precipitation_mm\":6}");
  message = message_at (messages, 3);
  g_assert_cmpstr (confab_message_get_content (message), ==,
                   "Yes: rain is forecast in Lyon tomorrow, about 6 mm, so take an umbrella.");
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* The upgrade indexed the old messages, the interrupted one too. */
  hits = search_ok (store, "umbrella");
  g_assert_cmpuint (hits->len, ==, 2);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "sourdough");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, 1);
  g_assert_cmpstr (hit_at (hits, 0)->title, ==, "Sourdough starter");
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "refrigerated");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, 4);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = search_ok (store, "precipitation");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_at (hits, 0)->message_id, ==, 7);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* And it goes on as a version 2 database. */
  add_text (store, 1, CONFAB_ROLE_USER, "Thanks, baker!", 0);
  hits = search_ok (store, "baker");
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);

  close_store (&store);

  g_assert_cmpint (db_query_int (fixture->path, "PRAGMA user_version"), ==, CONFAB_STORE_SCHEMA_VERSION);
  g_assert_cmpint (db_query_int (fixture->path,
                                 "SELECT count(*) FROM sqlite_master WHERE name IN ('messages_fts', 'providers')"),
                   ==, 2);
  /* Version 4: old conversations grant nothing to tools. */
  g_assert_cmpint (db_query_int (fixture->path,
                                 "SELECT count(*) FROM conversations WHERE tool_folders != '[]' OR tools_private_network != 0"),
                   ==, 0);
  g_assert_cmpint (db_query_int (fixture->path, "SELECT count(*) FROM messages"), ==, 9);
  journal_mode = db_query (fixture->path, "PRAGMA journal_mode");
  g_assert_cmpstr (journal_mode, ==, "wal");
  assert_file_consistent (fixture->path);

  /* The fixture itself was only read. */
  {
    g_autofree char *sum = file_checksum (fixture_file);

    g_assert_cmpstr (sum, ==, fixture_sum);
  }
}

/* Asserts that every write fails with READ_ONLY. */
static void
assert_writes_refused (ConfabStore *store,
                       gint64       conversation_id,
                       gint64       message_id)
{
  g_autoptr(ConfabConversation) draft = confab_conversation_new (conversation_id);
  g_autoptr(ConfabConversation) created = NULL;
  g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, "Write me");
  g_autoptr(GError) error = NULL;

  confab_conversation_set_title (draft, "Not saved");
  created = create_conversation_full (store, draft, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_assert_null (created);
  g_clear_error (&error);

  /* (That the id is then 0 is checked in test_conversation_operations.) */
  g_assert_cmpint (add_message (store, conversation_id, message, &error), <=, 0);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);

  g_assert_false (update_conversation (store, draft, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);

  g_assert_false (delete_conversation (store, conversation_id, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);

  g_assert_false (append_to_message (store, message_id, "more", NULL, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);

  confab_message_set_id (message, message_id);
  g_assert_false (finish_message (store, message, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);

  g_assert_false (switch_branch (store, message_id, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);
}

static void
test_newer_schema (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const GError *open_error;
  sqlite3 *db;

  make_database (fixture->path, "From the future");
  db = db_open (fixture->path);
  db_exec (db, "PRAGMA user_version = 99");
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  before = file_checksum (fixture->path);

  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_ONLY);
  open_error = confab_store_get_open_error (store);
  g_assert_error (open_error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NEWER_SCHEMA);
  assert_contains (open_error->message, "newer version");
  assert_contains (open_error->message, fixture->path);

  /* What is there can be read, and searched. */
  assert_made_database (store, "From the future");
  hits = search_ok (store, "marsupial");
  g_assert_cmpuint (hits->len, ==, 1);

  list = list_conversations (store, 0, TRUE);
  {
    g_autoptr(GPtrArray) messages = load_messages_ok (store, confab_conversation_get_id (conversation_at (list, 0)));

    assert_writes_refused (store,
                           confab_conversation_get_id (conversation_at (list, 0)),
                           confab_message_get_id (message_at (messages, 1)));
  }

  close_store (&store);

  after = file_checksum (fixture->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (db_query_int (fixture->path, "PRAGMA user_version"), ==, 99);
}

static void
assert_memory_store_works (ConfabStore *store)
{
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Scratch");
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) hits = NULL;

  add_text (store, confab_conversation_get_id (conversation), CONFAB_ROLE_USER, "Kept in memory", 0);
  list = list_conversations (store, 0, TRUE);
  assert_titles (list, "Scratch");
  messages = load_messages_ok (store, confab_conversation_get_id (conversation));
  g_assert_cmpuint (messages->len, ==, 1);
  hits = search_ok (store, "memory");
  g_assert_cmpuint (hits->len, ==, 1);
}

static void
test_corrupt_random (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autofree guint32 *noise = g_new (guint32, 1024);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  const GError *open_error;

  for (guint i = 0; i < 1024; i++)
    noise[i] = g_random_int ();
  g_file_set_contents (fixture->path, (const char *)noise, 4096, &error);
  g_assert_no_error (error);
  before = file_checksum (fixture->path);

  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_MEMORY);
  open_error = confab_store_get_open_error (store);
  g_assert_error (open_error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_CORRUPT);
  assert_contains (open_error->message, "damaged");
  assert_contains (open_error->message, fixture->path);

  assert_memory_store_works (store);
  close_store (&store);

  after = file_checksum (fixture->path);
  g_assert_cmpstr (after, ==, before);
}

static void
test_corrupt_truncated (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Long");
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *filler = g_strnfill (1500, 'x');
  const GError *open_error;
  gsize len;

  /* Enough pages that half of them are missing. */
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *text = g_strdup_printf ("Paragraph %u: %s", i, filler);

      add_text (store, confab_conversation_get_id (conversation), CONFAB_ROLE_USER, text, 0);
    }
  close_store (&store);

  g_file_get_contents (fixture->path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 16 * 4096);
  g_file_set_contents (fixture->path, contents, len / 2, &error);
  g_assert_no_error (error);
  before = file_checksum (fixture->path);

  /* Page 1 says how many pages there should be: SQLite finds the file
   * damaged before reading anything, read-write or read-only. */
  store = open_store (fixture->path);
  open_error = confab_store_get_open_error (store);
  g_assert_error (open_error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_CORRUPT);
  assert_contains (open_error->message, "damaged");
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_MEMORY);

  assert_memory_store_works (store);
  close_store (&store);

  after = file_checksum (fixture->path);
  g_assert_cmpstr (after, ==, before);
}

/* Another program's connection holding the database. */
static sqlite3 *
hold_lock (const char *path,
           gboolean    exclusive)
{
  sqlite3 *db = db_open (path);

  if (exclusive)
    db_exec (db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE");
  else
    db_exec (db, "BEGIN IMMEDIATE");
  db_exec (db, "INSERT INTO conversations (title, created_at, updated_at) VALUES ('Not committed', 1, 1)");

  return db;
}

static void
release_lock (sqlite3 *db)
{
  db_exec (db, "ROLLBACK");
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static void
test_locked (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const GError *open_error;
  gint64 start;
  gint64 elapsed;
  sqlite3 *db;

  make_database (fixture->path, "Held");
  db = hold_lock (fixture->path, TRUE);
  before = file_checksum (fixture->path);

  /* The store waits for the lock (3 s), then neither writes nor reads. */
  start = g_get_monotonic_time ();
  store = open_store (fixture->path);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("Opening a locked database took %.1f s", elapsed / (double)G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, >=, 2 * G_USEC_PER_SEC);

  open_error = confab_store_get_open_error (store);
  g_assert_error (open_error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_LOCKED);
  assert_contains (open_error->message, "locked by another program");
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_MEMORY);
  assert_memory_store_works (store);
  close_store (&store);

  after = file_checksum (fixture->path);
  g_assert_cmpstr (after, ==, before);
  release_lock (db);

  /* Released: back to normal, as it was. */
  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  g_assert_null (confab_store_get_open_error (store));
  assert_made_database (store, "Held");
  close_store (&store);
}

static void
test_locked_by_writer (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  const GError *open_error;
  sqlite3 *db;

  /* A writer in the middle of a long transaction, in WAL mode: reading
   * is possible, writing is not. */
  make_database (fixture->path, "Being written");
  db = hold_lock (fixture->path, FALSE);

  store = open_store (fixture->path);
  open_error = confab_store_get_open_error (store);
  g_assert_error (open_error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_LOCKED);
  assert_contains (open_error->message, "locked by another program");
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_ONLY);

  /* The committed data, without the writer's pending row. */
  assert_made_database (store, "Being written");
  list = list_conversations (store, 0, TRUE);
  {
    g_autoptr(GPtrArray) messages = load_messages_ok (store, confab_conversation_get_id (conversation_at (list, 0)));

    assert_writes_refused (store,
                           confab_conversation_get_id (conversation_at (list, 0)),
                           confab_message_get_id (message_at (messages, 1)));
  }
  close_store (&store);
  release_lock (db);

  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  assert_made_database (store, "Being written");
  close_store (&store);
}

static gboolean
release_lock_cb (gpointer user_data)
{
  sqlite3 **db = user_data;

  release_lock (g_steal_pointer (db));
  return G_SOURCE_REMOVE;
}

static void
test_locked_briefly (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabStore) store = NULL;
  sqlite3 *db;

  /* Another Confab holds the lock for a moment: the store waits. */
  make_database (fixture->path, "Briefly held");
  db = hold_lock (fixture->path, TRUE);
  g_timeout_add (300, release_lock_cb, &db);

  store = open_store (fixture->path);
  g_assert_null (db);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  g_assert_null (confab_store_get_open_error (store));
  assert_made_database (store, "Briefly held");
  close_store (&store);
}

/* Fills the file size limit (RLIMIT_FSIZE) in a subprocess, which
 * records what the store said in a key file next to the database. */
static void
full_disk_subprocess (const char *path)
{
  g_autofree char *report_path = g_strconcat (path, ".report", NULL);
  g_autoptr(GKeyFile) report = g_key_file_new ();
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) report_error = NULL;
  g_autofree char *large = g_strnfill (6000, 'z');
  GStatBuf st;
  struct rlimit limit;
  gint64 conversation_id;
  guint committed = 0;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  /* Past the shared-memory index (32 KiB) and the file, room for a few
   * messages in the write-ahead log. */
  limit.rlim_cur = MAX ((rlim_t)st.st_size, 32768) + 65536;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  /* Then write() fails with EFBIG instead of the process being killed. */
  signal (SIGXFSZ, SIG_IGN);

  store = open_store (path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  list = list_conversations (store, 0, FALSE);
  conversation_id = confab_conversation_get_id (conversation_at (list, 0));

  for (guint i = 0; i < 200 && error == NULL; i++)
    {
      g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, large);

      if (add_message (store, conversation_id, message, &error) > 0)
        committed++;
    }

  g_key_file_set_string (report, "full", "path", path);
  g_key_file_set_uint64 (report, "full", "limit", limit.rlim_cur);
  g_key_file_set_uint64 (report, "full", "committed", committed);
  g_key_file_set_string (report, "full", "domain", error != NULL ? g_quark_to_string (error->domain) : "");
  g_key_file_set_integer (report, "full", "code", error != NULL ? error->code : -1);
  g_key_file_set_string (report, "full", "message", error != NULL ? error->message : "");

  /* After the failure, what was committed is still readable. */
  {
    g_autoptr(GError) load_error = NULL;
    g_autoptr(GPtrArray) messages = load_messages (store, conversation_id, &load_error);

    g_key_file_set_integer (report, "full", "loaded", messages != NULL ? (int)messages->len : -1);
    g_key_file_set_string (report, "full", "load-error", load_error != NULL ? load_error->message : "");
  }

  close_store (&store);
  g_key_file_save_to_file (report, report_path, &report_error);
  g_assert_no_error (report_error);
}

static void
test_full_disk (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *report_path = g_strconcat (fixture->path, ".report", NULL);
  g_autoptr(GKeyFile) report = g_key_file_new ();
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *message = NULL;
  g_autofree char *load_error = NULL;
  gint64 conversation_ids[3];
  guint64 committed;
  int code;

  if (g_test_subprocess ())
    {
      full_disk_subprocess (g_getenv (FULL_DISK_ENV));
      return;
    }

  store = open_store (fixture->path);
  for (guint i = 0; i < G_N_ELEMENTS (conversation_ids); i++)
    {
      g_autofree char *title = g_strdup_printf ("Conversation %u", i);
      g_autoptr(ConfabConversation) conversation = create_dated (store, title, 1700000000000 + i);

      conversation_ids[i] = confab_conversation_get_id (conversation);
      add_text (store, conversation_ids[i], CONFAB_ROLE_USER, "Before the disk filled up", 0);
      add_text (store, conversation_ids[i], CONFAB_ROLE_ASSISTANT, "Still here afterwards", 0);
    }
  close_store (&store);

  g_setenv (FULL_DISK_ENV, fixture->path, TRUE);
  g_test_trap_subprocess (NULL, DEFAULT_TIMEOUT_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (FULL_DISK_ENV);
  g_test_trap_assert_passed ();

  g_key_file_load_from_file (report, report_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_remove (report_path), ==, 0);
  domain = g_key_file_get_string (report, "full", "domain", NULL);
  code = g_key_file_get_integer (report, "full", "code", NULL);
  message = g_key_file_get_string (report, "full", "message", NULL);
  committed = g_key_file_get_uint64 (report, "full", "committed", NULL);
  load_error = g_key_file_get_string (report, "full", "load-error", NULL);
  g_test_message ("Full at %" G_GUINT64_FORMAT " bytes after %" G_GUINT64_FORMAT " messages: %s %d %s",
                  g_key_file_get_uint64 (report, "full", "limit", NULL), committed, domain, code, message);

  g_assert_cmpstr (domain, ==, g_quark_to_string (CONFAB_STORE_ERROR));
  g_assert_cmpint (code, ==, CONFAB_STORE_ERROR_FULL);
  assert_contains (message, "the disk is full");
  g_assert_cmpstr (load_error, ==, "");
  g_assert_cmpint (g_key_file_get_integer (report, "full", "loaded", NULL), ==, 2 + committed);
  g_assert_cmpuint (committed, >, 0);

  /* Everything committed before the failure is there. */
  store = open_store (fixture->path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_WRITE);
  list = list_conversations (store, 0, FALSE);
  assert_titles (list, "Conversation 2 Conversation 1 Conversation 0");
  for (guint i = 0; i < G_N_ELEMENTS (conversation_ids); i++)
    {
      g_autoptr(GPtrArray) messages = load_messages_ok (store, conversation_ids[i]);
      guint expected = 2 + (conversation_ids[i] == confab_conversation_get_id (conversation_at (list, 0))
                            ? committed : 0);

      g_assert_cmpuint (messages->len, ==, expected);
      g_assert_cmpstr (confab_message_get_content (message_at (messages, 0)), ==, "Before the disk filled up");
      g_assert_cmpstr (confab_message_get_content (message_at (messages, 1)), ==, "Still here afterwards");
      for (guint j = 2; j < messages->len; j++)
        g_assert_cmpuint (strlen (confab_message_get_content (message_at (messages, j))), ==, 6000);
    }
  close_store (&store);
  assert_file_consistent (fixture->path);
}

/* A message cannot hang below another conversation's message, nor grow
 * when it does not exist; a read-only fallback works whatever the path. */
static void
test_message_integrity (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) first = create_conversation (store, "First");
  g_autoptr(ConfabConversation) second = create_conversation (store, "Second");
  g_autoptr(ConfabMessage) stray = confab_message_new (CONFAB_ROLE_USER, "Where do I go?");
  g_autoptr(GError) error = NULL;
  gint64 question = add_text (store, confab_conversation_get_id (first), CONFAB_ROLE_USER, "Hello", 0);

  confab_message_set_parent_id (stray, question);
  g_assert_cmpint (add_message (store, confab_conversation_get_id (second), stray, &error), ==, 0);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  confab_message_set_parent_id (stray, question + 1000);
  g_assert_cmpint (add_message (store, confab_conversation_get_id (first), stray, &error), ==, 0);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (append_to_message (store, question + 1000, "more", NULL, &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  close_store (&store);
}

static void
test_read_only_odd_path (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *odd_dir = g_build_filename (fixture->dir, "with#hash?and%41", NULL);
  g_autofree char *odd_path = g_build_filename (odd_dir, "confab.db", NULL);
  g_autoptr(ConfabStore) store = NULL;
  sqlite3 *db;

  g_assert_cmpint (g_mkdir_with_parents (odd_dir, 0700), ==, 0);
  make_database (odd_path, "Odd");
  db = db_open (odd_path);
  db_exec (db, "PRAGMA user_version = 99");
  sqlite3_close (db);

  store = open_store (odd_path);
  g_assert_cmpint (confab_store_get_mode (store), ==, CONFAB_STORE_READ_ONLY);
  assert_made_database (store, "Odd");
  close_store (&store);
  remove_recursively (odd_dir);
}

/* A statement that runs long stops when its job is cancelled. */
static void
long_statement_job (ConfabStore *self,
                    GTask       *task,
                    gpointer     data)
{
  GError *error = NULL;

  g_cancellable_cancel (g_task_get_cancellable (task));
  if (_confab_store_exec (self,
                          "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
                          "SELECT count(*) FROM n",
                          &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
test_cancel_running (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GTask) task = g_task_new (store, cancellable, result_cb, &result);
  g_autoptr(GError) error = NULL;

  g_task_set_check_cancellable (task, FALSE);
  _confab_store_run (store, task, long_statement_job, NULL, NULL);
  g_clear_object (&task);
  wait_for_result (&result);
  g_assert_false (g_task_propagate_boolean (G_TASK (result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&result);
  close_store (&store);
}

/* A long conversation opens with its newest page; the pages before it,
 * read from the parent of the oldest message loaded, give the same branch
 * as one load, with the other branch left out. */
static void
test_message_pages (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Pages");
  g_autoptr(ConfabConversation) other = create_conversation (store, "Other");
  g_autoptr(GPtrArray) whole = NULL;
  g_autoptr(GPtrArray) joined = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) none = NULL;
  gint64 id = confab_conversation_get_id (conversation);
  gint64 last_id = 0;
  gint64 ids[11];
  guint n_pages = 0;

  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);

      ids[i] = add_text (store, id, i % 2 == 0 ? CONFAB_ROLE_USER : CONFAB_ROLE_ASSISTANT, text, 0);
    }
  /* A regenerated last reply: the current branch ends there now. */
  ids[10] = add_text (store, id, CONFAB_ROLE_ASSISTANT, "message 9, again", ids[8]);
  whole = load_messages_ok (store, id);
  g_assert_cmpuint (whole->len, ==, 10);

  while (last_id != -1)
    {
      g_autoptr(GPtrArray) page = load_page_ok (store, id, last_id, 4);

      g_assert_cmpuint (page->len, >, 0);
      g_assert_cmpuint (page->len, <=, 4);
      /* The newest page ends at the current leaf. */
      if (n_pages++ == 0)
        g_assert_cmpint (confab_message_get_id (g_ptr_array_index (page, page->len - 1)), ==, ids[10]);
      last_id = confab_message_get_parent_id (g_ptr_array_index (page, 0));
      for (guint i = page->len; i > 0; i--)
        g_ptr_array_insert (joined, 0, g_object_ref (g_ptr_array_index (page, i - 1)));
    }
  g_assert_cmpuint (n_pages, ==, 3);
  g_assert_cmpuint (joined->len, ==, whole->len);
  for (guint i = 0; i < whole->len; i++)
    {
      g_assert_cmpint (confab_message_get_id (g_ptr_array_index (joined, i)), ==,
                       confab_message_get_id (g_ptr_array_index (whole, i)));
      g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (joined, i)), ==,
                       confab_message_get_content (g_ptr_array_index (whole, i)));
    }

  /* Nothing before the first message, in an empty conversation, or from
   * another conversation's message. */
  none = load_page_ok (store, id, -1, 4);
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);
  none = load_page_ok (store, confab_conversation_get_id (other), 0, 4);
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);
  none = load_page_ok (store, confab_conversation_get_id (other), ids[5], 4);
  g_assert_cmpuint (none->len, ==, 0);
  g_clear_pointer (&none, g_ptr_array_unref);

  close_store (&store);
}

/* Short last words are whole words: "qu" would match nearly everything. */
static void
test_search_short_prefix (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(ConfabStore) store = open_store (fixture->path);
  g_autoptr(ConfabConversation) conversation = create_conversation (store, "Marsupials");
  g_autoptr(GPtrArray) two = NULL;
  g_autoptr(GPtrArray) three = NULL;

  add_text (store, confab_conversation_get_id (conversation), CONFAB_ROLE_USER, "Tell me about quokkas", 0);
  two = search_ok (store, "qu");
  three = search_ok (store, "quo");
  g_assert_cmpuint (two->len, ==, 0);
  g_assert_cmpuint (three->len, ==, 1);
  g_clear_pointer (&two, g_ptr_array_unref);
  g_clear_pointer (&three, g_ptr_array_unref);
  close_store (&store);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  test_thread = g_thread_self ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/store/conversations/operations", test_conversation_operations);
  ADD ("/store/conversations/list", test_conversation_list);
  ADD ("/store/messages/round-trip", test_messages);
  ADD ("/store/messages/pages", test_message_pages);
  ADD ("/store/worker/thread", test_worker_thread);
  g_test_add_func ("/store/worker/assertion", test_worker_thread_assertion);
  ADD ("/store/worker/release", test_worker_release);
  ADD ("/store/streaming/recovery", test_streaming_recovery);
  ADD ("/store/streaming/finish", test_streaming_finish);
  ADD ("/store/branches/switch", test_branches);
  ADD ("/store/search/query", test_search);
  ADD ("/store/search/changed-message", test_search_changed);
  ADD ("/store/migration/v1", test_migration_v1);
  ADD ("/store/fallback/newer-schema", test_newer_schema);
  ADD ("/store/fallback/read-only-odd-path", test_read_only_odd_path);
  ADD ("/store/messages/integrity", test_message_integrity);
  ADD ("/store/worker/cancel-running", test_cancel_running);
  ADD ("/store/search/short-prefix", test_search_short_prefix);
  ADD ("/store/fallback/corrupt-random", test_corrupt_random);
  ADD ("/store/fallback/corrupt-truncated", test_corrupt_truncated);
  ADD ("/store/fallback/locked", test_locked);
  ADD ("/store/fallback/locked-by-writer", test_locked_by_writer);
  ADD ("/store/fallback/locked-briefly", test_locked_briefly);
  ADD ("/store/fallback/full-disk", test_full_disk);
#undef ADD

  return g_test_run ();
}
