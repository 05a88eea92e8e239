/* confab-provider.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-anthropic-provider.h"
#include "confab-error.h"
#include "confab-json.h"
#include "confab-line-reader-private.h"
#include "confab-ollama-provider.h"
#include "confab-openai-provider.h"
#include "confab-provider-private.h"

/* Error bodies above this are cut; model lists above this are refused. */
#define MAX_ERROR_BODY  (64 * 1024)
#define MAX_MODELS_BODY (16 * 1024 * 1024)
#define MAX_RETRY_WAIT  60

typedef struct
{
  SoupSession        *session;
  char               *base_url;
  char               *api_key;
  SoupMessageHeaders *headers;
  guint               timeout;
  guint               max_tries;
  guint               retry_delay_ms;
} ConfabProviderPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ConfabProvider, confab_provider, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_API_KEY,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * _confab_timeout_add:
 *
 * Like g_timeout_add(), but on the thread-default main context, so that
 * the engine works from any thread that runs its own loop.
 *
 * Returns: (transfer full): the source; stop it with _confab_source_clear().
 */
GSource *
_confab_timeout_add (guint       interval_ms,
                     GSourceFunc func,
                     gpointer    data)
{
  GSource *source = g_timeout_source_new (interval_ms);

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

void
_confab_source_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Watchdog */

struct _ConfabWatchdog
{
  GCancellable *cancellable;
  GCancellable *user_cancellable;
  gulong        user_handler;
  GSource      *source;
  guint         timeout;
  gint64        last_activity;
  gboolean      timed_out;
  gboolean      paused;
};

static gboolean
watchdog_tick_cb (gpointer data)
{
  ConfabWatchdog *self = data;

  if (self->paused)
    return G_SOURCE_CONTINUE;

  if (g_get_monotonic_time () - self->last_activity >= (gint64)self->timeout * G_USEC_PER_SEC)
    {
      self->timed_out = TRUE;
      g_cancellable_cancel (self->cancellable);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
user_cancelled_cb (GCancellable *user_cancellable,
                   gpointer      data)
{
  /* May run in any thread that cancels; GCancellable is thread-safe. */
  g_cancellable_cancel (G_CANCELLABLE (data));
}

ConfabWatchdog *
_confab_watchdog_new (guint         timeout_seconds,
                      GCancellable *user_cancellable)
{
  ConfabWatchdog *self = g_new0 (ConfabWatchdog, 1);
  guint interval;

  self->cancellable = g_cancellable_new ();
  self->timeout = timeout_seconds;
  self->last_activity = g_get_monotonic_time ();

  if (user_cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (user_cancellable);
      self->user_handler = g_cancellable_connect (user_cancellable,
                                                  G_CALLBACK (user_cancelled_cb),
                                                  g_object_ref (self->cancellable),
                                                  g_object_unref);
    }

  if (timeout_seconds > 0)
    {
      /* A quarter of the timeout, at most a second: a stall is noticed
       * within 25% of its limit, and an idle stream costs one wake-up a
       * second. */
      interval = CLAMP (timeout_seconds * 250, 10, 1000);
      self->source = _confab_timeout_add (interval, watchdog_tick_cb, self);
    }

  return self;
}

void
_confab_watchdog_free (ConfabWatchdog *self)
{
  if (self == NULL)
    return;

  _confab_source_clear (&self->source);
  if (self->user_cancellable != NULL)
    g_cancellable_disconnect (self->user_cancellable, self->user_handler);
  g_clear_object (&self->user_cancellable);
  g_clear_object (&self->cancellable);
  g_free (self);
}

GCancellable *
_confab_watchdog_get_cancellable (ConfabWatchdog *self)
{
  return self->cancellable;
}

void
_confab_watchdog_touch (ConfabWatchdog *self)
{
  self->last_activity = g_get_monotonic_time ();
}

void
_confab_watchdog_pause (ConfabWatchdog *self,
                        gboolean        paused)
{
  self->paused = paused;
  self->last_activity = g_get_monotonic_time ();
}

gboolean
_confab_watchdog_timed_out (ConfabWatchdog *self)
{
  return self->timed_out;
}

guint
_confab_watchdog_get_timeout (ConfabWatchdog *self)
{
  return self->timeout;
}

GError *
_confab_watchdog_map_error (ConfabWatchdog *self,
                            const GError   *io_error,
                            const char     *what)
{
  if (self->timed_out)
    return g_error_new (CONFAB_ERROR, CONFAB_ERROR_TIMEOUT,
                        /* Translators: %s says what was being done, such as
                         * “reading the reply” or “connecting” (translated on
                         * their own). */
                        g_dngettext (GETTEXT_PACKAGE,
                                     "The server sent nothing for %u second while %s",
                                     "The server sent nothing for %u seconds while %s",
                                     self->timeout),
                        self->timeout, what);

  if (self->user_cancellable != NULL && g_cancellable_is_cancelled (self->user_cancellable))
    return g_error_new_literal (CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Cancelled"));

  if (io_error->domain == CONFAB_ERROR)
    return g_error_copy (io_error);

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (CONFAB_ERROR, CONFAB_ERROR_TIMEOUT,
                        /* Translators: the first %s says what was being done,
                         * such as “reading the reply” or “connecting”
                         * (translated on their own); the second is the
                         * system's explanation. */
                        _("Timed out while %s: %s"), what, io_error->message);

  return g_error_new (CONFAB_ERROR, CONFAB_ERROR_NETWORK,
                      /* Translators: the first %s says what was being done,
                       * such as “reading the reply” or “connecting”
                       * (translated on their own); the second is the
                       * system's explanation. */
                      _("The connection failed while %s: %s"), what, io_error->message);
}

/* Error bodies */

/**
 * _confab_error_message_from_body:
 * @body: (nullable): what the server sent with an error status
 *
 * Finds the server's own message in the shapes servers use:
 * {"error":{"message":...}}, {"error":"..."}, {"message":...},
 * {"detail":...}, or short plain text.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL.
 */
char *
_confab_error_message_from_body (GBytes *body)
{
  g_autoptr(JsonNode) json = NULL;
  const char *data;
  gsize len;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &len);
  if (len == 0 || !g_utf8_validate (data, len, NULL))
    return NULL;

  if (confab_json_parse (data, len, &json, NULL) && json != NULL && JSON_NODE_HOLDS_OBJECT (json))
    {
      JsonObject *root = json_node_get_object (json);
      static const char * const keys[] = { "error", "message", "detail" };

      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        {
          JsonNode *node = json_object_get_member (root, keys[i]);

          if (node == NULL)
            continue;
          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            return g_strdup (json_node_get_string (node));
          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              JsonObject *obj = json_node_get_object (node);
              const char *message = json_object_get_string_member_with_default (obj, "message", NULL);

              if (message != NULL)
                return g_strdup (message);
            }
        }
      return NULL;
    }

  /* Not JSON: a short text body (a proxy's error page, say) is still the
   * best explanation there is. HTML is not worth quoting. */
  if (len <= 300 && memchr (data, '<', len) == NULL)
    return g_strstrip (g_strndup (data, len));

  return NULL;
}

static GError *
error_for_status (SoupMessage *message,
                  GBytes      *body)
{
  guint status = soup_message_get_status (message);
  const char *reason = soup_message_get_reason_phrase (message);
  g_autofree char *server_message = _confab_error_message_from_body (body);
  g_autoptr(GString) status_text = g_string_new (NULL);
  int code = _confab_error_code_for_status (status);

  if (reason == NULL || reason[0] == '\0')
    reason = soup_status_get_phrase (status);

  /* The status line stays as HTTP says it, which is what people search for. */
  g_string_append_printf (status_text, "HTTP %u", status);
  if (reason != NULL && reason[0] != '\0')
    g_string_append_printf (status_text, " %s", reason);

  if (server_message != NULL && server_message[0] != '\0')
    return g_error_new (CONFAB_ERROR, code,
                        /* Translators: an HTTP status, such as “HTTP 401
                         * Unauthorized”, then the server's own explanation. */
                        C_("HTTP error", "%s: %s"), status_text->str, server_message);

  return g_error_new (CONFAB_ERROR, code,
                      /* Translators: the first %s is an HTTP status, such as
                       * “HTTP 404 Not Found”, the second the path asked for,
                       * such as “/v1/models”. */
                      _("%s from %s"), status_text->str,
                      g_uri_get_path (soup_message_get_uri (message)));
}

/* Retry-After: delta seconds or an HTTP date. Returns -1 when absent. */
static gint64
parse_retry_after (SoupMessage *message)
{
  const char *value = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                                    "Retry-After");
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) now = NULL;
  char *end = NULL;
  guint64 seconds;

  if (value == NULL)
    return -1;

  if (g_ascii_isdigit (*value))
    {
      seconds = g_ascii_strtoull (value, &end, 10);
      if (end != NULL && *end == '\0')
        return (gint64)MIN (seconds, G_MAXINT32);
      return -1;
    }

  date = soup_date_time_new_from_http_string (value);
  if (date == NULL)
    return -1;
  now = g_date_time_new_now_utc ();
  return MAX (0, g_date_time_difference (date, now) / G_USEC_PER_SEC);
}

