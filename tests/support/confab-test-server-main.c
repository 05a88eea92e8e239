/* confab-test-server-main.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A standalone ConfabTestServer for benchmarks and shell-driven tests:
 * prints its URL on one line (then, with --log-requests, "METHOD PATH" for
 * each request as it arrives), then serves until SIGTERM/SIGINT or until
 * its stdin (when that is a pipe or a socket) reaches EOF.
 */

#include "config.h"

#define G_LOG_DOMAIN "confab-test-server"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib-unix.h>
#include <gio/gunixinputstream.h>

#include "confab-test-server.h"

typedef struct
{
  GMainLoop    *loop;
  GInputStream *stdin_stream;
  GCancellable *cancellable;
  gboolean      reading;
} Serve;

static const char models_openai[] =
  "{\"object\":\"list\",\"data\":[{\"id\":\"bench-model\",\"object\":\"model\","
  "\"owned_by\":\"confab\"}]}";
static const char models_ollama[] =
  "{\"models\":[{\"name\":\"bench-model\",\"model\":\"bench-model\"}]}";

static void read_stdin (Serve *serve);

/* A shell script waits for a line to know what the client has asked. */
static void
request_received_cb (ConfabTestServer *server,
                     guint             index,
                     gpointer          user_data)
{
  printf ("%s %s\n",
          confab_test_server_get_request_method (server, index),
          confab_test_server_get_request_path (server, index));
  fflush (stdout);
}

static gboolean
parse_uint (const char *str,
            guint64     max,
            guint64    *out)
{
  return g_ascii_string_to_unsigned (str, 10, 0, max, out, NULL);
}

static gboolean
parse_fault (const char       *spec,
             ConfabTestFault  *fault,
             gsize            *offset,
             GError          **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 2);
  guint64 value = 0;

  if (g_str_equal (parts[0], "none"))
    *fault = CONFAB_TEST_FAULT_NONE;
  else if (g_str_equal (parts[0], "reset"))
    *fault = CONFAB_TEST_FAULT_RESET;
  else if (g_str_equal (parts[0], "stall"))
    *fault = CONFAB_TEST_FAULT_STALL;
  else if (g_str_equal (parts[0], "truncate"))
    *fault = CONFAB_TEST_FAULT_TRUNCATE;
  else if (g_str_equal (parts[0], "no-response"))
    *fault = CONFAB_TEST_FAULT_NO_RESPONSE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "unknown fault '%s'", parts[0]);
      return FALSE;
    }

  if (parts[1] != NULL && !parse_uint (parts[1], G_MAXSIZE, &value))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "bad fault offset '%s'", parts[1]);
      return FALSE;
    }

  *offset = (gsize) value;
  return TRUE;
}

/* PATH=FILE[,status=S][,framing=bulk|event|byte][,delay=MS]
 * [,header=Name:Value]...[,content-type=TYPE][,fault=KIND[:OFFSET]] */
