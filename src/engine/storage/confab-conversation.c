/* confab-conversation.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-conversation.h"

struct _ConfabConversation
{
  GObject   parent_instance;

  gint64    id;
  char     *title;
  gint64    created_at;
  gint64    updated_at;
  gboolean  pinned;
  gboolean  archived;
  char     *provider;
  char     *model;
  char     *system_prompt;
  gint64    current_leaf;
  guint     n_messages;
  GStrv     tool_folders;
  gboolean  tools_private_network;
};

G_DEFINE_FINAL_TYPE (ConfabConversation, confab_conversation, G_TYPE_OBJECT)

static void
confab_conversation_finalize (GObject *object)
{
  ConfabConversation *self = (ConfabConversation *)object;

  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->provider, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->system_prompt, g_free);
  g_clear_pointer (&self->tool_folders, g_strfreev);

  G_OBJECT_CLASS (confab_conversation_parent_class)->finalize (object);
}

static void
confab_conversation_class_init (ConfabConversationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_conversation_finalize;
}

static void
confab_conversation_init (ConfabConversation *self)
{
  self->title = g_strdup ("");
  self->tool_folders = g_new0 (char *, 1);
}

/**
 * confab_conversation_new:
 * @id: the stored id, or 0 for one not stored yet
 *
 * Returns: (transfer full): a new conversation record. Any thread.
 */
ConfabConversation *
confab_conversation_new (gint64 id)
{
  ConfabConversation *self = g_object_new (CONFAB_TYPE_CONVERSATION, NULL);

  self->id = id;
  return self;
}

gint64
confab_conversation_get_id (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), 0);
  return self->id;
}

const char *
confab_conversation_get_title (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);
  return self->title;
}

void
confab_conversation_set_title (ConfabConversation *self,
                               const char *title)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  g_free (self->title);
  self->title = g_strdup (title != NULL ? title : "");
}

gint64
confab_conversation_get_created_at (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), 0);
  return self->created_at;
}

void
confab_conversation_set_created_at (ConfabConversation *self,
                                    gint64 unix_ms)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->created_at = unix_ms;
}

gint64
confab_conversation_get_updated_at (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), 0);
  return self->updated_at;
}

void
confab_conversation_set_updated_at (ConfabConversation *self,
                                    gint64 unix_ms)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->updated_at = unix_ms;
}

gboolean
confab_conversation_get_pinned (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), FALSE);
  return self->pinned;
}

void
confab_conversation_set_pinned (ConfabConversation *self,
                                gboolean pinned)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->pinned = !!pinned;
}

gboolean
confab_conversation_get_archived (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), FALSE);
  return self->archived;
}

void
confab_conversation_set_archived (ConfabConversation *self,
                                  gboolean archived)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->archived = !!archived;
}

const char *
confab_conversation_get_provider (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);
  return self->provider;
}

void
confab_conversation_set_provider (ConfabConversation *self,
                                  const char *provider)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  g_free (self->provider);
  self->provider = (provider != NULL && provider[0] != '\0') ? g_strdup (provider) : NULL;
}

const char *
confab_conversation_get_model (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);
  return self->model;
}

void
confab_conversation_set_model (ConfabConversation *self,
                               const char *model)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  g_free (self->model);
  self->model = (model != NULL && model[0] != '\0') ? g_strdup (model) : NULL;
}

const char *
confab_conversation_get_system_prompt (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);
  return self->system_prompt;
}

void
confab_conversation_set_system_prompt (ConfabConversation *self,
                                       const char *system_prompt)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  g_free (self->system_prompt);
  self->system_prompt = (system_prompt != NULL && system_prompt[0] != '\0') ? g_strdup (system_prompt) : NULL;
}

gint64
confab_conversation_get_current_leaf (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), 0);
  return self->current_leaf;
}

void
confab_conversation_set_current_leaf (ConfabConversation *self,
                                      gint64 message_id)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->current_leaf = message_id;
}

guint
confab_conversation_get_n_messages (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), 0);
  return self->n_messages;
}

void
confab_conversation_set_n_messages (ConfabConversation *self,
                                    guint n_messages)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->n_messages = n_messages;
}

/* The folders the user granted to this conversation's tools (real paths,
 * in the order granted); never NULL. */
const char * const *
confab_conversation_get_tool_folders (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);
  return (const char * const *)self->tool_folders;
}

/* @folders: (nullable): NULL means none. */
void
confab_conversation_set_tool_folders (ConfabConversation *self,
                                      const char * const *folders)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  g_strfreev (self->tool_folders);
  self->tool_folders = folders != NULL ? g_strdupv ((char **)folders) : g_new0 (char *, 1);
}

/* Whether the user let this conversation's tools reach this computer and
 * the local network. */
gboolean
confab_conversation_get_tools_private_network (ConfabConversation *self)
{
  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), FALSE);
  return self->tools_private_network;
}

void
confab_conversation_set_tools_private_network (ConfabConversation *self,
                                               gboolean            allow)
{
  g_return_if_fail (CONFAB_IS_CONVERSATION (self));
  self->tools_private_network = !!allow;
}

/**
 * confab_conversation_copy:
 *
 * Returns: (transfer full): a new record with the same values, for a
 *   worker thread to read while the original may change. Any thread.
 */
ConfabConversation *
confab_conversation_copy (ConfabConversation *self)
{
  ConfabConversation *copy;

  g_return_val_if_fail (CONFAB_IS_CONVERSATION (self), NULL);

  copy = confab_conversation_new (self->id);
  confab_conversation_set_title (copy, self->title);
  copy->created_at = self->created_at;
  copy->updated_at = self->updated_at;
  copy->pinned = self->pinned;
  copy->archived = self->archived;
  copy->provider = g_strdup (self->provider);
  copy->model = g_strdup (self->model);
  copy->system_prompt = g_strdup (self->system_prompt);
  copy->current_leaf = self->current_leaf;
  copy->n_messages = self->n_messages;
  confab_conversation_set_tool_folders (copy, (const char * const *)self->tool_folders);
  copy->tools_private_network = self->tools_private_network;
  return copy;
}
