/* test-export.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export to Markdown and JSON, and import of JSON: a JSON export imported
 * into a fresh store exports the same again; every malformed file is
 * refused with its own message and imports nothing.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "confab-engine.h"

/* 2026-01-02T03:04:05.678Z */
#define T0 G_GINT64_CONSTANT (1767323045678)

typedef struct
{
  char        *dir;
  ConfabStore *store;
} Fixture;

/* Async plumbing: run the main loop until the callback has fired. */

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static ConfabStore *
open_store (const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  ConfabStore *store;

  confab_store_new_async (path, NULL, result_cb, &result);
  store = confab_store_new_finish (wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* The worker drops its last task reference on the main context: wait for
 * it, so the store (and its thread) really ends here. */
static void
close_store (ConfabStore *store)
{
  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *)&store);
  g_object_unref (store);
  while (store != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static char *
store_path (Fixture    *fixture,
            const char *name)
{
  return g_build_filename (fixture->dir, name, NULL);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fixture->dir = g_dir_make_tmp ("confab-export-XXXXXX", &error);
  g_assert_no_error (error);
  path = store_path (fixture, "a.db");
  fixture->store = open_store (path);
  g_assert_cmpint (confab_store_get_mode (fixture->store), ==, CONFAB_STORE_READ_WRITE);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&fixture->store, close_store);

  dir = g_dir_open (fixture->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_free (fixture->dir);
}

/* Store helpers */

static gint64
create_conversation (ConfabStore *store,
                     const char  *title,
                     const char  *provider,
                     const char  *model,
                     const char  *system_prompt,
                     gboolean     pinned,
                     gboolean     archived)
{
  g_autoptr(ConfabConversation) conversation = confab_conversation_new (0);
  g_autoptr(ConfabConversation) created = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  confab_conversation_set_title (conversation, title);
  confab_conversation_set_provider (conversation, provider);
  confab_conversation_set_model (conversation, model);
  confab_conversation_set_system_prompt (conversation, system_prompt);
  confab_conversation_set_pinned (conversation, pinned);
  confab_conversation_set_archived (conversation, archived);
  confab_conversation_set_created_at (conversation, T0);
  confab_conversation_set_updated_at (conversation, T0);

  confab_store_create_conversation_async (store, conversation, NULL, result_cb, &result);
  created = confab_store_create_conversation_finish (store, wait_result (&result), &error);
  g_assert_no_error (error);
  return confab_conversation_get_id (created);
}

/* @parent: -1 for a first message, else the message it follows. */
static gint64
add_message (ConfabStore   *store,
             gint64         conversation_id,
             gint64         parent,
             ConfabMessage *message,
             gint64         created_offset)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  confab_message_set_parent_id (message, parent);
  confab_message_set_created_at (message, T0 + created_offset);
  confab_store_add_message_async (store, conversation_id, message, NULL, result_cb, &result);
  id = confab_store_add_message_finish (store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_object_unref (message);
  return id;
}

static ConfabMessage *
reply (const char         *content,
       ConfabMessageState  state,
       gint64              finished_offset)
{
  ConfabMessage *message = confab_message_new (CONFAB_ROLE_ASSISTANT, content);

  confab_message_set_state (message, state);
  confab_message_set_model (message, "gpt-4o");
  if (finished_offset > 0)
    confab_message_set_finished_at (message, T0 + finished_offset);
  return message;
}

static void
switch_branch (ConfabStore *store,
               gint64       message_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  confab_store_switch_branch_async (store, message_id, NULL, result_cb, &result);
  g_assert_true (confab_store_switch_branch_finish (store, wait_result (&result), &error));
  g_assert_no_error (error);
}

static guint
count_conversations (ConfabStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GError) error = NULL;

  confab_store_list_conversations_async (store, 0, TRUE, NULL, result_cb, &result);
  conversations = confab_store_list_conversations_finish (store, wait_result (&result), &error);
  g_assert_no_error (error);
  return conversations->len;
}

static char *
export (ConfabStore         *store,
        gint64               conversation_id,
        ConfabExportFormat   format,
        GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_export_async (store, conversation_id, format, NULL, result_cb, &result);
  return confab_store_export_finish (store, wait_result (&result), error);
}

static GArray *
import (ConfabStore  *store,
        const char   *json_text,
        GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_import_async (store, json_text, NULL, result_cb, &result);
  return confab_store_import_finish (store, wait_result (&result), error);
}

/* The sample: every kind of message and branch the store holds.
 *
 * 1 "Trip to 東京 🗾" (pinned, a system prompt):
 *     1 user ─┬─ 2 assistant (reasoning, usage)   <- current leaf
 *             └─ 3 assistant (regenerated)
 *     4 user (an edit of 1) ── 5 assistant (two tool calls, one with
 *       broken arguments) ── 6 tool ── 7 tool (error) ── 8 assistant (failed)
 * 2 "مرحبا بالعالم" (archived): a user message and a stopped reply
 * 3 "" (no messages, no provider)
 */
typedef struct
{
  gint64 trip;
  gint64 trip_first_reply;
  gint64 trip_edit;
  gint64 rtl;
  gint64 empty;
} Sample;

static void
build_sample (ConfabStore *store,
              Sample      *sample)
{
  g_autoptr(ConfabToolCall) weather = NULL;
  g_autoptr(ConfabToolCall) broken = NULL;
  ConfabMessage *message;
  gint64 question;
  gint64 id;

  sample->trip = create_conversation (store, "Trip to 東京 🗾", "openai", "gpt-4o",
                                      "Be brief.\nUse metric units.", TRUE, FALSE);

  question = add_message (store, sample->trip, -1,
                          confab_message_new (CONFAB_ROLE_USER, "Plan a day in **Tokyo** 🍣"), 0);
  message = reply ("Start at *Tsukiji*.\n\n- Sushi\n- Temples", CONFAB_MESSAGE_COMPLETE, 2500);
  confab_message_set_reasoning (message, "The user wants food first.");
  confab_message_set_usage (message, 12, 34);
  sample->trip_first_reply = add_message (store, sample->trip, question, message, 1000);
  add_message (store, sample->trip, question,
               reply ("Second try ☕", CONFAB_MESSAGE_COMPLETE, 4000), 3000);

  sample->trip_edit = add_message (store, sample->trip, -1,
                                   confab_message_new (CONFAB_ROLE_USER, "Plan a day in 京都 instead"), 5000);
  message = reply ("", CONFAB_MESSAGE_COMPLETE, 6500);
  weather = confab_tool_call_new_from_json_text ("call_1", "weather",
                                                 "{\"city\": \"京都\", \"days\": 1, \"ratio\": 0.1, "
                                                 "\"note\": \"```fenced```\"}");
  broken = confab_tool_call_new_from_json_text ("call_2", "search", "{\"query\": \"temples");
  g_assert_null (confab_tool_call_get_arguments_error (weather));
  g_assert_nonnull (confab_tool_call_get_arguments_error (broken));
  confab_message_add_tool_call (message, weather);
  confab_message_add_tool_call (message, broken);
  id = add_message (store, sample->trip, sample->trip_edit, message, 6000);
  id = add_message (store, sample->trip, id,
                    confab_message_new_tool_result (weather, "Sunny, 21 °C", FALSE), 7000);
  id = add_message (store, sample->trip, id,
                    confab_message_new_tool_result (broken, "The arguments are not valid JSON", TRUE), 7001);
  message = reply ("Kyoto is", CONFAB_MESSAGE_FAILED, 9000);
  confab_message_set_error (message, "HTTP 500: the server\nexploded");
  add_message (store, sample->trip, id, message, 8000);
  /* The current branch is not the newest one. */
  switch_branch (store, sample->trip_first_reply);

  sample->rtl = create_conversation (store, "مرحبا بالعالم", "anthropic", "claude-3-5-sonnet", NULL,
                                     FALSE, TRUE);
  id = add_message (store, sample->rtl, -1,
                    confab_message_new (CONFAB_ROLE_USER, "שלום! How are you? 👋🏽"), 0);
  add_message (store, sample->rtl, id, reply ("I am fine, and", CONFAB_MESSAGE_STOPPED, 2000), 1000);

  sample->empty = create_conversation (store, "", NULL, NULL, NULL, FALSE, FALSE);
}

/* A JSON document without its "exported_at", pretty-printed again. */
static char *
normalize_export (const char *json_text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;

  json_parser_load_from_data (parser, json_text, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (root, "exported_at"));
  json_object_remove_member (root, "exported_at");
  return json_to_string (json_parser_get_root (parser), TRUE);
}

static JsonObject *
nth_object (JsonArray *array,
            guint      i)
{
  return json_array_get_object_element (array, i);
}

/* Tests */

static void
test_json_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) again = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *first_normal = NULL;
  g_autofree char *second_normal = NULL;
  g_autofree char *path = store_path (fixture, "b.db");
  g_autofree char *markdown = NULL;
  ConfabStore *fresh;
  JsonObject *root;
  JsonArray *conversations;
  JsonObject *trip;
  JsonArray *messages;
  JsonObject *message;
  JsonArray *calls;
  Sample sample;

  build_sample (fixture->store, &sample);

  first = export (fixture->store, 0, CONFAB_EXPORT_JSON, &error);
  g_assert_no_error (error);
  g_test_message ("%s", first);

  /* The document's shape (docs/export-format.md). */
  json_parser_load_from_data (parser, first, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "confab-conversations");
  g_assert_cmpint (json_object_get_int_member (root, "version"), ==, 1);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (root, "exported_at"), "Z"));
  conversations = json_object_get_array_member (root, "conversations");
  g_assert_cmpuint (json_array_get_length (conversations), ==, 3);

  trip = nth_object (conversations, 0);
  g_assert_cmpstr (json_object_get_string_member (trip, "title"), ==, "Trip to 東京 🗾");
  g_assert_cmpstr (json_object_get_string_member (trip, "created_at"), ==, "2026-01-02T03:04:05.678Z");
  g_assert_true (json_object_get_boolean_member (trip, "pinned"));
  g_assert_false (json_object_get_boolean_member (trip, "archived"));
  g_assert_cmpstr (json_object_get_string_member (trip, "system_prompt"), ==, "Be brief.\nUse metric units.");
  g_assert_cmpint (json_object_get_int_member (trip, "current_leaf"), ==, 2);
  messages = json_object_get_array_member (trip, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 8);

  message = nth_object (messages, 1);
  g_assert_cmpint (json_object_get_int_member (message, "id"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (message, "parent"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (message, "reasoning"), ==, "The user wants food first.");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (message, "usage"),
                                               "completion_tokens"), ==, 34);
  g_assert_cmpstr (json_object_get_string_member (message, "finished_at"), ==, "2026-01-02T03:04:08.178Z");

  message = nth_object (messages, 3);
  g_assert_true (json_object_get_null_member (message, "parent"));

  message = nth_object (messages, 4);
  calls = json_object_get_array_member (message, "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (nth_object (calls, 0),
                                                                                 "arguments"), "city"),
                   ==, "京都");
  g_assert_false (json_object_has_member (nth_object (calls, 1), "arguments"));
  g_assert_cmpstr (json_object_get_string_member (nth_object (calls, 1), "raw_arguments"), ==,
                   "{\"query\": \"temples");

  message = nth_object (messages, 6);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "tool");
  g_assert_cmpstr (json_object_get_string_member (message, "tool_call_id"), ==, "call_2");
  g_assert_true (json_object_get_boolean_member (message, "is_error"));

  message = nth_object (messages, 7);
  g_assert_cmpstr (json_object_get_string_member (message, "state"), ==, "failed");
  g_assert_cmpstr (json_object_get_string_member (message, "error"), ==, "HTTP 500: the server\nexploded");

  message = nth_object (json_object_get_array_member (nth_object (conversations, 1), "messages"), 1);
  g_assert_cmpstr (json_object_get_string_member (message, "state"), ==, "stopped");
  g_assert_true (json_object_get_boolean_member (nth_object (conversations, 1), "archived"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (nth_object (conversations, 2),
                                                                          "messages")), ==, 0);

  /* Into a fresh store and out again: the same document. */
  fresh = open_store (path);
  ids = import (fresh, first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 3);

  second = export (fresh, 0, CONFAB_EXPORT_JSON, &error);
  g_assert_no_error (error);
  first_normal = normalize_export (first);
  second_normal = normalize_export (second);
  g_assert_cmpstr (first_normal, ==, second_normal);

  /* The imported conversation works like any other: its current branch. */
  markdown = export (fresh, g_array_index (ids, gint64, 0), CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (markdown, "Start at *Tsukiji*."));
  g_assert_null (strstr (markdown, "Second try"));

  /* No deduplication: a second import is a second copy. */
  again = import (fresh, first, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, 3);
  g_assert_cmpint (g_array_index (again, gint64, 0), !=, g_array_index (ids, gint64, 0));
  g_assert_cmpuint (count_conversations (fresh), ==, 6);

  close_store (fresh);
}

