/* confab-reply.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-provider.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_REPLY (confab_reply_get_type ())

G_DECLARE_FINAL_TYPE (ConfabReply, confab_reply, CONFAB, REPLY, GObject)

ConfabReply       *confab_reply_new               (ConfabProvider       *provider,
                                                   ConfabChatRequest    *request);
void               confab_reply_run_async         (ConfabReply          *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean           confab_reply_run_finish        (ConfabReply          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
ConfabProvider    *confab_reply_get_provider      (ConfabReply          *self);
ConfabChatRequest *confab_reply_get_request       (ConfabReply          *self);
const char        *confab_reply_get_text          (ConfabReply          *self);
const char        *confab_reply_get_reasoning     (ConfabReply          *self);
GPtrArray         *confab_reply_get_tool_calls    (ConfabReply          *self);
const ConfabUsage *confab_reply_get_usage         (ConfabReply          *self);
const char        *confab_reply_get_finish_reason (ConfabReply          *self);
ConfabMessage     *confab_reply_to_message        (ConfabReply          *self);

G_END_DECLS
