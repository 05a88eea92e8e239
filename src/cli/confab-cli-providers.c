/* confab-cli-providers.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "confab-engine.h"
#include "confab-cli-common.h"
#include "confab-cli-providers.h"

/* confab-cli providers: the stored provider configurations, their keys
 * in the keyring, and the local servers that can be found. Results go to
 * stdout, one tab-separated line each; errors are one line on stderr.
 *
 * A key is read from standard input only (never an argument, which any
 * user can see in ps), never echoed, and goes to the Secret Service and
 * nowhere else.
 */

#define EXIT_USAGE 2

/* Longer than any real API key, short enough to refuse a file piped in
 * by mistake. */
#define MAX_KEY_LENGTH 4096

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n", _("Usage:"));
  /* Translators: keep the commands and options; translate the words in
   * capitals and in parentheses. */
  fprintf (out, "%s\n", _("  confab-cli providers list\n"
                          "  confab-cli providers add NAME --api API --base-url URL [--model MODEL] [--header NAME=VALUE ...]\n"
                          "  confab-cli providers remove NAME\n"
                          "  confab-cli providers set-key NAME      (reads the key from standard input)\n"
                          "  confab-cli providers detect [NAME=API=URL ...]"));
  fputc ('\n', out);
  /* Translators: list and detect are commands; keep “key: stored|none|
   * session-only|unknown” as it is: it is what the command prints. */
  fprintf (out, "%s\n", _("list prints NAME, API, BASE_URL, MODEL and “key: stored|none|session-only|unknown”,\n"
                          "separated by tabs. detect asks the usual local servers (Ollama, llama.cpp, vLLM,\n"
                          "LM Studio), or the ones given, for their models."));
}

/* Terminal state while the key is typed without echo; restored by the
 * signal handler too. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_disabled;

static void
print_warning (const char *message)
{
  g_autofree char *warning = g_strdup_printf (_("warning: %s"), message);

  fprintf (stderr, "confab-cli: %s\n", warning);
}

static int
usage_error (const char *message)
{
  confab_cli_print_error ("%s", message);
  fprintf (stderr, "%s\n", _("Try “confab-cli providers --help” for more information."));
  return EXIT_USAGE;
}

/* Parses a subcommand's options; what remains in @argv are its
 * arguments, after argv[0]. */
static gboolean
parse_options (const char          *parameters,
               const GOptionEntry  *entries,
               int                 *argc,
               char              ***argv,
               GError             **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);
  g_autofree char *prgname = g_strconcat ("confab-cli providers ", (*argv)[0], NULL);

  /* For --help: "confab-cli providers add [OPTION…] NAME" */
  g_set_prgname (prgname);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse (context, argc, argv, error);
}

static GPtrArray *
list_providers (ConfabStore  *store,
                GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  confab_store_list_providers_async (store, NULL, confab_cli_async_cb, &result);
  return confab_store_list_providers_finish (store, confab_cli_wait (&result), error);
}

static ConfabProviderConfig *
find_provider (GPtrArray  *configs,
               const char *name)
{
  for (guint i = 0; i < configs->len; i++)
    {
      ConfabProviderConfig *config = g_ptr_array_index (configs, i);

      if (g_str_equal (confab_provider_config_get_name (config), name))
        return config;
    }

  return NULL;
}

/* list */

static int
list_main (int    argc,
           char **argv)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;
  gboolean warned = FALSE;

  /* Translators: shown after “confab-cli providers list [OPTION…]” in --help. */
  if (!parse_options (N_("- list the stored providers"), NULL, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc > 1)
    return usage_error (_("list takes no arguments"));

  if (!(store = confab_cli_open_store (FALSE, &error)) ||
      !(configs = list_providers (store, &error)))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < configs->len; i++)
    {
      ConfabProviderConfig *config = g_ptr_array_index (configs, i);
      const char *name = confab_provider_config_get_name (config);
      const char *model = confab_provider_config_get_default_model (config);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) key_error = NULL;
      g_auto(ConfabSecretKey) key = NULL;
      const char *state;

      if (confab_secrets_has_session_key (name))
        state = "session-only";
      else
        {
          /* The key itself is wiped as soon as its presence is known. */
          confab_secrets_lookup_key_async (name, NULL, confab_cli_async_cb, &result);
          key = confab_secrets_lookup_key_finish (confab_cli_wait (&result), &key_error);
          if (key != NULL)
            state = "stored";
          else if (key_error == NULL)
            state = "none";
          else
            {
              state = "unknown";
              if (!warned)
                print_warning (key_error->message);
              warned = TRUE;
            }
        }

      printf ("%s\t%s\t%s\t%s\tkey: %s\n",
              name,
              confab_provider_config_get_api (config),
              confab_provider_config_get_base_url (config),
              model != NULL ? model : "",
              state);
    }

  return EXIT_SUCCESS;
}

