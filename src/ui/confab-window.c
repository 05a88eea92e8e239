/* confab-window.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "confab-message-row.h"
#include "confab-window.h"

/* The main window: conversations on the left, the chat on the right.
 * Everything that waits (the store, the network) is asynchronous; a
 * reply streams into its row, which renders at most once per frame, and
 * keeps streaming when the user switches to another conversation. */

#define LIST_LIMIT 500
/* Messages shown when a conversation opens, and added per scroll. */
#define MESSAGES_PAGE 40

typedef struct
{
  ConfabProvider *provider;
  char           *provider_name;
  char           *model;
} ModelChoice;

/* A reply being generated, per conversation: several may run at once. */
typedef struct
{
  ConfabWindow  *window;
  gint64         conversation_id;
  ConfabMessage *user_message;
  gint64         user_parent_id;
  ConfabMessage *reply_message;
  ConfabAgent   *agent;
  GCancellable  *cancellable;
  char          *prompt;
  char          *system_prompt;
  ModelChoice   *choice;
} Turn;

struct _ConfabWindow
{
  AdwApplicationWindow  parent_instance;

  ConfabStore          *store;
  GSettings            *settings;
  GtkCssProvider       *font_css;
  GStrv                 local_servers;
  GListStore           *conversations;
  GListStore           *messages;
  GListStore           *search_results;
  GtkSingleSelection   *conversation_selection;
  GPtrArray            *choices;
  GtkStringList        *choice_names;
  GHashTable           *turns;
  /* Per conversation: the agent that keeps the folders granted to its
   * tools and the tools allowed for the whole conversation. */
  GHashTable           *agents;
  /* Folders granted in a new chat, before it is a conversation. */
  ConfabToolContext    *draft_context;
  GSimpleAction        *private_network_action;
  GCancellable         *search_cancellable;
  /* Enter was pressed in the search field: the next search to answer
   * opens its best hit. */
  gboolean              open_best_hit;
  GCancellable         *load_cancellable;
  gint64                conversation_id;
  /* The record of the conversation shown (from the sidebar, a search or
   * the store), or NULL for a new chat. */
  ConfabConversation   *shown_conversation;
  gboolean              stick_to_bottom;
  gboolean              laying_out;      /* within a frame, from before-paint to after-paint */
  GdkFrameClock        *frame_clock;
  guint                 pending_choice_lists;

  /* A long conversation shows its newest messages first; older ones are
   * added as the user scrolls up. */
  GPtrArray            *older;
  gboolean              prepending;      /* older messages added, not laid out yet */
  double                last_scroll_value;

  /* The user's message being edited with Up, to resend as a new branch. */
  ConfabMessage        *editing;

  /* Deleted, but only for real once its undo toast is gone. */
  ConfabConversation   *pending_delete;
  AdwToast             *delete_toast;

  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *content;
  GtkButton            *back_button;
  GtkSearchEntry       *search_entry;
  GtkStack             *sidebar_stack;
  GtkListView          *conversation_list;
  GtkListView          *search_list;
  AdwWindowTitle       *chat_title;
  GtkDropDown          *model_dropdown;
  GtkStack             *chat_stack;
  AdwStatusPage        *empty_page;
  GtkWidget            *welcome_box;
  GtkScrolledWindow    *scroller;
  GtkListView          *message_list;
  GtkTextView          *composer_view;
  GtkWidget            *fold_bar;
  GtkWidget            *fold_show_all_button;
  GtkTextTag           *fold_tag;
  /* The user asked to see the long lines whole: no folding until the
   * composer is empty again. */
  gboolean              fold_off;
  GtkScrolledWindow    *composer_scroller;
  GtkStack             *send_stack;
  GtkSearchBar         *find_bar;
  GtkSearchEntry       *find_entry;
  GtkLabel             *find_label;
  guint                 find_position;
};

G_DEFINE_FINAL_TYPE (ConfabWindow, confab_window, ADW_TYPE_APPLICATION_WINDOW)

static void
model_choice_free (gpointer data)
{
  ModelChoice *choice = data;

  g_clear_object (&choice->provider);
  g_free (choice->provider_name);
  g_free (choice->model);
  g_free (choice);
}

static void
turn_free (gpointer data)
{
  Turn *turn = data;

  /* The turn holds the window until its reply ended, so the reply's
   * callbacks never find it gone. */
  g_clear_object (&turn->window);
  g_clear_object (&turn->user_message);
  g_clear_object (&turn->reply_message);
  if (turn->agent != NULL)
    g_signal_handlers_disconnect_by_data (turn->agent, turn);
  g_clear_object (&turn->agent);
  g_clear_object (&turn->cancellable);
  g_free (turn->prompt);
  g_free (turn->system_prompt);
  g_free (turn);
}

static void
toast (ConfabWindow *self,
       const char   *message)
{
  /* A turn stopped by the window's closing reports after its widgets
   * are gone. */
  if (self->toast_overlay != NULL)
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

/* The settings, or %NULL when the schema is not installed (a binary run
 * straight from a build tree): then the defaults apply. */
static GSettings *
settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "io.github.confab.Confab", TRUE);
  if (schema == NULL)
    {
      g_debug ("The io.github.confab.Confab settings schema is not installed; using defaults");
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

/* The message font and size from Preferences, as a style for the rows. */
static void
update_message_font (ConfabWindow *self)
{
  g_autofree char *font = g_settings_get_string (self->settings, "message-font");
  double scale = g_settings_get_double (self->settings, "message-font-scale");
  g_autoptr(GString) css = g_string_new (".message {");
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (font[0] != '\0')
    {
      g_autoptr(PangoFontDescription) description = pango_font_description_from_string (font);
      const char *family = pango_font_description_get_family (description);

      if (family != NULL)
        g_string_append_printf (css, " font-family: \"%s\";", family);
    }
  g_string_append_printf (css, " font-size: %s%%; }", g_ascii_dtostr (buffer, sizeof buffer, scale * 100.0));

  gtk_css_provider_load_from_data (self->font_css, css->str, -1);
}

static gboolean
setting_enabled (ConfabWindow *self,
                 const char   *key,
                 gboolean      fallback)
{
  return self->settings != NULL ? g_settings_get_boolean (self->settings, key) : fallback;
}

static Turn *
current_turn (ConfabWindow *self)
{
  return g_hash_table_lookup (self->turns, &self->conversation_id);
}

static void
update_send_state (ConfabWindow *self)
{
  gboolean generating = self->conversation_id != 0 && current_turn (self) != NULL;

  if (self->send_stack == NULL)
    return;
  gtk_stack_set_visible_child_name (self->send_stack, generating ? "stop" : "send");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", generating);
}

static void
show_chat_page (ConfabWindow *self)
{
  if (self->store == NULL)
    gtk_stack_set_visible_child_name (self->chat_stack, "loading");
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->messages)) > 0)
    gtk_stack_set_visible_child_name (self->chat_stack, "chat");
  else
    gtk_stack_set_visible_child_name (self->chat_stack, "empty");
}

static ModelChoice *
selected_choice (ConfabWindow *self)
{
  guint position = gtk_drop_down_get_selected (self->model_dropdown);

  if (position == GTK_INVALID_LIST_POSITION || position >= self->choices->len)
    return NULL;
  return g_ptr_array_index (self->choices, position);
}

/* Conversations */

static void
refresh_conversations_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(GError) error = NULL;
  guint selected = GTK_INVALID_LIST_POSITION;

  conversations = confab_store_list_conversations_finish (CONFAB_STORE (object), result, &error);
  if (conversations == NULL)
    {
      toast (self, error->message);
      return;
    }

  /* One deleted but still undoable is not shown. */
  for (guint i = 0; self->pending_delete != NULL && i < conversations->len; i++)
    if (confab_conversation_get_id (g_ptr_array_index (conversations, i)) ==
        confab_conversation_get_id (self->pending_delete))
      g_ptr_array_remove_index (conversations, i--);

  for (guint i = 0; i < conversations->len; i++)
    if (confab_conversation_get_id (g_ptr_array_index (conversations, i)) == self->conversation_id)
      selected = i;

  g_list_store_splice (self->conversations, 0, g_list_model_get_n_items (G_LIST_MODEL (self->conversations)),
                       conversations->pdata, conversations->len);
  gtk_single_selection_set_selected (self->conversation_selection, selected);
}

static void
refresh_conversations (ConfabWindow *self)
{
  if (self->store == NULL)
    return;
  confab_store_list_conversations_async (self->store, LIST_LIMIT, FALSE, NULL,
                                         refresh_conversations_cb, g_object_ref (self));
}

static void
stick_to_bottom (ConfabWindow *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  if (self->stick_to_bottom)
    gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment)
                                          - gtk_adjustment_get_page_size (adjustment));
}

static void show_older (ConfabWindow *self,
                        guint         count);

/* Follows the end of the conversation from now on (see
 * frame_laid_out_cb()). */
static void
scroll_to_bottom (ConfabWindow *self)
{
  self->stick_to_bottom = TRUE;
  if (self->scroller != NULL)
    gtk_widget_queue_allocate (GTK_WIDGET (self->scroller));
}

static void
adjustment_changed_cb (GtkAdjustment *adjustment,
                       ConfabWindow  *self)
{
  /* Older messages went in above and are laid out. The list view keeps
   * the item it shows in place by itself (it scrolls relative to an item,
   * not a pixel). */
  self->prepending = FALSE;
}

/* Page Up and the other scrolling keys animate the scroll over the next
 * frames: the user's wish to leave the end is known now. */
static gboolean
scroll_child_cb (GtkScrolledWindow *scroller,
                 GtkScrollType      scroll,
                 gboolean           horizontal,
                 ConfabWindow      *self)
{
  if (!horizontal && (scroll == GTK_SCROLL_STEP_BACKWARD || scroll == GTK_SCROLL_STEP_UP ||
                      scroll == GTK_SCROLL_PAGE_BACKWARD || scroll == GTK_SCROLL_PAGE_UP ||
                      scroll == GTK_SCROLL_START))
    self->stick_to_bottom = FALSE;
  return FALSE;
}

static void
adjustment_value_changed_cb (GtkAdjustment *adjustment,
                             ConfabWindow  *self)
{
  /* Following the end of a growing reply, unless the user scrolled up to
   * read something else. What moves the value within a frame is the list
   * laying itself out, or a smaller composer, not the user. */
  if (!self->laying_out)
    self->stick_to_bottom = gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment)
                            >= gtk_adjustment_get_upper (adjustment) - 24;

  /* Scrolling up near the top: the next older messages. (Not while the
   * list is laid out: the value only goes down when the user scrolls.) */
  if (gtk_adjustment_get_value (adjustment) < self->last_scroll_value &&
      gtk_adjustment_get_value (adjustment) < gtk_adjustment_get_page_size (adjustment) &&
      !self->prepending)
    show_older (self, MESSAGES_PAGE);
  self->last_scroll_value = gtk_adjustment_get_value (adjustment);
}

static void
older_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  GtkAdjustment *adjustment;

  messages = confab_store_load_messages_page_finish (CONFAB_STORE (object), result, &error);
  if (messages == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }

  g_clear_pointer (&self->older, g_ptr_array_unref);
  if (messages->len > 0)
    self->older = g_steal_pointer (&messages);

  /* The user already scrolled up to the top while they were read. */
  adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  if (!self->stick_to_bottom && gtk_adjustment_get_value (adjustment) < gtk_adjustment_get_page_size (adjustment))
    show_older (self, MESSAGES_PAGE);
}

