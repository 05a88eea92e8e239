/* test-preferences.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The preferences window, driven through its widgets: adding a provider
 * with the form (and refusing an invalid one with nothing saved), editing,
 * testing the connection against a local server, removing, the templates,
 * and the Chat page's settings.
 *
 * The session bus is pointed at nothing before GTK starts, so no real
 * keyring is ever touched: storing a key finds no Secret Service and the
 * window must say that the key is kept for this session only.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "confab-preferences-window.h"
#include "confab-tools-page.h"
#include "confab-resources.h"
#include "confab-test-server.h"

#define NO_BUS "unix:path=/nonexistent/confab-test-no-bus"

typedef struct
{
  char                    *dir;
  char                    *db_path;
  ConfabStore             *store;
  ConfabTestServer        *server;
  ConfabPreferencesWindow *window;
  GSettings               *settings;
} Fixture;

static gboolean
timeout_cb (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *)data);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @check is true, failing after 20 s. */
#define WAIT_FOR(check)                                                      \
  G_STMT_START {                                                             \
    guint _guard = g_timeout_add_seconds (20, timeout_cb, (gpointer)#check); \
    while (!(check))                                                         \
      g_main_context_iteration (NULL, TRUE);                                 \
    g_source_remove (_guard);                                                \
  } G_STMT_END

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static gpointer
child (Fixture    *fixture,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (fixture->window),
                                                   CONFAB_TYPE_PREFERENCES_WINDOW, name);

  g_assert_nonnull (object);
  return object;
}

/* The first widget named @name under @root, depth first. */
static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* The expander row of the stored provider @name, or NULL. */
static GtkWidget *
provider_row (Fixture    *fixture,
              const char *name)
{
  GtkWidget *list = child (fixture, "providers_list");

  for (GtkWidget *c = gtk_widget_get_first_child (list); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (ADW_IS_EXPANDER_ROW (c) &&
        g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (c)), name) == 0)
      return c;

  return NULL;
}

static GtkWidget *
row_part (Fixture    *fixture,
          const char *provider,
          const char *part)
{
  GtkWidget *row = provider_row (fixture, provider);
  GtkWidget *found;

  g_assert_nonnull (row);
  found = find_named (row, part);
  g_assert_nonnull (found);
  return found;
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
clicked_cb (GtkButton *button,
            gpointer   user_data)
{
  *(gboolean *)user_data = TRUE;
}

/* Activates @button as the keyboard does (Enter or Space on it), and
 * returns once its "clicked" handlers ran: GTK emits "clicked" only after
 * showing the button pressed for a moment. */
static void
activate_button (GtkWidget *button)
{
  gboolean clicked = FALSE;
  gulong handler = g_signal_connect (button, "clicked", G_CALLBACK (clicked_cb), &clicked);

  g_assert_true (gtk_widget_activate (button));
  WAIT_FOR (clicked);
  g_signal_handler_disconnect (button, handler);
}

/* A button of a provider's row, shown (its row expanded) so that it
 * can be activated. */
static GtkWidget *
row_button (Fixture    *fixture,
            const char *provider,
            const char *part)
{
  GtkWidget *button = row_part (fixture, provider, part);

  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (provider_row (fixture, provider)), TRUE);
  WAIT_FOR (gtk_widget_get_mapped (button));
  return button;
}

static const char *
label_text (GtkWidget *label)
{
  return gtk_label_get_text (GTK_LABEL (label));
}

static gboolean
label_shows (GtkWidget  *label,
             const char *text)
{
  return gtk_widget_get_visible (label) && strstr (label_text (label), text) != NULL;
}

