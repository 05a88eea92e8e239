/* confab-test-server.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#define G_LOG_DOMAIN "confab-test-server"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "confab-test-server.h"

/* How long dispose waits for responses whose terminating chunk is being
 * written (libsoup closes a chunked body asynchronously). */
#define DISPOSE_WAIT_MS 2000

struct _ConfabTestResponse
{
  guint              status;
  GBytes            *body;
  char              *content_type;
  GPtrArray         *header_names;
  GPtrArray         *header_values;
  ConfabTestFraming  framing;
  guint              delay_ms;
  ConfabTestFault    fault;
  gsize              fault_offset;
  char              *expect_api;
  GStrv              expect_ids;
  GStrv              expect_contains;
};

typedef struct
{
  GPtrArray *responses;
  guint      next;
} Route;

typedef struct
{
  char               *path;
  char               *method;
  SoupMessageHeaders *headers;
  GBytes             *body;
  gint64              time;
} Request;

/* One queued response being served to one request. */
typedef struct
{
  ConfabTestServer  *server;
  SoupServerMessage *msg;
  GSocket           *socket;
  GBytes            *body;
  gsize              offset;
  gsize              limit;
  ConfabTestFraming  framing;
  guint              delay_ms;
  ConfabTestFault    fault;
  gboolean           event_blank_lines;
  gboolean           streamed;
  /* The chunked body is complete; libsoup is writing its end. */
  gboolean           completing;
  GSource           *step_source;
  GSource           *watch_source;
  gulong             wrote_chunk_id;
  gulong             finished_id;
  gulong             disconnected_id;
} Stream;

struct _ConfabTestServer
{
  GObject       parent_instance;

  GMainContext *context;
  SoupServer   *soup_server;
  char         *url;
  guint16       port;

  GHashTable   *routes;
  GPtrArray    *requests;
  GPtrArray    *streams;
};

G_DEFINE_FINAL_TYPE (ConfabTestServer, confab_test_server, G_TYPE_OBJECT)

enum {
  REQUEST_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void stream_schedule_step (Stream *stream);

static void
response_free (ConfabTestResponse *resp)
{
  g_free (resp->expect_api);
  g_strfreev (resp->expect_ids);
  g_strfreev (resp->expect_contains);
  g_clear_pointer (&resp->body, g_bytes_unref);
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->header_names, g_ptr_array_unref);
  g_clear_pointer (&resp->header_values, g_ptr_array_unref);
  g_free (resp);
}

static void
route_free (Route *route)
{
  g_ptr_array_unref (route->responses);
  g_free (route);
}

static void
request_free (Request *request)
{
  g_free (request->path);
  g_free (request->method);
  g_clear_pointer (&request->headers, soup_message_headers_unref);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}

static void
stream_free (Stream *stream)
{
  if (stream->step_source != NULL)
    {
      g_source_destroy (stream->step_source);
      g_clear_pointer (&stream->step_source, g_source_unref);
    }
  if (stream->watch_source != NULL)
    {
      g_source_destroy (stream->watch_source);
      g_clear_pointer (&stream->watch_source, g_source_unref);
    }

  g_clear_signal_handler (&stream->wrote_chunk_id, stream->msg);
  g_clear_signal_handler (&stream->finished_id, stream->msg);
  g_clear_signal_handler (&stream->disconnected_id, stream->msg);

  g_clear_object (&stream->msg);
  g_clear_object (&stream->socket);
  g_clear_pointer (&stream->body, g_bytes_unref);
  g_free (stream);
}

/* Drops @stream from the active set; frees it. */
static void
stream_remove (Stream *stream)
{
  gboolean removed;

  removed = g_ptr_array_remove_fast (stream->server->streams, stream);
  g_assert (removed);
}

/* Appends @s, escaped as the inside of a JSON string, to @str. */
static void
append_json_escaped (GString    *str,
                     const char *s)
{
  for (; *s != '\0'; s++)
    {
      guchar c = (guchar) *s;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (str, '\\');
          g_string_append_c (str, (char) c);
        }
      else if (c == '\n')
        g_string_append (str, "\\n");
      else if (c == '\r')
        g_string_append (str, "\\r");
      else if (c == '\t')
        g_string_append (str, "\\t");
      else if (c < 0x20)
        g_string_append_printf (str, "\\u%04x", c);
      else
        g_string_append_c (str, (char) c);
    }
}

/* Length of the line ending at @p (CRLF, LF or CR), 0 if none. */
static gsize
line_ending_length (const char *p,
                    gsize       remaining)
{
  if (remaining >= 2 && p[0] == '\r' && p[1] == '\n')
    return 2;
  if (remaining >= 1 && (p[0] == '\r' || p[0] == '\n'))
    return 1;
  return 0;
}

/* Offset just past the first blank line at or after @offset, or 0 if none. */
static gsize
find_event_end (const char *data,
                gsize       len,
                gsize       offset)
{
  gsize i = offset;

  while (i < len)
    {
      gsize first = line_ending_length (data + i, len - i);
      gsize second;

      if (first == 0)
        {
          i++;
          continue;
        }

      second = line_ending_length (data + i + first, len - i - first);
      if (second > 0)
        return i + first + second;

      i += first;
    }

  return 0;
}

