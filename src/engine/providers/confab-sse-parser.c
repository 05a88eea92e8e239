/* confab-sse-parser.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "confab-sse-parser-private.h"

void
_confab_sse_parser_init (ConfabSseParser    *self,
                         gsize               max_line,
                         ConfabSseEventFunc  func,
                         gpointer            user_data)
{
  memset (self, 0, sizeof *self);
  _confab_line_reader_init (&self->lines, max_line);
  self->data = g_string_sized_new (512);
  self->event_type = g_string_new (NULL);
  self->retry_ms = -1;
  self->func = func;
  self->user_data = user_data;
}

void
_confab_sse_parser_clear (ConfabSseParser *self)
{
  _confab_line_reader_clear (&self->lines);
  if (self->data != NULL)
    g_string_free (self->data, TRUE);
  if (self->event_type != NULL)
    g_string_free (self->event_type, TRUE);
  g_clear_pointer (&self->last_event_id, g_free);
  self->data = NULL;
  self->event_type = NULL;
}

static gboolean
field_is (const char *name,
          gsize       len,
          const char *field)
{
  return len == strlen (field) && memcmp (name, field, len) == 0;
}

static gboolean
dispatch (ConfabSseParser  *self,
          GError          **error)
{
  gboolean ret = TRUE;

  if (self->have_data)
    {
      /* Every data line appended a LF; the last one is not data. */
      g_string_truncate (self->data, self->data->len - 1);
      ret = self->func (self->event_type->len > 0 ? self->event_type->str : "message",
                        self->data->str, self->data->len,
                        self->user_data, error);
    }

  g_string_truncate (self->data, 0);
  g_string_truncate (self->event_type, 0);
  self->have_data = FALSE;

  return ret;
}

static gboolean
on_line (const char  *line,
         gsize        len,
         gpointer     user_data,
         GError     **error)
{
  ConfabSseParser *self = user_data;
  const char *colon;
  const char *value;
  gsize name_len;
  gsize value_len;

  if (len == 0)
    return dispatch (self, error);

  if (line[0] == ':')
    return TRUE;

  colon = memchr (line, ':', len);
  if (colon != NULL)
    {
      name_len = colon - line;
      value = colon + 1;
      value_len = len - name_len - 1;
      if (value_len > 0 && value[0] == ' ')
        {
          value++;
          value_len--;
        }
    }
  else
    {
      name_len = len;
      value = "";
      value_len = 0;
    }

  if (field_is (line, name_len, "data"))
    {
      g_string_append_len (self->data, value, value_len);
      g_string_append_c (self->data, '\n');
      self->have_data = TRUE;
    }
  else if (field_is (line, name_len, "event"))
    {
      g_string_truncate (self->event_type, 0);
      g_string_append_len (self->event_type, value, value_len);
    }
  else if (field_is (line, name_len, "id"))
    {
      if (memchr (value, '\0', value_len) == NULL)
        {
          g_free (self->last_event_id);
          self->last_event_id = g_strndup (value, value_len);
        }
    }
  else if (field_is (line, name_len, "retry"))
    {
      gint64 ms = 0;
      gsize i;

      for (i = 0; i < value_len && g_ascii_isdigit (value[i]) && ms < G_MAXINT64 / 10 - 10; i++)
        ms = ms * 10 + (value[i] - '0');
      if (i == value_len && value_len > 0)
        self->retry_ms = ms;
    }
  /* Any other field is ignored, as the rules say. */

  return TRUE;
}

gboolean
_confab_sse_parser_feed (ConfabSseParser  *self,
                         const char       *data,
                         gsize             len,
                         GError          **error)
{
  return _confab_line_reader_feed (&self->lines, data, len, on_line, self, error);
}

/* At the end of the stream: a last line without terminator is still a
 * field, but an event without its blank line is not dispatched. */
gboolean
_confab_sse_parser_finish (ConfabSseParser  *self,
                           GError          **error)
{
  if (!_confab_line_reader_finish (&self->lines, on_line, self, error))
    return FALSE;
  g_string_truncate (self->data, 0);
  g_string_truncate (self->event_type, 0);
  self->have_data = FALSE;
  return TRUE;
}

const char *
_confab_sse_parser_get_last_event_id (ConfabSseParser *self)
{
  return self->last_event_id;
}

gint64
_confab_sse_parser_get_retry (ConfabSseParser *self)
{
  return self->retry_ms;
}
