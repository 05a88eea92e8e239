/* confab-cli.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "confab-engine.h"

/* confab-cli: the engine without a window, for scripts and pipes.
 * stdout gets exactly the assistant's text (or, with --json, one JSON
 * object per event); everything else goes to stderr.
 */

#define EXIT_USAGE       2
#define EXIT_INTERRUPTED 130

typedef struct
{
  GMainLoop      *loop;
  GCancellable   *cancellable;
  ConfabProvider *provider;
  int             exit_code;
  gboolean        interrupted;
  gboolean        json;
  gboolean        stdout_tty;
  gboolean        stderr_tty;
  gboolean        flush_queued;
  gboolean        has_temperature;
  double          temperature;
  char            last_text_char;
  char            last_reasoning_char;
} Cli;

static char *opt_api = NULL;
static char *opt_base_url = NULL;
static char *opt_model = NULL;
static char *opt_system = NULL;
static char *opt_temperature = NULL;
static int opt_max_tokens = 0;
static int opt_timeout = 120;
static gboolean opt_json = FALSE;
static gboolean opt_list_models = FALSE;
static gboolean opt_version = FALSE;
static char **opt_prompt = NULL;

static const GOptionEntry entries[] = {
  { "api", 0, 0, G_OPTION_ARG_STRING, &opt_api,
    "The server's API: openai, ollama or anthropic (default openai)", "API" },
  { "base-url", 0, 0, G_OPTION_ARG_STRING, &opt_base_url,
    "The server (default http://127.0.0.1:8080/v1 for openai, http://127.0.0.1:11434 for ollama, "
    "https://api.anthropic.com for anthropic)", "URL" },
  { "model", 0, 0, G_OPTION_ARG_STRING, &opt_model,
    "The model; required unless the server lists exactly one", "NAME" },
  { "system", 0, 0, G_OPTION_ARG_STRING, &opt_system,
    "A system prompt", "TEXT" },
  { "temperature", 0, 0, G_OPTION_ARG_STRING, &opt_temperature,
    "Sampling temperature (default: the server's)", "X" },
  { "max-tokens", 0, 0, G_OPTION_ARG_INT, &opt_max_tokens,
    "Longest reply in tokens (default: the server's)", "N" },
  { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
    "Fail when the server sends nothing for this long (default 120; 0 waits forever)", "SECONDS" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    "Print one JSON object per line for every event instead of plain text", NULL },
  { "list-models", 0, 0, G_OPTION_ARG_NONE, &opt_list_models,
    "Print the server's model ids, one per line", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    "Print the version and exit", NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_prompt,
    NULL, "[PROMPT]" },
  { NULL }
};

static const char description[] =
  "The prompt is read from standard input when PROMPT is absent or \"-\".\n"
  "\n"
  "Output: standard output receives exactly the assistant's text as it arrives.\n"
  "The model's reasoning, when the server sends it, goes to standard error\n"
  "(dimmed on a terminal). With --json, every event is one JSON object on its own\n"
  "line of standard output: {\"type\":\"text\"|\"reasoning\",\"text\":...},\n"
  "{\"type\":\"tool_call\",\"id\",\"name\",\"arguments\"}, {\"type\":\"usage\",...},\n"
  "{\"type\":\"finished\",\"reason\"} or {\"type\":\"error\",\"code\",\"message\"}.\n"
  "\n"
  "API key: set the environment variable CONFAB_API_KEY (never a command-line\n"
  "argument, where other users could read it).\n"
  "\n"
  "Exit status: 0 when the reply finished; 1 when it failed (text already printed\n"
  "stays printed; one line on standard error says what failed, with the HTTP\n"
  "status and the server's message); 2 for a usage error; 130 when interrupted\n"
  "by SIGINT or SIGTERM.\n"
  "\n"
  "Examples:\n"
  "  confab-cli --model llama3.2 --api ollama \"Why is the sky blue?\"\n"
  "  git diff | confab-cli --system \"Review this patch\" --model gpt-4o-mini \\\n"
  "      --base-url https://api.openai.com/v1";

