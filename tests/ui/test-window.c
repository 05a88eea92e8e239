/* test-window.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window against a local model server: it opens with the composer
 * focused, sends with the keyboard, streams the reply into the chat,
 * saves the conversation, and stops on Escape.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confab-application.h"
#include "confab-long-text.h"
#include "confab-mcp-page.h"
#include "confab-message-row.h"
#include "confab-test-server.h"
#include "confab-window.h"

typedef struct
{
  char              *dir;
  char              *db_path;
  ConfabTestServer  *server;
  ConfabApplication *app;
  ConfabWindow      *window;
  /* Holds the app's mcp.json, for the tests that give it one */
  char              *mcp_dir;
} Fixture;

static gboolean
timeout_cb (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *)data);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @check is true, failing after 20 s. */
#define WAIT_FOR(check)                                                 \
  G_STMT_START {                                                        \
    guint _guard = g_timeout_add_seconds (20, timeout_cb, (gpointer)#check); \
    while (!(check))                                                    \
      g_main_context_iteration (NULL, TRUE);                            \
    g_source_remove (_guard);                                           \
  } G_STMT_END

static GObject *
child (Fixture    *fixture,
       const char *name)
{
  return gtk_widget_get_template_child (GTK_WIDGET (fixture->window), CONFAB_TYPE_WINDOW, name);
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

/* A provider "local" pointing at the test server, saved before the app
 * starts, so the app finds it and lists its models. */
static void
configure_provider (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (confab_test_server_get_url (fixture->server), "/v1", NULL);

  confab_store_new_async (fixture->db_path, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  store = confab_store_new_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  config = confab_provider_config_new ("local", "openai", url);
  confab_store_save_provider_async (store, config, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  g_assert_true (confab_store_save_provider_finish (store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ConfabTestResponse *models;

  /* Each test has its own database. */
  fixture->dir = g_dir_make_tmp ("confab-test-window-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->db_path = g_build_filename (fixture->dir, "confab.db", NULL);

  fixture->server = confab_test_server_new ();
  models = confab_test_server_add_response (fixture->server, "/v1/models", 200);
  confab_test_response_set_body_string (models, "{\"object\":\"list\",\"data\":[{\"id\":\"test-model\"}]}");
  if (data == NULL)
    configure_provider (fixture);
  else
    {
      /* Nothing configured: first run looks for local servers, here the
       * ones the test names. */
      g_auto(GStrv) parts = g_strsplit (data, "@URL@", -1);
      g_autofree char *servers = g_strjoinv (confab_test_server_get_url (fixture->server), parts);
      g_setenv ("CONFAB_LOCAL_SERVERS", servers, TRUE);
    }

  /* A fresh id per test: the previous test's application may still be
   * exported on the session bus. */
  fixture->app = confab_application_new ();
  {
    static guint n;
    g_autofree char *id = g_strdup_printf ("io.github.confab.Confab.Test%u.P%d", n++, (int)getpid ());

    g_application_set_application_id (G_APPLICATION (fixture->app), id);
  }
  g_application_set_flags (G_APPLICATION (fixture->app), G_APPLICATION_NON_UNIQUE);
  confab_application_set_store_path (fixture->app, fixture->db_path);
  g_application_register (G_APPLICATION (fixture->app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (fixture->app));

  fixture->window = CONFAB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fixture->app)));
  g_assert_nonnull (fixture->window);

  g_unsetenv ("CONFAB_LOCAL_SERVERS");

  /* The store opened on its worker thread and the model list arrived. */
  if (data == NULL)
    WAIT_FOR (confab_application_get_store (fixture->app) != NULL &&
              g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (child (fixture, "model_dropdown")))) == 1);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&fixture->app);
  g_clear_object (&fixture->server);
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

static void
type_and_send (Fixture    *fixture,
               const char *text)
{
  GtkTextView *composer = GTK_TEXT_VIEW (child (fixture, "composer_view"));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (composer), text, -1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send", NULL));
}

static ConfabMessage *
message_at (Fixture *fixture,
            guint    position)
{
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "message_list"));
  g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);

  return message;
}

static guint
n_messages (Fixture *fixture)
{
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "message_list"));

  return g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list)));
}

static guint
n_conversations (Fixture *fixture)
{
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));

  return g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list)));
}

static void
test_opens_with_composer_focused (Fixture       *fixture,
                                  gconstpointer  data)
{
  GtkWidget *composer = GTK_WIDGET (child (fixture, "composer_view"));

  g_assert_true (gtk_window_get_focus (GTK_WINDOW (fixture->window)) == composer);
  g_assert_cmpuint (n_messages (fixture), ==, 0);
  g_assert_cmpuint (n_conversations (fixture), ==, 0);
}

static void
test_send_streams_and_saves (Fixture       *fixture,
                             gconstpointer  data)
{
  ConfabTestResponse *response;
  g_autofree char *expected = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GError) error = NULL;
  ConfabStore *store = confab_application_get_store (fixture->app);
  ConfabMessage *reply;

  g_file_get_contents (g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.expected.txt", NULL),
                       &expected, NULL, &error);
  g_assert_no_error (error);
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  confab_test_response_set_framing (response, CONFAB_TEST_FRAMING_EVENT);

  type_and_send (fixture, "Show me some code");

  /* The user's message and the reply appear; the composer is empty. */
  WAIT_FOR (n_messages (fixture) == 2);
  reply = message_at (fixture, 1);
  WAIT_FOR (confab_message_get_state (reply) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 0)), ==, "Show me some code");
  g_assert_cmpstr (confab_message_get_content (reply), ==, expected);
  WAIT_FOR (n_conversations (fixture) == 1);

  /* It is in the store, with the reply complete. */
  WAIT_FOR (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (child (fixture, "send_stack"))), "send") == 0);
  {
    GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));
    g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), 0);

    g_assert_cmpstr (confab_conversation_get_title (conversation), ==, "Show me some code");
    /* The final write may still be queued on the worker: loading queues
     * behind it. */
    confab_store_load_messages_async (store, confab_conversation_get_id (conversation), NULL, result_cb, &result);
    WAIT_FOR (result != NULL);
    stored = confab_store_load_messages_finish (store, result, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (stored->len, ==, 2);
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (stored, 1)), ==, expected);
  g_assert_cmpint (confab_message_get_state (g_ptr_array_index (stored, 1)), ==, CONFAB_MESSAGE_COMPLETE);
}

static void
test_escape_stops (Fixture       *fixture,
                   gconstpointer  data)
{
  ConfabTestResponse *response;
  ConfabMessage *reply;
  GtkStack *send_stack = GTK_STACK (child (fixture, "send_stack"));

  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  confab_test_response_set_framing (response, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_fault (response, CONFAB_TEST_FAULT_STALL, 600);

  type_and_send (fixture, "Tell me a long story");
  WAIT_FOR (n_messages (fixture) == 2 && g_str_equal (gtk_stack_get_visible_child_name (send_stack), "stop"));
  reply = message_at (fixture, 1);
  WAIT_FOR (confab_message_get_live_reply (reply) != NULL &&
            confab_reply_get_text (confab_message_get_live_reply (reply))[0] != '\0');

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.stop", NULL));
  WAIT_FOR (confab_message_get_state (reply) == CONFAB_MESSAGE_STOPPED);
  g_assert_cmpstr (confab_message_get_content (reply), !=, "");
  WAIT_FOR (g_str_equal (gtk_stack_get_visible_child_name (send_stack), "send"));
}

static void
test_new_chat (Fixture       *fixture,
               gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "First");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.new-chat", NULL));
  g_assert_cmpuint (n_messages (fixture), ==, 0);
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (fixture->window)) == GTK_WIDGET (child (fixture, "composer_view")));

  /* Back to it with the keyboard. */
  WAIT_FOR (n_conversations (fixture) == 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.next-conversation", NULL));
  WAIT_FOR (n_messages (fixture) == 2);
}