/* add */

static int
add_main (int    argc,
          char **argv)
{
  g_autofree char *api = NULL;
  g_autofree char *base_url = NULL;
  g_autofree char *model = NULL;
  g_auto(GStrv) headers = NULL;
  const GOptionEntry entries[] = {
    { "api", 0, 0, G_OPTION_ARG_STRING, &api,
      /* Translators: openai, ollama and anthropic are values to type. */
      N_("The server's API: openai, ollama or anthropic"), N_("API") },
    { "base-url", 0, 0, G_OPTION_ARG_STRING, &base_url,
      N_("Where the server is (http:// or https://)"), N_("URL") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &model,
      N_("The model to use when none is chosen"), N_("MODEL") },
    { "header", 0, 0, G_OPTION_ARG_STRING_ARRAY, &headers,
      N_("An HTTP header to send with every request (repeatable)"), N_("NAME=VALUE") },
    { NULL }
  };
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Translators: shown after “confab-cli providers add [OPTION…]” in
   * --help; translate NAME as in the usage text. */
  if (!parse_options (N_("NAME - add or replace a provider"), entries, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("add takes one NAME"));
  if (api == NULL)
    return usage_error (_("add needs --api (openai, ollama or anthropic)"));
  if (base_url == NULL)
    return usage_error (_("add needs --base-url"));

  config = confab_provider_config_new (argv[1], api, base_url);
  confab_provider_config_set_default_model (config, model);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      const char *equals = strchr (headers[i], '=');
      g_autofree char *name = NULL;

      if (equals == NULL || equals == headers[i])
        return usage_error (_("--header takes NAME=VALUE"));
      name = g_strndup (headers[i], equals - headers[i]);
      confab_provider_config_set_header (config, name, equals + 1);
    }

  /* Checked before the database is opened, or created. */
  if (!confab_provider_config_validate (config, &error))
    return usage_error (error->message);

  if (!(store = confab_cli_open_store (TRUE, &error)))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  confab_store_save_provider_async (store, config, NULL, confab_cli_async_cb, &result);
  if (!confab_store_save_provider_finish (store, confab_cli_wait (&result), &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}

/* remove */

static int
remove_main (int    argc,
             char **argv)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) clear_result = NULL;
  g_autoptr(GError) error = NULL;

  /* Translators: shown after “confab-cli providers remove [OPTION…]” in
   * --help; translate NAME as in the usage text. */
  if (!parse_options (N_("NAME - remove a provider and its key"), NULL, &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("remove takes one NAME"));
  if (!confab_provider_config_validate_name (argv[1], &error))
    return usage_error (error->message);

  if (!(store = confab_cli_open_store (TRUE, &error)))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  confab_store_remove_provider_async (store, argv[1], NULL, confab_cli_async_cb, &result);
  if (!confab_store_remove_provider_finish (store, confab_cli_wait (&result), &error))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  /* The provider is gone; a key left behind would only be clutter. */
  confab_secrets_clear_key_async (argv[1], NULL, confab_cli_async_cb, &clear_result);
  if (!confab_secrets_clear_key_finish (confab_cli_wait (&clear_result), &error))
    print_warning (error->message);

  return EXIT_SUCCESS;
}

/* set-key */

static void
restore_echo (void)
{
  if (echo_disabled)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  echo_disabled = FALSE;
}

static void
signal_handler (int signum)
{
  /* tcsetattr() is async-signal-safe. */
  if (echo_disabled)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
disable_echo (void)
{
  struct termios quiet;

  if (tcgetattr (STDIN_FILENO, &saved_termios) != 0)
    return;

  signal (SIGINT, signal_handler);
  signal (SIGTERM, signal_handler);
  signal (SIGHUP, signal_handler);

  quiet = saved_termios;
  quiet.c_lflag &= ~(tcflag_t)ECHO;
  quiet.c_lflag |= ECHONL;
  echo_disabled = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
}

/* Reads one line from stdin, without stdio's buffer (which would keep a
 * copy), into @buffer of MAX_KEY_LENGTH + 1 bytes; strips the line end. */
static gboolean
read_key (char    *buffer,
          GError **error)
{
  gsize len = 0;

  for (;;)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       /* Translators: %s is the system's explanation. */
                       _("could not read the key from standard input: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0 || c == '\n')
        break;
      if (c == '\0')
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("the key contains a NUL byte; nothing was stored"));
          return FALSE;
        }
      if (len == MAX_KEY_LENGTH)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("the key is longer than %d bytes: give it as one line on standard input"),
                       MAX_KEY_LENGTH);
          return FALSE;
        }
      buffer[len++] = c;
    }

  if (len > 0 && buffer[len - 1] == '\r')
    len--;
  buffer[len] = '\0';

  return TRUE;
}

