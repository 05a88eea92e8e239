/* confab-cli.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gunixinputstream.h>

#include "confab-cli-common.h"
#include "confab-cli-conversations.h"
#include "confab-cli-mcp.h"
#include "confab-cli-providers.h"

/* confab-cli: the engine without a window, for scripts and pipes.
 * stdout gets exactly the assistant's text (or, with --json, one JSON
 * object per event); everything else goes to stderr.
 */

#define EXIT_USAGE       CONFAB_CLI_EXIT_USAGE
#define EXIT_INTERRUPTED CONFAB_CLI_EXIT_INTERRUPTED

typedef struct
{
  GCancellable   *cancellable;
  ConfabProvider *provider;
  ConfabStore    *store;
  ConfabToolbox  *toolbox;
  ConfabMcpManager *mcp;
  gboolean        mcp_failed;
  int             exit_code;
  gboolean        turn_done;
  gboolean        interrupted;
  gboolean        stdin_used;
  gboolean        steps;
  GQueue          approvals;
  GDataInputStream *answers;
  gboolean        json;
  gboolean        stdout_tty;
  gboolean        stderr_tty;
  gboolean        flush_queued;
  gboolean        has_temperature;
  double          temperature;
  char           *default_model;
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
static char *opt_provider = NULL;
static gboolean opt_save = FALSE;
static gint64 opt_continue = 0;
static char **opt_prompt = NULL;
static char *opt_tools = NULL;
static gboolean opt_yes = FALSE;
static char **opt_allow_dirs = NULL;
static int opt_max_steps = CONFAB_DEFAULT_MAX_STEPS;
static gboolean opt_allow_private_network = FALSE;

/* Descriptions and argument names are translated by GOption, which is
 * given the translation domain. */
static const GOptionEntry entries[] = {
  { "api", 0, 0, G_OPTION_ARG_STRING, &opt_api,
    /* Translators: openai, ollama and anthropic are values to type. */
    N_("The server's API: openai, ollama or anthropic (default openai)"), N_("API") },
  { "base-url", 0, 0, G_OPTION_ARG_STRING, &opt_base_url,
    N_("The server (default http://127.0.0.1:8080/v1 for openai, http://127.0.0.1:11434 for ollama, "
       "https://api.anthropic.com for anthropic)"), N_("URL") },
  { "model", 0, 0, G_OPTION_ARG_STRING, &opt_model,
    N_("The model; required unless the server lists exactly one"), N_("NAME") },
  { "system", 0, 0, G_OPTION_ARG_STRING, &opt_system,
    N_("A system prompt"), N_("TEXT") },
  { "temperature", 0, 0, G_OPTION_ARG_STRING, &opt_temperature,
    N_("Sampling temperature (default: the server's)"), N_("X") },
  { "max-tokens", 0, 0, G_OPTION_ARG_INT, &opt_max_tokens,
    N_("Longest reply in tokens (default: the server's)"), N_("N") },
  { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout,
    N_("Fail when the server sends nothing for this long (default 120; 0 waits forever)"), N_("SECONDS") },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    N_("Print one JSON object per line for every event instead of plain text"), NULL },
  { "list-models", 0, 0, G_OPTION_ARG_NONE, &opt_list_models,
    N_("Print the server's model ids, one per line"), NULL },
  { "provider", 0, 0, G_OPTION_ARG_STRING, &opt_provider,
    N_("Use a configured provider (its API, URL, key and default model; see “confab-cli providers”)"), N_("NAME") },
  { "save", 0, 0, G_OPTION_ARG_NONE, &opt_save,
    N_("Store the exchange as a new conversation and print its id on standard error"), NULL },
  { "continue", 0, 0, G_OPTION_ARG_INT64, &opt_continue,
    N_("Append to a stored conversation, sending its history (implies --save)"), N_("ID") },
  { "tools", 0, 0, G_OPTION_ARG_STRING, &opt_tools,
    N_("Let the model use these tools (comma-separated names, or “all”)"), N_("LIST") },
  { "yes", 'y', 0, G_OPTION_ARG_NONE, &opt_yes,
    N_("Run every tool the model asks for without asking"), NULL },
  { "allow-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_allow_dirs,
    N_("Let the file tools read this folder (repeatable; the first is where commands run)"), N_("PATH") },
  { "allow-private-network", 0, 0, G_OPTION_ARG_NONE, &opt_allow_private_network,
    N_("Let fetch_url reach this computer and private networks"), NULL },
  { "max-steps", 0, 0, G_OPTION_ARG_INT, &opt_max_steps,
    N_("Stop after this many requests to the model in one turn (default: 25)"), N_("N") },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    N_("Print the version and exit"), NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_prompt,
    /* Translators: the prompt argument in “confab-cli [OPTION…] [PROMPT]”;
     * use the same word as in “when PROMPT is absent”. */
    NULL, N_("[PROMPT]") },
  { NULL }
};