/* Ctrl+K, a word of an earlier reply, Enter: that conversation opens,
 * ready for the next message. */
static void
test_search_enter_opens_best_hit (Fixture       *fixture,
                                  gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  GtkWidget *search_entry = GTK_WIDGET (child (fixture, "search_entry"));

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "First");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (n_conversations (fixture) == 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.new-chat", NULL));
  g_assert_cmpuint (n_messages (fixture), ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.search", NULL));
  g_assert_true (gtk_widget_is_ancestor (gtk_window_get_focus (GTK_WINDOW (fixture->window)), search_entry));
  /* Enter right after typing, before the entry's own delayed search. */
  gtk_editable_set_text (GTK_EDITABLE (search_entry), "quoted");
  g_signal_emit_by_name (search_entry, "activate");

  WAIT_FOR (n_messages (fixture) == 2);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 0)), ==, "First");
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (fixture->window)) == GTK_WIDGET (child (fixture, "composer_view")));
}

static void
test_delete_and_undo (Fixture       *fixture,
                      gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  ConfabStore *store = confab_application_get_store (fixture->app);
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GError) error = NULL;

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Delete me");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (n_conversations (fixture) == 1 &&
            gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (gtk_list_view_get_model (list))) == 0);

  /* Gone from the list at once, back with Undo. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL));
  g_assert_cmpuint (n_conversations (fixture), ==, 0);
  g_assert_cmpuint (n_messages (fixture), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.undo-delete", NULL));
  WAIT_FOR (n_conversations (fixture) == 1);

  /* Without Undo, it is deleted for real once the notice is gone (here:
   * the window closes). */
  gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (gtk_list_view_get_model (list)), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.delete", NULL));
  g_assert_cmpuint (n_conversations (fixture), ==, 0);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  WAIT_FOR (fixture->window == NULL);

  confab_store_list_conversations_async (store, 0, TRUE, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  stored = confab_store_list_conversations_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 0);
}

/* A failed reply shows Retry; retrying asks again for the same message
 * and keeps the failed reply as another branch. */
static void
test_retry_after_failure (Fixture       *fixture,
                          gconstpointer  data)
{
  ConfabTestResponse *failed = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  ConfabTestResponse *good = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) siblings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  gint64 failed_id;

  confab_test_response_set_body_file (failed,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-error-midway.sse", NULL));
  confab_test_response_set_body_file (good,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  g_file_get_contents (g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.expected.txt", NULL),
                       &expected, NULL, &error);
  g_assert_no_error (error);

  type_and_send (fixture, "Try this");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_FAILED);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 1)), ==, "Partial ans");
  g_assert_nonnull (strstr (confab_message_get_error (message_at (fixture, 1)), "Upstream provider returned an error"));
  failed_id = confab_message_get_id (message_at (fixture, 1));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.regenerate", NULL));
  WAIT_FOR (n_messages (fixture) == 2 &&
            confab_message_get_id (message_at (fixture, 1)) != failed_id &&
            confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 1)), ==, expected);

  /* The second request sent the user's message once, and not the failed
   * reply. */
  {
    GBytes *body = confab_test_server_get_request_body (fixture->server, confab_test_server_get_n_requests (fixture->server) - 1);
    g_autoptr(JsonNode) node = json_from_string (g_bytes_get_data (body, NULL), &error);
    JsonArray *messages;

    g_assert_no_error (error);
    messages = json_object_get_array_member (json_node_get_object (node), "messages");
    g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  }

  /* Both replies are kept, as siblings. */
  confab_store_list_siblings_async (store, failed_id, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  siblings = confab_store_list_siblings_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (siblings->len, ==, 2);

  /* ‹ 1/2 ›: back to the failed version, which is still there. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.switch-branch", "x", failed_id));
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_id (message_at (fixture, 1)) == failed_id);
  g_assert_cmpint (confab_message_get_state (message_at (fixture, 1)), ==, CONFAB_MESSAGE_FAILED);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 1)), ==, "Partial ans");
}

/* What a notification's click does: the window shows that conversation. */
static void
test_show_conversation (Fixture       *fixture,
                        gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));
  g_autoptr(ConfabConversation) conversation = NULL;

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Notify me");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (n_conversations (fixture) == 1);
  conversation = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.new-chat", NULL));
  g_assert_cmpuint (n_messages (fixture), ==, 0);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "show-conversation",
                                  g_variant_new_int64 (confab_conversation_get_id (conversation)));
  WAIT_FOR (n_messages (fixture) == 2);
}

/* Up in an empty composer edits the last message; sending makes a new
 * version, and the old one stays as a sibling. */
static void
test_edit_last (Fixture       *fixture,
                gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  GtkTextView *composer = GTK_TEXT_VIEW (child (fixture, "composer_view"));
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) siblings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GtkTextIter start, end;
  gint64 first_id;

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Frist question");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE &&
            confab_message_get_id (message_at (fixture, 0)) > 0);
  first_id = confab_message_get_id (message_at (fixture, 0));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.edit-last", NULL));
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (composer), &start, &end);
  text = gtk_text_buffer_get_text (gtk_text_view_get_buffer (composer), &start, &end, FALSE);
  g_assert_cmpstr (text, ==, "Frist question");

  type_and_send (fixture, "First question");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_id (message_at (fixture, 0)) != first_id &&
            confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 0)), ==, "First question");

  confab_store_list_siblings_async (store, first_id, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  siblings = confab_store_list_siblings_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (siblings->len, ==, 2);
}

static ConfabConversation *
conversation_at (Fixture *fixture,
                 guint    position)
{
  GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));
  g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)),
                                                                      position);
  return conversation;
}

/* Pinned conversations stay on top; archived ones leave the list. */
static void
test_pin_and_archive (Fixture       *fixture,
                      gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  GtkSingleSelection *selection =
    GTK_SINGLE_SELECTION (gtk_list_view_get_model (GTK_LIST_VIEW (child (fixture, "conversation_list"))));

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Older");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.new-chat", NULL));
  type_and_send (fixture, "Newer");
  WAIT_FOR (n_conversations (fixture) == 2 && n_messages (fixture) == 2 &&
            confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (g_str_equal (confab_conversation_get_title (conversation_at (fixture, 0)), "Newer"));

  /* Pin the older one: it moves to the top. */
  gtk_single_selection_set_selected (selection, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.pin", NULL));
  WAIT_FOR (g_str_equal (confab_conversation_get_title (conversation_at (fixture, 0)), "Older"));
  g_assert_true (confab_conversation_get_pinned (conversation_at (fixture, 0)));

  /* Archive it: it leaves the list. */
  gtk_single_selection_set_selected (selection, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.archive", NULL));
  WAIT_FOR (n_conversations (fixture) == 1);
  g_assert_cmpstr (confab_conversation_get_title (conversation_at (fixture, 0)), ==, "Newer");
}

static void
test_find_in_chat (Fixture       *fixture,
                   gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  GtkEditable *entry = GTK_EDITABLE (child (fixture, "find_entry"));
  GtkLabel *label = GTK_LABEL (child (fixture, "find_label"));

  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Show me some CODE please");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.find", NULL));
  g_assert_true (gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (child (fixture, "find_bar"))));

  /* Both the question and the reply mention code, whatever the case. */
  gtk_editable_set_text (entry, "code");
  WAIT_FOR (g_str_equal (gtk_label_get_text (label), "1 of 2"));
  g_signal_emit_by_name (entry, "activate");
  g_assert_cmpstr (gtk_label_get_text (label), ==, "2 of 2");

  gtk_editable_set_text (entry, "no such words");
  WAIT_FOR (g_str_equal (gtk_label_get_text (label), "Not found"));
}

/* The default system prompt from the settings goes first in the requests
 * of a new conversation. */