static void
test_markdown (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *trip = NULL;
  g_autofree char *trip_edit = NULL;
  g_autofree char *rtl = NULL;
  g_autofree char *all = NULL;
  Sample sample;

  build_sample (fixture->store, &sample);

  trip = export (fixture->store, sample.trip, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_test_message ("%s", trip);
  g_assert_true (g_str_has_prefix (trip, "# Trip to 東京 🗾\n\n"
                                         "*Model: gpt-4o (openai) · Created: 2026-01-02 03:04 UTC · Updated: "));
  g_assert_nonnull (strstr (trip, "**System prompt:**\n\n> Be brief.\n> Use metric units.\n\n"));
  g_assert_nonnull (strstr (trip, "## You\n\nPlan a day in **Tokyo** 🍣\n\n## Assistant\n\n"
                                  "<details><summary>Reasoning</summary>\n\nThe user wants food first.\n\n"
                                  "</details>\n\nStart at *Tsukiji*.\n\n- Sushi\n- Temples\n"));
  g_assert_true (g_str_has_suffix (trip, "- Temples\n"));
  /* Only the current branch. */
  g_assert_null (strstr (trip, "Second try"));
  g_assert_null (strstr (trip, "京都"));

  switch_branch (fixture->store, sample.trip_edit);
  trip_edit = export (fixture->store, sample.trip, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_test_message ("%s", trip_edit);
  g_assert_null (strstr (trip_edit, "Tokyo"));
  g_assert_nonnull (strstr (trip_edit, "## You\n\nPlan a day in 京都 instead\n\n## Assistant\n\n````json\n{\n"
                                       "  \"name\" : \"weather\",\n  \"arguments\" : {\n"));
  g_assert_nonnull (strstr (trip_edit, "\"note\" : \"```fenced```\"\n  }\n}\n````\n\n"));
  g_assert_nonnull (strstr (trip_edit, "```json\n{\n  \"name\" : \"search\",\n"
                                       "  \"arguments\" : \"{\\\"query\\\": \\\"temples\"\n}\n```\n\n"));
  g_assert_nonnull (strstr (trip_edit, "## Tool result (weather)\n\nSunny, 21 °C\n\n"));
  g_assert_nonnull (strstr (trip_edit, "## Tool result (search)\n\nThe arguments are not valid JSON\n\n"
                                       "*The tool reported an error.*\n\n"));
  g_assert_true (g_str_has_suffix (trip_edit, "## Assistant\n\nKyoto is\n\n"
                                              "*Reply failed: HTTP 500: the server exploded*\n"));

  rtl = export (fixture->store, sample.rtl, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (rtl, "# مرحبا بالعالم\n\n*Model: claude-3-5-sonnet (anthropic) · "));
  g_assert_null (strstr (rtl, "System prompt"));
  g_assert_true (g_str_has_suffix (rtl, "## You\n\nשלום! How are you? 👋🏽\n\n"
                                        "## Assistant\n\nI am fine, and\n\n*Reply stopped.*\n"));

  all = export (fixture->store, 0, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (all, trip_edit));
  g_assert_nonnull (strstr (all, "\n\n---\n\n# مرحبا بالعالم\n\n"));
  g_assert_true (g_str_has_suffix (all, "\n\n---\n\n# Untitled conversation\n\n"
                                        "*Created: 2026-01-02 03:04 UTC · Updated: 2026-01-02 03:04 UTC*\n"));
}

static void
test_not_found (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *markdown = NULL;
  g_autofree char *empty = NULL;

  json = export (fixture->store, 999, CONFAB_EXPORT_JSON, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_null (json);
  g_clear_error (&error);

  markdown = export (fixture->store, 999, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_null (markdown);
  g_clear_error (&error);

  /* All of no conversations is an empty list, not an error. */
  empty = export (fixture->store, 0, CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (empty, ==, "");
}

/* A document of one conversation around @messages (JSON text). */
#define DOCUMENT(messages) \
  "{\"format\": \"confab-conversations\", \"version\": 1, \"conversations\": [" \
  "{\"title\": \"ok\", \"messages\": [{\"id\": 1, \"role\": \"user\", \"content\": \"hi\"}]}, " \
  "{\"title\": \"bad\", \"messages\": [" messages "]}]}"

static const struct
{
  const char *json;
  const char *message;
} invalid_imports[] = {
  { "this is not JSON",
    "Not a JSON document: line 1, column 4: unexpected identifier `this', expected value" },
  { "{\n  \"format\": \"confab-conversations\",\n  \"version\": 1,\n  \"conversations\": [}",
    "Not a JSON document: line 4, column 21: unexpected character `}', expected character `]'" },
  { "", "Not a JSON document: the file is empty" },
  { "{\n  \"format\": \"caf\xc3\x28\"\n}", "Not a JSON document: line 2, column 17: the text is not UTF-8" },
  { "[]", "Not a Confab export (the document is not a JSON object)" },
  { "{\"version\": 1, \"conversations\": []}", "Not a Confab export (it has no “format”)" },
  { "{\"format\": \"chatgpt-export\", \"version\": 1, \"conversations\": []}",
    "Not a Confab export (format is “chatgpt-export”, not “confab-conversations”)" },
  { "{\"format\": \"confab-conversations\", \"version\": 7, \"conversations\": []}",
    "Export format version 7 is newer than this Confab understands (1)" },
  { "{\"format\": \"confab-conversations\", \"version\": \"1\", \"conversations\": []}",
    "“version” must be an integer" },
  { "{\"format\": \"confab-conversations\", \"version\": 1}", "“conversations” is missing" },
  { "{\"format\": \"confab-conversations\", \"version\": 1, \"conversations\": [{\"title\": \"x\"}]}",
    "conversation 1: “messages” is missing" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\"}, {\"id\": 2, \"parent\": 1, \"role\": \"assistant\"}, "
              "{\"id\": 3, \"parent\": 2, \"role\": \"user\"}, {\"id\": 4, \"parent\": 3, \"role\": \"assistant\"}, "
              "{\"id\": 5, \"parent\": 4, \"role\": \"robot\"}"),
    "conversation 2, message 5: unknown role “robot”" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\"}, {\"id\": 2, \"parent\": 9, \"role\": \"assistant\"}"),
    "conversation 2, message 2: parent 9 does not exist" },
  { DOCUMENT ("{\"id\": 1, \"parent\": 3, \"role\": \"user\"}, {\"id\": 2, \"parent\": 1, \"role\": \"assistant\"}, "
              "{\"id\": 3, \"parent\": 2, \"role\": \"user\"}"),
    "conversation 2, message 1: its parents form a cycle (ids 1 → 3 → 2 → 1)" },
  { DOCUMENT ("{\"id\": 1, \"parent\": 1, \"role\": \"user\"}"),
    "conversation 2, message 1: its parents form a cycle (ids 1 → 1)" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\"}, {\"id\": 1, \"role\": \"user\"}"),
    "conversation 2, message 2: id 1 is already used by message 1" },
  { DOCUMENT ("{\"id\": 0, \"role\": \"user\"}"),
    "conversation 2, message 1: “id” must be at least 1 (not 0)" },
  { DOCUMENT ("{\"role\": \"user\"}"), "conversation 2, message 1: “id” is missing" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\", \"state\": \"thinking\"}"),
    "conversation 2, message 1: unknown state “thinking”" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\", \"content\": 42}"),
    "conversation 2, message 1: “content” must be a string" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\", \"content\": \"broken \\ud83d emoji\"}"),
    "Not a JSON document: line 1, column 218: a \\u escape of half a surrogate pair is not a character" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\", \"created_at\": \"yesterday\"}"),
    "conversation 2, message 1: “created_at” is not an ISO 8601 date and time (“yesterday”)" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"user\", \"usage\": {\"prompt_tokens\": -3}}"),
    "conversation 2, message 1, usage: “prompt_tokens” must be at least 0 (not -3)" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"assistant\", \"tool_calls\": [{\"id\": \"c\", \"name\": \"t\", "
              "\"arguments\": {}, \"raw_arguments\": \"{}\"}]}"),
    "conversation 2, message 1, tool call 1: it has both “arguments” and “raw_arguments”" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"assistant\", \"tool_calls\": [{\"id\": \"c\", \"name\": \"t\", "
              "\"arguments\": [1]}]}"),
    "conversation 2, message 1, tool call 1: “arguments” must be an object (other text goes in “raw_arguments”)" },
  { DOCUMENT ("{\"id\": 1, \"role\": \"assistant\", \"tool_calls\": [{\"name\": \"t\", \"arguments\": {}}]}"),
    "conversation 2, message 1, tool call 1: “id” is missing" },
  { "{\"format\": \"confab-conversations\", \"version\": 1, \"conversations\": [{\"current_leaf\": 2, "
    "\"messages\": [{\"id\": 1, \"role\": \"user\"}]}]}",
    "conversation 1: current_leaf 2 does not exist" },
  { "{\"format\": \"confab-conversations\", \"version\": 1, \"conversations\": [{\"pinned\": 1, "
    "\"messages\": []}]}",
    "conversation 1: “pinned” must be true or false" },
};