static void
messages_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  Turn *turn;

  messages = confab_store_load_messages_page_finish (CONFAB_STORE (object), result, &error);
  if (messages == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }

  /* A turn running in this conversation shows live, not as stored: its
   * streaming reply, its tools' cards (with their questions), and what
   * it added that is not on disk yet. */
  turn = current_turn (self);
  if (turn != NULL && turn->agent != NULL)
    {
      GPtrArray *live = confab_agent_get_messages (turn->agent);
      gint64 newest = 0;

      for (guint i = 0; i < messages->len; i++)
        newest = MAX (newest, confab_message_get_id (g_ptr_array_index (messages, i)));

      for (guint j = 0; j < live->len; j++)
        {
          ConfabMessage *message = g_ptr_array_index (live, j);
          gboolean found = FALSE;

          for (guint i = 0; i < messages->len && !found; i++)
            if (confab_message_get_id (message) > 0 &&
                confab_message_get_id (g_ptr_array_index (messages, i)) == confab_message_get_id (message))
              {
                g_object_unref (g_ptr_array_index (messages, i));
                messages->pdata[i] = g_object_ref (message);
                found = TRUE;
              }
          /* Not in this page: newer than it (or not stored yet) goes at
           * the end; older is in the pages above. */
          if (!found && (confab_message_get_id (message) <= 0 || confab_message_get_id (message) > newest))
            g_ptr_array_add (messages, g_object_ref (message));
        }
    }

  g_clear_pointer (&self->older, g_ptr_array_unref);
  g_list_store_splice (self->messages, 0, g_list_model_get_n_items (G_LIST_MODEL (self->messages)),
                       messages->pdata, messages->len);
  show_chat_page (self);
  scroll_to_bottom (self);

  /* The rest of a long conversation, on the store's thread, while the
   * newest page is drawn; scrolling up and finding show it. */
  if (messages->len > 0 && confab_message_get_parent_id (g_ptr_array_index (messages, 0)) > 0)
    confab_store_load_messages_page_async (self->store, self->conversation_id,
                                           confab_message_get_parent_id (g_ptr_array_index (messages, 0)),
                                           G_MAXUINT, self->load_cancellable,
                                           older_loaded_cb, g_object_ref (self));
}

/* Opens the current branch of the conversation: its newest messages
 * first, so that even a long one shows at once. */
static void
load_messages (ConfabWindow *self)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  confab_store_load_messages_page_async (self->store, self->conversation_id, 0, MESSAGES_PAGE,
                                         self->load_cancellable, messages_loaded_cb, g_object_ref (self));
}

/* Adds up to @count older messages at the top, keeping what is on screen
 * where it is. */
static void
show_older (ConfabWindow *self,
            guint         count)
{
  guint n;

  if (self->older == NULL || self->older->len == 0)
    return;

  n = MIN (count, self->older->len);
  self->prepending = TRUE;
  g_list_store_splice (self->messages, 0, 0, self->older->pdata + (self->older->len - n), n);
  g_ptr_array_remove_range (self->older, self->older->len - n, n);
}

static void sync_private_network (ConfabWindow *self);

static void
open_conversation (ConfabWindow       *self,
                   ConfabConversation *conversation)
{
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);

  self->conversation_id = conversation != NULL ? confab_conversation_get_id (conversation) : 0;
  g_set_object (&self->shown_conversation, conversation);
  g_clear_object (&self->editing);
  sync_private_network (self);
  g_clear_pointer (&self->older, g_ptr_array_unref);
  g_list_store_remove_all (self->messages);
  update_send_state (self);

  if (conversation == NULL)
    {
      adw_window_title_set_title (self->chat_title, _("New Chat"));
      show_chat_page (self);
      return;
    }

  adw_window_title_set_title (self->chat_title, confab_conversation_get_title (conversation));
  adw_window_title_set_subtitle (self->chat_title, confab_conversation_get_model (conversation) != NULL
                                                   ? confab_conversation_get_model (conversation) : "");
  load_messages (self);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
conversation_activated_cb (GtkListView  *list,
                           guint         position,
                           ConfabWindow *self)
{
  g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), position);

  open_conversation (self, conversation);
}

static void
search_result_activated_cb (GtkListView  *list,
                            guint         position,
                            ConfabWindow *self)
{
  g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (self->search_results), position);

  open_conversation (self, conversation);
}

/* Search */

static void
search_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;

  hits = confab_store_search_finish (CONFAB_STORE (object), result, &error);
  if (hits == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }

  g_list_store_remove_all (self->search_results);
  for (guint i = 0; i < hits->len; i++)
    {
      ConfabSearchHit *hit = g_ptr_array_index (hits, i);
      g_autoptr(ConfabConversation) item = confab_conversation_new (hit->conversation_id);

      confab_conversation_set_title (item, hit->title);
      g_object_set_data_full (G_OBJECT (item), "snippet", g_strdup (hit->snippet), g_free);
      g_list_store_append (self->search_results, item);
    }

  gtk_stack_set_visible_child_name (self->sidebar_stack, hits->len > 0 ? "results" : "no-results");

  if (self->open_best_hit && hits->len > 0)
    {
      g_autoptr(ConfabConversation) best = g_list_model_get_item (G_LIST_MODEL (self->search_results), 0);

      open_conversation (self, best);
      gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
    }
  self->open_best_hit = FALSE;
}

static void
search_changed_cb (GtkSearchEntry *entry,
                   ConfabWindow   *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  /* The previous keystroke's search stops at once (see the store). */
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);

  if (stripped[0] == '\0' || self->store == NULL)
    {
      self->open_best_hit = FALSE;
      gtk_stack_set_visible_child_name (self->sidebar_stack, "conversations");
      return;
    }

  self->search_cancellable = g_cancellable_new ();
  confab_store_search_async (self->store, stripped, 50, self->search_cancellable,
                             search_cb, g_object_ref (self));
}

/* Enter opens the best hit, so Ctrl+K, a word, Enter finds a chat
 * without the mouse. The entry waits for a pause in typing before it
 * searches, so search what is typed now rather than what was. */
static void
search_activate_cb (GtkSearchEntry *entry,
                    ConfabWindow   *self)
{
  self->open_best_hit = TRUE;
  search_changed_cb (entry, self);
}

static void
stop_search_cb (GtkSearchEntry *entry,
                ConfabWindow   *self)
{
  self->open_best_hit = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

/* Models */

static void providers_listed_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data);

/* First run with nothing that answers: the common providers, one click
 * from a prefilled form in Preferences. */
static void
show_welcome (ConfabWindow *self)
{
  adw_status_page_set_title (self->empty_page, _("Welcome to Confab"));
  adw_status_page_set_description (self->empty_page,
                                   _("No model server answered on this computer. Start Ollama or "
                                     "llama.cpp’s server, or choose a provider:"));
  gtk_widget_set_visible (self->welcome_box, TRUE);
}

/* Called again when providers change (Preferences): the list is rebuilt. */
void
confab_window_reload_providers (ConfabWindow *self)
{
  g_return_if_fail (CONFAB_IS_WINDOW (self));

  if (self->store == NULL || self->pending_choice_lists > 0)
    return;
  g_ptr_array_set_size (self->choices, 0);
  gtk_widget_set_visible (self->welcome_box, FALSE);
  adw_status_page_set_title (self->empty_page, _("New Chat"));
  adw_status_page_set_description (self->empty_page, NULL);
  confab_store_list_providers_async (self->store, NULL, providers_listed_cb, g_object_ref (self));
}

static void
rebuild_choice_names (ConfabWindow *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->choices->len; i++)
    {
      ModelChoice *choice = g_ptr_array_index (self->choices, i);

      /* Translators: a model in the model menu: "model · server" */
      g_ptr_array_add (names, g_strdup_printf (_("%s · %s"), choice->model, choice->provider_name));
    }
  g_ptr_array_add (names, NULL);

  gtk_string_list_splice (self->choice_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->choice_names)),
                          (const char * const *)names->pdata);

  /* The default model from Preferences, when it is among them. */
  if (self->settings != NULL)
    {
      g_autofree char *provider = g_settings_get_string (self->settings, "default-provider");
      g_autofree char *model = g_settings_get_string (self->settings, "default-model");

      for (guint i = 0; model[0] != '\0' && i < self->choices->len; i++)
        {
          ModelChoice *choice = g_ptr_array_index (self->choices, i);

          if (g_str_equal (choice->model, model) &&
              (provider[0] == '\0' || g_str_equal (choice->provider_name, provider)))
            {
              gtk_drop_down_set_selected (self->model_dropdown, i);
              break;
            }
        }
    }
}

/* The model menu lists each provider's models under its name: GtkDropDown
 * has no sections, so the first model of a provider carries the name as a
 * heading above it. The button keeps "model · provider". */
static void
setup_model_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *heading = gtk_label_new (NULL);
  GtkWidget *model = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "provider-heading");
  gtk_widget_add_css_class (heading, "dim-label");
  gtk_widget_add_css_class (heading, "caption-heading");
  gtk_widget_set_margin_top (heading, 6);
  gtk_label_set_xalign (GTK_LABEL (model), 0);
  gtk_label_set_ellipsize (GTK_LABEL (model), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (model), 40);
  gtk_box_append (GTK_BOX (box), heading);
  gtk_box_append (GTK_BOX (box), model);
  gtk_list_item_set_child (item, box);
}

static void
bind_model_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               ConfabWindow             *self)
{
  guint position = gtk_list_item_get_position (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *heading = gtk_widget_get_first_child (box);
  GtkWidget *model = gtk_widget_get_last_child (box);
  ModelChoice *choice;
  ModelChoice *previous;
  g_autofree char *description = NULL;

  if (position >= self->choices->len)
    return;
  choice = g_ptr_array_index (self->choices, position);
  previous = position > 0 ? g_ptr_array_index (self->choices, position - 1) : NULL;

  gtk_label_set_text (GTK_LABEL (heading), choice->provider_name);
  gtk_widget_set_visible (heading, previous == NULL || g_strcmp0 (previous->provider_name, choice->provider_name) != 0);
  gtk_label_set_text (GTK_LABEL (model), choice->model);

  /* Screen readers hear the provider with every model, not only with the
   * first one under the heading. */
  /* Translators: a model in the model menu: "model · server" */
  description = g_strdup_printf (_("%s · %s"), choice->model, choice->provider_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
}

typedef struct
{
  ConfabWindow   *window;
  ConfabProvider *provider;
  char           *name;
} ListModels;

static void
models_listed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ListModels *list = user_data;
  g_autoptr(ConfabWindow) self = list->window;
  g_autoptr(ConfabProvider) provider = list->provider;
  g_autofree char *name = list->name;
  g_auto(GStrv) models = NULL;
  g_autoptr(GError) error = NULL;

  g_free (list);

  models = confab_provider_list_models_finish (provider, result, &error);
  if (models == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not list the models of %s: %s"), name, error->message);
      toast (self, message);
    }

  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    {
      ModelChoice *choice = g_new0 (ModelChoice, 1);

      choice->provider = g_object_ref (provider);
      choice->provider_name = g_strdup (name);
      choice->model = g_strdup (models[i]);
      g_ptr_array_add (self->choices, choice);
    }

  if (--self->pending_choice_lists == 0)
    {
      rebuild_choice_names (self);
      if (self->choices->len == 0)
        show_welcome (self);
    }
}

static void
add_provider (ConfabWindow   *self,
              ConfabProvider *provider,
              const char     *name)
{
  ListModels *list = g_new0 (ListModels, 1);

  list->window = g_object_ref (self);
  list->provider = g_object_ref (provider);
  list->name = g_strdup (name);
  self->pending_choice_lists++;
  confab_provider_list_models_async (provider, NULL, models_listed_cb, list);
}

static void
discovered_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) servers = NULL;
  g_autoptr(GError) error = NULL;

  servers = confab_discover_local_servers_finish (result, &error);
  self->pending_choice_lists--;
  /* No longer looking: the welcome page says what comes instead. */
  adw_status_page_set_description (self->empty_page, NULL);

  for (guint i = 0; servers != NULL && i < servers->len; i++)
    {
      ConfabDiscoveredServer *server = g_ptr_array_index (servers, i);
      g_autoptr(ConfabProvider) provider = confab_provider_new_for_api (server->api, server->base_url, NULL);

      if (provider != NULL)
        add_provider (self, provider, server->name);
      if (i == 0)
        {
          /* Translators: %s is a local server such as Ollama */
          g_autofree char *message = g_strdup_printf (_("Using %s, found on this computer"), server->name);
          toast (self, message);
        }
    }

  if (self->pending_choice_lists == 0)
    {
      rebuild_choice_names (self);
      if (self->choices->len == 0)
        show_welcome (self);
    }
}