static void
test_default_system_prompt (Fixture       *fixture,
                            gconstpointer  data)
{
  ConfabTestResponse *response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  g_autoptr(GSettings) settings = g_settings_new ("io.github.confab.Confab");
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *messages;
  GBytes *body;

  g_settings_set_string (settings, "default-system-prompt", "You are terse.");
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, "Hello");
  WAIT_FOR (n_messages (fixture) == 2 && confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);

  body = confab_test_server_get_request_body (fixture->server, confab_test_server_get_n_requests (fixture->server) - 1);
  node = json_from_string (g_bytes_get_data (body, NULL), &error);
  g_assert_no_error (error);
  messages = json_object_get_array_member (json_node_get_object (node), "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "role"), ==, "system");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "content"), ==,
                   "You are terse.");
  g_settings_reset (settings, "default-system-prompt");
}

/* First run: a local server that answers is used. */
static void
test_first_run_finds_server (Fixture       *fixture,
                             gconstpointer  data)
{
  GListModel *models = gtk_drop_down_get_model (GTK_DROP_DOWN (child (fixture, "model_dropdown")));
  const char *description;

  WAIT_FOR (g_list_model_get_n_items (models) == 1);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (models), 0), ==, "test-model · Test");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (child (fixture, "welcome_box"))));
  /* It no longer says it is looking. */
  description = adw_status_page_get_description (ADW_STATUS_PAGE (child (fixture, "empty_page")));
  g_assert_true (description == NULL || description[0] == '\0');
}

/* First run with nothing that answers: the welcome page offers the usual
 * providers. */
static void
test_first_run_welcome (Fixture       *fixture,
                        gconstpointer  data)
{
  WAIT_FOR (gtk_widget_get_visible (GTK_WIDGET (child (fixture, "welcome_box"))));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (child (fixture, "model_dropdown")))),
                    ==, 0);
}

static gboolean end_in_view (Fixture       *fixture,
                             ConfabMessage *message);

typedef struct
{
  Fixture  *fixture;
  gboolean  seen;       /* a frame drew the messages */
  gboolean  at_end;     /* ...and the newest one was on screen in it */
} FirstSight;

static void
first_sight_cb (GdkFrameClock *clock,
                FirstSight    *sight)
{
  GtkWidget *list = GTK_WIDGET (child (sight->fixture, "message_list"));

  if (sight->seen || n_messages (sight->fixture) == 0 || gtk_widget_get_opacity (list) == 0)
    return;
  sight->seen = TRUE;
  sight->at_end = end_in_view (sight->fixture, message_at (sight->fixture, n_messages (sight->fixture) - 1));
}

/* A long conversation opens with its newest messages, in the first frame
 * that shows it; older ones come as the user scrolls up, and finding
 * searches all of them. */
static void
test_long_conversation (Fixture       *fixture,
                        gconstpointer  data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (fixture->window));
  FirstSight sight = { fixture, FALSE, FALSE };
  gulong handler;
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (child (fixture, "scroller")));
  guint shown;

  confab_conversation_set_title (draft, "Long");
  confab_store_create_conversation_async (store, draft, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  conversation = confab_store_create_conversation_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  for (guint i = 0; i < 120; i++)
    {
      g_autofree char *text = g_strdup_printf (i == 0 ? "The very first message mentions wombats" : "Message %u", i);
      g_autoptr(ConfabMessage) message = confab_message_new (i % 2 ? CONFAB_ROLE_ASSISTANT : CONFAB_ROLE_USER, text);

      confab_store_add_message_async (store, confab_conversation_get_id (conversation), message, NULL, result_cb, &result);
      WAIT_FOR (result != NULL);
      g_assert_cmpint (confab_store_add_message_finish (store, result, &error), >, 0);
      g_clear_object (&result);
    }

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (first_sight_cb), &sight);
  confab_window_show_conversation (fixture->window, confab_conversation_get_id (conversation));
  WAIT_FOR (n_messages (fixture) > 0);
  g_assert_cmpuint (n_messages (fixture), <, 120);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, n_messages (fixture) - 1)), ==, "Message 119");
  WAIT_FOR (sight.seen);
  g_signal_handler_disconnect (clock, handler);
  g_assert_true (sight.at_end);

  /* Scrolled to the top: older ones come in. */
  shown = n_messages (fixture);
  WAIT_FOR (gtk_adjustment_get_upper (adjustment) > gtk_adjustment_get_page_size (adjustment) &&
            gtk_adjustment_get_value (adjustment) > 0);
  gtk_adjustment_set_value (adjustment, 0);
  WAIT_FOR (n_messages (fixture) > shown);

  /* Finding looks through everything. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.find", NULL));
  gtk_editable_set_text (GTK_EDITABLE (child (fixture, "find_entry")), "wombats");
  WAIT_FOR (g_str_equal (gtk_label_get_text (GTK_LABEL (child (fixture, "find_label"))), "1 of 1"));
  g_assert_cmpuint (n_messages (fixture), ==, 120);
}

static GtkWindow *
find_preferences (Fixture *fixture)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (fixture->app)); l != NULL; l = l->next)
    if (g_str_equal (G_OBJECT_TYPE_NAME (l->data), "ConfabPreferencesWindow"))
      return l->data;
  return NULL;
}

/* The welcome page's provider buttons and Ctrl+, open Preferences, once. */
static void
test_preferences (Fixture       *fixture,
                  gconstpointer  data)
{
  GtkWindow *prefs;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "add-provider", g_variant_new_string ("ollama"));
  prefs = find_preferences (fixture);
  g_assert_nonnull (prefs);
  g_assert_true (gtk_window_get_transient_for (prefs) == GTK_WINDOW (fixture->window));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  g_assert_true (find_preferences (fixture) == prefs);
  gtk_window_destroy (prefs);
}

/* An mcp.json that cannot be read, named by CONFAB_MCP_CONFIG while the
 * app starts (it reads the variable then). */
static void
mcp_unreadable_setup (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fixture->mcp_dir = g_dir_make_tmp ("confab-test-window-mcp-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (fixture->mcp_dir, "mcp.json", NULL);
  g_file_set_contents (path, "{\"mcpServers\": [", -1, &error);
  g_assert_no_error (error);

  g_setenv ("CONFAB_MCP_CONFIG", path, TRUE);
  fixture_setup (fixture, NULL);
  g_unsetenv ("CONFAB_MCP_CONFIG");
}

static void
mcp_unreadable_teardown (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->mcp_dir, "mcp.json", NULL);

  fixture_teardown (fixture, data);
  g_remove (path);
  g_rmdir (fixture->mcp_dir);
  g_free (fixture->mcp_dir);
}

/* Preferences has the MCP Servers page, which says why the app could not
 * read mcp.json at start-up. */
static void
test_preferences_mcp_unreadable (Fixture       *fixture,
                                 gconstpointer  data)
{
  AdwPreferencesWindow *prefs;
  GtkWidget *page;
  GtkWidget *error_label;

  WAIT_FOR (confab_application_get_mcp_error (fixture->app) != NULL);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  prefs = ADW_PREFERENCES_WINDOW (find_preferences (fixture));
  g_assert_nonnull (prefs);

  adw_preferences_window_set_visible_page_name (prefs, "mcp");
  page = GTK_WIDGET (adw_preferences_window_get_visible_page (prefs));
  g_assert_true (CONFAB_IS_MCP_PAGE (page));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (page, CONFAB_TYPE_MCP_PAGE,
                                                                                    "error_group"))));
  error_label = GTK_WIDGET (gtk_widget_get_template_child (page, CONFAB_TYPE_MCP_PAGE, "error_label"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "mcp.json is not valid JSON"));
  gtk_window_destroy (GTK_WINDOW (prefs));
}

static void
count_cb (guint *counter)
{
  (*counter)++;
}

