/* fuzz-tool-call-assembler.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tool call assembler driven directly with fragments decoded from
 * the input. Each fragment is:
 *
 *   flags    1 byte: 0x01 an id follows, 0x02 a name follows, 0x04 an
 *            index follows (else -1), 0x08 the arguments' length is two
 *            bytes (else one), 0x80 finish after this fragment
 *   index    1 byte when 0x04: 0..254, 255 means one past the limit
 *   id       1 length byte, then the bytes, when 0x01
 *   name     1 length byte, then the bytes, when 0x02
 *   args     1 or 2 length bytes (big-endian), then the bytes
 *
 * A truncated last field takes what is left.
 */

#include "config.h"

#include "confab-tool-call-assembler-private.h"
#include "fuzz-tool-call.h"

#define MAX_BYTES (64 * 1024)

typedef struct
{
  const guint8 *p;
  const guint8 *end;
} Reader;

static guint
read_byte (Reader *reader)
{
  return reader->p < reader->end ? *reader->p++ : 0;
}

static const guint8 *
read_bytes (Reader *reader,
            gsize  *len)
{
  const guint8 *start = reader->p;

  *len = MIN (*len, (gsize)(reader->end - reader->p));
  reader->p += *len;
  return start;
}

/* A nul-terminated copy: ids and names are C strings, so an embedded
 * nul just ends them early. */
static char *
read_string (Reader *reader)
{
  gsize len = read_byte (reader);
  const guint8 *bytes = read_bytes (reader, &len);

  return g_strndup ((const char *)bytes, len);
}

static void
check_finish (ConfabToolCallAssembler *assembler)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GError) error = NULL;

  calls = _confab_tool_call_assembler_finish (assembler, &error);
  fuzz_check ((calls != NULL) != (error != NULL));
  fuzz_check (_confab_tool_call_assembler_is_empty (assembler));

  if (calls == NULL)
    return;

  fuzz_check (calls->len <= CONFAB_MAX_TOOL_CALLS);
  for (guint i = 0; i < calls->len; i++)
    fuzz_check_tool_call (g_ptr_array_index (calls, i), NULL);
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
  ConfabToolCallAssembler assembler;
  Reader reader = { data, data + size };
  gboolean ok = TRUE;

  _confab_tool_call_assembler_init (&assembler, MAX_BYTES);

  while (ok && reader.p < reader.end)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      g_autofree char *name = NULL;
      g_autofree char *arguments = NULL;
      guint flags = read_byte (&reader);
      gint64 index = -1;
      const guint8 *bytes;
      gsize len;

      if (flags & 0x04)
        {
          guint b = read_byte (&reader);

          index = b == 0xFF ? CONFAB_MAX_TOOL_CALLS : (gint64)b;
        }
      if (flags & 0x01)
        id = read_string (&reader);
      if (flags & 0x02)
        name = read_string (&reader);

      len = read_byte (&reader);
      if (flags & 0x08)
        len = (len << 8) | read_byte (&reader);
      bytes = read_bytes (&reader, &len);
      /* A copy of exactly the fragment, so ASan sees reads past its end. */
      arguments = g_memdup2 (bytes, len);

      ok = _confab_tool_call_assembler_add (&assembler, index, id, name, arguments, len, &error);
      fuzz_check (ok == (error == NULL));

      if (ok && (flags & 0x80))
        check_finish (&assembler);
    }

  /* After an error the decoders drop the assembler unfinished. */
  if (ok)
    check_finish (&assembler);

  _confab_tool_call_assembler_clear (&assembler);

  return 0;
}