typedef struct
{
  ConfabWindow         *window;
  ConfabProviderConfig *config;
} KeyLookup;

static void
key_found_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  KeyLookup *lookup = user_data;
  g_autoptr(ConfabWindow) self = lookup->window;
  g_autoptr(ConfabProviderConfig) config = lookup->config;
  g_autoptr(ConfabProvider) provider = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) key = NULL;

  g_free (lookup);

  key = confab_secrets_lookup_key_finish (result, &error);
  if (error != NULL)
    toast (self, error->message);

  provider = confab_provider_config_create_provider (config, key, &error);
  self->pending_choice_lists--;
  if (provider != NULL)
    add_provider (self, provider, confab_provider_config_get_name (config));
  else
    toast (self, error->message);

  if (self->pending_choice_lists == 0)
    rebuild_choice_names (self);
}

static void
providers_listed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;

  configs = confab_store_list_providers_finish (CONFAB_STORE (object), result, &error);
  if (configs == NULL)
    toast (self, error->message);

  /* First run: nothing configured, so look for a local server. */
  if (configs == NULL || configs->len == 0)
    {
      self->pending_choice_lists++;
      adw_status_page_set_description (self->empty_page, _("Looking for model servers on this computer…"));
      confab_discover_local_servers_async ((const char * const *)self->local_servers, NULL,
                                           discovered_cb, g_object_ref (self));
      return;
    }

  for (guint i = 0; i < configs->len; i++)
    {
      ConfabProviderConfig *config = g_ptr_array_index (configs, i);
      KeyLookup *lookup = g_new0 (KeyLookup, 1);

      lookup->window = g_object_ref (self);
      lookup->config = g_object_ref (config);
      self->pending_choice_lists++;
      confab_secrets_lookup_key_async (confab_provider_config_get_name (config), NULL, key_found_cb, lookup);
    }
}

/* Sending */

static ConfabMessageRow *
find_row (GtkWidget     *widget,
          ConfabMessage *message)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      ConfabMessageRow *row;

      if (CONFAB_IS_MESSAGE_ROW (child))
        {
          if (confab_message_row_get_message (CONFAB_MESSAGE_ROW (child)) == message)
            return CONFAB_MESSAGE_ROW (child);
          continue;
        }
      if ((row = find_row (child, message)) != NULL)
        return row;
    }
  return NULL;
}

static void
refresh_message_item (ConfabWindow  *self,
                      ConfabMessage *message)
{
  ConfabMessageRow *row;
  guint position;

  if (self->message_list == NULL)
    return;
  row = find_row (GTK_WIDGET (self->message_list), message);

  /* The row showing it updates in place (a reply that just finished keeps
   * what it rendered); otherwise rebinding shows the new state. */
  if (row != NULL)
    confab_message_row_set_message (row, message);
  else if (g_list_store_find (self->messages, message, &position))
    g_list_model_items_changed (G_LIST_MODEL (self->messages), position, 1, 1);
}

static void
turn_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Turn *turn = user_data;
  g_autoptr(ConfabWindow) self = g_object_ref (turn->window);
  g_autoptr(GError) error = NULL;
  ConfabMessage *message = turn->reply_message;
  ConfabAgentOutcome outcome = CONFAB_AGENT_FINAL;

  if (!confab_agent_run_finish (CONFAB_AGENT (object), result, &outcome, &error))
    {
      /* A key, an address or a server to fix: Preferences is one click. */
      if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_AUTH) ||
          g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_NETWORK) ||
          g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_NOT_FOUND))
        {
          AdwToast *offer = adw_toast_new (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_AUTH)
                                           ? _("The server refused the API key")
                                           : _("The server could not be reached"));

          adw_toast_set_button_label (offer, _("_Preferences"));
          adw_toast_set_action_name (offer, "app.preferences");
          if (self->toast_overlay != NULL)
            adw_toast_overlay_add_toast (self->toast_overlay, offer);
          else
            g_object_unref (offer);
        }
    }
  else if (outcome == CONFAB_AGENT_STEP_LIMIT)
    {
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "Stopped after %u step: the model was still calling tools",
                                                            "Stopped after %u steps: the model was still calling tools",
                                                            confab_agent_get_max_steps (turn->agent)),
                                               confab_agent_get_max_steps (turn->agent));
      toast (self, text);
    }

  /* Someone waiting elsewhere learns the reply is there; the notification
   * brings them back to its conversation. */
  if (message != NULL && !gtk_window_is_active (GTK_WINDOW (self)) &&
      confab_message_get_state (message) != CONFAB_MESSAGE_STOPPED &&
      setting_enabled (self, "notify-when-done", TRUE))
    {
      g_autoptr(GNotification) notification = NULL;
      g_autofree char *id = g_strdup_printf ("reply-%" G_GINT64_FORMAT, turn->conversation_id);
      g_autofree char *body = g_utf8_substring (confab_message_get_state (message) == CONFAB_MESSAGE_FAILED
                                                ? confab_message_get_error (message)
                                                : confab_message_get_content (message), 0, 120);

      notification = g_notification_new (confab_message_get_state (message) == CONFAB_MESSAGE_FAILED
                                         ? _("The reply failed") : _("The reply is ready"));
      g_notification_set_body (notification, body);
      g_notification_set_default_action_and_target (notification, "app.show-conversation", "x",
                                                    turn->conversation_id);
      g_application_send_notification (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                       id, notification);
    }

  g_hash_table_remove (self->turns, &turn->conversation_id);
  update_send_state (self);
  refresh_conversations (self);
}

static void
agent_message_added_cb (ConfabAgent   *agent,
                        ConfabMessage *message,
                        Turn          *turn)
{
  ConfabWindow *self = turn->window;

  if (confab_message_get_role (message) == CONFAB_ROLE_ASSISTANT)
    g_set_object (&turn->reply_message, message);
  if (turn->conversation_id == self->conversation_id)
    g_list_store_append (self->messages, message);
}

static void
agent_step_started_cb (ConfabAgent   *agent,
                       ConfabMessage *message,
                       ConfabReply   *reply,
                       Turn          *turn)
{
  confab_message_set_live_reply (message, reply);
  refresh_message_item (turn->window, message);
}

static void
agent_message_updated_cb (ConfabAgent   *agent,
                          ConfabMessage *message,
                          Turn          *turn)
{
  confab_message_set_live_reply (message, NULL);
  refresh_message_item (turn->window, message);
}

static void
agent_tool_started_cb (ConfabAgent   *agent,
                       ConfabMessage *message,
                       Turn          *turn)
{
  refresh_message_item (turn->window, message);
}

static void
approval_resolved_cb (ConfabApproval *approval,
                      ConfabWindow   *self)
{
  ConfabMessage *message = confab_approval_get_message (approval);

  g_signal_handlers_disconnect_by_func (approval, approval_resolved_cb, self);
  refresh_message_item (self, message);
}

static void
agent_approval_requested_cb (ConfabAgent    *agent,
                             ConfabApproval *approval,
                             Turn           *turn)
{
  ConfabWindow *self = turn->window;

  /* The tool's card in the conversation asks; nothing waits meanwhile. */
  confab_message_set_approval (confab_approval_get_message (approval), approval);
  g_signal_connect_object (approval, "resolved", G_CALLBACK (approval_resolved_cb), self, 0);
  refresh_message_item (self, confab_approval_get_message (approval));

  if (!gtk_window_is_active (GTK_WINDOW (self)) && setting_enabled (self, "notify-when-done", TRUE))
    {
      g_autoptr(GNotification) notification = g_notification_new (_("A tool is waiting for your approval"));
      g_autofree char *id = g_strdup_printf ("approval-%" G_GINT64_FORMAT, turn->conversation_id);

      g_notification_set_body (notification, confab_tool_get_name (confab_approval_get_tool (approval)));
      g_notification_set_default_action_and_target (notification, "app.show-conversation", "x",
                                                    turn->conversation_id);
      g_application_send_notification (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))),
                                       id, notification);
    }
}

/* A step that could not be saved, or a notice (a server that refused
 * tools): a toast either way. */
static void
agent_toast_cb (ConfabAgent *agent,
                      const char  *text,
                      Turn        *turn)
{
  toast (turn->window, text);
}

/* The conversation's agent: created on its first turn, kept for the
 * folders and tools the user allowed in it. */
/* Tool access: the folders granted to a conversation's tools and
 * whether they may reach the local network are stored with the
 * conversation, so they outlive the app; "allowed for this conversation"
 * answers to approval questions are not (they last until Confab quits). */

/* The record of conversation @id: the one shown, or the sidebar's
 * (transfer none; NULL when it is neither, archived and not shown, say). */
static ConfabConversation *
conversation_by_id (ConfabWindow *self,
                    gint64        id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversations));

  if (id != 0 && self->shown_conversation != NULL && confab_conversation_get_id (self->shown_conversation) == id)
    return self->shown_conversation;
  for (guint i = 0; id != 0 && i < n; i++)
    {
      g_autoptr(ConfabConversation) conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), i);

      if (confab_conversation_get_id (conversation) == id)
        return conversation;
    }
  return NULL;
}

static void
tool_access_saved_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_set_tool_access_finish (CONFAB_STORE (object), result, &error))
    toast (self, error->message);
}

static void
record_tool_access (ConfabConversation *conversation,
                    gint64              conversation_id,
                    const char * const *folders,
                    gboolean            allow_private_network)
{
  if (conversation == NULL || confab_conversation_get_id (conversation) != conversation_id)
    return;
  confab_conversation_set_tool_folders (conversation, folders);
  confab_conversation_set_tools_private_network (conversation, allow_private_network);
}

/* Stores @context's grants (NULL: none) for @conversation_id, and puts
 * them in the records the window holds (the one shown and the
 * sidebar's). */