/* The default model from Preferences is the one selected. */
static void
test_default_model (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.confab.Confab");
  ConfabTestResponse *models = confab_test_server_add_response (fixture->server, "/v1/models", 200);
  GtkDropDown *dropdown = GTK_DROP_DOWN (child (fixture, "model_dropdown"));
  guint rebuilds = 0;
  guint before;

  confab_test_response_set_body_string (models, "{\"data\":[{\"id\":\"small\"},{\"id\":\"large\"}]}");
  g_settings_set_string (settings, "default-model", "large");

  /* The test server hands out queued answers in order: the first reload
   * still gets the one-model list, the second the new one. Each rebuild
   * of the list is one items-changed. */
  g_signal_connect_swapped (gtk_drop_down_get_model (dropdown), "items-changed",
                            G_CALLBACK (count_cb), &rebuilds);
  for (guint i = 0; i < 2; i++)
    {
      before = rebuilds;
      confab_window_reload_providers (fixture->window);
      WAIT_FOR (rebuilds > before);
    }
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (dropdown)), ==, 2);
  g_assert_cmpuint (gtk_drop_down_get_selected (dropdown), ==, 1);
  g_signal_handlers_disconnect_by_func (gtk_drop_down_get_model (dropdown), count_cb, &rebuilds);
  g_settings_reset (settings, "default-model");
}

/* Tools: a tool that needs approval, for the approval card. */

#define TEST_TYPE_GUARDED_TOOL (test_guarded_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestGuardedTool, test_guarded_tool, TEST, GUARDED_TOOL, ConfabTool)

struct _TestGuardedTool
{
  ConfabTool parent_instance;
  guint      n_calls;
};

G_DEFINE_FINAL_TYPE (TestGuardedTool, test_guarded_tool, CONFAB_TYPE_TOOL)

static void
test_guarded_tool_run_async (ConfabTool          *tool,
                             ConfabToolContext   *context,
                             JsonObject          *arguments,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (tool, cancellable, callback, user_data);
  g_autofree char *text = NULL;

  /* {"report": true}: what the conversation granted to its tools. */
  if (json_object_get_boolean_member_with_default (arguments, "report", FALSE))
    {
      g_autofree char *folders = g_strjoinv ("|", (char **)confab_tool_context_get_allowed_dirs (context));

      text = g_strdup_printf ("folders=%s private=%s", folders,
                              confab_tool_context_get_allow_private_network (context) ? "yes" : "no");
    }
  else
    text = g_strdup_printf ("listed %s", json_object_get_string_member_with_default (arguments, "path", "?"));

  TEST_GUARDED_TOOL (tool)->n_calls++;
  g_task_return_pointer (task, confab_tool_result_new (text), g_object_unref);
}

static ConfabToolResult *
test_guarded_tool_run_finish (ConfabTool    *tool,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_guarded_tool_class_init (TestGuardedToolClass *klass)
{
  CONFAB_TOOL_CLASS (klass)->run_async = test_guarded_tool_run_async;
  CONFAB_TOOL_CLASS (klass)->run_finish = test_guarded_tool_run_finish;
}

static void
test_guarded_tool_init (TestGuardedTool *self)
{
}

/* The first widget at or under @widget, depth first, that @match takes. */
static GtkWidget *
find_widget (GtkWidget     *widget,
             gboolean     (*match) (GtkWidget     *widget,
                                    gconstpointer  data),
             gconstpointer  data)
{
  if (match (widget, data))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_button_labelled (GtkWidget     *widget,
                    gconstpointer  label)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0 &&
         gtk_widget_is_drawable (widget);
}

/* The button on screen labelled @label (with its mnemonic underscore). */
static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  return find_widget (widget, is_button_labelled, label);
}

static void
test_tool_approval_card (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *names[] = { "list_things", NULL };
  const char *arguments[] = { "{\"path\":\"/srv\"}", NULL };
  const char *keys[] = { "call_0", NULL };
  const char *contains[] = { "listed /srv", NULL };
  g_autoptr(TestGuardedTool) tool = g_object_new (TEST_TYPE_GUARDED_TOOL,
                                                  "name", "list_things",
                                                  "description", "Lists things",
                                                  "needs-approval", TRUE,
                                                  NULL);
  g_autoptr(GBytes) calls = confab_test_generate_tool_call_stream ("openai", "Checking.", names, arguments);
  g_autoptr(GBytes) answer = confab_test_generate_text_reply ("openai", "Found them.");
  ConfabTestResponse *response;
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *allow;
  ConfabMessage *card;

  confab_toolbox_add (confab_application_get_toolbox (fixture->app), CONFAB_TOOL (tool));
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (response, calls);
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (response, answer);
  confab_test_response_expect_tool_results (response, "openai", keys, contains);

  type_and_send (fixture, "List the things");

  /* The tool's card asks, in the conversation; nothing runs meanwhile. */
  WAIT_FOR (n_messages (fixture) == 3 && confab_message_get_approval (message_at (fixture, 2)) != NULL);
  card = message_at (fixture, 2);
  g_assert_cmpint (confab_message_get_role (card), ==, CONFAB_ROLE_TOOL);
  g_assert_cmpuint (tool->n_calls, ==, 0);

  /* Away and back: the question is still there, on the live card. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.new-chat", NULL));
  g_assert_cmpuint (n_messages (fixture), ==, 0);
  WAIT_FOR (n_conversations (fixture) == 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.next-conversation", NULL));
  WAIT_FOR (n_messages (fixture) == 3);
  g_assert_true (message_at (fixture, 2) == card);
  g_assert_nonnull (confab_message_get_approval (card));
  WAIT_FOR ((allow = find_button (GTK_WIDGET (child (fixture, "message_list")), "Allow _Once")) != NULL);
  g_assert_true (gtk_widget_get_focusable (allow) || gtk_widget_get_can_focus (allow));

  gtk_widget_activate (allow);

  WAIT_FOR (n_messages (fixture) == 4 &&
            confab_message_get_state (message_at (fixture, 3)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpuint (tool->n_calls, ==, 1);
  g_assert_cmpstr (confab_message_get_content (card), ==, "listed /srv");
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 3)), ==, "Found them.");
  g_assert_null (find_button (GTK_WIDGET (child (fixture, "message_list")), "Allow _Once"));

  /* All four are stored, the tool's result tied to its call. */
  WAIT_FOR (g_str_equal (gtk_stack_get_visible_child_name (GTK_STACK (child (fixture, "send_stack"))), "send"));
  WAIT_FOR (n_conversations (fixture) == 1);
  {
    GtkListView *list = GTK_LIST_VIEW (child (fixture, "conversation_list"));
    g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), 0);

    confab_store_load_messages_async (store, confab_conversation_get_id (conversation), NULL, result_cb, &result);
  }
  WAIT_FOR (result != NULL);
  stored = confab_store_load_messages_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 4);
  g_assert_cmpstr (confab_message_get_tool_call_id (g_ptr_array_index (stored, 2)), ==, "call_0");
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (stored, 2)), ==, "listed /srv");

  confab_toolbox_remove (confab_application_get_toolbox (fixture->app), "list_things");
}

/* Closing the window while a tool waits for approval stops the turn:
 * the question is withdrawn, nothing runs, nothing warns. */
static void
test_close_while_asking (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *names[] = { "list_things", NULL };
  const char *arguments[] = { "{\"path\":\"/srv\"}", NULL };
  g_autoptr(TestGuardedTool) tool = g_object_new (TEST_TYPE_GUARDED_TOOL,
                                                  "name", "list_things",
                                                  "needs-approval", TRUE,
                                                  NULL);
  g_autoptr(GBytes) calls = confab_test_generate_tool_call_stream ("openai", NULL, names, arguments);
  g_autoptr(ConfabApproval) approval = NULL;
  ConfabToolbox *toolbox = confab_application_get_toolbox (fixture->app);

  confab_toolbox_add (toolbox, CONFAB_TOOL (tool));
  confab_test_response_set_body (confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200), calls);

  type_and_send (fixture, "List them");
  WAIT_FOR (n_messages (fixture) == 3 && confab_message_get_approval (message_at (fixture, 2)) != NULL);
  approval = g_object_ref (confab_message_get_approval (message_at (fixture, 2)));

  gtk_window_destroy (GTK_WINDOW (fixture->window));
  fixture->window = NULL;
  WAIT_FOR (confab_approval_get_resolved (approval));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (tool->n_calls, ==, 0);
  confab_toolbox_remove (toolbox, "list_things");
}