static gsize
stream_next_write_size (Stream *stream)
{
  const char *data;
  gsize len;
  gsize end = 0;

  g_assert (stream->offset < stream->limit);

  switch (stream->framing)
    {
    case CONFAB_TEST_FRAMING_BYTE:
      return 1;

    case CONFAB_TEST_FRAMING_EVENT:
      data = g_bytes_get_data (stream->body, &len);
      if (stream->event_blank_lines)
        {
          end = find_event_end (data, len, stream->offset);
        }
      else
        {
          const char *nl = memchr (data + stream->offset, '\n', len - stream->offset);

          if (nl != NULL)
            end = (gsize) (nl - data) + 1;
        }
      if (end == 0 || end > stream->limit)
        end = stream->limit;
      return end - stream->offset;

    case CONFAB_TEST_FRAMING_BULK:
    default:
      return stream->limit - stream->offset;
    }
}

/* Takes @stream's connection away from libsoup and closes it; with @reset,
 * the close sends a RST instead of a FIN. Frees @stream. */
static void
stream_abort (Stream   *stream,
              gboolean  reset)
{
  g_autoptr(SoupServerMessage) msg = g_object_ref (stream->msg);
  g_autoptr(GSocket) socket = g_object_ref (stream->socket);
  g_autoptr(GIOStream) iostream = NULL;

  stream_remove (stream);

  if (reset)
    {
      struct linger linger = { 1, 0 };

      if (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER,
                      &linger, sizeof linger) != 0)
        g_warning ("Could not set SO_LINGER: %s", g_strerror (errno));
    }

  /* Close first: stealing tears down libsoup's body stream, whose close
   * would otherwise write a terminating chunk. */
  g_socket_close (socket, NULL);
  iostream = soup_server_message_steal_connection (msg);
  if (iostream != NULL)
    g_io_stream_close (iostream, NULL, NULL);
}

static void
stream_complete (Stream *stream)
{
  stream->completing = TRUE;
  soup_message_body_complete (soup_server_message_get_response_body (stream->msg));
  soup_server_message_unpause (stream->msg);
}

static gboolean
stream_step_cb (gpointer user_data)
{
  Stream *stream = user_data;
  gsize body_len = g_bytes_get_size (stream->body);

  g_clear_pointer (&stream->step_source, g_source_unref);

  if (stream->offset < stream->limit)
    {
      gsize size = stream_next_write_size (stream);
      g_autoptr(GBytes) chunk = g_bytes_new_from_bytes (stream->body, stream->offset, size);

      soup_message_body_append_bytes (soup_server_message_get_response_body (stream->msg), chunk);
      stream->offset += size;

      /* The next step is scheduled from wrote-chunk, once this chunk is on
       * the socket; a body that ends here is completed right away. */
      if (stream->offset == body_len && stream->fault == CONFAB_TEST_FAULT_NONE)
        stream_complete (stream);
      else
        soup_server_message_unpause (stream->msg);

      return G_SOURCE_REMOVE;
    }

  switch (stream->fault)
    {
    case CONFAB_TEST_FAULT_RESET:
      stream_abort (stream, TRUE);
      break;

    case CONFAB_TEST_FAULT_STALL:
      /* Nothing more; the socket watch notices when the client goes. */
      break;

    case CONFAB_TEST_FAULT_NONE:
    case CONFAB_TEST_FAULT_TRUNCATE:
      stream_complete (stream);
      break;

    case CONFAB_TEST_FAULT_NO_RESPONSE:
    default:
      g_assert_not_reached ();
    }

  return G_SOURCE_REMOVE;
}

static void
stream_schedule_step (Stream *stream)
{
  g_assert (stream->step_source == NULL);

  if (stream->delay_ms > 0)
    stream->step_source = g_timeout_source_new (stream->delay_ms);
  else
    stream->step_source = g_idle_source_new ();

  g_source_set_static_name (stream->step_source, "[confab-test-server] step");
  g_source_set_callback (stream->step_source, stream_step_cb, stream, NULL);
  g_source_attach (stream->step_source, stream->server->context);
}

static void
stream_wrote_chunk_cb (SoupServerMessage *msg,
                       gpointer           user_data)
{
  Stream *stream = user_data;

  if (!stream->completing && stream->step_source == NULL)
    stream_schedule_step (stream);
}

static void
stream_finished_cb (SoupServerMessage *msg,
                    gpointer           user_data)
{
  stream_remove (user_data);
}

static void
stream_disconnected_cb (SoupServerMessage *msg,
                        gpointer           user_data)
{
  stream_remove (user_data);
}

/* libsoup does not poll the socket while a response is paused, so it would
 * not notice a client that went away during a delay, a stall or a
 * NO_RESPONSE; this watch does. */