static void
test_import_invalid (Fixture       *fixture,
                     gconstpointer  data)
{
  Sample sample;
  guint before;

  build_sample (fixture->store, &sample);
  before = count_conversations (fixture->store);

  for (guint i = 0; i < G_N_ELEMENTS (invalid_imports); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) ids = NULL;

      g_test_message ("case %u: %s", i, invalid_imports[i].message);
      ids = import (fixture->store, invalid_imports[i].json, &error);
      g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, invalid_imports[i].message);
      g_assert_null (ids);
      g_assert_cmpuint (count_conversations (fixture->store), ==, before);
    }
}

/* Only what is required, as someone might write it by hand. */
static void
test_import_minimal (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autofree char *markdown = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  ids = import (fixture->store,
                "{\"format\": \"confab-conversations\", \"version\": 1, \"conversations\": [{\"messages\": ["
                "{\"id\": 10, \"role\": \"assistant\", \"parent\": 20, \"content\": \"Hello\"},"
                "{\"id\": 20, \"role\": \"user\", \"content\": \"Hi\", \"created_at\": \"2026-01-02T04:04:05+01:00\"}"
                "]}]}",
                &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 1);

  /* The child came first in the file; its parent was written first. With
   * no current_leaf, the last message of the file is the leaf. */
  confab_store_load_messages_async (fixture->store, g_array_index (ids, gint64, 0), NULL, result_cb, &result);
  messages = confab_store_load_messages_finish (fixture->store, wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (messages, 0)), ==, "Hi");
  g_assert_cmpint (confab_message_get_created_at (g_ptr_array_index (messages, 0)), ==, T0 - 678);

  markdown = export (fixture->store, g_array_index (ids, gint64, 0), CONFAB_EXPORT_MARKDOWN, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (markdown, "# Untitled conversation\n\n"));
}