/* The paragraphs of --help's description, translated one by one. */
static const char * const description[] = {
  /* Translators: PROMPT is the argument of “confab-cli [OPTION…] [PROMPT]”. */
  N_("The prompt is read from standard input when PROMPT is absent or \"-\"."),
  /* Translators: “confab-cli: conversation ID” is what the program prints,
   * word for word (ID being a number): keep it in English. */
  N_("Saved conversations: --save stores the exchange (your message is committed\n"
     "before the request is sent; the reply is saved as it streams, at most a\n"
     "second behind) and prints \"confab-cli: conversation ID\" on standard error;\n"
     "--continue ID sends that conversation's history and appends to it."),
  /* Translators: keep the commands and options; translate the words in
   * capitals and in parentheses. */
  N_("More commands:\n"
     "  confab-cli providers list | add NAME --api KIND --base-url URL [--model M]\n"
     "                     | remove NAME | set-key NAME (key read from stdin) | detect\n"
     "  confab-cli conversations list [--limit N] | show ID | search QUERY\n"
     "                     | export ID|--all --format markdown|json | import FILE | delete ID\n"
     "  confab-cli mcp list | call SERVER TOOL [JSON] | import [PATH]   [--mcp-config PATH]"),
  /* Translators: keep the JSON ({"type":…}) as it is. */
  N_("Output: standard output receives exactly the assistant's text as it arrives.\n"
     "The model's reasoning, when the server sends it, goes to standard error\n"
     "(dimmed on a terminal). With --json, every event is one JSON object on its own\n"
     "line of standard output: {\"type\":\"text\"|\"reasoning\",\"text\":...},\n"
     "{\"type\":\"tool_call\",\"id\",\"name\",\"arguments\"}, {\"type\":\"usage\",...},\n"
     "{\"type\":\"finished\",\"reason\"} or {\"type\":\"error\",\"code\",\"message\"}."),
  /* Translators: keep the option names and the letters y and a. */
  N_("Tools: with --tools, the model may call tools (run_command, read_file,\n"
     "list_directory, search_files, fetch_url, current_datetime, and SERVER__TOOL\n"
     "for MCP servers). Calls that need approval are asked about on the terminal\n"
     "(y: yes, a: always in this run) when standard input is one, and denied\n"
     "otherwise unless --yes is given. File tools only read the --allow-dir folders."),
  N_("API key: set the environment variable CONFAB_API_KEY (never a command-line\n"
     "argument, where other users could read it)."),
  N_("Exit status: 0 when the reply finished; 1 when it failed (text already printed\n"
     "stays printed; one line on standard error says what failed, with the HTTP\n"
     "status and the server's message); 2 for a usage error; 130 when interrupted\n"
     "by SIGINT or SIGTERM."),
  /* Translators: translate only the example prompts in quotes. */
  N_("Examples:\n"
     "  confab-cli --model llama3.2 --api ollama \"Why is the sky blue?\"\n"
     "  git diff | confab-cli --system \"Review this patch\" --model gpt-4o-mini \\\n"
     "      --base-url https://api.openai.com/v1"),
};

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

/* Tools */

static void
print_json_tool_result (ConfabMessage *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  JsonNode *structured = confab_message_get_structured (message);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "tool_result");
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, confab_message_get_tool_call_id (message));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, confab_message_get_tool_name (message));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, confab_message_state_to_string (confab_message_get_state (message)));
  json_builder_set_member_name (builder, "is_error");
  json_builder_add_boolean_value (builder, confab_message_get_is_error (message));
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, confab_message_get_content (message));
  if (structured != NULL)
    {
      json_builder_set_member_name (builder, "structured");
      json_builder_add_value (builder, json_node_copy (structured));
    }
  json_builder_end_object (builder);
  print_json_line (builder);
}

/* Without --json, tools are reported on stderr (dimmed on a terminal):
 * stdout stays the assistant's words. */
static void
print_tool_line (Cli        *cli,
                 const char *text)
{
  if (cli->stderr_tty && cli->last_reasoning_char != '\0' && cli->last_reasoning_char != '\n')
    fputc ('\n', stderr);
  cli->last_reasoning_char = '\n';
  if (cli->stderr_tty)
    fprintf (stderr, "\033[2m%s\033[0m\n", text);
  else
    fprintf (stderr, "%s\n", text);
}