static gboolean
stream_watch_cb (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  Stream *stream = user_data;

  if ((condition & (G_IO_HUP | G_IO_ERR)) == 0)
    {
      char c;
      gssize n;

      n = recv (g_socket_get_fd (socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;

      if (n > 0)
        {
          /* The client sent more (a pipelined request): it is still there,
           * and libsoup will read that after this response. */
          g_clear_pointer (&stream->watch_source, g_source_unref);
          return G_SOURCE_REMOVE;
        }
    }

  g_debug ("Client went away during a response; closing the connection");
  stream_abort (stream, FALSE);

  return G_SOURCE_REMOVE;
}

static void
stream_start (ConfabTestServer   *self,
              SoupServerMessage  *msg,
              ConfabTestResponse *resp)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  Stream *stream;
  gsize body_len;

  stream = g_new0 (Stream, 1);
  stream->server = self;
  stream->msg = g_object_ref (msg);
  stream->socket = g_object_ref (soup_server_message_get_socket (msg));
  stream->body = resp->body != NULL ? g_bytes_ref (resp->body) : g_bytes_new_static ("", 0);
  stream->framing = resp->framing;
  stream->delay_ms = resp->delay_ms;
  stream->fault = resp->fault;
  stream->streamed = (resp->framing != CONFAB_TEST_FRAMING_BULK ||
                      resp->delay_ms > 0 ||
                      resp->fault != CONFAB_TEST_FAULT_NONE);

  body_len = g_bytes_get_size (stream->body);
  stream->limit = body_len;
  if (stream->fault != CONFAB_TEST_FAULT_NONE)
    stream->limit = MIN (resp->fault_offset, body_len);

  if (stream->framing == CONFAB_TEST_FRAMING_EVENT)
    {
      const char *data = g_bytes_get_data (stream->body, NULL);

      stream->event_blank_lines = find_event_end (data, body_len, 0) != 0;
    }

  /* libsoup looks these up when the connection is stolen (see
   * stream_abort()); by then the socket may be closed, so cache them now. */
  soup_server_message_get_local_address (msg);
  soup_server_message_get_remote_address (msg);

  g_ptr_array_add (self->streams, stream);

  stream->finished_id = g_signal_connect (msg, "finished",
                                          G_CALLBACK (stream_finished_cb), stream);
  stream->disconnected_id = g_signal_connect (msg, "disconnected",
                                              G_CALLBACK (stream_disconnected_cb), stream);

  stream->watch_source = g_socket_create_source (stream->socket,
                                                 G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                 NULL);
  g_source_set_static_name (stream->watch_source, "[confab-test-server] client watch");
  g_source_set_callback (stream->watch_source, G_SOURCE_FUNC (stream_watch_cb), stream, NULL);
  g_source_attach (stream->watch_source, self->context);

  if (stream->fault == CONFAB_TEST_FAULT_NO_RESPONSE)
    {
      soup_server_message_pause (msg);
      return;
    }

  if (!stream->streamed)
    {
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
      /* A response without a body (a redirect, say) has none to add. */
      if (stream->body != NULL && g_bytes_get_size (stream->body) > 0)
        soup_message_body_append_bytes (body, stream->body);
      soup_message_body_complete (body);
      stream->offset = body_len;
      return;
    }

  /* An HTTP/1.0 client cannot take chunks: end the body with EOF then. */
  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0)
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_EOF);
  else
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);

  /* libsoup sends the headers when the handler returns, then pauses the
   * message until a chunk is appended. */
  stream->wrote_chunk_id = g_signal_connect (msg, "wrote-chunk",
                                             G_CALLBACK (stream_wrote_chunk_cb), stream);
  stream_schedule_step (stream);
}

static const char *
default_content_type (GBytes *body)
{
  const char *data;
  gsize len;

  if (body == NULL)
    return "application/json";

  data = g_bytes_get_data (body, &len);
  if ((len >= 5 && memcmp (data, "data:", 5) == 0) ||
      (len >= 6 && memcmp (data, "event:", 6) == 0) ||
      (len >= 1 && data[0] == ':'))
    return "text/event-stream";

  return "application/json";
}

static void
record_request (ConfabTestServer  *self,
                SoupServerMessage *msg,
                const char        *path)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;
  Request *request;

  request = g_new0 (Request, 1);
  request->path = g_strdup (path);
  request->method = g_strdup (soup_server_message_get_method (msg));
  request->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_iter_init (&iter, request_headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    soup_message_headers_append (request->headers, name, value);
  request->body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  request->time = g_get_monotonic_time ();

  g_ptr_array_add (self->requests, request);
  g_signal_emit (self, signals[REQUEST_RECEIVED], 0, self->requests->len - 1);
}

/* The tool results of @root in the shape of @api, as (id, content) pairs:
 * those after the last assistant message that asked for tools. */
