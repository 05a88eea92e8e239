/* test-secrets.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* API keys in the Secret Service, against a real gnome-keyring-daemon:
 * stored, found, replaced and cleared; never in the database file nor in
 * what confab-cli prints; and kept in memory for the session, with a
 * clear error, when there is no Secret Service at all.
 *
 * The suite runs under dbus-run-session. When nothing owns
 * org.freedesktop.secrets on that bus, this test starts its own
 * gnome-keyring-daemon, with its keyring in a fresh temporary directory
 * (so no real keyring is ever touched) unlocked with a known password,
 * waits for its name on the bus (a name watch, no sleep) and stops it at
 * the end. Without a session bus or gnome-keyring-daemon, the keyring
 * tests are skipped, or fail when CONFAB_REQUIRE_KEYRING=1 (CI sets it,
 * so a broken environment cannot pass silently).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "confab-engine.h"

/* Only a guard against a daemon that never registers; it normally takes
 * milliseconds. */
#define KEYRING_START_TIMEOUT_S 20

#define UNAVAILABLE_MESSAGE(name) \
  "No keyring (Secret Service) is available, so the key for “" name "” is kept in memory for " \
  "this session only; install and unlock GNOME Keyring or KeePassXC to keep it"

static GSubprocess *keyring_daemon;
static char *keyring_dir;
static gboolean keyring_ready;
static char *keyring_problem;

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert_null (wait->result);
  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Wait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
}

static gboolean
store_key (const char  *provider,
           const char  *key,
           GError     **error)
{
  Wait wait = { NULL };
  gboolean ok;

  confab_secrets_store_key_async (provider, key, NULL, wait_cb, &wait);
  ok = confab_secrets_store_key_finish (wait_result (&wait), error);
  wait_clear (&wait);

  return ok;
}

static char *
lookup_key (const char  *provider,
            GError     **error)
{
  Wait wait = { NULL };
  char *key;

  confab_secrets_lookup_key_async (provider, NULL, wait_cb, &wait);
  key = confab_secrets_lookup_key_finish (wait_result (&wait), error);
  wait_clear (&wait);

  return key;
}

static gboolean
clear_key (const char  *provider,
           GError     **error)
{
  Wait wait = { NULL };
  gboolean ok;

  confab_secrets_clear_key_async (provider, NULL, wait_cb, &wait);
  ok = confab_secrets_clear_key_finish (wait_result (&wait), error);
  wait_clear (&wait);

  return ok;
}

/* A name and a key no other test run shares. */
static char *
unique_name (const char *what)
{
  return g_strdup_printf ("confab-test-%d-%s", (int)getpid (), what);
}

static char *
random_key (void)
{
  return g_strdup_printf ("sk-confab-test-%08x%08x%08x", g_random_int (), g_random_int (), g_random_int ());
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static gboolean
bytes_contain (const char *data,
               gsize       len,
               const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; n <= len && i <= len - n; i++)
    {
      if (memcmp (data + i, needle, n) == 0)
        return TRUE;
    }

  return FALSE;
}

/* Whether any file under @path (the database, its -wal and -shm) holds
 * @needle. */
static gboolean
tree_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (tree_contains (child, needle))
            return TRUE;
        }
      return FALSE;
    }

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return bytes_contain (contents, len, needle);
}

/* The keyring daemon */

typedef struct
{
  gboolean appeared;
  gboolean exited;
  gboolean timed_out;
} KeyringStart;

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  KeyringStart *start = user_data;

  start->appeared = TRUE;
}

static void
daemon_exited_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  KeyringStart *start = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  start->exited = TRUE;
}

static gboolean
start_timeout_cb (gpointer user_data)
{
  KeyringStart *start = user_data;

  start->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
name_has_owner (GDBusConnection  *connection,
                const char       *name,
                GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);

  return has_owner;
}

/* Makes sure a Secret Service answers on the session bus, starting a
 * private gnome-keyring-daemon when none does. */