static gboolean
status_is_retryable (guint status)
{
  return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sending with retries */

typedef struct
{
  ConfabWatchdog       *watchdog;
  ConfabMessageBuilder  build;
  gpointer              build_data;
  SoupMessage          *message;
  GInputStream         *error_stream;
  GByteArray           *error_body;
  GError               *last_error;
  guint                 tries;
  GSource              *retry_source;
  GSource              *cancel_source;
} SendData;

static void stop_waiting (SendData *send);

static void
send_data_free (gpointer data)
{
  SendData *send = data;

  stop_waiting (send);
  g_clear_object (&send->message);
  g_clear_object (&send->error_stream);
  g_clear_pointer (&send->error_body, g_byte_array_unref);
  g_clear_error (&send->last_error);
  g_free (send);
}

static void send_try (GTask *task);

static void
stop_waiting (SendData *send)
{
  _confab_source_clear (&send->retry_source);
  _confab_source_clear (&send->cancel_source);
}

static gboolean
retry_cb (gpointer data)
{
  GTask *task = data;
  SendData *send = g_task_get_task_data (task);

  stop_waiting (send);
  _confab_watchdog_pause (send->watchdog, FALSE);
  send_try (task);

  return G_SOURCE_REMOVE;
}

/* Dispatched on the task's main context, whichever thread cancelled. */
static gboolean
retry_cancelled_cb (GCancellable *cancellable,
                    gpointer      data)
{
  GTask *task = data;
  SendData *send = g_task_get_task_data (task);

  stop_waiting (send);
  g_task_return_error (task,
                       _confab_watchdog_map_error (send->watchdog, send->last_error,
                                                   /* Translators: completes “… while %s” */
                                                   _("waiting to retry")));
  g_object_unref (task);

  return G_SOURCE_REMOVE;
}

/* Fails @task with @error, or tries again after a pause when the failure
 * is worth retrying and tries are left. Takes @error. */
static void
fail_or_retry (GTask    *task,
               GError   *error,
               gboolean  retryable,
               gint64    retry_after)
{
  ConfabProvider *self = g_task_get_source_object (task);
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  SendData *send = g_task_get_task_data (task);
  GCancellable *cancellable = _confab_watchdog_get_cancellable (send->watchdog);
  guint64 delay_ms;

  if (!retryable || send->tries >= priv->max_tries || g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (retry_after > MAX_RETRY_WAIT)
    {
      /* Translators: this goes before the error itself, as in “The server
       * asks to wait 120 seconds before trying again; HTTP 429 Too Many
       * Requests: …”. */
      g_prefix_error (&error, g_dngettext (GETTEXT_PACKAGE,
                                           "The server asks to wait %lld second before trying again; ",
                                           "The server asks to wait %lld seconds before trying again; ",
                                           (gulong)retry_after),
                      (long long)retry_after);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (retry_after >= 0)
    delay_ms = retry_after * 1000;
  else
    delay_ms = MIN ((guint64)priv->retry_delay_ms << (send->tries - 1), MAX_RETRY_WAIT * 1000);

  g_debug ("Try %u failed (%s); retrying in %" G_GUINT64_FORMAT " ms",
           send->tries, error->message, delay_ms);

  g_clear_error (&send->last_error);
  send->last_error = error;

  /* The pause is ours, not a stall of the server. */
  _confab_watchdog_pause (send->watchdog, TRUE);
  send->retry_source = _confab_timeout_add ((guint)delay_ms, retry_cb, task);
  send->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (send->cancel_source, G_SOURCE_FUNC (retry_cancelled_cb), task, NULL);
  g_source_attach (send->cancel_source, g_task_get_context (task));
}

static void
error_body_read_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(GBytes) body = NULL;
  GTask *task = user_data;
  SendData *send = g_task_get_task_data (task);
  guint status = soup_message_get_status (send->message);
  GError *error;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);
  if (chunk != NULL && g_bytes_get_size (chunk) > 0 && send->error_body->len < MAX_ERROR_BODY)
    {
      _confab_watchdog_touch (send->watchdog);
      g_byte_array_append (send->error_body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      g_input_stream_read_bytes_async (send->error_stream, 8192, G_PRIORITY_DEFAULT,
                                       _confab_watchdog_get_cancellable (send->watchdog),
                                       error_body_read_cb, task);
      return;
    }

  /* A read error here only loses the explanation, not the status. */
  body = g_byte_array_free_to_bytes (g_steal_pointer (&send->error_body));
  error = error_for_status (send->message, body);
  g_input_stream_close_async (send->error_stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&send->error_stream);

  fail_or_retry (task, error, status_is_retryable (status), parse_retry_after (send->message));
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) io_error = NULL;
  GTask *task = user_data;
  SendData *send = g_task_get_task_data (task);
  guint status;

  stream = soup_session_send_finish (SOUP_SESSION (object), result, &io_error);
  if (stream == NULL)
    {
      /* Translators: completes “… while %s” in “Timed out while %s”, “The
       * connection failed while %s” and “The server sent nothing for 60
       * seconds while %s”. */
      GError *error = _confab_watchdog_map_error (send->watchdog, io_error, _("connecting"));
      gboolean retryable = error->code == CONFAB_ERROR_NETWORK;
      g_autofree char *uri = g_uri_to_string_partial (soup_message_get_uri (send->message),
                                                      G_URI_HIDE_PASSWORD | G_URI_HIDE_QUERY);

      if (error->code == CONFAB_ERROR_NETWORK)
        {
          g_clear_error (&error);
          error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_NETWORK,
                               /* Translators: the first %s is a URL, the
                                * second the system's explanation. */
                               _("Could not reach %s: %s"), uri, io_error->message);
        }
      fail_or_retry (task, error, retryable, -1);
      return;
    }

  _confab_watchdog_touch (send->watchdog);
  status = soup_message_get_status (send->message);

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_pointer (task, g_steal_pointer (&stream), g_object_unref);
      g_object_unref (task);
      return;
    }

  send->error_stream = g_steal_pointer (&stream);
  send->error_body = g_byte_array_new ();
  g_input_stream_read_bytes_async (send->error_stream, 8192, G_PRIORITY_DEFAULT,
                                   _confab_watchdog_get_cancellable (send->watchdog),
                                   error_body_read_cb, task);
}

