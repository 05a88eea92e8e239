/* test-parsers.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The byte-level parsers: line splitting, server-sent events and the
 * tool-call assembler, fed in every way a socket can split its bytes.
 */

#include "config.h"

#include <string.h>

#include "confab-engine.h"
#include "confab-line-reader-private.h"
#include "confab-sse-parser-private.h"
#include "confab-tool-call-assembler-private.h"

/* Line reader */

static gboolean
collect_line (const char  *line,
              gsize        len,
              gpointer     user_data,
              GError     **error)
{
  g_ptr_array_add (user_data, g_strndup (line, len));
  return TRUE;
}

/* Feeds @data cut at @cut (or whole when cut == len), returns the lines
 * joined with "|". */
static char *
lines_of (const char  *data,
          gsize        len,
          gsize        cut,
          gsize        max_line,
          GError     **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  ConfabLineReader reader;
  gboolean ok;

  _confab_line_reader_init (&reader, max_line);
  ok = _confab_line_reader_feed (&reader, data, cut, collect_line, lines, error) &&
       _confab_line_reader_feed (&reader, data + cut, len - cut, collect_line, lines, error) &&
       _confab_line_reader_finish (&reader, collect_line, lines, error);
  _confab_line_reader_clear (&reader);

  if (!ok)
    return NULL;

  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("|", (char **)lines->pdata);
}

static void
assert_lines_at_every_split (const char *data,
                             const char *expected)
{
  gsize len = strlen (data);

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *got = lines_of (data, len, cut, 0, &error);

      g_assert_no_error (error);
      if (g_strcmp0 (got, expected) != 0)
        g_error ("split at %" G_GSIZE_FORMAT ": got “%s”, expected “%s”", cut, got, expected);
    }
}

static void
test_lines_terminators (void)
{
  assert_lines_at_every_split ("a\nb\r\nc\rd", "a|b|c|d");
  assert_lines_at_every_split ("x\r\ny\rz\n\r\nw\n", "x|y|z||w");
  assert_lines_at_every_split ("\n\n", "|");
  assert_lines_at_every_split ("\r\r\n\r", "||");
  assert_lines_at_every_split ("", "");
}

static void
test_lines_bom (void)
{
  assert_lines_at_every_split ("\xEF\xBB\xBF" "data\n", "data");
  /* Only at the very start. */
  assert_lines_at_every_split ("a\n\xEF\xBB\xBF" "b\n", "a|\xEF\xBB\xBF" "b");
  /* Bytes that only begin like a BOM are data. */
  assert_lines_at_every_split ("\xEF\xBBx\n", "\xEF\xBBx");
  assert_lines_at_every_split ("\xEF\xBB", "\xEF\xBB");
}

static void
test_lines_limit (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ok = lines_of ("0123456789\nab", 13, 4, 10, &error);
  const char *too_long = "0123456789A\n";

  g_assert_no_error (error);
  g_assert_cmpstr (ok, ==, "0123456789|ab");

  /* Whole in one piece, and accumulated across pieces. */
  for (gsize cut = 0; cut <= strlen (too_long); cut++)
    {
      g_autofree char *got = lines_of (too_long, strlen (too_long), cut, 10, &error);

      g_assert_null (got);
      g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, "longer than 10 bytes"));
      g_clear_error (&error);
    }
}

static void
test_lines_default_limit (void)
{
  /* A 17 MiB line fails without keeping 17 MiB around. */
  gsize len = 17 * 1024 * 1024;
  g_autofree char *big = g_malloc (len);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  ConfabLineReader reader;
  gboolean ok = TRUE;

  memset (big, 'x', len);
  _confab_line_reader_init (&reader, 0);
  for (gsize off = 0; ok && off < len; off += 65536)
    ok = _confab_line_reader_feed (&reader, big + off, MIN (65536, len - off), collect_line, lines, &error);
  g_assert_false (ok);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "16.0"));
  g_assert_nonnull (strstr (error->message, "MiB"));
  g_assert_cmpuint (reader.pending->len, <=, CONFAB_DEFAULT_MAX_LINE_LENGTH);
  _confab_line_reader_clear (&reader);
}