static void G_GNUC_PRINTF (1, 2)
print_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fflush (stdout);
  fprintf (stderr, "confab-cli: %s\n", message);
  fflush (stderr);
}

static void
print_json_line (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
}

static void
print_json_event (const ConfabEvent *event)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
    case CONFAB_EVENT_REASONING_DELTA:
      json_builder_add_string_value (builder, event->type == CONFAB_EVENT_TEXT_DELTA ? "text" : "reasoning");
      text = g_strndup (event->text, event->text_len);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      break;

    case CONFAB_EVENT_TOOL_CALL:
      {
        ConfabToolCall *call = event->tool_call;
        const GError *arguments_error = confab_tool_call_get_arguments_error (call);

        json_builder_add_string_value (builder, "tool_call");
        json_builder_set_member_name (builder, "id");
        json_builder_add_string_value (builder, confab_tool_call_get_id (call));
        json_builder_set_member_name (builder, "name");
        json_builder_add_string_value (builder, confab_tool_call_get_name (call));
        if (arguments_error == NULL)
          {
            json_builder_set_member_name (builder, "arguments");
            json_builder_add_value (builder, json_node_copy (confab_tool_call_get_arguments (call)));
          }
        else
          {
            json_builder_set_member_name (builder, "raw_arguments");
            json_builder_add_string_value (builder, confab_tool_call_get_raw_arguments (call));
            json_builder_set_member_name (builder, "error");
            json_builder_add_string_value (builder, arguments_error->message);
          }
      }
      break;

    case CONFAB_EVENT_USAGE:
      json_builder_add_string_value (builder, "usage");
      if (event->usage->prompt_tokens >= 0)
        {
          json_builder_set_member_name (builder, "prompt_tokens");
          json_builder_add_int_value (builder, event->usage->prompt_tokens);
        }
      if (event->usage->completion_tokens >= 0)
        {
          json_builder_set_member_name (builder, "completion_tokens");
          json_builder_add_int_value (builder, event->usage->completion_tokens);
        }
      if (event->usage->reasoning_tokens >= 0)
        {
          json_builder_set_member_name (builder, "reasoning_tokens");
          json_builder_add_int_value (builder, event->usage->reasoning_tokens);
        }
      break;

    case CONFAB_EVENT_FINISHED:
      json_builder_add_string_value (builder, "finished");
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, event->finish_reason);
      break;

    case CONFAB_EVENT_ERROR:
      json_builder_add_string_value (builder, "error");
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, event->error->domain == CONFAB_ERROR
                                              ? confab_error_code_to_nick (event->error->code)
                                              : "unknown");
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, event->error->message);
      break;

    default:
      g_assert_not_reached ();
    }

  json_builder_end_object (builder);
  print_json_line (builder);
}

/* Everything that arrived in one read is written, then flushed once: the
 * output keeps up with the network without a system call per token. */
static gboolean
flush_cb (gpointer data)
{
  Cli *cli = data;

  cli->flush_queued = FALSE;
  fflush (stdout);
  fflush (stderr);

  return G_SOURCE_REMOVE;
}

static void
queue_flush (Cli *cli)
{
  if (!cli->flush_queued)
    {
      cli->flush_queued = TRUE;
      g_idle_add_full (G_PRIORITY_HIGH, flush_cb, cli, NULL);
    }
}

static void
on_event (ConfabReply       *reply,
          const ConfabEvent *event,
          Cli               *cli)
{
  queue_flush (cli);

  if (cli->json)
    {
      print_json_event (event);
      return;
    }

  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      /* On a terminal, the answer starts on its own line after the
       * reasoning. */
      if (cli->stderr_tty && cli->last_reasoning_char != '\0' && cli->last_reasoning_char != '\n')
        {
          fputc ('\n', stderr);
          cli->last_reasoning_char = '\n';
        }
      fwrite (event->text, 1, event->text_len, stdout);
      cli->last_text_char = event->text[event->text_len - 1];
      break;

    case CONFAB_EVENT_REASONING_DELTA:
      if (cli->stderr_tty)
        fputs ("\033[2m", stderr);
      fwrite (event->text, 1, event->text_len, stderr);
      if (cli->stderr_tty)
        fputs ("\033[0m", stderr);
      cli->last_reasoning_char = event->text[event->text_len - 1];
      break;

    case CONFAB_EVENT_TOOL_CALL:
    case CONFAB_EVENT_USAGE:
    case CONFAB_EVENT_FINISHED:
    case CONFAB_EVENT_ERROR:
    default:
      break;
    }
}