static void
step_started_cb (ConfabAgent   *agent,
                 ConfabMessage *message,
                 ConfabReply   *reply,
                 Cli           *cli)
{
  /* The words of two steps don't run together. */
  if (!cli->json && cli->steps && cli->last_text_char != '\0' && cli->last_text_char != '\n')
    {
      fputs ("\n\n", stdout);
      cli->last_text_char = '\n';
    }
  cli->steps = TRUE;
  g_signal_connect (reply, "event", G_CALLBACK (on_event), cli);
}

static void
tool_started_cb (ConfabAgent   *agent,
                 ConfabMessage *message,
                 Cli           *cli)
{
  ConfabToolCall *call = confab_message_get_call (message);
  g_autofree char *arguments = NULL;
  g_autofree char *line = NULL;

  if (cli->json || call == NULL)
    return;

  arguments = confab_tool_call_dup_arguments_json (call);
  /* Translators: a tool starting, such as “▸ run_command {"command":"ls"}”. */
  line = g_strdup_printf (_("▸ %s %s"), confab_tool_call_get_name (call), arguments);
  print_tool_line (cli, line);
  queue_flush (cli);
}

static void
message_updated_cb (ConfabAgent   *agent,
                    ConfabMessage *message,
                    Cli           *cli)
{
  g_autofree char *first_line = NULL;
  g_autofree char *line = NULL;
  char *newline;

  if (confab_message_get_role (message) != CONFAB_ROLE_TOOL)
    return;

  queue_flush (cli);
  if (cli->json)
    {
      print_json_tool_result (message);
      return;
    }

  first_line = g_strdup (confab_message_get_content (message));
  if ((newline = strchr (first_line, '\n')) != NULL)
    *newline = '\0';
  if (confab_message_get_is_error (message))
    /* Translators: a tool that failed: its name and the first line of why. */
    line = g_strdup_printf (_("✗ %s: %s"), confab_message_get_tool_name (message), first_line);
  else
    /* Translators: a tool that finished: its name and the size of its output. */
    line = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "✓ %s: %zu byte", "✓ %s: %zu bytes",
                                         strlen (confab_message_get_content (message))),
                            confab_message_get_tool_name (message), strlen (confab_message_get_content (message)));
  print_tool_line (cli, line);
}

static void ask_next (Cli *cli);

static void
answer_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(ConfabApproval) approval = g_queue_pop_head (&cli->approvals);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  ConfabApprovalAnswer answer = CONFAB_APPROVAL_DENY;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL, &error);
  if (line != NULL)
    {
      g_strstrip (line);
      if (g_ascii_strcasecmp (line, "y") == 0 || g_ascii_strcasecmp (line, "yes") == 0)
        answer = CONFAB_APPROVAL_ALLOW_ONCE;
      else if (g_ascii_strcasecmp (line, "a") == 0 || g_ascii_strcasecmp (line, "always") == 0)
        answer = CONFAB_APPROVAL_ALLOW_ALWAYS;
    }

  if (approval != NULL)
    confab_approval_answer (approval, answer, NULL);
  ask_next (cli);
}

/* One question at a time on the terminal; the other tools keep running
 * meanwhile, and reading the answer never blocks the main loop. */
static void
ask_next (Cli *cli)
{
  ConfabApproval *approval;
  g_autofree char *arguments = NULL;

  /* Questions withdrawn by a stop are dropped. */
  while ((approval = g_queue_peek_head (&cli->approvals)) != NULL && confab_approval_get_resolved (approval))
    g_object_unref (g_queue_pop_head (&cli->approvals));
  if (approval == NULL)
    return;

  arguments = confab_tool_call_dup_arguments_json (confab_approval_get_call (approval));
  fflush (stdout);
  /* Translators: asked on the terminal before a tool runs; keep the
   * letters y, a and N (the answers typed) in English. */
  fprintf (stderr, _("Run %s %s? [y]es, [a]lways in this conversation, [N]o: "),
           confab_tool_get_name (confab_approval_get_tool (approval)), arguments);
  fflush (stderr);

  if (cli->answers == NULL)
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      cli->answers = g_data_input_stream_new (in);
    }
  g_data_input_stream_read_line_async (cli->answers, G_PRIORITY_DEFAULT, cli->cancellable, answer_read_cb, cli);
}

