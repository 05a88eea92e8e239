/* confab-tool-call-assembler-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool-call.h"

G_BEGIN_DECLS

/* Tool calls above this many in one reply are a protocol error. */
#define CONFAB_MAX_TOOL_CALLS 256

/* Assembles tool calls that arrive in fragments (OpenAI's streamed
 * tool_calls, Anthropic's input_json_delta): fragments are keyed by the
 * index the server gives; only the first usually carries the id and the
 * name. No I/O; one thread at a time.
 */
typedef struct
{
  GPtrArray *slots;
  gsize      max_bytes;
  gsize      total_bytes;
} ConfabToolCallAssembler;

void       _confab_tool_call_assembler_init     (ConfabToolCallAssembler  *self,
                                                 gsize                     max_bytes);
void       _confab_tool_call_assembler_clear    (ConfabToolCallAssembler  *self);
/* @index: the server's index, or -1 when it sent none (then @id picks the
 * slot: a new id opens a new one, no id continues the last one). */
gboolean   _confab_tool_call_assembler_add      (ConfabToolCallAssembler  *self,
                                                 gint64                    index,
                                                 const char               *id,
                                                 const char               *name,
                                                 const char               *arguments,
                                                 gsize                     arguments_len,
                                                 GError                  **error);
/* Arguments for the call at @index when no fragment arrives for it
 * (Anthropic's tool_use block may come with its input filled in). */
gboolean   _confab_tool_call_assembler_set_default (ConfabToolCallAssembler  *self,
                                                    gint64                    index,
                                                    const char               *arguments,
                                                    GError                  **error);
gboolean   _confab_tool_call_assembler_is_empty (ConfabToolCallAssembler  *self);
/* Returns (transfer full) (element-type ConfabToolCall) the calls in index
 * order and empties the assembler. A call with no name is an error. */
GPtrArray *_confab_tool_call_assembler_finish   (ConfabToolCallAssembler  *self,
                                                 GError                  **error);

G_END_DECLS
