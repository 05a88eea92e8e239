/* test-test-server.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "confab-test-server.h"

#define WATCHDOG_SECONDS 20

static const char sse_body[] =
  "data: {\"n\":1}\n\n"
  "event: message\ndata: {\"n\":2}\n\n"
  ": keep-alive\r\n\r\n"
  "data: [DONE]\n\n";

static const char * const sse_events[] = {
  "data: {\"n\":1}\n\n",
  "event: message\ndata: {\"n\":2}\n\n",
  ": keep-alive\r\n\r\n",
  "data: [DONE]\n\n",
};

static const char ndjson_body[] =
  "{\"n\":1}\n"
  "{\"n\":2}\n"
  "{\"n\":3,\"done\":true}\n";

typedef struct
{
  ConfabTestServer *server;
  SoupSession      *session;
  guint             watchdog_id;
} Fixture;

/* One request made with SoupSession, its body read chunk by chunk. */
typedef struct
{
  SoupMessage  *msg;
  GInputStream *stream;
  GCancellable *cancellable;
  GByteArray   *data;
  GPtrArray    *reads;
  GError       *error;
  gboolean      got_response;
  gboolean      done;
  gint64        start;
  gint64        end;
  guint8        buf[16384];
} Fetch;

static void fetch_read_next (Fetch *fetch);

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("Test took longer than %d seconds", WATCHDOG_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->server = confab_test_server_new ();
  fixture->session = soup_session_new ();
  /* Everything is on 127.0.0.1; and libproxy's C++ exceptions trip clang's
   * AddressSanitizer. */
  soup_session_set_proxy_resolver (fixture->session, NULL);
  fixture->watchdog_id = g_timeout_add_seconds (WATCHDOG_SECONDS, watchdog_cb, NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  soup_session_abort (fixture->session);
  g_assert_finalize_object (fixture->session);
  g_assert_finalize_object (fixture->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_handle_id (&fixture->watchdog_id, g_source_remove);
}

static char *
url_for (Fixture    *fixture,
         const char *path)
{
  return g_strconcat (confab_test_server_get_url (fixture->server), path, NULL);
}

static void
fetch_free (Fetch *fetch)
{
  g_clear_object (&fetch->stream);
  g_clear_object (&fetch->msg);
  g_clear_object (&fetch->cancellable);
  g_clear_pointer (&fetch->data, g_byte_array_unref);
  g_clear_pointer (&fetch->reads, g_ptr_array_unref);
  g_clear_error (&fetch->error);
  g_free (fetch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
fetch_finish (Fetch  *fetch,
              GError *error)
{
  fetch->error = error;
  fetch->done = TRUE;
  fetch->end = g_get_monotonic_time ();

  /* Lets the session reuse or close the connection. */
  if (fetch->stream != NULL)
    g_input_stream_close (fetch->stream, NULL, NULL);
  g_clear_object (&fetch->stream);
}

static void
fetch_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fetch *fetch = user_data;
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      fetch_finish (fetch, error);
      return;
    }
  if (n == 0)
    {
      fetch_finish (fetch, NULL);
      return;
    }

  g_byte_array_append (fetch->data, fetch->buf, (guint) n);
  g_ptr_array_add (fetch->reads, g_strndup ((const char *) fetch->buf, (gsize) n));
  fetch_read_next (fetch);
}

static void
fetch_read_next (Fetch *fetch)
{
  g_input_stream_read_async (fetch->stream, fetch->buf, sizeof fetch->buf,
                             G_PRIORITY_DEFAULT, fetch->cancellable,
                             fetch_read_cb, fetch);
}

static void
fetch_send_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fetch *fetch = user_data;
  GError *error = NULL;

  fetch->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (fetch->stream == NULL)
    {
      fetch_finish (fetch, error);
      return;
    }

  fetch->got_response = TRUE;
  fetch_read_next (fetch);
}

static Fetch *
fetch_new (Fixture    *fixture,
           const char *method,
           const char *path,
           const char *body)
{
  g_autofree char *url = url_for (fixture, path);
  Fetch *fetch = g_new0 (Fetch, 1);

  fetch->msg = soup_message_new (method, url);
  g_assert_nonnull (fetch->msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (fetch->msg, "application/json", bytes);
    }
  fetch->cancellable = g_cancellable_new ();
  fetch->data = g_byte_array_new ();
  fetch->reads = g_ptr_array_new_with_free_func (g_free);

  return fetch;
}

static void
fetch_send (Fixture *fixture,
            Fetch   *fetch)
{
  fetch->start = g_get_monotonic_time ();
  soup_session_send_async (fixture->session, fetch->msg, G_PRIORITY_DEFAULT,
                           fetch->cancellable, fetch_send_cb, fetch);
}

static Fetch *
fetch_start (Fixture    *fixture,
             const char *method,
             const char *path,
             const char *body)
{
  Fetch *fetch = fetch_new (fixture, method, path, body);

  fetch_send (fixture, fetch);
  return fetch;
}

static void
fetch_wait (Fetch *fetch)
{
  while (!fetch->done)
    g_main_context_iteration (NULL, TRUE);
}

static Fetch *
fetch_sync (Fixture    *fixture,
            const char *method,
            const char *path,
            const char *body)
{
  Fetch *fetch = fetch_start (fixture, method, path, body);

  fetch_wait (fetch);
  return fetch;
}

static void
wait_for_no_active (Fixture *fixture)
{
  while (confab_test_server_get_n_active (fixture->server) > 0)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms milliseconds. */
static void
run_for (guint ms)
{
  gboolean elapsed = FALSE;

  g_timeout_add (ms, set_flag_cb, &elapsed);
  while (!elapsed)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_data (Fetch      *fetch,
             const char *expected,
             gsize       len)
{
  g_assert_cmpmem (fetch->data->data, fetch->data->len, expected, len);
}

static const char *
response_content_type (Fetch *fetch)
{
  return soup_message_headers_get_content_type (soup_message_get_response_headers (fetch->msg),
                                                NULL);
}

static SoupEncoding
response_encoding (Fetch *fetch)
{
  return soup_message_headers_get_encoding (soup_message_get_response_headers (fetch->msg));
}

static void
request_received_cb (ConfabTestServer *server,
                     guint             index,
                     gpointer          user_data)
{
  GString *log = user_data;

  g_string_append_printf (log, "%u %s %s;", index,
                          confab_test_server_get_request_method (server, index),
                          confab_test_server_get_request_path (server, index));
}

static void
test_json (Fixture       *fixture,
           gconstpointer  user_data)
{
  static const char body[] = "{\"object\":\"list\",\"data\":[]}";
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  SoupMessageHeaders *headers;

  resp = confab_test_server_add_response (fixture->server, "/v1/models", 200);
  confab_test_response_set_body_string (resp, body);
  confab_test_response_add_header (resp, "X-Confab-Test", "yes");
  g_signal_connect (fixture->server, "request-received", G_CALLBACK (request_received_cb), log);

  fetch = fetch_sync (fixture, "GET", "/v1/models", NULL);
  g_assert_cmpstr (log->str, ==, "0 GET /v1/models;");
  g_signal_handlers_disconnect_by_data (fixture->server, log);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  headers = soup_message_get_response_headers (fetch->msg);
  g_assert_cmpstr (soup_message_headers_get_content_type (headers, NULL), ==, "application/json");
  g_assert_cmpstr (soup_message_headers_get_one (headers, "X-Confab-Test"), ==, "yes");
  g_assert_cmpint (response_encoding (fetch), ==, SOUP_ENCODING_CONTENT_LENGTH);
  g_assert_cmpint (soup_message_headers_get_content_length (headers), ==, strlen (body));
  assert_data (fetch, body, strlen (body));

  wait_for_no_active (fixture);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
}

/* A response without a body, such as a redirect: no libsoup critical
 * (the tests run with fatal warnings), an empty body on the wire. */
static void
test_empty_body (Fixture       *fixture,
                 gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/moved", 204);
  confab_test_response_add_header (resp, "X-Reason", "nothing here");

  fetch = fetch_sync (fixture, "GET", "/moved", NULL);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 204);
  g_assert_cmpuint (fetch->data->len, ==, 0);
}

static void
test_status_and_content_type (Fixture       *fixture,
                              gconstpointer  user_data)
{
  static const char body[] = "{\"error\":{\"message\":\"slow down\"}}";
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;
  g_autoptr(Fetch) sse = NULL;
  g_autoptr(Fetch) text = NULL;
  SoupMessageHeaders *headers;

  resp = confab_test_server_add_response (fixture->server, "/limited", 429);
  confab_test_response_set_body_string (resp, body);
  confab_test_response_add_header (resp, "Retry-After", "1");
  confab_test_response_set_content_type (resp, "application/problem+json");

  fetch = fetch_sync (fixture, "POST", "/limited", "{}");
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 429);
  headers = soup_message_get_response_headers (fetch->msg);
  g_assert_cmpstr (soup_message_headers_get_content_type (headers, NULL), ==,
                   "application/problem+json");
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Retry-After"), ==, "1");
  assert_data (fetch, body, strlen (body));

  /* SSE is recognised, and a Content-Type header overrides. */
  resp = confab_test_server_add_response (fixture->server, "/sse", 200);
  confab_test_response_set_body_string (resp, sse_body);
  sse = fetch_sync (fixture, "GET", "/sse", NULL);
  g_assert_cmpstr (response_content_type (sse), ==, "text/event-stream");

  resp = confab_test_server_add_response (fixture->server, "/text", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_add_header (resp, "content-type", "text/plain");
  text = fetch_sync (fixture, "GET", "/text", NULL);
  headers = soup_message_get_response_headers (text->msg);
  g_assert_cmpstr (soup_message_headers_get_content_type (headers, NULL), ==, "text/plain");
  g_assert_cmpstr (soup_message_headers_get_list (headers, "Content-Type"), ==, "text/plain");
}

static void
test_event_framing (Fixture       *fixture,
                    gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);

  fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{\"stream\":true}");
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  g_assert_cmpint (response_encoding (fetch), ==, SOUP_ENCODING_CHUNKED);
  g_assert_cmpstr (response_content_type (fetch), ==, "text/event-stream");
  assert_data (fetch, sse_body, strlen (sse_body));

  /* Each event was its own write; the client, in the same main loop, reads
   * it before the next one is scheduled. */
  g_assert_cmpuint (fetch->reads->len, ==, G_N_ELEMENTS (sse_events));
  for (guint i = 0; i < G_N_ELEMENTS (sse_events); i++)
    g_assert_cmpstr (g_ptr_array_index (fetch->reads, i), ==, sse_events[i]);

  wait_for_no_active (fixture);
}

static void
test_event_framing_ndjson (Fixture       *fixture,
                           gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/api/chat", 200);
  confab_test_response_set_body_string (resp, ndjson_body);
  confab_test_response_set_content_type (resp, "application/x-ndjson");
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);

  fetch = fetch_sync (fixture, "POST", "/api/chat", "{}");
  g_assert_no_error (fetch->error);
  assert_data (fetch, ndjson_body, strlen (ndjson_body));
  g_assert_cmpuint (fetch->reads->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (fetch->reads, 0), ==, "{\"n\":1}\n");
  g_assert_cmpstr (g_ptr_array_index (fetch->reads, 2), ==, "{\"n\":3,\"done\":true}\n");
}

