/* confab-store-export.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "confab-json.h"
#include "confab-store-export.h"
#include "confab-store-private.h"

/* Export to Markdown (the current branch, for people) and to JSON (every
 * branch, for import; docs/export-format.md), and import of that JSON.
 * Both run as jobs on the store's worker thread.
 *
 * An export reads inside one read transaction, so a conversation another
 * Confab writes meanwhile is seen whole or not at all. Message ids in the
 * JSON are local to their conversation, 1, 2, 3… in the order the store
 * wrote the messages; an import writes them in that order again (parents
 * first), so exporting what was imported gives the same document.
 *
 * An import checks the whole document before it writes anything, then
 * writes it in one transaction: all conversations or none.
 */

typedef struct
{
  gint64             conversation_id;
  ConfabExportFormat format;
} ExportData;

/* One message of the file being imported. */
typedef struct
{
  ConfabMessage *message;
  gint64         local_id;
  gint64         parent_local_id;   /* 0: a first message */
  guint          parent_index;      /* into the conversation's messages */
  gint64         new_id;
} ImportMessage;

typedef struct
{
  ConfabConversation *conversation;
  GArray             *messages;      /* ImportMessage, in file order */
  GArray             *order;         /* guint indices, parents before children */
  gint64              leaf_local_id; /* 0: none */
  guint               leaf_index;
} ImportConversation;

/* Times */

/* Milliseconds since 1970 as ISO 8601 in UTC ("2026-01-02T03:04:05.678Z"),
 * or NULL when the time is outside the years 1 to 9999. */
static char *
format_time (gint64 unix_ms)
{
  g_autoptr(GDateTime) utc = NULL;
  gint64 seconds = unix_ms / 1000;
  int ms = (int)(unix_ms % 1000);

  if (ms < 0)
    {
      ms += 1000;
      seconds--;
    }

  utc = g_date_time_new_from_unix_utc (seconds);
  if (utc == NULL)
    return NULL;

  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                          g_date_time_get_year (utc),
                          g_date_time_get_month (utc),
                          g_date_time_get_day_of_month (utc),
                          g_date_time_get_hour (utc),
                          g_date_time_get_minute (utc),
                          g_date_time_get_second (utc),
                          ms);
}

static char *
format_time_for_people (gint64 unix_ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (unix_ms / 1000);

  if (utc == NULL)
    return g_strdup (_("an unknown time"));
  return g_date_time_format (utc, "%Y-%m-%d %H:%M UTC");
}

/* Any ISO 8601 date and time GLib reads (UTC when it names no time zone),
 * to the nearest millisecond. */
static gboolean
parse_time (const char *text,
            gint64     *unix_ms)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) parsed = g_date_time_new_from_iso8601 (text, utc);
  g_autoptr(GDateTime) epoch = NULL;
  gint64 us;

  if (parsed == NULL)
    return FALSE;

  epoch = g_date_time_new_from_unix_utc (0);
  us = g_date_time_difference (parsed, epoch) + 500;
  /* GLib reads the seconds as a double: round, and floor below 1970. */
  *unix_ms = us / 1000 - (us % 1000 < 0 ? 1 : 0);
  return TRUE;
}

/* Text */

/* A column as valid UTF-8 (a database written by something else may hold
 * other bytes; a JSON document may not). */
static char *
dup_utf8 (const char *text)
{
  if (text == NULL)
    return NULL;
  return g_utf8_make_valid (text, -1);
}

static char *
dup_column_utf8 (sqlite3_stmt *stmt,
                 int           column)
{
  return dup_utf8 (_confab_store_column_text (stmt, column));
}

static void
append_utf8 (GString    *out,
             const char *text)
{
  if (g_utf8_validate (text, -1, NULL))
    {
      g_string_append (out, text);
    }
  else
    {
      g_autofree char *valid = g_utf8_make_valid (text, -1);
      g_string_append (out, valid);
    }
}

/* Text on one line, for a heading or a marker. */
static char *
one_line (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_strdelimit (valid, "\r\n\t", ' ');
  return g_strstrip (g_steal_pointer (&valid));
}

/* Enough backticks to fence @text: one more than its longest run. */
static char *
code_fence (const char *text)
{
  guint longest = 0;
  guint run = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      run = *p == '`' ? run + 1 : 0;
      longest = MAX (longest, run);
    }

  return g_strnfill (MAX (3, longest + 1), '`');
}

/* JSON export */

static void
add_string (JsonBuilder *builder,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (builder, member);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* A text column, made valid UTF-8; an empty one as null when @empty_is_null. */
static void
add_column_string (JsonBuilder  *builder,
                   const char   *member,
                   sqlite3_stmt *stmt,
                   int           column,
                   gboolean      empty_is_null)
{
  g_autofree char *text = dup_column_utf8 (stmt, column);

  if (empty_is_null && text != NULL && text[0] == '\0')
    g_clear_pointer (&text, g_free);
  add_string (builder, member, text);
}

static void
add_time (JsonBuilder *builder,
          const char  *member,
          gint64       unix_ms)
{
  g_autofree char *text = unix_ms > 0 ? format_time (unix_ms) : NULL;

  add_string (builder, member, text);
}

static void
add_column_count (JsonBuilder  *builder,
                  const char   *member,
                  sqlite3_stmt *stmt,
                  int           column)
{
  json_builder_set_member_name (builder, member);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, column));
}

static void
add_tool_call (JsonBuilder    *builder,
               ConfabToolCall *call)
{
  JsonNode *arguments = confab_tool_call_get_arguments (call);

  json_builder_begin_object (builder);
  add_string (builder, "id", confab_tool_call_get_id (call));
  add_string (builder, "name", confab_tool_call_get_name (call));
  if (arguments != NULL)
    {
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, json_node_copy (arguments));
    }
  else
    {
      add_string (builder, "raw_arguments", confab_tool_call_get_raw_arguments (call));
    }
  json_builder_end_object (builder);
}

/* The tool calls of a conversation's messages, ordered by message and
 * position: @message_ids[i] made @calls[i]. */