static void
approval_requested_cb (ConfabAgent    *agent,
                       ConfabApproval *approval,
                       Cli            *cli)
{
  gboolean idle = g_queue_is_empty (&cli->approvals);

  if (opt_yes)
    {
      confab_approval_answer (approval, CONFAB_APPROVAL_ALLOW_ONCE, NULL);
      return;
    }

  if (cli->stdin_used || !isatty (STDIN_FILENO))
    {
      g_autofree char *reason = g_strdup_printf (_("The tool “%s” needs approval, and confab-cli cannot ask "
                                                   "(standard input is not a terminal); run it with --yes to allow it."),
                                                 confab_tool_get_name (confab_approval_get_tool (approval)));

      confab_approval_answer (approval, CONFAB_APPROVAL_DENY, reason);
      return;
    }

  g_queue_push_tail (&cli->approvals, g_object_ref (approval));
  if (idle)
    ask_next (cli);
}

static void
save_failed_cb (ConfabAgent *agent,
                const char  *message,
                Cli         *cli)
{
  /* The turn goes on; the exit status says something was not kept. */
  confab_cli_print_error ("%s", message);
  cli->exit_code = EXIT_FAILURE;
}

static void
notice_cb (ConfabAgent *agent,
           const char  *message,
           Cli         *cli)
{
  fprintf (stderr, "confab-cli: %s\n", message);
  queue_flush (cli);
}

static void
turn_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Cli *cli = user_data;
  g_autoptr(GError) error = NULL;
  ConfabAgentOutcome outcome;

  end_output_line (cli);
  if (!confab_agent_run_finish (CONFAB_AGENT (object), result, &outcome, &error))
    {
      confab_cli_print_error ("%s", error->message);
      cli->exit_code = EXIT_FAILURE;
    }
  else if (outcome == CONFAB_AGENT_STOPPED)
    {
      confab_cli_print_error (_("interrupted"));
      cli->exit_code = EXIT_INTERRUPTED;
    }
  else if (outcome == CONFAB_AGENT_STEP_LIMIT)
    {
      confab_cli_print_error (g_dngettext (GETTEXT_PACKAGE,
                                           "the model still wanted tools after %u step (see --max-steps)",
                                           "the model still wanted tools after %u steps (see --max-steps)",
                                           confab_agent_get_max_steps (CONFAB_AGENT (object))),
                              confab_agent_get_max_steps (CONFAB_AGENT (object)));
      cli->exit_code = EXIT_FAILURE;
    }
  else if (cli->exit_code == -1)
    cli->exit_code = EXIT_SUCCESS;

  cli->turn_done = TRUE;
  g_main_context_wakeup (NULL);
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
                   /* Translators: %s is the system's explanation. */
                   _("could not read the prompt from standard input: %s"), g_strerror (saved_errno));
      return NULL;
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
usage_error (const char *message)
{
  confab_cli_print_error ("%s", message);
  /* Translators: %s is the program's name, “confab-cli”. */
  fprintf (stderr, _("Try “%s --help” for more information."), g_get_prgname ());
  fputc ('\n', stderr);
  return EXIT_USAGE;
}

/* The model to use: the one asked for, else the only one the server lists. */
static char *
resolve_model (Cli         *cli,
               const char  *fallback,
               int         *exit_code)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  g_autofree char *list = NULL;

  if (opt_model != NULL)
    return g_strdup (opt_model);
  if (fallback != NULL)
    return g_strdup (fallback);

  confab_provider_list_models_async (cli->provider, cli->cancellable, confab_cli_async_cb, &result);
  models = confab_provider_list_models_finish (cli->provider, confab_cli_wait (&result), &error);
  if (models == NULL)
    {
      if (cli->interrupted)
        {
          confab_cli_print_error (_("interrupted"));
          *exit_code = EXIT_INTERRUPTED;
        }
      else
        {
          /* Translators: %s says why. */
          confab_cli_print_error (_("could not list the server's models: %s"), error->message);
          *exit_code = EXIT_FAILURE;
        }
      return NULL;
    }

  if (g_strv_length (models) == 1)
    return g_strdup (models[0]);

  list = g_strjoinv (", ", models);
  if (models[0] == NULL)
    {
      confab_cli_print_error (_("--model is required: the server lists no models"));
    }
  else
    {
      /* Translators: %s is the list of models, such as “llama3.2, qwen3”;
       * it always has two or more. */
      confab_cli_print_error (ngettext ("--model is required: the server lists %u model (%s)",
                                        "--model is required: the server lists %u models (%s)",
                                        g_strv_length (models)),
                              g_strv_length (models), list);
    }
  *exit_code = EXIT_USAGE;
  return NULL;
}