static gboolean
start_keyring (GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GOutputStream) input = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *program = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *log = NULL;
  KeyringStart start = { FALSE, FALSE, FALSE };
  guint watch_id;
  guint timeout_id;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "no session bus (run the tests under dbus-run-session)");
      return FALSE;
    }

  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  if (connection == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no session bus: %s", local_error->message);
      return FALSE;
    }

  if (name_has_owner (connection, "org.freedesktop.secrets", error))
    {
      g_test_message ("Using the Secret Service already running on this bus");
      return TRUE;
    }
  if (error != NULL && *error != NULL)
    return FALSE;

  program = g_find_program_in_path ("gnome-keyring-daemon");
  if (program == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gnome-keyring-daemon is not installed");
      return FALSE;
    }

  /* A keyring of its own: nothing of the user's is read or unlocked. */
  keyring_dir = g_dir_make_tmp ("confab-keyring-XXXXXX", error);
  if (keyring_dir == NULL)
    return FALSE;
  data_dir = g_build_filename (keyring_dir, "data", NULL);
  runtime_dir = g_build_filename (keyring_dir, "runtime", NULL);
  log_path = g_build_filename (keyring_dir, "daemon.log", NULL);
  g_mkdir (data_dir, 0700);
  g_mkdir (runtime_dir, 0700);

  /* Its chatter stays out of the TAP output, and in a file for when it
   * fails. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", keyring_dir, TRUE);
  /* The tests' fatal warnings are not the daemon's. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "GNOME_KEYRING_CONTROL");

  /* An empty password does not unlock headless; this does (ENVIRONMENT.md). */
  keyring_daemon = g_subprocess_launcher_spawn (launcher, error, program, "--foreground", "--unlock",
                                                "--components=secrets", NULL);
  if (keyring_daemon == NULL)
    return FALSE;

  input = g_object_ref (g_subprocess_get_stdin_pipe (keyring_daemon));
  if (!g_output_stream_write_all (input, "ci", 2, NULL, NULL, error) ||
      !g_output_stream_close (input, NULL, error))
    return FALSE;

  watch_id = g_bus_watch_name_on_connection (connection, "org.freedesktop.secrets",
                                             G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             name_appeared_cb, NULL, &start, NULL);
  g_subprocess_wait_async (keyring_daemon, NULL, daemon_exited_cb, &start);
  timeout_id = g_timeout_add_seconds (KEYRING_START_TIMEOUT_S, start_timeout_cb, &start);

  while (!start.appeared && !start.exited && !start.timed_out)
    g_main_context_iteration (NULL, TRUE);

  g_bus_unwatch_name (watch_id);
  if (!start.timed_out)
    g_source_remove (timeout_id);

  if (start.appeared)
    return TRUE;

  g_file_get_contents (log_path, &log, NULL, NULL);
  if (start.exited)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "gnome-keyring-daemon exited with status %d: %s",
                 g_subprocess_get_exit_status (keyring_daemon), log != NULL ? g_strstrip (log) : "");
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "gnome-keyring-daemon did not appear on the session bus within %d s: %s",
                 KEYRING_START_TIMEOUT_S, log != NULL ? g_strstrip (log) : "");
  g_clear_object (&keyring_daemon);
  return FALSE;
}

static void
stop_keyring (void)
{
  /* Drop libsecret's connection to the service before it goes. */
  secret_service_disconnect ();

  if (keyring_daemon != NULL)
    {
      g_subprocess_send_signal (keyring_daemon, SIGTERM);
      g_subprocess_wait (keyring_daemon, NULL, NULL);
      g_clear_object (&keyring_daemon);
    }

  if (keyring_dir != NULL)
    rm_rf (keyring_dir);
  g_clear_pointer (&keyring_dir, g_free);
}

/* Whether the Secret Service takes a key: an activated daemon without an
 * unlocked keyring owns the name but cannot (another test on the same
 * bus may have started one before this test could start its own). */