static void
save_tool_access (ConfabWindow      *self,
                  gint64             conversation_id,
                  ConfabToolContext *context)
{
  const char * const *folders = context != NULL ? confab_tool_context_get_allowed_dirs (context) : NULL;
  gboolean allow = context != NULL && confab_tool_context_get_allow_private_network (context);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversations));

  if (conversation_id == 0 || self->store == NULL)
    return;

  record_tool_access (self->shown_conversation, conversation_id, folders, allow);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ConfabConversation) item = g_list_model_get_item (G_LIST_MODEL (self->conversations), i);

      record_tool_access (item, conversation_id, folders, allow);
    }
  confab_store_set_tool_access_async (self->store, conversation_id, folders, allow, NULL,
                                      tool_access_saved_cb, g_object_ref (self));
}

/* The conversation whose agent holds @context; 0 for a new chat's. */
static gint64
conversation_id_for_context (ConfabWindow      *self,
                             ConfabToolContext *context)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->agents);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (confab_agent_get_context (value) == context)
      return *(gint64 *)key;
  return 0;
}

static void
restored_dirs_checked_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  ConfabToolContext *context = CONFAB_TOOL_CONTEXT (object);
  g_auto(GStrv) gone = NULL;

  gone = confab_tool_context_check_allowed_dirs_finish (context, result, NULL);
  if (gone == NULL || gone[0] == NULL)
    return;

  for (guint i = 0; gone[i] != NULL; i++)
    {
      g_autofree char *name = g_filename_display_basename (gone[i]);
      /* Translators: %s is a folder's name */
      g_autofree char *text = g_strdup_printf (_("The folder “%s” granted to tools is gone"), name);

      toast (self, text);
    }
  save_tool_access (self, conversation_id_for_context (self, context), context);
}

/* Into a new agent's context, what was granted in an earlier session, at
 * once and without touching the disk; then, on a worker thread, a check
 * that the folders are still there: one that is gone is said so and
 * dropped. */
static void
restore_tool_access (ConfabWindow      *self,
                     gint64             conversation_id,
                     ConfabToolContext *context)
{
  ConfabConversation *conversation = conversation_by_id (self, conversation_id);
  const char * const *folders;

  if (conversation == NULL)
    return;

  folders = confab_conversation_get_tool_folders (conversation);
  for (guint i = 0; folders[i] != NULL; i++)
    confab_tool_context_restore_allowed_dir (context, folders[i]);
  confab_tool_context_set_allow_private_network (context, confab_conversation_get_tools_private_network (conversation));
  if (folders[0] != NULL)
    confab_tool_context_check_allowed_dirs_async (context, NULL, restored_dirs_checked_cb, g_object_ref (self));
}

static ConfabAgent *
agent_for (ConfabWindow *self,
           gint64        conversation_id,
           ConfabProvider *provider)
{
  ConfabAgent *agent = g_hash_table_lookup (self->agents, &conversation_id);

  if (agent == NULL)
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
      ConfabToolbox *toolbox = CONFAB_IS_APPLICATION (app)
                               ? confab_application_get_toolbox (CONFAB_APPLICATION (app)) : NULL;
      gint64 *key = g_new (gint64, 1);

      *key = conversation_id;
      agent = confab_agent_new (provider, toolbox);
      g_hash_table_insert (self->agents, key, agent);

      /* A new chat's folders become the conversation's; a stored
       * conversation's come from the store. */
      if (self->draft_context != NULL && conversation_id == self->conversation_id)
        {
          confab_agent_set_context (agent, self->draft_context);
          g_clear_object (&self->draft_context);
        }
      else
        restore_tool_access (self, conversation_id, confab_agent_get_context (agent));
    }
  else
    confab_agent_set_provider (agent, provider);

  return agent;
}

static void
start_turn (Turn      *turn,
            GPtrArray *history)
{
  ConfabWindow *self = turn->window;
  g_autoptr(ConfabChatRequest) request = confab_chat_request_new (turn->choice->model);
  gint64 user_id = confab_message_get_id (turn->user_message);

  if (turn->system_prompt != NULL && turn->system_prompt[0] != '\0')
    {
      g_autoptr(ConfabMessage) system = confab_message_new (CONFAB_ROLE_SYSTEM, turn->system_prompt);
      confab_chat_request_add_message (request, system);
    }

  /* The history up to the user's message: a regenerated reply does not
   * see the one it replaces. */
  for (guint i = 0; i < history->len; i++)
    {
      ConfabMessage *message = g_ptr_array_index (history, i);

      if (confab_message_get_role (message) == CONFAB_ROLE_ASSISTANT &&
          (confab_message_get_state (message) == CONFAB_MESSAGE_FAILED ||
           (confab_message_get_content (message)[0] == '\0' && confab_message_get_tool_calls (message)->len == 0)))
        continue;
      confab_chat_request_add_message (request, message);
      if (confab_message_get_id (message) == user_id)
        break;
    }

  turn->agent = g_object_ref (agent_for (self, turn->conversation_id, turn->choice->provider));
  confab_agent_set_store (turn->agent, self->store, turn->conversation_id);
  if (self->settings != NULL)
    confab_agent_set_max_steps (turn->agent, MAX (1, g_settings_get_uint (self->settings, "max-steps")));
  g_signal_connect (turn->agent, "message-added", G_CALLBACK (agent_message_added_cb), turn);
  g_signal_connect (turn->agent, "step-started", G_CALLBACK (agent_step_started_cb), turn);
  g_signal_connect (turn->agent, "message-updated", G_CALLBACK (agent_message_updated_cb), turn);
  g_signal_connect (turn->agent, "tool-started", G_CALLBACK (agent_tool_started_cb), turn);
  g_signal_connect (turn->agent, "approval-requested", G_CALLBACK (agent_approval_requested_cb), turn);
  g_signal_connect (turn->agent, "save-failed", G_CALLBACK (agent_toast_cb), turn);
  g_signal_connect (turn->agent, "notice", G_CALLBACK (agent_toast_cb), turn);

  confab_agent_run_async (turn->agent, request, user_id, turn->cancellable, turn_done_cb, turn);
}

static void
history_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Turn *turn = user_data;
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(GError) error = NULL;

  history = confab_store_load_messages_finish (CONFAB_STORE (object), result, &error);
  if (history == NULL)
    {
      g_autoptr(ConfabWindow) self = g_object_ref (turn->window);

      toast (self, error->message);
      g_hash_table_remove (self->turns, &turn->conversation_id);
      update_send_state (self);
      return;
    }

  start_turn (turn, history);
}

/* The conversation's system prompt goes first in every request. */
static void
conversation_for_reply_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  Turn *turn = user_data;
  g_autoptr(ConfabConversation) conversation = NULL;

  conversation = confab_store_get_conversation_finish (CONFAB_STORE (object), result, NULL);
  if (conversation != NULL)
    turn->system_prompt = g_strdup (confab_conversation_get_system_prompt (conversation));
  confab_store_load_messages_async (CONFAB_STORE (object), turn->conversation_id, NULL, history_loaded_cb, turn);
}

/* With the user's message stored: the history, then the agent's turn. */
static void
begin_turn (ConfabWindow *self,
            Turn         *turn)
{
  confab_store_get_conversation_async (self->store, turn->conversation_id, NULL,
                                       conversation_for_reply_cb, turn);
}

static void
user_added_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Turn *turn = user_data;
  g_autoptr(ConfabWindow) self = g_object_ref (turn->window);
  g_autoptr(GError) error = NULL;
  gint64 id;

  if ((id = confab_store_add_message_finish (CONFAB_STORE (object), result, &error)) == 0)
    {
      /* Nothing the user wrote is lost: it goes back to the composer. */
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
      GtkTextIter start;

      gtk_text_buffer_get_start_iter (buffer, &start);
      gtk_text_buffer_insert (buffer, &start, turn->prompt, -1);
      toast (self, error->message);
      g_hash_table_remove (self->turns, &turn->conversation_id);
      update_send_state (self);
      return;
    }

  confab_message_set_id (turn->user_message, id);
  begin_turn (self, turn);
}

static void
send_in_conversation (ConfabWindow *self,
                      Turn         *turn)
{
  turn->user_message = confab_message_new (CONFAB_ROLE_USER, turn->prompt);
  confab_message_set_created_at (turn->user_message, g_get_real_time () / 1000);
  confab_message_set_parent_id (turn->user_message, turn->user_parent_id);

  g_hash_table_insert (self->turns, &turn->conversation_id, turn);
  update_send_state (self);
  refresh_conversations (self);

  scroll_to_bottom (self);
  g_list_store_append (self->messages, turn->user_message);
  show_chat_page (self);

  /* The user's message is committed before anything is sent. */
  confab_store_add_message_async (self->store, turn->conversation_id, turn->user_message, NULL,
                                  user_added_cb, turn);
}

static void
conversation_created_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  Turn *turn = user_data;
  g_autoptr(ConfabWindow) self = g_object_ref (turn->window);
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  conversation = confab_store_create_conversation_finish (CONFAB_STORE (object), result, &error);
  if (conversation == NULL)
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);

      gtk_text_buffer_set_text (buffer, turn->prompt, -1);
      toast (self, error->message);
      turn_free (turn);
      return;
    }

  turn->conversation_id = confab_conversation_get_id (conversation);
  if (self->conversation_id == 0)
    {
      self->conversation_id = turn->conversation_id;
      adw_window_title_set_title (self->chat_title, confab_conversation_get_title (conversation));
      adw_window_title_set_subtitle (self->chat_title, turn->choice->model);
    }
  send_in_conversation (self, turn);
  refresh_conversations (self);
}

static char *
title_for (const char *prompt)
{
  g_autofree char *line = g_strstrip (g_strdup (prompt));
  char *newline = strchr (line, '\n');

  if (newline != NULL)
    *newline = '\0';
  if (g_utf8_strlen (line, -1) > 60)
    {
      char *end = g_utf8_offset_to_pointer (line, 59);
      *end = '\0';
      return g_strconcat (line, "…", NULL);
    }
  return g_steal_pointer (&line);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  ModelChoice *choice = selected_choice (self);
  g_autofree char *text = NULL;
  g_autofree char *stripped = NULL;
  GtkTextIter start, end;
  Turn *turn;

  if (self->store == NULL || current_turn (self) != NULL)
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  /* With the folded part of long lines. */
  text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  stripped = g_strstrip (g_strdup (text));
  if (stripped[0] == '\0')
    return;

  if (choice == NULL)
    {
      toast (self, _("No model to send to: start a model server or add a provider"));
      return;
    }

  turn = g_new0 (Turn, 1);
  turn->window = g_object_ref (self);
  turn->prompt = g_steal_pointer (&text);
  turn->choice = choice;
  turn->cancellable = g_cancellable_new ();
  gtk_text_buffer_set_text (buffer, "", 0);

  /* An edited message is a sibling of the one it replaces: the old one
   * and its replies stay in the conversation as another branch. */
  if (self->editing != NULL)
    {
      guint position;

      if (g_list_store_find (self->messages, self->editing, &position))
        {
          g_autoptr(ConfabMessage) previous = position > 0
            ? g_list_model_get_item (G_LIST_MODEL (self->messages), position - 1) : NULL;

          turn->user_parent_id = previous != NULL ? confab_message_get_id (previous) : -1;
          g_list_store_splice (self->messages, position,
                               g_list_model_get_n_items (G_LIST_MODEL (self->messages)) - position, NULL, 0);
        }
      g_clear_object (&self->editing);
    }

  if (self->conversation_id == 0)
    {
      g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
      g_autofree char *title = title_for (turn->prompt);

      confab_conversation_set_title (draft, title);
      if (self->draft_context != NULL)
        {
          confab_conversation_set_tool_folders (draft, confab_tool_context_get_allowed_dirs (self->draft_context));
          confab_conversation_set_tools_private_network (draft,
                                                         confab_tool_context_get_allow_private_network (self->draft_context));
        }
      confab_conversation_set_model (draft, choice->model);
      confab_conversation_set_provider (draft, choice->provider_name);
      if (self->settings != NULL)
        {
          g_autofree char *system_prompt = g_settings_get_string (self->settings, "default-system-prompt");
          confab_conversation_set_system_prompt (draft, system_prompt);
        }
      confab_store_create_conversation_async (self->store, draft, NULL, conversation_created_cb, turn);
      return;
    }

  turn->conversation_id = self->conversation_id;
  send_in_conversation (self, turn);
}

