/* confab-reply.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "confab-error.h"
#include "confab-provider-private.h"
#include "confab-reply.h"
#include "confab-stream-parser-private.h"

/* One streamed reply: sends the request, reads the body as it arrives on
 * the caller's main context, feeds the provider's parser and emits
 * ConfabReply::event for each event, while keeping what has arrived so
 * far (so a failed or stopped reply still has its partial text).
 */

#define READ_SIZE (64 * 1024)

struct _ConfabReply
{
  GObject             parent_instance;

  ConfabProvider     *provider;
  ConfabChatRequest  *request;

  GString            *text;
  GString            *reasoning;
  GPtrArray          *tool_calls;
  ConfabUsage         usage;
  char               *finish_reason;

  /* While running */
  GTask              *task;
  ConfabWatchdog     *watchdog;
  ConfabStreamParser *parser;
  GInputStream       *stream;
  guint8             *buffer;
};

G_DEFINE_FINAL_TYPE (ConfabReply, confab_reply, G_TYPE_OBJECT)

enum {
  EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_event (const ConfabEvent *event,
          gpointer           user_data)
{
  ConfabReply *self = user_data;

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      g_string_append_len (self->text, event->text, event->text_len);
      break;

    case CONFAB_EVENT_REASONING_DELTA:
      g_string_append_len (self->reasoning, event->text, event->text_len);
      break;

    case CONFAB_EVENT_TOOL_CALL:
      g_ptr_array_add (self->tool_calls, g_object_ref (event->tool_call));
      break;

    case CONFAB_EVENT_USAGE:
      self->usage = *event->usage;
      break;

    case CONFAB_EVENT_FINISHED:
      g_free (self->finish_reason);
      self->finish_reason = g_strdup (event->finish_reason);
      break;

    case CONFAB_EVENT_ERROR:
    default:
      break;
    }

  g_signal_emit (self, signals[EVENT], 0, event);
}

static void
stop_running (ConfabReply *self)
{
  if (self->stream != NULL)
    {
      /* Closing early drops the connection rather than keep reading a
       * reply nobody wants. */
      g_input_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      g_clear_object (&self->stream);
    }
  g_clear_pointer (&self->parser, _confab_stream_parser_free);
  g_clear_pointer (&self->watchdog, _confab_watchdog_free);
  g_clear_pointer (&self->buffer, g_free);
}

static void
complete (ConfabReply *self,
          GError      *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  stop_running (self);

  if (error != NULL)
    {
      ConfabEvent event = { .type = CONFAB_EVENT_ERROR, .error = error };

      on_event (&event, self);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

static void read_next (ConfabReply *self);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(ConfabReply) self = user_data;
  g_autoptr(GError) io_error = NULL;
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &io_error);

  if (self->task == NULL)
    return;

  if (n < 0)
    {
      /* Translators: completes “… while %s” in “Timed out while %s”, “The
       * connection failed while %s” and “The server sent nothing for 60
       * seconds while %s”. */
      complete (self, _confab_watchdog_map_error (self->watchdog, io_error, _("reading the reply")));
      return;
    }

  if (n == 0)
    {
      if (!_confab_stream_parser_end (self->parser, &error))
        complete (self, error);
      else
        complete (self, NULL);
      return;
    }

  _confab_watchdog_touch (self->watchdog);

  if (!_confab_stream_parser_feed (self->parser, (const char *)self->buffer, n, &error))
    {
      complete (self, error);
      return;
    }

  /* A handler may have cancelled; what arrived is kept either way. */
  if (g_cancellable_is_cancelled (_confab_watchdog_get_cancellable (self->watchdog)))
    {
      g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      complete (self, _confab_watchdog_map_error (self->watchdog, cancelled, _("reading the reply")));
      return;
    }

  if (_confab_stream_parser_is_finished (self->parser))
    {
      complete (self, NULL);
      return;
    }

  read_next (self);
}

static void
read_next (ConfabReply *self)
{
  g_input_stream_read_async (self->stream, self->buffer, READ_SIZE, G_PRIORITY_DEFAULT,
                             _confab_watchdog_get_cancellable (self->watchdog),
                             read_cb, g_object_ref (self));
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(ConfabReply) self = user_data;
  g_autoptr(SoupMessage) message = NULL;
  GError *error = NULL;
  const char *content_type;

  self->stream = _confab_provider_send_finish (CONFAB_PROVIDER (object), result, &message, &error);
  if (self->stream == NULL)
    {
      complete (self, error);
      return;
    }

  self->parser = CONFAB_PROVIDER_GET_CLASS (self->provider)->create_stream_parser (self->provider,
                                                                                   on_event, self);

  /* Some servers answer a streaming request with the whole reply as one
   * JSON document (llama.cpp does for tool calls); take it as it is. */
  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (message), NULL);
  if (content_type != NULL && g_ascii_strcasecmp (content_type, "application/json") == 0)
    _confab_stream_parser_expect_json_body (self->parser);
  self->buffer = g_malloc (READ_SIZE);
  read_next (self);
}

static SoupMessage *
build_chat_message (ConfabProvider  *provider,
                    gpointer         data,
                    GError         **error)
{
  ConfabReply *self = data;

  return CONFAB_PROVIDER_GET_CLASS (provider)->build_chat_message (provider, self->request, error);
}