/* The visible labels under @widget, in order, "|"-separated. */
static void
collect_labels (GtkWidget *widget,
                GString   *out)
{
  if (!gtk_widget_get_visible (widget))
    return;
  if (GTK_IS_LABEL (widget) && gtk_label_get_text (GTK_LABEL (widget))[0] != '\0')
    g_string_append_printf (out, "%s%s", out->len > 0 ? "|" : "", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_labels (c, out);
}

/* With two providers, the model menu shows each one's models under its
 * name, and the button names model and provider. */
static void
test_models_grouped (Fixture       *fixture,
                     gconstpointer  data)
{
  GtkDropDown *dropdown = GTK_DROP_DOWN (child (fixture, "model_dropdown"));
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(ConfabTestServer) other = confab_test_server_new ();
  g_autofree char *url = g_strconcat (confab_test_server_get_url (other), "/v1", NULL);
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("Second", "openai", url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) button = g_string_new (NULL);
  g_autoptr(GString) listed = g_string_new (NULL);
  GtkWidget *popover = NULL;

  confab_test_response_set_body_string (confab_test_server_add_response (other, "/v1/models", 200),
                                        "{\"data\":[{\"id\":\"alpha\"},{\"id\":\"beta\"}]}");
  confab_store_save_provider_async (store, config, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  g_assert_true (confab_store_save_provider_finish (store, result, &error));
  g_assert_no_error (error);

  confab_window_reload_providers (fixture->window);
  WAIT_FOR (g_list_model_get_n_items (gtk_drop_down_get_model (dropdown)) == 3);

  /* The popup, as a click or Enter opens it. Other tests' windows on
   * the same display may take the focus, which would close a popup that
   * hides when its window loses it. */
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (dropdown)); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_POPOVER (c))
      popover = c;
  g_assert_nonnull (popover);
  gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
  g_signal_emit_by_name (dropdown, "activate");
  WAIT_FOR (gtk_widget_get_mapped (popover));
  collect_labels (popover, listed);
  /* The providers answer in either order; each heading comes right above
   * its own models, and only once. */
  g_test_message ("menu: %s", listed->str);
  g_assert_true (g_str_equal (listed->str, "local|test-model|Second|alpha|beta") ||
                 g_str_equal (listed->str, "Second|alpha|beta|local|test-model"));
  gtk_popover_popdown (GTK_POPOVER (popover));

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (dropdown)); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (!GTK_IS_POPOVER (c))
      collect_labels (c, button);
  g_assert_nonnull (strstr (button->str, " · "));
}

/* A large paste goes in whole (nothing lost), the composer at its full
 * height; emptied, it grows with its text again. */
static void
test_large_paste (Fixture       *fixture,
                  gconstpointer  data)
{
  GtkTextView *composer = GTK_TEXT_VIEW (child (fixture, "composer_view"));
  GtkScrolledWindow *scroller = GTK_SCROLLED_WINDOW (child (fixture, "composer_scroller"));
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (composer);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *got = NULL;
  GtkTextIter start, end;

  gtk_text_buffer_set_text (buffer, "Before: ", -1);
  for (guint i = 0; text->len < 200 * 1024; i++)
    g_string_append_printf (text, "line %u of a long log that was pasted whole\n", i);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (composer)), text->str);

  g_signal_emit_by_name (composer, "paste-clipboard");
  WAIT_FOR (gtk_text_buffer_get_char_count (buffer) > 8);

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  got = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_true (g_str_has_prefix (got, "Before: line 0 of"));
  g_assert_cmpuint (strlen (got), ==, strlen ("Before: ") + text->len);
  g_assert_false (gtk_scrolled_window_get_propagate_natural_height (scroller));

  gtk_text_buffer_set_text (buffer, "short", -1);
  g_assert_true (gtk_scrolled_window_get_propagate_natural_height (scroller));
}

static gboolean
is_of_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

static GtkWidget *
find_by_type (GtkWidget *widget,
              GType      type)
{
  return find_widget (widget, is_of_type, GSIZE_TO_POINTER (type));
}

static GtkWindow *
find_toplevel (const char *title)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (g_strcmp0 (gtk_window_get_title (window), title) == 0)
        return window;
    }
  return NULL;
}

/* A message of 300 KB, as a pasted log: the chat shows its beginning and
 * how much more there is (a label with all of it would freeze the window
 * for many seconds), Show All opens the whole text, and all of it is sent
 * and stored. */
static void
test_long_message (Fixture       *fixture,
                   gconstpointer  data)
{
  ConfabTestResponse *response;
  g_autoptr(GString) text = g_string_new (NULL);
  GtkWidget *long_text = NULL;
  GtkWidget *label, *more, *button;
  GtkWindow *viewer;
  GtkTextBuffer *buffer;

  for (guint i = 0; text->len < 300 * 1024; i++)
    g_string_append_printf (text, "line %u of a long log that was pasted whole\n", i);
  g_string_append (text, "the end");

  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  type_and_send (fixture, text->str);
  WAIT_FOR (n_messages (fixture) == 2);
  WAIT_FOR (confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 0)), ==, text->str);

  /* The user's row: the beginning, selectable, and how much more. */
  for (GtkWidget *w = find_by_type (GTK_WIDGET (child (fixture, "message_list")), CONFAB_TYPE_MESSAGE_ROW); w != NULL;
       w = gtk_widget_get_next_sibling (w))
    {
      GtkWidget *candidate = CONFAB_IS_MESSAGE_ROW (w) ? find_by_type (w, CONFAB_TYPE_LONG_TEXT) : NULL;

      if (candidate != NULL && gtk_widget_get_visible (candidate) &&
          g_str_equal (confab_long_text_get_text (CONFAB_LONG_TEXT (candidate)), text->str))
        long_text = candidate;
    }
  g_assert_nonnull (long_text);
  g_assert_true (confab_long_text_is_clipped (CONFAB_LONG_TEXT (long_text)));
  label = find_by_type (long_text, GTK_TYPE_LABEL);
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (label)));
  g_assert_true (g_str_has_prefix (text->str, gtk_label_get_text (GTK_LABEL (label))));
  g_assert_cmpuint (g_utf8_strlen (gtk_label_get_text (GTK_LABEL (label)), -1), <=, CONFAB_LONG_TEXT_MAX_CHARS);
  more = gtk_widget_get_first_child (gtk_widget_get_next_sibling (label));
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_parent (more)));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (more)), "… and "));
  g_assert_true (g_str_has_suffix (gtk_label_get_text (GTK_LABEL (more)), "kB more"));

  /* Show All: the whole message, in a window of its own. */
  button = find_by_type (gtk_widget_get_next_sibling (label), GTK_TYPE_BUTTON);
  g_assert_true (gtk_widget_get_visible (button));
  g_signal_emit_by_name (button, "clicked");
  WAIT_FOR ((viewer = find_toplevel ("Message")) != NULL);
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (find_by_type (GTK_WIDGET (viewer), GTK_TYPE_TEXT_VIEW)));
  g_assert_cmpint (gtk_text_buffer_get_char_count (buffer), ==, g_utf8_strlen (text->str, -1));
  g_assert_false (gtk_text_view_get_editable (GTK_TEXT_VIEW (find_by_type (GTK_WIDGET (viewer), GTK_TYPE_TEXT_VIEW))));
  gtk_window_destroy (viewer);

  /* A short message is shown whole, without the button. */
  confab_long_text_set_text (CONFAB_LONG_TEXT (long_text), "short");
  g_assert_false (confab_long_text_is_clipped (CONFAB_LONG_TEXT (long_text)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, "short");
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_parent (button)));
}

