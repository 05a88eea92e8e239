/* test-provider.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Providers over real HTTP: ConfabReply and the model lists against a
 * ConfabTestServer on 127.0.0.1 in the same main loop, replaying the
 * recorded wire fixtures with every framing, HTTP errors, retries,
 * faults, cancellation, concurrency and the requests the engine sends.
 * No test sleeps: each one iterates the main context until what it waits
 * for has happened.
 */

#include "config.h"

#include <string.h>

#include "confab-engine.h"
#include "confab-provider-private.h"
#include "confab-test-server.h"

/* Long enough never to fire in a healthy test, short enough that a hung
 * one fails with TIMEOUT well before the test harness kills it. */
#define DEFAULT_TIMEOUT_S 20

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

/* Fixtures */

/* Returns the contents, NUL-terminated. */
static char *
load_fixture (const char *dir,
              const char *name,
              gsize      *out_len)
{
  g_autofree char *path = confab_test_fixture_path (dir, name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  if (out_len != NULL)
    *out_len = len;

  return contents;
}

static GBytes *
load_fixture_bytes (const char *dir,
                    const char *name)
{
  gsize len;
  char *contents = load_fixture (dir, name, &len);

  return g_bytes_new_take (contents, len);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);

  return node;
}

static JsonNode *
parse_json_bytes (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  json_parser_load_from_data (parser, data, len, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

static void
assert_json_equal (JsonNode   *actual,
                   const char *expected_json)
{
  g_autoptr(JsonNode) expected = parse_json (expected_json);

  g_assert_nonnull (actual);
  if (!json_node_equal (actual, expected))
    {
      g_autofree char *actual_text = json_to_string (actual, FALSE);
      g_autofree char *msg = g_strdup_printf ("JSON %s is not %s", actual_text, expected_json);

      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}

/* A recorded HTTP response (a .http file, a llama.cpp transcript, a
 * section of errors.txt): status line, headers, blank line, body; LF or
 * CRLF. The body is cut to Content-Length where there is one; framing
 * headers are dropped (the test server frames the body itself). */
typedef struct
{
  guint      status;
  GPtrArray *names;
  GPtrArray *values;
  GBytes    *body;
} HttpFixture;

static void
http_fixture_free (HttpFixture *self)
{
  g_ptr_array_unref (self->names);
  g_ptr_array_unref (self->values);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HttpFixture, http_fixture_free)

static HttpFixture *
http_fixture_parse (const char *data,
                    gsize       len)
{
  HttpFixture *self = g_new0 (HttpFixture, 1);
  const char *p = data;
  const char *end = data + len;
  gboolean status_line = TRUE;
  gint64 content_length = -1;
  gsize body_len;

  self->names = g_ptr_array_new_with_free_func (g_free);
  self->values = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      const char *eol = memchr (p, '\n', end - p);
      g_autofree char *line = NULL;
      const char *colon;
      char *name;
      char *value;

      g_assert_nonnull (eol);
      line = g_strndup (p, eol - p);
      p = eol + 1;
      g_strchomp (line);

      if (line[0] == '\0')
        break;

      if (status_line)
        {
          g_assert_true (g_str_has_prefix (line, "HTTP/1.1 ") || g_str_has_prefix (line, "HTTP/1.0 "));
          self->status = (guint)g_ascii_strtoull (line + strlen ("HTTP/1.1 "), NULL, 10);
          g_assert_cmpuint (self->status, >=, 100);
          status_line = FALSE;
          continue;
        }

      colon = strchr (line, ':');
      g_assert_nonnull (colon);
      name = g_strstrip (g_strndup (line, colon - line));
      value = g_strstrip (g_strdup (colon + 1));

      if (g_ascii_strcasecmp (name, "Content-Length") == 0)
        content_length = g_ascii_strtoll (value, NULL, 10);

      if (g_ascii_strcasecmp (name, "Content-Length") == 0 ||
          g_ascii_strcasecmp (name, "Transfer-Encoding") == 0 ||
          g_ascii_strcasecmp (name, "Connection") == 0 ||
          g_ascii_strcasecmp (name, "Keep-Alive") == 0)
        {
          g_free (name);
          g_free (value);
          continue;
        }

      g_ptr_array_add (self->names, name);
      g_ptr_array_add (self->values, value);
    }

  g_assert_false (status_line);

  /* A headers-only transcript (its body kept apart) has no body here. */
  body_len = end - p;
  if (content_length >= 0 && body_len > 0)
    {
      g_assert_cmpint (content_length, <=, (gint64)body_len);
      body_len = content_length;
    }
  self->body = g_bytes_new (p, body_len);

  return self;
}

static HttpFixture *
http_fixture_load (const char *dir,
                   const char *name)
{
  gsize len;
  g_autofree char *contents = load_fixture (dir, name, &len);

  return http_fixture_parse (contents, len);
}

/* One "### TITLE" section of a transcript such as llamacpp/errors.txt. */
static HttpFixture *
http_fixture_load_section (const char *dir,
                           const char *name,
                           const char *title)
{
  g_autofree char *contents = load_fixture (dir, name, NULL);
  g_autofree char *marker = g_strdup_printf ("### %s\n", title);
  const char *start = strstr (contents, marker);
  const char *end;

  g_assert_nonnull (start);
  start += strlen (marker);
  end = strstr (start, "\n###");
  if (end != NULL)
    end++;
  else
    end = start + strlen (start);

  return http_fixture_parse (start, end - start);
}

static const char *
http_fixture_get_header (HttpFixture *self,
                         const char  *name)
{
  for (guint i = 0; i < self->names->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->names, i), name) == 0)
      return g_ptr_array_index (self->values, i);

  return NULL;
}

/* Queues @fixture for @path, without the header @omit (if any). */
static ConfabTestResponse *
queue_http_fixture (ConfabTestServer *server,
                    const char       *path,
                    HttpFixture      *fixture,
                    const char       *omit)
{
  ConfabTestResponse *resp = confab_test_server_add_response (server, path, fixture->status);

  for (guint i = 0; i < fixture->names->len; i++)
    {
      const char *name = g_ptr_array_index (fixture->names, i);

      if (omit != NULL && g_ascii_strcasecmp (name, omit) == 0)
        continue;
      confab_test_response_add_header (resp, name, g_ptr_array_index (fixture->values, i));
    }
  confab_test_response_set_body (resp, fixture->body);

  return resp;
}

/* Providers and requests */

static const char *
chat_path (const char *api)
{
  if (g_str_equal (api, "openai"))
    return "/v1/chat/completions";
  if (g_str_equal (api, "ollama"))
    return "/api/chat";
  if (g_str_equal (api, "anthropic"))
    return "/v1/messages";
  g_assert_not_reached ();
}

static ConfabProvider *
make_provider_for_url (const char *api,
                       const char *server_url)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;
  ConfabProvider *provider;

  /* OpenAI-compatible base URLs carry the /v1; the others are the server. */
  if (g_str_equal (api, "openai"))
    base_url = g_strconcat (server_url, "/v1", NULL);
  else
    base_url = g_strdup (server_url);

  provider = confab_provider_new_for_api (api, base_url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (provider);

  confab_provider_set_api_key (provider, "sk-test");
  confab_provider_set_timeout (provider, DEFAULT_TIMEOUT_S);
  _confab_provider_set_retry_delay (provider, 10);

  return provider;
}

static ConfabProvider *
make_provider (const char       *api,
               ConfabTestServer *server)
{
  return make_provider_for_url (api, confab_test_server_get_url (server));
}

static ConfabChatRequest *
make_request (void)
{
  ConfabChatRequest *request = confab_chat_request_new ("test-model");
  g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_USER, "Hello");

  confab_chat_request_add_message (request, message);

  return request;
}

/* Running a reply */

