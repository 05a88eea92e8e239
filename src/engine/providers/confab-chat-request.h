/* confab-chat-request.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-message.h"
#include "confab-tool-spec.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_CHAT_REQUEST (confab_chat_request_get_type ())

G_DECLARE_FINAL_TYPE (ConfabChatRequest, confab_chat_request, CONFAB, CHAT_REQUEST, GObject)

ConfabChatRequest *confab_chat_request_new             (const char        *model);
const char        *confab_chat_request_get_model       (ConfabChatRequest *self);
void               confab_chat_request_set_model       (ConfabChatRequest *self,
                                                        const char        *model);
GPtrArray         *confab_chat_request_get_messages    (ConfabChatRequest *self);
void               confab_chat_request_add_message     (ConfabChatRequest *self,
                                                        ConfabMessage     *message);
GPtrArray         *confab_chat_request_get_tools       (ConfabChatRequest *self);
void               confab_chat_request_add_tool        (ConfabChatRequest *self,
                                                        ConfabToolSpec    *tool);
void               confab_chat_request_clear_tools     (ConfabChatRequest *self);
gboolean           confab_chat_request_get_stream      (ConfabChatRequest *self);
void               confab_chat_request_set_stream      (ConfabChatRequest *self,
                                                        gboolean           stream);
gboolean           confab_chat_request_get_temperature (ConfabChatRequest *self,
                                                        double            *temperature);
void               confab_chat_request_set_temperature (ConfabChatRequest *self,
                                                        double             temperature);
guint              confab_chat_request_get_max_tokens  (ConfabChatRequest *self);
void               confab_chat_request_set_max_tokens  (ConfabChatRequest *self,
                                                        guint              max_tokens);

G_END_DECLS
