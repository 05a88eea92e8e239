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
const char    *confab_message_get_tool_name      (ConfabMessage  *self);
gboolean       confab_message_get_is_error       (ConfabMessage  *self);
const char    *confab_role_to_string             (ConfabRole      role);
gboolean       confab_role_from_string           (const char     *str,
                                                  ConfabRole     *role);

G_END_DECLS