typedef struct
{
  ConfabReply  *reply;
  /* Cancelled on every text delta, when set. */
  GCancellable *cancel_on_text;
  /* What the events said, to compare with what the reply kept. */
  GString      *text;
  GString      *reasoning;
  GArray       *types;
  guint         n_tool_calls;
  GError       *error;
  gboolean      ok;
  gboolean      done;
} Run;

static void
run_event_cb (ConfabReply       *reply,
              const ConfabEvent *event,
              gpointer           user_data)
{
  Run *run = user_data;

  g_assert_true (reply == run->reply);
  g_assert_false (run->done);

  /* Nothing follows FINISHED or ERROR. */
  if (run->types->len > 0)
    {
      ConfabEventType last = g_array_index (run->types, ConfabEventType, run->types->len - 1);

      g_assert_cmpint (last, !=, CONFAB_EVENT_FINISHED);
      g_assert_cmpint (last, !=, CONFAB_EVENT_ERROR);
    }
  g_array_append_val (run->types, event->type);

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      g_assert_nonnull (event->text);
      g_assert_cmpuint (event->text_len, >, 0);
      g_assert_true (g_utf8_validate (event->text, event->text_len, NULL));
      g_string_append_len (run->text, event->text, event->text_len);
      if (run->cancel_on_text != NULL)
        g_cancellable_cancel (run->cancel_on_text);
      break;

    case CONFAB_EVENT_REASONING_DELTA:
      g_assert_nonnull (event->text);
      g_assert_true (g_utf8_validate (event->text, event->text_len, NULL));
      g_string_append_len (run->reasoning, event->text, event->text_len);
      break;

    case CONFAB_EVENT_TOOL_CALL:
      g_assert_true (CONFAB_IS_TOOL_CALL (event->tool_call));
      run->n_tool_calls++;
      break;

    case CONFAB_EVENT_USAGE:
      g_assert_nonnull (event->usage);
      break;

    case CONFAB_EVENT_FINISHED:
      g_assert_nonnull (event->finish_reason);
      break;

    case CONFAB_EVENT_ERROR:
      g_assert_nonnull (event->error);
      g_assert_true (event->error->domain == CONFAB_ERROR);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
run_init (Run               *run,
          ConfabProvider    *provider,
          ConfabChatRequest *request)
{
  memset (run, 0, sizeof *run);
  run->reply = confab_reply_new (provider, request);
  run->text = g_string_new (NULL);
  run->reasoning = g_string_new (NULL);
  run->types = g_array_new (FALSE, FALSE, sizeof (ConfabEventType));
  g_signal_connect (run->reply, "event", G_CALLBACK (run_event_cb), run);
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;

  g_assert_false (run->done);
  run->ok = confab_reply_run_finish (CONFAB_REPLY (object), result, &run->error);
  g_assert_true (run->ok == (run->error == NULL));
  run->done = TRUE;
}

static void
run_start (Run          *run,
           GCancellable *cancellable)
{
  confab_reply_run_async (run->reply, cancellable, run_done_cb, run);
}

static void
wait_for (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

static void
run_sync (Run          *run,
          GCancellable *cancellable)
{
  run_start (run, cancellable);
  wait_for (&run->done);
}

static void
run_clear (Run *run)
{
  g_signal_handlers_disconnect_by_data (run->reply, run);
  g_assert_finalize_object (g_steal_pointer (&run->reply));
  g_string_free (run->text, TRUE);
  g_string_free (run->reasoning, TRUE);
  g_array_unref (run->types);
  g_clear_error (&run->error);
}

static guint
run_count (Run             *run,
           ConfabEventType  type)
{
  guint n = 0;

  for (guint i = 0; i < run->types->len; i++)
    if (g_array_index (run->types, ConfabEventType, i) == type)
      n++;

  return n;
}

static ConfabEventType
run_last (Run *run)
{
  g_assert_cmpuint (run->types->len, >, 0);
  return g_array_index (run->types, ConfabEventType, run->types->len - 1);
}

/* What the reply kept matches what its events said. */
static void
assert_run_consistent (Run *run)
{
  g_assert_true (run->done);
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, run->text->str);
  g_assert_cmpstr (confab_reply_get_reasoning (run->reply), ==, run->reasoning->str);
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, run->n_tool_calls);
}

static void
assert_run_succeeded (Run        *run,
                      const char *finish_reason)
{
  g_assert_no_error (run->error);
  g_assert_true (run->ok);
  assert_run_consistent (run);
  g_assert_cmpuint (run_count (run, CONFAB_EVENT_FINISHED), ==, 1);
  g_assert_cmpuint (run_count (run, CONFAB_EVENT_ERROR), ==, 0);
  g_assert_cmpint (run_last (run), ==, CONFAB_EVENT_FINISHED);
  g_assert_cmpstr (confab_reply_get_finish_reason (run->reply), ==, finish_reason);
}

static void
assert_run_failed (Run        *run,
                   int         code,
                   const char *substring)
{
  g_assert_error (run->error, CONFAB_ERROR, code);
  g_assert_false (run->ok);
  assert_run_consistent (run);
  g_assert_cmpuint (run_count (run, CONFAB_EVENT_FINISHED), ==, 0);
  g_assert_cmpuint (run_count (run, CONFAB_EVENT_ERROR), ==, 1);
  g_assert_cmpint (run_last (run), ==, CONFAB_EVENT_ERROR);
  g_assert_null (confab_reply_get_finish_reason (run->reply));
  if (substring != NULL)
    assert_contains (run->error->message, substring);
}

static void
assert_usage (Run    *run,
              gint64  prompt_tokens,
              gint64  completion_tokens)
{
  const ConfabUsage *usage = confab_reply_get_usage (run->reply);

  g_assert_cmpint (run_count (run, CONFAB_EVENT_USAGE), >=, 1);
  g_assert_cmpint (usage->prompt_tokens, ==, prompt_tokens);
  g_assert_cmpint (usage->completion_tokens, ==, completion_tokens);
}

static ConfabToolCall *
get_tool_call (Run   *run,
               guint  i)
{
  GPtrArray *calls = confab_reply_get_tool_calls (run->reply);

  g_assert_cmpuint (i, <, calls->len);
  return g_ptr_array_index (calls, i);
}

static void
assert_tool_call (ConfabToolCall *call,
                  const char     *id,
                  const char     *name,
                  const char     *arguments_json)
{
  if (id != NULL)
    g_assert_cmpstr (confab_tool_call_get_id (call), ==, id);
  else
    {
      g_assert_nonnull (confab_tool_call_get_id (call));
      g_assert_cmpstr (confab_tool_call_get_id (call), !=, "");
    }
  g_assert_cmpstr (confab_tool_call_get_name (call), ==, name);
  g_assert_null (confab_tool_call_get_arguments_error (call));
  assert_json_equal (confab_tool_call_get_arguments (call), arguments_json);
}

/* Frees what a test made, checking that nothing else holds it. */
static void
finish_test (ConfabTestServer  *server,
             ConfabProvider    *provider,
             ConfabChatRequest *request)
{
  if (request != NULL)
    g_assert_finalize_object (request);
  if (provider != NULL)
    g_assert_finalize_object (provider);
  if (server != NULL)
    g_assert_finalize_object (server);
}

/* 1. Every streaming fixture, every framing */

typedef struct _StreamCase StreamCase;

struct _StreamCase
{
  const char *api;
  const char *dir;
  const char *file;
  /* NULL: the test server's default for the body */
  const char *content_type;
  void (*check) (Run              *run,
                 const StreamCase *c);
};

typedef struct
{
  const StreamCase  *c;
  ConfabTestFraming  framing;
} StreamTest;