static gboolean
add_route (ConfabTestServer  *server,
           const char        *spec,
           GError           **error)
{
  g_auto(GStrv) items = g_strsplit (spec, ",", -1);
  g_autofree char *path = NULL;
  const char *eq;
  const char *filename;
  ConfabTestResponse *resp;
  guint64 status = 200;
  guint64 delay = 0;
  ConfabTestFraming framing = CONFAB_TEST_FRAMING_BULK;
  ConfabTestFault fault = CONFAB_TEST_FAULT_NONE;
  gsize fault_offset = 0;
  const char *content_type = NULL;
  g_autoptr(GPtrArray) headers = g_ptr_array_new ();

  eq = strchr (items[0], '=');
  if (eq == NULL || items[0][0] != '/' || eq[1] == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "route '%s' does not start with /PATH=FILE", spec);
      return FALSE;
    }
  path = g_strndup (items[0], eq - items[0]);
  filename = eq + 1;

  for (guint i = 1; items[i] != NULL; i++)
    {
      const char *item = items[i];

      if (g_str_has_prefix (item, "status="))
        {
          if (!parse_uint (item + strlen ("status="), 999, &status) || status < 100)
            goto bad_item;
        }
      else if (g_str_has_prefix (item, "delay="))
        {
          if (!parse_uint (item + strlen ("delay="), G_MAXUINT, &delay))
            goto bad_item;
        }
      else if (g_str_equal (item, "framing=bulk"))
        framing = CONFAB_TEST_FRAMING_BULK;
      else if (g_str_equal (item, "framing=event"))
        framing = CONFAB_TEST_FRAMING_EVENT;
      else if (g_str_equal (item, "framing=byte"))
        framing = CONFAB_TEST_FRAMING_BYTE;
      else if (g_str_has_prefix (item, "header="))
        {
          const char *colon = strchr (item, ':');

          if (colon == NULL || colon == item + strlen ("header="))
            goto bad_item;
          g_ptr_array_add (headers, (gpointer) item);
        }
      else if (g_str_has_prefix (item, "content-type="))
        content_type = item + strlen ("content-type=");
      else if (g_str_has_prefix (item, "fault="))
        {
          if (!parse_fault (item + strlen ("fault="), &fault, &fault_offset, error))
            return FALSE;
        }
      else
        goto bad_item;

      continue;

    bad_item:
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "bad route option '%s' in '%s'", item, spec);
      return FALSE;
    }

  if (!g_file_test (filename, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "route body '%s' is not a readable file", filename);
      return FALSE;
    }

  resp = confab_test_server_add_response (server, path, (guint) status);
  confab_test_response_set_body_file (resp, filename);
  confab_test_response_set_framing (resp, framing);
  confab_test_response_set_delay (resp, (guint) delay);
  confab_test_response_set_fault (resp, fault, fault_offset);
  if (content_type != NULL)
    confab_test_response_set_content_type (resp, content_type);
  for (guint i = 0; i < headers->len; i++)
    {
      const char *header = (const char *) g_ptr_array_index (headers, i) + strlen ("header=");
      const char *colon = strchr (header, ':');
      g_autofree char *name = g_strndup (header, colon - header);
      g_autofree char *value = g_strstrip (g_strdup (colon + 1));

      confab_test_response_add_header (resp, g_strstrip (name), value);
    }

  return TRUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  Serve *serve = user_data;

  g_main_loop_quit (serve->loop);
  return G_SOURCE_CONTINUE;
}

static void
read_stdin_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Serve *serve = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  serve->reading = FALSE;
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      g_main_loop_quit (serve->loop);
      return;
    }

  read_stdin (serve);
}

static void
read_stdin (Serve *serve)
{
  serve->reading = TRUE;
  g_input_stream_read_bytes_async (serve->stdin_stream, 4096, G_PRIORITY_DEFAULT,
                                   serve->cancellable, read_stdin_cb, serve);
}

/* Only a pipe or a socket on stdin means "a parent holds the other end":
 * a shell gives background jobs /dev/null, which must not stop us. */
