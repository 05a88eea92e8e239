/* confab-json.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-error.h"
#include "confab-json.h"

/* Every JSON text Confab did not write itself (tool arguments, MCP
 * messages, error bodies, model lists, configuration and export files)
 * goes through confab_json_parse().
 *
 * json-glib 1.6 is lenient in ways that matter here: it accepts several
 * values in a row ("{}{}" parses, and the values before the last one are
 * leaked), comments, single quotes and numbers such as ".5". cJSON is
 * strict and says where the first value ends, so it decides what is one
 * JSON value; json-glib then builds the tree (keeping 64-bit integers
 * whole) from a text it will read as exactly that value, or explains what
 * is wrong with a text cJSON refused.
 */

static gboolean
is_json_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '$' || (guchar)c >= 0x80;
}

static void
locate (const char *data,
        gsize       offset,
        guint      *line,
        guint      *column)
{
  const char *line_start = data;

  *line = 1;
  for (gsize i = 0; i < offset; i++)
    if (data[i] == '\n')
      {
        (*line)++;
        line_start = data + i + 1;
      }
  /* Characters, not bytes: what an editor shows. */
  *column = (guint)g_utf8_strlen (line_start, data + offset - line_start) + 1;
}

static void
set_error_at (GError    **error,
              const char *data,
              gsize       offset,
              const char *reason)
{
  guint line, column;

  locate (data, offset, &line, &column);
  g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
               /* Translators: a line and a column number in a JSON text, then
                * what is wrong there. */
               _("line %u, column %u: %s"), line, column, reason);
}

/* json-glib's messages read "<data>:LINE:COLUMN: Parse error: WHAT". */
static gboolean
split_json_glib_message (const char  *message,
                         guint       *line,
                         guint       *column,
                         const char **what)
{
  guint64 l, c;
  char *end;

  if (!g_str_has_prefix (message, "<data>:"))
    return FALSE;
  l = g_ascii_strtoull (message + strlen ("<data>:"), &end, 10);
  if (*end != ':')
    return FALSE;
  c = g_ascii_strtoull (end + 1, &end, 10);
  if (l == 0 || l > G_MAXUINT || c > G_MAXUINT || !g_str_has_prefix (end, ": "))
    return FALSE;

  *line = (guint)l;
  *column = (guint)c;
  *what = end + 2;
  if (g_str_has_prefix (*what, "Parse error: "))
    *what += strlen ("Parse error: ");
  return TRUE;
}

static gint
hex_value (const char *p,
           const char *end)
{
  gint value = 0;

  if (end - p < 4)
    return -1;
  for (guint i = 0; i < 4; i++)
    {
      gint digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

/* json-glib 1.6 reads an integer beyond 64 bits as -1, and writes a
 * double whose shortest exact form is a digit and an exponent as, say,
 * "1e+20.0", which is no JSON; Confab writes what it read back to servers
 * (tool arguments go back with the conversation, MCP tools' schemas go to
 * the model). So integers beyond 64 bits are read as doubles (as most JSON
 * readers do), those doubles move to the nearest double that json-glib
 * writes correctly (one unit in the last place, in the 17th digit), and
 * only numbers beyond any double (1e999) are refused. */
static const char *
check_number (const char *start,
              gsize       len,
              gboolean   *beyond_int64)
{
  g_autofree char *token = g_strndup (start, len);
  char *end;

  *beyond_int64 = FALSE;
  errno = 0;
  if (strpbrk (token, ".eE") == NULL)
    {
      g_ascii_strtoll (token, &end, 10);
      if (errno != ERANGE)
        return NULL;
      *beyond_int64 = TRUE;
    }

  if (!isfinite (g_ascii_strtod (token, &end)))
    return _("this number is too large");
  return NULL;
}

static gboolean
writes_as_json (double value)
{
  char formatted[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (formatted, sizeof formatted, "%.17g", value);
  return strchr (formatted, 'e') == NULL || strchr (formatted, '.') != NULL;
}

static void
make_numbers_writable (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        JsonNode *member;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, NULL, &member))
          make_numbers_writable (member);
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          make_numbers_writable (json_array_get_element (array, i));
      }
      break;

    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
        {
          double value = json_node_get_double (node);

          while (!writes_as_json (value))
            value = nextafter (value, 0.0);
          json_node_set_double (node, value);
        }
      break;

    case JSON_NODE_NULL:
    default:
      break;
    }
}

/* Both parsers take escapes that are no character: cJSON reads "\uzzzz"
 * as a nul, json-glib keeps half a surrogate pair as bytes that are not
 * UTF-8. Returns where the first such escape (or, with @big_integers, a
 * number beyond any double) is, or -1, and adds where each integer beyond
 * 64 bits ends to @big_integers. A string that never ends is left for the
 * parsers to report. */