static void
test_byte_framing (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GBytes) body = confab_test_generate_openai_stream (24, NULL);
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;
  gsize len;
  const char *data = g_bytes_get_data (body, &len);
  double seconds;

  g_assert_cmpuint (len, >, 5000);
  g_assert_cmpuint (len, <, 8000);

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_BYTE);

  fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{}");
  g_assert_no_error (fetch->error);
  g_assert_cmpint (response_encoding (fetch), ==, SOUP_ENCODING_CHUNKED);
  assert_data (fetch, data, len);

  seconds = (fetch->end - fetch->start) / (double) G_USEC_PER_SEC;
  g_test_message ("%" G_GSIZE_FORMAT " bytes one by one in %.3f s, %u reads",
                  len, seconds, fetch->reads->len);
  g_assert_cmpuint (fetch->reads->len, >, len / 2);
  g_assert_cmpfloat (seconds, <, 10.0);

  wait_for_no_active (fixture);
}

static void
test_delay (Fixture       *fixture,
            gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/slow", 200);
  confab_test_response_set_body_string (resp, ndjson_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_delay (resp, 30);

  fetch = fetch_sync (fixture, "GET", "/slow", NULL);
  g_assert_no_error (fetch->error);
  assert_data (fetch, ndjson_body, strlen (ndjson_body));
  /* Before the first write and between writes: three delays. */
  g_assert_cmpint (fetch->end - fetch->start, >=, 3 * 30 * 1000);
}

static void
test_bulk_with_delay (Fixture       *fixture,
                      gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/slow", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_delay (resp, 20);

  fetch = fetch_sync (fixture, "GET", "/slow", NULL);
  g_assert_no_error (fetch->error);
  g_assert_cmpint (response_encoding (fetch), ==, SOUP_ENCODING_CHUNKED);
  assert_data (fetch, sse_body, strlen (sse_body));
  g_assert_cmpuint (fetch->reads->len, ==, 1);
  g_assert_cmpint (fetch->end - fetch->start, >=, 20 * 1000);
}

static void
test_truncate (Fixture       *fixture,
               gconstpointer  user_data)
{
  gsize offset = strlen (sse_events[0]) + 5;
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_TRUNCATE, offset);

  fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{}");
  g_assert_no_error (fetch->error);
  assert_data (fetch, sse_body, offset);
  g_assert_cmpuint (fetch->reads->len, ==, 2);

  wait_for_no_active (fixture);
}