static int
list_models (Cli *cli)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  confab_provider_list_models_async (cli->provider, cli->cancellable, confab_cli_async_cb, &result);
  models = confab_provider_list_models_finish (cli->provider, confab_cli_wait (&result), &error);
  if (models == NULL)
    {
      confab_cli_print_error ("%s", cli->interrupted ? _("interrupted") : error->message);
      return cli->interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
    }

  for (guint i = 0; models[i] != NULL; i++)
    printf ("%s\n", models[i]);
  return EXIT_SUCCESS;
}

/* A title from the first words of the first message. */
static char *
title_for (const char *prompt)
{
  g_autofree char *line = g_strstrip (g_strdup (prompt));
  char *newline = strchr (line, '\n');
  const char *end;

  if (newline != NULL)
    *newline = '\0';
  g_strstrip (line);
  if (g_utf8_strlen (line, -1) <= 60)
    return g_steal_pointer (&line);

  end = g_utf8_offset_to_pointer (line, 59);
  line[end - line] = '\0';
  return g_strconcat (line, "…", NULL);
}

typedef struct
{
  ConfabConversation *conversation;
  GPtrArray          *history;
  gint64              user_id;
} Saved;

static void
saved_clear (Saved *saved)
{
  g_clear_object (&saved->conversation);
  g_clear_pointer (&saved->history, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Saved, saved_clear)

/* Finds or creates the conversation and commits the user's message
 * before anything is sent; the agent stores the rest as it happens. */
static gboolean
save_exchange (Cli         *cli,
               const char  *model,
               const char  *prompt,
               Saved       *saved,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, prompt);
  gint64 id;

  if (saved->conversation == NULL)
    {
      g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
      g_autofree char *title = title_for (prompt);

      confab_conversation_set_title (draft, title);
      confab_conversation_set_model (draft, model);
      confab_conversation_set_provider (draft, opt_provider != NULL ? opt_provider
                                                                    : confab_provider_get_api_name (cli->provider));
      confab_conversation_set_system_prompt (draft, opt_system);
      confab_store_create_conversation_async (cli->store, draft, NULL, confab_cli_async_cb, &result);
      saved->conversation = confab_store_create_conversation_finish (cli->store, confab_cli_wait (&result), error);
      g_clear_object (&result);
      if (saved->conversation == NULL)
        return FALSE;
    }

  id = confab_conversation_get_id (saved->conversation);

  confab_store_add_message_async (cli->store, id, user, NULL, confab_cli_async_cb, &result);
  saved->user_id = confab_store_add_message_finish (cli->store, confab_cli_wait (&result), error);
  if (saved->user_id == 0)
    return FALSE;

  /* Not translated: scripts read this line (--help documents it). */
  fprintf (stderr, "confab-cli: conversation %" G_GINT64_FORMAT "\n", id);
  fflush (stderr);
  return TRUE;
}

static gboolean
load_conversation (Cli      *cli,
                   gint64    id,
                   Saved    *saved,
                   GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_get_conversation_async (cli->store, id, NULL, confab_cli_async_cb, &result);
  saved->conversation = confab_store_get_conversation_finish (cli->store, confab_cli_wait (&result), error);
  if (saved->conversation == NULL)
    return FALSE;
  g_clear_object (&result);

  confab_store_load_messages_async (cli->store, id, NULL, confab_cli_async_cb, &result);
  saved->history = confab_store_load_messages_finish (cli->store, confab_cli_wait (&result), error);
  return saved->history != NULL;
}

static ConfabChatRequest *
build_request (Cli        *cli,
               const char *model,
               const char *system,
               GPtrArray  *history,
               const char *prompt)
{
  ConfabChatRequest *request = confab_chat_request_new (model);
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, prompt);

  if (system != NULL)
    {
      g_autoptr(ConfabMessage) message = confab_message_new (CONFAB_ROLE_SYSTEM, system);
      confab_chat_request_add_message (request, message);
    }

  /* A stored reply that failed or is empty is not sent back. */
  for (guint i = 0; history != NULL && i < history->len; i++)
    {
      ConfabMessage *message = g_ptr_array_index (history, i);

      if (confab_message_get_role (message) == CONFAB_ROLE_ASSISTANT &&
          (confab_message_get_state (message) == CONFAB_MESSAGE_FAILED ||
           (confab_message_get_content (message)[0] == '\0' &&
            confab_message_get_tool_calls (message)->len == 0)))
        continue;
      confab_chat_request_add_message (request, message);
    }
  confab_chat_request_add_message (request, user);

  if (cli->has_temperature)
    confab_chat_request_set_temperature (request, cli->temperature);
  if (opt_max_tokens > 0)
    confab_chat_request_set_max_tokens (request, opt_max_tokens);

  return request;
}

