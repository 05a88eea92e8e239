/* confab-stream-parser.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-error.h"
#include "confab-cjson-private.h"
#include "confab-stream-parser-private.h"

struct _ConfabStreamParser
{
  ConfabStreamFormat   format;
  ConfabStreamDecoder *decoder;
  union {
    ConfabSseParser  sse;
    ConfabLineReader lines;
  } u;
  GString             *body;
  gsize                max_line;
};

gboolean
_confab_stream_decoder_emit_text (ConfabStreamDecoder  *self,
                                  ConfabEventType       type,
                                  const char           *text,
                                  gsize                 len,
                                  GError              **error)
{
  ConfabEvent event = { .type = type, .text = text, .text_len = len };
  const char *bad;

  if (len == 0)
    return TRUE;

  if (!g_utf8_validate (text, len, &bad))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                   /* Translators: 0x%02x is the first invalid byte, in hexadecimal. */
                   _("The server sent text that is not valid UTF-8 (byte 0x%02x)"),
                   (guchar)*bad);
      return FALSE;
    }

  self->emit (&event, self->emit_data);
  return TRUE;
}

void
_confab_stream_decoder_emit_tool_call (ConfabStreamDecoder *self,
                                       ConfabToolCall      *call)
{
  ConfabEvent event = { .type = CONFAB_EVENT_TOOL_CALL, .tool_call = call };

  self->had_tool_calls = TRUE;
  self->emit (&event, self->emit_data);
}

void
_confab_stream_decoder_emit_usage (ConfabStreamDecoder *self,
                                   const ConfabUsage   *usage)
{
  ConfabEvent event = { .type = CONFAB_EVENT_USAGE, .usage = usage };

  self->emit (&event, self->emit_data);
}

void
_confab_stream_decoder_emit_finished (ConfabStreamDecoder *self,
                                      const char          *reason)
{
  ConfabEvent event = { .type = CONFAB_EVENT_FINISHED };

  if (reason == NULL || reason[0] == '\0')
    reason = "stop";
  if (self->had_tool_calls && g_str_equal (reason, "stop"))
    reason = "tool_calls";
  event.finish_reason = reason;

  self->finished = TRUE;
  self->emit (&event, self->emit_data);
}

void
_confab_stream_decoder_free (ConfabStreamDecoder *self)
{
  if (self != NULL)
    self->klass->free (self);
}

gboolean
_confab_stream_decoder_ended_early (ConfabStreamDecoder  *self,
                                    GError              **error)
{
  g_set_error_literal (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       _("The server closed the stream before the reply was complete"));
  return FALSE;
}

static gboolean
on_sse_event (const char  *event_type,
              const char  *data,
              gsize        len,
              gpointer     user_data,
              GError     **error)
{
  ConfabStreamDecoder *decoder = user_data;

  if (decoder->finished)
    return TRUE;
  return decoder->klass->message (decoder, event_type, data, len, error);
}

static gboolean
on_ndjson_line (const char  *line,
                gsize        len,
                gpointer     user_data,
                GError     **error)
{
  ConfabStreamDecoder *decoder = user_data;
  gsize i;

  if (decoder->finished)
    return TRUE;
  for (i = 0; i < len && g_ascii_isspace (line[i]); i++)
    ;
  if (i == len)
    return TRUE;
  return decoder->klass->message (decoder, NULL, line, len, error);
}

/**
 * _confab_stream_parser_new:
 * @decoder: (transfer full): the API decoder
 */
ConfabStreamParser *
_confab_stream_parser_new (ConfabStreamFormat   format,
                           gsize                max_line,
                           ConfabStreamDecoder *decoder)
{
  ConfabStreamParser *self = g_new0 (ConfabStreamParser, 1);

  self->format = format;
  self->decoder = decoder;
  self->max_line = max_line > 0 ? max_line : CONFAB_DEFAULT_MAX_LINE_LENGTH;
  if (format == CONFAB_STREAM_FORMAT_SSE)
    _confab_sse_parser_init (&self->u.sse, max_line, on_sse_event, decoder);
  else if (format == CONFAB_STREAM_FORMAT_NDJSON)
    _confab_line_reader_init (&self->u.lines, max_line);
  else
    self->body = g_string_new (NULL);

  return self;
}

void
_confab_stream_parser_free (ConfabStreamParser *self)
{
  if (self == NULL)
    return;
  if (self->format == CONFAB_STREAM_FORMAT_SSE)
    _confab_sse_parser_clear (&self->u.sse);
  else if (self->format == CONFAB_STREAM_FORMAT_NDJSON)
    _confab_line_reader_clear (&self->u.lines);
  if (self->body != NULL)
    g_string_free (self->body, TRUE);
  _confab_stream_decoder_free (self->decoder);
  g_free (self);
}