/* What the store has, read back through a store of its own. */
static GPtrArray *
stored_providers (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *configs;

  confab_store_list_providers_async (fixture->store, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  configs = confab_store_list_providers_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  return configs;
}

static void
save_provider (Fixture    *fixture,
               const char *name,
               const char *api,
               const char *base_url)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new (name, api, base_url);
  g_autoptr(GError) error = NULL;

  confab_store_save_provider_async (fixture->store, config, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  g_assert_true (confab_store_save_provider_finish (fixture->store, result, &error));
  g_assert_no_error (error);
}

static char *
server_url (Fixture    *fixture,
            const char *path)
{
  return g_strconcat (confab_test_server_get_url (fixture->server), path, NULL);
}

static void
open_window (Fixture *fixture)
{
  fixture->window = confab_preferences_window_new (NULL, fixture->store);
  gtk_window_present (GTK_WINDOW (fixture->window));
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (fixture->window)));
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("confab-test-preferences-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->db_path = g_build_filename (fixture->dir, "confab.db", NULL);

  confab_store_new_async (fixture->db_path, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  fixture->store = confab_store_new_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (confab_store_get_mode (fixture->store), ==, CONFAB_STORE_READ_WRITE);

  fixture->server = confab_test_server_new ();
  fixture->settings = g_settings_new ("io.github.confab.Confab");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  static const char * const keys[] = {
    "default-provider", "default-model", "default-system-prompt",
    "send-with-ctrl-enter", "message-font", "message-font-scale",
  };
  GList *toplevels;

  if (fixture->window != NULL)
    {
      gpointer weak = fixture->window;

      /* Calls under way end as cancelled; then nothing holds it. */
      g_object_add_weak_pointer (G_OBJECT (fixture->window), &weak);
      gtk_window_destroy (GTK_WINDOW (fixture->window));
      WAIT_FOR (weak == NULL);
    }

  /* A dialog the test left open */
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (toplevels);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_reset (fixture->settings, keys[i]);
  g_clear_object (&fixture->settings);
  g_clear_object (&fixture->server);
  g_clear_object (&fixture->store);

  for (guint i = 0; i < 4; i++)
    {
      static const char * const suffixes[] = { "", "-wal", "-shm", ".lock" };
      g_autofree char *path = g_strconcat (fixture->db_path, suffixes[i], NULL);

      g_remove (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->db_path);
  g_free (fixture->dir);
}

/* Fills the Add Provider form as a user would and presses Add. */
static void
fill_form (Fixture    *fixture,
           const char *name,
           guint       api,
           const char *base_url,
           const char *model,
           const char *key)
{
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_name_row")), name);
  adw_combo_row_set_selected (child (fixture, "add_api_row"), api);
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_url_row")), base_url);
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_model_row")), model);
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_key_row")), key);
}

static void
test_add_provider (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *url = server_url (fixture, "/v1");
  g_autoptr(GPtrArray) configs = NULL;
  ConfabProviderConfig *config;
  guint changes = 0;

  open_window (fixture);
  g_signal_connect (fixture->window, "providers-changed", G_CALLBACK (count_cb), &changes);

  fill_form (fixture, "local", 0, url, "test-model", "");
  activate_button (child (fixture, "add_button"));
  WAIT_FOR (changes == 1);
  g_assert_nonnull (provider_row (fixture, "local"));

  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 1);
  config = g_ptr_array_index (configs, 0);
  g_assert_cmpstr (confab_provider_config_get_name (config), ==, "local");
  g_assert_cmpstr (confab_provider_config_get_api (config), ==, "openai");
  g_assert_cmpstr (confab_provider_config_get_base_url (config), ==, url);
  g_assert_cmpstr (confab_provider_config_get_default_model (config), ==, "test-model");

  /* The row shows it; the form is ready for the next one. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_part (fixture, "local", "url-row"))), ==, url);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_part (fixture, "local", "model-row"))), ==,
                   "test-model");
  g_assert_false (gtk_widget_get_visible (child (fixture, "add_message_label")));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_model_row"))), ==, "");

  /* The same name again is refused, and nothing changes. */
  fill_form (fixture, "local", 1, "http://127.0.0.1:1", "", "");
  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (child (fixture, "add_message_label"), "There already is a provider named “local”"));
  g_assert_true (gtk_widget_has_css_class (child (fixture, "add_name_row"), "error"));
  g_clear_pointer (&configs, g_ptr_array_unref);
  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 1);
  g_assert_cmpstr (confab_provider_config_get_base_url (g_ptr_array_index (configs, 0)), ==, url);
  g_assert_cmpuint (changes, ==, 1);
}