static void
check_openai_text (Run              *run,
                   const StreamCase *c)
{
  g_autofree char *expected = load_fixture ("openai", "stream-text.expected.txt", NULL);

  assert_run_succeeded (run, "stop");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, expected);
  g_assert_cmpstr (confab_reply_get_reasoning (run->reply), ==, "");
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, 0);
  assert_usage (run, 21, 38);
}

static void
check_openai_reasoning (Run              *run,
                        const StreamCase *c)
{
  assert_run_succeeded (run, "stop");
  g_assert_cmpstr (confab_reply_get_reasoning (run->reply), ==, "The user wants a greeting.");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, "Hi!");
  assert_usage (run, 9, 12);
  g_assert_cmpint (confab_reply_get_usage (run->reply)->reasoning_tokens, ==, 8);
}

static void
check_openai_parallel_tool_calls (Run              *run,
                                  const StreamCase *c)
{
  g_autoptr(GBytes) bytes = load_fixture_bytes ("openai", "stream-parallel-tool-calls.expected.json");
  g_autoptr(JsonNode) root = parse_json_bytes (bytes);
  JsonObject *expected = json_node_get_object (root);
  JsonArray *calls = json_object_get_array_member (expected, "tool_calls");

  assert_run_succeeded (run, json_object_get_string_member (expected, "finish_reason"));
  g_assert_cmpstr (confab_reply_get_finish_reason (run->reply), ==, "tool_calls");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==,
                   json_object_get_string_member (expected, "content"));
  g_assert_cmpuint (json_array_get_length (calls), ==, 2);
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, json_array_get_length (calls));

  for (guint i = 0; i < json_array_get_length (calls); i++)
    {
      JsonObject *want = json_array_get_object_element (calls, i);
      ConfabToolCall *call = get_tool_call (run, i);
      JsonNode *arguments = confab_tool_call_get_arguments (call);

      g_assert_cmpstr (confab_tool_call_get_id (call), ==, json_object_get_string_member (want, "id"));
      g_assert_cmpstr (confab_tool_call_get_name (call), ==, json_object_get_string_member (want, "name"));
      g_assert_null (confab_tool_call_get_arguments_error (call));
      g_assert_nonnull (arguments);
      g_assert_true (json_node_equal (arguments, json_object_get_member (want, "arguments")));
    }
}

/* The independent oracle for the llama.cpp transcripts: json-glib over
 * each "data: " line, choices[0].delta.content concatenated. */
static void
check_llamacpp_stream (Run              *run,
                       const StreamCase *c)
{
  g_autofree char *contents = load_fixture (c->dir, c->file, NULL);
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *finish_reason = NULL;
  gint64 prompt_tokens = -1;
  gint64 completion_tokens = -1;
  guint n_chunks = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *chunk;
      JsonArray *choices;
      const char *data;

      g_strchomp (lines[i]);
      if (!g_str_has_prefix (lines[i], "data: "))
        continue;
      data = lines[i] + strlen ("data: ");
      if (g_str_equal (data, "[DONE]"))
        continue;

      node = parse_json (data);
      chunk = json_node_get_object (node);
      n_chunks++;

      choices = json_object_get_array_member (chunk, "choices");
      if (json_array_get_length (choices) > 0)
        {
          JsonObject *choice = json_array_get_object_element (choices, 0);
          JsonObject *delta = json_object_get_object_member (choice, "delta");
          const char *reason = json_object_get_string_member_with_default (choice, "finish_reason", NULL);

          if (delta != NULL && json_object_has_member (delta, "content") &&
              !json_object_get_null_member (delta, "content"))
            g_string_append (text, json_object_get_string_member (delta, "content"));
          if (reason != NULL)
            {
              g_free (finish_reason);
              finish_reason = g_strdup (reason);
            }
        }

      if (json_object_has_member (chunk, "usage"))
        {
          JsonObject *usage = json_object_get_object_member (chunk, "usage");

          prompt_tokens = json_object_get_int_member (usage, "prompt_tokens");
          completion_tokens = json_object_get_int_member (usage, "completion_tokens");
        }
    }

  g_assert_cmpuint (n_chunks, >, 5);
  g_assert_cmpuint (text->len, >, 0);
  g_assert_cmpstr (finish_reason, ==, "length");

  assert_run_succeeded (run, finish_reason);
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, text->str);
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, 0);
  assert_usage (run, prompt_tokens, completion_tokens);
}

static void
check_ollama_stream (Run              *run,
                     const StreamCase *c)
{
  assert_run_succeeded (run, "stop");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, "The sky is blue. 日本 🚀\n");
  assert_usage (run, 26, 4);
}

static void
check_ollama_tool_calls (Run              *run,
                         const StreamCase *c)
{
  ConfabToolCall *first;
  ConfabToolCall *second;

  assert_run_succeeded (run, "tool_calls");
  g_assert_cmpstr (confab_reply_get_reasoning (run->reply), ==, "I should check the weather.");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, "");
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, 2);

  first = get_tool_call (run, 0);
  second = get_tool_call (run, 1);
  assert_tool_call (first, NULL, "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}");
  assert_tool_call (second, NULL, "get_time", "{}");
  g_assert_cmpstr (confab_tool_call_get_id (first), !=, confab_tool_call_get_id (second));
  assert_usage (run, 120, 31);
}

static void
check_anthropic_tool_use (Run              *run,
                          const StreamCase *c)
{
  assert_run_succeeded (run, "tool_calls");
  g_assert_cmpstr (confab_reply_get_text (run->reply), ==, "Okay, let me check the weather.");
  g_assert_cmpuint (confab_reply_get_tool_calls (run->reply)->len, ==, 1);
  assert_tool_call (get_tool_call (run, 0), "toolu_01T1x", "get_weather", "{\"city\":\"San Francisco\"}");
  assert_usage (run, 472, 89);
}

static const StreamCase stream_cases[] = {
  { "openai", "openai", "stream-text.sse", NULL, check_openai_text },
  { "openai", "openai", "stream-reasoning.sse", NULL, check_openai_reasoning },
  { "openai", "openai", "stream-parallel-tool-calls.sse", NULL, check_openai_parallel_tool_calls },
  { "openai", "llamacpp", "openai_stream.txt", NULL, check_llamacpp_stream },
  { "openai", "llamacpp", "openai_stream_jinja.txt", NULL, check_llamacpp_stream },
  { "ollama", "ollama", "chat-stream.ndjson", "application/x-ndjson", check_ollama_stream },
  { "ollama", "ollama", "chat-tool-call.ndjson", "application/x-ndjson", check_ollama_tool_calls },
  { "anthropic", "anthropic", "messages-stream-tool-use.sse", NULL, check_anthropic_tool_use },
};

static const char * const framing_names[] = { "bulk", "event", "byte" };

static void
test_stream_fixture (gconstpointer data)
{
  const StreamTest *test = data;
  const StreamCase *c = test->c;
  g_autofree char *path = confab_test_fixture_path (c->dir, c->file);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;
  ConfabProvider *provider;
  ConfabChatRequest *request;
  Run run;

  resp = confab_test_server_add_response (server, chat_path (c->api), 200);
  confab_test_response_set_body_file (resp, path);
  confab_test_response_set_framing (resp, test->framing);
  if (c->content_type != NULL)
    confab_test_response_set_content_type (resp, c->content_type);

  provider = make_provider (c->api, server);
  request = make_request ();
  run_init (&run, provider, request);
  run_sync (&run, NULL);

  c->check (&run, c);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, chat_path (c->api));

  run_clear (&run);
  finish_test (server, provider, request);
}

/* 2. Errors reported inside the stream */

typedef struct
{
  const char *api;
  const char *dir;
  const char *file;
  const char *content_type;
  const char *message;
  const char *text;
} ErrorStreamCase;

typedef struct
{
  const ErrorStreamCase *c;
  ConfabTestFraming      framing;
} ErrorStreamTest;

