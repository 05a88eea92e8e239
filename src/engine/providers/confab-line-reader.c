/* confab-line-reader.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-error.h"
#include "confab-line-reader-private.h"

static const guchar bom[3] = { 0xEF, 0xBB, 0xBF };

void
_confab_line_reader_init (ConfabLineReader *self,
                          gsize             max_line)
{
  memset (self, 0, sizeof *self);
  self->pending = g_string_new (NULL);
  self->max_line = max_line > 0 ? max_line : CONFAB_DEFAULT_MAX_LINE_LENGTH;
}

void
_confab_line_reader_clear (ConfabLineReader *self)
{
  if (self->pending != NULL)
    g_string_free (self->pending, TRUE);
  self->pending = NULL;
}

static gboolean
line_too_long (ConfabLineReader  *self,
               GError           **error)
{
  g_autofree char *limit = g_format_size_full (self->max_line, G_FORMAT_SIZE_IEC_UNITS);

  g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
               /* Translators: %s is a size, such as “16 MiB”. */
               _("The server sent a line longer than %s"), limit);
  return FALSE;
}

/* Returns the first CR or LF in [p, end), or NULL. Two memchr passes are
 * faster than one byte loop on the long lines of a stream.
 */
static const char *
find_eol (const char *p,
          const char *end)
{
  const char *lf = memchr (p, '\n', end - p);
  const char *cr = memchr (p, '\r', (lf != NULL ? lf : end) - p);

  return cr != NULL ? cr : lf;
}

gboolean
_confab_line_reader_feed (ConfabLineReader  *self,
                          const char        *data,
                          gsize              len,
                          ConfabLineFunc     func,
                          gpointer           user_data,
                          GError           **error)
{
  const char *p = data;
  const char *end = data + len;

  g_assert (self->pending != NULL);

  /* Strip a byte order mark at the start of the stream, which may itself
   * arrive split; bytes that only looked like its start are kept. */
  while (!self->bom_done && p < end)
    {
      if ((guchar)*p == bom[self->bom_seen])
        {
          p++;
          if (++self->bom_seen == sizeof bom)
            self->bom_done = TRUE;
        }
      else
        {
          g_string_append_len (self->pending, (const char *)bom, self->bom_seen);
          self->bom_done = TRUE;
        }
    }

  if (self->skip_lf && p < end)
    {
      self->skip_lf = FALSE;
      if (*p == '\n')
        p++;
    }

  while (p < end)
    {
      const char *eol = find_eol (p, end);

      if (eol == NULL)
        {
          if (self->pending->len + (end - p) > self->max_line)
            return line_too_long (self, error);
          g_string_append_len (self->pending, p, end - p);
          break;
        }

      if (self->pending->len == 0)
        {
          if ((gsize)(eol - p) > self->max_line)
            return line_too_long (self, error);
          if (!func (p, eol - p, user_data, error))
            return FALSE;
        }
      else
        {
          if (self->pending->len + (eol - p) > self->max_line)
            return line_too_long (self, error);
          g_string_append_len (self->pending, p, eol - p);
          if (!func (self->pending->str, self->pending->len, user_data, error))
            return FALSE;
          g_string_truncate (self->pending, 0);
        }

      p = eol + 1;
      if (*eol == '\r')
        {
          if (p == end)
            self->skip_lf = TRUE;
          else if (*p == '\n')
            p++;
        }
    }

  return TRUE;
}

/* At the end of the stream: delivers a last line that had no terminator. */
gboolean
_confab_line_reader_finish (ConfabLineReader  *self,
                            ConfabLineFunc     func,
                            gpointer           user_data,
                            GError           **error)
{
  g_autoptr(GString) rest = NULL;

  g_assert (self->pending != NULL);

  if (!self->bom_done && self->bom_seen > 0)
    g_string_append_len (self->pending, (const char *)bom, self->bom_seen);
  self->bom_done = TRUE;

  if (self->pending->len == 0)
    return TRUE;

  rest = g_steal_pointer (&self->pending);
  self->pending = g_string_new (NULL);
  return func (rest->str, rest->len, user_data, error);
}