/* Server-sent events */

static gboolean
collect_event (const char  *event_type,
               const char  *data,
               gsize        len,
               gpointer     user_data,
               GError     **error)
{
  g_assert_cmpint (data[len], ==, '\0');
  g_string_append_printf (user_data, "[%s:%.*s]", event_type, (int)len, data);
  return TRUE;
}

static char *
sse_events (const char *data,
            gsize       cut,
            char      **last_id,
            gint64     *retry)
{
  GString *events = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  ConfabSseParser parser;
  gsize len = strlen (data);

  _confab_sse_parser_init (&parser, 0, collect_event, events);
  g_assert_true (_confab_sse_parser_feed (&parser, data, cut, &error));
  g_assert_true (_confab_sse_parser_feed (&parser, data + cut, len - cut, &error));
  g_assert_true (_confab_sse_parser_finish (&parser, &error));
  g_assert_no_error (error);
  if (last_id != NULL)
    *last_id = g_strdup (_confab_sse_parser_get_last_event_id (&parser));
  if (retry != NULL)
    *retry = _confab_sse_parser_get_retry (&parser);
  _confab_sse_parser_clear (&parser);

  return g_string_free (events, FALSE);
}

static void
assert_sse (const char *data,
            const char *expected)
{
  for (gsize cut = 0; cut <= strlen (data); cut++)
    {
      g_autofree char *got = sse_events (data, cut, NULL, NULL);

      if (g_strcmp0 (got, expected) != 0)
        g_error ("split at %" G_GSIZE_FORMAT ": got “%s”, expected “%s”", cut, got, expected);
    }
}

static void
test_sse_fields (void)
{
  g_autofree char *id = NULL;
  g_autofree char *events = NULL;
  gint64 retry;

  /* The WHATWG spec's own examples. */
  assert_sse ("data: YHOO\ndata: +2\ndata: 10\n\n", "[message:YHOO\n+2\n10]");
  assert_sse (": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
              "[message:first event][message:second event][message: third event]");
  assert_sse ("data\n\ndata\ndata\n\ndata:", "[message:][message:\n]");

  events = sse_events (": c\nevent: add\nid: 7\nretry: 1500\ndata: x\n\n", 3, &id, &retry);
  g_assert_cmpstr (events, ==, "[add:x]");
  g_assert_cmpstr (id, ==, "7");
  g_assert_cmpint (retry, ==, 1500);

  g_clear_pointer (&events, g_free);
  g_clear_pointer (&id, g_free);
  events = sse_events ("retry: 15x\nid: a\nfoo: bar\ndata: y\n\n", 0, &id, &retry);
  g_assert_cmpstr (events, ==, "[message:y]");
  g_assert_cmpint (retry, ==, -1);
  g_assert_cmpstr (id, ==, "a");
}

static void
test_sse_dispatch (void)
{
  /* The event type lasts one event. */
  assert_sse ("event: a\ndata: 1\n\ndata: 2\n\n", "[a:1][message:2]");
  /* A blank line without data dispatches nothing but resets the type. */
  assert_sse ("event: a\n\ndata: 2\n\n", "[message:2]");
  /* An event without its blank line at the end of the stream is dropped. */
  assert_sse ("data: 1\n\ndata: x\n", "[message:1]");
  /* Any line ending, mixed. */
  assert_sse ("data: a\r\n\r\ndata: b\r\rdata: c\n\r\n", "[message:a][message:b][message:c]");
  /* A BOM at the start is not part of the first field name. */
  assert_sse ("\xEF\xBB\xBF" "data: bom\n\n", "[message:bom]");
}

static void
test_sse_utf8_split (void)
{
  assert_sse ("data: Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80\n\n",
              "[message:Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80]");
}

/* Tool-call assembler */