static gboolean
read_tool_calls (ConfabStore  *self,
                 gint64        conversation_id,
                 GArray       *message_ids,
                 GPtrArray    *calls,
                 GError      **error)
{
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (self,
                                "SELECT t.message_id, t.call_id, t.name, t.arguments "
                                "FROM tool_calls t JOIN messages m ON m.id = t.message_id "
                                "WHERE m.conversation_id = ?1 ORDER BY t.message_id, t.position",
                                error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 message_id = sqlite3_column_int64 (stmt, 0);
      g_autofree char *call_id = dup_column_utf8 (stmt, 1);
      g_autofree char *name = dup_column_utf8 (stmt, 2);
      g_autofree char *arguments = dup_column_utf8 (stmt, 3);

      g_array_append_val (message_ids, message_id);
      g_ptr_array_add (calls, confab_tool_call_new_from_json_text (call_id, name != NULL ? name : "",
                                                                   arguments));
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      g_propagate_error (error, _confab_store_error (self, rc, _("reading tool calls")));
      return FALSE;
    }
  return TRUE;
}

/* Message ids of the store to file-local ids: 1, 2, 3… in id order. */
static GHashTable *
number_messages (ConfabStore  *self,
                 gint64        conversation_id,
                 GError      **error)
{
  g_autoptr(GHashTable) local_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  sqlite3_stmt *stmt;
  guint n = 0;
  int rc;

  stmt = _confab_store_prepare (self, "SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_hash_table_insert (local_ids, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (++n));
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      g_propagate_error (error, _confab_store_error (self, rc, _("reading messages")));
      return NULL;
    }
  return g_steal_pointer (&local_ids);
}

/* Its local id, or 0 when @id is not a message of this conversation. */
static guint
lookup_local_id (GHashTable *local_ids,
                 gint64      id)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (local_ids, &id));
}

static void
add_local_id (JsonBuilder *builder,
              const char  *member,
              guint        local_id)
{
  json_builder_set_member_name (builder, member);
  if (local_id > 0)
    json_builder_add_int_value (builder, local_id);
  else
    json_builder_add_null_value (builder);
}

static gboolean
build_conversation_json (ConfabStore  *self,
                         JsonBuilder  *builder,
                         gint64        conversation_id,
                         GError      **error)
{
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GHashTable) local_ids = NULL;
  g_autoptr(GArray) call_message_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *title = NULL;
  g_autofree char *provider = NULL;
  g_autofree char *model = NULL;
  g_autofree char *system_prompt = NULL;
  sqlite3_stmt *stmt;
  guint next_call = 0;
  int rc;

  conversation = _confab_store_read_conversation (self, conversation_id, error);
  if (conversation == NULL ||
      (local_ids = number_messages (self, conversation_id, error)) == NULL ||
      !read_tool_calls (self, conversation_id, call_message_ids, calls, error))
    return FALSE;

  title = dup_utf8 (confab_conversation_get_title (conversation));
  provider = dup_utf8 (confab_conversation_get_provider (conversation));
  model = dup_utf8 (confab_conversation_get_model (conversation));
  system_prompt = dup_utf8 (confab_conversation_get_system_prompt (conversation));

  json_builder_begin_object (builder);
  add_string (builder, "title", title);
  add_time (builder, "created_at", confab_conversation_get_created_at (conversation));
  add_time (builder, "updated_at", confab_conversation_get_updated_at (conversation));
  json_builder_set_member_name (builder, "pinned");
  json_builder_add_boolean_value (builder, confab_conversation_get_pinned (conversation));
  json_builder_set_member_name (builder, "archived");
  json_builder_add_boolean_value (builder, confab_conversation_get_archived (conversation));
  add_string (builder, "provider", provider);
  add_string (builder, "model", model);
  add_string (builder, "system_prompt", system_prompt);
  add_local_id (builder, "current_leaf",
                lookup_local_id (local_ids, confab_conversation_get_current_leaf (conversation)));

  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);

  stmt = _confab_store_prepare (self,
                                "SELECT id, parent_id, role, content, reasoning, state, error, model, "
                                "prompt_tokens, completion_tokens, created_at, finished_at, "
                                "tool_call_id, tool_name, is_error "
                                "FROM messages WHERE conversation_id = ?1 ORDER BY id",
                                error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_autofree char *content = dup_column_utf8 (stmt, 3);

      json_builder_begin_object (builder);
      add_local_id (builder, "id", lookup_local_id (local_ids, id));
      add_local_id (builder, "parent",
                    sqlite3_column_type (stmt, 1) == SQLITE_NULL
                    ? 0 : lookup_local_id (local_ids, sqlite3_column_int64 (stmt, 1)));
      add_column_string (builder, "role", stmt, 2, FALSE);
      add_string (builder, "content", content != NULL ? content : "");
      add_column_string (builder, "reasoning", stmt, 4, TRUE);
      add_column_string (builder, "state", stmt, 5, FALSE);
      add_column_string (builder, "error", stmt, 6, FALSE);
      add_column_string (builder, "model", stmt, 7, FALSE);
      json_builder_set_member_name (builder, "usage");
      json_builder_begin_object (builder);
      add_column_count (builder, "prompt_tokens", stmt, 8);
      add_column_count (builder, "completion_tokens", stmt, 9);
      json_builder_end_object (builder);
      add_time (builder, "created_at", sqlite3_column_int64 (stmt, 10));
      add_time (builder, "finished_at", sqlite3_column_int64 (stmt, 11));
      add_column_string (builder, "tool_call_id", stmt, 12, FALSE);
      add_column_string (builder, "tool_name", stmt, 13, FALSE);
      json_builder_set_member_name (builder, "is_error");
      json_builder_add_boolean_value (builder, sqlite3_column_int (stmt, 14) != 0);

      json_builder_set_member_name (builder, "tool_calls");
      json_builder_begin_array (builder);
      /* Both lists are ordered by message id. */
      while (next_call < calls->len && g_array_index (call_message_ids, gint64, next_call) < id)
        next_call++;
      while (next_call < calls->len && g_array_index (call_message_ids, gint64, next_call) == id)
        add_tool_call (builder, g_ptr_array_index (calls, next_call++));
      json_builder_end_array (builder);

      json_builder_end_object (builder);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      g_propagate_error (error, _confab_store_error (self, rc, _("reading messages")));
      return FALSE;
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return TRUE;
}

