/* confab-event.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool-call.h"

G_BEGIN_DECLS

/**
 * ConfabEventType:
 * @CONFAB_EVENT_TEXT_DELTA: more of the reply's text
 * @CONFAB_EVENT_REASONING_DELTA: more of the model's reasoning
 * @CONFAB_EVENT_TOOL_CALL: a complete tool call
 * @CONFAB_EVENT_USAGE: token counts
 * @CONFAB_EVENT_FINISHED: the reply is complete; no event follows
 * @CONFAB_EVENT_ERROR: the reply failed; no event follows
 *
 * The kinds of event of a streamed reply, the same for every API.
 */
typedef enum
{
  CONFAB_EVENT_TEXT_DELTA,
  CONFAB_EVENT_REASONING_DELTA,
  CONFAB_EVENT_TOOL_CALL,
  CONFAB_EVENT_USAGE,
  CONFAB_EVENT_FINISHED,
  CONFAB_EVENT_ERROR,
} ConfabEventType;

/**
 * ConfabUsage:
 * @prompt_tokens: tokens of the request, or -1 when unknown
 * @completion_tokens: tokens of the reply, or -1 when unknown
 * @reasoning_tokens: of @completion_tokens, the reasoning, or -1
 */
typedef struct
{
  gint64 prompt_tokens;
  gint64 completion_tokens;
  gint64 reasoning_tokens;
} ConfabUsage;

#define CONFAB_USAGE_INIT { -1, -1, -1 }

/**
 * ConfabEvent:
 * @type: what happened
 * @text: the delta for %CONFAB_EVENT_TEXT_DELTA and
 *   %CONFAB_EVENT_REASONING_DELTA (valid UTF-8, not nul-terminated)
 * @text_len: length of @text in bytes
 * @tool_call: the call for %CONFAB_EVENT_TOOL_CALL
 * @usage: the counts for %CONFAB_EVENT_USAGE
 * @finish_reason: for %CONFAB_EVENT_FINISHED: "stop", "length",
 *   "tool_calls", "content_filter" or the server's own word
 * @error: for %CONFAB_EVENT_ERROR
 *
 * One event of a streamed reply. Everything it points to is valid only
 * during the emission; take a reference or a copy to keep it.
 */
typedef struct
{
  ConfabEventType    type;
  const char        *text;
  gsize              text_len;
  ConfabToolCall    *tool_call;
  const ConfabUsage *usage;
  const char        *finish_reason;
  const GError      *error;
} ConfabEvent;

/**
 * ConfabEventFunc:
 *
 * Receives the events of a reply, in order, on the thread that parses it.
 */
typedef void (*ConfabEventFunc) (const ConfabEvent *event,
                                 gpointer           user_data);

G_END_DECLS