static void
read_clipboard_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, NULL);
}

/* A pasted line of 300 KB (minified JSON, say) shows its beginning, with
 * a bar that says so; all of it is in the composer, copied and sent.
 * Show All shows it whole. */
static void
test_long_line_paste (Fixture       *fixture,
                      gconstpointer  data)
{
  GtkTextView *composer = GTK_TEXT_VIEW (child (fixture, "composer_view"));
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (composer);
  GtkWidget *bar = GTK_WIDGET (child (fixture, "fold_bar"));
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (composer));
  ConfabTestResponse *response;
  g_autoptr(GString) line = g_string_new ("Explain this: ");
  g_autofree char *shown = NULL;
  g_autofree char *all = NULL;
  g_autofree char *copied = NULL;
  GtkTextIter start, end;

  while (line->len < 300 * 1024)
    g_string_append (line, "{\"key\":\"value\",\"n\":12345,\"list\":[1,2,3]},");
  gdk_clipboard_set_text (clipboard, line->str);
  g_signal_emit_by_name (composer, "paste-clipboard");
  WAIT_FOR (gtk_text_buffer_get_char_count (buffer) == (int)line->len);

  /* Shown in part, all of it there. */
  g_assert_true (gtk_widget_get_visible (bar));
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  shown = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  all = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  g_assert_cmpuint (g_utf8_strlen (shown, -1), ==, 2000);
  g_assert_true (g_str_has_prefix (line->str, shown));
  g_assert_true (g_str_equal (all, line->str));

  /* What the user types after it stays in view. */
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, " What is n?", -1);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  g_clear_pointer (&shown, g_free);
  shown = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_true (g_str_has_suffix (shown, " What is n?"));
  gtk_text_buffer_get_end_iter (buffer, &end);
  start = end;
  gtk_text_iter_backward_chars (&start, strlen (" What is n?"));
  gtk_text_buffer_delete (buffer, &start, &end);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  g_clear_pointer (&all, g_free);
  all = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  g_assert_true (g_str_equal (all, line->str));

  /* Copying takes all of it. */
  gtk_text_buffer_select_range (buffer, &start, &end);
  gdk_clipboard_set_text (clipboard, "something else");
  g_signal_emit_by_name (composer, "copy-clipboard");
  gdk_clipboard_read_text_async (clipboard, NULL, read_clipboard_cb, &copied);
  WAIT_FOR (copied != NULL);
  g_assert_true (g_str_equal (copied, line->str));

  /* Show All: the whole line, no bar. */
  g_signal_emit_by_name (child (fixture, "fold_show_all_button"), "clicked");
  g_assert_false (gtk_widget_get_visible (bar));
  g_clear_pointer (&shown, g_free);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  shown = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_true (g_str_equal (shown, line->str));

  /* Folded again after the composer was emptied, and sent whole. */
  gtk_text_buffer_set_text (buffer, "", 0);
  gtk_text_buffer_set_text (buffer, line->str, -1);
  g_assert_true (gtk_widget_get_visible (bar));
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send", NULL));
  WAIT_FOR (n_messages (fixture) == 2);
  g_assert_true (g_str_equal (confab_message_get_content (message_at (fixture, 0)), line->str));
  g_assert_false (gtk_widget_get_visible (bar));
  WAIT_FOR (confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
}

static GtkWindow *
find_toplevel_of_type (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }
  return NULL;
}

static gboolean
chosen_is (GtkFileChooser *chooser,
           const char     *path)
{
  g_autoptr(GFile) file = gtk_file_chooser_get_file (chooser);

  return file != NULL && g_strcmp0 (g_file_peek_path (file), path) == 0;
}

/* (transfer full) (nullable): the first conversation in the sidebar. */
static ConfabConversation *
first_conversation (Fixture *fixture)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (child (fixture, "conversation_list"))));

  return g_list_model_get_n_items (model) > 0 ? g_list_model_get_item (model, 0) : NULL;
}

/* The first folder granted to the first conversation's tools, as the
 * window has it (valid until the sidebar changes). */
static const char *
first_folder (Fixture *fixture)
{
  g_autoptr(ConfabConversation) conversation = first_conversation (fixture);

  return conversation != NULL ? confab_conversation_get_tool_folders (conversation)[0] : NULL;
}

static ConfabConversation *
stored_conversation (Fixture *fixture,
                     gint64   id)
{
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  ConfabConversation *conversation;

  confab_store_get_conversation_async (store, id, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  conversation = confab_store_get_conversation_finish (store, result, &error);
  g_assert_no_error (error);
  return conversation;
}

/* The folders granted to the first conversation's tools, as the window
 * has them (valid until the sidebar changes). */
static guint
n_folders (Fixture *fixture)
{
  g_autoptr(ConfabConversation) conversation = first_conversation (fixture);

  return conversation != NULL ? g_strv_length ((char **)confab_conversation_get_tool_folders (conversation)) : 0;
}

/* Grants @path through the file chooser, as the user does. */
static void
grant_folder (Fixture    *fixture,
              const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  guint n = n_folders (fixture);
  GtkWindow *chooser;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.grant-folder", NULL));
  WAIT_FOR ((chooser = find_toplevel_of_type (GTK_TYPE_FILE_CHOOSER_DIALOG)) != NULL);
  /* With nothing selected, a folder chooser's answer is the folder it
   * shows. */
  g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), file, NULL));
  WAIT_FOR (chosen_is (GTK_FILE_CHOOSER (chooser), path));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  /* Its real path is looked up on a worker thread, then stored. */
  WAIT_FOR (n_folders (fixture) == n + 1);
}

/* What the user grants to a conversation's tools is there the next time
 * it is opened (a new window reads it from the store, as after a
 * restart), until Revoke Tool Access takes it back. A granted folder
 * that is gone by then is dropped. */