static void
send_try (GTask *task)
{
  ConfabProvider *self = g_task_get_source_object (task);
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  SendData *send = g_task_get_task_data (task);
  GError *error = NULL;

  send->tries++;
  g_clear_object (&send->message);
  send->message = send->build (self, send->build_data, &error);
  if (send->message == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  soup_session_send_async (priv->session, send->message, G_PRIORITY_DEFAULT,
                           _confab_watchdog_get_cancellable (send->watchdog),
                           send_cb, task);
}

void
_confab_provider_send_async (ConfabProvider       *self,
                             ConfabMessageBuilder  build,
                             gpointer              build_data,
                             ConfabWatchdog       *watchdog,
                             GAsyncReadyCallback   callback,
                             gpointer              user_data)
{
  GTask *task;
  SendData *send;

  task = g_task_new (self, _confab_watchdog_get_cancellable (watchdog), callback, user_data);
  g_task_set_source_tag (task, _confab_provider_send_async);
  /* Errors are mapped by hand, so a cancelled task must not turn them
   * into a plain G_IO_ERROR_CANCELLED. */
  g_task_set_check_cancellable (task, FALSE);

  send = g_new0 (SendData, 1);
  send->watchdog = watchdog;
  send->build = build;
  send->build_data = build_data;
  g_task_set_task_data (task, send, send_data_free);

  send_try (task);
}

/**
 * _confab_provider_send_finish:
 * @message: (out) (optional) (transfer full): the message that succeeded
 *
 * Returns: (transfer full): the body of a 2xx response.
 */
GInputStream *
_confab_provider_send_finish (ConfabProvider  *self,
                              GAsyncResult    *result,
                              SoupMessage    **message,
                              GError         **error)
{
  GTask *task = G_TASK (result);
  SendData *send = g_task_get_task_data (task);
  GInputStream *stream = g_task_propagate_pointer (task, error);

  if (message != NULL)
    *message = stream != NULL ? g_object_ref (send->message) : NULL;
  return stream;
}

/* Model lists */

typedef struct
{
  ConfabWatchdog *watchdog;
  GInputStream   *stream;
  GByteArray     *body;
} ListData;

static void
list_data_free (gpointer data)
{
  ListData *list = data;

  g_clear_object (&list->stream);
  g_clear_pointer (&list->body, g_byte_array_unref);
  g_clear_pointer (&list->watchdog, _confab_watchdog_free);
  g_free (list);
}

static SoupMessage *
build_models_message (ConfabProvider  *self,
                      gpointer         data,
                      GError         **error)
{
  return CONFAB_PROVIDER_GET_CLASS (self)->build_models_message (self, error);
}

static void
models_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConfabProvider *self = g_task_get_source_object (task);
  ListData *list = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(GError) io_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  GStrv models;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &io_error);
  if (chunk == NULL)
    {
      g_task_return_error (task,
                           _confab_watchdog_map_error (list->watchdog, io_error,
                                                       /* Translators: completes “… while %s” */
                                                       _("reading the model list")));
      return;
    }

  if (g_bytes_get_size (chunk) > 0)
    {
      _confab_watchdog_touch (list->watchdog);
      if (list->body->len + g_bytes_get_size (chunk) > MAX_MODELS_BODY)
        {
          g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                   _("The server's model list is larger than 16 MiB"));
          return;
        }
      g_byte_array_append (list->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      g_input_stream_read_bytes_async (list->stream, 65536, G_PRIORITY_DEFAULT,
                                       _confab_watchdog_get_cancellable (list->watchdog),
                                       models_read_cb, g_steal_pointer (&task));
      return;
    }

  if (!confab_json_parse ((const char *)list->body->data, list->body->len, &root, &error))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                               /* Translators: %s says where the JSON is wrong and how. */
                               _("The server's model list is not valid JSON: %s"), error->message);
      return;
    }
  if (root == NULL)
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                               _("The server sent an empty model list"));
      return;
    }

  models = CONFAB_PROVIDER_GET_CLASS (self)->parse_models (self, root, &error);
  if (models == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, models, (GDestroyNotify)g_strfreev);
}

