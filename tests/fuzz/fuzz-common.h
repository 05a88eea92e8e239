/* fuzz-common.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by the libFuzzer targets: a log writer that turns GLib
 * warnings into aborts, and the splitter that cuts an input into the
 * pieces a socket could have delivered.
 */

#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

/* GLib criticals and warnings end in G_BREAKPOINT (SIGTRAP) or nothing
 * at all, neither of which libFuzzer records as a crash; abort() is. */
static GLogWriterOutput
fuzz_log_writer_cb (GLogLevelFlags   log_level,
                    const GLogField *fields,
                    gsize            n_fields,
                    gpointer         user_data)
{
  if (log_level & (G_LOG_FLAG_FATAL | G_LOG_LEVEL_ERROR |
                   G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static inline void
fuzz_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_writer_func (fuzz_log_writer_cb, NULL, NULL);
}

/* Reports a broken invariant as a crash libFuzzer records, whatever
 * G_DISABLE_ASSERT says. */
#define fuzz_check(expr) \
  G_STMT_START \
    { \
      if (G_UNLIKELY (!(expr))) \
        { \
          g_printerr ("%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #expr); \
          abort (); \
        } \
    } \
  G_STMT_END

/* The first input byte picks how the rest is cut: its low three bits
 * the largest piece (1 byte up to the whole input), the other five the
 * seed of the sizes, so one input is replayed with every kind of split
 * (inside a CRLF, a BOM, a UTF-8 sequence, a JSON token). */
typedef struct
{
  guint32 state;
  gsize   max_piece;
} FuzzSplitter;

static inline void
fuzz_splitter_init (FuzzSplitter *self,
                    guint8        seed)
{
  static const gsize max_pieces[8] = { 1, 2, 4, 16, 64, 512, 4096, G_MAXSIZE };

  self->max_piece = max_pieces[seed & 7];
  self->state = 0x9E3779B9u ^ ((guint32)(seed >> 3) * 0x01000193u);
}

/* Returns the size of the next piece, 1..@remaining (0 when nothing is
 * left). */
static inline gsize
fuzz_splitter_next (FuzzSplitter *self,
                    gsize         remaining)
{
  gsize n;

  if (remaining == 0)
    return 0;
  if (self->max_piece == G_MAXSIZE)
    n = remaining;
  else
    {
      /* xorshift32: enough to vary the cut points, and reproducible. */
      self->state ^= self->state << 13;
      self->state ^= self->state >> 17;
      self->state ^= self->state << 5;
      n = 1 + self->state % self->max_piece;
    }

  return MIN (n, remaining);
}

G_END_DECLS