static void
test_reset (Fixture       *fixture,
            gconstpointer  user_data)
{
  gsize offset = strlen (sse_events[0]) + strlen (sse_events[1]);
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_RESET, offset);

  fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{}");
  g_assert_true (fetch->got_response);
  g_assert_nonnull (fetch->error);
  g_test_message ("RESET seen by the client as %s %d: %s",
                  g_quark_to_string (fetch->error->domain),
                  fetch->error->code, fetch->error->message);
  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  /* The client read what came before the reset. */
  assert_data (fetch, sse_body, offset);
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 0);

  /* The server goes on serving. */
  {
    g_autoptr(Fetch) again = NULL;

    resp = confab_test_server_add_response (fixture->server, "/ok", 200);
    confab_test_response_set_body_string (resp, "{}");
    again = fetch_sync (fixture, "GET", "/ok", NULL);
    g_assert_no_error (again->error);
    assert_data (again, "{}", 2);
  }
}

static void
test_stall_cancel (Fixture       *fixture,
                   gconstpointer  user_data)
{
  gsize offset = strlen (sse_events[0]);
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_STALL, offset);

  fetch = fetch_start (fixture, "POST", "/v1/chat/completions", "{}");
  while (fetch->data->len < offset)
    g_main_context_iteration (NULL, TRUE);

  run_for (100);
  g_assert_false (fetch->done);
  g_assert_cmpuint (fetch->data->len, ==, offset);
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 1);

  g_cancellable_cancel (fetch->cancellable);
  fetch_wait (fetch);
  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Closing the body stream early made libsoup close the connection. */
  wait_for_no_active (fixture);
}