/* --provider NAME: the stored configuration, its key from the keyring
 * (CONFAB_API_KEY, when set, wins). */
static int
use_configured_provider (Cli        *cli,
                         const char *name)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) key = NULL;
  ConfabProviderConfig *config = NULL;

  store = confab_cli_open_store (FALSE, &error);
  if (store == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  confab_store_list_providers_async (store, NULL, confab_cli_async_cb, &result);
  configs = confab_store_list_providers_finish (store, confab_cli_wait (&result), &error);
  if (configs == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }
  g_clear_object (&result);

  for (guint i = 0; i < configs->len; i++)
    if (g_str_equal (confab_provider_config_get_name (g_ptr_array_index (configs, i)), name))
      config = g_ptr_array_index (configs, i);

  if (config == NULL)
    {
      confab_cli_print_error (_("there is no provider named “%s” (see “confab-cli providers list”)"), name);
      return EXIT_USAGE;
    }

  if (g_getenv ("CONFAB_API_KEY") != NULL)
    key = g_strdup (g_getenv ("CONFAB_API_KEY"));
  else
    {
      confab_secrets_lookup_key_async (name, NULL, confab_cli_async_cb, &result);
      key = confab_secrets_lookup_key_finish (confab_cli_wait (&result), &error);
      /* Without the keyring the request may still work (a local server). */
      if (error != NULL)
        {
          g_autofree char *warning = g_strdup_printf (_("warning: %s"), error->message);

          fprintf (stderr, "confab-cli: %s\n", warning);
          g_clear_error (&error);
        }
    }

  cli->provider = confab_provider_config_create_provider (config, key, &error);
  if (cli->provider == NULL)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  cli->default_model = g_strdup (confab_provider_config_get_default_model (config));
  return EXIT_SUCCESS;
}

/* --tools: the tools the model may use in this run, from every tool
 * Confab has; only these are offered to it. */
static gboolean
select_tools (Cli         *cli,
              const char  *list,
              GError     **error)
{
  g_autoptr(ConfabToolbox) available = confab_toolbox_new ();
  g_auto(GStrv) names = g_strsplit (list, ",", -1);
  gboolean wants_mcp = FALSE;

  confab_builtin_tools_add_all (available);

  /* MCP tools ("server__tool", or "all"): the configured servers start,
   * all at once, and stay up for the run. */
  for (guint i = 0; names[i] != NULL; i++)
    if (strstr (names[i], "__") != NULL || g_str_equal (g_strstrip (names[i]), "all"))
      wants_mcp = TRUE;
  if (wants_mcp)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) start_error = NULL;

      g_autoptr(GError) load_error = NULL;

      /* A file that cannot be read is a failure, not a usage error. */
      cli->mcp = confab_mcp_manager_new (NULL);
      if (!confab_mcp_manager_reload (cli->mcp, &load_error))
        {
          confab_cli_print_error ("%s", load_error->message);
          cli->mcp_failed = TRUE;
          return FALSE;
        }
      confab_mcp_manager_set_toolbox (cli->mcp, available);
      confab_mcp_manager_start_all_async (cli->mcp, cli->cancellable, confab_cli_async_cb, &result);
      /* A server that did not start is named; the run goes on without it. */
      if (!confab_mcp_manager_start_all_finish (cli->mcp, confab_cli_wait (&result), &start_error))
        {
          g_autofree char *warning = g_strdup_printf (_("warning: %s"), start_error->message);

          fprintf (stderr, "confab-cli: %s\n", warning);
        }
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      ConfabTool *tool;

      if (name[0] == '\0')
        continue;
      if (g_str_equal (name, "all"))
        {
          for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (available)); j++)
            {
              g_autoptr(ConfabTool) each = g_list_model_get_item (G_LIST_MODEL (available), j);
              confab_toolbox_add (cli->toolbox, each);
            }
          continue;
        }
      if ((tool = confab_toolbox_lookup (available, name)) == NULL)
        {
          g_autoptr(GString) known = g_string_new (NULL);

          for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (available)); j++)
            {
              g_autoptr(ConfabTool) each = g_list_model_get_item (G_LIST_MODEL (available), j);
              g_string_append_printf (known, "%s%s", known->len > 0 ? ", " : "", confab_tool_get_name (each));
            }
          /* Translators: the first %s is a name given to --tools, the second the list of tools there are. */
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT, _("there is no tool named “%s” (tools: %s)"),
                       name, known->len > 0 ? known->str : _("none"));
          return FALSE;
        }
      confab_toolbox_add (cli->toolbox, tool);
    }
  return TRUE;
}

