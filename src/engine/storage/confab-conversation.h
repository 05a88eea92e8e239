/* confab-conversation.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_CONVERSATION (confab_conversation_get_type ())

G_DECLARE_FINAL_TYPE (ConfabConversation, confab_conversation, CONFAB, CONVERSATION, GObject)

/* A snapshot of a stored conversation's metadata; the store hands out new
 * snapshots after every change. Times are milliseconds since 1970 (UTC). */
ConfabConversation *confab_conversation_new                (gint64              id);
gint64              confab_conversation_get_id             (ConfabConversation *self);
const char         *confab_conversation_get_title          (ConfabConversation *self);
void                confab_conversation_set_title          (ConfabConversation *self,
                                                            const char         *title);
gint64              confab_conversation_get_created_at     (ConfabConversation *self);
void                confab_conversation_set_created_at     (ConfabConversation *self,
                                                            gint64              unix_ms);
gint64              confab_conversation_get_updated_at     (ConfabConversation *self);
void                confab_conversation_set_updated_at     (ConfabConversation *self,
                                                            gint64              unix_ms);
gboolean            confab_conversation_get_pinned         (ConfabConversation *self);
void                confab_conversation_set_pinned         (ConfabConversation *self,
                                                            gboolean            pinned);
gboolean            confab_conversation_get_archived       (ConfabConversation *self);
void                confab_conversation_set_archived       (ConfabConversation *self,
                                                            gboolean            archived);
const char         *confab_conversation_get_provider       (ConfabConversation *self);
void                confab_conversation_set_provider       (ConfabConversation *self,
                                                            const char         *provider);
const char         *confab_conversation_get_model          (ConfabConversation *self);
void                confab_conversation_set_model          (ConfabConversation *self,
                                                            const char         *model);
const char         *confab_conversation_get_system_prompt  (ConfabConversation *self);
void                confab_conversation_set_system_prompt  (ConfabConversation *self,
                                                            const char         *system_prompt);
const char * const *confab_conversation_get_tool_folders   (ConfabConversation *self);
void                confab_conversation_set_tool_folders   (ConfabConversation *self,
                                                            const char * const *folders);
gboolean            confab_conversation_get_tools_private_network (ConfabConversation *self);
void                confab_conversation_set_tools_private_network (ConfabConversation *self,
                                                                   gboolean            allow);
gint64              confab_conversation_get_current_leaf   (ConfabConversation *self);
void                confab_conversation_set_current_leaf   (ConfabConversation *self,
                                                            gint64              message_id);
guint               confab_conversation_get_n_messages     (ConfabConversation *self);
void                confab_conversation_set_n_messages     (ConfabConversation *self,
                                                            guint               n_messages);

ConfabConversation *confab_conversation_copy               (ConfabConversation *self);

G_END_DECLS