static void
test_no_response (Fixture       *fixture,
                  gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_NO_RESPONSE, 0);

  fetch = fetch_start (fixture, "POST", "/v1/chat/completions", "{}");
  while (confab_test_server_get_n_requests (fixture->server) < 1)
    g_main_context_iteration (NULL, TRUE);

  run_for (100);
  g_assert_false (fetch->got_response);
  g_assert_false (fetch->done);
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 1);

  g_cancellable_cancel (fetch->cancellable);
  fetch_wait (fetch);
  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_for_no_active (fixture);
}

static void
test_free_while_streaming (Fixture       *fixture,
                           gconstpointer  user_data)
{
  ConfabTestResponse *resp;
  g_autoptr(Fetch) stalled = NULL;
  g_autoptr(Fetch) slow = NULL;

  resp = confab_test_server_add_response (fixture->server, "/stall", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_STALL, strlen (sse_events[0]));

  resp = confab_test_server_add_response (fixture->server, "/slow", 200);
  confab_test_response_set_body_string (resp, sse_body);
  confab_test_response_set_framing (resp, CONFAB_TEST_FRAMING_BYTE);
  confab_test_response_set_delay (resp, 10);

  stalled = fetch_start (fixture, "GET", "/stall", NULL);
  slow = fetch_start (fixture, "GET", "/slow", NULL);
  while (stalled->data->len == 0 || slow->data->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 2);

  /* Freeing the server cuts both responses; timers must not fire after. */
  g_assert_finalize_object (g_steal_pointer (&fixture->server));
  fetch_wait (stalled);
  fetch_wait (slow);

  /* The connections were closed with a FIN between two chunks, which
   * libsoup 3.2 takes for the end of the body (newer ones report
   * G_IO_ERROR_PARTIAL_INPUT): only check that the bodies are cut short. */
  g_assert_cmpuint (stalled->data->len, ==, strlen (sse_events[0]));
  g_assert_cmpuint (slow->data->len, <, strlen (sse_body));
  run_for (50);

  fixture->server = confab_test_server_new ();
}

