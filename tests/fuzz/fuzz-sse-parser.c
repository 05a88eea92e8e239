/* fuzz-sse-parser.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The WHATWG event-stream parser on arbitrary bytes. Input: one byte
 * that picks the split points (see fuzz-common.h), then the stream.
 * Besides the sanitizers, checks that every event is well formed and
 * that the events do not depend on how the stream was split.
 */

#include "config.h"

#include "confab-sse-parser-private.h"
#include "fuzz-common.h"

/* Small, so that the fuzzer reaches the long-line error. */
#define MAX_LINE 4096

typedef struct
{
  GString *transcript;
  char    *error;
  char    *last_event_id;
  gint64   retry;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_string_free (outcome->transcript, TRUE);
  g_free (outcome->error);
  g_free (outcome->last_event_id);
}

static gboolean
event_cb (const char  *event_type,
          const char  *data,
          gsize        data_len,
          gpointer     user_data,
          GError     **error)
{
  Outcome *outcome = user_data;

  fuzz_check (event_type != NULL);
  fuzz_check (data != NULL);
  fuzz_check (data[data_len] == '\0');
  /* A field value never holds a line end. (The type may still read as
   * "": a server-sent name that starts with a nul byte.) */
  fuzz_check (strpbrk (event_type, "\r\n") == NULL);
  fuzz_check (memchr (data, '\r', data_len) == NULL);

  g_string_append_printf (outcome->transcript, "%s:%" G_GSIZE_FORMAT ":", event_type, data_len);
  g_string_append_len (outcome->transcript, data, data_len);
  g_string_append_c (outcome->transcript, '\n');

  return TRUE;
}

/* Feeds @data cut by @splitter, or whole when @splitter is NULL. */
static void
parse (const guint8 *data,
       gsize         size,
       FuzzSplitter *splitter,
       Outcome      *outcome)
{
  ConfabSseParser parser;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  gsize offset = 0;

  outcome->transcript = g_string_new (NULL);
  _confab_sse_parser_init (&parser, MAX_LINE, event_cb, outcome);

  while (ok && offset < size)
    {
      gsize n = splitter != NULL ? fuzz_splitter_next (splitter, size - offset) : size;
      /* A copy of exactly the piece, so ASan sees reads past its end. */
      g_autofree char *piece = g_memdup2 (data + offset, n);

      ok = _confab_sse_parser_feed (&parser, piece, n, &error);
      offset += n;
    }
  if (ok)
    ok = _confab_sse_parser_finish (&parser, &error);

  if (!ok)
    {
      fuzz_check (error != NULL);
      outcome->error = g_strdup (error->message);
    }
  else
    fuzz_check (error == NULL);

  outcome->last_event_id = g_strdup (_confab_sse_parser_get_last_event_id (&parser));
  outcome->retry = _confab_sse_parser_get_retry (&parser);
  fuzz_check (outcome->retry >= -1);

  _confab_sse_parser_clear (&parser);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzSplitter splitter;
  Outcome whole = { 0 };
  Outcome split = { 0 };

  if (size < 1)
    return 0;

  fuzz_splitter_init (&splitter, data[0]);
  parse (data + 1, size - 1, NULL, &whole);
  parse (data + 1, size - 1, &splitter, &split);

  if (!g_string_equal (whole.transcript, split.transcript) ||
      g_strcmp0 (whole.error, split.error) != 0 ||
      g_strcmp0 (whole.last_event_id, split.last_event_id) != 0 ||
      whole.retry != split.retry)
    {
      g_printerr ("Fed whole:\n%s-> %s (id %s, retry %" G_GINT64_FORMAT ")\n"
                  "Fed in pieces (seed 0x%02x):\n%s-> %s (id %s, retry %" G_GINT64_FORMAT ")\n",
                  whole.transcript->str, whole.error ? whole.error : "ok",
                  whole.last_event_id ? whole.last_event_id : "none", whole.retry,
                  data[0], split.transcript->str, split.error ? split.error : "ok",
                  split.last_event_id ? split.last_event_id : "none", split.retry);
      fuzz_check (!"the events depend on how the stream was split");
    }

  outcome_clear (&whole);
  outcome_clear (&split);

  return 0;
}