static GPtrArray *
assemble (const char * const *fragments,
          GError            **error)
{
  ConfabToolCallAssembler assembler;
  GPtrArray *calls = NULL;
  gboolean ok = TRUE;

  /* Each fragment: index, id, name, arguments ("-" for NULL). */
  _confab_tool_call_assembler_init (&assembler, 1024);
  for (guint i = 0; ok && fragments[i] != NULL; i += 4)
    {
      const char *id = g_str_equal (fragments[i + 1], "-") ? NULL : fragments[i + 1];
      const char *name = g_str_equal (fragments[i + 2], "-") ? NULL : fragments[i + 2];
      const char *args = fragments[i + 3];

      ok = _confab_tool_call_assembler_add (&assembler, g_ascii_strtoll (fragments[i], NULL, 10),
                                            id, name, args, strlen (args), error);
    }
  if (ok)
    calls = _confab_tool_call_assembler_finish (&assembler, error);
  _confab_tool_call_assembler_clear (&assembler);

  return calls;
}

static void
assert_call (GPtrArray  *calls,
             guint       i,
             const char *id,
             const char *name,
             const char *arguments_json)
{
  ConfabToolCall *call = g_ptr_array_index (calls, i);
  g_autoptr(JsonNode) expected = json_from_string (arguments_json, NULL);

  if (id != NULL)
    g_assert_cmpstr (confab_tool_call_get_id (call), ==, id);
  else
    g_assert_true (g_str_has_prefix (confab_tool_call_get_id (call), "call_"));
  g_assert_cmpstr (confab_tool_call_get_name (call), ==, name);
  g_assert_null (confab_tool_call_get_arguments_error (call));
  g_assert_true (json_node_equal (confab_tool_call_get_arguments (call), expected));
}