static void
regenerate_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  ModelChoice *choice = selected_choice (self);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  g_autoptr(ConfabMessage) user = NULL;
  guint position = n;
  Turn *turn;

  if (self->store == NULL || self->conversation_id == 0 || current_turn (self) != NULL)
    return;
  if (choice == NULL)
    {
      toast (self, _("No model to send to: start a model server or add a provider"));
      return;
    }

  /* The last message the user wrote gets a new reply; the old one stays
   * in the conversation as another branch. */
  while (position > 0)
    {
      g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), position - 1);

      if (confab_message_get_role (message) == CONFAB_ROLE_USER && confab_message_get_id (message) > 0)
        {
          user = g_steal_pointer (&message);
          break;
        }
      position--;
    }
  if (user == NULL)
    return;

  g_list_store_splice (self->messages, position, n - position, NULL, 0);

  turn = g_new0 (Turn, 1);
  turn->window = g_object_ref (self);
  turn->conversation_id = self->conversation_id;
  turn->prompt = g_strdup (confab_message_get_content (user));
  turn->user_message = g_steal_pointer (&user);
  turn->choice = choice;
  turn->cancellable = g_cancellable_new ();

  g_hash_table_insert (self->turns, &turn->conversation_id, turn);
  update_send_state (self);
  scroll_to_bottom (self);
  begin_turn (self, turn);
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  Turn *turn = current_turn (self);

  if (turn != NULL)
    g_cancellable_cancel (turn->cancellable);
}

static void
edit_last_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  if (current_turn (self) != NULL || gtk_text_buffer_get_char_count (buffer) > 0)
    return;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (confab_message_get_role (message) != CONFAB_ROLE_USER || confab_message_get_id (message) <= 0)
        continue;

      g_set_object (&self->editing, message);
      gtk_text_buffer_set_text (buffer, confab_message_get_content (message), -1);
      gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
      toast (self, _("Editing your last message: Enter sends it as a new version, Escape cancels"));
      return;
    }
}

static gboolean
composer_key_pressed_cb (GtkEventControllerKey *controller,
                         guint                  keyval,
                         guint                  keycode,
                         GdkModifierType        state,
                         ConfabWindow          *self)
{
  /* Enter sends and Shift+Enter is a new line, or, when the user chose
   * so in Preferences, Ctrl+Enter sends and Enter is a new line. */
  if (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter)
    {
      gboolean ctrl_enter = setting_enabled (self, "send-with-ctrl-enter", FALSE);
      GdkModifierType mods = state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK);

      if ((!ctrl_enter && mods == 0) || (ctrl_enter && mods == GDK_CONTROL_MASK))
        {
          gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
          return GDK_EVENT_STOP;
        }
    }

  /* Up in an empty composer edits the last message. */
  if (keyval == GDK_KEY_Up && !(state & GDK_MODIFIER_MASK) &&
      gtk_text_buffer_get_char_count (gtk_text_view_get_buffer (self->composer_view)) == 0)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.edit-last", NULL);
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

static gboolean
window_key_pressed_cb (GtkEventControllerKey *controller,
                       guint                  keyval,
                       guint                  keycode,
                       GdkModifierType        state,
                       ConfabWindow          *self)
{
  /* Escape stops a reply; when none runs, it goes back to the composer. */
  if (keyval == GDK_KEY_Escape && !(state & GDK_MODIFIER_MASK))
    {
      if (current_turn (self) != NULL)
        gtk_widget_activate_action (GTK_WIDGET (self), "win.stop", NULL);
      else if (self->editing != NULL)
        {
          g_clear_object (&self->editing);
          gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer_view), "", 0);
        }
      else
        gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

/* Other actions */

static void
new_chat_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  g_clear_object (&self->draft_context);
  gtk_single_selection_set_selected (self->conversation_selection, GTK_INVALID_LIST_POSITION);
  open_conversation (self, NULL);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

static void
focus_composer_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->content);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
move_conversation (ConfabWindow *self,
                   int           delta)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversations));
  guint selected = gtk_single_selection_get_selected (self->conversation_selection);
  g_autoptr(ConfabConversation) conversation = NULL;
  guint next;

  if (n == 0)
    return;
  if (selected == GTK_INVALID_LIST_POSITION)
    next = delta > 0 ? 0 : n - 1;
  else if ((delta < 0 && selected == 0) || (delta > 0 && selected + 1 >= n))
    return;
  else
    next = selected + delta;

  gtk_single_selection_set_selected (self->conversation_selection, next);
  conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), next);
  open_conversation (self, conversation);
}

static void
previous_conversation_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  move_conversation (CONFAB_WINDOW (widget), -1);
}

static void
next_conversation_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  move_conversation (CONFAB_WINDOW (widget), 1);
}

static void
copy_last_reply_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);
      ConfabReply *live = confab_message_get_live_reply (message);

      if (confab_message_get_role (message) != CONFAB_ROLE_ASSISTANT)
        continue;

      gdk_clipboard_set_text (gtk_widget_get_clipboard (widget),
                              live != NULL ? confab_reply_get_text (live) : confab_message_get_content (message));
      toast (self, _("Reply copied"));
      return;
    }
}

static void
renamed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_update_conversation_finish (CONFAB_STORE (object), result, &error))
    toast (self, error->message);
  refresh_conversations (self);
}

static void
rename_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    ConfabWindow     *self)
{
  ConfabConversation *conversation = g_object_get_data (G_OBJECT (dialog), "conversation");
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");
  g_autofree char *title = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_strcmp0 (response, "rename") != 0 || title[0] == '\0')
    return;

  confab_conversation_set_title (conversation, title);
  if (confab_conversation_get_id (conversation) == self->conversation_id)
    adw_window_title_set_title (self->chat_title, title);
  confab_store_update_conversation_async (self->store, conversation, NULL, renamed_cb, g_object_ref (self));
}

static void
rename_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  guint selected = gtk_single_selection_get_selected (self->conversation_selection);
  g_autoptr(ConfabConversation) conversation = NULL;
  GtkWidget *dialog;
  GtkWidget *entry;

  if (selected == GTK_INVALID_LIST_POSITION)
    return;
  conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), selected);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Rename Conversation"), NULL);
  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), confab_conversation_get_title (conversation));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Title"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "rename", _("_Rename"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "rename", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "rename");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "conversation", g_steal_pointer (&conversation), g_object_unref);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect_object (dialog, "response", G_CALLBACK (rename_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
toggle_flag (ConfabWindow *self,
             gboolean      archive)
{
  guint selected = gtk_single_selection_get_selected (self->conversation_selection);
  g_autoptr(ConfabConversation) conversation = NULL;

  if (selected == GTK_INVALID_LIST_POSITION)
    return;
  conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), selected);

  if (archive)
    {
      confab_conversation_set_archived (conversation, !confab_conversation_get_archived (conversation));
      toast (self, confab_conversation_get_archived (conversation) ? _("Conversation archived")
                                                                   : _("Conversation restored"));
      if (confab_conversation_get_id (conversation) == self->conversation_id)
        open_conversation (self, NULL);
    }
  else
    confab_conversation_set_pinned (conversation, !confab_conversation_get_pinned (conversation));

  confab_store_update_conversation_async (self->store, conversation, NULL, renamed_cb, g_object_ref (self));
}

static void
pin_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  toggle_flag (CONFAB_WINDOW (widget), FALSE);
}

static void
archive_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  toggle_flag (CONFAB_WINDOW (widget), TRUE);
}

static void
back_clicked_cb (GtkButton    *button,
                 ConfabWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* Deleting, with an undo toast */

static void
deleted_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_delete_conversation_finish (CONFAB_STORE (object), result, &error))
    toast (self, error->message);
}

/* The toast went away without Undo: now the conversation is deleted. */
static void
commit_pending_delete (ConfabWindow *self)
{
  g_autoptr(ConfabConversation) conversation = g_steal_pointer (&self->pending_delete);

  if (conversation == NULL || self->store == NULL)
    return;
  confab_store_delete_conversation_async (self->store, confab_conversation_get_id (conversation), NULL,
                                          deleted_cb, g_object_ref (self));
}

static void
delete_toast_dismissed_cb (AdwToast     *delete_toast,
                           ConfabWindow *self)
{
  if (self->delete_toast == delete_toast)
    self->delete_toast = NULL;
  commit_pending_delete (self);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  guint selected = gtk_single_selection_get_selected (self->conversation_selection);
  g_autoptr(ConfabConversation) conversation = NULL;
  gint64 id;

  if (selected == GTK_INVALID_LIST_POSITION)
    return;
  conversation = g_list_model_get_item (G_LIST_MODEL (self->conversations), selected);
  id = confab_conversation_get_id (conversation);

  /* A reply still being written there stops first. */
  if (g_hash_table_contains (self->turns, &id))
    {
      toast (self, _("Stop the reply before deleting its conversation"));
      return;
    }

  /* One undo at a time: a previous deletion becomes final now. */
  if (self->delete_toast != NULL)
    adw_toast_dismiss (self->delete_toast);
  commit_pending_delete (self);

  self->pending_delete = g_object_ref (conversation);
  g_list_store_remove (self->conversations, selected);
  if (id == self->conversation_id)
    open_conversation (self, NULL);

  self->delete_toast = adw_toast_new (_("Conversation deleted"));
  adw_toast_set_button_label (self->delete_toast, _("_Undo"));
  adw_toast_set_action_name (self->delete_toast, "win.undo-delete");
  g_signal_connect_object (self->delete_toast, "dismissed", G_CALLBACK (delete_toast_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, self->delete_toast);
}

static void
undo_delete_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  if (self->pending_delete == NULL)
    return;

  g_clear_object (&self->pending_delete);
  if (self->delete_toast != NULL)
    adw_toast_dismiss (self->delete_toast);
  refresh_conversations (self);
}

