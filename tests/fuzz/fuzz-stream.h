/* fuzz-stream.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The whole byte -> event pipeline of one reply (framing plus an API
 * decoder) on arbitrary bytes, shared by the per-API targets. Input: one
 * byte that picks the split points (see fuzz-common.h), then the body.
 * Besides the sanitizers, checks every event against the contract in
 * confab-event.h and that the events do not depend on how the body was
 * split.
 */

#pragma once

#include "confab-stream-parser-private.h"
#include "fuzz-common.h"
#include "fuzz-tool-call.h"

/* Small, so that the fuzzer reaches the long-line error. */
#define FUZZ_STREAM_MAX_LINE 4096

typedef ConfabStreamDecoder *(*FuzzDecoderNew) (ConfabEventFunc emit,
                                                gpointer        emit_data,
                                                gsize           max_bytes);

typedef struct
{
  GString  *transcript;
  char     *error;
  gboolean  finished;
} FuzzOutcome;

static void
fuzz_outcome_clear (FuzzOutcome *outcome)
{
  g_string_free (outcome->transcript, TRUE);
  g_free (outcome->error);
}

static void
fuzz_emit_cb (const ConfabEvent *event,
              gpointer           user_data)
{
  FuzzOutcome *outcome = user_data;

  fuzz_check (event != NULL);
  fuzz_check (!outcome->finished);

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
    case CONFAB_EVENT_REASONING_DELTA:
      fuzz_check (event->text != NULL);
      fuzz_check (g_utf8_validate (event->text, event->text_len, NULL));
      g_string_append_printf (outcome->transcript, "%s:%" G_GSIZE_FORMAT ":",
                              event->type == CONFAB_EVENT_TEXT_DELTA ? "text" : "reasoning",
                              event->text_len);
      g_string_append_len (outcome->transcript, event->text, event->text_len);
      g_string_append_c (outcome->transcript, '\n');
      break;

    case CONFAB_EVENT_TOOL_CALL:
      fuzz_check (event->tool_call != NULL);
      fuzz_check_tool_call (event->tool_call, outcome->transcript);
      break;

    case CONFAB_EVENT_USAGE:
      fuzz_check (event->usage != NULL);
      fuzz_check (event->usage->prompt_tokens >= -1);
      fuzz_check (event->usage->completion_tokens >= -1);
      fuzz_check (event->usage->reasoning_tokens >= -1);
      g_string_append_printf (outcome->transcript,
                              "usage:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT "\n",
                              event->usage->prompt_tokens,
                              event->usage->completion_tokens,
                              event->usage->reasoning_tokens);
      break;

    case CONFAB_EVENT_FINISHED:
      fuzz_check (event->finish_reason != NULL && event->finish_reason[0] != '\0');
      g_string_append_printf (outcome->transcript, "finished:%s\n", event->finish_reason);
      outcome->finished = TRUE;
      break;

    case CONFAB_EVENT_ERROR:
      fuzz_check (event->error != NULL);
      g_string_append_printf (outcome->transcript, "error:%s\n", event->error->message);
      outcome->finished = TRUE;
      break;

    default:
      fuzz_check (!"unknown event type");
      break;
    }
}

/* Feeds @data cut by @splitter, or whole when @splitter is NULL. */
static void
fuzz_stream_parse (ConfabStreamFormat  format,
                   FuzzDecoderNew      decoder_new,
                   gsize               max_bytes,
                   const guint8       *data,
                   gsize               size,
                   FuzzSplitter       *splitter,
                   FuzzOutcome        *outcome)
{
  g_autoptr(ConfabStreamParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  gsize offset = 0;

  outcome->transcript = g_string_new (NULL);
  parser = _confab_stream_parser_new (format, FUZZ_STREAM_MAX_LINE,
                                      decoder_new (fuzz_emit_cb, outcome, max_bytes));

  while (ok && offset < size)
    {
      gsize n = splitter != NULL ? fuzz_splitter_next (splitter, size - offset) : size;
      /* A copy of exactly the piece, so ASan sees reads past its end. */
      g_autofree char *piece = g_memdup2 (data + offset, n);

      ok = _confab_stream_parser_feed (parser, piece, n, &error);
      offset += n;
    }
  if (ok)
    ok = _confab_stream_parser_end (parser, &error);

  if (ok)
    {
      /* A reply that ended without error is complete. */
      fuzz_check (error == NULL);
      fuzz_check (outcome->finished);
    }
  else
    {
      fuzz_check (error != NULL && error->message != NULL);
      outcome->error = g_strdup (error->message);
    }
  fuzz_check (_confab_stream_parser_is_finished (parser) == outcome->finished);
}

static inline int
fuzz_stream_run (ConfabStreamFormat  format,
                 FuzzDecoderNew      decoder_new,
                 gsize               max_bytes,
                 const guint8       *data,
                 gsize               size)
{
  FuzzSplitter splitter;
  FuzzOutcome whole = { 0 };
  FuzzOutcome split = { 0 };

  if (size < 1)
    return 0;

  fuzz_splitter_init (&splitter, data[0]);
  fuzz_stream_parse (format, decoder_new, max_bytes, data + 1, size - 1, NULL, &whole);
  fuzz_stream_parse (format, decoder_new, max_bytes, data + 1, size - 1, &splitter, &split);

  if (!g_string_equal (whole.transcript, split.transcript) ||
      g_strcmp0 (whole.error, split.error) != 0)
    {
      g_printerr ("Fed whole:\n%s-> %s\nFed in pieces (seed 0x%02x):\n%s-> %s\n",
                  whole.transcript->str, whole.error ? whole.error : "ok",
                  data[0], split.transcript->str, split.error ? split.error : "ok");
      fuzz_check (!"the events depend on how the body was split");
    }

  fuzz_outcome_clear (&whole);
  fuzz_outcome_clear (&split);

  return 0;
}