static void
test_assembler_fragments (void)
{
  const char * const fragments[] = {
    "1", "call_b", "g", "",
    "0", "call_a", "f", "{\"x\"",
    "1", "-", "-", "{}",
    "0", "-", "-", ": 1}",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) calls = assemble (fragments, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (calls->len, ==, 2);
  assert_call (calls, 0, "call_a", "f", "{\"x\":1}");
  assert_call (calls, 1, "call_b", "g", "{}");
}

static void
test_assembler_ids_and_names (void)
{
  /* No index (-1): a new id opens a call, no id continues the last;
   * a name repeated whole in each fragment is not doubled; missing ids
   * are generated, each different. */
  const char * const fragments[] = {
    "-1", "a", "get_weather", "{\"city\":",
    "-1", "-", "get_weather", "\"Paris\"}",
    "-1", "b", "now", "",
    "-1", "", "-", "",
    NULL
  };
  const char * const no_ids[] = {
    "0", "", "f", "{}",
    "1", "-", "f", "{}",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) calls = assemble (fragments, &error);
  g_autoptr(GPtrArray) generated = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (calls->len, ==, 2);
  assert_call (calls, 0, "a", "get_weather", "{\"city\":\"Paris\"}");
  assert_call (calls, 1, "b", "now", "{}");

  generated = assemble (no_ids, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (generated->len, ==, 2);
  assert_call (generated, 0, NULL, "f", "{}");
  assert_call (generated, 1, NULL, "f", "{}");
  g_assert_cmpstr (confab_tool_call_get_id (g_ptr_array_index (generated, 0)), !=,
                   confab_tool_call_get_id (g_ptr_array_index (generated, 1)));
}

static void
test_assembler_bad_arguments (void)
{
  const char * const fragments[] = {
    "0", "c1", "run_command", "{\"command\": \"ls",
    "1", "c2", "list", "[1, 2]",
    NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) calls = assemble (fragments, &error);
  ConfabToolCall *broken;

  /* Broken arguments do not fail the reply: the call carries an error
   * naming the tool, to send back to the model. */
  g_assert_no_error (error);
  g_assert_cmpuint (calls->len, ==, 2);
  broken = g_ptr_array_index (calls, 0);
  g_assert_null (confab_tool_call_get_arguments (broken));
  g_assert_cmpstr (confab_tool_call_get_raw_arguments (broken), ==, "{\"command\": \"ls");
  g_assert_error (confab_tool_call_get_arguments_error (broken), CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (confab_tool_call_get_arguments_error (broken)->message, "“run_command”"));
  g_assert_nonnull (strstr (confab_tool_call_get_arguments_error (g_ptr_array_index (calls, 1))->message,
                            "not a JSON object"));

  /* Documents json-glib takes but that are no object: a lone comment (no
   * root at all), and two values in a row. */
  {
    g_autoptr(ConfabToolCall) comment = confab_tool_call_new_from_json_text ("c3", "f", "// nothing");
    g_autoptr(ConfabToolCall) two = confab_tool_call_new_from_json_text ("c4", "f", "{\"a\":1}{\"b\":2}");

    g_assert_null (confab_tool_call_get_arguments (comment));
    g_assert_error (confab_tool_call_get_arguments_error (comment), CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
    g_assert_null (confab_tool_call_get_arguments (two));
    g_assert_nonnull (strstr (confab_tool_call_get_arguments_error (two)->message, "more text follows"));
  }

  /* A lenient value json-glib would read before a second one (the fuzzer
   * found it leaking the first). */
  {
    g_autoptr(ConfabToolCall) dots = confab_tool_call_new_from_json_text ("c5", "f", ".666666666{}");

    g_assert_null (confab_tool_call_get_arguments (dots));
    g_assert_nonnull (strstr (confab_tool_call_get_arguments_error (dots)->message,
                              "The arguments for tool “f” are not valid JSON: line 1, column 1: "));
  }
}

static void
test_assembler_limits (void)
{
  const char * const big_index[] = { "256", "x", "f", "{}", NULL };
  const char * const no_name[] = { "0", "x", "-", "{}", NULL };
  g_autofree char *long_args = g_strnfill (1025, ' ');
  const char * const too_long[] = { "0", "x", "f", long_args, NULL };
  g_autoptr(GError) error = NULL;

  g_assert_null (assemble (big_index, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_clear_error (&error);

  g_assert_null (assemble (no_name, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "without a valid name"));
  g_clear_error (&error);

  g_assert_null (assemble (too_long, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "larger than"));
}

/* Every JSON text from outside goes through confab_json_parse(): one
 * strict value, or an error that says where and what. */
#define ZEROS_100 "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
#define ZEROS_400 ZEROS_100 ZEROS_100 ZEROS_100 ZEROS_100
static const struct
{
  const char *text;
  const char *message;  /* NULL: parses */
} json_cases[] = {
  { "{\"a\": [1, 2.5, \"x\", true, null, 9007199254740993]}", NULL },
  { "  \"text\"\n", NULL },
  { "{}{}", "line 1, column 3: more text follows the JSON value" },
  { "{\"a\":1}\n  {\"b\":2}", "line 2, column 3: more text follows the JSON value" },
  { "[1]2", "line 1, column 4: more text follows the JSON value" },
  /* What json-glib 1.6 would take: several values with a lenient first
   * one, comments, single quotes, leading dots, JavaScript. */
  { ".5{}", "line 1, column 1: " },
  { ".666666666{}", "line 1, column 1: " },
  { "// nothing", "line 1, column 1: " },
  { "/* c */ {}", "line 1, column 1: " },
  { "{'a': 1}{}", "line 1, column " },
  { "var x = {};", "line 1, column " },
  { "{\"a\": this}", "line 1, column 10: unexpected identifier `this', expected value" },
  { "{\n  \"a\": [1,\n  }", "line 3, column 3: unexpected character `}'" },
  { "[1, 2", "line 1, column 5: " },
  /* Columns count characters, not bytes. */
  { "{\"é\": .5}", "line 1, column 7: this is not valid JSON here" },
  { "\"caf\xc3\x28\"", "line 1, column 5: the text is not UTF-8" },
  /* What both parsers would take and then spoil: escapes that are no
   * character, numbers beyond any double. */
  { "[\"ok\", \"a\\ud800b\"]", "line 1, column 10: a \\u escape of half a surrogate pair is not a character" },
  { "\"\\uzzzz\"", "line 1, column 2: this is not an escape a JSON string may have" },
  { "[1, -1e999]", "line 1, column 5: this number is too large" },
  { "{\"n\": 1" ZEROS_400 "}", "line 1, column 7: this number is too large" },
  { "[\"1e999\", 1e-999, 1.5e300, 1e16, 9223372036854775807]", NULL },
};

static void
test_json_parse (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (json_cases); i++)
    {
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *shown = g_strescape (json_cases[i].text, NULL);
      gboolean ok = confab_json_parse (json_cases[i].text, -1, &root, &error);

      /* Escaped: one case is not UTF-8, and the TAP log must stay text. */
      g_test_message ("%.200s", shown);
      if (json_cases[i].message == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_nonnull (root);
        }
      else
        {
          g_assert_false (ok);
          g_assert_null (root);
          g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
          if (!g_str_has_prefix (error->message, json_cases[i].message))
            g_error ("“%s” gave “%s”, expected “%s…”", json_cases[i].text, error->message, json_cases[i].message);
        }
    }
}

static void
test_json_values (void)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);
  JsonArray *array;

  /* 64-bit integers stay whole (cJSON alone would make them doubles). */
  g_assert_true (confab_json_parse ("[9007199254740993, -1, 0.25]", -1, &root, &error));
  g_assert_no_error (error);
  array = json_node_get_array (root);
  g_assert_cmpint (json_array_get_int_element (array, 0), ==, G_GINT64_CONSTANT (9007199254740993));
  g_assert_cmpint (json_array_get_int_element (array, 1), ==, -1);
  g_assert_cmpfloat (json_array_get_double_element (array, 2), ==, 0.25);
  g_clear_pointer (&root, json_node_unref);

  /* Empty text is no value and no error; the length is respected. */
  g_assert_true (confab_json_parse ("", -1, &root, &error));
  g_assert_true (confab_json_parse (" \n\t", -1, &root, &error));
  g_assert_null (root);
  g_assert_true (confab_json_parse ("[1]garbage", 3, &root, &error));
  g_assert_no_error (error);
  g_assert_cmpint (json_array_get_length (json_node_get_array (root)), ==, 1);
  g_clear_pointer (&root, json_node_unref);

  /* Numbers are written back as they were read, as JSON: integers beyond
   * 64 bits become doubles (json-glib alone reads them as -1), and a
   * double whose shortest form is a digit and an exponent moves by one
   * unit in the last place (json-glib alone writes 1e21 as "1e+21.0"). */
  g_assert_true (confab_json_parse ("{\"big\": 100000000000000000000, \"e\": [1e21, -1e-91], \"max\": 9223372036854775807}",
                                    -1, &root, &error));
  g_assert_no_error (error);
  {
    JsonObject *object = json_node_get_object (root);
    g_autofree char *text = json_to_string (root, FALSE);
    g_autoptr(JsonNode) again = NULL;

    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "big"), 1e20, 1e5);
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (json_object_get_array_member (object, "e"), 0), 1e21, 1e6);
    g_assert_cmpint (json_object_get_int_member (object, "max"), ==, G_MAXINT64);
    g_assert_null (strstr (text, "e+21.0"));
    g_assert_null (strstr (text, "e+20.0"));
    g_assert_true (confab_json_parse (text, -1, &again, &error));
    g_assert_no_error (error);
  }
  g_clear_pointer (&root, json_node_unref);

  /* Nesting deeper than a thousand levels is refused, not recursed into. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_assert_false (confab_json_parse (deep->str, deep->len, &root, &error));
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
  g_assert_null (root);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/lines/terminators", test_lines_terminators);
  g_test_add_func ("/lines/bom", test_lines_bom);
  g_test_add_func ("/lines/limit", test_lines_limit);
  g_test_add_func ("/lines/default-limit", test_lines_default_limit);
  g_test_add_func ("/sse/fields", test_sse_fields);
  g_test_add_func ("/sse/dispatch", test_sse_dispatch);
  g_test_add_func ("/sse/utf8-split", test_sse_utf8_split);
  g_test_add_func ("/tool-calls/fragments", test_assembler_fragments);
  g_test_add_func ("/tool-calls/ids-and-names", test_assembler_ids_and_names);
  g_test_add_func ("/tool-calls/bad-arguments", test_assembler_bad_arguments);
  g_test_add_func ("/tool-calls/limits", test_assembler_limits);
  g_test_add_func ("/json/parse", test_json_parse);
  g_test_add_func ("/json/values", test_json_values);

  return g_test_run ();
}