static GPtrArray *
collect_tool_results (const char  *api,
                      JsonNode    *root,
                      char       **problem)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonArray *messages = object != NULL && json_object_has_member (object, "messages")
                        ? json_object_get_array_member (object, "messages") : NULL;

  if (messages == NULL)
    {
      *problem = g_strdup ("the request has no messages array");
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);
      const char *role = json_object_get_string_member_with_default (message, "role", "");

      if (g_str_equal (role, "assistant"))
        {
          g_ptr_array_set_size (pairs, 0);
          continue;
        }

      if (g_str_equal (api, "anthropic"))
        {
          JsonNode *content = json_object_get_member (message, "content");

          if (!g_str_equal (role, "user") || content == NULL || !JSON_NODE_HOLDS_ARRAY (content))
            continue;
          for (guint j = 0; j < json_array_get_length (json_node_get_array (content)); j++)
            {
              JsonObject *block = json_array_get_object_element (json_node_get_array (content), j);

              if (g_strcmp0 (json_object_get_string_member_with_default (block, "type", ""), "tool_result") != 0)
                continue;
              g_ptr_array_add (pairs, g_strdup (json_object_get_string_member_with_default (block, "tool_use_id", "")));
              g_ptr_array_add (pairs, g_strdup (json_object_get_string_member_with_default (block, "content", "")));
            }
        }
      else if (g_str_equal (role, "tool"))
        {
          const char *key = g_str_equal (api, "ollama") ? "tool_name" : "tool_call_id";

          g_ptr_array_add (pairs, g_strdup (json_object_get_string_member_with_default (message, key, "")));
          g_ptr_array_add (pairs, g_strdup (json_object_get_string_member_with_default (message, "content", "")));
        }
    }
  return g_steal_pointer (&pairs);
}

static char *
check_tool_results (ConfabTestResponse *resp,
                    GBytes             *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) pairs = NULL;
  g_autoptr(GError) error = NULL;
  char *problem = NULL;
  guint n = g_strv_length (resp->expect_ids);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  if (!json_parser_load_from_data (parser, data, len, &error))
    return g_strdup_printf ("the request body is not JSON: %s: %.*s", error->message, (int) MIN (len, 300), data);
  if ((pairs = collect_tool_results (resp->expect_api, json_parser_get_root (parser), &problem)) == NULL)
    return problem;
  if (pairs->len / 2 != n)
    return g_strdup_printf ("expected %u tool results after the last assistant message, got %u", n, pairs->len / 2);
  for (guint i = 0; i < n; i++)
    {
      const char *id = g_ptr_array_index (pairs, 2 * i);
      const char *content = g_ptr_array_index (pairs, 2 * i + 1);

      if (!g_str_equal (id, resp->expect_ids[i]))
        return g_strdup_printf ("tool result %u is for \"%s\", expected \"%s\"", i, id, resp->expect_ids[i]);
      if (resp->expect_contains != NULL && strstr (content, resp->expect_contains[i]) == NULL)
        return g_strdup_printf ("tool result %u (\"%s\") does not contain \"%s\"", i, content,
                                resp->expect_contains[i]);
    }
  return NULL;
}

static void
server_callback_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  ConfabTestServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  ConfabTestResponse *resp;
  Route *route;

  record_request (self, msg, path);

  route = g_hash_table_lookup (self->routes, path);
  if (route == NULL)
    {
      g_autoptr(GString) json = g_string_new ("{\"error\":{\"message\":\"no response queued for ");
      gsize len;

      append_json_escaped (json, path);
      g_string_append (json, "\"}}");
      len = json->len;
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                        g_string_free (g_steal_pointer (&json), FALSE), len);
      return;
    }

  resp = g_ptr_array_index (route->responses, route->next);
  if (route->next + 1 < route->responses->len)
    route->next++;

  if (resp->expect_ids != NULL)
    {
      Request *request = g_ptr_array_index (self->requests, self->requests->len - 1);
      g_autofree char *problem = check_tool_results (resp, request->body);

      if (problem != NULL)
        {
          g_autoptr(GString) json = g_string_new ("{\"error\":{\"message\":\"");
          gsize len;

          append_json_escaped (json, problem);
          g_string_append (json, "\"}}");
          len = json->len;
          soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                            g_string_free (g_steal_pointer (&json), FALSE), len);
          return;
        }
    }

  soup_server_message_set_status (msg, resp->status, NULL);
  soup_message_headers_set_content_type (headers,
                                         resp->content_type != NULL
                                         ? resp->content_type
                                         : default_content_type (resp->body),
                                         NULL);
  for (guint i = 0; i < resp->header_names->len; i++)
    {
      const char *name = g_ptr_array_index (resp->header_names, i);
      const char *value = g_ptr_array_index (resp->header_values, i);

      if (g_ascii_strcasecmp (name, "Content-Type") == 0)
        soup_message_headers_replace (headers, name, value);
      else
        soup_message_headers_append (headers, name, value);
    }

  stream_start (self, msg, resp);
}

static gboolean
dispose_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
has_completing_stream (ConfabTestServer *self)
{
  for (guint i = 0; i < self->streams->len; i++)
    {
      Stream *stream = g_ptr_array_index (self->streams, i);

      if (stream->completing)
        return TRUE;
    }

  return FALSE;
}