static void
end_output_line (Cli *cli)
{
  /* A terminal prompt should not start after the last word; in a pipe,
   * stdout stays exactly the assistant's text. */
  if (!cli->json && cli->stdout_tty && cli->last_text_char != '\0' && cli->last_text_char != '\n')
    fputc ('\n', stdout);
  fflush (stdout);
}

static void
reply_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_reply_run_finish (CONFAB_REPLY (object), result, &error))
    {
      end_output_line (cli);
      if (cli->interrupted)
        {
          print_error ("interrupted");
          cli->exit_code = EXIT_INTERRUPTED;
        }
      else
        {
          print_error ("%s", error->message);
          cli->exit_code = EXIT_FAILURE;
        }
    }
  else
    {
      end_output_line (cli);
      cli->exit_code = EXIT_SUCCESS;
    }

  g_main_loop_quit (cli->loop);
}

static gboolean
signal_cb (gpointer data)
{
  Cli *cli = data;

  if (cli->interrupted)
    {
      /* A second signal: the user does not want to wait for anything. */
      fflush (stdout);
      _exit (EXIT_INTERRUPTED);
    }

  cli->interrupted = TRUE;
  g_cancellable_cancel (cli->cancellable);

  return G_SOURCE_CONTINUE;
}

static void
start_reply (Cli        *cli,
             const char *model,
             const char *prompt)
{
  g_autoptr(ConfabChatRequest) request = confab_chat_request_new (model);
  g_autoptr(ConfabReply) reply = NULL;
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, prompt);

  if (opt_system != NULL)
    {
      g_autoptr(ConfabMessage) system = confab_message_new (CONFAB_ROLE_SYSTEM, opt_system);
      confab_chat_request_add_message (request, system);
    }
  confab_chat_request_add_message (request, user);

  if (cli->has_temperature)
    confab_chat_request_set_temperature (request, cli->temperature);
  if (opt_max_tokens > 0)
    confab_chat_request_set_max_tokens (request, opt_max_tokens);

  reply = confab_reply_new (cli->provider, request);
  g_signal_connect (reply, "event", G_CALLBACK (on_event), cli);
  confab_reply_run_async (reply, cli->cancellable, reply_done_cb, cli);
}

typedef struct
{
  Cli  *cli;
  char *prompt;
} ModelsData;

static void
models_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ModelsData *data = user_data;
  Cli *cli = data->cli;
  g_autofree char *prompt = data->prompt;
  g_auto(GStrv) models = NULL;
  g_autoptr(GError) error = NULL;

  g_free (data);

  models = confab_provider_list_models_finish (CONFAB_PROVIDER (object), result, &error);
  if (models == NULL)
    {
      print_error ("%s%s", cli->interrupted ? "interrupted" : "could not list the server's models: ",
                   cli->interrupted ? "" : error->message);
      cli->exit_code = cli->interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
      g_main_loop_quit (cli->loop);
      return;
    }

  if (prompt == NULL)
    {
      for (guint i = 0; models[i] != NULL; i++)
        printf ("%s\n", models[i]);
      fflush (stdout);
      cli->exit_code = EXIT_SUCCESS;
      g_main_loop_quit (cli->loop);
      return;
    }

  if (g_strv_length (models) != 1)
    {
      g_autofree char *list = g_strjoinv (", ", models);

      if (models[0] == NULL)
        print_error ("--model is required: the server lists no models");
      else
        print_error ("--model is required: the server lists %u models (%s)",
                     g_strv_length (models), list);
      cli->exit_code = EXIT_USAGE;
      g_main_loop_quit (cli->loop);
      return;
    }

  start_reply (cli, models[0], prompt);
}