/* Markdown export */

static void
append_tool_call_markdown (GString        *out,
                           ConfabToolCall *call)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  g_autofree char *fence = NULL;
  JsonNode *arguments = confab_tool_call_get_arguments (call);

  json_builder_begin_object (builder);
  add_string (builder, "name", confab_tool_call_get_name (call));
  json_builder_set_member_name (builder, "arguments");
  if (arguments != NULL)
    json_builder_add_value (builder, json_node_copy (arguments));
  else
    json_builder_add_string_value (builder, confab_tool_call_get_raw_arguments (call));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json = json_to_string (root, TRUE);
  fence = code_fence (json);
  g_string_append_printf (out, "%sjson\n%s\n%s\n\n", fence, json, fence);
}

static void
append_message_markdown (GString       *out,
                         ConfabMessage *message)
{
  const char *content = confab_message_get_content (message);
  const char *reasoning = confab_message_get_reasoning (message);
  GPtrArray *calls = confab_message_get_tool_calls (message);

  switch (confab_message_get_role (message))
    {
    case CONFAB_ROLE_SYSTEM:
      /* Translators: the heading of a system message in a Markdown export. */
      g_string_append_printf (out, "## %s\n\n", C_("message heading", "System"));
      break;

    case CONFAB_ROLE_USER:
      /* Translators: the heading of the user's messages in a Markdown export. */
      g_string_append_printf (out, "## %s\n\n", C_("message heading", "You"));
      break;

    case CONFAB_ROLE_ASSISTANT:
      /* Translators: the heading of the model's replies in a Markdown export. */
      g_string_append_printf (out, "## %s\n\n", C_("message heading", "Assistant"));
      break;

    case CONFAB_ROLE_TOOL:
      if (confab_message_get_tool_name (message) != NULL)
        {
          g_autofree char *name = one_line (confab_message_get_tool_name (message));
          g_string_append (out, "## ");
          /* Translators: a heading in a Markdown export; %s is the name of
           * the tool, such as “get_weather”. */
          g_string_append_printf (out, C_("message heading", "Tool result (%s)"), name);
          g_string_append (out, "\n\n");
        }
      else
        {
          g_string_append_printf (out, "## %s\n\n", C_("message heading", "Tool result"));
        }
      break;

    default:
      g_assert_not_reached ();
    }

  if (reasoning != NULL && reasoning[0] != '\0')
    {
      /* Translators: the title of the model's reasoning, folded away, in a
       * Markdown export. */
      g_string_append_printf (out, "<details><summary>%s</summary>\n\n", _("Reasoning"));
      append_utf8 (out, reasoning);
      if (!g_str_has_suffix (reasoning, "\n"))
        g_string_append_c (out, '\n');
      g_string_append (out, "\n</details>\n\n");
    }

  if (content[0] != '\0')
    {
      append_utf8 (out, content);
      if (!g_str_has_suffix (content, "\n"))
        g_string_append_c (out, '\n');
      g_string_append_c (out, '\n');
    }

  for (guint i = 0; i < calls->len; i++)
    append_tool_call_markdown (out, g_ptr_array_index (calls, i));

  if (confab_message_get_role (message) == CONFAB_ROLE_TOOL && confab_message_get_is_error (message))
    g_string_append_printf (out, "*%s*\n\n", _("The tool reported an error."));

  switch (confab_message_get_state (message))
    {
    case CONFAB_MESSAGE_COMPLETE:
      break;

    case CONFAB_MESSAGE_STREAMING:
      g_string_append_printf (out, "*%s*\n\n", _("Reply still being written."));
      break;

    case CONFAB_MESSAGE_STOPPED:
      g_string_append_printf (out, "*%s*\n\n", _("Reply stopped."));
      break;

    case CONFAB_MESSAGE_FAILED:
      if (confab_message_get_error (message) != NULL && confab_message_get_error (message)[0] != '\0')
        {
          g_autofree char *why = one_line (confab_message_get_error (message));
          g_string_append (out, "*");
          /* Translators: %s is the error, such as “HTTP 500 Internal Server Error”. */
          g_string_append_printf (out, _("Reply failed: %s"), why);
          g_string_append (out, "*\n\n");
        }
      else
        {
          g_string_append_printf (out, "*%s*\n\n", _("Reply failed."));
        }
      break;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
append_conversation_markdown (ConfabStore  *self,
                              GString      *out,
                              gint64        conversation_id,
                              GError      **error)
{
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GString) facts = g_string_new (NULL);
  g_autofree char *title = NULL;
  g_autofree char *created = NULL;
  g_autofree char *updated = NULL;
  g_autofree char *facts_line = NULL;
  const char *model;
  const char *provider;
  const char *system_prompt;

  conversation = _confab_store_read_conversation (self, conversation_id, error);
  if (conversation == NULL ||
      (messages = _confab_store_read_branch (self, conversation_id, error)) == NULL)
    return FALSE;

  title = one_line (confab_conversation_get_title (conversation));
  g_string_append_printf (out, "# %s\n\n", title[0] != '\0' ? title : _("Untitled conversation"));

  /* The facts under the title: “Model: llama3.2 (ollama) · Created: … ·
   * Updated: …”. */
  model = confab_conversation_get_model (conversation);
  provider = confab_conversation_get_provider (conversation);
  if (model != NULL && provider != NULL)
    {
      /* Translators: under a conversation's title in a Markdown export;
       * the first %s is a model, the second its provider. */
      g_string_append_printf (facts, _("Model: %s (%s)"), model, provider);
    }
  else if (model != NULL)
    {
      /* Translators: under a conversation's title in a Markdown export. */
      g_string_append_printf (facts, _("Model: %s"), model);
    }
  else if (provider != NULL)
    {
      /* Translators: under a conversation's title in a Markdown export. */
      g_string_append_printf (facts, _("Provider: %s"), provider);
    }
  if (facts->len > 0)
    g_string_append (facts, " · ");
  created = format_time_for_people (confab_conversation_get_created_at (conversation));
  updated = format_time_for_people (confab_conversation_get_updated_at (conversation));
  /* Translators: %s is a date and time, such as “2026-01-02 03:04 UTC”. */
  g_string_append_printf (facts, _("Created: %s"), created);
  g_string_append (facts, " · ");
  /* Translators: %s is a date and time, such as “2026-01-02 03:04 UTC”. */
  g_string_append_printf (facts, _("Updated: %s"), updated);
  facts_line = one_line (facts->str);
  g_string_append_printf (out, "*%s*\n\n", facts_line);

  system_prompt = confab_conversation_get_system_prompt (conversation);
  if (system_prompt != NULL && system_prompt[0] != '\0')
    {
      g_auto(GStrv) lines = g_strsplit (system_prompt, "\n", -1);

      /* Translators: a heading in a Markdown export, before the system prompt. */
      g_string_append_printf (out, "**%s**\n\n", _("System prompt:"));
      for (guint i = 0; lines[i] != NULL; i++)
        {
          /* No trailing empty quote line for a prompt that ends in a newline. */
          if (lines[i + 1] == NULL && lines[i][0] == '\0' && i > 0)
            break;
          g_string_append (out, lines[i][0] != '\0' ? "> " : ">");
          append_utf8 (out, lines[i]);
          g_string_append_c (out, '\n');
        }
      g_string_append_c (out, '\n');
    }

  for (guint i = 0; i < messages->len; i++)
    append_message_markdown (out, g_ptr_array_index (messages, i));

  /* One newline at the end, not a blank line. */
  while (out->len >= 2 && out->str[out->len - 1] == '\n' && out->str[out->len - 2] == '\n')
    g_string_truncate (out, out->len - 1);
  return TRUE;
}

/* Export job */

static GArray *
list_conversation_ids (ConfabStore  *self,
                       GError      **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (self, "SELECT id FROM conversations ORDER BY id", error);
  if (stmt == NULL)
    return NULL;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      g_propagate_error (error, _confab_store_error (self, rc, _("listing conversations")));
      return NULL;
    }
  return g_steal_pointer (&ids);
}