static const ErrorStreamCase error_stream_cases[] = {
  { "openai", "openai", "stream-error-midway.sse", NULL,
    "Upstream provider returned an error", "Partial ans" },
  { "ollama", "ollama", "chat-stream-error-midway.ndjson", "application/x-ndjson",
    "unexpected EOF", "Partial" },
  { "anthropic", "anthropic", "messages-stream-error.sse", NULL,
    "Overloaded", "Partial" },
};

static void
test_stream_error (gconstpointer data)
{
  const ErrorStreamTest *test = data;
  const ErrorStreamCase *c = test->c;
  g_autofree char *path = confab_test_fixture_path (c->dir, c->file);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;
  ConfabProvider *provider;
  ConfabChatRequest *request;
  Run run;

  resp = confab_test_server_add_response (server, chat_path (c->api), 200);
  confab_test_response_set_body_file (resp, path);
  confab_test_response_set_framing (resp, test->framing);
  if (c->content_type != NULL)
    confab_test_response_set_content_type (resp, c->content_type);

  provider = make_provider (c->api, server);
  request = make_request ();
  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_failed (&run, CONFAB_ERROR_SERVER, c->message);
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, c->text);
  /* An error inside a 200 stream is not retried. */
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

/* 3. HTTP errors carry the server's own message */

/* Runs one chat against @server, expects it to fail with @code and a
 * message holding each of the NULL-terminated substrings. */
G_GNUC_NULL_TERMINATED static void
run_expecting_error (ConfabTestServer *server,
                     const char       *api,
                     int               code,
                     ...)
{
  ConfabProvider *provider = make_provider (api, server);
  ConfabChatRequest *request = make_request ();
  const char *substring;
  va_list args;
  Run run;

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_failed (&run, code, NULL);
  va_start (args, code);
  while ((substring = va_arg (args, const char *)) != NULL)
    assert_contains (run.error->message, substring);
  va_end (args);
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");

  run_clear (&run);
  finish_test (NULL, provider, request);
}