static gboolean
conversation_list_key_pressed_cb (GtkEventControllerKey *controller,
                                  guint                  keyval,
                                  guint                  keycode,
                                  GdkModifierType        state,
                                  ConfabWindow          *self)
{
  if ((keyval == GDK_KEY_Delete || keyval == GDK_KEY_KP_Delete) && !(state & GDK_MODIFIER_MASK))
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.delete", NULL);
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

/* Find in the conversation */

static const char *
message_text (ConfabMessage *message)
{
  ConfabReply *live = confab_message_get_live_reply (message);

  return live != NULL ? confab_reply_get_text (live) : confab_message_get_content (message);
}

/* Shows the next message (from @from, wrapping) that contains the text
 * of the find entry, and how many do. */
static void
find_from (ConfabWindow *self,
           guint         from)
{
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->find_entry));
  g_autofree char *needle = g_utf8_casefold (query, -1);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  guint matches = 0;
  guint found = GTK_INVALID_LIST_POSITION;
  guint found_index = 0;
  g_autofree char *label = NULL;

  if (needle[0] == '\0')
    {
      gtk_label_set_text (self->find_label, "");
      return;
    }

  /* Finding covers the whole conversation, not only what is shown yet. */
  if (self->older != NULL && self->older->len > 0)
    {
      guint added = self->older->len;

      show_older (self, added);
      from += added;
      n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), (from + i) % n);
      g_autofree char *haystack = g_utf8_casefold (message_text (message), -1);

      if (strstr (haystack, needle) == NULL)
        continue;
      if (found == GTK_INVALID_LIST_POSITION)
        found = (from + i) % n;
      matches++;
    }

  if (found == GTK_INVALID_LIST_POSITION)
    {
      gtk_label_set_text (self->find_label, _("Not found"));
      return;
    }

  /* Which of the matches, counted from the top. */
  for (guint i = 0; i <= found; i++)
    {
      g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), i);
      g_autofree char *haystack = g_utf8_casefold (message_text (message), -1);

      if (strstr (haystack, needle) != NULL)
        found_index++;
    }

  self->find_position = found;
  self->stick_to_bottom = FALSE;
  gtk_widget_activate_action (GTK_WIDGET (self->message_list), "list.scroll-to-item", "u", found);
  /* Translators: the 2nd of 5 messages that contain what was searched */
  label = g_strdup_printf (_("%u of %u"), found_index, matches);
  gtk_label_set_text (self->find_label, label);
}

static void
find_changed_cb (GtkSearchEntry *entry,
                 ConfabWindow   *self)
{
  find_from (self, 0);
}

static void
find_next_cb (GtkSearchEntry *entry,
              ConfabWindow   *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  if (n > 0)
    find_from (self, (self->find_position + 1) % n);
}

static void
find_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  gtk_search_bar_set_search_mode (self->find_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->find_entry));
}

/* List item factories */

static void
setup_conversation_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *item,
                       gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_label_set_lines (GTK_LABEL (subtitle), 2);
  gtk_label_set_wrap (GTK_LABEL (subtitle), TRUE);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_list_item_set_child (item, box);
}

static void
bind_conversation_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item,
                      ConfabWindow             *self)
{
  ConfabConversation *conversation = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *title = gtk_widget_get_first_child (box);
  GtkWidget *subtitle = gtk_widget_get_last_child (box);
  const char *snippet = g_object_get_data (G_OBJECT (conversation), "snippet");
  gint64 id = confab_conversation_get_id (conversation);
  g_autofree char *text = NULL;

  gtk_label_set_text (GTK_LABEL (title), confab_conversation_get_title (conversation)[0] != '\0'
                                         ? confab_conversation_get_title (conversation) : _("Untitled"));

  if (snippet != NULL)
    text = g_strdup (snippet);
  else if (g_hash_table_contains (self->turns, &id))
    text = g_strdup (_("Generating…"));
  else if (confab_conversation_get_pinned (conversation))
    text = g_strdup (_("Pinned"));
  else
    {
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (confab_conversation_get_updated_at (conversation) / 1000);
      g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;
      g_autofree char *when = NULL;

      /* Translators: when a conversation was last updated, see strftime(3) */
      when = local != NULL ? g_date_time_format (local, _("%e %b %Y, %H:%M")) : NULL;
      /* GLib pads days 1 to 9 of %e with a figure space, which would
       * indent the line. */
      if (when == NULL)
        text = g_strdup ("");
      else if (g_str_has_prefix (when, "\u2007"))
        text = g_strdup (when + strlen ("\u2007"));
      else
        text = g_steal_pointer (&when);
    }
  gtk_label_set_text (GTK_LABEL (subtitle), text);
}

static void
setup_message_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  user_data)
{
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_child (item, confab_message_row_new ());
}

typedef struct
{
  ConfabMessageRow *row;
  ConfabMessage    *message;
} VersionsLookup;

static void
versions_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  VersionsLookup *lookup = user_data;
  g_autoptr(ConfabMessageRow) row = lookup->row;
  g_autoptr(ConfabMessage) message = lookup->message;
  g_autoptr(GArray) versions = NULL;

  g_free (lookup);
  versions = confab_store_list_siblings_finish (CONFAB_STORE (object), result, NULL);

  /* The row may show another message by now (rows are recycled). */
  if (confab_message_row_get_message (row) == message)
    confab_message_row_set_versions (row, versions);
}

static void
bind_message_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 ConfabWindow             *self)
{
  ConfabMessageRow *row = CONFAB_MESSAGE_ROW (gtk_list_item_get_child (item));
  ConfabMessage *message = gtk_list_item_get_item (item);

  /* A stored tool result's card shows the call it answers, found in the
   * reply that asked for it. */
  if (confab_message_get_role (message) == CONFAB_ROLE_TOOL &&
      confab_message_get_call (message) == NULL)
    {
      guint position = gtk_list_item_get_position (item);

      for (guint i = position; i > 0 && i > position - MIN (position, 64); i--)
        {
          g_autoptr(ConfabMessage) previous = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);
          GPtrArray *calls = confab_message_get_tool_calls (previous);

          if (confab_message_get_role (previous) != CONFAB_ROLE_ASSISTANT)
            continue;
          for (guint j = 0; j < calls->len; j++)
            if (g_strcmp0 (confab_tool_call_get_id (g_ptr_array_index (calls, j)),
                           confab_message_get_tool_call_id (message)) == 0)
              confab_message_set_call (message, g_ptr_array_index (calls, j));
          break;
        }
    }

  confab_message_row_set_message (row, message);

  /* Edits and regenerated replies: ‹ 1/2 › when there are versions. */
  if (self->store != NULL && confab_message_get_id (message) > 0 && confab_message_get_live_reply (message) == NULL)
    {
      VersionsLookup *lookup = g_new0 (VersionsLookup, 1);

      lookup->row = g_object_ref (row);
      lookup->message = g_object_ref (message);
      confab_store_list_siblings_async (self->store, confab_message_get_id (message), NULL, versions_cb, lookup);
    }
}

static void
branch_switched_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_switch_branch_finish (CONFAB_STORE (object), result, &error))
    {
      toast (self, error->message);
      return;
    }

  load_messages (self);
}

static void
switch_branch_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  if (self->store == NULL || current_turn (self) != NULL)
    return;
  confab_store_switch_branch_async (self->store, g_variant_get_int64 (parameter), NULL,
                                    branch_switched_cb, g_object_ref (self));
}

static void
unbind_message_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   gpointer                  user_data)
{
  confab_message_row_set_message (CONFAB_MESSAGE_ROW (gtk_list_item_get_child (item)), NULL);
}

/* GObject */

static gboolean
confab_window_close_request (GtkWindow *window)
{
  ConfabWindow *self = CONFAB_WINDOW (window);
  int width, height;

  if (self->settings != NULL)
    {
      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }

  return GTK_WINDOW_CLASS (confab_window_parent_class)->close_request (window);
}

/* Turns still running stop, whatever they wait for (a reply, a tool, an
 * answer to a question nobody can see any more); what came is kept. Each
 * turn holds the window, so this cannot wait for dispose. */
static void
stop_turns (ConfabWindow *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->turns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_cancellable_cancel (((Turn *)value)->cancellable);
}

/* Within a frame (GDK emits before-paint and after-paint around every
 * one), what changes the scroll position is layout and the frame's tick
 * callbacks, not the user: the user's scrolling comes as events between
 * frames. (An animated scroll, such as Page Up's, goes on in the tick
 * callbacks; scroll_child_cb() takes the user's wish from the key.) */
static void
frame_before_paint_cb (GdkFrameClock *clock,
                       ConfabWindow  *self)
{
  self->laying_out = TRUE;
}

static void
frame_painted_cb (GdkFrameClock *clock,
                  ConfabWindow  *self)
{
  self->laying_out = FALSE;
}

/* Connected after GTK's own layout handler: the window is laid out.
 * GTK 4.8's list view takes back a scroll position set while it lays
 * itself out (a reply taller than the view would show its top while the
 * scroll bar says its end, and a chat just opened its oldest messages),
 * so following the end happens here, once it is done. The list then asks
 * for another layout, which GDK runs in the same frame before painting. */
static void
frame_laid_out_cb (GdkFrameClock *clock,
                   ConfabWindow  *self)
{
  if (self->stick_to_bottom && self->scroller != NULL && gtk_widget_get_mapped (GTK_WIDGET (self->scroller)))
    stick_to_bottom (self);
}

static void
confab_window_realize (GtkWidget *widget)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  GTK_WIDGET_CLASS (confab_window_parent_class)->realize (widget);

  self->frame_clock = g_object_ref (gtk_widget_get_frame_clock (widget));
  g_signal_connect (self->frame_clock, "before-paint", G_CALLBACK (frame_before_paint_cb), self);
  g_signal_connect (self->frame_clock, "after-paint", G_CALLBACK (frame_painted_cb), self);
  g_signal_connect_after (self->frame_clock, "layout", G_CALLBACK (frame_laid_out_cb), self);
}

static void
confab_window_unrealize (GtkWidget *widget)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);

  stop_turns (self);
  if (self->frame_clock != NULL)
    {
      /* By function: GTK's own handlers have the window as data too. */
      g_signal_handlers_disconnect_by_func (self->frame_clock, frame_before_paint_cb, self);
      g_signal_handlers_disconnect_by_func (self->frame_clock, frame_painted_cb, self);
      g_signal_handlers_disconnect_by_func (self->frame_clock, frame_laid_out_cb, self);
      g_clear_object (&self->frame_clock);
    }
  self->laying_out = FALSE;

  GTK_WIDGET_CLASS (confab_window_parent_class)->unrealize (widget);
}

static void
confab_window_dispose (GObject *object)
{
  ConfabWindow *self = (ConfabWindow *)object;

  stop_turns (self);

  /* A deletion waiting for its undo toast is final when the window goes. */
  commit_pending_delete (self);

  g_cancellable_cancel (self->search_cancellable);
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->load_cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), CONFAB_TYPE_WINDOW);

  G_OBJECT_CLASS (confab_window_parent_class)->dispose (object);
}

static void
confab_window_finalize (GObject *object)
{
  ConfabWindow *self = (ConfabWindow *)object;

  g_clear_object (&self->store);
  if (self->font_css != NULL)
    gtk_style_context_remove_provider_for_display (gdk_display_get_default (),
                                                   GTK_STYLE_PROVIDER (self->font_css));
  g_clear_object (&self->font_css);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->local_servers, g_strfreev);
  g_clear_pointer (&self->older, g_ptr_array_unref);
  g_clear_object (&self->editing);
  g_clear_object (&self->conversations);
  g_clear_object (&self->messages);
  g_clear_object (&self->search_results);
  g_clear_object (&self->conversation_selection);
  g_clear_object (&self->choice_names);
  g_clear_pointer (&self->choices, g_ptr_array_unref);
  g_clear_pointer (&self->turns, g_hash_table_unref);
  g_clear_pointer (&self->agents, g_hash_table_unref);
  g_clear_object (&self->draft_context);
  g_clear_object (&self->private_network_action);
  g_clear_object (&self->shown_conversation);

  G_OBJECT_CLASS (confab_window_parent_class)->finalize (object);
}

