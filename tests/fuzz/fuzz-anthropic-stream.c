/* fuzz-anthropic-stream.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Anthropic's named SSE events through the Anthropic decoder:
 * content blocks, input_json_delta fragments, message_stop, errors.
 * See fuzz-stream.h for the input format and the checks.
 */

#include "config.h"

#include "fuzz-stream.h"

/* Low enough that fragments within -max_len reach the limit. */
#define MAX_BYTES (16 * 1024)

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
  return fuzz_stream_run (CONFAB_STREAM_FORMAT_SSE, _confab_anthropic_decoder_new,
                          MAX_BYTES, data, size);
}