static void
models_send_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListData *list = g_task_get_task_data (task);
  GError *error = NULL;

  list->stream = _confab_provider_send_finish (CONFAB_PROVIDER (object), result, NULL, &error);
  if (list->stream == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  list->body = g_byte_array_new ();
  g_input_stream_read_bytes_async (list->stream, 65536, G_PRIORITY_DEFAULT,
                                   _confab_watchdog_get_cancellable (list->watchdog),
                                   models_read_cb, g_steal_pointer (&task));
}

/**
 * confab_provider_list_models_async:
 * @self: a #ConfabProvider
 * @cancellable: (nullable): a #GCancellable
 *
 * Asks the server which models it serves. Main context of the caller;
 * retries and timeouts as for a chat.
 */
void
confab_provider_list_models_async (ConfabProvider      *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  g_autoptr(GTask) task = NULL;
  ListData *list;

  g_return_if_fail (CONFAB_IS_PROVIDER (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_provider_list_models_async);
  g_task_set_check_cancellable (task, FALSE);

  list = g_new0 (ListData, 1);
  list->watchdog = _confab_watchdog_new (priv->timeout, cancellable);
  g_task_set_task_data (task, list, list_data_free);

  _confab_provider_send_async (self, build_models_message, NULL, list->watchdog,
                               models_send_cb, g_steal_pointer (&task));
}

/**
 * confab_provider_list_models_finish:
 *
 * Returns: (transfer full): the model ids, in the server's order.
 */
GStrv
confab_provider_list_models_finish (ConfabProvider  *self,
                                    GAsyncResult    *result,
                                    GError         **error)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* GObject */

static void
confab_provider_finalize (GObject *object)
{
  ConfabProvider *self = (ConfabProvider *)object;
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_clear_object (&priv->session);
  g_clear_pointer (&priv->base_url, g_free);
  g_clear_pointer (&priv->api_key, g_free);
  g_clear_pointer (&priv->headers, soup_message_headers_unref);

  G_OBJECT_CLASS (confab_provider_parent_class)->finalize (object);
}

static void
confab_provider_constructed (GObject *object)
{
  ConfabProvider *self = (ConfabProvider *)object;
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  G_OBJECT_CLASS (confab_provider_parent_class)->constructed (object);

  if (priv->base_url == NULL)
    confab_provider_set_base_url (self, CONFAB_PROVIDER_GET_CLASS (self)->default_base_url);
}

static void
confab_provider_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  ConfabProvider *self = CONFAB_PROVIDER (object);
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, priv->base_url);
      break;

    case PROP_API_KEY:
      g_value_set_string (value, priv->api_key);
      break;

    case PROP_TIMEOUT:
      g_value_set_uint (value, priv->timeout);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_provider_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  ConfabProvider *self = CONFAB_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      confab_provider_set_base_url (self, g_value_get_string (value));
      break;

    case PROP_API_KEY:
      confab_provider_set_api_key (self, g_value_get_string (value));
      break;

    case PROP_TIMEOUT:
      confab_provider_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_provider_class_init (ConfabProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = confab_provider_constructed;
  object_class->finalize = confab_provider_finalize;
  object_class->get_property = confab_provider_get_property;
  object_class->set_property = confab_provider_set_property;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * ConfabProvider:timeout:
   *
   * Seconds without a byte from the server after which a request fails
   * with %CONFAB_ERROR_TIMEOUT; 0 waits forever.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, 24 * 3600, 120,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
confab_provider_init (ConfabProvider *self)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  g_autofree char *user_agent = g_strdup_printf ("Confab/%s ", PACKAGE_VERSION);

  /* Several replies may stream from one server at once (several chats,
   * several agents): libsoup's default of two connections per host would
   * queue the rest. Our own watchdog does the timeouts. */
  priv->session = soup_session_new_with_options ("max-conns", 64,
                                                 "max-conns-per-host", 32,
                                                 "user-agent", user_agent,
                                                 "timeout", 0,
                                                 "idle-timeout", 60,
                                                 NULL);
  priv->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  priv->timeout = 120;
  priv->max_tries = 3;
  priv->retry_delay_ms = 1000;
}