static gssize
find_bad_token (const char  *data,
                gsize        length,
                GArray      *big_integers,
                const char **reason)
{
  const char *end = data + length;
  gboolean in_string = FALSE;

  for (const char *p = data; p < end; p++)
    {
      gint unit;

      if (*p == '"')
        in_string = !in_string;

      if (!in_string)
        {
          if (big_integers != NULL && (*p == '-' || g_ascii_isdigit (*p)))
            {
              const char *q = p;
              gboolean beyond_int64;

              while (q < end && (g_ascii_isdigit (*q) || strchr ("+-.eE", *q) != NULL) && *q != '\0')
                q++;
              *reason = check_number (p, q - p, &beyond_int64);
              if (*reason != NULL)
                return p - data;
              if (beyond_int64)
                {
                  gsize integer_end = q - data;

                  g_array_append_val (big_integers, integer_end);
                }
              p = q - 1;
            }
          continue;
        }

      if (*p != '\\')
        continue;
      if (p + 1 >= end)
        return -1;
      if (strchr ("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0')
        {
          p++;
          continue;
        }
      unit = p[1] == 'u' ? hex_value (p + 2, end) : -1;
      if (unit < 0)
        {
          *reason = _("this is not an escape a JSON string may have");
          return p - data;
        }
      if (unit >= 0xD800 && unit <= 0xDBFF &&
          end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
          hex_value (p + 8, end) >= 0xDC00 && hex_value (p + 8, end) <= 0xDFFF)
        p += 11;
      else if (unit >= 0xD800 && unit <= 0xDFFF)
        {
          *reason = _("a \\u escape of half a surrogate pair is not a character");
          return p - data;
        }
      else
        p += 5;
    }
  return -1;
}

/* cJSON refused @data at @offset. json-glib explains why, from the text
 * up to the end of the word there (so "this" is named whole) and one more
 * character. That prefix holds no complete value before @offset (cJSON
 * would have ended it), so json-glib cannot read two values from it. Its
 * explanation is used unless it is about where the prefix ends, which is
 * not where the text ends. */
static void
explain_refusal (const char  *data,
                 gsize        length,
                 gsize        offset,
                 GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) parse_error = NULL;
  guint line, column, last_line, last_column;
  const char *what;
  gsize prefix;

  offset = MIN (offset, length - 1);
  prefix = offset;
  while (prefix < length && is_word_char (data[prefix]))
    prefix++;
  if (prefix < length)
    prefix = g_utf8_next_char (data + prefix) - data;
  prefix = MIN (prefix, length);

  if (!json_parser_load_from_data (parser, data, prefix, &parse_error) &&
      split_json_glib_message (parse_error->message, &line, &column, &what))
    {
      locate (data, g_utf8_prev_char (data + prefix) - data, &last_line, &last_column);
      if (prefix == length || line < last_line || (line == last_line && column < last_column))
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("line %u, column %u: %s"), line, column, what);
          return;
        }
    }

  set_error_at (error, data, offset, _("this is not valid JSON here"));
}

/**
 * confab_json_parse:
 * @data: JSON text, which must be UTF-8
 * @length: the length of @data in bytes, or -1 if it is nul-terminated
 * @root: (out) (transfer full) (nullable): the value, or %NULL when @data
 *   holds only white space
 * @error: on failure, a message that starts with the line and column of
 *   the problem (callers put what the text was in front of it)
 *
 * Parses exactly one strict JSON value (RFC 8259): several values, text
 * after the value, comments, single-quoted strings and nesting deeper
 * than 1,000 levels are errors. Any thread.
 *
 * Returns: whether @data is empty or one JSON value
 */
gboolean
confab_json_parse (const char  *data,
                   gssize       length,
                   JsonNode   **root,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GArray) big_integers = NULL;
  g_autoptr(GString) text = NULL;
  const char *invalid = NULL;
  const char *reason = NULL;
  const char *end = NULL;
  gssize bad_token;
  cJSON *value;
  gsize len;
  gsize i;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (root != NULL, FALSE);

  *root = NULL;
  len = length < 0 ? strlen (data) : (gsize)length;

  if (!g_utf8_validate_len (data, len, &invalid))
    {
      set_error_at (error, data, invalid - data, _("the text is not UTF-8"));
      return FALSE;
    }

  for (i = 0; i < len && is_json_space (data[i]); i++)
    ;
  if (i == len)
    return TRUE;

  bad_token = find_bad_token (data, len, NULL, &reason);
  if (bad_token >= 0)
    {
      set_error_at (error, data, bad_token, reason);
      return FALSE;
    }

  value = cJSON_ParseWithLengthOpts (data, len, &end, FALSE);
  if (value == NULL)
    {
      explain_refusal (data, len, end != NULL ? (gsize)(end - data) : i, error);
      return FALSE;
    }
  cJSON_Delete (value);

  for (i = end - data; i < len && is_json_space (data[i]); i++)
    ;
  if (i < len)
    {
      set_error_at (error, data, i, _("more text follows the JSON value"));
      return FALSE;
    }

  big_integers = g_array_new (FALSE, FALSE, sizeof (gsize));
  bad_token = find_bad_token (data, len, big_integers, &reason);
  if (bad_token >= 0)
    {
      set_error_at (error, data, bad_token, reason);
      return FALSE;
    }

  /* "100000000000000000000" becomes "100000000000000000000.0" for
   * json-glib, which reads it as a double then. */
  if (big_integers->len > 0)
    {
      gsize from = 0;

      text = g_string_sized_new (len + 2 * big_integers->len);
      for (guint j = 0; j < big_integers->len; j++)
        {
          gsize to = g_array_index (big_integers, gsize, j);

          g_string_append_len (text, data + from, to - from);
          g_string_append (text, ".0");
          from = to;
        }
      g_string_append_len (text, data + from, len - from);
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text != NULL ? text->str : data, text != NULL ? text->len : len, &parse_error))
    {
      guint line, column;
      const char *what;

      if (split_json_glib_message (parse_error->message, &line, &column, &what))
        g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                     _("line %u, column %u: %s"), line, column, what);
      else
        g_set_error_literal (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT, parse_error->message);
      return FALSE;
    }

  *root = json_parser_steal_root (parser);
  make_numbers_writable (*root);
  return TRUE;
}
