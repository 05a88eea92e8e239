/* confab-reply-recorder.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-error.h"
#include "confab-provider-private.h"
#include "confab-reply-recorder.h"

/* Saves a reply while it streams: what arrived is appended to the stored
 * message at most CONFAB_RECORD_INTERVAL_MS after it arrived, with one
 * small statement per flush, and the message gets its final state
 * (complete, stopped, failed with the error) when the reply ends. A
 * crash loses at most the last interval.
 */

typedef struct
{
  ConfabStore *store;
  ConfabReply *reply;
  gint64       message_id;
  gulong       handler;
  GSource     *timer;
  GString     *text;
  GString     *reasoning;
  GError      *write_error;
  guint        writes_pending;
  gboolean     ended;
} Recorder;

static void
recorder_free (gpointer data)
{
  Recorder *recorder = data;

  _confab_source_clear (&recorder->timer);
  g_clear_signal_handler (&recorder->handler, recorder->reply);
  g_clear_object (&recorder->reply);
  g_clear_object (&recorder->store);
  g_string_free (recorder->text, TRUE);
  g_string_free (recorder->reasoning, TRUE);
  g_clear_error (&recorder->write_error);
  g_free (recorder);
}

static void
maybe_complete (GTask *task)
{
  Recorder *recorder = g_task_get_task_data (task);

  if (!recorder->ended || recorder->writes_pending > 0)
    return;

  if (recorder->write_error != NULL)
    g_task_return_error (task, g_steal_pointer (&recorder->write_error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
write_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Recorder *recorder = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* Appends and the final write complete the same way. */
  if (!g_task_propagate_boolean (G_TASK (result), &error) && recorder->write_error == NULL)
    recorder->write_error = g_steal_pointer (&error);

  recorder->writes_pending--;
  maybe_complete (task);
}

static void
flush (GTask *task)
{
  Recorder *recorder = g_task_get_task_data (task);

  if (recorder->text->len == 0 && recorder->reasoning->len == 0)
    return;

  recorder->writes_pending++;
  confab_store_append_to_message_async (recorder->store, recorder->message_id,
                                        recorder->text->str, recorder->reasoning->str,
                                        NULL, write_done_cb, task);
  g_string_truncate (recorder->text, 0);
  g_string_truncate (recorder->reasoning, 0);
}

static gboolean
timer_cb (gpointer data)
{
  flush (data);
  return G_SOURCE_CONTINUE;
}

static void
on_event (ConfabReply       *reply,
          const ConfabEvent *event,
          GTask             *task)
{
  Recorder *recorder = g_task_get_task_data (task);
  g_autoptr(ConfabMessage) message = NULL;
  ConfabMessageState state;
  const ConfabUsage *usage;

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      g_string_append_len (recorder->text, event->text, event->text_len);
      return;

    case CONFAB_EVENT_REASONING_DELTA:
      g_string_append_len (recorder->reasoning, event->text, event->text_len);
      return;

    case CONFAB_EVENT_TOOL_CALL:
    case CONFAB_EVENT_USAGE:
      return;

    case CONFAB_EVENT_FINISHED:
      state = CONFAB_MESSAGE_COMPLETE;
      break;

    case CONFAB_EVENT_ERROR:
      state = g_error_matches (event->error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED)
              ? CONFAB_MESSAGE_STOPPED : CONFAB_MESSAGE_FAILED;
      break;

    default:
      g_assert_not_reached ();
    }

  /* The end: one write with everything, which makes the pending appends
   * moot (they are queued before it and it replaces the content). */
  _confab_source_clear (&recorder->timer);
  g_string_truncate (recorder->text, 0);
  g_string_truncate (recorder->reasoning, 0);

  message = confab_reply_to_message (reply);
  usage = confab_reply_get_usage (reply);
  confab_message_set_id (message, recorder->message_id);
  confab_message_set_state (message, state);
  if (state == CONFAB_MESSAGE_FAILED)
    confab_message_set_error (message, event->error->message);
  confab_message_set_usage (message, usage->prompt_tokens, usage->completion_tokens);

  recorder->ended = TRUE;
  g_clear_signal_handler (&recorder->handler, recorder->reply);
  recorder->writes_pending++;
  confab_store_finish_message_async (recorder->store, message, NULL, write_done_cb, task);
}

/**
 * confab_store_record_reply_async:
 * @reply: a reply about to run (or running); its events are recorded
 * @message_id: the stored assistant message it fills, added with
 *   %CONFAB_MESSAGE_STREAMING
 *
 * Records @reply into the store as it streams. Completes once the reply
 * has ended and its final state is committed; fails when a write failed
 * (a full disk, say), while the reply itself goes on. Main context of
 * the caller.
 */
void
confab_store_record_reply_async (ConfabStore         *self,
                                 ConfabReply         *reply,
                                 gint64               message_id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  Recorder *recorder;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (CONFAB_IS_REPLY (reply));
  g_return_if_fail (message_id > 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_store_record_reply_async);

  recorder = g_new0 (Recorder, 1);
  recorder->store = g_object_ref (self);
  recorder->reply = g_object_ref (reply);
  recorder->message_id = message_id;
  recorder->text = g_string_new (NULL);
  recorder->reasoning = g_string_new (NULL);
  g_task_set_task_data (task, recorder, recorder_free);

  /* The task holds itself until the reply ended and the writes landed. */
  recorder->handler = g_signal_connect (reply, "event", G_CALLBACK (on_event), task);
  recorder->timer = _confab_timeout_add (CONFAB_RECORD_INTERVAL_MS, timer_cb, task);
}

gboolean
confab_store_record_reply_finish (ConfabStore   *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