static gboolean
stdin_is_pipe (void)
{
  struct stat st;

  if (fstat (STDIN_FILENO, &st) != 0)
    return FALSE;

  return S_ISFIFO (st.st_mode) || S_ISSOCK (st.st_mode);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ConfabTestServer) server = NULL;
  g_auto(GStrv) routes = NULL;
  g_autofree char *expected_text_file = NULL;
  g_autofree char *text = NULL;
  int openai_tokens = -1;
  int ollama_tokens = -1;
  gboolean log_requests = FALSE;
  Serve serve = { 0 };
  guint sigterm_id;
  guint sigint_id;
  const GOptionEntry entries[] = {
    { "openai-tokens", 0, 0, G_OPTION_ARG_INT, &openai_tokens,
      "Serve a generated OpenAI stream of N tokens at /v1/chat/completions", "N" },
    { "ollama-tokens", 0, 0, G_OPTION_ARG_INT, &ollama_tokens,
      "Serve a generated Ollama stream of N tokens at /api/chat", "N" },
    { "route", 0, 0, G_OPTION_ARG_STRING_ARRAY, &routes,
      "Serve FILE at PATH (repeat a PATH to queue responses in order); options: "
      "status=S, framing=bulk|event|byte, delay=MS, header=Name:Value, "
      "content-type=TYPE, fault=reset|stall|truncate|no-response[:OFFSET]",
      "PATH=FILE[,OPTION=VALUE]..." },
    { "expected-text", 0, 0, G_OPTION_ARG_FILENAME, &expected_text_file,
      "Write the generated stream's text to FILE", "FILE" },
    { "log-requests", 0, 0, G_OPTION_ARG_NONE, &log_requests,
      "After the URL, print \"METHOD PATH\" for each request as it arrives", NULL },
    { NULL }
  };

  context = g_option_context_new ("- replay canned LLM responses over HTTP");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("confab-test-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (argc > 1)
    {
      g_printerr ("confab-test-server: unexpected argument '%s'\n", argv[1]);
      return EXIT_FAILURE;
    }

  server = confab_test_server_new ();

  if (openai_tokens >= 0)
    {
      g_autoptr(GBytes) body = confab_test_generate_openai_stream ((guint) openai_tokens, &text);
      ConfabTestResponse *resp;

      resp = confab_test_server_add_response (server, "/v1/chat/completions", 200);
      confab_test_response_set_body (resp, body);
      confab_test_response_set_content_type (resp, "text/event-stream");
      confab_test_response_add_header (resp, "Cache-Control", "no-cache");

      resp = confab_test_server_add_response (server, "/v1/models", 200);
      confab_test_response_set_body_string (resp, models_openai);
    }

  if (ollama_tokens >= 0)
    {
      g_autoptr(GBytes) body = NULL;
      ConfabTestResponse *resp;

      /* The text is the same as OpenAI's for the same N; keep OpenAI's. */
      body = confab_test_generate_ollama_stream ((guint) ollama_tokens,
                                                 text == NULL ? &text : NULL);

      resp = confab_test_server_add_response (server, "/api/chat", 200);
      confab_test_response_set_body (resp, body);
      confab_test_response_set_content_type (resp, "application/x-ndjson");

      resp = confab_test_server_add_response (server, "/api/tags", 200);
      confab_test_response_set_body_string (resp, models_ollama);
    }

  for (guint i = 0; routes != NULL && routes[i] != NULL; i++)
    {
      if (!add_route (server, routes[i], &error))
        {
          g_printerr ("confab-test-server: %s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  if (expected_text_file != NULL)
    {
      if (text == NULL)
        {
          g_printerr ("confab-test-server: --expected-text needs --openai-tokens "
                      "or --ollama-tokens\n");
          return EXIT_FAILURE;
        }

      if (!g_file_set_contents (expected_text_file, text, -1, &error))
        {
          g_printerr ("confab-test-server: %s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  serve.loop = g_main_loop_new (NULL, FALSE);
  serve.cancellable = g_cancellable_new ();
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, &serve);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, &serve);
  if (stdin_is_pipe ())
    {
      serve.stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      read_stdin (&serve);
    }

  printf ("%s\n", confab_test_server_get_url (server));
  fflush (stdout);
  if (log_requests)
    g_signal_connect (server, "request-received", G_CALLBACK (request_received_cb), NULL);

  g_main_loop_run (serve.loop);

  g_cancellable_cancel (serve.cancellable);
  while (serve.reading)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);

  g_clear_object (&server);
  g_clear_object (&serve.stdin_stream);
  g_clear_object (&serve.cancellable);
  g_clear_pointer (&serve.loop, g_main_loop_unref);

  return EXIT_SUCCESS;
}