static void
test_http_error_openai_401 (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("openai", "error-401.http");
  ConfabTestServer *server = confab_test_server_new ();

  g_assert_cmpuint (fixture->status, ==, 401);
  queue_http_fixture (server, "/v1/chat/completions", fixture, NULL);

  run_expecting_error (server, "openai", CONFAB_ERROR_AUTH,
                       "HTTP 401", "Incorrect API key provided", NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

static void
test_http_error_ollama_not_found (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("ollama", "error-model-not-found.http");
  ConfabTestServer *server = confab_test_server_new ();

  g_assert_cmpuint (fixture->status, ==, 404);
  queue_http_fixture (server, "/api/chat", fixture, NULL);

  run_expecting_error (server, "ollama", CONFAB_ERROR_NOT_FOUND,
                       "model \"llama9\" not found", NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

static void
test_http_error_llamacpp_tools_rejected (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("llamacpp", "tools_stream_rejected.headers.txt");
  ConfabTestServer *server = confab_test_server_new ();

  g_assert_cmpuint (fixture->status, ==, 500);
  g_assert_cmpuint (g_bytes_get_size (fixture->body), ==, 0);
  g_clear_pointer (&fixture->body, g_bytes_unref);
  fixture->body = load_fixture_bytes ("llamacpp", "tools_stream_rejected.body.txt");
  queue_http_fixture (server, "/v1/chat/completions", fixture, NULL);

  run_expecting_error (server, "openai", CONFAB_ERROR_SERVER,
                       "HTTP 500", "Cannot use tools with stream", NULL);
  /* 500 is not worth retrying. */
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

static void
test_http_error_not_found (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load_section ("llamacpp", "errors.txt", "unknown path");
  ConfabTestServer *server = confab_test_server_new ();
  g_autofree char *body = g_strndup (g_bytes_get_data (fixture->body, NULL),
                                     g_bytes_get_size (fixture->body));

  g_assert_cmpuint (fixture->status, ==, 404);
  g_assert_cmpstr (body, ==, "{\"error\":{\"code\":404,\"message\":\"File Not Found\",\"type\":\"not_found_error\"}}");
  queue_http_fixture (server, "/v1/chat/completions", fixture, NULL);

  run_expecting_error (server, "openai", CONFAB_ERROR_NOT_FOUND, "HTTP 404", "File Not Found", NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

/* 4. Retries */

static void
test_retry_503_then_success (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "stream-text.sse");
  g_autofree char *expected = load_fixture ("openai", "stream-text.expected.txt", NULL);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;
  ConfabProvider *provider;
  ConfabChatRequest *request;
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 503);
  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"Service busy\"}}");
  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (resp, path);

  provider = make_provider ("openai", server);
  request = make_request ();
  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_succeeded (&run, "stop");
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, expected);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 2);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_retry_after_honoured (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "stream-text.sse");
  g_autoptr(HttpFixture) fixture = http_fixture_load ("openai", "error-429.http");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;
  ConfabProvider *provider;
  ConfabChatRequest *request;
  gint64 waited;
  Run run;

  resp = queue_http_fixture (server, "/v1/chat/completions", fixture, "Retry-After");
  confab_test_response_add_header (resp, "Retry-After", "1");
  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (resp, path);

  provider = make_provider ("openai", server);
  request = make_request ();
  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_succeeded (&run, "stop");
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 2);
  /* A lower bound only: the second try waited for Retry-After (not the
   * 10 ms backoff). */
  waited = confab_test_server_get_request_time (server, 1) - confab_test_server_get_request_time (server, 0);
  g_assert_cmpint (waited, >=, G_USEC_PER_SEC);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_retry_429_exhausted (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("openai", "error-429.http");
  ConfabTestServer *server = confab_test_server_new ();

  g_assert_cmpuint (fixture->status, ==, 429);
  g_assert_nonnull (http_fixture_get_header (fixture, "retry-after"));
  /* Without its Retry-After the backoff is the test's 10 ms; the last
   * queued response answers every further request. */
  queue_http_fixture (server, "/v1/chat/completions", fixture, "Retry-After");

  run_expecting_error (server, "openai", CONFAB_ERROR_RATE_LIMITED,
                       "HTTP 429",
                       "Rate limit reached for gpt-4o-mini in organization org-xyz",
                       NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 3);

  finish_test (server, NULL, NULL);
}

static void
test_retry_connection_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  ConfabProvider *provider;
  ConfabChatRequest *request;
  guint16 port;
  Run run;

  /* A port that was free a moment ago and has nobody listening. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_assert_cmpuint (port, >, 0);
  g_socket_close (socket, &error);
  g_assert_no_error (error);

  url = g_strdup_printf ("http://127.0.0.1:%u", port);
  provider = make_provider_for_url ("openai", url);
  request = make_request ();
  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_failed (&run, CONFAB_ERROR_NETWORK, NULL);
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");

  run_clear (&run);
  finish_test (NULL, provider, request);
}

static void
test_retry_after_too_long (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("openai", "error-429.http");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;

  resp = queue_http_fixture (server, "/v1/chat/completions", fixture, "Retry-After");
  confab_test_response_add_header (resp, "Retry-After", "3600");

  /* Waiting an hour is not a retry: fail at once. */
  run_expecting_error (server, "openai", CONFAB_ERROR_RATE_LIMITED,
                       "Rate limit reached for gpt-4o-mini", NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

/* 5. Faults */

/* Runs stream-text.sse through @fault at @offset; returns the run for
 * the caller to check (run_clear() it, then finish_test()). */
static void
run_stream_text_with_fault (ConfabTestServer  *server,
                            ConfabProvider    *provider,
                            ConfabChatRequest *request,
                            ConfabTestFault    fault,
                            gsize              offset,
                            Run               *run)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "stream-text.sse");
  ConfabTestResponse *resp;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (resp, path);
  /* One event per write, apart: the client has read the first half
   * before the fault strikes. */
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_delay (resp, 5);
  confab_test_response_set_fault (resp, fault, offset);

  run_init (run, provider, request);
  run_sync (run, NULL);
}

static void
assert_partial_text (Run *run)
{
  g_autofree char *expected = load_fixture ("openai", "stream-text.expected.txt", NULL);
  const char *text = confab_reply_get_text (run->reply);

  g_assert_cmpstr (text, !=, "");
  g_assert_true (g_str_has_prefix (expected, text));
  g_assert_cmpuint (strlen (text), <, strlen (expected));
}

static void
test_fault_reset (void)
{
  gsize len;
  g_autofree char *body = load_fixture ("openai", "stream-text.sse", &len);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  Run run;

  g_assert_nonnull (body);
  run_stream_text_with_fault (server, provider, request, CONFAB_TEST_FAULT_RESET, len / 2, &run);

  assert_run_failed (&run, CONFAB_ERROR_NETWORK, NULL);
  assert_partial_text (&run);
  /* Bytes of a 2xx reply had arrived: a retry would duplicate them. */
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_fault_stall (void)
{
  gsize len;
  g_autofree char *body = load_fixture ("openai", "stream-text.sse", &len);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  Run run;

  g_assert_nonnull (body);
  confab_provider_set_timeout (provider, 1);
  run_stream_text_with_fault (server, provider, request, CONFAB_TEST_FAULT_STALL, len / 2, &run);

  assert_run_failed (&run, CONFAB_ERROR_TIMEOUT, NULL);
  assert_partial_text (&run);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_fault_no_response (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  ConfabTestResponse *resp;
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_NO_RESPONSE, 0);
  confab_provider_set_timeout (provider, 1);

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_failed (&run, CONFAB_ERROR_TIMEOUT, NULL);
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");
  g_assert_cmpuint (confab_test_server_get_n_requests (server), >=, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_fault_truncate (void)
{
  g_autofree char *body = load_fixture ("openai", "stream-text.sse", NULL);
  g_autofree char *expected = load_fixture ("openai", "stream-text.expected.txt", NULL);
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  const char *finish;
  gsize offset;
  Run run;

  /* Cut at the start of the chunk that carries finish_reason. */
  finish = strstr (body, "\"finish_reason\":\"stop\"");
  g_assert_nonnull (finish);
  while (finish > body && !g_str_has_prefix (finish, "\ndata: "))
    finish--;
  g_assert_true (finish > body);
  offset = finish - body + 1;

  run_stream_text_with_fault (server, provider, request, CONFAB_TEST_FAULT_TRUNCATE, offset, &run);

  assert_run_failed (&run, CONFAB_ERROR_PROTOCOL, "before the reply was complete");
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, expected);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

#define CHUNK_PREFIX "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"

static void
test_fault_invalid_utf8 (void)
{
  static const char body[] =
    CHUNK_PREFIX "\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n"
    CHUNK_PREFIX "\"delta\":{\"content\":\"bad \xff\xfe bytes\"},\"finish_reason\":null}]}\n\n"
    CHUNK_PREFIX "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  ConfabTestResponse *resp;
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, body);
  confab_test_response_set_content_type (resp, "text/event-stream");

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_failed (&run, CONFAB_ERROR_PROTOCOL, "UTF-8");
  g_assert_true (g_str_has_prefix (confab_reply_get_text (run.reply), "Hello"));
  g_assert_true (g_utf8_validate (confab_reply_get_text (run.reply), -1, NULL));

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_fault_oversized_line (void)
{
  const gsize line_len = 17 * 1024 * 1024;
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  g_autoptr(GString) body = g_string_sized_new (line_len + 256);
  g_autoptr(GBytes) bytes = NULL;
  ConfabTestResponse *resp;
  Run run;

  /* One "data: " line of 17 MiB with no end in sight, then more. */
  g_string_append (body, "data: ");
  g_string_set_size (body, line_len);
  memset (body->str + strlen ("data: "), 'x', line_len - strlen ("data: "));
  g_string_append (body, "\n\n" CHUNK_PREFIX "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
  bytes = g_string_free_to_bytes (g_steal_pointer (&body));

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, bytes);
  confab_test_response_set_content_type (resp, "text/event-stream");

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  /* The limit is 16 MiB ("16.0 MiB" in the message). */
  assert_run_failed (&run, CONFAB_ERROR_PROTOCOL, "16");
  assert_contains (run.error->message, "MiB");
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");

  run_clear (&run);
  finish_test (server, provider, request);
}

/* 6. Cancellation */

static void
test_cancel_mid_stream (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "stream-text.sse");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  ConfabTestResponse *resp;
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (resp, path);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_delay (resp, 50);

  run_init (&run, provider, request);
  run.cancel_on_text = cancellable;
  run_sync (&run, cancellable);

  assert_run_failed (&run, CONFAB_ERROR_CANCELLED, NULL);
  assert_partial_text (&run);
  g_assert_true (g_str_has_prefix (confab_reply_get_text (run.reply), "Hello"));

  /* The connection is dropped, so the server stops serving it. */
  while (confab_test_server_get_n_active (server) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_cancel_before_run (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "stream-text.sse");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  ConfabTestResponse *resp;
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (resp, path);

  g_cancellable_cancel (cancellable);
  run_init (&run, provider, request);
  run_sync (&run, cancellable);

  assert_run_failed (&run, CONFAB_ERROR_CANCELLED, NULL);
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");

  run_clear (&run);
  finish_test (server, provider, request);
}

typedef struct
{
  GCancellable *cancellable;
  gboolean      fired;
} CancelLater;

static void
cancel_later_cb (gpointer user_data)
{
  CancelLater *later = user_data;

  later->fired = TRUE;
  g_cancellable_cancel (later->cancellable);
}

static void
test_cancel_during_retry_wait (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  ConfabTestResponse *resp;
  CancelLater later = { cancellable, FALSE };
  Run run;

  resp = confab_test_server_add_response (server, "/v1/chat/completions", 503);
  confab_test_response_add_header (resp, "Retry-After", "30");
  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"Service busy\"}}");

  run_init (&run, provider, request);
  run_start (&run, cancellable);

  /* Once the 503 went out, give the client a moment to read it and
   * settle into its 30 s wait, then cancel. */
  while (confab_test_server_get_n_requests (server) == 0 ||
         confab_test_server_get_n_active (server) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_timeout_add_once (200, cancel_later_cb, &later);
  wait_for (&later.fired);

  /* The cancel must end the wait now, not when the 30 s timer fires:
   * iterations that do not block only run sources already ready. */
  for (guint i = 0; i < 100 && !run.done; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (run.done);
  assert_run_failed (&run, CONFAB_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  run_clear (&run);
  finish_test (server, provider, request);
}

/* 7. Concurrency */

#define N_CONCURRENT 20

static void
test_concurrent_replies (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  char *texts[N_CONCURRENT] = { NULL, };
  gboolean seen[N_CONCURRENT] = { FALSE, };
  Run runs[N_CONCURRENT];
  guint peak_active = 0;
  gboolean all_done = FALSE;

  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      g_autoptr(GBytes) body = confab_test_generate_openai_stream (50 + i * 10, &texts[i]);
      ConfabTestResponse *resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);

      confab_test_response_set_body (resp, body);
      confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
      confab_test_response_set_delay (resp, 1);
    }

  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      run_init (&runs[i], provider, request);
      run_start (&runs[i], NULL);
    }

  while (!all_done)
    {
      g_main_context_iteration (NULL, TRUE);
      peak_active = MAX (peak_active, confab_test_server_get_n_active (server));
      all_done = TRUE;
      for (guint i = 0; i < N_CONCURRENT; i++)
        all_done = all_done && runs[i].done;
    }

  g_test_message ("at most %u responses streamed at once", peak_active);
  g_assert_cmpuint (peak_active, >, 1);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, N_CONCURRENT);

  /* The server hands out its queued streams in the order the requests
   * arrive; the token count tells which stream each reply got, and its
   * text must be exactly that stream's. */
  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      const ConfabUsage *usage = confab_reply_get_usage (runs[i].reply);
      guint which;

      assert_run_succeeded (&runs[i], "stop");
      g_assert_cmpint (usage->completion_tokens, >=, 50);
      g_assert_cmpint ((usage->completion_tokens - 50) % 10, ==, 0);
      which = (usage->completion_tokens - 50) / 10;
      g_assert_cmpuint (which, <, N_CONCURRENT);
      g_assert_false (seen[which]);
      seen[which] = TRUE;
      g_assert_cmpstr (confab_reply_get_text (runs[i].reply), ==, texts[which]);
    }

  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      run_clear (&runs[i]);
      g_clear_pointer (&texts[i], g_free);
    }
  finish_test (server, provider, request);
}