static void
test_tool_access_persists (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *names[] = { "tool_access", NULL };
  const char *arguments[] = { "{\"report\":true}", NULL };
  const char *keys[] = { "call_0", NULL };
  g_autofree char *folder = g_build_filename (fixture->dir, "granted", NULL);
  g_autofree char *gone_folder = g_build_filename (fixture->dir, "removed later", NULL);
  g_autofree char *real_folder = NULL;
  g_autofree char *real_gone_folder = NULL;
  g_autofree char *expected = NULL;
  const char *contains[] = { NULL, NULL };
  g_autoptr(TestGuardedTool) tool = g_object_new (TEST_TYPE_GUARDED_TOOL,
                                                  "name", "tool_access",
                                                  "description", "Says what it may reach",
                                                  "needs-approval", FALSE,
                                                  NULL);
  g_autoptr(GBytes) calls = confab_test_generate_tool_call_stream ("openai", "Checking.", names, arguments);
  g_autoptr(GBytes) answer = confab_test_generate_text_reply ("openai", "You granted it.");
  g_autoptr(ConfabConversation) stored = NULL;
  ConfabTestResponse *response;
  ConfabConversation *shown = NULL;
  gint64 id;

  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (gone_folder, 0700), ==, 0);
  real_folder = realpath (folder, NULL);
  real_gone_folder = realpath (gone_folder, NULL);

  /* The server's answers, in order: to the first message, then (after
   * the restart) a call of the tool and the answer to its result. */
  expected = g_strdup_printf ("folders=%s private=yes", real_folder);
  contains[0] = expected;
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body_file (response,
                                      g_test_get_filename (G_TEST_DIST, "fixtures", "openai", "stream-text.sse", NULL));
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (response, calls);
  response = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (response, answer);
  confab_test_response_expect_tool_results (response, "openai", keys, contains);
  confab_toolbox_add (confab_application_get_toolbox (fixture->app), CONFAB_TOOL (tool));

  type_and_send (fixture, "Hello");
  WAIT_FOR (n_messages (fixture) == 2);
  WAIT_FOR (confab_message_get_state (message_at (fixture, 1)) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (n_conversations (fixture) == 1);
  shown = first_conversation (fixture);
  id = confab_conversation_get_id (shown);
  g_clear_object (&shown);

  /* Grant two folders through the file chooser, and the local network. */
  grant_folder (fixture, real_folder);
  g_assert_cmpstr (first_folder (fixture), ==, real_folder);
  grant_folder (fixture, real_gone_folder);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "conversation.allow-private-network", NULL));

  stored = stored_conversation (fixture, id);
  g_assert_cmpstr (confab_conversation_get_tool_folders (stored)[0], ==, real_folder);
  g_assert_cmpstr (confab_conversation_get_tool_folders (stored)[1], ==, real_gone_folder);
  g_assert_null (confab_conversation_get_tool_folders (stored)[2]);
  g_assert_true (confab_conversation_get_tools_private_network (stored));
  g_clear_object (&stored);

  /* Before the next start, the second folder goes. */
  g_assert_cmpint (g_rmdir (real_gone_folder), ==, 0);

  /* The window closed and opened again, as after a restart: the tools
   * reach what was granted. */
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *)&fixture->window);
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  WAIT_FOR (fixture->window == NULL);
  g_application_activate (G_APPLICATION (fixture->app));
  fixture->window = CONFAB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fixture->app)));
  WAIT_FOR (n_conversations (fixture) == 1 &&
            g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (child (fixture, "model_dropdown")))) == 1);
  confab_window_show_conversation (fixture->window, id);
  WAIT_FOR (n_messages (fixture) == 2);

  /* The first change to the conversation's grants brings the stored ones
   * back; the folder that is gone is dropped, in the store too. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "conversation.allow-private-network", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "conversation.allow-private-network", NULL));
  WAIT_FOR (n_folders (fixture) == 1);
  g_assert_cmpstr (first_folder (fixture), ==, real_folder);
  stored = stored_conversation (fixture, id);
  g_assert_cmpstr (confab_conversation_get_tool_folders (stored)[0], ==, real_folder);
  g_assert_null (confab_conversation_get_tool_folders (stored)[1]);
  g_assert_true (confab_conversation_get_tools_private_network (stored));
  g_clear_object (&stored);

  type_and_send (fixture, "What may you reach?");
  WAIT_FOR (n_messages (fixture) == 6 &&
            confab_message_get_state (message_at (fixture, 5)) == CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 4)), ==, expected);
  g_assert_cmpstr (confab_message_get_content (message_at (fixture, 5)), ==, "You granted it.");

  /* Revoke: nothing granted, here and in the store. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.revoke-tool-access", NULL));
  stored = stored_conversation (fixture, id);
  g_assert_null (confab_conversation_get_tool_folders (stored)[0]);
  g_assert_false (confab_conversation_get_tools_private_network (stored));

  confab_toolbox_remove (confab_application_get_toolbox (fixture->app), "tool_access");
}

static gboolean
is_row_of (GtkWidget     *widget,
           gconstpointer  message)
{
  return CONFAB_IS_MESSAGE_ROW (widget) && confab_message_row_get_message (CONFAB_MESSAGE_ROW (widget)) == message;
}

/* The row showing @message, if one does. */
static GtkWidget *
row_for (GtkWidget     *widget,
         ConfabMessage *message)
{
  return find_widget (widget, is_row_of, message);
}

/* Whether the end of @message's row is on screen, in the chat's view. */
static gboolean
end_in_view (Fixture       *fixture,
             ConfabMessage *message)
{
  GtkWidget *scroller = GTK_WIDGET (child (fixture, "scroller"));
  GtkWidget *row = row_for (scroller, message);
  graphene_rect_t bounds;
  double bottom;

  if (row == NULL || !gtk_widget_get_mapped (row) || !gtk_widget_compute_bounds (row, scroller, &bounds))
    return FALSE;
  bottom = bounds.origin.y + bounds.size.height;
  return bottom > 0 && bottom <= gtk_widget_get_height (scroller) + 1;
}

static void
count_paint_cb (GdkFrameClock *clock,
                guint         *n)
{
  (*n)++;
}

/* Runs the main loop for @n frames of the window. */
static void
wait_frames (Fixture *fixture,
             guint    n)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (fixture->window));
  guint painted = 0;
  gulong handler = g_signal_connect (clock, "after-paint", G_CALLBACK (count_paint_cb), &painted);

  while (painted < n)
    {
      gtk_widget_queue_draw (GTK_WIDGET (fixture->window));
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, handler);
}

/* A reply many times taller than the view is followed to its end while
 * it comes in; a user who scrolled up to read stays where they are, also
 * when they page up (an animated scroll) while a reply comes in, and
 * sending takes them to the end again. */
static void
test_follows_long_reply (Fixture       *fixture,
                         gconstpointer  data)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (child (fixture, "scroller")));
  GtkWidget *scroller = GTK_WIDGET (child (fixture, "scroller"));
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GBytes) longer_reply = NULL;
  ConfabMessage *first, *second, *third;
  gboolean handled = FALSE;
  double upper, page, value;

  for (guint i = 0; i < 600; i++)
    {
      g_string_append_printf (text, "Paragraph %u of a long answer, with enough words in it to wrap "
                              "at least once in a window of ordinary width.\n\n", i);
      if (i == 149)
        reply = confab_test_generate_text_reply ("openai", text->str);
    }
  longer_reply = confab_test_generate_text_reply ("openai", text->str);
  for (guint i = 0; i < 2; i++)
    confab_test_response_set_body (confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200),
                                   reply);
  confab_test_response_set_body (confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200),
                                 longer_reply);

  type_and_send (fixture, "Tell me a lot");
  WAIT_FOR (n_messages (fixture) == 2);
  first = message_at (fixture, 1);
  WAIT_FOR (confab_message_get_state (first) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (gtk_adjustment_get_upper (adjustment) > 8 * gtk_adjustment_get_page_size (adjustment) &&
            end_in_view (fixture, first));

  /* Scrolled up to read: it stays there. */
  gtk_adjustment_set_value (adjustment, 0);
  wait_frames (fixture, 5);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), ==, 0);
  g_assert_false (end_in_view (fixture, first));

  /* Sending goes to the end, and follows the new reply to its end. */
  upper = gtk_adjustment_get_upper (adjustment);
  type_and_send (fixture, "And more");
  WAIT_FOR (n_messages (fixture) == 4);
  second = message_at (fixture, 3);
  WAIT_FOR (confab_message_get_state (second) == CONFAB_MESSAGE_COMPLETE);
  WAIT_FOR (gtk_adjustment_get_upper (adjustment) > upper + 8 * gtk_adjustment_get_page_size (adjustment) &&
            end_in_view (fixture, second));

  /* Page Up while a reply comes in (it is rendered over many frames):
   * the view stays where the user took it. */
  upper = gtk_adjustment_get_upper (adjustment);
  page = gtk_adjustment_get_page_size (adjustment);
  type_and_send (fixture, "Even more");
  WAIT_FOR (n_messages (fixture) == 6);
  third = message_at (fixture, 5);
  WAIT_FOR (gtk_adjustment_get_upper (adjustment) > upper + 2 * page && end_in_view (fixture, third));
  g_signal_emit_by_name (scroller, "scroll-child", GTK_SCROLL_PAGE_BACKWARD, FALSE, &handled);
  g_assert_true (handled);
  WAIT_FOR (confab_message_get_state (third) == CONFAB_MESSAGE_COMPLETE);
  /* The scroll is animated; then the view rests, well away from the end. */
  do
    {
      value = gtk_adjustment_get_value (adjustment);
      wait_frames (fixture, 5);
    }
  while (gtk_adjustment_get_value (adjustment) != value);
  g_assert_cmpfloat (value + page, <, gtk_adjustment_get_upper (adjustment) - page);
  g_assert_false (end_in_view (fixture, third));

  /* Back at the end, the view follows again, until all of the reply is
   * there. */
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) - page);
  do
    {
      upper = gtk_adjustment_get_upper (adjustment);
      wait_frames (fixture, 5);
    }
  while (gtk_adjustment_get_upper (adjustment) != upper);
  g_assert_cmpfloat (upper, >, 30 * page);
  g_assert_true (end_in_view (fixture, third));
}