/* What the user granted to the tools of the conversation shown (a new
 * chat's until it is one); NULL, with a toast, without any model. */
static ConfabToolContext *
current_context (ConfabWindow *self)
{
  ModelChoice *choice;
  ConfabAgent *agent;

  if (self->conversation_id == 0)
    {
      if (self->draft_context == NULL)
        self->draft_context = confab_tool_context_new ();
      return self->draft_context;
    }

  agent = g_hash_table_lookup (self->agents, &self->conversation_id);
  if (agent == NULL)
    {
      if ((choice = selected_choice (self)) == NULL)
        {
          toast (self, _("No model to send to: start a model server or add a provider"));
          return NULL;
        }
      agent = agent_for (self, self->conversation_id, choice->provider);
    }
  return confab_agent_get_context (agent);
}

/* The check in the menu follows the conversation shown. */
static void
sync_private_network (ConfabWindow *self)
{
  ConfabAgent *agent = g_hash_table_lookup (self->agents, &self->conversation_id);
  ConfabToolContext *context = self->conversation_id == 0 ? self->draft_context
                               : agent != NULL ? confab_agent_get_context (agent) : NULL;
  ConfabConversation *conversation = conversation_by_id (self, self->conversation_id);
  gboolean allow;

  if (context != NULL)
    allow = confab_tool_context_get_allow_private_network (context);
  else
    allow = conversation != NULL && confab_conversation_get_tools_private_network (conversation);
  g_simple_action_set_state (self->private_network_action, g_variant_new_boolean (allow));
}

static void
private_network_change_cb (GSimpleAction *action,
                           GVariant      *value,
                           ConfabWindow  *self)
{
  ConfabToolContext *context = current_context (self);
  gboolean allow = g_variant_get_boolean (value);

  if (context == NULL)
    return;
  confab_tool_context_set_allow_private_network (context, allow);
  g_simple_action_set_state (action, value);
  save_tool_access (self, self->conversation_id, context);
  toast (self, allow ? _("Tools may reach this computer and the local network in this conversation")
                     : _("Tools reach only public addresses in this conversation"));
}

typedef struct
{
  ConfabWindow *window;
  char         *path;
} Grant;

static void
grant_free (Grant *grant)
{
  g_object_unref (grant->window);
  g_free (grant->path);
  g_free (grant);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Grant, grant_free)

static void
folder_granted_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Grant) grant = user_data;
  ConfabToolContext *context = CONFAB_TOOL_CONTEXT (object);
  g_autoptr(GError) error = NULL;

  if (!confab_tool_context_add_allowed_dir_finish (context, result, &error))
    toast (grant->window, error->message);
  else
    {
      g_autofree char *name = g_filename_display_basename (grant->path);
      /* Translators: %s is a folder's name */
      g_autofree char *text = g_strdup_printf (_("Tools may read “%s” in this conversation"), name);

      /* A new chat's grants are stored when it becomes a conversation,
       * which may have happened meanwhile. */
      save_tool_access (grant->window, conversation_id_for_context (grant->window, context), context);
      toast (grant->window, text);
    }
}

static void
grant_response_cb (GtkNativeDialog *chooser,
                   int              response,
                   ConfabWindow    *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  ConfabToolContext *context;
  Grant *grant;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);
  if (file == NULL || (path = g_file_get_path (file)) == NULL)
    return;

  if ((context = current_context (self)) == NULL)
    return;

  /* Its real path is looked up on a worker thread: the folder may be
   * on a slow or hung network file system. */
  grant = g_new0 (Grant, 1);
  grant->window = g_object_ref (self);
  grant->path = g_steal_pointer (&path);
  confab_tool_context_add_allowed_dir_async (context, grant->path, NULL, folder_granted_cb, grant);
}

/* The folders the file tools may read, and where commands run, are
 * granted per conversation. */
static void
grant_folder_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Grant a Folder to Tools"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Grant"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (grant_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Takes back every folder granted to this conversation's tools, the
 * local network, and the tools allowed without asking. */
static void
revoke_tool_access_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  ConfabWindow *self = CONFAB_WINDOW (widget);
  ConfabAgent *agent = g_hash_table_lookup (self->agents, &self->conversation_id);

  if (self->conversation_id == 0)
    g_clear_object (&self->draft_context);
  else
    {
      if (agent != NULL)
        {
          g_autoptr(ConfabToolContext) fresh = confab_tool_context_new ();

          confab_agent_set_context (agent, fresh);
          confab_agent_forget_allowed_tools (agent);
        }
      save_tool_access (self, self->conversation_id, NULL);
    }
  sync_private_network (self);
  toast (self, _("This conversation’s tools reach no folder and no local address now, and ask again"));
}

/* The composer grows with its text up to its limit. Growing means
 * measuring the whole text's height, which for a large paste is a layout
 * of every line: past a length that surely fills the limit, it stays at
 * the limit and GtkTextView lays out only what is shown. */
#define COMPOSER_GROW_LIMIT_CHARS 4096

static void
composer_set_large (ConfabWindow *self,
                    gboolean      large)
{
  if (gtk_scrolled_window_get_propagate_natural_height (self->composer_scroller) == !large)
    return;
  gtk_scrolled_window_set_min_content_height (self->composer_scroller,
                                              large ? gtk_scrolled_window_get_max_content_height (self->composer_scroller)
                                                    : -1);
  gtk_scrolled_window_set_propagate_natural_height (self->composer_scroller, !large);
}

/* Before the text goes in, so the paste's first layout is already the
 * cheap one. */
static void
composer_insert_cb (GtkTextBuffer *buffer,
                    GtkTextIter   *location,
                    const char    *text,
                    int            len,
                    ConfabWindow  *self)
{
  if (gtk_text_buffer_get_char_count (buffer) + (len / 4) > COMPOSER_GROW_LIMIT_CHARS ||
      len > 4 * COMPOSER_GROW_LIMIT_CHARS)
    composer_set_large (self, TRUE);
}

static void
insert_pasted (ConfabWindow *self,
               const char   *text)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);

  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_delete_selection (buffer, TRUE, TRUE);
  gtk_text_buffer_insert_interactive_at_cursor (buffer, text, -1, TRUE);
  gtk_text_buffer_end_user_action (buffer);
  gtk_text_view_scroll_mark_onscreen (self->composer_view, gtk_text_buffer_get_insert (buffer));
}

typedef struct
{
  ConfabWindow  *window;
  char          *text;
  GdkFrameClock *clock;
  gulong         painted_id;
} Pasted;

static void
pasted_free (gpointer data)
{
  Pasted *pasted = data;

  g_object_unref (pasted->window);
  g_clear_object (&pasted->clock);
  g_free (pasted->text);
  g_free (pasted);
}

static gboolean
insert_pasted_idle_cb (gpointer user_data)
{
  Pasted *pasted = user_data;

  if (gtk_widget_get_root (GTK_WIDGET (pasted->window->composer_view)) != NULL)
    insert_pasted (pasted->window, pasted->text);
  return G_SOURCE_REMOVE;
}

static void
resized_painted_cb (GdkFrameClock *clock,
                    Pasted        *pasted)
{
  g_clear_signal_handler (&pasted->painted_id, clock);
  g_idle_add_full (G_PRIORITY_DEFAULT, insert_pasted_idle_cb, pasted, pasted_free);
}

static void
paste_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, NULL);

  if (text == NULL || gtk_widget_get_root (GTK_WIDGET (self->composer_view)) == NULL)
    return;

  /* A large paste: the composer takes its full height first, in one
   * frame, and the text goes in after it, so no frame both resizes the
   * composer and lays out all of the text. */
  if (strlen (text) > 4 * COMPOSER_GROW_LIMIT_CHARS &&
      gtk_scrolled_window_get_propagate_natural_height (self->composer_scroller))
    {
      Pasted *pasted = g_new0 (Pasted, 1);

      composer_set_large (self, TRUE);
      pasted->window = g_object_ref (self);
      pasted->text = g_steal_pointer (&text);
      pasted->clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->composer_view));
      if (pasted->clock == NULL)
        {
          insert_pasted (self, pasted->text);
          pasted_free (pasted);
          return;
        }
      g_object_ref (pasted->clock);
      pasted->painted_id = g_signal_connect (pasted->clock, "after-paint", G_CALLBACK (resized_painted_cb), pasted);
      gtk_widget_queue_draw (GTK_WIDGET (self->composer_view));
      return;
    }
  insert_pasted (self, text);
}

static void
composer_paste_cb (GtkTextView  *view,
                   ConfabWindow *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (view));

  if (!gdk_content_formats_contain_gtype (gdk_clipboard_get_formats (clipboard), G_TYPE_STRING))
    return;
  g_signal_stop_emission_by_name (view, "paste-clipboard");
  gdk_clipboard_read_text_async (clipboard, NULL, paste_read_cb, g_object_ref (self));
}

/* Folding: Pango lays out a paragraph whole, so a pasted line of 1 MB
 * (minified JSON, say) took 0.7 s to show. When a paste makes a line
 * longer than COMPOSER_LONG_LINE_CHARS characters, the pasted text past
 * the line's first COMPOSER_SHOWN_LINE_CHARS is invisible (GtkTextView
 * leaves invisible text out of its layout); a bar says so. The text is
 * all in the buffer and all of it is sent and copied. */
#define COMPOSER_LONG_LINE_CHARS 10000
#define COMPOSER_SHOWN_LINE_CHARS 2000

static gboolean
composer_has_folds (ConfabWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  GtkTextIter iter;

  gtk_text_buffer_get_start_iter (buffer, &iter);
  return gtk_text_iter_has_tag (&iter, self->fold_tag) ||
         gtk_text_iter_forward_to_tag_toggle (&iter, self->fold_tag);
}

static void
update_fold_bar (ConfabWindow *self)
{
  gtk_widget_set_visible (self->fold_bar, !self->fold_off && composer_has_folds (self));
}

/* Folds what was inserted between @inserted_start and @inserted_end of
 * each long line, past its first COMPOSER_SHOWN_LINE_CHARS. */
static void
composer_fold_lines (ConfabWindow      *self,
                     const GtkTextIter *inserted_start,
                     const GtkTextIter *inserted_end)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  int last_line = gtk_text_iter_get_line (inserted_end);

  for (int line = gtk_text_iter_get_line (inserted_start); line <= last_line; line++)
    {
      GtkTextIter start, end;

      gtk_text_buffer_get_iter_at_line (buffer, &start, line);
      if (gtk_text_iter_get_chars_in_line (&start) <= COMPOSER_LONG_LINE_CHARS)
        continue;
      end = start;
      if (!gtk_text_iter_ends_line (&end))
        gtk_text_iter_forward_to_line_end (&end);
      gtk_text_iter_set_line_offset (&start, COMPOSER_SHOWN_LINE_CHARS);
      if (gtk_text_iter_compare (&start, inserted_start) < 0)
        start = *inserted_start;
      if (gtk_text_iter_compare (&end, inserted_end) > 0)
        end = *inserted_end;
      if (gtk_text_iter_compare (&start, &end) < 0)
        gtk_text_buffer_apply_tag (buffer, self->fold_tag, &start, &end);
    }
}

/* After the text is in: @location is at its end. Only a large insertion
 * (a paste) is folded; what the user types after it stays in view. */
