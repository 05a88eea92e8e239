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
  ConfabToolCall *call;
  JsonNode   *structured;

  /* Stored metadata */
  gint64              id;
  gint64              parent_id;
  ConfabMessageState  state;
  char               *error;
  char               *model;
  gint64              created_at;
  gint64              finished_at;
  gint64              prompt_tokens;
  gint64              completion_tokens;
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
  g_clear_object (&self->call);
  g_clear_pointer (&self->structured, json_node_unref);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->model, g_free);

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
  self->prompt_tokens = -1;
  self->completion_tokens = -1;
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
  self->call = g_object_ref (call);
  self->is_error = !!is_error;

  return self;
}

/**
 * confab_message_get_call:
 *
 * Returns: (transfer none) (nullable): for a tool result, the call it
 *   answers, when known (a result read back from storage has only the
 *   call's id until it is tied with confab_message_set_call()).
 */
ConfabToolCall *
confab_message_get_call (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->call;
}

void
confab_message_set_call (ConfabMessage  *self,
                         ConfabToolCall *call)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_return_if_fail (call == NULL || CONFAB_IS_TOOL_CALL (call));

  g_set_object (&self->call, call);
}

/**
 * confab_message_get_structured:
 *
 * Returns: (transfer none) (nullable): for a tool result, the tool's
 *   machine-readable result, when it gave one (not stored).
 */
JsonNode *
confab_message_get_structured (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->structured;
}

void
confab_message_set_structured (ConfabMessage *self,
                               JsonNode      *structured)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));

  g_clear_pointer (&self->structured, json_node_unref);
  if (structured != NULL)
    self->structured = json_node_ref (structured);
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

gint64
confab_message_get_id (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), 0);
  return self->id;
}

void
confab_message_set_id (ConfabMessage *self,
                       gint64         id)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->id = id;
}

/**
 * confab_message_get_parent_id:
 *
 * Returns: the message this one follows in its branch: -1 for the first
 *   message of a conversation, 0 when not stored (for adding, 0 means
 *   "after the current leaf").
 */
gint64
confab_message_get_parent_id (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), 0);
  return self->parent_id;
}

void
confab_message_set_parent_id (ConfabMessage *self,
                              gint64         parent_id)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->parent_id = parent_id;
}

ConfabMessageState
confab_message_get_state (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), CONFAB_MESSAGE_COMPLETE);
  return self->state;
}

void
confab_message_set_state (ConfabMessage      *self,
                          ConfabMessageState  state)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->state = state;
}

/**
 * confab_message_get_error:
 *
 * Returns: (nullable): why a failed reply failed.
 */
const char *
confab_message_get_error (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->error;
}

void
confab_message_set_error (ConfabMessage *self,
                          const char    *error)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_free (self->error);
  self->error = g_strdup (error);
}

/**
 * confab_message_get_created_at:
 *
 * Returns: when the message was written, in milliseconds since 1970
 *   (UTC), or 0.
 */
gint64
confab_message_get_created_at (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), 0);
  return self->created_at;
}

void
confab_message_set_created_at (ConfabMessage *self,
                               gint64         unix_ms)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->created_at = unix_ms;
}

/**
 * confab_message_get_finished_at:
 *
 * Returns: when a reply finished, in milliseconds since 1970, or 0.
 */
gint64
confab_message_get_finished_at (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), 0);
  return self->finished_at;
}

void
confab_message_set_finished_at (ConfabMessage *self,
                                gint64         unix_ms)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->finished_at = unix_ms;
}

/**
 * confab_message_get_model:
 *
 * Returns: (nullable): the model that wrote a reply.
 */
const char *
confab_message_get_model (ConfabMessage *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE (self), NULL);
  return self->model;
}

void
confab_message_set_model (ConfabMessage *self,
                          const char    *model)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  g_free (self->model);
  self->model = g_strdup (model);
}

/**
 * confab_message_get_usage:
 * @prompt_tokens: (out) (optional): tokens of the request, -1 if unknown
 * @completion_tokens: (out) (optional): tokens of the reply, -1 if unknown
 */
void
confab_message_get_usage (ConfabMessage *self,
                          gint64        *prompt_tokens,
                          gint64        *completion_tokens)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  if (prompt_tokens != NULL)
    *prompt_tokens = self->prompt_tokens;
  if (completion_tokens != NULL)
    *completion_tokens = self->completion_tokens;
}

void
confab_message_set_usage (ConfabMessage *self,
                          gint64         prompt_tokens,
                          gint64         completion_tokens)
{
  g_return_if_fail (CONFAB_IS_MESSAGE (self));
  self->prompt_tokens = prompt_tokens;
  self->completion_tokens = completion_tokens;
}

/* For messages read back from storage. */
void
confab_message_set_tool_result_info (ConfabMessage *self,
                                     const char    *tool_call_id,
                                     const char    *tool_name,
                                     gboolean       is_error)
{
  char *old_id = self->tool_call_id;
  char *old_name = self->tool_name;

  g_return_if_fail (CONFAB_IS_MESSAGE (self));

  /* Copied before the old ones go: callers may pass them back. */
  self->tool_call_id = g_strdup (tool_call_id);
  self->tool_name = g_strdup (tool_name);
  self->is_error = !!is_error;
  g_free (old_id);
  g_free (old_name);
}

const char *
confab_message_state_to_string (ConfabMessageState state)
{
  switch (state)
    {
    case CONFAB_MESSAGE_COMPLETE: return "complete";
    case CONFAB_MESSAGE_STREAMING: return "streaming";
    case CONFAB_MESSAGE_STOPPED: return "stopped";
    case CONFAB_MESSAGE_FAILED: return "failed";
    default: g_return_val_if_reached ("complete");
    }
}

gboolean
confab_message_state_from_string (const char         *str,
                                  ConfabMessageState *state)
{
  static const char * const names[] = { "complete", "streaming", "stopped", "failed" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_strcmp0 (str, names[i]) == 0)
        {
          *state = (ConfabMessageState)i;
          return TRUE;
        }
    }
  return FALSE;
}
