/* test-fixtures.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every recorded stream through the whole byte -> event pipeline of its
 * API, fed whole, split at every byte, byte by byte, and rewritten with
 * CRLF, CR, a BOM and keep-alive comments: the events must not change.
 */

#include "config.h"

#include <string.h>

#include "confab-engine.h"
#include "confab-stream-parser-private.h"

typedef ConfabStreamDecoder *(*DecoderNew) (ConfabEventFunc emit,
                                            gpointer        emit_data,
                                            gsize           max_bytes);

typedef struct
{
  GString    *text;
  GString    *reasoning;
  GString    *calls;
  ConfabUsage usage;
  char       *finish_reason;
  GError     *error;
  gboolean    ended;
} Result;

static void
result_free (Result *result)
{
  g_string_free (result->text, TRUE);
  g_string_free (result->reasoning, TRUE);
  g_string_free (result->calls, TRUE);
  g_free (result->finish_reason);
  g_clear_error (&result->error);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

static gboolean
is_generated_id (const char *id)
{
  if (!g_str_has_prefix (id, "call_") || strlen (id) != 5 + 24)
    return FALSE;
  for (const char *p = id + 5; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

static void
on_event (const ConfabEvent *event,
          gpointer           user_data)
{
  Result *result = user_data;

  g_assert_false (result->ended);

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      g_assert_true (g_utf8_validate (event->text, event->text_len, NULL));
      g_string_append_len (result->text, event->text, event->text_len);
      break;

    case CONFAB_EVENT_REASONING_DELTA:
      g_string_append_len (result->reasoning, event->text, event->text_len);
      break;

    case CONFAB_EVENT_TOOL_CALL:
      {
        const char *id = confab_tool_call_get_id (event->tool_call);
        g_autofree char *args = confab_tool_call_dup_arguments_json (event->tool_call);

        /* Generated ids are random: compare that they were generated. */
        g_string_append_printf (result->calls, "%s %s %s;",
                                is_generated_id (id) ? "<generated>" : id,
                                confab_tool_call_get_name (event->tool_call), args);
      }
      break;

    case CONFAB_EVENT_USAGE:
      result->usage = *event->usage;
      break;

    case CONFAB_EVENT_FINISHED:
      result->finish_reason = g_strdup (event->finish_reason);
      result->ended = TRUE;
      break;

    case CONFAB_EVENT_ERROR:
    default:
      g_assert_not_reached ();
    }
}

/* Feeds @data in pieces ending at each offset of @cuts (then the rest). */
static Result *
run (ConfabStreamFormat  format,
     DecoderNew          decoder_new,
     GBytes             *bytes,
     const gsize        *cuts,
     guint               n_cuts,
     gsize               piece)
{
  Result *result = g_new0 (Result, 1);
  g_autoptr(ConfabStreamParser) parser = NULL;
  const char *data;
  gsize len;
  gsize offset = 0;
  gboolean ok = TRUE;
  ConfabUsage usage = CONFAB_USAGE_INIT;

  result->text = g_string_new (NULL);
  result->reasoning = g_string_new (NULL);
  result->calls = g_string_new (NULL);
  result->usage = usage;

  data = g_bytes_get_data (bytes, &len);
  parser = _confab_stream_parser_new (format, 0, decoder_new (on_event, result, 1 << 20));

  for (guint i = 0; ok && i < n_cuts; i++)
    {
      ok = _confab_stream_parser_feed (parser, data + offset, cuts[i] - offset, &result->error);
      offset = cuts[i];
    }
  while (ok && piece > 0 && offset < len)
    {
      gsize n = MIN (piece, len - offset);
      ok = _confab_stream_parser_feed (parser, data + offset, n, &result->error);
      offset += n;
    }
  if (ok)
    ok = _confab_stream_parser_feed (parser, data + offset, len - offset, &result->error);
  if (ok)
    ok = _confab_stream_parser_end (parser, &result->error);

  g_assert_true (ok == (result->error == NULL));
  if (ok)
    g_assert_true (result->ended);

  return result;
}

static char *
describe (Result *result)
{
  return g_strdup_printf ("text=«%s» reasoning=«%s» calls=«%s» usage=%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                          "/%" G_GINT64_FORMAT " finish=%s error=%s:%d:%s",
                          result->text->str, result->reasoning->str, result->calls->str,
                          result->usage.prompt_tokens, result->usage.completion_tokens,
                          result->usage.reasoning_tokens, result->finish_reason,
                          result->error ? g_quark_to_string (result->error->domain) : "-",
                          result->error ? result->error->code : 0,
                          result->error ? result->error->message : "-");
}

static GBytes *
load_fixture (const char *dir,
              const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  const char *path = g_test_get_filename (G_TEST_DIST, "fixtures", dir, name, NULL);

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* Replaces every LF of @bytes with @eol. */
static GBytes *
rewrite_eol (GBytes     *bytes,
             const char *eol)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        g_string_append (out, eol);
      else
        g_string_append_c (out, data[i]);
    }
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/* Adds what servers add between events: keep-alive comments (SSE) or
 * blank lines (NDJSON), and a BOM in front. */
static GBytes *
add_noise (GBytes             *bytes,
           ConfabStreamFormat  format)
{
  g_autoptr(GString) out = g_string_new ("\xEF\xBB\xBF");
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i < len; i++)
    {
      g_string_append_c (out, data[i]);
      if (format == CONFAB_STREAM_FORMAT_SSE && data[i] == '\n' && i > 0 && data[i - 1] == '\n')
        g_string_append (out, ": keep-alive\n\n:\nretry: 3000\nid: 42\n");
      else if (format == CONFAB_STREAM_FORMAT_NDJSON && data[i] == '\n')
        g_string_append (out, "\n  \n");
    }
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

typedef struct
{
  const char         *dir;
  const char         *name;
  ConfabStreamFormat  format;
  DecoderNew          decoder_new;
} Fixture;

/* The fixture's result must be the same however it is cut. */
static Result *
run_every_way (const Fixture *fixture)
{
  g_autoptr(GBytes) bytes = load_fixture (fixture->dir, fixture->name);
  g_autoptr(Result) whole = run (fixture->format, fixture->decoder_new, bytes, NULL, 0, 0);
  g_autofree char *expected = describe (whole);
  g_autoptr(GPtrArray) variants = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  gsize len = g_bytes_get_size (bytes);

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(Result) split = run (fixture->format, fixture->decoder_new, bytes, &cut, 1, 0);
      g_autofree char *got = describe (split);

      if (!g_str_equal (got, expected))
        g_error ("%s split at %" G_GSIZE_FORMAT ":\n got %s\nwant %s", fixture->name, cut, got, expected);
    }

  g_ptr_array_add (variants, g_bytes_ref (bytes));
  g_ptr_array_add (variants, rewrite_eol (bytes, "\r\n"));
  g_ptr_array_add (variants, add_noise (bytes, fixture->format));
  if (fixture->format == CONFAB_STREAM_FORMAT_SSE)
    g_ptr_array_add (variants, rewrite_eol (bytes, "\r"));

  for (guint i = 0; i < variants->len; i++)
    {
      for (gsize piece = 1; piece <= 7; piece += 3)
        {
          g_autoptr(Result) result = run (fixture->format, fixture->decoder_new,
                                          g_ptr_array_index (variants, i), NULL, 0, piece);
          g_autofree char *got = describe (result);

          if (!g_str_equal (got, expected))
            g_error ("%s variant %u in %" G_GSIZE_FORMAT "-byte pieces:\n got %s\nwant %s",
                     fixture->name, i, piece, got, expected);
        }
    }

  return g_steal_pointer (&whole);
}

static const Fixture openai_text = { "openai", "stream-text.sse", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture openai_reasoning = { "openai", "stream-reasoning.sse", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture openai_tools = { "openai", "stream-parallel-tool-calls.sse", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture openai_error = { "openai", "stream-error-midway.sse", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture llamacpp_stream = { "llamacpp", "openai_stream.txt", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture llamacpp_jinja = { "llamacpp", "openai_stream_jinja.txt", CONFAB_STREAM_FORMAT_SSE, _confab_openai_decoder_new };
static const Fixture ollama_text = { "ollama", "chat-stream.ndjson", CONFAB_STREAM_FORMAT_NDJSON, _confab_ollama_decoder_new };
static const Fixture ollama_tools = { "ollama", "chat-tool-call.ndjson", CONFAB_STREAM_FORMAT_NDJSON, _confab_ollama_decoder_new };
static const Fixture ollama_error = { "ollama", "chat-stream-error-midway.ndjson", CONFAB_STREAM_FORMAT_NDJSON, _confab_ollama_decoder_new };
static const Fixture anthropic_tools = { "anthropic", "messages-stream-tool-use.sse", CONFAB_STREAM_FORMAT_SSE, _confab_anthropic_decoder_new };
static const Fixture anthropic_error = { "anthropic", "messages-stream-error.sse", CONFAB_STREAM_FORMAT_SSE, _confab_anthropic_decoder_new };

static void
test_openai_text (void)
{
  g_autoptr(Result) result = run_every_way (&openai_text);
  g_autoptr(GBytes) expected = load_fixture ("openai", "stream-text.expected.txt");

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->text->str, ==, g_bytes_get_data (expected, NULL));
  g_assert_cmpuint (result->text->len, ==, g_bytes_get_size (expected));
  g_assert_cmpstr (result->finish_reason, ==, "stop");
  g_assert_cmpint (result->usage.prompt_tokens, ==, 21);
  g_assert_cmpint (result->usage.completion_tokens, ==, 38);
}

static void
test_openai_reasoning (void)
{
  g_autoptr(Result) result = run_every_way (&openai_reasoning);

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->reasoning->str, ==, "The user wants a greeting.");
  g_assert_cmpstr (result->text->str, ==, "Hi!");
  g_assert_cmpint (result->usage.reasoning_tokens, ==, 8);
  g_assert_cmpstr (result->finish_reason, ==, "stop");
}

static void
test_openai_tool_calls (void)
{
  g_autoptr(Result) result = run_every_way (&openai_tools);
  g_autoptr(GBytes) bytes = load_fixture ("openai", "stream-parallel-tool-calls.expected.json");
  g_autoptr(JsonNode) expected = json_from_string (g_bytes_get_data (bytes, NULL), NULL);
  JsonArray *calls = json_object_get_array_member (json_node_get_object (expected), "tool_calls");
  g_autoptr(GString) want = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (calls); i++)
    {
      JsonObject *call = json_array_get_object_element (calls, i);
      g_autofree char *args = json_to_string (json_object_get_member (call, "arguments"), FALSE);

      g_string_append_printf (want, "%s %s %s;", json_object_get_string_member (call, "id"),
                              json_object_get_string_member (call, "name"), args);
    }

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->calls->str, ==, want->str);
  g_assert_cmpstr (result->text->str, ==, json_object_get_string_member (json_node_get_object (expected), "content"));
  g_assert_cmpstr (result->finish_reason, ==, json_object_get_string_member (json_node_get_object (expected), "finish_reason"));
}

static void
test_openai_error_midway (void)
{
  g_autoptr(Result) result = run_every_way (&openai_error);

  g_assert_error (result->error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_assert_nonnull (strstr (result->error->message, "Upstream provider returned an error"));
  g_assert_cmpstr (result->text->str, ==, "Partial ans");
}

/* The expected text of a llama.cpp recording, computed independently:
 * every data line parsed with json-glib, deltas concatenated. */
static char *
llamacpp_expected_text (const char *name)
{
  g_autoptr(GBytes) bytes = load_fixture ("llamacpp", name);
  g_auto(GStrv) lines = g_strsplit (g_bytes_get_data (bytes, NULL), "\n", -1);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *delta;

      if (!g_str_has_prefix (lines[i], "data: {"))
        continue;
      node = json_from_string (lines[i] + 6, NULL);
      g_assert_nonnull (node);
      delta = json_object_get_object_member (json_array_get_object_element (
                json_object_get_array_member (json_node_get_object (node), "choices"), 0), "delta");
      if (json_object_has_member (delta, "content"))
        g_string_append (text, json_object_get_string_member (delta, "content"));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_llamacpp (void)
{
  g_autoptr(Result) plain = run_every_way (&llamacpp_stream);
  g_autoptr(Result) jinja = run_every_way (&llamacpp_jinja);
  g_autofree char *plain_text = llamacpp_expected_text ("openai_stream.txt");
  g_autofree char *jinja_text = llamacpp_expected_text ("openai_stream_jinja.txt");

  g_assert_no_error (plain->error);
  g_assert_cmpuint (strlen (plain_text), >, 50);
  g_assert_cmpstr (plain->text->str, ==, plain_text);
  g_assert_cmpstr (plain->finish_reason, ==, "length");
  g_assert_cmpint (plain->usage.prompt_tokens, ==, 25);
  g_assert_cmpint (plain->usage.completion_tokens, ==, 24);

  g_assert_no_error (jinja->error);
  g_assert_cmpstr (jinja->text->str, ==, jinja_text);
  g_assert_cmpstr (jinja->finish_reason, ==, "length");
  g_assert_cmpint (jinja->usage.completion_tokens, ==, 12);
}

static void
test_ollama_text (void)
{
  g_autoptr(Result) result = run_every_way (&ollama_text);

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->text->str, ==, "The sky is blue. \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80\n");
  g_assert_cmpstr (result->finish_reason, ==, "stop");
  g_assert_cmpint (result->usage.prompt_tokens, ==, 26);
  g_assert_cmpint (result->usage.completion_tokens, ==, 4);
}

static void
test_ollama_tool_calls (void)
{
  g_autoptr(Result) result = run_every_way (&ollama_tools);

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->reasoning->str, ==, "I should check the weather.");
  g_assert_cmpstr (result->calls->str, ==,
                   "<generated> get_weather {\"city\":\"Paris\",\"unit\":\"celsius\"};"
                   "<generated> get_time {};");
  g_assert_cmpstr (result->finish_reason, ==, "tool_calls");
}

static void
test_ollama_error_midway (void)
{
  g_autoptr(Result) result = run_every_way (&ollama_error);

  g_assert_error (result->error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_assert_nonnull (strstr (result->error->message, "unexpected EOF"));
  g_assert_cmpstr (result->text->str, ==, "Partial");
}

static void
test_anthropic_tool_use (void)
{
  g_autoptr(Result) result = run_every_way (&anthropic_tools);

  g_assert_no_error (result->error);
  g_assert_cmpstr (result->text->str, ==, "Okay, let me check the weather.");
  g_assert_cmpstr (result->calls->str, ==, "toolu_01T1x get_weather {\"city\":\"San Francisco\"};");
  g_assert_cmpstr (result->finish_reason, ==, "tool_calls");
  g_assert_cmpint (result->usage.prompt_tokens, ==, 472);
  g_assert_cmpint (result->usage.completion_tokens, ==, 89);
}

static void
test_anthropic_error (void)
{
  g_autoptr(Result) result = run_every_way (&anthropic_error);

  g_assert_error (result->error, CONFAB_ERROR, CONFAB_ERROR_SERVER);
  g_assert_nonnull (strstr (result->error->message, "Overloaded"));
  g_assert_cmpstr (result->text->str, ==, "Partial");
}

/* Faults in the bytes themselves. */

static Result *
run_string (DecoderNew          decoder_new,
            ConfabStreamFormat  format,
            const char         *data)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, strlen (data));

  return run (format, decoder_new, bytes, NULL, 0, 0);
}

static void
test_truncated (void)
{
  g_autoptr(Result) openai = run_string (_confab_openai_decoder_new, CONFAB_STREAM_FORMAT_SSE,
                                         "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n");
  g_autoptr(Result) ollama = run_string (_confab_ollama_decoder_new, CONFAB_STREAM_FORMAT_NDJSON,
                                         "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n");
  g_autoptr(Result) anthropic = run_string (_confab_anthropic_decoder_new, CONFAB_STREAM_FORMAT_SSE,
                                            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                                            "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n");
  g_autoptr(Result) lenient = run_string (_confab_openai_decoder_new, CONFAB_STREAM_FORMAT_SSE,
                                          "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},"
                                          "\"finish_reason\":\"stop\"}]}\n\n");

  g_assert_error (openai->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (openai->error->message, "before the reply was complete"));
  g_assert_cmpstr (openai->text->str, ==, "Hel");
  g_assert_error (ollama->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_error (anthropic->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);

  /* Without [DONE] but after the model said why it stopped: complete. */
  g_assert_no_error (lenient->error);
  g_assert_cmpstr (lenient->text->str, ==, "Hi");
}

static void
test_malformed (void)
{
  g_autoptr(Result) json = run_string (_confab_openai_decoder_new, CONFAB_STREAM_FORMAT_SSE,
                                       "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n"
                                       "data: {\"choices\":[{\"delta\":\n\n");
  g_autoptr(Result) utf8 = run_string (_confab_ollama_decoder_new, CONFAB_STREAM_FORMAT_NDJSON,
                                       "{\"message\":{\"content\":\"ok \xff\xfe\"},\"done\":false}\n");
  g_autoptr(Result) surrogate = run_string (_confab_openai_decoder_new, CONFAB_STREAM_FORMAT_SSE,
                                            "data: {\"choices\":[{\"delta\":{\"content\":\"\\ud83d\"}}]}\n\n");
  g_autoptr(Result) not_object = run_string (_confab_ollama_decoder_new, CONFAB_STREAM_FORMAT_NDJSON, "[1,2]\n");

  g_assert_error (json->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (json->error->message, "malformed JSON"));
  g_assert_cmpstr (json->text->str, ==, "ok");
  g_assert_error (utf8->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (utf8->error->message, "UTF-8"));
  g_assert_error (surrogate->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_error (not_object->error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
}

static void
test_whole_json_body (void)
{
  /* What llama.cpp answers when it cannot stream tool calls. */
  const char *openai_body =
    "{\"choices\":[{\"finish_reason\":\"tool_calls\",\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":null,\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
    "\"arguments\":\"{\\\"city\\\":\\\"London\\\"}\"},\"id\":\"\"},{\"type\":\"function\",\"function\":"
    "{\"name\":\"now\",\"arguments\":\"{}\"},\"id\":\"\"}]}}],\n\"usage\":{\"completion_tokens\":44,"
    "\"prompt_tokens\":272}}";
  const char *anthropic_body =
    "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"Hmm.\"},"
    "{\"type\":\"text\",\"text\":\"Sure.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\","
    "\"input\":{\"a\":1}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}";
  g_autoptr(GBytes) openai_bytes = g_bytes_new_static (openai_body, strlen (openai_body));
  g_autoptr(GBytes) anthropic_bytes = g_bytes_new_static (anthropic_body, strlen (anthropic_body));
  g_autoptr(Result) openai = run (CONFAB_STREAM_FORMAT_JSON, _confab_openai_decoder_new, openai_bytes, NULL, 0, 5);
  g_autoptr(Result) anthropic = run (CONFAB_STREAM_FORMAT_JSON, _confab_anthropic_decoder_new, anthropic_bytes, NULL, 0, 5);

  g_assert_no_error (openai->error);
  g_assert_cmpstr (openai->calls->str, ==, "<generated> get_weather {\"city\":\"London\"};<generated> now {};");
  g_assert_cmpstr (openai->finish_reason, ==, "tool_calls");
  g_assert_cmpint (openai->usage.completion_tokens, ==, 44);

  g_assert_no_error (anthropic->error);
  g_assert_cmpstr (anthropic->reasoning->str, ==, "Hmm.");
  g_assert_cmpstr (anthropic->text->str, ==, "Sure.");
  g_assert_cmpstr (anthropic->calls->str, ==, "toolu_1 f {\"a\":1};");
  g_assert_cmpstr (anthropic->finish_reason, ==, "tool_calls");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fixtures/openai/text", test_openai_text);
  g_test_add_func ("/fixtures/openai/reasoning", test_openai_reasoning);
  g_test_add_func ("/fixtures/openai/parallel-tool-calls", test_openai_tool_calls);
  g_test_add_func ("/fixtures/openai/error-midway", test_openai_error_midway);
  g_test_add_func ("/fixtures/llamacpp/streams", test_llamacpp);
  g_test_add_func ("/fixtures/ollama/text", test_ollama_text);
  g_test_add_func ("/fixtures/ollama/tool-calls", test_ollama_tool_calls);
  g_test_add_func ("/fixtures/ollama/error-midway", test_ollama_error_midway);
  g_test_add_func ("/fixtures/anthropic/tool-use", test_anthropic_tool_use);
  g_test_add_func ("/fixtures/anthropic/error", test_anthropic_error);
  g_test_add_func ("/faults/truncated", test_truncated);
  g_test_add_func ("/faults/malformed", test_malformed);
  g_test_add_func ("/faults/whole-json-body", test_whole_json_body);

  return g_test_run ();
}