/* Whatever follows the reply's final event in the same read (a garbage
 * line, an overlong one) does not undo a finished reply: the result must
 * not depend on how the bytes were split. */
static gboolean
finished_anyway (ConfabStreamParser  *self,
                 GError             **error)
{
  if (!self->decoder->finished)
    return FALSE;
  g_clear_error (error);
  return TRUE;
}

gboolean
_confab_stream_parser_feed (ConfabStreamParser  *self,
                            const char          *data,
                            gsize                len,
                            GError             **error)
{
  if (self->decoder->finished)
    return TRUE;
  if (self->format == CONFAB_STREAM_FORMAT_SSE)
    return _confab_sse_parser_feed (&self->u.sse, data, len, error) || finished_anyway (self, error);
  if (self->format == CONFAB_STREAM_FORMAT_JSON)
    {
      if (self->body->len + len > self->max_line)
        {
          g_autofree char *limit = g_format_size_full (self->max_line, G_FORMAT_SIZE_IEC_UNITS);
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       /* Translators: %s is a size, such as “16 MiB”. */
                       _("The server sent a reply larger than %s"), limit);
          return FALSE;
        }
      g_string_append_len (self->body, data, len);
      return TRUE;
    }
  return _confab_line_reader_feed (&self->u.lines, data, len, on_ndjson_line, self->decoder, error) ||
         finished_anyway (self, error);
}

gboolean
_confab_stream_parser_end (ConfabStreamParser  *self,
                           GError             **error)
{
  gboolean ok;

  if (self->decoder->finished)
    return TRUE;

  if (self->format == CONFAB_STREAM_FORMAT_SSE)
    ok = _confab_sse_parser_finish (&self->u.sse, error);
  else if (self->format == CONFAB_STREAM_FORMAT_JSON)
    ok = self->decoder->klass->message (self->decoder, NULL, self->body->str, self->body->len, error);
  else
    ok = _confab_line_reader_finish (&self->u.lines, on_ndjson_line, self->decoder, error);

  if (!ok)
    return finished_anyway (self, error);
  if (self->decoder->finished)
    return TRUE;
  return self->decoder->klass->end (self->decoder, error);
}

void
_confab_stream_parser_expect_json_body (ConfabStreamParser *self)
{
  /* One JSON document is a valid NDJSON stream already, and a stream of
   * lines mislabelled as JSON must stay a stream. */
  if (self->format == CONFAB_STREAM_FORMAT_NDJSON)
    return;

  if (self->format == CONFAB_STREAM_FORMAT_SSE)
    _confab_sse_parser_clear (&self->u.sse);
  else if (self->format == CONFAB_STREAM_FORMAT_NDJSON)
    _confab_line_reader_clear (&self->u.lines);
  memset (&self->u, 0, sizeof self->u);
  self->format = CONFAB_STREAM_FORMAT_JSON;
  if (self->body == NULL)
    self->body = g_string_new (NULL);
}

gboolean
_confab_stream_parser_is_finished (ConfabStreamParser *self)
{
  return self->decoder->finished;
}

cJSON *
_confab_cjson_parse_object (const char  *data,
                            gsize        len,
                            GError     **error)
{
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts (data, len, &end, FALSE);

  /* Something after the value (two objects on one line) is as malformed
   * as a broken value: nothing may be dropped silently. */
  if (root != NULL && end != NULL)
    {
      while (end < data + len && g_ascii_isspace (*end))
        end++;
      if (end < data + len)
        g_clear_pointer (&root, cJSON_Delete);
    }

  if (root == NULL || !cJSON_IsObject (root))
    {
      g_autofree char *quoted = NULL;
      gsize show = MIN (len, 80);

      /* Quote at most 80 bytes, cut at a character boundary. */
      while (show > 0 && !g_utf8_validate (data, show, NULL))
        show--;
      quoted = g_strndup (data, show);
      cJSON_Delete (root);
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                   /* Translators: the first %s is the start of what the server sent;
                    * the second is “…” when that was cut short, otherwise empty. */
                   _("The server sent malformed JSON in the stream: “%s%s”"),
                   quoted, show < len ? "…" : "");
      return NULL;
    }

  return root;
}

const char *
_confab_cjson_error_message (const cJSON *error_item)
{
  const char *message;

  if (cJSON_IsString (error_item))
    return error_item->valuestring;
  if ((message = confab_cjson_string (error_item, "message")) != NULL)
    return message;
  return _("unknown error");
}