static void
test_import_read_only (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autofree char *path = g_strdup (confab_store_get_path (fixture->store));
  g_autofree char *json = NULL;
  g_autofree char *exported = NULL;
  sqlite3 *db;
  Sample sample;

  build_sample (fixture->store, &sample);
  json = export (fixture->store, 0, CONFAB_EXPORT_JSON, &error);
  g_assert_no_error (error);
  g_clear_pointer (&fixture->store, close_store);

  /* A database from a newer Confab opens read-only. */
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  fixture->store = open_store (path);
  g_assert_cmpint (confab_store_get_mode (fixture->store), ==, CONFAB_STORE_READ_ONLY);

  ids = import (fixture->store, json, &error);
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY);
  g_assert_null (ids);
  g_clear_error (&error);
  g_assert_cmpuint (count_conversations (fixture->store), ==, 3);

  /* What can be read can still be exported. */
  exported = export (fixture->store, 0, CONFAB_EXPORT_JSON, &error);
  g_assert_no_error (error);
  {
    g_autofree char *a = normalize_export (json);
    g_autofree char *b = normalize_export (exported);

    g_assert_cmpstr (a, ==, b);
  }
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) export_result = NULL;
  g_autoptr(GAsyncResult) import_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  Sample sample;

  build_sample (fixture->store, &sample);
  json = export (fixture->store, 0, CONFAB_EXPORT_JSON, &error);
  g_assert_no_error (error);

  g_cancellable_cancel (cancellable);
  confab_store_export_async (fixture->store, 0, CONFAB_EXPORT_JSON, cancellable, result_cb, &export_result);
  confab_store_import_async (fixture->store, json, cancellable, result_cb, &import_result);

  text = confab_store_export_finish (fixture->store, wait_result (&export_result), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (text);
  g_clear_error (&error);

  ids = confab_store_import_finish (fixture->store, wait_result (&import_result), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (ids);
  g_assert_cmpuint (count_conversations (fixture->store), ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/export/json-round-trip", test_json_round_trip);
  ADD ("/export/markdown", test_markdown);
  ADD ("/export/not-found", test_not_found);
  ADD ("/export/import-invalid", test_import_invalid);
  ADD ("/export/import-minimal", test_import_minimal);
  ADD ("/export/import-read-only", test_import_read_only);
  ADD ("/export/cancelled", test_cancelled);
#undef ADD

  return g_test_run ();
}
