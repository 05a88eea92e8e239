/* confab-stream-parser-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-event.h"
#include "confab-sse-parser-private.h"
#include "confab-tool-call-assembler-private.h"

G_BEGIN_DECLS

typedef enum
{
  CONFAB_STREAM_FORMAT_SSE,
  CONFAB_STREAM_FORMAT_NDJSON,
  /* One JSON document, the whole body: what a server sends when it
   * ignores "stream": true. */
  CONFAB_STREAM_FORMAT_JSON,
} ConfabStreamFormat;

typedef struct _ConfabStreamDecoder ConfabStreamDecoder;

/* A decoder turns one API's stream messages (an SSE event or an NDJSON
 * line) into Confab events. Pure: no I/O, no main loop.
 *
 * message: one SSE event (event_type set) or NDJSON line (event_type NULL);
 *   return FALSE with @error set when the message is malformed or is the
 *   server's own error report.
 * end: the stream ended (EOF); return FALSE with @error set when the
 *   reply was not complete.
 */
typedef struct
{
  gboolean (*message) (ConfabStreamDecoder  *self,
                       const char           *event_type,
                       const char           *data,
                       gsize                 len,
                       GError              **error);
  gboolean (*end)     (ConfabStreamDecoder  *self,
                       GError              **error);
  void     (*free)    (ConfabStreamDecoder  *self);
} ConfabStreamDecoderClass;

struct _ConfabStreamDecoder
{
  const ConfabStreamDecoderClass *klass;
  ConfabEventFunc                 emit;
  gpointer                        emit_data;
  /* Set once FINISHED was emitted; later bytes are ignored. */
  gboolean                        finished;
  /* Tool calls have been emitted; "stop" then reads "tool_calls". */
  gboolean                        had_tool_calls;
};

/* Helpers for decoders. */
gboolean _confab_stream_decoder_emit_text      (ConfabStreamDecoder  *self,
                                                ConfabEventType       type,
                                                const char           *text,
                                                gsize                 len,
                                                GError              **error);
void     _confab_stream_decoder_emit_tool_call (ConfabStreamDecoder  *self,
                                                ConfabToolCall       *call);
void     _confab_stream_decoder_emit_usage     (ConfabStreamDecoder  *self,
                                                const ConfabUsage    *usage);
void     _confab_stream_decoder_emit_finished  (ConfabStreamDecoder  *self,
                                                const char           *reason);
void     _confab_stream_decoder_free           (ConfabStreamDecoder  *self);
gboolean _confab_stream_decoder_ended_early    (ConfabStreamDecoder  *self,
                                                GError              **error);

ConfabStreamDecoder *_confab_openai_decoder_new    (ConfabEventFunc emit,
                                                    gpointer        emit_data,
                                                    gsize           max_bytes);
ConfabStreamDecoder *_confab_ollama_decoder_new    (ConfabEventFunc emit,
                                                    gpointer        emit_data,
                                                    gsize           max_bytes);
ConfabStreamDecoder *_confab_anthropic_decoder_new (ConfabEventFunc emit,
                                                    gpointer        emit_data,
                                                    gsize           max_bytes);

/* The whole byte -> event pipeline of one reply: framing (SSE or NDJSON)
 * plus an API decoder. Pure; feed it whatever the socket gives.
 */
typedef struct _ConfabStreamParser ConfabStreamParser;

ConfabStreamParser *_confab_stream_parser_new         (ConfabStreamFormat    format,
                                                       gsize                 max_line,
                                                       ConfabStreamDecoder  *decoder);
void                _confab_stream_parser_free        (ConfabStreamParser   *self);
gboolean            _confab_stream_parser_feed        (ConfabStreamParser   *self,
                                                       const char           *data,
                                                       gsize                 len,
                                                       GError              **error);
gboolean            _confab_stream_parser_end         (ConfabStreamParser   *self,
                                                       GError              **error);
gboolean            _confab_stream_parser_is_finished (ConfabStreamParser   *self);
/* Before the first feed: the body is one JSON document, not a stream. */
void                _confab_stream_parser_expect_json_body (ConfabStreamParser *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfabStreamParser, _confab_stream_parser_free)

G_END_DECLS