static char *
export_json (ConfabStore   *self,
             GArray        *ids,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *now = format_time (_confab_store_now ());
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  add_string (builder, "format", CONFAB_EXPORT_FORMAT_NAME);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, CONFAB_EXPORT_FORMAT_VERSION);
  add_string (builder, "exported_at", now);
  json_builder_set_member_name (builder, "conversations");
  json_builder_begin_array (builder);

  for (guint i = 0; i < ids->len; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !build_conversation_json (self, builder, g_array_index (ids, gint64, i), error))
        return NULL;
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  return g_strconcat (text, "\n", NULL);
}

static char *
export_markdown (ConfabStore   *self,
                 GArray        *ids,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < ids->len; i++)
    {
      if (i > 0)
        g_string_append (out, "\n---\n\n");
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !append_conversation_markdown (self, out, g_array_index (ids, gint64, i), error))
        return NULL;
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
export_job (ConfabStore *self,
            GTask       *task,
            gpointer     data)
{
  ExportData *export = data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GArray) ids = NULL;
  GError *error = NULL;
  char *text = NULL;

  /* One snapshot, though another Confab may write meanwhile. */
  if (!_confab_store_exec (self, "BEGIN", &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (export->conversation_id != 0)
    {
      ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_array_append_val (ids, export->conversation_id);
    }
  else
    {
      ids = list_conversation_ids (self, &error);
    }

  if (ids != NULL)
    {
      if (export->format == CONFAB_EXPORT_JSON)
        text = export_json (self, ids, cancellable, &error);
      else
        text = export_markdown (self, ids, cancellable, &error);
    }

  _confab_store_exec (self, "COMMIT", NULL);

  if (text == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, text, g_free);
}

/* Import: reading the document */

static void
import_message_clear (gpointer data)
{
  ImportMessage *message = data;

  g_clear_object (&message->message);
}

static void
import_conversation_free (gpointer data)
{
  ImportConversation *conversation = data;

  g_clear_object (&conversation->conversation);
  g_clear_pointer (&conversation->messages, g_array_unref);
  g_clear_pointer (&conversation->order, g_array_unref);
  g_free (conversation);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImportConversation, import_conversation_free)

G_GNUC_PRINTF (3, 4)
static gboolean
invalid (GError     **error,
         const char  *where,
         const char  *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (where != NULL)
    g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_INVALID,
                 /* Translators: a place in an imported file, such as
                  * “conversation 2, message 5”, then what is wrong there. */
                 C_("import error", "%s: %s"), where, message);
  else
    g_set_error_literal (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_INVALID, message);
  return FALSE;
}

/* A member, or NULL when it is missing or null. */
static gboolean
get_member (JsonObject  *object,
            const char  *name,
            gboolean     required,
            const char  *where,
            JsonNode   **node,
            GError     **error)
{
  *node = json_object_get_member (object, name);
  if (*node != NULL && JSON_NODE_HOLDS_NULL (*node))
    *node = NULL;
  if (*node == NULL && required)
    /* Translators: %s is the name of a member of the file, such as “role”. */
    return invalid (error, where, _("“%s” is missing"), name);
  return TRUE;
}

