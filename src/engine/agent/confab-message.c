/* confab-message.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-message.h"

/* One message of a conversation, in the engine's own shape; each provider
 * translates it into its API's shape when it builds a request. An assistant
 * message may carry tool calls; a tool message answers one of them.
 */
struct _ConfabMessage
{
  GObject     parent_instance;

  ConfabRole  role;
  gboolean    is_error;
  char       *content;
  char       *reasoning;
  GPtrArray  *tool_calls;
  char       *tool_call_id;
  char       *tool_name;
};

G_DEFINE_FINAL_TYPE (ConfabMessage, confab_message, G_TYPE_OBJECT)

static void
confab_message_finalize (GObject *object)
{
  ConfabMessage *self = (ConfabMessage *)object;

  g_clear_pointer (&self->content, g_free);
  g_clear_pointer (&self->reasoning, g_free);
  g_clear_pointer (&self->tool_calls, g_ptr_array_unref);
  g_clear_pointer (&self->tool_call_id, g_free);
  g_clear_pointer (&self->tool_name, g_free);

  G_OBJECT_CLASS (confab_message_parent_class)->finalize (object);
}

static void
confab_message_class_init (ConfabMessageClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_message_finalize;
}

static void
confab_message_init (ConfabMessage *self)
{
  self->tool_calls = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * confab_message_new:
 * @role: who speaks
 * @content: (nullable): the text
 *
 * Returns: (transfer full): a new message. Any thread.
 */
ConfabMessage *
confab_message_new (ConfabRole  role,
                    const char *content)
{
  ConfabMessage *self = g_object_new (CONFAB_TYPE_MESSAGE, NULL);

  self->role = role;
  self->content = g_strdup (content != NULL ? content : "");

  return self;
}

/**
 * confab_message_new_tool_result:
 * @call: the call this answers
 * @content: the tool's output (or its error, with @is_error)
 * @is_error: whether the tool failed or was denied
 *
 * Returns: (transfer full): a %CONFAB_ROLE_TOOL message tied to @call.
 */
ConfabMessage *
confab_message_new_tool_result (ConfabToolCall *call,
                                const char     *content,
                                gboolean        is_error)
{
  ConfabMessage *self;

  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (call), NULL);

  self = confab_message_new (CONFAB_ROLE_TOOL, content);
  self->tool_call_id = g_strdup (confab_tool_call_get_id (call));
  self->tool_name = g_strdup (confab_tool_call_get_name (call));
  self->is_error = !!is_error;

  return self;
}

ConfabRole
confab_message_get_role (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), CONFAB_ROLE_USER);
  return self->role;
}

const char *
confab_message_get_content (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->content;
}

void
confab_message_set_content (ConfabMessage *self,
                            const char    *content)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_free (self->content);
  self->content = g_strdup (content != NULL ? content : "");
}

/**
 * confab_message_get_reasoning:
 *
 * Returns: (nullable): the model's reasoning for an assistant message.
 */
const char *
confab_message_get_reasoning (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->reasoning;
}

void
confab_message_set_reasoning (ConfabMessage *self,
                              const char    *reasoning)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_free (self->reasoning);
  self->reasoning = g_strdup (reasoning);
}

/**
 * confab_message_get_tool_calls:
 *
 * Returns: (transfer none) (element-type ConfabToolCall): the tool calls
 *   of an assistant message, in the order the model asked for them.
 */
GPtrArray *
confab_message_get_tool_calls (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->tool_calls;
}

void
confab_message_add_tool_call (ConfabMessage  *self,
                              ConfabToolCall *call)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_return_if_fail (CONFAB_IS_TOOL_CALL (call));
  g_ptr_array_add (self->tool_calls, g_object_ref (call));
}

const char *
confab_message_get_tool_call_id (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->tool_call_id;
}

const char *
confab_message_get_tool_name (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->tool_name;
}

gboolean
confab_message_get_is_error (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), FALSE);
  return self->is_error;
}

const char *
confab_role_to_string (ConfabRole role)
{
  switch (role)
    {
    case CONFAB_ROLE_SYSTEM: return "system";
    case CONFAB_ROLE_USER: return "user";
    case CONFAB_ROLE_ASSISTANT: return "assistant";
    case CONFAB_ROLE_TOOL: return "tool";
    default: g_return_val_if_reached ("user");
    }
}

gboolean
confab_role_from_string (const char *str,
                         ConfabRole *role)
{
  static const char * const names[] = { "system", "user", "assistant", "tool" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_strcmp0 (str, names[i]) == 0)
        {
          *role = (ConfabRole)i;
          return TRUE;
        }
    }
  return FALSE;
}