static void
composer_inserted_cb (GtkTextBuffer *buffer,
                      GtkTextIter   *location,
                      const char    *text,
                      int            len,
                      ConfabWindow  *self)
{
  GtkTextIter start = *location;

  if (self->fold_off || len <= COMPOSER_LONG_LINE_CHARS)
    return;

  gtk_text_iter_backward_chars (&start, (int)g_utf8_strlen (text, len));
  composer_fold_lines (self, &start, location);
  update_fold_bar (self);
}

static void
fold_show_all_clicked_cb (GtkButton    *button,
                          ConfabWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  GtkTextIter start, end;

  self->fold_off = TRUE;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->fold_tag, &start, &end);
  gtk_widget_set_visible (self->fold_bar, FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer_view));
}

/* Copying or cutting a selection that holds folded text takes all of it
 * (GtkTextView's own copy leaves invisible text out). */
static gboolean
composer_copy_selection (ConfabWindow *self,
                         gboolean      cut)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer_view);
  GtkTextIter start, end, probe;
  g_autofree char *text = NULL;

  if (!gtk_text_buffer_get_selection_bounds (buffer, &start, &end))
    return FALSE;
  probe = start;
  if (!gtk_text_iter_has_tag (&probe, self->fold_tag) &&
      (!gtk_text_iter_forward_to_tag_toggle (&probe, self->fold_tag) || gtk_text_iter_compare (&probe, &end) >= 0))
    return FALSE;

  text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self->composer_view)), text);
  if (cut)
    gtk_text_buffer_delete_selection (buffer, TRUE, TRUE);
  return TRUE;
}

static void
composer_copy_cb (GtkTextView  *view,
                  ConfabWindow *self)
{
  if (composer_copy_selection (self, FALSE))
    g_signal_stop_emission_by_name (view, "copy-clipboard");
}

static void
composer_cut_cb (GtkTextView  *view,
                 ConfabWindow *self)
{
  if (composer_copy_selection (self, TRUE))
    g_signal_stop_emission_by_name (view, "cut-clipboard");
}

static void
composer_changed_cb (GtkTextBuffer *buffer,
                     ConfabWindow  *self)
{
  composer_set_large (self, gtk_text_buffer_get_char_count (buffer) > COMPOSER_GROW_LIMIT_CHARS);

  if (gtk_text_buffer_get_char_count (buffer) == 0)
    self->fold_off = FALSE;
  update_fold_bar (self);
}

static void
confab_window_class_init (ConfabWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = confab_window_dispose;
  object_class->finalize = confab_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = confab_window_close_request;
  GTK_WIDGET_CLASS (klass)->realize = confab_window_realize;
  GTK_WIDGET_CLASS (klass)->unrealize = confab_window_unrealize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/confab/Confab/ui/confab-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, content);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, search_list);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, chat_title);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, model_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, chat_stack);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, welcome_box);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, scroller);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, composer_view);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, fold_bar);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, fold_show_all_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, composer_scroller);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, send_stack);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, find_bar);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, find_entry);
  gtk_widget_class_bind_template_child (widget_class, ConfabWindow, find_label);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.regenerate", NULL, regenerate_action);
  gtk_widget_class_install_action (widget_class, "win.edit-last", NULL, edit_last_action);
  gtk_widget_class_install_action (widget_class, "win.pin", NULL, pin_action);
  gtk_widget_class_install_action (widget_class, "win.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "win.switch-branch", "x", switch_branch_action);
  gtk_widget_class_install_action (widget_class, "win.archive", NULL, archive_action);
  gtk_widget_class_install_action (widget_class, "win.new-chat", NULL, new_chat_action);
  gtk_widget_class_install_action (widget_class, "win.focus-composer", NULL, focus_composer_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.previous-conversation", NULL, previous_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.next-conversation", NULL, next_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.copy-last-reply", NULL, copy_last_reply_action);
  gtk_widget_class_install_action (widget_class, "win.rename", NULL, rename_action);
  gtk_widget_class_install_action (widget_class, "win.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "win.undo-delete", NULL, undo_delete_action);
  gtk_widget_class_install_action (widget_class, "win.grant-folder", NULL, grant_folder_action);
  gtk_widget_class_install_action (widget_class, "win.revoke-tool-access", NULL, revoke_tool_access_action);
}

static void
confab_window_init (ConfabWindow *self)
{
  GtkListItemFactory *factory;
  GtkEventController *controller;
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->conversations = g_list_store_new (CONFAB_TYPE_CONVERSATION);
  self->messages = g_list_store_new (CONFAB_TYPE_MESSAGE);
  self->search_results = g_list_store_new (CONFAB_TYPE_CONVERSATION);
  self->choices = g_ptr_array_new_with_free_func (model_choice_free);
  self->choice_names = gtk_string_list_new (NULL);
  self->turns = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, turn_free);
  self->agents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  {
    g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();

    self->private_network_action = g_simple_action_new_stateful ("allow-private-network", NULL,
                                                                 g_variant_new_boolean (FALSE));
    g_signal_connect (self->private_network_action, "change-state", G_CALLBACK (private_network_change_cb), self);
    g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (self->private_network_action));
    gtk_widget_insert_action_group (GTK_WIDGET (self), "conversation", G_ACTION_GROUP (group));
  }
  self->stick_to_bottom = TRUE;

  self->conversation_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->conversations)));
  gtk_single_selection_set_autoselect (self->conversation_selection, FALSE);
  gtk_single_selection_set_can_unselect (self->conversation_selection, TRUE);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_conversation_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_conversation_cb), self);
  gtk_list_view_set_factory (self->conversation_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->conversation_list, GTK_SELECTION_MODEL (g_object_ref (self->conversation_selection)));
  g_signal_connect (self->conversation_list, "activate", G_CALLBACK (conversation_activated_cb), self);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_conversation_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_conversation_cb), self);
  gtk_list_view_set_factory (self->search_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->search_list,
                           GTK_SELECTION_MODEL (gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->search_results)))));
  g_signal_connect (self->search_list, "activate", G_CALLBACK (search_result_activated_cb), self);

  /* Only the rows near the viewport exist, however long the chat. */
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_message_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_message_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_message_cb), NULL);
  gtk_list_view_set_factory (self->message_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->message_list,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->messages)))));

  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (self->choice_names));
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_model_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_model_cb), self);
  gtk_drop_down_set_list_factory (self->model_dropdown, factory);
  g_object_unref (factory);

  adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (adjustment, "changed", G_CALLBACK (adjustment_changed_cb), self, 0);
  g_signal_connect_object (adjustment, "value-changed", G_CALLBACK (adjustment_value_changed_cb), self, 0);
  g_signal_connect_object (self->scroller, "scroll-child", G_CALLBACK (scroll_child_cb), self, 0);

  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect (self->search_entry, "activate", G_CALLBACK (search_activate_cb), self);
  g_signal_connect (self->search_entry, "stop-search", G_CALLBACK (stop_search_cb), self);
  g_signal_connect (self->back_button, "clicked", G_CALLBACK (back_clicked_cb), self);
  g_signal_connect (self->find_entry, "search-changed", G_CALLBACK (find_changed_cb), self);
  g_signal_connect (self->find_entry, "activate", G_CALLBACK (find_next_cb), self);
  g_signal_connect (self->find_entry, "next-match", G_CALLBACK (find_next_cb), self);
  gtk_search_bar_connect_entry (self->find_bar, GTK_EDITABLE (self->find_entry));

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect (controller, "key-pressed", G_CALLBACK (composer_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer_view), controller);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer_view), "insert-text",
                           G_CALLBACK (composer_insert_cb), self, 0);
  g_signal_connect_object (self->composer_view, "paste-clipboard", G_CALLBACK (composer_paste_cb), self, 0);
  self->fold_tag = gtk_text_buffer_create_tag (gtk_text_view_get_buffer (self->composer_view), NULL,
                                               "invisible", TRUE, NULL);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer_view), "insert-text",
                           G_CALLBACK (composer_inserted_cb), self, G_CONNECT_AFTER);
  g_signal_connect_object (self->composer_view, "copy-clipboard", G_CALLBACK (composer_copy_cb), self, 0);
  g_signal_connect_object (self->composer_view, "cut-clipboard", G_CALLBACK (composer_cut_cb), self, 0);
  g_signal_connect_object (self->fold_show_all_button, "clicked", G_CALLBACK (fold_show_all_clicked_cb), self, 0);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer_view), "changed",
                           G_CALLBACK (composer_changed_cb), self, 0);

  /* Delete deletes the selected conversation when the list has the focus
   * (in a text field it deletes text, as ever). */
  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (conversation_list_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->conversation_list), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (window_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  adw_window_title_set_title (self->chat_title, _("New Chat"));
  update_send_state (self);
  show_chat_page (self);

  /* Where to look for local servers on first run: the usual ports, or
   * CONFAB_LOCAL_SERVERS ("NAME=API=URL;..."), for a server elsewhere. */
  if (g_getenv ("CONFAB_LOCAL_SERVERS") != NULL)
    self->local_servers = g_strsplit (g_getenv ("CONFAB_LOCAL_SERVERS"), ";", -1);

  /* The size the window had when it was last closed. */
  self->settings = settings_new ();
  if (self->settings != NULL)
    {
      self->font_css = gtk_css_provider_new ();
      gtk_style_context_add_provider_for_display (gtk_widget_get_display (GTK_WIDGET (self)),
                                                  GTK_STYLE_PROVIDER (self->font_css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      update_message_font (self);
      g_signal_connect_object (self->settings, "changed::message-font",
                               G_CALLBACK (update_message_font), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::message-font-scale",
                               G_CALLBACK (update_message_font), self, G_CONNECT_SWAPPED);
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }

  /* The composer has the focus when the window opens. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->composer_view));
}

ConfabWindow *
confab_window_new (ConfabApplication *application)
{
  return g_object_new (CONFAB_TYPE_WINDOW, "application", application, NULL);
}

/**
 * confab_window_set_store:
 * @store: (nullable): the store, once open
 * @error: (nullable): why the database is not used as usual
 *
 * Fills the window once the store has opened (on its worker thread).
 */
void
confab_window_set_store (ConfabWindow *self,
                         ConfabStore  *store,
                         const GError *error)
{
  g_return_if_fail (CONFAB_IS_WINDOW (self));

  if (error != NULL)
    toast (self, error->message);

  if (store == NULL || self->store != NULL)
    return;

  self->store = g_object_ref (store);
  show_chat_page (self);
  refresh_conversations (self);
  confab_store_list_providers_async (self->store, NULL, providers_listed_cb, g_object_ref (self));
}

static void
show_conversation_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(ConfabWindow) self = user_data;
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  conversation = confab_store_get_conversation_finish (CONFAB_STORE (object), result, &error);
  if (conversation == NULL)
    {
      toast (self, error->message);
      return;
    }
  open_conversation (self, conversation);
  refresh_conversations (self);
}

/**
 * confab_window_show_conversation:
 *
 * Opens a stored conversation (from a notification, say).
 */
void
confab_window_show_conversation (ConfabWindow *self,
                                 gint64        conversation_id)
{
  g_return_if_fail (CONFAB_IS_WINDOW (self));

  if (self->store == NULL)
    return;
  confab_store_get_conversation_async (self->store, conversation_id, NULL, show_conversation_cb, g_object_ref (self));
}