/* Public API */

/**
 * confab_provider_new_for_api:
 * @api: "openai", "ollama" or "anthropic"
 * @base_url: (nullable): the server; %NULL for the API's usual address
 *
 * Returns: (transfer full) (nullable): a provider, or %NULL with
 *   %CONFAB_ERROR_INVALID_ARGUMENT for an unknown API or a bad URL.
 */
ConfabProvider *
confab_provider_new_for_api (const char  *api,
                             const char  *base_url,
                             GError     **error)
{
  GType type;

  g_return_val_if_fail (api != NULL, NULL);

  if (g_str_equal (api, "openai"))
    type = CONFAB_TYPE_OPENAI_PROVIDER;
  else if (g_str_equal (api, "ollama"))
    type = CONFAB_TYPE_OLLAMA_PROVIDER;
  else if (g_str_equal (api, "anthropic"))
    type = CONFAB_TYPE_ANTHROPIC_PROVIDER;
  else
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: openai, ollama and anthropic are values
                    * to type, not names to translate. */
                   _("Unknown API “%s” (expected openai, ollama or anthropic)"), api);
      return NULL;
    }

  if (base_url != NULL)
    {
      g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
      const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;

      if (uri == NULL || scheme == NULL ||
          (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
          g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not an http:// or https:// URL"), base_url);
          return NULL;
        }
    }

  return g_object_new (type, "base-url", base_url, NULL);
}