static gboolean
holds_type (JsonNode *node,
            GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
get_string (JsonObject   *object,
            const char   *name,
            gboolean      required,
            const char   *where,
            const char  **value,
            GError      **error)
{
  JsonNode *node;

  *value = NULL;
  if (!get_member (object, name, required, where, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!holds_type (node, G_TYPE_STRING))
    /* Translators: %s is the name of a member of the file, such as “role”. */
    return invalid (error, where, _("“%s” must be a string"), name);
  /* The file is UTF-8, but a \u escape of half a surrogate pair is not. */
  if (!g_utf8_validate (json_node_get_string (node), -1, NULL))
    /* Translators: %s is the name of a member of the file, such as “role”. */
    return invalid (error, where, _("“%s” is not valid Unicode (a lone surrogate escape)"), name);
  *value = json_node_get_string (node);
  return TRUE;
}

/* @value is @missing when the member is missing or null. */
static gboolean
get_int (JsonObject  *object,
         const char  *name,
         gboolean     required,
         gint64       minimum,
         gint64       missing,
         const char  *where,
         gint64      *value,
         GError     **error)
{
  JsonNode *node;

  *value = missing;
  if (!get_member (object, name, required, where, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!holds_type (node, G_TYPE_INT64))
    /* Translators: %s is the name of a member of the file, such as “role”. */
    return invalid (error, where, _("“%s” must be an integer"), name);
  if (json_node_get_int (node) < minimum)
    /* Translators: %s is the name of a member of the file, such as “id”;
     * the numbers are the smallest value allowed and the value found. */
    return invalid (error, where, _("“%s” must be at least %lld (not %lld)"),
                    name, (long long)minimum, (long long)json_node_get_int (node));
  *value = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_boolean (JsonObject  *object,
             const char  *name,
             const char  *where,
             gboolean    *value,
             GError     **error)
{
  JsonNode *node;

  *value = FALSE;
  if (!get_member (object, name, FALSE, where, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!holds_type (node, G_TYPE_BOOLEAN))
    /* Translators: %s is the name of a member of the file, such as
     * “pinned”; true and false are JSON values, not words to translate. */
    return invalid (error, where, _("“%s” must be true or false"), name);
  *value = json_node_get_boolean (node);
  return TRUE;
}

/* @value is 0 when the member is missing or null. */
static gboolean
get_time (JsonObject  *object,
          const char  *name,
          const char  *where,
          gint64      *value,
          GError     **error)
{
  const char *text;

  *value = 0;
  if (!get_string (object, name, FALSE, where, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (!parse_time (text, value))
    /* Translators: the first %s is the name of a member of the file, such
     * as “created_at”, the second its value. */
    return invalid (error, where, _("“%s” is not an ISO 8601 date and time (“%s”)"), name, text);
  /* The store keeps milliseconds since 1970 and reads 0 as “now”. */
  if (*value <= 0)
    /* Translators: the first %s is the name of a member of the file, such
     * as “created_at”, the second its value. */
    return invalid (error, where, _("“%s” is not after 1970 (“%s”)"), name, text);
  return TRUE;
}

static gboolean
get_array (JsonObject  *object,
           const char  *name,
           gboolean     required,
           const char  *where,
           JsonArray  **array,
           GError     **error)
{
  JsonNode *node;

  *array = NULL;
  if (!get_member (object, name, required, where, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    /* Translators: %s is the name of a member of the file, such as “messages”. */
    return invalid (error, where, _("“%s” must be an array"), name);
  *array = json_node_get_array (node);
  return TRUE;
}

static gboolean
get_object (JsonObject  *object,
            const char  *name,
            const char  *where,
            JsonObject **value,
            GError     **error)
{
  JsonNode *node;

  *value = NULL;
  if (!get_member (object, name, FALSE, where, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    /* Translators: %s is the name of a member of the file, such as “usage”. */
    return invalid (error, where, _("“%s” must be an object"), name);
  *value = json_node_get_object (node);
  return TRUE;
}

static ConfabToolCall *
read_tool_call (JsonNode    *node,
                const char  *where,
                GError     **error)
{
  JsonObject *object;
  JsonNode *arguments;
  const char *id;
  const char *name;
  const char *raw_arguments;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, where, _("not an object"));
      return NULL;
    }
  object = json_node_get_object (node);

  if (!get_string (object, "id", TRUE, where, &id, error) ||
      !get_string (object, "name", TRUE, where, &name, error) ||
      !get_member (object, "arguments", FALSE, where, &arguments, error) ||
      !get_string (object, "raw_arguments", FALSE, where, &raw_arguments, error))
    return NULL;

  if (id[0] == '\0')
    {
      invalid (error, where, _("“id” is empty"));
      return NULL;
    }
  if (name[0] == '\0')
    {
      invalid (error, where, _("“name” is empty"));
      return NULL;
    }
  if (arguments != NULL && raw_arguments != NULL)
    {
      /* Translators: “it” is a tool call in the file; “arguments” and
       * “raw_arguments” are names of members, not words to translate. */
      invalid (error, where, _("it has both “arguments” and “raw_arguments”"));
      return NULL;
    }
  if (arguments != NULL && !JSON_NODE_HOLDS_OBJECT (arguments))
    {
      invalid (error, where, _("“arguments” must be an object (other text goes in “raw_arguments”)"));
      return NULL;
    }
  if (arguments == NULL && raw_arguments == NULL)
    {
      /* Translators: “it” is a tool call in the file; “arguments” and
       * “raw_arguments” are names of members, not words to translate. */
      invalid (error, where, _("it has neither “arguments” nor “raw_arguments”"));
      return NULL;
    }

  if (arguments != NULL)
    return confab_tool_call_new (id, name, arguments);
  return confab_tool_call_new_from_json_text (id, name, raw_arguments);
}

static gboolean
read_message (JsonNode       *node,
              const char     *where,
              ImportMessage  *out,
              GError        **error)
{
  g_autoptr(ConfabMessage) message = NULL;
  ConfabRole role;
  ConfabMessageState state = CONFAB_MESSAGE_COMPLETE;
  JsonObject *object;
  JsonObject *usage;
  JsonArray *tool_calls;
  const char *role_name;
  const char *state_name;
  const char *content;
  const char *reasoning;
  const char *message_error;
  const char *model;
  const char *tool_call_id;
  const char *tool_name;
  gint64 id;
  gint64 parent;
  gint64 prompt_tokens = -1;
  gint64 completion_tokens = -1;
  gint64 created_at;
  gint64 finished_at;
  gboolean is_error;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, where, _("not an object"));
  object = json_node_get_object (node);

  if (!get_int (object, "id", TRUE, 1, 0, where, &id, error) ||
      !get_int (object, "parent", FALSE, 1, 0, where, &parent, error) ||
      !get_string (object, "role", TRUE, where, &role_name, error))
    return FALSE;
  if (!confab_role_from_string (role_name, &role))
    /* Translators: %s is the role the file gives, such as “robot”. */
    return invalid (error, where, _("unknown role “%s”"), role_name);

  if (!get_string (object, "content", FALSE, where, &content, error) ||
      !get_string (object, "reasoning", FALSE, where, &reasoning, error) ||
      !get_string (object, "state", FALSE, where, &state_name, error) ||
      !get_string (object, "error", FALSE, where, &message_error, error) ||
      !get_string (object, "model", FALSE, where, &model, error) ||
      !get_object (object, "usage", where, &usage, error) ||
      !get_time (object, "created_at", where, &created_at, error) ||
      !get_time (object, "finished_at", where, &finished_at, error) ||
      !get_string (object, "tool_call_id", FALSE, where, &tool_call_id, error) ||
      !get_string (object, "tool_name", FALSE, where, &tool_name, error) ||
      !get_boolean (object, "is_error", where, &is_error, error) ||
      !get_array (object, "tool_calls", FALSE, where, &tool_calls, error))
    return FALSE;

  if (state_name != NULL && !confab_message_state_from_string (state_name, &state))
    /* Translators: %s is the state the file gives, such as “paused”. */
    return invalid (error, where, _("unknown state “%s”"), state_name);
  /* Nothing is writing that reply any more (the store does the same to
   * replies that were streaming when Confab stopped). */
  if (state == CONFAB_MESSAGE_STREAMING)
    state = CONFAB_MESSAGE_STOPPED;

  if (usage != NULL)
    {
      /* Translators: a place in an imported file: %s is a place such as
       * “conversation 2, message 5”; “usage” is the name of a member of
       * the file. */
      g_autofree char *usage_where = g_strdup_printf (_("%s, usage"), where);

      if (!get_int (usage, "prompt_tokens", FALSE, 0, -1, usage_where, &prompt_tokens, error) ||
          !get_int (usage, "completion_tokens", FALSE, 0, -1, usage_where, &completion_tokens, error))
        return FALSE;
    }

  message = confab_message_new (role, content);
  if (reasoning != NULL && reasoning[0] != '\0')
    confab_message_set_reasoning (message, reasoning);
  confab_message_set_state (message, state);
  confab_message_set_error (message, message_error);
  confab_message_set_model (message, model);
  confab_message_set_usage (message, prompt_tokens, completion_tokens);
  confab_message_set_created_at (message, created_at);
  confab_message_set_finished_at (message, finished_at);
  confab_message_set_tool_result_info (message, tool_call_id, tool_name, is_error);

  for (guint i = 0; tool_calls != NULL && i < json_array_get_length (tool_calls); i++)
    {
      /* Translators: a place in an imported file: %s is a place such as
       * “conversation 2, message 5”, %u counts the message's tool calls
       * from 1. */
      g_autofree char *call_where = g_strdup_printf (_("%s, tool call %u"), where, i + 1);
      g_autoptr(ConfabToolCall) call = read_tool_call (json_array_get_element (tool_calls, i),
                                                      call_where, error);

      if (call == NULL)
        return FALSE;
      confab_message_add_tool_call (message, call);
    }

  out->message = g_steal_pointer (&message);
  out->local_id = id;
  out->parent_local_id = parent;
  return TRUE;
}

static char *
describe_cycle (GArray        *messages,
                GArray        *path,
                guint          start)
{
  g_autoptr(GString) ids = g_string_new (NULL);
  guint first = g_array_index (path, guint, start);

  for (guint i = start; i < path->len; i++)
    g_string_append_printf (ids, "%" G_GINT64_FORMAT " → ",
                            g_array_index (messages, ImportMessage, g_array_index (path, guint, i)).local_id);
  g_string_append_printf (ids, "%" G_GINT64_FORMAT, g_array_index (messages, ImportMessage, first).local_id);
  return g_string_free (g_steal_pointer (&ids), FALSE);
}

/* Resolves parents, refuses cycles and orders the messages so that each
 * comes after its parent, otherwise in file order. */
static gboolean
link_messages (ImportConversation  *conversation,
               const char          *where,
               GError             **error)
{
  GArray *messages = conversation->messages;
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) path = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree guint8 *visit = g_new0 (guint8, messages->len + 1);
  enum { NEW, ON_PATH, PLACED };

  for (guint i = 0; i < messages->len; i++)
    {
      ImportMessage *message = &g_array_index (messages, ImportMessage, i);
      gpointer other;

      if (g_hash_table_lookup_extended (by_id, &message->local_id, NULL, &other))
        /* Translators: %s is a place in an imported file, such as
         * “conversation 2”; the message numbers count from 1 in the file,
         * the id is the one the file gives. */
        return invalid (error, NULL, _("%s, message %u: id %lld is already used by message %u"),
                        where, i + 1, (long long)message->local_id, GPOINTER_TO_UINT (other) + 1);
      g_hash_table_insert (by_id, &message->local_id, GUINT_TO_POINTER (i));
    }

  for (guint i = 0; i < messages->len; i++)
    {
      ImportMessage *message = &g_array_index (messages, ImportMessage, i);
      gpointer parent;

      if (message->parent_local_id == 0)
        continue;
      if (!g_hash_table_lookup_extended (by_id, &message->parent_local_id, NULL, &parent))
        /* Translators: %s is a place in an imported file, such as
         * “conversation 2”; %u counts the messages from 1, %lld is the
         * parent's id as the file gives it. */
        return invalid (error, NULL, _("%s, message %u: parent %lld does not exist"),
                        where, i + 1, (long long)message->parent_local_id);
      message->parent_index = GPOINTER_TO_UINT (parent);
    }

  /* Up from each message to the first one placed (or a root), then
   * placed from the top down. Meeting the path itself is a cycle. */
  for (guint i = 0; i < messages->len; i++)
    {
      guint at = i;
      gboolean reached_root = FALSE;

      g_array_set_size (path, 0);
      while (visit[at] == NEW)
        {
          ImportMessage *message = &g_array_index (messages, ImportMessage, at);

          visit[at] = ON_PATH;
          g_array_append_val (path, at);
          if (message->parent_local_id == 0)
            {
              reached_root = TRUE;
              break;
            }
          at = message->parent_index;
        }

      if (!reached_root && visit[at] == ON_PATH)
        {
          g_autofree char *cycle = NULL;
          guint start = 0;

          while (g_array_index (path, guint, start) != at)
            start++;
          cycle = describe_cycle (messages, path, start);
          /* Translators: the first %s is a place in an imported file, such
           * as “conversation 2”; %u counts the messages from 1; the last %s
           * is a list of ids, such as “3 → 4 → 3”. */
          return invalid (error, NULL, _("%s, message %u: its parents form a cycle (ids %s)"),
                          where, at + 1, cycle);
        }

      for (guint k = path->len; k-- > 0;)
        {
          guint placed = g_array_index (path, guint, k);

          visit[placed] = PLACED;
          g_array_append_val (conversation->order, placed);
        }
    }

  if (conversation->leaf_local_id != 0)
    {
      gpointer found;

      if (!g_hash_table_lookup_extended (by_id, &conversation->leaf_local_id, NULL, &found))
        /* Translators: “current_leaf” is the name of a member of the file;
         * %lld is the message id it gives. */
        return invalid (error, where, _("current_leaf %lld does not exist"),
                        (long long)conversation->leaf_local_id);
      conversation->leaf_index = GPOINTER_TO_UINT (found);
    }

  return TRUE;
}

static ImportConversation *
read_conversation (JsonNode    *node,
                   guint        position,
                   GError     **error)
{
  g_autoptr(ImportConversation) conversation = g_new0 (ImportConversation, 1);
  /* Translators: a place in an imported file; %u counts from 1. */
  g_autofree char *where = g_strdup_printf (_("conversation %u"), position);
  JsonObject *object;
  JsonArray *messages;
  const char *title;
  const char *provider;
  const char *model;
  const char *system_prompt;
  gint64 created_at;
  gint64 updated_at;
  gint64 current_leaf;
  gboolean pinned;
  gboolean archived;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, where, _("not an object"));
      return NULL;
    }
  object = json_node_get_object (node);

  if (!get_string (object, "title", FALSE, where, &title, error) ||
      !get_time (object, "created_at", where, &created_at, error) ||
      !get_time (object, "updated_at", where, &updated_at, error) ||
      !get_boolean (object, "pinned", where, &pinned, error) ||
      !get_boolean (object, "archived", where, &archived, error) ||
      !get_string (object, "provider", FALSE, where, &provider, error) ||
      !get_string (object, "model", FALSE, where, &model, error) ||
      !get_string (object, "system_prompt", FALSE, where, &system_prompt, error) ||
      !get_int (object, "current_leaf", FALSE, 1, 0, where, &current_leaf, error) ||
      !get_array (object, "messages", TRUE, where, &messages, error))
    return NULL;

  conversation->conversation = confab_conversation_new (0);
  confab_conversation_set_title (conversation->conversation, title);
  confab_conversation_set_created_at (conversation->conversation, created_at);
  confab_conversation_set_updated_at (conversation->conversation, updated_at);
  confab_conversation_set_pinned (conversation->conversation, pinned);
  confab_conversation_set_archived (conversation->conversation, archived);
  confab_conversation_set_provider (conversation->conversation, provider);
  confab_conversation_set_model (conversation->conversation, model);
  confab_conversation_set_system_prompt (conversation->conversation, system_prompt);

  conversation->messages = g_array_sized_new (FALSE, TRUE, sizeof (ImportMessage),
                                              json_array_get_length (messages));
  g_array_set_clear_func (conversation->messages, import_message_clear);
  conversation->order = g_array_sized_new (FALSE, FALSE, sizeof (guint), json_array_get_length (messages));

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      /* Translators: a place in an imported file: %s is a conversation,
       * such as “conversation 2”; %u counts its messages from 1. */
      g_autofree char *message_where = g_strdup_printf (_("%s, message %u"), where, i + 1);
      ImportMessage message = { NULL, };

      if (!read_message (json_array_get_element (messages, i), message_where, &message, error))
        return NULL;
      g_array_append_val (conversation->messages, message);
    }

  conversation->leaf_local_id = current_leaf;
  /* A file written by hand may leave the leaf out: the last message. */
  if (!json_object_has_member (object, "current_leaf") && conversation->messages->len > 0)
    conversation->leaf_local_id = g_array_index (conversation->messages, ImportMessage,
                                                 conversation->messages->len - 1).local_id;
  if (!link_messages (conversation, where, error))
    return NULL;

  return g_steal_pointer (&conversation);
}

static GPtrArray *
read_document (const char  *json_text,
               GError     **error)
{
  g_autoptr(GPtrArray) conversations = g_ptr_array_new_with_free_func (import_conversation_free);
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonArray *array;
  JsonNode *format;
  const char *exported_at;
  gint64 version;
  gint64 unused_time;

  if (!confab_json_parse (json_text, -1, &root, &parse_error))
    {
      /* Translators: %s says where the JSON is wrong and how. */
      invalid (error, NULL, _("Not a JSON document: %s"), parse_error->message);
      return NULL;
    }

  if (root == NULL)
    {
      invalid (error, NULL, _("Not a JSON document: the file is empty"));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, NULL, _("Not a Confab export (the document is not a JSON object)"));
      return NULL;
    }
  object = json_node_get_object (root);

  format = json_object_get_member (object, "format");
  if (format == NULL)
    {
      /* Translators: “format” is the name of a member of the file. */
      invalid (error, NULL, _("Not a Confab export (it has no “format”)"));
      return NULL;
    }
  if (!holds_type (format, G_TYPE_STRING))
    {
      /* Translators: “format” is the name of a member of the file. */
      invalid (error, NULL, _("Not a Confab export (its “format” is not a string)"));
      return NULL;
    }
  if (!g_str_equal (json_node_get_string (format), CONFAB_EXPORT_FORMAT_NAME))
    {
      /* Translators: the first %s is the format the file names, the second
       * the one Confab writes (“confab-conversations”). */
      invalid (error, NULL, _("Not a Confab export (format is “%s”, not “%s”)"),
               json_node_get_string (format), CONFAB_EXPORT_FORMAT_NAME);
      return NULL;
    }

  if (!get_int (object, "version", TRUE, G_MININT64, 0, NULL, &version, error))
    return NULL;
  if (version > CONFAB_EXPORT_FORMAT_VERSION)
    {
      /* Translators: the first number is the file's format version, the
       * second the newest this version of Confab reads. */
      invalid (error, NULL, _("Export format version %lld is newer than this Confab understands (%d)"),
               (long long)version, CONFAB_EXPORT_FORMAT_VERSION);
      return NULL;
    }
  if (version < 1)
    {
      invalid (error, NULL, _("Export format version %lld does not exist"), (long long)version);
      return NULL;
    }

  if (!get_string (object, "exported_at", FALSE, NULL, &exported_at, error))
    return NULL;
  if (exported_at != NULL && !parse_time (exported_at, &unused_time))
    {
      /* Translators: “exported_at” is the name of a member of the file;
       * %s is its value. */
      invalid (error, NULL, _("“exported_at” is not an ISO 8601 date and time (“%s”)"), exported_at);
      return NULL;
    }

  if (!get_array (object, "conversations", TRUE, NULL, &array, error))
    return NULL;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      ImportConversation *conversation = read_conversation (json_array_get_element (array, i), i + 1, error);

      if (conversation == NULL)
        return NULL;
      g_ptr_array_add (conversations, conversation);
    }

  return g_steal_pointer (&conversations);
}

/* Import: writing */

static gint64
write_conversation (ConfabStore         *self,
                    ImportConversation  *conversation,
                    GError             **error)
{
  GArray *messages = conversation->messages;
  gint64 updated_at = confab_conversation_get_updated_at (conversation->conversation);
  sqlite3_stmt *stmt;
  gint64 id;

  id = _confab_store_insert_conversation (self, conversation->conversation, error);
  if (id == 0)
    return 0;

  for (guint i = 0; i < conversation->order->len; i++)
    {
      ImportMessage *message = &g_array_index (messages, ImportMessage, g_array_index (conversation->order, guint, i));

      /* -1: a first message (0 would follow the current leaf). */
      confab_message_set_parent_id (message->message,
                                    message->parent_local_id != 0
                                    ? g_array_index (messages, ImportMessage, message->parent_index).new_id
                                    : -1);
      message->new_id = _confab_store_insert_message (self, id, message->message, error);
      if (message->new_id == 0)
        return 0;
    }

  /* Inserting moved the leaf along and touched updated_at: put them back. */
  stmt = _confab_store_prepare (self,
                                "UPDATE conversations SET current_leaf = ?2, updated_at = coalesce(?3, updated_at) "
                                "WHERE id = ?1",
                                error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, id);
  if (conversation->leaf_local_id != 0)
    sqlite3_bind_int64 (stmt, 2, g_array_index (messages, ImportMessage, conversation->leaf_index).new_id);
  else
    sqlite3_bind_null (stmt, 2);
  if (updated_at > 0)
    sqlite3_bind_int64 (stmt, 3, updated_at);
  else
    sqlite3_bind_null (stmt, 3);
  if (!_confab_store_step_done (self, stmt, error))
    return 0;

  return id;
}

static void
import_job (ConfabStore *self,
            GTask       *task,
            gpointer     data)
{
  const char *json_text = data;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GArray) ids = NULL;
  GError *error = NULL;

  if (!_confab_store_check_writable (self, &error) ||
      (conversations = read_document (json_text, &error)) == NULL ||
      !_confab_store_exec (self, "BEGIN IMMEDIATE", &error))
    {
      g_task_return_error (task, error);
      return;
    }

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), conversations->len);
  for (guint i = 0; i < conversations->len; i++)
    {
      gint64 id = write_conversation (self, g_ptr_array_index (conversations, i), &error);

      if (id == 0)
        goto fail;
      g_array_append_val (ids, id);
    }

  /* The last moment a cancel undoes the import; after the commit it is done. */
  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error) ||
      !_confab_store_exec (self, "COMMIT", &error))
    goto fail;

  g_task_return_pointer (task, g_steal_pointer (&ids), (GDestroyNotify)g_array_unref);
  return;