static void
test_not_found (Fixture       *fixture,
                gconstpointer  user_data)
{
  static const char expected[] = "{\"error\":{\"message\":\"no response queued for /nowhere\"}}";
  g_autoptr(Fetch) fetch = NULL;

  fetch = fetch_sync (fixture, "GET", "/nowhere?x=1", NULL);
  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 404);
  g_assert_cmpstr (response_content_type (fetch), ==, "application/json");
  assert_data (fetch, expected, strlen (expected));
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_path (fixture->server, 0), ==, "/nowhere");
  g_assert_cmpuint (confab_test_server_get_n_active (fixture->server), ==, 0);
}

static void
test_queue_order (Fixture       *fixture,
                  gconstpointer  user_data)
{
  static const char * const bodies[] = { "one", "two", "three" };
  static const guint statuses[] = { 500, 429, 200 };
  static const guint expected[] = { 0, 1, 2, 2 };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      ConfabTestResponse *resp;

      resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions",
                                              statuses[i]);
      confab_test_response_set_body_string (resp, bodies[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(Fetch) fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{}");

      g_assert_no_error (fetch->error);
      g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, statuses[expected[i]]);
      assert_data (fetch, bodies[expected[i]], strlen (bodies[expected[i]]));
    }

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 4);
}

static void
test_request_recorded (Fixture       *fixture,
                       gconstpointer  user_data)
{
  static const char body[] = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";
  ConfabTestResponse *resp;
  g_autoptr(Fetch) first = NULL;
  g_autoptr(Fetch) second = NULL;
  GBytes *recorded;
  gint64 before;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_string (resp, sse_body);

  before = g_get_monotonic_time ();
  first = fetch_new (fixture, "POST", "/v1/chat/completions", body);
  soup_message_headers_append (soup_message_get_request_headers (first->msg),
                               "Authorization", "Bearer sk-test");
  fetch_send (fixture, first);
  fetch_wait (first);
  g_assert_no_error (first->error);
  second = fetch_sync (fixture, "GET", "/v1/models", NULL);

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 2);
  g_assert_cmpstr (confab_test_server_get_request_path (fixture->server, 0), ==,
                   "/v1/chat/completions");
  g_assert_cmpstr (confab_test_server_get_request_method (fixture->server, 0), ==, "POST");
  g_assert_cmpstr (confab_test_server_get_request_header (fixture->server, 0, "authorization"),
                   ==, "Bearer sk-test");
  g_assert_cmpstr (confab_test_server_get_request_header (fixture->server, 0, "Content-Type"),
                   ==, "application/json");
  g_assert_null (confab_test_server_get_request_header (fixture->server, 0, "X-Absent"));
  recorded = confab_test_server_get_request_body (fixture->server, 0);
  g_assert_cmpmem (g_bytes_get_data (recorded, NULL), g_bytes_get_size (recorded),
                   body, strlen (body));
  g_assert_cmpint (confab_test_server_get_request_time (fixture->server, 0), >=, before);
  g_assert_cmpint (confab_test_server_get_request_time (fixture->server, 1), >=,
                   confab_test_server_get_request_time (fixture->server, 0));

  g_assert_cmpstr (confab_test_server_get_request_method (fixture->server, 1), ==, "GET");
  g_assert_cmpuint (g_bytes_get_size (confab_test_server_get_request_body (fixture->server, 1)),
                    ==, 0);
}