static void
confab_reply_finalize (GObject *object)
{
  ConfabReply *self = (ConfabReply *)object;

  g_assert (self->task == NULL);

  stop_running (self);
  g_clear_object (&self->provider);
  g_clear_object (&self->request);
  g_string_free (self->text, TRUE);
  g_string_free (self->reasoning, TRUE);
  g_clear_pointer (&self->tool_calls, g_ptr_array_unref);
  g_clear_pointer (&self->finish_reason, g_free);

  G_OBJECT_CLASS (confab_reply_parent_class)->finalize (object);
}

static void
confab_reply_class_init (ConfabReplyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = confab_reply_finalize;

  /**
   * ConfabReply::event:
   * @self: the reply
   * @event: (type gpointer): a #ConfabEvent, valid during the emission
   *
   * Emitted for every event of the reply, in order, on the main context
   * confab_reply_run_async() was called from. The last event is
   * %CONFAB_EVENT_FINISHED or %CONFAB_EVENT_ERROR.
   */
  signals[EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  g_cclosure_marshal_VOID__POINTER,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
  g_signal_set_va_marshaller (signals[EVENT], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__POINTERv);
}

static void
confab_reply_init (ConfabReply *self)
{
  ConfabUsage usage = CONFAB_USAGE_INIT;

  self->text = g_string_new (NULL);
  self->reasoning = g_string_new (NULL);
  self->tool_calls = g_ptr_array_new_with_free_func (g_object_unref);
  self->usage = usage;
}

/**
 * confab_reply_new:
 * @provider: who to ask
 * @request: what to ask
 *
 * Returns: (transfer full): a reply, not started yet; connect to
 *   ConfabReply::event, then call confab_reply_run_async().
 */
ConfabReply *
confab_reply_new (ConfabProvider    *provider,
                  ConfabChatRequest *request)
{
  ConfabReply *self;

  g_return_val_if_fail (CONFAB_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (CONFAB_IS_CHAT_REQUEST (request), NULL);

  self = g_object_new (CONFAB_TYPE_REPLY, NULL);
  self->provider = g_object_ref (provider);
  self->request = g_object_ref (request);

  return self;
}

/**
 * confab_reply_run_async:
 * @self: a #ConfabReply that has not run yet
 * @cancellable: (nullable): cancels the reply: the stream closes at once
 *   and the reply fails with %CONFAB_ERROR_CANCELLED, keeping what came
 *
 * Sends the request and streams the reply, emitting ConfabReply::event
 * as it arrives. Main context of the caller; never blocks.
 */
void
confab_reply_run_async (ConfabReply         *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (CONFAB_IS_REPLY (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->task == NULL && self->watchdog == NULL);

  self->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->task, confab_reply_run_async);
  g_task_set_check_cancellable (self->task, FALSE);

  self->watchdog = _confab_watchdog_new (confab_provider_get_timeout (self->provider), cancellable);

  if (confab_chat_request_get_model (self->request) == NULL)
    {
      complete (self, g_error_new_literal (CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                                           _("No model was chosen for the request")));
      return;
    }

  _confab_provider_send_async (self->provider, build_chat_message, self, self->watchdog,
                               send_cb, g_object_ref (self));
}

/**
 * confab_reply_run_finish:
 *
 * Returns: %TRUE when the reply finished; %FALSE with @error when it
 *   failed or was cancelled (what had arrived is still in @self).
 */
gboolean
confab_reply_run_finish (ConfabReply   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

ConfabProvider *
confab_reply_get_provider (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->provider;
}

ConfabChatRequest *
confab_reply_get_request (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->request;
}

/**
 * confab_reply_get_text:
 *
 * Returns: the text received so far.
 */
const char *
confab_reply_get_text (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->text->str;
}

/**
 * confab_reply_get_reasoning:
 *
 * Returns: the reasoning received so far ("" when none).
 */
const char *
confab_reply_get_reasoning (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->reasoning->str;
}

/**
 * confab_reply_get_tool_calls:
 *
 * Returns: (transfer none) (element-type ConfabToolCall): the complete
 *   tool calls received so far, in the model's order.
 */
GPtrArray *
confab_reply_get_tool_calls (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->tool_calls;
}

const ConfabUsage *
confab_reply_get_usage (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return &self->usage;
}

/**
 * confab_reply_get_finish_reason:
 *
 * Returns: (nullable): why the reply ended, %NULL until it finished.
 */
const char *
confab_reply_get_finish_reason (ConfabReply *self)
{
  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);
  return self->finish_reason;
}

/**
 * confab_reply_to_message:
 *
 * Returns: (transfer full): the reply so far as an assistant message, to
 *   append to the conversation.
 */
ConfabMessage *
confab_reply_to_message (ConfabReply *self)
{
  ConfabMessage *message;

  g_return_val_if_fail (CONFAB_IS_REPLY (self), NULL);

  message = confab_message_new (CONFAB_ROLE_ASSISTANT, self->text->str);
  if (self->reasoning->len > 0)
    confab_message_set_reasoning (message, self->reasoning->str);
  for (guint i = 0; i < self->tool_calls->len; i++)
    confab_message_add_tool_call (message, g_ptr_array_index (self->tool_calls, i));

  return message;
}
