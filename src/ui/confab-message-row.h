/* confab-message-row.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_MESSAGE_ROW (confab_message_row_get_type ())

G_DECLARE_FINAL_TYPE (ConfabMessageRow, confab_message_row, CONFAB, MESSAGE_ROW, GtkWidget)

GtkWidget     *confab_message_row_new         (void);
void           confab_message_row_set_message (ConfabMessageRow *self,
                                               ConfabMessage    *message);
ConfabMessage *confab_message_row_get_message (ConfabMessageRow *self);
void           confab_message_row_set_versions (ConfabMessageRow *self,
                                                GArray           *versions);

/* A reply still streaming into @message: rows showing it follow its
 * events. Set by whoever runs the reply, cleared when it ends. */
void           confab_message_set_live_reply  (ConfabMessage    *message,
                                               ConfabReply      *reply);
ConfabReply   *confab_message_get_live_reply  (ConfabMessage    *message);

/* A tool call waiting for the user: its card asks. Set by whoever runs
 * the turn; cleared (and ignored) once resolved. */
void            confab_message_set_approval   (ConfabMessage    *message,
                                               ConfabApproval   *approval);
ConfabApproval *confab_message_get_approval   (ConfabMessage    *message);

G_END_DECLS