static void
confab_test_server_dispose (GObject *object)
{
  ConfabTestServer *self = (ConfabTestServer *)object;
  gboolean owner = FALSE;

  if (self->context != NULL)
    owner = g_main_context_acquire (self->context);

  /* Responses whose end is being written finish by themselves (libsoup
   * closes a chunked body from a worker thread); let them, within reason,
   * so that nothing of theirs is left behind. */
  if (owner && self->streams != NULL && has_completing_stream (self))
    {
      g_autoptr(GSource) timeout = g_timeout_source_new (DISPOSE_WAIT_MS);
      gboolean timed_out = FALSE;

      g_source_set_static_name (timeout, "[confab-test-server] dispose");
      g_source_set_callback (timeout, dispose_timeout_cb, &timed_out, NULL);
      g_source_attach (timeout, self->context);
      while (!timed_out && has_completing_stream (self))
        g_main_context_iteration (self->context, TRUE);
      g_source_destroy (timeout);
    }

  /* Stop every timer and watch before libsoup drops the connections, so
   * nothing runs against a dead message. */
  if (self->streams != NULL)
    g_ptr_array_set_size (self->streams, 0);

  if (self->soup_server != NULL)
    {
      soup_server_disconnect (self->soup_server);
      g_clear_object (&self->soup_server);
    }

  /* Let the closed connections' pending callbacks run and drop their
   * references. */
  if (owner)
    {
      for (guint i = 0; i < 100 && g_main_context_iteration (self->context, FALSE); i++)
        ;
      g_main_context_release (self->context);
    }

  G_OBJECT_CLASS (confab_test_server_parent_class)->dispose (object);
}

static void
confab_test_server_finalize (GObject *object)
{
  ConfabTestServer *self = (ConfabTestServer *)object;

  g_clear_pointer (&self->streams, g_ptr_array_unref);
  g_clear_pointer (&self->routes, g_hash_table_unref);
  g_clear_pointer (&self->requests, g_ptr_array_unref);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (confab_test_server_parent_class)->finalize (object);
}

static void
confab_test_server_class_init (ConfabTestServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = confab_test_server_dispose;
  object_class->finalize = confab_test_server_finalize;

  /* Emitted with the request's index once it has been recorded, before
   * it is answered. */
  signals[REQUEST_RECEIVED] =
    g_signal_new ("request-received",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
confab_test_server_init (ConfabTestServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->routes = g_hash_table_new_full (g_str_hash, g_str_equal,
                                        g_free, (GDestroyNotify) route_free);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  self->streams = g_ptr_array_new_with_free_func ((GDestroyNotify) stream_free);
}

/**
 * confab_test_server_new:
 *
 * Creates a server listening on 127.0.0.1 on a free port, serving from the
 * thread-default main context. Aborts if it cannot listen.
 *
 * Returns: (transfer full): a new #ConfabTestServer
 */
ConfabTestServer *
confab_test_server_new (void)
{
  g_autoptr(ConfabTestServer) self = g_object_new (CONFAB_TYPE_TEST_SERVER, NULL);
  g_autoptr(GInetAddress) address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, 0);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  self->soup_server = soup_server_new ("server-header", "confab-test-server", NULL);
  soup_server_add_handler (self->soup_server, NULL, server_callback_cb, self, NULL);
  soup_server_listen (self->soup_server, socket_address, 0, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (self->soup_server);
  g_assert_nonnull (uris);
  self->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  self->url = g_strdup_printf ("http://127.0.0.1:%u", self->port);

  return g_steal_pointer (&self);
}

const char *
confab_test_server_get_url (ConfabTestServer *self)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);

  return self->url;
}

guint16
confab_test_server_get_port (ConfabTestServer *self)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), 0);

  return self->port;
}

ConfabTestResponse *
confab_test_server_add_response (ConfabTestServer *self,
                                 const char       *path,
                                 guint             status)
{
  ConfabTestResponse *resp;
  Route *route;

  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  route = g_hash_table_lookup (self->routes, path);
  if (route == NULL)
    {
      route = g_new0 (Route, 1);
      route->responses = g_ptr_array_new_with_free_func ((GDestroyNotify) response_free);
      g_hash_table_insert (self->routes, g_strdup (path), route);
    }

  resp = g_new0 (ConfabTestResponse, 1);
  resp->status = status;
  resp->header_names = g_ptr_array_new_with_free_func (g_free);
  resp->header_values = g_ptr_array_new_with_free_func (g_free);
  resp->framing = CONFAB_TEST_FRAMING_BULK;
  resp->fault = CONFAB_TEST_FAULT_NONE;
  g_ptr_array_add (route->responses, resp);

  return resp;
}

void
confab_test_response_set_body (ConfabTestResponse *resp,
                               GBytes             *body)
{
  g_return_if_fail (resp != NULL);

  if (body != NULL)
    g_bytes_ref (body);
  g_clear_pointer (&resp->body, g_bytes_unref);
  resp->body = body;
}

void
confab_test_response_set_body_string (ConfabTestResponse *resp,
                                      const char         *body)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (resp != NULL);
  g_return_if_fail (body != NULL);

  bytes = g_bytes_new (body, strlen (body));
  confab_test_response_set_body (resp, bytes);
}

void
confab_test_response_set_body_file (ConfabTestResponse *resp,
                                    const char         *filename)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_return_if_fail (resp != NULL);
  g_return_if_fail (filename != NULL);

  g_file_get_contents (filename, &contents, &len, &error);
  g_assert_no_error (error);

  bytes = g_bytes_new_take (contents, len);
  confab_test_response_set_body (resp, bytes);
}