static void
test_add_invalid (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) configs = NULL;
  GtkWidget *message;

  open_window (fixture);
  message = child (fixture, "add_message_label");

  /* A URL that is not http(s): the engine's own message, at the field. */
  fill_form (fixture, "broken", 0, "ftp://example.com/v1", "", "");
  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (message, "“ftp://example.com/v1” is not an http:// or https:// URL with a host name"));
  g_assert_true (gtk_widget_has_css_class (message, "error"));
  g_assert_true (gtk_widget_has_css_class (child (fixture, "add_url_row"), "error"));
  g_assert_false (gtk_widget_has_css_class (child (fixture, "add_name_row"), "error"));

  /* Editing the field clears its mark. */
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "add_url_row")), "http://");
  g_assert_false (gtk_widget_has_css_class (child (fixture, "add_url_row"), "error"));

  /* No host */
  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (message, "“http://” is not an http:// or https:// URL with a host name"));

  /* A bad name */
  fill_form (fixture, "two words", 0, "http://127.0.0.1:8080/v1", "", "");
  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (message, "“two words” is not a valid provider name"));
  g_assert_true (gtk_widget_has_css_class (child (fixture, "add_name_row"), "error"));

  /* Credentials in the URL are refused and not echoed. */
  fill_form (fixture, "creds", 0, "https://user:hunter2@example.com/v1", "", "");
  activate_button (child (fixture, "add_button"));
  g_assert_true (label_shows (message, "must not contain a user name or password"));
  g_assert_null (strstr (label_text (message), "hunter2"));

  /* Nothing reached the store. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 0);
  g_assert_null (provider_row (fixture, "broken"));
}

/* Without a keyring, the key is kept for the session, the window says so
 * in the engine's words, and the key is in no file and no entry. */
static void
test_add_with_key_no_keyring (Fixture       *fixture,
                              gconstpointer  data)
{
  const char *key = "sk-test-4f9c1e7a2b8d";
  GtkWidget *message;
  GtkWidget *status;
  guint changes = 0;

  open_window (fixture);
  g_signal_connect (fixture->window, "providers-changed", G_CALLBACK (count_cb), &changes);
  message = child (fixture, "add_message_label");

  fill_form (fixture, "hosted", 0, "https://api.example.com/v1", "", key);
  activate_button (child (fixture, "add_button"));
  WAIT_FOR (changes == 1);
  g_assert_nonnull (provider_row (fixture, "hosted"));

  g_assert_true (label_shows (message,
                              "No keyring (Secret Service) is available, so the key for “hosted” is kept "
                              "in memory for this session only"));
  g_assert_true (gtk_widget_has_css_class (message, "warning"));
  g_assert_true (confab_secrets_has_session_key ("hosted"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_key_row"))), ==, "");

  status = row_part (fixture, "hosted", "key-status");
  WAIT_FOR (g_str_equal (label_text (status), "Kept for this session only"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row_part (fixture, "hosted", "key-row"))), ==, "");

  /* Not in the database */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strconcat (fixture->db_path, i == 0 ? "" : "-wal", NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (!g_file_get_contents (path, &contents, &length, NULL))
        continue;
      g_assert_null (g_strstr_len (contents, length, key));
    }
}

static void
test_edit_provider (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) configs = NULL;
  GtkWidget *url_row;
  GtkWidget *status;

  save_provider (fixture, "local", "openai", "http://127.0.0.1:8080/v1");
  open_window (fixture);
  WAIT_FOR (provider_row (fixture, "local") != NULL);
  url_row = row_part (fixture, "local", "url-row");
  status = row_part (fixture, "local", "status-label");

  /* An invalid URL is refused at the field. */
  gtk_editable_set_text (GTK_EDITABLE (url_row), "not a url");
  g_signal_emit_by_name (url_row, "apply");
  g_assert_true (label_shows (status, "“not a url” is not an http:// or https:// URL with a host name"));
  g_assert_true (gtk_widget_has_css_class (url_row, "error"));

  /* A valid one is saved. */
  gtk_editable_set_text (GTK_EDITABLE (url_row), "http://127.0.0.1:9090/v1");
  g_signal_emit_by_name (url_row, "apply");
  WAIT_FOR (strstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (provider_row (fixture, "local"))),
                    "9090") != NULL);
  g_assert_false (gtk_widget_get_visible (status));
  g_assert_false (gtk_widget_has_css_class (url_row, "error"));

  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 1);
  g_assert_cmpstr (confab_provider_config_get_base_url (g_ptr_array_index (configs, 0)), ==,
                   "http://127.0.0.1:9090/v1");
}