/**
 * confab_provider_get_default_base_url_for_api:
 *
 * Returns: (nullable): where @api's server usually is, or %NULL for an
 *   unknown API.
 */
const char *
confab_provider_get_default_base_url_for_api (const char *api)
{
  g_autoptr(ConfabProvider) provider = confab_provider_new_for_api (api, NULL, NULL);

  return provider != NULL ? CONFAB_PROVIDER_GET_CLASS (provider)->default_base_url : NULL;
}

const char *
confab_provider_get_api_name (ConfabProvider *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), NULL);
  return CONFAB_PROVIDER_GET_CLASS (self)->api_name;
}

const char *
confab_provider_get_base_url (ConfabProvider *self)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), NULL);
  return priv->base_url;
}

void
confab_provider_set_base_url (ConfabProvider *self,
                              const char     *base_url)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  g_autofree char *trimmed = NULL;

  g_return_if_fail (CONFAB_IS_PROVIDER (self));

  if (base_url == NULL)
    return;

  trimmed = g_strdup (base_url);
  while (trimmed[0] != '\0' && trimmed[strlen (trimmed) - 1] == '/')
    trimmed[strlen (trimmed) - 1] = '\0';

  if (g_strcmp0 (priv->base_url, trimmed) == 0)
    return;

  g_free (priv->base_url);
  priv->base_url = g_steal_pointer (&trimmed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

/**
 * confab_provider_get_api_key:
 *
 * Returns: (nullable): the key sent with requests.
 */
const char *
confab_provider_get_api_key (ConfabProvider *self)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), NULL);
  return priv->api_key;
}