void
confab_test_response_add_header (ConfabTestResponse *resp,
                                 const char         *name,
                                 const char         *value)
{
  g_return_if_fail (resp != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (value != NULL);

  g_ptr_array_add (resp->header_names, g_strdup (name));
  g_ptr_array_add (resp->header_values, g_strdup (value));
}

void
confab_test_response_set_content_type (ConfabTestResponse *resp,
                                       const char         *type)
{
  g_return_if_fail (resp != NULL);

  g_free (resp->content_type);
  resp->content_type = g_strdup (type);
}

void
confab_test_response_set_framing (ConfabTestResponse *resp,
                                  ConfabTestFraming   framing)
{
  g_return_if_fail (resp != NULL);
  g_return_if_fail (framing <= CONFAB_TEST_FRAMING_BYTE);

  resp->framing = framing;
}

void
confab_test_response_set_delay (ConfabTestResponse *resp,
                                guint               delay_ms)
{
  g_return_if_fail (resp != NULL);

  resp->delay_ms = delay_ms;
}

void
confab_test_response_set_fault (ConfabTestResponse *resp,
                                ConfabTestFault     fault,
                                gsize               fault_offset)
{
  g_return_if_fail (resp != NULL);
  g_return_if_fail (fault <= CONFAB_TEST_FAULT_NO_RESPONSE);

  resp->fault = fault;
  resp->fault_offset = fault_offset;
}


void
confab_test_response_expect_tool_results (ConfabTestResponse *resp,
                                          const char         *api,
                                          const char * const *call_ids,
                                          const char * const *contains)
{
  g_assert (g_strv_contains ((const char * const[]) { "openai", "ollama", "anthropic", NULL }, api));
  g_assert (call_ids != NULL);
  g_assert (contains == NULL || g_strv_length ((GStrv) contains) == g_strv_length ((GStrv) call_ids));

  g_free (resp->expect_api);
  g_strfreev (resp->expect_ids);
  g_strfreev (resp->expect_contains);
  resp->expect_api = g_strdup (api);
  resp->expect_ids = g_strdupv ((GStrv) call_ids);
  resp->expect_contains = g_strdupv ((GStrv) contains);
}

static Request *
get_request (ConfabTestServer *self,
             guint             i)
{
  g_assert (i < self->requests->len);

  return g_ptr_array_index (self->requests, i);
}

guint
confab_test_server_get_n_requests (ConfabTestServer *self)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), 0);

  return self->requests->len;
}

const char *
confab_test_server_get_request_path (ConfabTestServer *self,
                                     guint             i)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);

  return get_request (self, i)->path;
}

const char *
confab_test_server_get_request_method (ConfabTestServer *self,
                                       guint             i)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);

  return get_request (self, i)->method;
}

const char *
confab_test_server_get_request_header (ConfabTestServer *self,
                                       guint             i,
                                       const char       *name)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return soup_message_headers_get_list (get_request (self, i)->headers, name);
}

GBytes *
confab_test_server_get_request_body (ConfabTestServer *self,
                                     guint             i)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), NULL);

  return get_request (self, i)->body;
}

gint64
confab_test_server_get_request_time (ConfabTestServer *self,
                                     guint             i)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), 0);

  return get_request (self, i)->time;
}

guint
confab_test_server_get_n_active (ConfabTestServer *self)
{
  g_return_val_if_fail (CONFAB_IS_TEST_SERVER (self), 0);

  return self->streams->len;
}

/* Generators */

/* 64 tokens, most with a leading space; some non-ASCII, some with
 * characters JSON must escape. */
static const char * const tokens[64] = {
  " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy",
  " dog", ",", " and", " then", " it", " rests", ".", "\n",
  " Café", " naïve", " résumé", " über", " 日本", "語", " 🚀", " ✓",
  " a", " model", " streams", " tokens", " to", " the", " client", " quickly",
  " \"quoted\"", " back\\slash", "\t", " tab", " 42", " +", " 3.14", " =",
  " hello", " world", "!", " streaming", " is", " fun", " with", " GLib",
  " and", " libsoup", " in", " C", ":", " one", " two", " three",
  " Ωmega", " ñ", " —", " end", " of", " line", "\n\n", " Done",
};

static const char *
token_for_index (guint i)
{
  /* Fibonacci hashing: deterministic and well spread. */
  return tokens[((guint32) i * 2654435761u) >> 26];
}

static char *
format_created_at (guint i)
{
  /* 2025-01-01T00:00:00Z plus 25 ms per token. */
  guint64 ms = (guint64) i * 25;
  guint64 secs = ms / 1000;

  return g_strdup_printf ("2025-01-01T%02u:%02u:%02u.%03u000000Z",
                          (guint) (secs / 3600 % 24),
                          (guint) (secs / 60 % 60),
                          (guint) (secs % 60),
                          (guint) (ms % 1000));
}

#define OPENAI_PREFIX \
  "data: {\"id\":\"chatcmpl-C0nfabBench0123\"," \
  "\"object\":\"chat.completion.chunk\",\"created\":1735689600," \
  "\"model\":\"bench-model\",\"system_fingerprint\":\"fp_c0nfab0b1\","

/**
 * confab_test_generate_openai_stream:
 * @n_tokens: number of content chunks
 * @out_text: (out) (optional) (transfer full): the assembled text
 *
 * Generates an OpenAI chat completion stream. May be called from any thread.
 *
 * Returns: (transfer full): the SSE body
 */
