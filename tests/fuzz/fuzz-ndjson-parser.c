/* fuzz-ndjson-parser.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Ollama's NDJSON stream (/api/chat) through the Ollama decoder.
 * See fuzz-stream.h for the input format and the checks.
 */

#include "config.h"

#include "fuzz-stream.h"

/* Ollama sends whole tool calls; the limit is unused. */
#define MAX_BYTES (1 << 20)

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
  return fuzz_stream_run (CONFAB_STREAM_FORMAT_NDJSON, _confab_ollama_decoder_new,
                          MAX_BYTES, data, size);
}