static void
test_connection_lists_models (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autofree char *url = server_url (fixture, "/v1");
  g_autofree char *fixture_path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", "openai", "models.json", NULL);
  ConfabTestResponse *response;
  GtkWidget *result;

  response = confab_test_server_add_response (fixture->server, "/v1/models", 200);
  confab_test_response_set_body_file (response, fixture_path);
  save_provider (fixture, "local", "openai", url);

  open_window (fixture);
  WAIT_FOR (provider_row (fixture, "local") != NULL);
  result = row_part (fixture, "local", "result-label");

  activate_button (row_button (fixture, "local", "test-button"));
  WAIT_FOR (label_shows (result, "Connected"));
  g_assert_cmpstr (label_text (result), ==, "Connected: 2 models: gpt-4o-mini, gpt-4o");
  g_assert_false (gtk_widget_has_css_class (result, "error"));
  g_assert_false (gtk_widget_get_visible (row_part (fixture, "local", "test-spinner")));

  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_path (fixture->server, 0), ==, "/v1/models");
  /* No key stored, none sent */
  g_assert_null (confab_test_server_get_request_header (fixture->server, 0, "Authorization"));
}

static void
test_connection_shows_error (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *url = server_url (fixture, "/v1");
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", "openai", "error-401.http", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  ConfabTestResponse *response;
  const char *body;
  GtkWidget *key_row;
  GtkWidget *result;

  /* The recorded response: headers, a blank line, the body. */
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  body = strstr (contents, "\n\n");
  g_assert_nonnull (body);
  response = confab_test_server_add_response (fixture->server, "/v1/models", 401);
  confab_test_response_set_body_string (response, body + 2);
  save_provider (fixture, "wrongkey", "openai", url);

  open_window (fixture);
  WAIT_FOR (provider_row (fixture, "wrongkey") != NULL);
  result = row_part (fixture, "wrongkey", "result-label");

  /* A key typed but not applied is what the test uses. */
  key_row = row_part (fixture, "wrongkey", "key-row");
  gtk_editable_set_text (GTK_EDITABLE (key_row), "sk-wrong");

  activate_button (row_button (fixture, "wrongkey", "test-button"));
  WAIT_FOR (gtk_widget_has_css_class (result, "error"));
  g_assert_true (label_shows (result, "Incorrect API key provided"));
  g_assert_true (label_shows (result, "401"));

  /* One try, with the typed key */
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_header (fixture->server, 0, "Authorization"), ==,
                   "Bearer sk-wrong");
  g_assert_false (confab_secrets_has_session_key ("wrongkey"));
}

/* A server that never answers: the test gives up by itself, with the
 * engine's timeout message (the 10 s limit makes this test slow). */
static void
test_connection_times_out (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *url = server_url (fixture, "/v1");
  ConfabTestResponse *response;
  GtkWidget *result;
  gint64 start;

  response = confab_test_server_add_response (fixture->server, "/v1/models", 200);
  confab_test_response_set_fault (response, CONFAB_TEST_FAULT_NO_RESPONSE, 0);
  save_provider (fixture, "silent", "openai", url);

  open_window (fixture);
  WAIT_FOR (provider_row (fixture, "silent") != NULL);
  result = row_part (fixture, "silent", "result-label");

  start = g_get_monotonic_time ();
  activate_button (row_button (fixture, "silent", "test-button"));
  WAIT_FOR (gtk_widget_has_css_class (result, "error"));
  g_assert_true (label_shows (result, "10 seconds"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 15 * G_USEC_PER_SEC);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
}

static AdwMessageDialog *
find_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return l->data;

  return NULL;
}

static void
test_remove_provider (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) configs = NULL;
  AdwMessageDialog *dialog;
  guint changes = 0;

  save_provider (fixture, "keep", "ollama", "http://127.0.0.1:11434");
  save_provider (fixture, "local", "openai", "http://127.0.0.1:8080/v1");
  open_window (fixture);
  g_signal_connect (fixture->window, "providers-changed", G_CALLBACK (count_cb), &changes);
  WAIT_FOR (provider_row (fixture, "local") != NULL && provider_row (fixture, "keep") != NULL);

  /* Cancel keeps it. */
  activate_button (row_button (fixture, "local", "remove-button"));
  WAIT_FOR ((dialog = find_dialog ()) != NULL);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Remove “local”?");
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_nonnull (provider_row (fixture, "local"));

  /* Remove removes. */
  activate_button (row_button (fixture, "local", "remove-button"));
  WAIT_FOR ((dialog = find_dialog ()) != NULL);
  g_assert_cmpuint (changes, ==, 0);
  adw_message_dialog_response (dialog, "remove");
  gtk_window_destroy (GTK_WINDOW (dialog));
  WAIT_FOR (provider_row (fixture, "local") == NULL);
  /* After the key too */
  WAIT_FOR (changes == 1);

  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 1);
  g_assert_cmpstr (confab_provider_config_get_name (g_ptr_array_index (configs, 0)), ==, "keep");
  g_assert_nonnull (provider_row (fixture, "keep"));
}