static gboolean
probe_keyring (GError **error)
{
  g_autofree char *name = unique_name ("probe");
  g_autoptr(GError) local_error = NULL;

  if (!store_key (name, "probe", &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the Secret Service on this bus does not store keys (start and unlock "
                   "gnome-keyring-daemon before the tests): %s", local_error->message);
      clear_key (name, NULL);
      return FALSE;
    }

  return clear_key (name, error);
}

/* Returns whether the test can go on with a keyring; skips or fails it
 * otherwise. */
static gboolean
require_keyring (void)
{
  if (keyring_ready)
    return TRUE;

  if (g_strcmp0 (g_getenv ("CONFAB_REQUIRE_KEYRING"), "1") == 0)
    g_test_fail_printf ("no keyring could be started, and CONFAB_REQUIRE_KEYRING=1: %s", keyring_problem);
  else
    g_test_skip_printf ("no keyring: %s", keyring_problem);

  return FALSE;
}

/* confab-cli */

typedef struct
{
  int   status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

/* Runs confab-cli with @data_home as XDG_DATA_HOME, and @bus_address
 * (when set) as its session bus. */
static void
run_cli (CliRun             *run,
         const char         *data_home,
         const char         *bus_address,
         const char         *input,
         const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("CONFAB_CLI");

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer)cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  if (bus_address != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", bus_address, TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input != NULL ? input : "", NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (process))
    g_error ("confab-cli %s was killed by signal %d; it said: %s",
             args[1], g_subprocess_get_term_sig (process), run->err);
  run->status = g_subprocess_get_exit_status (process);
}

/* Tests with a keyring */

static void
test_store_lookup_clear (void)
{
  g_autofree char *name = unique_name ("openrouter");
  g_autofree char *other = unique_name ("other");
  g_autofree char *key = random_key ();
  g_autofree char *replacement = random_key ();
  g_autoptr(GHashTable) attributes = NULL;
  g_autoptr(GError) error = NULL;
  g_autolist(SecretItem) items = NULL;
  g_autofree char *label = NULL;
  g_autofree char *expected_label = NULL;
  g_autofree char *schema_name = NULL;
  const SecretSchema schema = {
    CONFAB_SECRETS_SCHEMA_NAME, SECRET_SCHEMA_NONE,
    { { "provider", SECRET_SCHEMA_ATTRIBUTE_STRING }, { NULL, 0 } },
  };
  g_auto(ConfabSecretKey) found = NULL;

  if (!require_keyring ())
    return;

  found = lookup_key (name, &error);
  g_assert_no_error (error);
  g_assert_null (found);

  g_assert_true (store_key (name, key, &error));
  g_assert_no_error (error);
  g_assert_false (confab_secrets_has_session_key (name));

  found = lookup_key (name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, key);
  g_clear_pointer (&found, confab_secrets_key_free);

  /* Keys are per provider. */
  found = lookup_key (other, &error);
  g_assert_no_error (error);
  g_assert_null (found);

  /* Storing again replaces: one item, with our schema and label. */
  g_assert_true (store_key (name, replacement, &error));
  g_assert_no_error (error);
  found = lookup_key (name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, replacement);
  g_clear_pointer (&found, confab_secrets_key_free);

  attributes = secret_attributes_build (&schema, "provider", name, NULL);
  items = secret_service_search_sync (NULL, &schema, attributes, SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  label = secret_item_get_label (items->data);
  expected_label = g_strdup_printf ("Confab API key for %s", name);
  g_assert_cmpstr (label, ==, expected_label);
  schema_name = secret_item_get_schema_name (items->data);
  g_assert_cmpstr (schema_name, ==, "io.github.confab.Confab.ApiKey");

  g_assert_true (clear_key (name, &error));
  g_assert_no_error (error);
  found = lookup_key (name, &error);
  g_assert_no_error (error);
  g_assert_null (found);

  /* Clearing what is not there is fine. */
  g_assert_true (clear_key (name, &error));
  g_assert_no_error (error);
}

static void
test_not_in_database (void)
{
  g_autofree char *name = unique_name ("db");
  g_autofree char *cli_name = unique_name ("cli");
  g_autofree char *key = random_key ();
  g_autofree char *cli_key = random_key ();
  g_autofree char *cli_input = g_strconcat (cli_key, "\n", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *data_home = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *expected_line = NULL;
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) found = NULL;
  ConfabStore *store;
  CliRun run = { 0 };
  Wait wait = { NULL };

  if (!require_keyring ())
    return;
  if (g_getenv ("CONFAB_CLI") == NULL)
    {
      g_test_skip ("CONFAB_CLI is not set (run under meson test)");
      return;
    }

  dir = g_dir_make_tmp ("confab-secrets-XXXXXX", &error);
  g_assert_no_error (error);
  data_home = g_build_filename (dir, "data", NULL);
  store_path = g_build_filename (dir, "store", "confab.db", NULL);

  /* Through the engine: a configuration in the store, its key in the
   * keyring. */
  confab_store_new_async (store_path, NULL, wait_cb, &wait);
  store = confab_store_new_finish (wait_result (&wait), &error);
  g_assert_no_error (error);
  wait_clear (&wait);

  config = confab_provider_config_new (name, "openai", "https://openrouter.ai/api/v1");
  confab_store_save_provider_async (store, config, NULL, wait_cb, &wait);
  g_assert_true (confab_store_save_provider_finish (store, wait_result (&wait), &error));
  g_assert_no_error (error);
  wait_clear (&wait);
  g_assert_true (store_key (name, key, &error));
  g_assert_no_error (error);

  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *)&store);
  g_object_unref (store);
  while (store != NULL)
    g_main_context_iteration (NULL, TRUE);

  /* Through confab-cli, with its default database under @data_home. */
  run_cli (&run, data_home, NULL, NULL,
           (const char * const[]) { "providers", "add", cli_name, "--api", "openai",
                                    "--base-url", "http://127.0.0.1:1/v1", "--model", "m", NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  cli_run_clear (&run);

  run_cli (&run, data_home, NULL, cli_input,
           (const char * const[]) { "providers", "set-key", cli_name, NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_null (strstr (run.out, cli_key));
  cli_run_clear (&run);

  /* An empty key is refused. */
  run_cli (&run, data_home, NULL, "\n", (const char * const[]) { "providers", "set-key", cli_name, NULL });
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "empty"));
  cli_run_clear (&run);

  run_cli (&run, data_home, NULL, NULL, (const char * const[]) { "providers", "list", NULL });
  g_assert_cmpint (run.status, ==, 0);
  expected_line = g_strdup_printf ("%s\topenai\thttp://127.0.0.1:1/v1\tm\tkey: stored\n", cli_name);
  g_assert_cmpstr (run.out, ==, expected_line);
  g_assert_null (strstr (run.out, cli_key));
  g_assert_null (strstr (run.err, cli_key));
  cli_run_clear (&run);

  /* The keyring has both keys... */
  found = lookup_key (cli_name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, cli_key);
  g_clear_pointer (&found, confab_secrets_key_free);

  /* ...and no database file, WAL or not, has either. The names are
   * there, which shows the search looks where the rows are. */
  g_assert_true (tree_contains (dir, name));
  g_assert_true (tree_contains (dir, cli_name));
  g_assert_false (tree_contains (dir, key));
  g_assert_false (tree_contains (dir, cli_key));

  /* Removing a provider removes its key. */
  run_cli (&run, data_home, NULL, NULL, (const char * const[]) { "providers", "remove", cli_name, NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  cli_run_clear (&run);
  found = lookup_key (cli_name, &error);
  g_assert_no_error (error);
  g_assert_null (found);

  g_assert_true (clear_key (name, &error));
  g_assert_no_error (error);
  rm_rf (dir);
}

/* Without a Secret Service */

/* In a process whose session bus has no Secret Service. */
static void
check_unavailable (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) found = NULL;

  g_assert_false (confab_secrets_has_session_key ("nokeyring"));
  g_assert_false (store_key ("nokeyring", "sk-session-1", &error));
  g_assert_error (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE);
  g_assert_cmpstr (error->message, ==, UNAVAILABLE_MESSAGE ("nokeyring"));
  g_assert_null (strstr (error->message, "sk-session"));
  g_clear_error (&error);
  g_assert_true (confab_secrets_has_session_key ("nokeyring"));

  /* The session memory answers first. */
  found = lookup_key ("nokeyring", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, "sk-session-1");
  g_clear_pointer (&found, confab_secrets_key_free);

  g_assert_false (store_key ("nokeyring", "sk-session-2", &error));
  g_assert_error (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  found = lookup_key ("nokeyring", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, "sk-session-2");
  g_clear_pointer (&found, confab_secrets_key_free);

  /* A provider without a session key: the keyring cannot be asked. */
  found = lookup_key ("other", &error);
  g_assert_error (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE);
  g_assert_null (found);
  g_clear_error (&error);

  g_assert_true (clear_key ("nokeyring", &error));
  g_assert_no_error (error);
  g_assert_false (confab_secrets_has_session_key ("nokeyring"));
  found = lookup_key ("nokeyring", &error);
  g_assert_error (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE);
  g_assert_null (found);
}

static void
test_unavailable_no_bus (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/confab-test-no-bus", TRUE);
      check_unavailable ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_unavailable_empty_bus (void)
{
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");

  if (g_test_subprocess ())
    {
      GTestDBus *bus = g_test_dbus_new (G_TEST_DBUS_NONE);

      /* A private bus with no services at all: nothing can own or start
       * org.freedesktop.secrets. */
      g_test_dbus_up (bus);
      check_unavailable ();
      secret_service_disconnect ();
      g_test_dbus_down (bus);
      g_object_unref (bus);
      return;
    }

  if (dbus_daemon == NULL)
    {
      g_test_skip ("dbus-daemon is not installed");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* confab-cli cannot keep a key for a later run without a keyring: it
 * says so and fails, and the key goes nowhere. */
static void
test_cli_set_key_unavailable (void)
{
  g_autofree char *name = unique_name ("nokeyring");
  g_autofree char *key = random_key ();
  g_autofree char *input = g_strconcat (key, "\n", NULL);
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *no_bus = "unix:path=/nonexistent/confab-test-no-bus";
  CliRun run = { 0 };

  if (g_getenv ("CONFAB_CLI") == NULL)
    {
      g_test_skip ("CONFAB_CLI is not set (run under meson test)");
      return;
    }

  dir = g_dir_make_tmp ("confab-secrets-XXXXXX", &error);
  g_assert_no_error (error);

  run_cli (&run, dir, no_bus, NULL,
           (const char * const[]) { "providers", "add", name, "--api", "anthropic",
                                    "--base-url", "https://api.anthropic.com", NULL });
  g_assert_cmpint (run.status, ==, 0);
  cli_run_clear (&run);

  run_cli (&run, dir, no_bus, input, (const char * const[]) { "providers", "set-key", name, NULL });
  g_assert_cmpint (run.status, ==, 1);
  g_assert_true (g_str_has_prefix (run.err, "confab-cli: No keyring (Secret Service) is available"));
  g_assert_nonnull (strstr (run.err, "lost"));
  /* One line */
  g_assert_true (g_str_has_suffix (run.err, "\n"));
  g_assert_cmpint (strchr (run.err, '\n') - run.err, ==, strlen (run.err) - 1);
  g_assert_null (strstr (run.err, key));
  g_assert_null (strstr (run.out, key));
  cli_run_clear (&run);

  run_cli (&run, dir, no_bus, NULL, (const char * const[]) { "providers", "list", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_suffix (run.out, "\tkey: unknown\n"));
  g_assert_null (strstr (run.out, key));
  cli_run_clear (&run);

  g_assert_false (tree_contains (dir, key));
  g_assert_true (tree_contains (dir, name));
  rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secrets/keyring/store-lookup-clear", test_store_lookup_clear);
  g_test_add_func ("/secrets/keyring/not-in-database", test_not_in_database);
  g_test_add_func ("/secrets/unavailable/no-bus", test_unavailable_no_bus);
  g_test_add_func ("/secrets/unavailable/empty-bus", test_unavailable_empty_bus);
  g_test_add_func ("/secrets/unavailable/cli-set-key", test_cli_set_key_unavailable);

  /* A subprocess runs one test without a keyring; only the parent
   * starts one. */
  if (!g_test_subprocess ())
    {
      keyring_ready = start_keyring (&error) && probe_keyring (&error);
      if (!keyring_ready)
        keyring_problem = g_strdup (error->message);
    }

  status = g_test_run ();

  if (!g_test_subprocess ())
    stop_keyring ();
  g_clear_pointer (&keyring_problem, g_free);

  return status;
}