static void
test_generate_openai (void)
{
  const guint n_tokens = 300;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) body = confab_test_generate_openai_stream (n_tokens, &text);
  g_autoptr(GBytes) again = confab_test_generate_openai_stream (n_tokens, NULL);
  g_autofree char *str = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_auto(GStrv) events = g_strsplit (str, "\n\n", -1);
  g_autoptr(GString) assembled = g_string_new (NULL);
  guint n_events = g_strv_length (events);
  guint n_content = 0;
  gboolean saw_role = FALSE;
  gboolean saw_stop = FALSE;
  gboolean saw_usage = FALSE;

  g_assert_true (g_bytes_equal (body, again));
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_nonnull (strstr (text, "日本"));

  /* role, N tokens, stop, usage, [DONE], and "" after the last "\n\n" */
  g_assert_cmpuint (n_events, ==, n_tokens + 5);
  g_assert_cmpstr (events[n_events - 1], ==, "");
  g_assert_cmpstr (events[n_events - 2], ==, "data: [DONE]");

  for (guint i = 0; i + 2 < n_events; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *chunk;
      JsonArray *choices;

      g_assert_true (g_str_has_prefix (events[i], "data: "));
      json_parser_load_from_data (parser, events[i] + strlen ("data: "), -1, &error);
      g_assert_no_error (error);

      chunk = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (chunk, "object"), ==,
                       "chat.completion.chunk");
      g_assert_true (json_object_has_member (chunk, "id"));
      g_assert_true (json_object_has_member (chunk, "created"));
      g_assert_true (json_object_has_member (chunk, "system_fingerprint"));
      g_assert_cmpstr (json_object_get_string_member (chunk, "model"), ==, "bench-model");

      choices = json_object_get_array_member (chunk, "choices");
      if (json_array_get_length (choices) == 0)
        {
          JsonObject *usage = json_object_get_object_member (chunk, "usage");

          g_assert_cmpint (json_object_get_int_member (usage, "completion_tokens"), ==, n_tokens);
          saw_usage = TRUE;
        }
      else
        {
          JsonObject *choice = json_array_get_object_element (choices, 0);
          JsonObject *delta = json_object_get_object_member (choice, "delta");

          g_assert_true (json_object_has_member (choice, "logprobs"));
          if (json_object_has_member (delta, "role"))
            {
              g_assert_cmpuint (i, ==, 0);
              saw_role = TRUE;
            }
          else if (json_object_has_member (delta, "content"))
            {
              g_assert_true (json_object_get_null_member (choice, "finish_reason"));
              g_string_append (assembled, json_object_get_string_member (delta, "content"));
              g_assert_cmpuint (strlen (events[i]) + 2, >=, 200);
              g_assert_cmpuint (strlen (events[i]) + 2, <=, 250);
              n_content++;
            }
          else
            {
              g_assert_cmpstr (json_object_get_string_member (choice, "finish_reason"), ==, "stop");
              saw_stop = TRUE;
            }
        }
    }

  g_assert_true (saw_role);
  g_assert_true (saw_stop);
  g_assert_true (saw_usage);
  g_assert_cmpuint (n_content, ==, n_tokens);
  g_assert_cmpstr (assembled->str, ==, text);
}