void
confab_provider_set_api_key (ConfabProvider *self,
                             const char     *api_key)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_if_fail (CONFAB_IS_PROVIDER (self));

  if (api_key != NULL && api_key[0] == '\0')
    api_key = NULL;
  if (g_strcmp0 (priv->api_key, api_key) == 0)
    return;

  if (priv->api_key != NULL)
    memset (priv->api_key, 0, strlen (priv->api_key));
  g_free (priv->api_key);
  priv->api_key = g_strdup (api_key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
}

guint
confab_provider_get_timeout (ConfabProvider *self)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), 0);
  return priv->timeout;
}

void
confab_provider_set_timeout (ConfabProvider *self,
                             guint           seconds)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_if_fail (CONFAB_IS_PROVIDER (self));

  if (priv->timeout == seconds)
    return;
  priv->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * confab_provider_set_header:
 * @name: a header name
 * @value: (nullable): its value, %NULL to remove it
 *
 * Adds a header to every request (OpenRouter's HTTP-Referer, say).
 */
void
confab_provider_set_header (ConfabProvider *self,
                            const char     *name,
                            const char     *value)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_if_fail (CONFAB_IS_PROVIDER (self));
  g_return_if_fail (name != NULL);

  if (value == NULL)
    soup_message_headers_remove (priv->headers, name);
  else
    soup_message_headers_replace (priv->headers, name, value);
}