static int
run_chat (Cli        *cli,
          const char *prompt)
{
  g_auto(Saved) saved = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autoptr(ConfabChatRequest) request = NULL;
  g_autoptr(ConfabAgent) agent = NULL;
  g_autofree char *model = NULL;
  const char *system = opt_system;
  const char *fallback_model = cli->default_model;
  int exit_code = EXIT_FAILURE;

  if (opt_save || opt_continue > 0)
    {
      cli->store = confab_cli_open_store (TRUE, &error);
      if (cli->store == NULL)
        {
          confab_cli_print_error ("%s", error->message);
          return EXIT_FAILURE;
        }
    }

  if (opt_continue > 0)
    {
      if (!load_conversation (cli, opt_continue, &saved, &error))
        {
          confab_cli_print_error ("%s", error->message);
          return EXIT_FAILURE;
        }
      if (system == NULL)
        system = confab_conversation_get_system_prompt (saved.conversation);
      if (confab_conversation_get_model (saved.conversation) != NULL)
        fallback_model = confab_conversation_get_model (saved.conversation);
    }

  model = resolve_model (cli, fallback_model, &exit_code);
  if (model == NULL)
    return exit_code;

  request = build_request (cli, model, system, saved.history, prompt);
  agent = confab_agent_new (cli->provider, cli->toolbox);
  confab_agent_set_max_steps (agent, opt_max_steps);
  confab_tool_context_set_allow_private_network (confab_agent_get_context (agent), opt_allow_private_network);
  for (guint i = 0; opt_allow_dirs != NULL && opt_allow_dirs[i] != NULL; i++)
    if (!confab_tool_context_add_allowed_dir (confab_agent_get_context (agent), opt_allow_dirs[i], &error))
      return usage_error (error->message);

  g_signal_connect (agent, "step-started", G_CALLBACK (step_started_cb), cli);
  g_signal_connect (agent, "tool-started", G_CALLBACK (tool_started_cb), cli);
  g_signal_connect (agent, "message-updated", G_CALLBACK (message_updated_cb), cli);
  g_signal_connect (agent, "approval-requested", G_CALLBACK (approval_requested_cb), cli);
  g_signal_connect (agent, "save-failed", G_CALLBACK (save_failed_cb), cli);
  g_signal_connect (agent, "notice", G_CALLBACK (notice_cb), cli);

  if (cli->store != NULL)
    {
      if (!save_exchange (cli, model, prompt, &saved, &error))
        {
          /* Translators: %s says why. */
          confab_cli_print_error (_("could not save the conversation: %s"), error->message);
          return EXIT_FAILURE;
        }
      confab_agent_set_store (agent, cli->store, confab_conversation_get_id (saved.conversation));
    }

  cli->exit_code = -1;
  confab_agent_run_async (agent, request, saved.user_id, cli->cancellable, turn_done_cb, cli);

  while (!cli->turn_done)
    g_main_context_iteration (NULL, TRUE);

  g_queue_clear_full (&cli->approvals, g_object_unref);
  g_clear_object (&cli->answers);
  return cli->exit_code;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) help_text = g_string_new (NULL);
  g_autofree char *prompt = NULL;
  Cli cli = { 0 };
  int exit_code;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("confab-cli");

  if (argc > 1 && g_str_equal (argv[1], "conversations"))
    return confab_cli_conversations_main (argc - 1, argv + 1);
  if (argc > 1 && g_str_equal (argv[1], "providers"))
    return confab_cli_providers_main (argc - 1, argv + 1);
  if (argc > 1 && g_str_equal (argv[1], "mcp"))
    return confab_cli_mcp_main (argc - 1, argv + 1);

  for (guint i = 0; i < G_N_ELEMENTS (description); i++)
    {
      if (i > 0)
        g_string_append (help_text, "\n\n");
      g_string_append (help_text, _(description[i]));
    }

  /* GOption translates the summary and the entries itself. */
  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, N_("Ask a language model, streaming the reply to standard output."));
  g_option_context_set_description (context, help_text->str);
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);

  if (opt_version)
    {
      printf ("confab-cli %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (opt_timeout < 0)
    return usage_error (_("--timeout must be 0 or more seconds"));
  if (opt_max_tokens < 0)
    return usage_error (_("--max-tokens must be a positive number"));
  if (opt_continue < 0)
    return usage_error (_("--continue needs a conversation ID (a number, see “conversations list”)"));
  if (opt_temperature != NULL)
    {
      char *end = NULL;

      cli.temperature = g_ascii_strtod (opt_temperature, &end);
      if (end == opt_temperature || *end != '\0' || !isfinite (cli.temperature) || cli.temperature < 0)
        return usage_error (_("--temperature must be a number of 0 or more"));
      cli.has_temperature = TRUE;
    }
  if (opt_provider != NULL && (opt_api != NULL || opt_base_url != NULL))
    return usage_error (_("--provider already says which API and URL to use; drop --api and --base-url"));
  if (opt_max_steps < 1)
    return usage_error (_("--max-steps must be 1 or more"));
  if (opt_list_models && (opt_save || opt_continue > 0))
    return usage_error (_("--list-models does not chat, so there is nothing to save"));

  if (!opt_list_models)
    {
      if (opt_prompt == NULL || (g_strv_length (opt_prompt) == 1 && g_str_equal (opt_prompt[0], "-")))
        {
          cli.stdin_used = TRUE;
          prompt = read_stdin (&error);
          if (prompt == NULL)
            {
              confab_cli_print_error ("%s", error->message);
              return EXIT_FAILURE;
            }
        }
      else
        prompt = g_strjoinv (" ", opt_prompt);

      if (!g_utf8_validate (prompt, -1, NULL))
        return usage_error (_("the prompt is not valid UTF-8 text"));
    }
  else if (opt_prompt != NULL)
    return usage_error (_("--list-models takes no prompt"));

  if (prompt != NULL)
    {
      /* g_strstrip() works in place: check a copy, send the original. */
      g_autofree char *stripped = g_strstrip (g_strdup (prompt));
      if (stripped[0] == '\0')
        return usage_error (_("the prompt is empty"));
    }

  cli.cancellable = g_cancellable_new ();
  cli.json = opt_json;
  cli.stdout_tty = isatty (STDOUT_FILENO);
  cli.stderr_tty = isatty (STDERR_FILENO);
  cli.exit_code = EXIT_FAILURE;

  /* Full buffering, flushed once per network read (see flush_cb). */
  setvbuf (stdout, NULL, _IOFBF, 1 << 16);

  g_unix_signal_add (SIGINT, signal_cb, &cli);
  g_unix_signal_add (SIGTERM, signal_cb, &cli);

  if (opt_provider != NULL)
    {
      exit_code = use_configured_provider (&cli, opt_provider);
      if (exit_code != EXIT_SUCCESS)
        goto out;
    }
  else
    {
      cli.provider = confab_provider_new_for_api (opt_api != NULL ? opt_api : "openai", opt_base_url, &error);
      if (cli.provider == NULL)
        {
          exit_code = usage_error (error->message);
          goto out;
        }
      confab_provider_set_api_key (cli.provider, g_getenv ("CONFAB_API_KEY"));
    }
  confab_provider_set_timeout (cli.provider, opt_timeout);

  cli.toolbox = confab_toolbox_new ();
  if (opt_tools != NULL && !select_tools (&cli, opt_tools, &error))
    {
      exit_code = cli.mcp_failed ? EXIT_FAILURE : usage_error (error->message);
      goto out;
    }

  if (opt_list_models)
    exit_code = list_models (&cli);
  else
    exit_code = run_chat (&cli, prompt);

out:
  fflush (stdout);
  fflush (stderr);

  if (cli.mcp != NULL)
    confab_mcp_manager_shutdown_sync (cli.mcp, 5000);
  g_clear_object (&cli.mcp);
  g_clear_object (&cli.provider);
  g_clear_object (&cli.toolbox);
  g_clear_object (&cli.store);
  g_clear_object (&cli.cancellable);
  g_clear_pointer (&cli.default_model, g_free);
  g_clear_pointer (&opt_api, g_free);
  g_clear_pointer (&opt_base_url, g_free);
  g_clear_pointer (&opt_model, g_free);
  g_clear_pointer (&opt_system, g_free);
  g_clear_pointer (&opt_temperature, g_free);
  g_clear_pointer (&opt_provider, g_free);
  g_clear_pointer (&opt_prompt, g_strfreev);
  g_clear_pointer (&opt_tools, g_free);
  g_clear_pointer (&opt_allow_dirs, g_strfreev);

  return exit_code;
}