static void
test_templates (Fixture       *fixture,
                gconstpointer  data)
{
  static const struct {
    const char *id;
    guint       api;
    const char *base_url;
    const char *name;
  } cases[] = {
    { "ollama", 1, "http://127.0.0.1:11434", "ollama" },
    { "llamacpp", 0, "http://127.0.0.1:8080/v1", "llamacpp" },
    { "openai", 0, "https://api.openai.com/v1", "openai" },
    { "openrouter", 0, "https://openrouter.ai/api/v1", "openrouter" },
    { "groq", 0, "https://api.groq.com/openai/v1", "groq" },
    { "anthropic", 2, "https://api.anthropic.com", "anthropic-2" },
    { "custom", 0, "", "" },
  };
  g_autoptr(GPtrArray) configs = NULL;
  guint changes = 0;

  /* A taken name gets a suffix. */
  save_provider (fixture, "anthropic", "anthropic", "https://api.anthropic.com");
  open_window (fixture);
  g_signal_connect (fixture->window, "providers-changed", G_CALLBACK (count_cb), &changes);
  WAIT_FOR (provider_row (fixture, "anthropic") != NULL);

  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window), "chat");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      confab_preferences_window_add_provider_template (fixture->window, cases[i].id);
      g_assert_cmpstr (adw_preferences_window_get_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window)),
                       ==, "providers");
      g_assert_cmpuint (adw_combo_row_get_selected (child (fixture, "add_api_row")), ==, cases[i].api);
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_url_row"))), ==,
                       cases[i].base_url);
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_name_row"))), ==,
                       cases[i].name);
    }

  /* A template, then Add: the Groq preset as it is. */
  confab_preferences_window_add_provider_template (fixture->window, "groq");
  activate_button (child (fixture, "add_button"));
  WAIT_FOR (changes == 1);
  g_assert_nonnull (provider_row (fixture, "groq"));
  configs = stored_providers (fixture);
  g_assert_cmpuint (configs->len, ==, 2);
  g_assert_cmpstr (confab_provider_config_get_base_url (g_ptr_array_index (configs, 1)), ==,
                   "https://api.groq.com/openai/v1");
  /* The form moved on to a free name. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (fixture, "add_name_row"))), ==, "groq-2");
}

static void
test_chat_settings (Fixture       *fixture,
                    gconstpointer  data)
{
  GtkSwitch *ctrl_enter;
  AdwComboRow *provider_combo;
  GtkTextBuffer *buffer;
  GtkAdjustment *scale;
  g_autofree char *text = NULL;

  save_provider (fixture, "local", "openai", "http://127.0.0.1:8080/v1");
  open_window (fixture);
  WAIT_FOR (provider_row (fixture, "local") != NULL);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window), "chat");
  WAIT_FOR (gtk_widget_get_mapped (child (fixture, "ctrl_enter_switch")));

  /* Send with Ctrl+Enter, both ways */
  ctrl_enter = child (fixture, "ctrl_enter_switch");
  g_assert_false (gtk_switch_get_active (ctrl_enter));
  /* As Space on it does; the switch animates, then changes. */
  g_assert_true (gtk_widget_activate (GTK_WIDGET (ctrl_enter)));
  WAIT_FOR (gtk_switch_get_active (ctrl_enter));
  g_assert_true (g_settings_get_boolean (fixture->settings, "send-with-ctrl-enter"));
  gtk_switch_set_active (ctrl_enter, FALSE);
  g_assert_false (g_settings_get_boolean (fixture->settings, "send-with-ctrl-enter"));
  g_settings_set_boolean (fixture->settings, "send-with-ctrl-enter", TRUE);
  g_assert_true (gtk_switch_get_active (ctrl_enter));

  /* Default provider: "Automatic" is the empty string. */
  provider_combo = child (fixture, "default_provider_row");
  g_assert_cmpuint (adw_combo_row_get_selected (provider_combo), ==, 0);
  adw_combo_row_set_selected (provider_combo, 1);
  text = g_settings_get_string (fixture->settings, "default-provider");
  g_assert_cmpstr (text, ==, "local");
  g_clear_pointer (&text, g_free);
  adw_combo_row_set_selected (provider_combo, 0);
  text = g_settings_get_string (fixture->settings, "default-provider");
  g_assert_cmpstr (text, ==, "");
  g_clear_pointer (&text, g_free);
  /* A provider that is not stored stays the setting. */
  g_settings_set_string (fixture->settings, "default-provider", "Ollama");
  g_assert_cmpuint (adw_combo_row_get_selected (provider_combo), ==, 1);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (adw_combo_row_get_model (provider_combo)), 1),
                   ==, "Ollama");
  text = g_settings_get_string (fixture->settings, "default-provider");
  g_assert_cmpstr (text, ==, "Ollama");
  g_clear_pointer (&text, g_free);

  /* Default model */
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "default_model_row")), "gpt-4o");
  text = g_settings_get_string (fixture->settings, "default-model");
  g_assert_cmpstr (text, ==, "gpt-4o");
  g_clear_pointer (&text, g_free);

  /* System prompt, several lines */
  buffer = gtk_text_view_get_buffer (child (fixture, "system_prompt_view"));
  gtk_text_buffer_set_text (buffer, "Be brief.\nAnswer in French.", -1);
  text = g_settings_get_string (fixture->settings, "default-system-prompt");
  g_assert_cmpstr (text, ==, "Be brief.\nAnswer in French.");
  g_clear_pointer (&text, g_free);

  /* Text size */
  scale = child (fixture, "scale_adjustment");
  g_assert_cmpfloat (gtk_adjustment_get_lower (scale), ==, 0.5);
  g_assert_cmpfloat (gtk_adjustment_get_upper (scale), ==, 3.0);
  gtk_adjustment_set_value (scale, 1.5);
  g_assert_cmpfloat (g_settings_get_double (fixture->settings, "message-font-scale"), ==, 1.5);

  /* Font: empty is the system font; a chosen one can be reset. */
  g_assert_false (gtk_widget_get_visible (child (fixture, "font_reset_button")));
  g_settings_set_string (fixture->settings, "message-font", "Monospace 13");
  g_assert_true (gtk_widget_get_visible (child (fixture, "font_reset_button")));
  activate_button (child (fixture, "font_reset_button"));
  text = g_settings_get_string (fixture->settings, "message-font");
  g_assert_cmpstr (text, ==, "");
  g_assert_false (gtk_widget_get_visible (child (fixture, "font_reset_button")));
}