fail:
  _confab_store_exec (self, "ROLLBACK", NULL);
  g_task_return_error (task, error);
}

/* Public API */

/**
 * confab_store_export_async:
 * @conversation_id: the conversation, or 0 for all of them (oldest first)
 * @format: Markdown (the current branch, readable) or JSON (everything,
 *   importable; docs/export-format.md)
 *
 * Writes conversations as one document, reading them on the store's
 * worker thread. Works on a read-only store too. Call from the thread
 * whose main context @callback should run in.
 */
void
confab_store_export_async (ConfabStore         *self,
                           gint64               conversation_id,
                           ConfabExportFormat   format,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportData *export;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (conversation_id >= 0);
  g_return_if_fail (format == CONFAB_EXPORT_MARKDOWN || format == CONFAB_EXPORT_JSON);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_store_export_async);
  export = g_new0 (ExportData, 1);
  export->conversation_id = conversation_id;
  export->format = format;
  _confab_store_run (self, task, export_job, export, g_free);
}

/**
 * confab_store_export_finish:
 *
 * Returns: (transfer full): the document as UTF-8 text, or %NULL with
 *   @error set (%CONFAB_STORE_ERROR_NOT_FOUND for a conversation that
 *   does not exist).
 */
char *
confab_store_export_finish (ConfabStore   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_store_export_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * confab_store_import_async:
 * @json_text: a JSON export (docs/export-format.md), copied
 *
 * Adds the conversations of @json_text to the store as new ones (the same
 * file imported twice gives two copies), with all their branches, times,
 * states and tool calls. The whole document is checked first; a problem
 * anywhere imports nothing and fails with %CONFAB_STORE_ERROR_INVALID
 * saying what and where. Then everything is written in one transaction.
 * A read-only store fails with %CONFAB_STORE_ERROR_READ_ONLY. Cancelling
 * takes effect until the transaction commits.
 */
void
confab_store_import_async (ConfabStore         *self,
                           const char          *json_text,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (json_text != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_store_import_async);
  /* Once committed, the import happened, cancelled or not. */
  g_task_set_check_cancellable (task, FALSE);
  _confab_store_run (self, task, import_job, g_strdup (json_text), g_free);
}

/**
 * confab_store_import_finish:
 *
 * Returns: (transfer full) (element-type gint64): the new conversations'
 *   ids, in the order of the file, or %NULL with @error set.
 */
GArray *
confab_store_import_finish (ConfabStore   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_store_import_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
