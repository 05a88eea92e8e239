/* confab-line-reader-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 16 MiB: far above any real event, far below what hurts memory. */
#define CONFAB_DEFAULT_MAX_LINE_LENGTH (16 * 1024 * 1024)

/* Called once per complete line, without its terminator. @line is not
 * nul-terminated and is valid only during the call. Return FALSE with
 * @error set to stop.
 */
typedef gboolean (*ConfabLineFunc) (const char  *line,
                                    gsize        len,
                                    gpointer     user_data,
                                    GError     **error);

/* Splits bytes into lines, fed whatever the socket gives. Lines end at
 * LF, CR or CRLF (a CRLF split between two feeds counts once); a UTF-8
 * byte order mark at the very start of the stream is dropped. A line
 * longer than max_line bytes is a CONFAB_ERROR_PROTOCOL error. No I/O;
 * one instance per stream, one thread at a time.
 */
typedef struct
{
  GString  *pending;
  gsize     max_line;
  guint     bom_seen;
  gboolean  bom_done;
  gboolean  skip_lf;
} ConfabLineReader;

void     _confab_line_reader_init   (ConfabLineReader  *self,
                                     gsize              max_line);
void     _confab_line_reader_clear  (ConfabLineReader  *self);
gboolean _confab_line_reader_feed   (ConfabLineReader  *self,
                                     const char        *data,
                                     gsize              len,
                                     ConfabLineFunc     func,
                                     gpointer           user_data,
                                     GError           **error);
gboolean _confab_line_reader_finish (ConfabLineReader  *self,
                                     ConfabLineFunc     func,
                                     gpointer           user_data,
                                     GError           **error);

G_END_DECLS