/* Where @message's row is in the chat's view: its top, or G_MAXDOUBLE
 * when it is not on screen. */
static double
row_top (Fixture       *fixture,
         ConfabMessage *message)
{
  GtkWidget *scroller = GTK_WIDGET (child (fixture, "scroller"));
  GtkWidget *row = row_for (scroller, message);
  graphene_rect_t bounds;

  if (row == NULL || !gtk_widget_get_mapped (row) || !gtk_widget_compute_bounds (row, scroller, &bounds) ||
      bounds.origin.y + bounds.size.height <= 0 || bounds.origin.y >= gtk_widget_get_height (scroller))
    return G_MAXDOUBLE;
  return bounds.origin.y;
}

/* Scrolling up to the top of what is shown brings older messages in
 * above it, and what the user was reading stays where it was. */
static void
test_older_keep_place (Fixture       *fixture,
                       gconstpointer  data)
{
  ConfabStore *store = confab_application_get_store (fixture->app);
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (child (fixture, "scroller")));
  g_autoptr(ConfabMessage) reading = NULL;
  guint shown;
  double top;

  confab_conversation_set_title (draft, "Long");
  confab_store_create_conversation_async (store, draft, NULL, result_cb, &result);
  WAIT_FOR (result != NULL);
  conversation = confab_store_create_conversation_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  for (guint i = 0; i < 120; i++)
    {
      g_autofree char *text = g_strdup_printf ("Message %u", i);
      g_autoptr(ConfabMessage) message = confab_message_new (i % 2 ? CONFAB_ROLE_ASSISTANT : CONFAB_ROLE_USER, text);

      confab_store_add_message_async (store, confab_conversation_get_id (conversation), message, NULL, result_cb, &result);
      WAIT_FOR (result != NULL);
      g_assert_cmpint (confab_store_add_message_finish (store, result, &error), >, 0);
      g_clear_object (&result);
    }

  confab_window_show_conversation (fixture->window, confab_conversation_get_id (conversation));
  WAIT_FOR (n_messages (fixture) > 0);
  shown = n_messages (fixture);
  reading = g_object_ref (message_at (fixture, 0));
  WAIT_FOR (gtk_adjustment_get_upper (adjustment) > gtk_adjustment_get_page_size (adjustment) &&
            gtk_adjustment_get_value (adjustment) > 0);

  /* The user scrolls to the oldest message shown. */
  gtk_adjustment_set_value (adjustment, 0);
  WAIT_FOR (n_messages (fixture) > shown);
  wait_frames (fixture, 5);
  top = row_top (fixture, reading);
  g_assert_cmpfloat (top, <, gtk_adjustment_get_page_size (adjustment));
  g_assert_cmpfloat (top, >=, 0);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), >, 100);

  /* The scroll bar agrees with what is drawn: scrolling up a little moves
   * the row down by as much. */
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_value (adjustment) - 100);
  wait_frames (fixture, 3);
  g_assert_cmpfloat (fabs (row_top (fixture, reading) - (top + 100)), <, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      if (g_strcmp0 (g_getenv ("CONFAB_REQUIRE_DISPLAY"), "1") == 0)
        g_error ("No display, but CONFAB_REQUIRE_DISPLAY=1");
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }

  /* Windows of other tests on the same display take the focus at times,
   * and there is no notification service here: notifications are off. */
  {
    g_autoptr(GSettings) settings = g_settings_new ("io.github.confab.Confab");
    g_settings_set_boolean (settings, "notify-when-done", FALSE);
  }

  g_test_add ("/window/close-while-asking", Fixture, NULL, fixture_setup,
              test_close_while_asking, fixture_teardown);
  g_test_add ("/window/tool-access-persists", Fixture, NULL, fixture_setup,
              test_tool_access_persists, fixture_teardown);
  g_test_add ("/window/long-line-paste", Fixture, NULL, fixture_setup,
              test_long_line_paste, fixture_teardown);
  g_test_add ("/window/long-message", Fixture, NULL, fixture_setup,
              test_long_message, fixture_teardown);
  g_test_add ("/window/follows-long-reply", Fixture, NULL, fixture_setup,
              test_follows_long_reply, fixture_teardown);
  g_test_add ("/window/older-keep-place", Fixture, NULL, fixture_setup,
              test_older_keep_place, fixture_teardown);
  g_test_add ("/window/large-paste", Fixture, NULL, fixture_setup,
              test_large_paste, fixture_teardown);
  g_test_add ("/window/tool-approval-card", Fixture, NULL, fixture_setup,
              test_tool_approval_card, fixture_teardown);
  g_test_add ("/window/opens-with-composer-focused", Fixture, NULL, fixture_setup,
              test_opens_with_composer_focused, fixture_teardown);
  g_test_add ("/window/send-streams-and-saves", Fixture, NULL, fixture_setup,
              test_send_streams_and_saves, fixture_teardown);
  g_test_add ("/window/escape-stops", Fixture, NULL, fixture_setup,
              test_escape_stops, fixture_teardown);
  g_test_add ("/window/new-chat", Fixture, NULL, fixture_setup,
              test_new_chat, fixture_teardown);
  g_test_add ("/window/search-enter-opens-best-hit", Fixture, NULL, fixture_setup,
              test_search_enter_opens_best_hit, fixture_teardown);
  g_test_add ("/window/delete-and-undo", Fixture, NULL, fixture_setup,
              test_delete_and_undo, fixture_teardown);
  g_test_add ("/window/retry-after-failure", Fixture, NULL, fixture_setup,
              test_retry_after_failure, fixture_teardown);
  g_test_add ("/window/show-conversation", Fixture, NULL, fixture_setup,
              test_show_conversation, fixture_teardown);
  g_test_add ("/window/edit-last", Fixture, NULL, fixture_setup,
              test_edit_last, fixture_teardown);
  g_test_add ("/window/pin-and-archive", Fixture, NULL, fixture_setup,
              test_pin_and_archive, fixture_teardown);
  g_test_add ("/window/find-in-chat", Fixture, NULL, fixture_setup,
              test_find_in_chat, fixture_teardown);
  g_test_add ("/window/default-system-prompt", Fixture, NULL, fixture_setup,
              test_default_system_prompt, fixture_teardown);
  g_test_add ("/window/long-conversation", Fixture, NULL, fixture_setup,
              test_long_conversation, fixture_teardown);
  g_test_add ("/window/preferences", Fixture, NULL, fixture_setup,
              test_preferences, fixture_teardown);
  g_test_add ("/window/preferences-mcp-unreadable", Fixture, NULL, mcp_unreadable_setup,
              test_preferences_mcp_unreadable, mcp_unreadable_teardown);
  g_test_add ("/window/default-model", Fixture, NULL, fixture_setup,
              test_default_model, fixture_teardown);
  g_test_add ("/window/models-grouped", Fixture, NULL, fixture_setup,
              test_models_grouped, fixture_teardown);
  g_test_add ("/window/first-run-finds-server", Fixture, "Test=openai=@URL@/v1", fixture_setup,
              test_first_run_finds_server, fixture_teardown);
  /* Port 9 (discard) on loopback: nothing answers there. */
  g_test_add ("/window/first-run-welcome", Fixture, "Nothing=openai=http://127.0.0.1:9/v1", fixture_setup,
              test_first_run_welcome, fixture_teardown);

  return g_test_run ();
}