GBytes *
confab_test_generate_openai_stream (guint   n_tokens,
                                    char  **out_text)
{
  GString *body = g_string_sized_new (256 + (gsize) n_tokens * 240);
  GString *text = out_text != NULL ? g_string_new (NULL) : NULL;

  g_string_append (body,
                   OPENAI_PREFIX
                   "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                   "\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
                   "\"finish_reason\":null}]}\n\n");

  for (guint i = 0; i < n_tokens; i++)
    {
      const char *token = token_for_index (i);

      g_string_append (body,
                       OPENAI_PREFIX
                       "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"");
      append_json_escaped (body, token);
      g_string_append (body, "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
      if (text != NULL)
        g_string_append (text, token);
    }

  g_string_append (body,
                   OPENAI_PREFIX
                   "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                   "\"finish_reason\":\"stop\"}]}\n\n");
  g_string_append_printf (body,
                          OPENAI_PREFIX
                          "\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                          "\"completion_tokens\":%u,\"total_tokens\":%u,"
                          "\"prompt_tokens_details\":{\"cached_tokens\":0},"
                          "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n",
                          n_tokens, n_tokens + 12);
  g_string_append (body, "data: [DONE]\n\n");

  if (out_text != NULL)
    *out_text = g_string_free (text, FALSE);

  return g_string_free_to_bytes (body);
}

/**
 * confab_test_generate_ollama_stream:
 * @n_tokens: number of content lines
 * @out_text: (out) (optional) (transfer full): the assembled text
 *
 * Generates an Ollama /api/chat stream. May be called from any thread.
 *
 * Returns: (transfer full): the NDJSON body
 */
GBytes *
confab_test_generate_ollama_stream (guint   n_tokens,
                                    char  **out_text)
{
  GString *body = g_string_sized_new (256 + (gsize) n_tokens * 140);
  GString *text = out_text != NULL ? g_string_new (NULL) : NULL;
  g_autofree char *last_created_at = NULL;
  guint64 eval_duration = (guint64) n_tokens * 25000000;

  for (guint i = 0; i < n_tokens; i++)
    {
      const char *token = token_for_index (i);
      g_autofree char *created_at = format_created_at (i);

      g_string_append_printf (body,
                              "{\"model\":\"bench-model\",\"created_at\":\"%s\","
                              "\"message\":{\"role\":\"assistant\",\"content\":\"",
                              created_at);
      append_json_escaped (body, token);
      g_string_append (body, "\"},\"done\":false}\n");
      if (text != NULL)
        g_string_append (text, token);
    }

  last_created_at = format_created_at (n_tokens);
  g_string_append_printf (body,
                          "{\"model\":\"bench-model\",\"created_at\":\"%s\","
                          "\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
                          "\"done_reason\":\"stop\",\"done\":true,"
                          "\"total_duration\":%" G_GUINT64_FORMAT ","
                          "\"load_duration\":12000000,"
                          "\"prompt_eval_count\":12,"
                          "\"prompt_eval_duration\":30000000,"
                          "\"eval_count\":%u,"
                          "\"eval_duration\":%" G_GUINT64_FORMAT "}\n",
                          last_created_at,
                          eval_duration + 42000000,
                          n_tokens,
                          eval_duration);

  if (out_text != NULL)
    *out_text = g_string_free (text, FALSE);

  return g_string_free_to_bytes (body);
}

/**
 * confab_test_fixture_path:
 *
 * Returns: (transfer full): the path of tests/fixtures/@dir/@name.
 */
char *
confab_test_fixture_path (const char *dir,
                          const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", dir, name, NULL);
}

/**
 * confab_test_fixture_contents:
 * @len: (out) (optional): its length
 *
 * Returns: (transfer full): the contents of a fixture; the test fails
 *   when it cannot be read.
 */
char *
confab_test_fixture_contents (const char *dir,
                              const char *name,
                              gsize      *len)
{
  g_autofree char *path = confab_test_fixture_path (dir, name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, len, &error);
  g_assert_no_error (error);

  return contents;
}

const char *
confab_test_chat_path (const char *api)
{
  if (g_str_equal (api, "ollama"))
    return "/api/chat";
  if (g_str_equal (api, "anthropic"))
    return "/v1/messages";
  g_assert (g_str_equal (api, "openai"));
  return "/v1/chat/completions";
}

char *
confab_test_server_dup_base_url (ConfabTestServer *self,
                                 const char       *api)
{
  if (!g_str_equal (api, "openai"))
    return g_strdup (confab_test_server_get_url (self));
  return g_strconcat (confab_test_server_get_url (self), "/v1", NULL);
}

static void
append_json_string (GString    *str,
                    const char *text)
{
  g_string_append_c (str, '"');
  append_json_escaped (str, text);
  g_string_append_c (str, '"');
}

GBytes *
confab_test_generate_tool_call_stream (const char         *api,
                                       const char         *preamble,
                                       const char * const *names,
                                       const char * const *arguments)
{
  GString *out = g_string_new (NULL);
  guint n = g_strv_length ((GStrv) names);

  g_assert (g_strv_length ((GStrv) arguments) == n);

  if (g_str_equal (api, "openai"))
    {
      g_string_append (out, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                            "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":");
      append_json_string (out, preamble != NULL ? preamble : "");
      g_string_append (out, "},\"finish_reason\":null}]}\n\n");
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *id = g_strdup_printf ("call_%u", i);
          gsize half = strlen (arguments[i]) / 2;
          g_autofree char *first = g_strndup (arguments[i], half);

          /* Arguments arrive in two fragments, as real servers send them. */
          g_string_append_printf (out, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                                       "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":%u,"
                                       "\"id\":\"%s\",\"type\":\"function\",\"function\":{\"name\":", i, id);
          append_json_string (out, names[i]);
          g_string_append (out, ",\"arguments\":");
          append_json_string (out, first);
          g_string_append (out, "}}]},\"finish_reason\":null}]}\n\n");
          g_string_append_printf (out, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                                       "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":%u,"
                                       "\"function\":{\"arguments\":", i);
          append_json_string (out, arguments[i] + half);
          g_string_append (out, "}}]},\"finish_reason\":null}]}\n\n");
        }
      g_string_append (out, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                            "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
                            "data: [DONE]\n\n");
    }
  else if (g_str_equal (api, "ollama"))
    {
      g_string_append (out, "{\"model\":\"test\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\","
                            "\"content\":");
      append_json_string (out, preamble != NULL ? preamble : "");
      g_string_append (out, ",\"tool_calls\":[");
      for (guint i = 0; i < n; i++)
        {
          g_string_append (out, i > 0 ? ",{\"function\":{\"name\":" : "{\"function\":{\"name\":");
          append_json_string (out, names[i]);
          /* Ollama sends the arguments as an object, not a string. */
          g_string_append_printf (out, ",\"arguments\":%s}}", arguments[i]);
        }
      g_string_append (out, "]},\"done\":false}\n"
                            "{\"model\":\"test\",\"created_at\":\"2026-01-01T00:00:01Z\",\"message\":{\"role\":\"assistant\","
                            "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":5}\n");
    }
  else
    {
      guint block = 0;

      g_assert (g_str_equal (api, "anthropic"));
      g_string_append (out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\",\"type\":\"message\","
                            "\"role\":\"assistant\",\"content\":[],\"model\":\"test\",\"stop_reason\":null,\"stop_sequence\":null,"
                            "\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n");
      if (preamble != NULL && preamble[0] != '\0')
        {
          g_string_append (out, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                                "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                                "\"delta\":{\"type\":\"text_delta\",\"text\":");
          append_json_string (out, preamble);
          g_string_append (out, "}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
          block++;
        }
      for (guint i = 0; i < n; i++, block++)
        {
          g_string_append_printf (out, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":%u,"
                                       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_%u\",\"name\":", block, i);
          append_json_string (out, names[i]);
          g_string_append_printf (out, ",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                                       "\"index\":%u,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":", block);
          append_json_string (out, arguments[i]);
          g_string_append_printf (out, "}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%u}\n\n",
                                  block);
        }
      g_string_append (out, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
                            "\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n"
                            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

  return g_string_free_to_bytes (out);
}

GBytes *
confab_test_generate_text_reply (const char *api,
                                 const char *text)
{
  GString *out = g_string_new (NULL);

  if (g_str_equal (api, "openai"))
    {
      g_string_append (out, "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                            "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":");
      append_json_string (out, text);
      g_string_append (out, "},\"finish_reason\":null}]}\n\n"
                            "data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                            "\"model\":\"test\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                            "data: [DONE]\n\n");
    }
  else if (g_str_equal (api, "ollama"))
    {
      g_string_append (out, "{\"model\":\"test\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\","
                            "\"content\":");
      append_json_string (out, text);
      g_string_append (out, "},\"done\":false}\n"
                            "{\"model\":\"test\",\"created_at\":\"2026-01-01T00:00:01Z\",\"message\":{\"role\":\"assistant\","
                            "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":10,\"eval_count\":5}\n");
    }
  else
    {
      g_assert (g_str_equal (api, "anthropic"));
      g_string_append (out, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\",\"type\":\"message\","
                            "\"role\":\"assistant\",\"content\":[],\"model\":\"test\",\"stop_reason\":null,\"stop_sequence\":null,"
                            "\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
                            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                            "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                            "\"delta\":{\"type\":\"text_delta\",\"text\":");
      append_json_string (out, text);
      g_string_append (out, "}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                            "\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n"
                            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

  return g_string_free_to_bytes (out);
}

gboolean
confab_test_process_is_dead (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  end = strrchr (stat, ')');
  return end != NULL && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
confab_test_wait_for_process_death (GPid  pid,
                                    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!confab_test_process_is_dead (pid) && g_get_monotonic_time () < deadline)
    {
      g_autoptr(GSource) tick = g_timeout_source_new (10);
      gboolean ticked = FALSE;

      g_source_set_callback (tick, set_flag_cb, &ticked, NULL);
      g_source_attach (tick, g_main_context_get_thread_default ());
      while (!ticked)
        g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
    }
  return confab_test_process_is_dead (pid);
}
