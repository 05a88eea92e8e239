/* confab-reply-recorder.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-reply.h"
#include "confab-store.h"

G_BEGIN_DECLS

/* How far a streaming reply on disk may lag behind the screen. */
#define CONFAB_RECORD_INTERVAL_MS 1000

void     confab_store_record_reply_async  (ConfabStore          *self,
                                           ConfabReply          *reply,
                                           gint64                message_id,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean confab_store_record_reply_finish (ConfabStore          *self,
                                           GAsyncResult         *result,
                                           GError              **error);

G_END_DECLS