/* 8. Request bodies and headers */

static const char weather_schema[] =
  "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}";

/* system, user, assistant calling get_weather (one call or two), and
 * the tool results, plus one tool; temperature 0.5. */
static ConfabChatRequest *
make_tool_request (gboolean two_calls,
                   guint    max_tokens)
{
  ConfabChatRequest *request = confab_chat_request_new ("test-model");
  g_autoptr(ConfabMessage) system = confab_message_new (CONFAB_ROLE_SYSTEM, "You are terse.");
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, "Weather in Paris?");
  g_autoptr(ConfabMessage) assistant = confab_message_new (CONFAB_ROLE_ASSISTANT, two_calls ? "Let me check." : "");
  g_autoptr(ConfabToolCall) call1 = confab_tool_call_new_from_json_text ("call_1", "get_weather", "{\"city\":\"Paris\"}");
  g_autoptr(ConfabToolCall) call2 = confab_tool_call_new_from_json_text ("call_2", "get_weather", "{\"city\":\"London\"}");
  g_autoptr(ConfabMessage) result1 = confab_message_new_tool_result (call1, "18 degrees", FALSE);
  g_autoptr(ConfabMessage) result2 = confab_message_new_tool_result (call2, "12 degrees", FALSE);
  g_autoptr(JsonNode) schema = parse_json (weather_schema);
  g_autoptr(ConfabToolSpec) tool = confab_tool_spec_new ("get_weather", "Get the weather for a city", schema);

  confab_chat_request_set_temperature (request, 0.5);
  if (max_tokens > 0)
    confab_chat_request_set_max_tokens (request, max_tokens);

  confab_message_add_tool_call (assistant, call1);
  if (two_calls)
    confab_message_add_tool_call (assistant, call2);

  confab_chat_request_add_message (request, system);
  confab_chat_request_add_message (request, user);
  confab_chat_request_add_message (request, assistant);
  confab_chat_request_add_message (request, result1);
  if (two_calls)
    confab_chat_request_add_message (request, result2);
  confab_chat_request_add_tool (request, tool);

  return request;
}

/* Runs @request once against a canned @dir/@file reply and returns the
 * parsed body of the request the server received. */
static JsonNode *
capture_request (ConfabTestServer  *server,
                 ConfabProvider    *provider,
                 ConfabChatRequest *request,
                 const char        *api,
                 const char        *dir,
                 const char        *file,
                 const char        *content_type)
{
  g_autofree char *path = confab_test_fixture_path (dir, file);
  ConfabTestResponse *resp;
  Run run;

  resp = confab_test_server_add_response (server, chat_path (api), 200);
  confab_test_response_set_body_file (resp, path);
  if (content_type != NULL)
    confab_test_response_set_content_type (resp, content_type);

  run_init (&run, provider, request);
  run_sync (&run, NULL);
  g_assert_no_error (run.error);
  run_clear (&run);

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_method (server, 0), ==, "POST");
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, chat_path (api));
  assert_contains (confab_test_server_get_request_header (server, 0, "Content-Type"), "application/json");

  return parse_json_bytes (confab_test_server_get_request_body (server, 0));
}

static JsonObject *
array_object (JsonArray *array,
              guint      i)
{
  JsonNode *node;

  g_assert_cmpuint (i, <, json_array_get_length (array));
  node = json_array_get_element (array, i);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));

  return json_node_get_object (node);
}

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

static JsonArray *
member_array (JsonObject *object,
              const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  return json_node_get_array (node);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);
  return json_node_get_string (node);
}

static void
assert_function_tools (JsonObject *body)
{
  JsonArray *tools = member_array (body, "tools");
  JsonObject *tool;
  JsonObject *function;

  g_assert_cmpuint (json_array_get_length (tools), ==, 1);
  tool = array_object (tools, 0);
  g_assert_cmpstr (member_string (tool, "type"), ==, "function");
  function = member_object (tool, "function");
  g_assert_cmpstr (member_string (function, "name"), ==, "get_weather");
  g_assert_cmpstr (member_string (function, "description"), ==, "Get the weather for a city");
  assert_json_equal (json_object_get_member (function, "parameters"), weather_schema);
}

static void
test_request_openai (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_tool_request (FALSE, 42);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *body;
  JsonArray *messages;
  JsonObject *message;
  JsonArray *calls;
  JsonObject *call;
  JsonObject *function;
  JsonNode *content;
  g_autoptr(JsonNode) arguments = NULL;

  root = capture_request (server, provider, request, "openai", "openai", "stream-text.sse", NULL);
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "Authorization"), ==, "Bearer sk-test");

  body = json_node_get_object (root);
  g_assert_cmpstr (member_string (body, "model"), ==, "test-model");
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_true (json_object_get_boolean_member (member_object (body, "stream_options"), "include_usage"));
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (body, "temperature"), 0.5, 1e-9);
  g_assert_cmpint (json_object_get_int_member (body, "max_tokens"), ==, 42);

  messages = member_array (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 4);

  message = array_object (messages, 0);
  g_assert_cmpstr (member_string (message, "role"), ==, "system");
  g_assert_cmpstr (member_string (message, "content"), ==, "You are terse.");

  message = array_object (messages, 1);
  g_assert_cmpstr (member_string (message, "role"), ==, "user");
  g_assert_cmpstr (member_string (message, "content"), ==, "Weather in Paris?");

  message = array_object (messages, 2);
  g_assert_cmpstr (member_string (message, "role"), ==, "assistant");
  /* No text: null or "" are both what the API takes. */
  content = json_object_get_member (message, "content");
  if (content != NULL && !JSON_NODE_HOLDS_NULL (content))
    g_assert_cmpstr (json_node_get_string (content), ==, "");
  calls = member_array (message, "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 1);
  call = array_object (calls, 0);
  g_assert_cmpstr (member_string (call, "id"), ==, "call_1");
  g_assert_cmpstr (member_string (call, "type"), ==, "function");
  function = member_object (call, "function");
  g_assert_cmpstr (member_string (function, "name"), ==, "get_weather");
  /* OpenAI takes the arguments as a JSON string, not an object. */
  arguments = parse_json (member_string (function, "arguments"));
  assert_json_equal (arguments, "{\"city\":\"Paris\"}");

  message = array_object (messages, 3);
  g_assert_cmpstr (member_string (message, "role"), ==, "tool");
  g_assert_cmpstr (member_string (message, "tool_call_id"), ==, "call_1");
  g_assert_cmpstr (member_string (message, "content"), ==, "18 degrees");

  assert_function_tools (body);

  finish_test (server, provider, request);
}