/* The Tools page */

#define TEST_TYPE_NOOP_TOOL (test_noop_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestNoopTool, test_noop_tool, TEST, NOOP_TOOL, ConfabTool)

struct _TestNoopTool
{
  ConfabTool parent_instance;
};

G_DEFINE_FINAL_TYPE (TestNoopTool, test_noop_tool, CONFAB_TYPE_TOOL)

static void
test_noop_tool_run_async (ConfabTool          *tool,
                          ConfabToolContext   *context,
                          JsonObject          *arguments,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (tool, cancellable, callback, user_data);

  g_task_return_pointer (task, confab_tool_result_new ("ok"), g_object_unref);
}

static ConfabToolResult *
test_noop_tool_run_finish (ConfabTool    *tool,
                           GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_noop_tool_class_init (TestNoopToolClass *klass)
{
  CONFAB_TOOL_CLASS (klass)->run_async = test_noop_tool_run_async;
  CONFAB_TOOL_CLASS (klass)->run_finish = test_noop_tool_run_finish;
}

static void
test_noop_tool_init (TestNoopTool *self)
{
}

static AdwComboRow *
find_combo_row (GtkWidget  *widget,
                const char *title)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      AdwComboRow *found;

      if (ADW_IS_COMBO_ROW (child) &&
          g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child)), title) == 0)
        return ADW_COMBO_ROW (child);
      if ((found = find_combo_row (child, title)) != NULL)
        return found;
    }
  return NULL;
}

static GtkSpinButton *
find_spin_button (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkSpinButton *found;

      if (GTK_IS_SPIN_BUTTON (child))
        return GTK_SPIN_BUTTON (child);
      if ((found = find_spin_button (child)) != NULL)
        return found;
    }
  return NULL;
}

