/* confab-message.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool-call.h"

G_BEGIN_DECLS

typedef enum
{
  CONFAB_ROLE_SYSTEM,
  CONFAB_ROLE_USER,
  CONFAB_ROLE_ASSISTANT,
  CONFAB_ROLE_TOOL,
} ConfabRole;

/**
 * ConfabMessageState:
 * @CONFAB_MESSAGE_COMPLETE: whole
 * @CONFAB_MESSAGE_STREAMING: still arriving
 * @CONFAB_MESSAGE_STOPPED: cut short: cancelled, or the app stopped
 * @CONFAB_MESSAGE_FAILED: the reply failed; see confab_message_get_error()
 */
typedef enum
{
  CONFAB_MESSAGE_COMPLETE,
  CONFAB_MESSAGE_STREAMING,
  CONFAB_MESSAGE_STOPPED,
  CONFAB_MESSAGE_FAILED,
} ConfabMessageState;

#define CONFAB_TYPE_MESSAGE (confab_message_get_type ())

G_DECLARE_FINAL_TYPE (ConfabMessage, confab_message, CONFAB, MESSAGE, GObject)

ConfabMessage *confab_message_new                (ConfabRole      role,
                                                  const char     *content);
ConfabMessage *confab_message_new_tool_result    (ConfabToolCall *call,
                                                  const char     *content,
                                                  gboolean        is_error);
ConfabRole     confab_message_get_role           (ConfabMessage  *self);
const char    *confab_message_get_content        (ConfabMessage  *self);
void           confab_message_set_content        (ConfabMessage  *self,
                                                  const char     *content);
const char    *confab_message_get_reasoning      (ConfabMessage  *self);
void           confab_message_set_reasoning      (ConfabMessage  *self,
                                                  const char     *reasoning);
GPtrArray     *confab_message_get_tool_calls     (ConfabMessage  *self);
void           confab_message_add_tool_call      (ConfabMessage  *self,
                                                  ConfabToolCall *call);
const char    *confab_message_get_tool_call_id   (ConfabMessage  *self);
ConfabToolCall *confab_message_get_call          (ConfabMessage  *self);
void           confab_message_set_call           (ConfabMessage  *self,
                                                  ConfabToolCall *call);
JsonNode      *confab_message_get_structured     (ConfabMessage  *self);
void           confab_message_set_structured     (ConfabMessage  *self,
                                                  JsonNode       *structured);
const char    *confab_message_get_tool_name      (ConfabMessage  *self);
gboolean       confab_message_get_is_error       (ConfabMessage  *self);
/* Stored metadata; 0 / NULL / -1 when the message is not stored. */
gint64              confab_message_get_id                (ConfabMessage      *self);
void                confab_message_set_id                (ConfabMessage      *self,
                                                          gint64              id);
gint64              confab_message_get_parent_id         (ConfabMessage      *self);
void                confab_message_set_parent_id         (ConfabMessage      *self,
                                                          gint64              parent_id);
ConfabMessageState  confab_message_get_state             (ConfabMessage      *self);
void                confab_message_set_state             (ConfabMessage      *self,
                                                          ConfabMessageState  state);
const char         *confab_message_get_error             (ConfabMessage      *self);
void                confab_message_set_error             (ConfabMessage      *self,
                                                          const char         *error);
gint64              confab_message_get_created_at        (ConfabMessage      *self);
void                confab_message_set_created_at        (ConfabMessage      *self,
                                                          gint64              unix_ms);
gint64              confab_message_get_finished_at       (ConfabMessage      *self);
void                confab_message_set_finished_at       (ConfabMessage      *self,
                                                          gint64              unix_ms);
const char         *confab_message_get_model             (ConfabMessage      *self);
void                confab_message_set_model             (ConfabMessage      *self,
                                                          const char         *model);
void                confab_message_get_usage             (ConfabMessage      *self,
                                                          gint64             *prompt_tokens,
                                                          gint64             *completion_tokens);
void                confab_message_set_usage             (ConfabMessage      *self,
                                                          gint64              prompt_tokens,
                                                          gint64              completion_tokens);
void                confab_message_set_tool_result_info  (ConfabMessage      *self,
                                                          const char         *tool_call_id,
                                                          const char         *tool_name,
                                                          gboolean            is_error);
const char         *confab_message_state_to_string       (ConfabMessageState  state);
gboolean            confab_message_state_from_string     (const char         *str,
                                                          ConfabMessageState *state);
const char    *confab_role_to_string             (ConfabRole      role);
gboolean       confab_role_from_string           (const char     *str,
                                                  ConfabRole     *role);

G_END_DECLS