static void
test_request_ollama (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("ollama", server);
  ConfabChatRequest *request = make_tool_request (FALSE, 42);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *body;
  JsonObject *options;
  JsonArray *messages;
  JsonObject *message;
  JsonArray *calls;
  JsonObject *function;

  root = capture_request (server, provider, request, "ollama", "ollama", "chat-stream.ndjson",
                          "application/x-ndjson");

  body = json_node_get_object (root);
  g_assert_cmpstr (member_string (body, "model"), ==, "test-model");
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  options = member_object (body, "options");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (options, "temperature"), 0.5, 1e-9);
  g_assert_cmpint (json_object_get_int_member (options, "num_predict"), ==, 42);

  messages = member_array (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 4);

  message = array_object (messages, 0);
  g_assert_cmpstr (member_string (message, "role"), ==, "system");
  g_assert_cmpstr (member_string (message, "content"), ==, "You are terse.");

  message = array_object (messages, 1);
  g_assert_cmpstr (member_string (message, "role"), ==, "user");
  g_assert_cmpstr (member_string (message, "content"), ==, "Weather in Paris?");

  message = array_object (messages, 2);
  g_assert_cmpstr (member_string (message, "role"), ==, "assistant");
  calls = member_array (message, "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 1);
  function = member_object (array_object (calls, 0), "function");
  g_assert_cmpstr (member_string (function, "name"), ==, "get_weather");
  /* Ollama takes the arguments as an object. */
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (function, "arguments")));
  assert_json_equal (json_object_get_member (function, "arguments"), "{\"city\":\"Paris\"}");

  message = array_object (messages, 3);
  g_assert_cmpstr (member_string (message, "role"), ==, "tool");
  g_assert_cmpstr (member_string (message, "tool_name"), ==, "get_weather");
  g_assert_cmpstr (member_string (message, "content"), ==, "18 degrees");

  assert_function_tools (body);

  finish_test (server, provider, request);
}

/* The text of an Anthropic content: a string, or text blocks. */
static char *
anthropic_text (JsonNode *content)
{
  GString *text = g_string_new (NULL);

  g_assert_nonnull (content);
  if (JSON_NODE_HOLDS_VALUE (content))
    g_string_append (text, json_node_get_string (content));
  else
    {
      JsonArray *blocks = json_node_get_array (content);

      g_assert_nonnull (blocks);
      for (guint i = 0; i < json_array_get_length (blocks); i++)
        {
          JsonObject *block = array_object (blocks, i);

          g_assert_cmpstr (member_string (block, "type"), ==, "text");
          g_string_append (text, member_string (block, "text"));
        }
    }

  return g_string_free (text, FALSE);
}

static void
assert_tool_result_block (JsonObject *block,
                          const char *tool_use_id,
                          const char *content)
{
  g_autofree char *text = NULL;

  g_assert_cmpstr (member_string (block, "type"), ==, "tool_result");
  g_assert_cmpstr (member_string (block, "tool_use_id"), ==, tool_use_id);
  text = anthropic_text (json_object_get_member (block, "content"));
  g_assert_cmpstr (text, ==, content);
}

static void
assert_tool_use_block (JsonObject *block,
                       const char *id,
                       const char *input_json)
{
  g_assert_cmpstr (member_string (block, "type"), ==, "tool_use");
  g_assert_cmpstr (member_string (block, "id"), ==, id);
  g_assert_cmpstr (member_string (block, "name"), ==, "get_weather");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (block, "input")));
  assert_json_equal (json_object_get_member (block, "input"), input_json);
}

static void
test_request_anthropic (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("anthropic", server);
  ConfabChatRequest *request = make_tool_request (TRUE, 0);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *user_text = NULL;
  const char *version;
  JsonObject *body;
  JsonArray *messages;
  JsonObject *message;
  JsonArray *blocks;
  JsonArray *tools;
  JsonObject *tool;
  JsonNode *max_tokens;

  root = capture_request (server, provider, request, "anthropic", "anthropic",
                          "messages-stream-tool-use.sse", NULL);
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "x-api-key"), ==, "sk-test");
  version = confab_test_server_get_request_header (server, 0, "anthropic-version");
  g_assert_nonnull (version);
  g_assert_cmpstr (version, !=, "");

  body = json_node_get_object (root);
  g_assert_cmpstr (member_string (body, "model"), ==, "test-model");
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_cmpstr (member_string (body, "system"), ==, "You are terse.");
  /* The Messages API requires max_tokens even when the user set none. */
  max_tokens = json_object_get_member (body, "max_tokens");
  g_assert_nonnull (max_tokens);
  g_assert_cmpint (json_node_get_value_type (max_tokens), ==, G_TYPE_INT64);
  g_assert_cmpint (json_node_get_int (max_tokens), >, 0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (body, "temperature"), 0.5, 1e-9);

  /* user; assistant (text, two tool_use); both results in ONE user
   * message, as the roles must alternate. */
  messages = member_array (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 3);

  message = array_object (messages, 0);
  g_assert_cmpstr (member_string (message, "role"), ==, "user");
  user_text = anthropic_text (json_object_get_member (message, "content"));
  g_assert_cmpstr (user_text, ==, "Weather in Paris?");

  message = array_object (messages, 1);
  g_assert_cmpstr (member_string (message, "role"), ==, "assistant");
  blocks = member_array (message, "content");
  g_assert_cmpuint (json_array_get_length (blocks), ==, 3);
  g_assert_cmpstr (member_string (array_object (blocks, 0), "type"), ==, "text");
  g_assert_cmpstr (member_string (array_object (blocks, 0), "text"), ==, "Let me check.");
  assert_tool_use_block (array_object (blocks, 1), "call_1", "{\"city\":\"Paris\"}");
  assert_tool_use_block (array_object (blocks, 2), "call_2", "{\"city\":\"London\"}");

  message = array_object (messages, 2);
  g_assert_cmpstr (member_string (message, "role"), ==, "user");
  blocks = member_array (message, "content");
  g_assert_cmpuint (json_array_get_length (blocks), ==, 2);
  assert_tool_result_block (array_object (blocks, 0), "call_1", "18 degrees");
  assert_tool_result_block (array_object (blocks, 1), "call_2", "12 degrees");

  tools = member_array (body, "tools");
  g_assert_cmpuint (json_array_get_length (tools), ==, 1);
  tool = array_object (tools, 0);
  g_assert_cmpstr (member_string (tool, "name"), ==, "get_weather");
  g_assert_cmpstr (member_string (tool, "description"), ==, "Get the weather for a city");
  assert_json_equal (json_object_get_member (tool, "input_schema"), weather_schema);

  finish_test (server, provider, request);
}

/* 9. Model lists */

typedef struct
{
  GStrv    models;
  GError  *error;
  gboolean done;
} ListResult;

static void
list_models_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  ListResult *list = user_data;

  list->models = confab_provider_list_models_finish (CONFAB_PROVIDER (object), result, &list->error);
  g_assert_true ((list->models == NULL) != (list->error == NULL));
  list->done = TRUE;
}

/* Lists @api's models from @server; returns the list or NULL with @error. */
static GStrv
list_models (ConfabTestServer  *server,
             const char        *api,
             GError           **error)
{
  ConfabProvider *provider = make_provider (api, server);
  ListResult list = { NULL, NULL, FALSE };

  confab_provider_list_models_async (provider, NULL, list_models_cb, &list);
  wait_for (&list.done);
  g_assert_finalize_object (provider);

  if (list.error != NULL)
    g_propagate_error (error, list.error);
  return list.models;
}

static void
assert_models (GStrv               models,
               const char * const *expected)
{
  g_assert_nonnull (models);
  g_assert_cmpstrv (models, expected);
}

