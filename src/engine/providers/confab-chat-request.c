/* confab-chat-request.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-chat-request.h"

/* Everything one model request carries, independent of the wire format:
 * the conversation so far, the tools the model may call and the sampling
 * options. Providers translate it into their API's JSON.
 */
struct _ConfabChatRequest
{
  GObject    parent_instance;

  char      *model;
  GPtrArray *messages;
  GPtrArray *tools;
  double     temperature;
  guint      max_tokens;
  guint      has_temperature : 1;
  guint      no_stream : 1;
};

G_DEFINE_FINAL_TYPE (ConfabChatRequest, confab_chat_request, G_TYPE_OBJECT)

static void
confab_chat_request_finalize (GObject *object)
{
  ConfabChatRequest *self = (ConfabChatRequest *)object;

  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->messages, g_ptr_array_unref);
  g_clear_pointer (&self->tools, g_ptr_array_unref);

  G_OBJECT_CLASS (confab_chat_request_parent_class)->finalize (object);
}

static void
confab_chat_request_class_init (ConfabChatRequestClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_chat_request_finalize;
}

static void
confab_chat_request_init (ConfabChatRequest *self)
{
  self->messages = g_ptr_array_new_with_free_func (g_object_unref);
  self->tools = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * confab_chat_request_new:
 * @model: (nullable): the model id
 *
 * Returns: (transfer full): an empty request. Any thread.
 */
ConfabChatRequest *
confab_chat_request_new (const char *model)
{
  ConfabChatRequest *self = g_object_new (CONFAB_TYPE_CHAT_REQUEST, NULL);

  self->model = g_strdup (model);

  return self;
}

const char *
confab_chat_request_get_model (ConfabChatRequest *self)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), NULL);
  return self->model;
}

void
confab_chat_request_set_model (ConfabChatRequest *self,
                               const char        *model)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  if (g_strcmp0 (self->model, model) != 0)
    {
      g_free (self->model);
      self->model = g_strdup (model);
    }
}

/**
 * confab_chat_request_get_messages:
 *
 * Returns: (transfer none) (element-type ConfabMessage): the messages.
 */
GPtrArray *
confab_chat_request_get_messages (ConfabChatRequest *self)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), NULL);
  return self->messages;
}

void
confab_chat_request_add_message (ConfabChatRequest *self,
                                 ConfabMessage     *message)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  g_return_if_fail (CONFAB_IS_MESSAGE (message));
  g_ptr_array_add (self->messages, g_object_ref (message));
}

/**
 * confab_chat_request_get_tools:
 *
 * Returns: (transfer none) (element-type ConfabToolSpec): the tools.
 */
GPtrArray *
confab_chat_request_get_tools (ConfabChatRequest *self)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), NULL);
  return self->tools;
}

void
confab_chat_request_add_tool (ConfabChatRequest *self,
                              ConfabToolSpec    *tool)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  g_return_if_fail (CONFAB_IS_TOOL_SPEC (tool));
  g_ptr_array_add (self->tools, g_object_ref (tool));
}

/**
 * confab_chat_request_clear_tools:
 *
 * Offers no tools any more: for a server that refuses them.
 */
void
confab_chat_request_clear_tools (ConfabChatRequest *self)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  g_ptr_array_set_size (self->tools, 0);
}

/**
 * confab_chat_request_get_stream:
 *
 * Returns: whether the reply is asked for as a stream (the default); a
 *   server that cannot stream tool calls (older llama.cpp) is asked for
 *   the whole reply at once.
 */
gboolean
confab_chat_request_get_stream (ConfabChatRequest *self)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), TRUE);
  return !self->no_stream;
}

void
confab_chat_request_set_stream (ConfabChatRequest *self,
                                gboolean           stream)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  self->no_stream = !stream;
}

/**
 * confab_chat_request_get_temperature:
 * @temperature: (out): the temperature, when set
 *
 * Returns: %TRUE when a temperature was set; otherwise the server's
 *   default applies.
 */
gboolean
confab_chat_request_get_temperature (ConfabChatRequest *self,
                                     double            *temperature)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), FALSE);
  if (self->has_temperature && temperature != NULL)
    *temperature = self->temperature;
  return self->has_temperature;
}

void
confab_chat_request_set_temperature (ConfabChatRequest *self,
                                     double             temperature)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  self->temperature = temperature;
  self->has_temperature = TRUE;
}

/**
 * confab_chat_request_get_max_tokens:
 *
 * Returns: the reply's token limit, or 0 for the server's default.
 */
guint
confab_chat_request_get_max_tokens (ConfabChatRequest *self)
{
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (self), 0);
  return self->max_tokens;
}

void
confab_chat_request_set_max_tokens (ConfabChatRequest *self,
                                    guint              max_tokens)
{
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (self));
  self->max_tokens = max_tokens;
}