/* Reads the key and stores it; @buffer has MAX_KEY_LENGTH + 1 bytes and
 * is wiped by the caller. */
static int
store_key_from_stdin (const char *name,
                      char       *buffer)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean interactive;
  gboolean read_ok;

  interactive = isatty (STDIN_FILENO);
  if (interactive)
    {
      /* Translators: the prompt for typing a key; %s is the name of a provider. */
      fprintf (stderr, _("API key for %s: "), name);
      fflush (stderr);
      disable_echo ();
    }

  read_ok = read_key (buffer, &error);

  /* ECHONL has echoed the line end. */
  if (interactive)
    restore_echo ();

  if (!read_ok)
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }
  if (buffer[0] == '\0')
    return usage_error (_("the key is empty; nothing was stored"));
  for (const char *p = buffer; *p != '\0'; p++)
    {
      if ((guchar)*p < 0x20 || *p == 0x7f)
        return usage_error (_("the key contains control characters; nothing was stored"));
    }

  confab_secrets_store_key_async (name, buffer, NULL, confab_cli_async_cb, &result);
  if (!confab_secrets_store_key_finish (confab_cli_wait (&result), &error))
    {
      if (g_error_matches (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE))
        /* Translators: %s says that there is no keyring and the key is
         * kept only for this session. */
        confab_cli_print_error (_("%s. confab-cli ends here, so that session is over and the key is lost: "
                       "nothing was stored"), error->message);
      else
        confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}

static int
set_key_main (int    argc,
              char **argv)
{
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[MAX_KEY_LENGTH + 1] = { 0 };
  const char *name;
  int status;

  /* Translators: shown after “confab-cli providers set-key [OPTION…]” in
   * --help; translate NAME as in the usage text. */
  if (!parse_options (N_("NAME - store a provider's API key, read from standard input"), NULL,
                      &argc, &argv, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("set-key takes one NAME, and the key on standard input"));
  name = argv[1];
  if (!confab_provider_config_validate_name (name, &error))
    return usage_error (error->message);

  if (!(store = confab_cli_open_store (FALSE, &error)) ||
      !(configs = list_providers (store, &error)))
    {
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }
  if (find_provider (configs, name) == NULL)
    {
      confab_cli_print_error (_("there is no provider “%s”; add it first with “confab-cli providers add”"), name);
      return EXIT_FAILURE;
    }

  status = store_key_from_stdin (name, buffer);
  explicit_bzero (buffer, sizeof buffer);

  return status;
}

/* detect */

static int
detect_main (int    argc,
             char **argv)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) servers = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GError) error = NULL;

  /* Translators: shown after “confab-cli providers detect [OPTION…]” in
   * --help; translate NAME, API and URL as in the usage text. */
  if (!parse_options (N_("[NAME=API=URL ...] - find local model servers"), NULL, &argc, &argv, &error))
    return usage_error (error->message);

  if (argc > 1)
    {
      candidates = g_ptr_array_new ();
      for (int i = 1; i < argc; i++)
        g_ptr_array_add (candidates, argv[i]);
      g_ptr_array_add (candidates, NULL);
    }

  confab_discover_local_servers_async (candidates != NULL ? (const char * const *)candidates->pdata : NULL,
                                       NULL, confab_cli_async_cb, &result);
  servers = confab_discover_local_servers_finish (confab_cli_wait (&result), &error);
  if (servers == NULL)
    {
      if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT))
        return usage_error (error->message);
      confab_cli_print_error ("%s", error->message);
      return EXIT_FAILURE;
    }

  if (servers->len == 0)
    {
      fprintf (stderr, "%s\n", _("No local model server answered."));
      return EXIT_FAILURE;
    }

  for (guint i = 0; i < servers->len; i++)
    {
      ConfabDiscoveredServer *server = g_ptr_array_index (servers, i);
      g_autofree char *models = g_strjoinv (",", server->models);

      printf ("%s\t%s\t%s\t%s\n", server->name, server->api, server->base_url, models);
    }

  return EXIT_SUCCESS;
}

/* Entry point */

/**
 * confab_cli_providers_main:
 * @argc: the number of arguments, "providers" included
 * @argv: "providers", a subcommand and its arguments; GOption may reorder
 *   them
 *
 * Returns: 0 on success, 1 on failure, 2 for a usage error.
 */
int
confab_cli_providers_main (int    argc,
                           char **argv)
{
  static const ConfabCliSubcommand subcommands[] = {
    { "list", list_main },
    { "add", add_main },
    { "remove", remove_main },
    { "set-key", set_key_main },
    { "detect", detect_main },
    { NULL, NULL },
  };
  int status = confab_cli_dispatch (argc, argv, subcommands, print_usage, usage_error);

  fflush (stdout);
  return status;
}