static void
test_models_openai (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "models.json");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (server, "/v1/models", 200);
  const char * const expected[] = { "gpt-4o-mini", "gpt-4o", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  confab_test_response_set_body_file (resp, path);
  models = list_models (server, "openai", &error);
  g_assert_no_error (error);
  assert_models (models, expected);

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_method (server, 0), ==, "GET");
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, "/v1/models");
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "Authorization"), ==, "Bearer sk-test");

  finish_test (server, NULL, NULL);
}

static void
test_models_llamacpp (void)
{
  g_autofree char *path = confab_test_fixture_path ("llamacpp", "v1_models.json");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (server, "/v1/models", 200);
  const char * const expected[] = { "tiny-random-llama", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  confab_test_response_set_body_file (resp, path);
  models = list_models (server, "openai", &error);
  g_assert_no_error (error);
  assert_models (models, expected);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

static void
test_models_ollama (void)
{
  g_autofree char *path = confab_test_fixture_path ("ollama", "tags.json");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (server, "/api/tags", 200);
  const char * const expected[] = { "llama3.2:latest", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  confab_test_response_set_body_file (resp, path);
  models = list_models (server, "ollama", &error);
  g_assert_no_error (error);
  assert_models (models, expected);

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_method (server, 0), ==, "GET");
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, "/api/tags");

  finish_test (server, NULL, NULL);
}

static void
test_models_anthropic (void)
{
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp;
  const char * const expected[] = { "claude-x", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  /* The server matches the URI path alone, so a query such as
   * ?limit=1000 still reaches this route. */
  resp = confab_test_server_add_response (server, "/v1/models", 200);
  confab_test_response_set_body_string (resp, "{\"data\":[{\"id\":\"claude-x\",\"type\":\"model\"}],\"has_more\":false}");

  models = list_models (server, "anthropic", &error);
  g_assert_no_error (error);
  assert_models (models, expected);

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_method (server, 0), ==, "GET");
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, "/v1/models");
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "x-api-key"), ==, "sk-test");
  g_assert_nonnull (confab_test_server_get_request_header (server, 0, "anthropic-version"));

  finish_test (server, NULL, NULL);
}

static void
test_models_auth_error (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("openai", "error-401.http");
  ConfabTestServer *server = confab_test_server_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  queue_http_fixture (server, "/v1/models", fixture, NULL);
  models = list_models (server, "openai", &error);
  g_assert_null (models);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_AUTH);
  assert_contains (error->message, "Incorrect API key provided");
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);

  finish_test (server, NULL, NULL);
}

/* 10. A whole reply where a stream was asked for */

static void
test_non_streamed_tool_call (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load ("llamacpp", "tools_required_seed3.txt");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  Run run;

  g_assert_cmpuint (fixture->status, ==, 200);
  assert_contains (http_fixture_get_header (fixture, "Content-Type"), "application/json");
  queue_http_fixture (server, "/v1/chat/completions", fixture, NULL);

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_succeeded (&run, "tool_calls");
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, "");
  g_assert_cmpuint (confab_reply_get_tool_calls (run.reply)->len, ==, 1);
  /* llama.cpp sends "id": ""; the engine makes one up. */
  assert_tool_call (get_tool_call (&run, 0), NULL, "get_weather", "{\"city\":\"London\"}");
  assert_usage (&run, 272, 44);

  run_clear (&run);
  finish_test (server, provider, request);
}

static void
test_non_streamed_text (void)
{
  g_autoptr(HttpFixture) fixture = http_fixture_load_section ("llamacpp", "errors.txt",
                                                              "wrong content-type (text/plain, valid JSON body)");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabProvider *provider = make_provider ("openai", server);
  ConfabChatRequest *request = make_request ();
  Run run;

  g_assert_cmpuint (fixture->status, ==, 200);
  assert_contains (http_fixture_get_header (fixture, "Content-Type"), "application/json");
  queue_http_fixture (server, "/v1/chat/completions", fixture, NULL);

  run_init (&run, provider, request);
  run_sync (&run, NULL);

  assert_run_succeeded (&run, "length");
  g_assert_cmpstr (confab_reply_get_text (run.reply), ==, " săask About");
  g_assert_cmpuint (confab_reply_get_tool_calls (run.reply)->len, ==, 0);
  assert_usage (&run, 11, 3);

  run_clear (&run);
  finish_test (server, provider, request);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (stream_cases); i++)
    for (guint f = 0; f < G_N_ELEMENTS (framing_names); f++)
      {
        StreamTest *test = g_new0 (StreamTest, 1);
        g_autofree char *name = g_strdup_printf ("/provider/stream/%s/%s/%s",
                                                 stream_cases[i].dir, stream_cases[i].file,
                                                 framing_names[f]);

        test->c = &stream_cases[i];
        test->framing = (ConfabTestFraming)f;
        g_test_add_data_func_full (name, test, test_stream_fixture, g_free);
      }

  for (guint i = 0; i < G_N_ELEMENTS (error_stream_cases); i++)
    for (guint f = 0; f < G_N_ELEMENTS (framing_names); f++)
      {
        ErrorStreamTest *test = g_new0 (ErrorStreamTest, 1);
        g_autofree char *name = g_strdup_printf ("/provider/stream-error/%s/%s/%s",
                                                 error_stream_cases[i].dir, error_stream_cases[i].file,
                                                 framing_names[f]);

        test->c = &error_stream_cases[i];
        test->framing = (ConfabTestFraming)f;
        g_test_add_data_func_full (name, test, test_stream_error, g_free);
      }

  g_test_add_func ("/provider/http-error/openai-401", test_http_error_openai_401);
  g_test_add_func ("/provider/http-error/ollama-model-not-found", test_http_error_ollama_not_found);
  g_test_add_func ("/provider/http-error/llamacpp-tools-rejected", test_http_error_llamacpp_tools_rejected);
  g_test_add_func ("/provider/http-error/not-found", test_http_error_not_found);

  g_test_add_func ("/provider/retry/503-then-success", test_retry_503_then_success);
  g_test_add_func ("/provider/retry/retry-after", test_retry_after_honoured);
  g_test_add_func ("/provider/retry/429-exhausted", test_retry_429_exhausted);
  g_test_add_func ("/provider/retry/connection-refused", test_retry_connection_refused);
  g_test_add_func ("/provider/retry/retry-after-too-long", test_retry_after_too_long);

  g_test_add_func ("/provider/fault/reset", test_fault_reset);
  g_test_add_func ("/provider/fault/stall", test_fault_stall);
  g_test_add_func ("/provider/fault/no-response", test_fault_no_response);
  g_test_add_func ("/provider/fault/truncate", test_fault_truncate);
  g_test_add_func ("/provider/fault/invalid-utf8", test_fault_invalid_utf8);
  g_test_add_func ("/provider/fault/oversized-line", test_fault_oversized_line);

  g_test_add_func ("/provider/cancel/mid-stream", test_cancel_mid_stream);
  g_test_add_func ("/provider/cancel/before-run", test_cancel_before_run);
  g_test_add_func ("/provider/cancel/during-retry-wait", test_cancel_during_retry_wait);

  g_test_add_func ("/provider/concurrent", test_concurrent_replies);

  g_test_add_func ("/provider/request/openai", test_request_openai);
  g_test_add_func ("/provider/request/ollama", test_request_ollama);
  g_test_add_func ("/provider/request/anthropic", test_request_anthropic);

  g_test_add_func ("/provider/models/openai", test_models_openai);
  g_test_add_func ("/provider/models/llamacpp", test_models_llamacpp);
  g_test_add_func ("/provider/models/ollama", test_models_ollama);
  g_test_add_func ("/provider/models/anthropic", test_models_anthropic);
  g_test_add_func ("/provider/models/auth-error", test_models_auth_error);

  g_test_add_func ("/provider/non-streamed/tool-call", test_non_streamed_tool_call);
  g_test_add_func ("/provider/non-streamed/text", test_non_streamed_text);

  return g_test_run ();
}