static void
test_generate_ollama (void)
{
  const guint n_tokens = 300;
  g_autofree char *text = NULL;
  g_autofree char *openai_text = NULL;
  g_autoptr(GBytes) body = confab_test_generate_ollama_stream (n_tokens, &text);
  g_autoptr(GBytes) openai = confab_test_generate_openai_stream (n_tokens, &openai_text);
  g_autofree char *str = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_auto(GStrv) lines = g_strsplit (str, "\n", -1);
  g_autoptr(GString) assembled = g_string_new (NULL);
  guint n_lines = g_strv_length (lines);

  g_assert_cmpuint (g_bytes_get_size (openai), >, g_bytes_get_size (body));
  g_assert_cmpstr (text, ==, openai_text);
  g_assert_cmpuint (n_lines, ==, n_tokens + 2);
  g_assert_cmpstr (lines[n_lines - 1], ==, "");

  for (guint i = 0; i + 1 < n_lines; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *object;
      JsonObject *message;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      object = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (object, "model"), ==, "bench-model");
      g_assert_true (json_object_has_member (object, "created_at"));
      message = json_object_get_object_member (object, "message");
      g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "assistant");

      if (i < n_tokens)
        {
          g_assert_false (json_object_get_boolean_member (object, "done"));
          g_string_append (assembled, json_object_get_string_member (message, "content"));
        }
      else
        {
          g_assert_true (json_object_get_boolean_member (object, "done"));
          g_assert_cmpstr (json_object_get_string_member (object, "done_reason"), ==, "stop");
          g_assert_cmpint (json_object_get_int_member (object, "eval_count"), ==, n_tokens);
          g_assert_true (json_object_has_member (object, "prompt_eval_count"));
          g_assert_true (json_object_has_member (object, "total_duration"));
          g_assert_true (json_object_has_member (object, "eval_duration"));
        }
    }

  g_assert_cmpstr (assembled->str, ==, text);
}

static void
test_generated_stream_served (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autoptr(GBytes) body = confab_test_generate_openai_stream (2000, NULL);
  ConfabTestResponse *resp;
  g_autoptr(Fetch) fetch = NULL;
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (resp, body);

  fetch = fetch_sync (fixture, "POST", "/v1/chat/completions", "{}");
  g_assert_no_error (fetch->error);
  g_assert_cmpint (response_encoding (fetch), ==, SOUP_ENCODING_CONTENT_LENGTH);
  assert_data (fetch, data, len);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD_TEST(path, func) \
  g_test_add ("/test-server/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD_TEST ("json", test_json);
  ADD_TEST ("status-and-content-type", test_status_and_content_type);
  ADD_TEST ("empty-body", test_empty_body);
  ADD_TEST ("framing/event", test_event_framing);
  ADD_TEST ("framing/event-ndjson", test_event_framing_ndjson);
  ADD_TEST ("framing/byte", test_byte_framing);
  ADD_TEST ("delay", test_delay);
  ADD_TEST ("delay-bulk", test_bulk_with_delay);
  ADD_TEST ("fault/truncate", test_truncate);
  ADD_TEST ("fault/reset", test_reset);
  ADD_TEST ("fault/stall-cancel", test_stall_cancel);
  ADD_TEST ("fault/no-response", test_no_response);
  ADD_TEST ("free-while-streaming", test_free_while_streaming);
  ADD_TEST ("not-found", test_not_found);
  ADD_TEST ("queue-order", test_queue_order);
  ADD_TEST ("request-recorded", test_request_recorded);
  ADD_TEST ("generated-stream-served", test_generated_stream_served);

#undef ADD_TEST

  g_test_add_func ("/test-server/generate/openai", test_generate_openai);
  g_test_add_func ("/test-server/generate/ollama", test_generate_ollama);

  return g_test_run ();
}