static void
test_tools_page (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(ConfabToolbox) toolbox = confab_toolbox_new ();
  g_autoptr(ConfabTool) risky = g_object_new (TEST_TYPE_NOOP_TOOL, "name", "run_it",
                                              "description", "Runs it\nfor real", "needs-approval", TRUE, NULL);
  g_autoptr(ConfabTool) safe = g_object_new (TEST_TYPE_NOOP_TOOL, "name", "look",
                                             "description", "Looks", NULL);
  g_autoptr(GVariant) stored = NULL;
  GtkWidget *page;
  GtkWidget *window;
  AdwComboRow *row;
  const char *value;

  g_settings_set_value (fixture->settings, "tool-approval", g_variant_new_parsed ("{'other__tool': 'allow'}"));
  confab_toolbox_add (toolbox, risky);
  page = confab_tools_page_new (toolbox, fixture->settings);
  window = adw_preferences_window_new ();
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));
  gtk_window_present (GTK_WINDOW (window));

  /* A tool that can run commands asks first by default. */
  row = find_combo_row (page, "run_it");
  g_assert_nonnull (row);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, CONFAB_TOOL_POLICY_ASK);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Runs it");

  /* Tools that appear later (an MCP server started) get a row. */
  confab_toolbox_add (toolbox, safe);
  row = find_combo_row (page, "look");
  g_assert_nonnull (row);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, CONFAB_TOOL_POLICY_ALLOW);

  /* Choosing writes the setting, keeping the other tools' entries. */
  adw_combo_row_set_selected (find_combo_row (page, "run_it"), CONFAB_TOOL_POLICY_NEVER);
  stored = g_settings_get_value (fixture->settings, "tool-approval");
  g_assert_true (g_variant_lookup (stored, "run_it", "&s", &value));
  g_assert_cmpstr (value, ==, "never");
  g_assert_true (g_variant_lookup (stored, "other__tool", "&s", &value));
  g_assert_cmpstr (value, ==, "allow");

  confab_toolbox_remove (toolbox, "look");
  g_assert_null (find_combo_row (page, "look"));

  /* The step limit, kept in the settings. */
  {
    GtkSpinButton *steps = find_spin_button (page);

    g_assert_nonnull (steps);
    g_assert_cmpfloat (gtk_spin_button_get_value (steps), ==, 25);
    gtk_spin_button_set_value (steps, 7);
    g_assert_cmpuint (g_settings_get_uint (fixture->settings, "max-steps"), ==, 7);
    g_settings_reset (fixture->settings, "max-steps");
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_settings_reset (fixture->settings, "tool-approval");
}

int
main (int   argc,
      char *argv[])
{
  /* Before anything can connect to it: no real keyring in a test. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", NO_BUS, TRUE);

  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      if (g_strcmp0 (g_getenv ("CONFAB_REQUIRE_DISPLAY"), "1") == 0)
        g_error ("No display, but CONFAB_REQUIRE_DISPLAY=1");
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }

  g_resources_register (confab_get_resource ());

  g_test_add ("/preferences/add-provider", Fixture, NULL, fixture_setup,
              test_add_provider, fixture_teardown);
  g_test_add ("/preferences/add-invalid", Fixture, NULL, fixture_setup,
              test_add_invalid, fixture_teardown);
  g_test_add ("/preferences/add-with-key-no-keyring", Fixture, NULL, fixture_setup,
              test_add_with_key_no_keyring, fixture_teardown);
  g_test_add ("/preferences/edit-provider", Fixture, NULL, fixture_setup,
              test_edit_provider, fixture_teardown);
  g_test_add ("/preferences/test-connection/models", Fixture, NULL, fixture_setup,
              test_connection_lists_models, fixture_teardown);
  g_test_add ("/preferences/test-connection/error", Fixture, NULL, fixture_setup,
              test_connection_shows_error, fixture_teardown);
  g_test_add ("/preferences/test-connection/timeout", Fixture, NULL, fixture_setup,
              test_connection_times_out, fixture_teardown);
  g_test_add ("/preferences/remove-provider", Fixture, NULL, fixture_setup,
              test_remove_provider, fixture_teardown);
  g_test_add ("/preferences/templates", Fixture, NULL, fixture_setup,
              test_templates, fixture_teardown);
  g_test_add ("/preferences/chat-settings", Fixture, NULL, fixture_setup,
              test_chat_settings, fixture_teardown);
  g_test_add ("/preferences/tools-page", Fixture, NULL, fixture_setup,
              test_tools_page, fixture_teardown);

  return g_test_run ();
}