/**
 * confab_provider_build_url:
 * @path: a path starting with "/"
 *
 * Returns: (transfer full): the base URL followed by @path.
 */
char *
confab_provider_build_url (ConfabProvider *self,
                           const char     *path)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);

  return g_strconcat (priv->base_url, path, NULL);
}

static void
copy_header_cb (const char *name,
                const char *value,
                gpointer    user_data)
{
  soup_message_headers_replace (user_data, name, value);
}

/**
 * confab_provider_new_json_message:
 * @method: "GET" or "POST"
 * @path: appended to the base URL
 * @body: (nullable) (transfer none): the JSON body
 *
 * For subclasses: a request with the provider's extra headers and, with
 * a body, the JSON content type.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with
 *   %CONFAB_ERROR_INVALID_ARGUMENT when the base URL does not make a
 *   valid URL.
 */
SoupMessage *
confab_provider_new_json_message (ConfabProvider  *self,
                                  const char      *method,
                                  const char      *path,
                                  JsonNode        *body,
                                  GError         **error)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  g_autofree char *url = confab_provider_build_url (self, path);
  SoupMessage *message;

  message = soup_message_new (method, url);
  if (message == NULL)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("“%s” does not make a valid URL"), priv->base_url);
      return NULL;
    }

  soup_message_headers_foreach (priv->headers, copy_header_cb,
                                soup_message_get_request_headers (message));

  if (body != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(GBytes) bytes = NULL;
      char *text;
      gsize len;

      json_generator_set_root (generator, body);
      text = json_generator_to_data (generator, &len);
      bytes = g_bytes_new_take (text, len);
      soup_message_set_request_body_from_bytes (message, "application/json", bytes);
    }

  return message;
}

/**
 * confab_provider_set_max_tries:
 * @tries: 1 to 10; 1 never retries (for quick probes)
 *
 * How many times a request is tried when the connection fails before
 * the first byte or the server answers 429, 502, 503 or 504 (default 3).
 */
void
confab_provider_set_max_tries (ConfabProvider *self,
                               guint           tries)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  g_return_if_fail (CONFAB_IS_PROVIDER (self));
  g_return_if_fail (tries >= 1 && tries <= 10);

  priv->max_tries = tries;
}

gsize
_confab_provider_get_max_line_length (ConfabProvider *self)
{
  return CONFAB_DEFAULT_MAX_LINE_LENGTH;
}

void
_confab_provider_set_retry_delay (ConfabProvider *self,
                                  guint           milliseconds)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);

  priv->retry_delay_ms = milliseconds;
}

/**
 * _confab_add_function_tools:
 *
 * Adds a "tools" member in the {"type":"function","function":{...}}
 * shape that OpenAI and Ollama share, when there are tools.
 */
void
_confab_add_function_tools (JsonBuilder *builder,
                            GPtrArray   *tools)
{
  if (tools->len == 0)
    return;

  json_builder_set_member_name (builder, "tools");
  json_builder_begin_array (builder);
  for (guint i = 0; i < tools->len; i++)
    {
      ConfabToolSpec *tool = g_ptr_array_index (tools, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "function");
      json_builder_set_member_name (builder, "function");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, confab_tool_spec_get_name (tool));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, confab_tool_spec_get_description (tool));
      json_builder_set_member_name (builder, "parameters");
      json_builder_add_value (builder, json_node_copy (confab_tool_spec_get_parameters (tool)));
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* Sends the API key as "Authorization: Bearer", when there is one. */
void
_confab_provider_add_bearer (ConfabProvider *self,
                             SoupMessage    *message)
{
  ConfabProviderPrivate *priv = confab_provider_get_instance_private (self);
  g_autofree char *auth = NULL;

  if (priv->api_key == NULL)
    return;

  auth = g_strconcat ("Bearer ", priv->api_key, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", auth);
}
