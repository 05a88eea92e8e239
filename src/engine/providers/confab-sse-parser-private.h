/* confab-sse-parser-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-line-reader-private.h"

G_BEGIN_DECLS

/* Called once per dispatched event. @event_type is "message" when the
 * server named none; @data is nul-terminated (embedded nuls possible),
 * valid only during the call. Return FALSE with @error set to stop.
 */
typedef gboolean (*ConfabSseEventFunc) (const char  *event_type,
                                        const char  *data,
                                        gsize        data_len,
                                        gpointer     user_data,
                                        GError     **error);

/* A server-sent events parser following the WHATWG event-stream rules:
 * "data", "event", "id" and "retry" fields, comment lines, LF/CR/CRLF,
 * multi-line data, a leading BOM. An event still open when the stream
 * ends is dropped, as the rules say. No I/O; one thread at a time.
 */
typedef struct
{
  ConfabLineReader    lines;
  GString            *data;
  GString            *event_type;
  char               *last_event_id;
  gint64              retry_ms;
  gboolean            have_data;
  ConfabSseEventFunc  func;
  gpointer            user_data;
} ConfabSseParser;

void        _confab_sse_parser_init              (ConfabSseParser     *self,
                                                  gsize                max_line,
                                                  ConfabSseEventFunc   func,
                                                  gpointer             user_data);
void        _confab_sse_parser_clear             (ConfabSseParser     *self);
gboolean    _confab_sse_parser_feed              (ConfabSseParser     *self,
                                                  const char          *data,
                                                  gsize                len,
                                                  GError             **error);
gboolean    _confab_sse_parser_finish            (ConfabSseParser     *self,
                                                  GError             **error);
const char *_confab_sse_parser_get_last_event_id (ConfabSseParser     *self);
gint64      _confab_sse_parser_get_retry         (ConfabSseParser     *self);

G_END_DECLS