static char *
read_stdin (GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  char buffer[65536];
  size_t n;

  while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
    g_string_append_len (text, buffer, n);

  if (ferror (stdin))
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "could not read the prompt from standard input: %s", g_strerror (saved_errno));
      return NULL;
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
usage_error (GOptionContext *context,
             const char     *message)
{
  print_error ("%s", message);
  fprintf (stderr, "Try “%s --help” for more information.\n", g_get_prgname ());
  return EXIT_USAGE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prompt = NULL;
  const char *api_key;
  Cli cli = { 0 };

  setlocale (LC_ALL, "");
  g_set_prgname ("confab-cli");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Ask a language model, streaming the reply to standard output.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);

  if (opt_version)
    {
      printf ("confab-cli %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (opt_api == NULL)
    opt_api = g_strdup ("openai");

  cli.provider = confab_provider_new_for_api (opt_api, opt_base_url, &error);
  if (cli.provider == NULL)
    return usage_error (context, error->message);

  if (opt_timeout < 0)
    return usage_error (context, "--timeout must be 0 or more seconds");
  if (opt_max_tokens < 0)
    return usage_error (context, "--max-tokens must be a positive number");
  if (opt_temperature != NULL)
    {
      char *end = NULL;

      cli.temperature = g_ascii_strtod (opt_temperature, &end);
      if (end == opt_temperature || *end != '\0' || !isfinite (cli.temperature) || cli.temperature < 0)
        return usage_error (context, "--temperature must be a number of 0 or more");
      cli.has_temperature = TRUE;
    }

  if (!opt_list_models)
    {
      if (opt_prompt == NULL || (g_strv_length (opt_prompt) == 1 && g_str_equal (opt_prompt[0], "-")))
        {
          prompt = read_stdin (&error);
          if (prompt == NULL)
            {
              print_error ("%s", error->message);
              return EXIT_FAILURE;
            }
        }
      else
        prompt = g_strjoinv (" ", opt_prompt);

      if (!g_utf8_validate (prompt, -1, NULL))
        return usage_error (context, "the prompt is not valid UTF-8 text");
    }
  else if (opt_prompt != NULL)
    return usage_error (context, "--list-models takes no prompt");

  if (prompt != NULL)
    {
      /* g_strstrip() works in place: check a copy, send the original. */
      g_autofree char *stripped = g_strstrip (g_strdup (prompt));
      if (stripped[0] == '\0')
        return usage_error (context, "the prompt is empty");
    }

  api_key = g_getenv ("CONFAB_API_KEY");
  confab_provider_set_api_key (cli.provider, api_key);
  confab_provider_set_timeout (cli.provider, opt_timeout);

  cli.loop = g_main_loop_new (NULL, FALSE);
  cli.cancellable = g_cancellable_new ();
  cli.json = opt_json;
  cli.stdout_tty = isatty (STDOUT_FILENO);
  cli.stderr_tty = isatty (STDERR_FILENO);
  cli.exit_code = EXIT_FAILURE;

  /* Full buffering, flushed once per network read (see flush_cb). */
  setvbuf (stdout, NULL, _IOFBF, 1 << 16);

  g_unix_signal_add (SIGINT, signal_cb, &cli);
  g_unix_signal_add (SIGTERM, signal_cb, &cli);

  if (opt_list_models || opt_model == NULL)
    {
      ModelsData *data = g_new0 (ModelsData, 1);

      data->cli = &cli;
      data->prompt = g_steal_pointer (&prompt);
      confab_provider_list_models_async (cli.provider, cli.cancellable, models_cb, data);
    }
  else
    start_reply (&cli, opt_model, prompt);

  g_main_loop_run (cli.loop);

  fflush (stdout);
  fflush (stderr);

  g_clear_object (&cli.provider);
  g_clear_object (&cli.cancellable);
  g_clear_pointer (&cli.loop, g_main_loop_unref);
  g_clear_pointer (&opt_api, g_free);
  g_clear_pointer (&opt_base_url, g_free);
  g_clear_pointer (&opt_model, g_free);
  g_clear_pointer (&opt_system, g_free);
  g_clear_pointer (&opt_temperature, g_free);
  g_clear_pointer (&opt_prompt, g_strfreev);

  return cli.exit_code;
}
