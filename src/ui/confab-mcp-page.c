/* confab-mcp-page.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "confab-form-private.h"
#include "confab-mcp-page.h"

/* The MCP Servers page. One expander row per server of mcp.json, in file
 * order: its status (following the ConfabMcpServer the manager runs for
 * it), a switch that turns it on and off, and inside its command line,
 * its tools, its stderr as it grows, and removal. Below, a form that adds
 * a server and a button that imports Claude Desktop's.
 *
 * Edits never touch the manager's configuration: each one is made on a
 * copy (the file's text parsed again), which becomes the page's working
 * configuration and is written by confab_mcp_manager_save_async() on a
 * worker thread, then applied to the manager. One save at a time, so the
 * file is written in the order of the edits: edits made meanwhile wait
 * and are written together by the next save. A save that fails leaves
 * the file and the running servers as they were, and the rows go back to
 * what the manager has.
 *
 * When the file could not be read at start-up, the manager has no
 * configuration: the page shows why and where the file is, and changes
 * nothing until the file has been fixed and read again. */

/* At most this often, a log view follows its server's stderr. */
#define LOG_UPDATE_MS 100

/* A log view grows to this height, then scrolls. */
#define LOG_MAX_HEIGHT 240

#define SERVER_ROW_KEY "confab-mcp-server-row"


struct _ConfabMcpPage
{
  AdwPreferencesPage   parent_instance;

  ConfabMcpManager    *manager;
  GError              *load_error;
  char                *import_path;
  GCancellable        *cancellable;
  /* The configuration with edits the manager does not have yet (being
   * saved, or waiting for the save under way), else NULL. */
  ConfabMcpConfig     *config;
  /* Edit: made since the save under way started */
  GPtrArray           *pending;
  gboolean             saving;
  gboolean             importing;
  gboolean             reloading;
  /* Set while widgets are filled from code, not by the user. */
  gboolean             syncing;
  /* server name → its row, owned by servers_list */
  GHashTable          *rows;

  AdwPreferencesGroup *error_group;
  GtkLabel            *error_label;
  GtkLabel            *error_hint_label;
  GtkButton           *reload_button;
  AdwPreferencesGroup *servers_group;
  GtkListBox          *servers_list;
  GtkLabel            *servers_message_label;
  AdwPreferencesGroup *add_group;
  AdwEntryRow         *add_name_row;
  AdwEntryRow         *add_command_row;
  AdwEntryRow         *add_env_row;
  GtkLabel            *add_message_label;
  GtkButton           *add_button;
  AdwPreferencesGroup *import_group;
  AdwActionRow        *import_row;
  GtkButton           *import_button;
  GtkLabel            *import_message_label;
};

G_DEFINE_FINAL_TYPE (ConfabMcpPage, confab_mcp_page, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_MANAGER,
  PROP_LOAD_ERROR,
  PROP_IMPORT_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The widgets of one server, owned by its row. */
typedef struct
{
  ConfabMcpPage         *self;
  char                  *name;
  /* Reached over HTTP: listed, not run. */
  gboolean               unsupported;
  guint                  position;
  gboolean               seen;
  ConfabMcpServerConfig *config;
  /* What the manager runs for it; NULL while it is disabled. */
  ConfabMcpServer       *server;
  GtkWidget             *row;
  GtkSwitch             *enable_switch;
  GtkLabel              *command_label;
  GtkWidget             *env_heading;
  GtkLabel              *env_label;
  GtkLabel              *tools_label;
  GtkLabel              *error_label;
  GtkWidget             *log_frame;
  GtkLabel              *log_empty_label;
  GtkTextView           *log_view;
  GtkButton             *remove_button;
  guint                  log_update_id;
} ServerRow;

typedef enum
{
  EDIT_ENABLE,
  EDIT_ADD,
  EDIT_REMOVE,
  EDIT_IMPORT,
} EditKind;

/* One change the user made, finished once it is saved. */
typedef struct
{
  EditKind   kind;
  char      *name;
  gboolean   enabled;
  GPtrArray *imported;
  GPtrArray *skipped;
} Edit;

/* A save under way. */
typedef struct
{
  ConfabMcpPage    *self;
  ConfabMcpManager *manager;
  ConfabMcpConfig  *config;
  GPtrArray        *edits;
} SaveOp;

static void sync_rows  (ConfabMcpPage *self);
static void start_save (ConfabMcpPage *self);

/* Helpers */

static gboolean
is_disposed (ConfabMcpPage *self)
{
  return self->cancellable == NULL || g_cancellable_is_cancelled (self->cancellable);
}

static Edit *
edit_new (EditKind    kind,
          const char *name)
{
  Edit *edit = g_new0 (Edit, 1);

  edit->kind = kind;
  edit->name = g_strdup (name);
  return edit;
}

static void
edit_free (gpointer data)
{
  Edit *edit = data;

  g_free (edit->name);
  g_clear_pointer (&edit->imported, g_ptr_array_unref);
  g_clear_pointer (&edit->skipped, g_ptr_array_unref);
  g_free (edit);
}

static void
save_op_free (SaveOp *op)
{
  g_object_unref (op->self);
  g_object_unref (op->manager);
  g_object_unref (op->config);
  g_ptr_array_unref (op->edits);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SaveOp, save_op_free)

/* The configuration the rows show and edits start from: the page's own
 * while edits are being saved, else the manager's; NULL while the file
 * has not been read. */
static ConfabMcpConfig *
working_config (ConfabMcpPage *self)
{
  if (self->config != NULL)
    return self->config;
  return self->manager != NULL ? confab_mcp_manager_get_config (self->manager) : NULL;
}

/* A copy of @config to edit: the manager's stays as it is until the
 * edited one is saved and applied. Pure: no file is read. */
static ConfabMcpConfig *
copy_config (ConfabMcpConfig  *config,
             GError          **error)
{
  g_autofree char *data = confab_mcp_config_to_data (config);

  return confab_mcp_config_new_from_data (confab_mcp_config_get_path (config), data, -1, error);
}

static gboolean
has_server (ConfabMcpConfig *config,
            const char      *name)
{
  g_auto(GStrv) unsupported = NULL;

  if (confab_mcp_config_lookup (config, name) != NULL)
    return TRUE;
  unsupported = confab_mcp_config_dup_unsupported (config);
  return g_strv_contains ((const char * const *)unsupported, name);
}

static void
toast (ConfabMcpPage *self,
       const char    *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (root), adw_toast_new (text));
}

/* "a, b, c" */
static char *
join_names (GPtrArray *names)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) strv = NULL;

  for (guint i = 0; i < names->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (names, i));
  strv = g_strv_builder_end (builder);
  /* Translators: what separates the names of a list */
  return g_strjoinv (_(", "), strv);
}

/* One word of a command line as a shell would need it: as it is when
 * that is unambiguous, else quoted. */
static void
append_word (GString    *line,
             const char *word)
{
  gboolean plain = word[0] != '\0';

  for (const char *p = word; *p != '\0' && plain; p++)
    plain = g_ascii_isalnum (*p) || strchr ("@%+=:,./_-~", *p) != NULL;

  if (line->len > 0)
    g_string_append_c (line, ' ');
  if (plain)
    g_string_append (line, word);
  else
    {
      g_autofree char *quoted = g_shell_quote (word);

      g_string_append (line, quoted);
    }
}

static char *
dup_command_line (ConfabMcpServerConfig *config)
{
  GString *line = g_string_new (NULL);
  const char * const *args = confab_mcp_server_config_get_args (config);

  append_word (line, confab_mcp_server_config_get_command (config));
  for (guint i = 0; args[i] != NULL; i++)
    append_word (line, args[i]);
  return g_string_free (line, FALSE);
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* The names of the variables only: their values often are tokens. */
static char *
dup_env_names (ConfabMcpServerConfig *config)
{
  GHashTable *env = confab_mcp_server_config_get_env (config);
  g_autofree const char **names = NULL;
  guint n;

  if (g_hash_table_size (env) == 0)
    return NULL;

  names = (const char **)g_hash_table_get_keys_as_array (env, &n);
  qsort (names, n, sizeof (char *), compare_strings);
  /* Translators: what separates the names of a list */
  return g_strjoinv (_(", "), (char **)names);
}

/* Server rows: status */

static char *
dup_status (ServerRow *sr)
{
  const GError *error;
  guint n;

  if (sr->unsupported)
    return g_strdup (_("Not supported: reached over HTTP"));
  if (!confab_mcp_server_config_get_enabled (sr->config))
    return g_strdup (_("Disabled"));
  if (sr->server == NULL)
    return g_strdup (_("Stopped"));

  switch (confab_mcp_server_get_status (sr->server))
    {
    case CONFAB_MCP_SERVER_STARTING:
      return g_strdup (_("Starting…"));

    case CONFAB_MCP_SERVER_RUNNING:
      n = confab_mcp_server_get_tools (sr->server)->len;
      /* Translators: the status of an MCP server; %u is how many tools it has */
      return g_strdup_printf (ngettext ("Running · %u tool", "Running · %u tools", n), n);

    case CONFAB_MCP_SERVER_FAILED:
      error = confab_mcp_server_get_error (sr->server);
      if (error == NULL)
        return g_strdup (_("Failed"));
      /* Translators: the status of an MCP server; %s says why it failed */
      return g_strdup_printf (_("Failed: %s"), error->message);

    case CONFAB_MCP_SERVER_STOPPED:
    default:
      return g_strdup (_("Stopped"));
    }
}

static void
update_status (ServerRow *sr)
{
  g_autofree char *status = dup_status (sr);
  const GError *error = NULL;

  if (ADW_IS_EXPANDER_ROW (sr->row))
    adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (sr->row), status);
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (sr->row), status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (sr->row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, status, -1);

  if (sr->error_label == NULL)
    return;

  /* The whole message, to read and copy. */
  if (sr->server != NULL && confab_mcp_server_get_status (sr->server) == CONFAB_MCP_SERVER_FAILED)
    error = confab_mcp_server_get_error (sr->server);
  gtk_label_set_text (sr->error_label, error != NULL ? error->message : "");
  gtk_widget_set_visible (GTK_WIDGET (sr->error_label), error != NULL);
}

static void
update_tools (ServerRow *sr)
{
  GPtrArray *tools = sr->server != NULL ? confab_mcp_server_get_tools (sr->server) : NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autofree char *text = NULL;

  for (guint i = 0; tools != NULL && i < tools->len; i++)
    g_ptr_array_add (names, (gpointer)json_object_get_string_member_with_default (g_ptr_array_index (tools, i),
                                                                                   "name", "?"));

  if (names->len > 0)
    text = join_names (names);
  else if (sr->server != NULL && confab_mcp_server_get_status (sr->server) == CONFAB_MCP_SERVER_RUNNING)
    text = g_strdup (_("None"));
  else
    text = g_strdup (_("Listed once the server runs"));
  gtk_label_set_text (sr->tools_label, text);
}

/* Shows the server's stderr. The log only grows until it reaches its
 * cap, so mostly the new text is appended, which keeps a selection and
 * the scroll position; the view follows the end when it was there. */
static void
update_log (ServerRow *sr)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (sr->log_view);
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (sr->log_view));
  g_autofree char *raw = NULL;
  g_autofree char *log = NULL;
  g_autofree char *shown = NULL;
  GtkTextIter start, end;
  gboolean at_end;
  size_t shown_len;

  if (sr->server == NULL)
    return;

  raw = confab_mcp_server_dup_log (sr->server);
  log = g_utf8_make_valid (raw != NULL ? raw : "", -1);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  shown = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  shown_len = strlen (shown);

  at_end = vadjustment == NULL ||
           gtk_adjustment_get_value (vadjustment) >=
             gtk_adjustment_get_upper (vadjustment) - gtk_adjustment_get_page_size (vadjustment) - 1;

  if (strncmp (log, shown, shown_len) == 0)
    {
      if (log[shown_len] != '\0')
        gtk_text_buffer_insert (buffer, &end, log + shown_len, -1);
    }
  else
    gtk_text_buffer_set_text (buffer, log, -1);

  gtk_widget_set_visible (sr->log_frame, log[0] != '\0');
  gtk_widget_set_visible (GTK_WIDGET (sr->log_empty_label), log[0] == '\0');

  if (at_end)
    gtk_text_view_scroll_mark_onscreen (sr->log_view, gtk_text_buffer_get_mark (buffer, "log-end"));
}

static gboolean
log_update_cb (gpointer user_data)
{
  ServerRow *sr = user_data;

  sr->log_update_id = 0;
  update_log (sr);
  return G_SOURCE_REMOVE;
}

/* A server writing a lot is followed at most every LOG_UPDATE_MS. */
static void
server_log_changed_cb (ConfabMcpServer *server,
                       ServerRow       *sr)
{
  if (sr->log_update_id == 0)
    sr->log_update_id = g_timeout_add (LOG_UPDATE_MS, log_update_cb, sr);
}

static void
server_status_cb (ConfabMcpServer *server,
                  GParamSpec      *pspec,
                  ServerRow       *sr)
{
  update_status (sr);
  update_tools (sr);
}

static void
server_tools_changed_cb (ConfabMcpServer *server,
                         ServerRow       *sr)
{
  update_status (sr);
  update_tools (sr);
}

/* Follows @server (NULL: none), the manager's process for this row. */
static void
bind_server (ServerRow       *sr,
             ConfabMcpServer *server)
{
  if (sr->server == server)
    return;

  if (sr->server != NULL)
    {
      g_signal_handlers_disconnect_by_data (sr->server, sr);
      g_clear_object (&sr->server);
    }
  g_clear_handle_id (&sr->log_update_id, g_source_remove);

  if (server != NULL)
    {
      sr->server = g_object_ref (server);
      g_signal_connect (server, "notify::status", G_CALLBACK (server_status_cb), sr);
      g_signal_connect (server, "tools-changed", G_CALLBACK (server_tools_changed_cb), sr);
      g_signal_connect (server, "log-changed", G_CALLBACK (server_log_changed_cb), sr);
    }
}

static void
server_row_free (gpointer data)
{
  ServerRow *sr = data;

  bind_server (sr, NULL);
  g_clear_handle_id (&sr->log_update_id, g_source_remove);
  g_clear_object (&sr->config);
  g_free (sr->name);
  g_free (sr);
}

static ServerRow *
server_row_get (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), SERVER_ROW_KEY);
}

/* Saving */

static void
server_started_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* A failure shows in the server's row, from its status. */
  if (!confab_mcp_server_start_finish (CONFAB_MCP_SERVER (object), result, &error))
    g_debug ("MCP server not started: %s", error->message);
}

/* Starts @name when the manager has not already: it does so itself only
 * once it has started every server. */
static void
start_server (ConfabMcpPage *self,
              const char    *name)
{
  ConfabMcpServer *server = confab_mcp_manager_lookup (self->manager, name);

  if (server != NULL && confab_mcp_server_get_status (server) == CONFAB_MCP_SERVER_STOPPED)
    confab_mcp_server_start_async (server, NULL, server_started_cb, NULL);
}

static void
show_import_result (ConfabMcpPage *self,
                    Edit          *edit)
{
  g_autofree char *imported = join_names (edit->imported);
  g_autofree char *text = NULL;

  /* Translators: %u is how many MCP servers, %s their names */
  text = g_strdup_printf (ngettext ("Imported %u server: %s.", "Imported %u servers: %s.", edit->imported->len),
                          edit->imported->len, imported);
  if (edit->skipped->len > 0)
    {
      g_autofree char *skipped = join_names (edit->skipped);
      g_autofree char *kept = NULL;
      g_autofree char *both = NULL;

      /* Translators: %u is how many MCP servers, %s their names */
      kept = g_strdup_printf (ngettext ("Kept %u server already configured: %s.",
                                        "Kept %u servers already configured: %s.", edit->skipped->len),
                              edit->skipped->len, skipped);
      both = g_strjoin (" ", text, kept, NULL);
      _confab_form_show_message (self->import_message_label, CONFAB_FORM_INFO, both);
      return;
    }
  _confab_form_show_message (self->import_message_label, CONFAB_FORM_INFO, text);
}

/* @edit was saved and applied. */
static void
finish_edit (ConfabMcpPage *self,
             Edit          *edit)
{
  g_autofree char *text = NULL;

  switch (edit->kind)
    {
    case EDIT_ENABLE:
      if (edit->enabled)
        start_server (self, edit->name);
      break;

    case EDIT_ADD:
      start_server (self, edit->name);
      /* The form is ready for the next one, unless the user already
       * started typing it. */
      {
        g_autofree char *name = _confab_form_dup_entry_text (self->add_name_row);

        if (g_str_equal (name, edit->name))
          {
            gtk_editable_set_text (GTK_EDITABLE (self->add_name_row), "");
            gtk_editable_set_text (GTK_EDITABLE (self->add_command_row), "");
            gtk_editable_set_text (GTK_EDITABLE (self->add_env_row), "");
          }
      }
      /* Translators: %s is the name of an MCP server */
      text = g_strdup_printf (_("Added “%s”"), edit->name);
      _confab_form_show_message (self->add_message_label, CONFAB_FORM_INFO, text);
      break;

    case EDIT_REMOVE:
      /* Translators: %s is the name of an MCP server */
      text = g_strdup_printf (_("Removed “%s”"), edit->name);
      toast (self, text);
      break;

    case EDIT_IMPORT:
      for (guint i = 0; i < edit->imported->len; i++)
        start_server (self, g_ptr_array_index (edit->imported, i));
      show_import_result (self, edit);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* @edit was not saved: the file and the servers are as they were. */
static void
fail_edit (ConfabMcpPage *self,
           Edit          *edit,
           const char    *message)
{
  switch (edit->kind)
    {
    case EDIT_ADD:
      _confab_form_show_message (self->add_message_label, CONFAB_FORM_ERROR, message);
      break;

    case EDIT_IMPORT:
      _confab_form_show_message (self->import_message_label, CONFAB_FORM_ERROR, message);
      break;

    case EDIT_ENABLE:
    case EDIT_REMOVE:
    default:
      _confab_form_show_message (self->servers_message_label, CONFAB_FORM_ERROR, message);
      break;
    }
}

static void
saved_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SaveOp) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  ConfabMcpPage *self = op->self;
  gboolean saved;

  /* What was written is applied even when Preferences was closed
   * meanwhile: the file and the running servers agree. */
  saved = confab_mcp_manager_save_finish (op->manager, result, &error);
  if (saved)
    confab_mcp_manager_apply_config (op->manager, op->config);

  self->saving = FALSE;
  if (saved)
    {
      for (guint i = 0; i < op->edits->len && !is_disposed (self); i++)
        finish_edit (self, g_ptr_array_index (op->edits, i));
      /* Edits made meanwhile are written too, even once the page is
       * gone. */
      if (self->pending->len > 0)
        start_save (self);
      else
        g_clear_object (&self->config);
      return;
    }

  if (is_disposed (self))
    {
      g_ptr_array_set_size (self->pending, 0);
      g_clear_object (&self->config);
      return;
    }

  /* Translators: %s says why */
  message = g_strdup_printf (_("The MCP configuration was not saved: %s"), error->message);
  for (guint i = 0; i < op->edits->len; i++)
    fail_edit (self, g_ptr_array_index (op->edits, i), message);
  for (guint i = 0; i < self->pending->len; i++)
    fail_edit (self, g_ptr_array_index (self->pending, i), message);
  g_ptr_array_set_size (self->pending, 0);
  g_clear_object (&self->config);
  sync_rows (self);
}

static void
start_save (ConfabMcpPage *self)
{
  SaveOp *op = g_new0 (SaveOp, 1);

  g_assert (!self->saving);
  g_assert (self->config != NULL);

  op->self = g_object_ref (self);
  op->manager = g_object_ref (self->manager);
  op->config = g_object_ref (self->config);
  op->edits = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new_with_free_func (edit_free);
  self->saving = TRUE;

  /* Not cancelled with the page: a write that started is applied. */
  confab_mcp_manager_save_async (self->manager, op->config, NULL, saved_cb, op);
}

/* A copy of the working configuration to change, or NULL (and the
 * reason in @error) when there is none to change. */
static ConfabMcpConfig *
begin_edit (ConfabMcpPage  *self,
            GError        **error)
{
  ConfabMcpConfig *config = working_config (self);

  if (config == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The MCP configuration has not been read"));
      return NULL;
    }
  return copy_config (config, error);
}

/* @config (from begin_edit()) becomes the working configuration, and
 * is saved as soon as no other save is under way. */
static void
commit_edit (ConfabMcpPage   *self,
             ConfabMcpConfig *config,
             Edit            *edit)
{
  g_set_object (&self->config, config);
  g_ptr_array_add (self->pending, edit);
  _confab_form_hide_message (self->servers_message_label);
  sync_rows (self);
  if (!self->saving)
    start_save (self);
}

/* Server rows: the user's changes */

static void
enable_switch_cb (GtkSwitch  *enable_switch,
                  GParamSpec *pspec,
                  ServerRow  *sr)
{
  ConfabMcpPage *self = sr->self;
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  ConfabMcpServerConfig *server_config;
  gboolean enabled = gtk_switch_get_active (enable_switch);
  Edit *edit;

  if (self->syncing || is_disposed (self))
    return;

  config = begin_edit (self, &error);
  server_config = config != NULL ? confab_mcp_config_lookup (config, sr->name) : NULL;
  if (server_config == NULL)
    {
      if (error != NULL)
        _confab_form_show_message (self->servers_message_label, CONFAB_FORM_ERROR, error->message);
      sync_rows (self);
      return;
    }
  if (confab_mcp_server_config_get_enabled (server_config) == enabled)
    return;

  confab_mcp_server_config_set_enabled (server_config, enabled);
  edit = edit_new (EDIT_ENABLE, sr->name);
  edit->enabled = enabled;
  commit_edit (self, config, edit);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    ConfabMcpPage    *self)
{
  const char *name = g_object_get_data (G_OBJECT (dialog), "confab-server-name");
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (is_disposed (self) || g_strcmp0 (response, "remove") != 0)
    return;

  config = begin_edit (self, &error);
  if (config == NULL)
    {
      _confab_form_show_message (self->servers_message_label, CONFAB_FORM_ERROR, error->message);
      return;
    }
  /* Removed meanwhile (twice confirmed, or the file changed) */
  if (!confab_mcp_config_remove_server (config, name))
    return;

  commit_edit (self, config, edit_new (EDIT_REMOVE, name));
}

static void
remove_clicked_cb (GtkButton *button,
                   ServerRow *sr)
{
  ConfabMcpPage *self = sr->self;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwMessageDialog *dialog;

  if (is_disposed (self))
    return;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, NULL, NULL));
  adw_message_dialog_format_heading (dialog,
                                     /* Translators: %s is the name of an MCP server */
                                     _("Remove “%s”?"), sr->name);
  adw_message_dialog_format_body (dialog,
                                  /* Translators: %s is a file */
                                  _("Confab stops the server and removes it from %s."),
                                  confab_mcp_manager_get_config_path (self->manager));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "confab-server-name", g_strdup (sr->name), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Server rows: building and updating */

static int
compare_rows (GtkListBoxRow *a,
              GtkListBoxRow *b,
              gpointer       user_data)
{
  ServerRow *sa = server_row_get (GTK_WIDGET (a));
  ServerRow *sb = server_row_get (GTK_WIDGET (b));

  if (sa == NULL || sb == NULL)
    return 0;
  return sa->position < sb->position ? -1 : sa->position > sb->position;
}

/* A heading and, below it, @value, which it names for screen readers. */
static void
append_field (GtkBox     *box,
              const char *heading,
              GtkWidget  *value,
              GtkWidget **heading_out)
{
  GtkWidget *label = gtk_label_new (heading);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (box, label);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL, -1);
  gtk_box_append (box, value);
  if (heading_out != NULL)
    *heading_out = label;
}

static GtkLabel *
new_value_label (const char *widget_name,
                 gboolean    monospace)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_name (label, widget_name);
  if (monospace)
    gtk_widget_add_css_class (label, "monospace");
  return GTK_LABEL (label);
}

static ServerRow *
server_row_new (ConfabMcpPage *self,
                const char    *name,
                gboolean       unsupported)
{
  ServerRow *sr = g_new0 (ServerRow, 1);

  sr->self = self;
  sr->name = g_strdup (name);
  sr->unsupported = unsupported;
  return sr;
}

/* An HTTP server of the file: Confab keeps it there but cannot run it. */
static GtkWidget *
add_unsupported_row (ConfabMcpPage *self,
                     const char    *name)
{
  ServerRow *sr = server_row_new (self, name, TRUE);
  GtkWidget *row = adw_action_row_new ();

  sr->row = row;
  g_object_set_data_full (G_OBJECT (row), SERVER_ROW_KEY, sr, server_row_free);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_list_box_append (self->servers_list, row);
  g_hash_table_insert (self->rows, g_strdup (name), row);
  update_status (sr);
  return row;
}

static GtkWidget *
add_server_row (ConfabMcpPage *self,
                const char    *name)
{
  ServerRow *sr = server_row_new (self, name, FALSE);
  GtkTextBuffer *buffer;
  GtkTextIter end;
  GtkWidget *expander;
  GtkWidget *box;
  GtkWidget *scrolled;
  GtkWidget *row;
  GtkWidget *widget;

  expander = adw_expander_row_new ();
  sr->row = expander;
  g_object_set_data_full (G_OBJECT (expander), SERVER_ROW_KEY, sr, server_row_free);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (expander), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (expander), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);

  /* On and off */
  widget = gtk_switch_new ();
  sr->enable_switch = GTK_SWITCH (widget);
  gtk_widget_set_name (widget, "enable-switch");
  gtk_widget_set_valign (widget, GTK_ALIGN_CENTER);
  {
    /* Translators: %s is the name of an MCP server */
    g_autofree char *label = g_strdup_printf (_("Run “%s”"), name);

    gtk_widget_set_tooltip_text (widget, label);
    gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  }
  g_signal_connect (widget, "notify::active", G_CALLBACK (enable_switch_cb), sr);
  adw_expander_row_add_action (ADW_EXPANDER_ROW (expander), widget);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  sr->error_label = new_value_label ("error-label", FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (sr->error_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (sr->error_label), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (sr->error_label));

  sr->command_label = new_value_label ("command-label", TRUE);
  append_field (GTK_BOX (box), _("Command"), GTK_WIDGET (sr->command_label), NULL);

  sr->env_label = new_value_label ("env-label", TRUE);
  append_field (GTK_BOX (box), _("Environment Variables"), GTK_WIDGET (sr->env_label), &sr->env_heading);

  sr->tools_label = new_value_label ("tools-label", FALSE);
  append_field (GTK_BOX (box), _("Tools"), GTK_WIDGET (sr->tools_label), NULL);

  /* Its stderr, as it grows */
  widget = gtk_text_view_new ();
  sr->log_view = GTK_TEXT_VIEW (widget);
  gtk_widget_set_name (widget, "log-view");
  gtk_text_view_set_editable (sr->log_view, FALSE);
  gtk_text_view_set_cursor_visible (sr->log_view, FALSE);
  gtk_text_view_set_monospace (sr->log_view, TRUE);
  gtk_text_view_set_wrap_mode (sr->log_view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (sr->log_view, FALSE);
  gtk_text_view_set_top_margin (sr->log_view, 6);
  gtk_text_view_set_bottom_margin (sr->log_view, 6);
  gtk_text_view_set_left_margin (sr->log_view, 6);
  gtk_text_view_set_right_margin (sr->log_view, 6);
  buffer = gtk_text_view_get_buffer (sr->log_view);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_create_mark (buffer, "log-end", &end, FALSE);
  {
    /* Translators: %s is the name of an MCP server */
    g_autofree char *label = g_strdup_printf (_("Log of “%s”"), name);

    gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  }
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), LOG_MAX_HEIGHT);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), widget);
  sr->log_frame = gtk_frame_new (NULL);
  gtk_frame_set_child (GTK_FRAME (sr->log_frame), scrolled);
  gtk_widget_set_visible (sr->log_frame, FALSE);
  append_field (GTK_BOX (box), _("Log"), sr->log_frame, NULL);
  sr->log_empty_label = new_value_label ("log-empty-label", FALSE);
  gtk_label_set_text (sr->log_empty_label, _("Nothing written on stderr"));
  gtk_widget_add_css_class (GTK_WIDGET (sr->log_empty_label), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (sr->log_empty_label));

  widget = gtk_button_new_with_mnemonic (_("_Remove"));
  sr->remove_button = GTK_BUTTON (widget);
  gtk_widget_set_name (widget, "remove-button");
  gtk_widget_set_halign (widget, GTK_ALIGN_END);
  gtk_widget_set_margin_top (widget, 6);
  gtk_widget_add_css_class (widget, "destructive-action");
  {
    /* Translators: %s is the name of an MCP server */
    g_autofree char *label = g_strdup_printf (_("Remove “%s”"), name);

    gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  }
  g_signal_connect (widget, "clicked", G_CALLBACK (remove_clicked_cb), sr);
  gtk_box_append (GTK_BOX (box), widget);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);

  gtk_list_box_append (self->servers_list, expander);
  g_hash_table_insert (self->rows, g_strdup (name), expander);
  return expander;
}

/* Shows @config (a server of the working configuration) in @sr, and the
 * manager's process for it. */
static void
update_server_row (ConfabMcpPage         *self,
                   ServerRow             *sr,
                   ConfabMcpServerConfig *config)
{
  g_autofree char *command_line = dup_command_line (config);
  g_autofree char *env = dup_env_names (config);
  ConfabMcpServer *server = confab_mcp_manager_lookup (self->manager, sr->name);

  g_set_object (&sr->config, config);
  /* A server the manager runs for another entry of the same name (the
   * command changed, not yet applied) is not this one's. Without one,
   * what it wrote last stays in view. */
  if (server != NULL && !confab_mcp_server_config_equal (confab_mcp_server_get_config (server), config))
    server = NULL;
  bind_server (sr, server);

  self->syncing = TRUE;
  gtk_switch_set_active (sr->enable_switch, confab_mcp_server_config_get_enabled (config));
  self->syncing = FALSE;

  gtk_label_set_text (sr->command_label, command_line);
  gtk_label_set_text (sr->env_label, env != NULL ? env : "");
  gtk_widget_set_visible (sr->env_heading, env != NULL);
  gtk_widget_set_visible (GTK_WIDGET (sr->env_label), env != NULL);

  update_status (sr);
  update_tools (sr);
  update_log (sr);
}

static void
remove_row (ConfabMcpPage *self,
            GtkWidget     *row)
{
  ServerRow *sr = server_row_get (row);

  bind_server (sr, NULL);
  g_hash_table_remove (self->rows, sr->name);
  gtk_list_box_remove (self->servers_list, row);
}

/* Makes the rows those of the working configuration, in its order:
 * rows are kept (with their expanded state and focus) for servers that
 * are still there. */
static void
sync_rows (ConfabMcpPage *self)
{
  ConfabMcpConfig *config = working_config (self);
  g_auto(GStrv) unsupported = config != NULL ? confab_mcp_config_dup_unsupported (config) : NULL;
  GPtrArray *servers = config != NULL ? confab_mcp_config_get_servers (config) : NULL;
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint position = 0;

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    server_row_get (value)->seen = FALSE;

  for (guint i = 0; servers != NULL && i < servers->len; i++)
    {
      ConfabMcpServerConfig *server_config = g_ptr_array_index (servers, i);
      const char *name = confab_mcp_server_config_get_name (server_config);
      GtkWidget *row = g_hash_table_lookup (self->rows, name);
      ServerRow *sr;

      if (row != NULL && server_row_get (row)->unsupported)
        {
          remove_row (self, row);
          row = NULL;
        }
      if (row == NULL)
        row = add_server_row (self, name);
      sr = server_row_get (row);
      sr->seen = TRUE;
      sr->position = position++;
      update_server_row (self, sr, server_config);
    }

  for (guint i = 0; unsupported != NULL && unsupported[i] != NULL; i++)
    {
      GtkWidget *row = g_hash_table_lookup (self->rows, unsupported[i]);
      ServerRow *sr;

      if (row != NULL && !server_row_get (row)->unsupported)
        {
          remove_row (self, row);
          row = NULL;
        }
      if (row == NULL)
        row = add_unsupported_row (self, unsupported[i]);
      sr = server_row_get (row);
      sr->seen = TRUE;
      sr->position = position++;
    }

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!server_row_get (value)->seen)
      g_ptr_array_add (gone, value);
  for (guint i = 0; i < gone->len; i++)
    remove_row (self, g_ptr_array_index (gone, i));

  gtk_list_box_invalidate_sort (self->servers_list);
}

/* Whether the file could be read, and what the page lets the user do. */
static void
sync_state (ConfabMcpPage *self)
{
  ConfabMcpConfig *config = working_config (self);
  const char *path = confab_mcp_manager_get_config_path (self->manager);
  gboolean broken = config == NULL && self->load_error != NULL;
  g_autofree char *description = NULL;

  /* Translators: %s is the file that lists the MCP servers */
  description = g_strdup_printf (_("Programs that give the model more tools. Confab starts each one once and "
                                   "keeps it running. They are listed in %s."),
                                 path);
  adw_preferences_group_set_description (self->servers_group, description);

  gtk_widget_set_visible (GTK_WIDGET (self->error_group), broken);
  if (broken)
    {
      g_autofree char *hint = NULL;

      gtk_label_set_text (self->error_label, self->load_error->message);
      /* Translators: %s is a file */
      hint = g_strdup_printf (_("Confab does not change %s until it can read it. Fix the file in a text "
                                "editor, then read it again."),
                              path);
      gtk_label_set_text (self->error_hint_label, hint);
    }

  /* Nothing to edit before the file is read. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->servers_group), config != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->add_group), config != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_group), config != NULL);
}

static void
servers_changed_cb (ConfabMcpManager *manager,
                    ConfabMcpPage    *self)
{
  sync_state (self);
  sync_rows (self);
}

/* Reading the file again after the user fixed it */

static void
reloaded_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(ConfabMcpPage) self = user_data;
  g_autoptr(GError) error = NULL;

  /* Applied even when the page is gone: the file now reads. */
  if (confab_mcp_manager_load_finish (CONFAB_MCP_MANAGER (object), result, &error))
    {
      confab_mcp_manager_start_all_async (CONFAB_MCP_MANAGER (object), NULL, NULL, NULL);
      g_clear_error (&self->load_error);
    }
  else
    {
      g_clear_error (&self->load_error);
      self->load_error = g_steal_pointer (&error);
    }

  if (is_disposed (self))
    return;

  self->reloading = FALSE;
  sync_state (self);
}

static void
reload_clicked_cb (ConfabMcpPage *self)
{
  if (self->reloading || is_disposed (self))
    return;

  self->reloading = TRUE;
  confab_mcp_manager_load_async (self->manager, NULL, reloaded_cb, g_object_ref (self));
}

/* The Add Server form */

static void
add_field_changed_cb (GtkWidget     *field,
                      GParamSpec    *pspec,
                      ConfabMcpPage *self)
{
  _confab_form_mark_field (field, NULL);
}

/* Shows @message at @field, which gets the focus. */
static void
refuse_field (ConfabMcpPage *self,
              AdwEntryRow   *field,
              const char    *message)
{
  _confab_form_show_message (self->add_message_label, CONFAB_FORM_ERROR, message);
  _confab_form_mark_field (GTK_WIDGET (field), message);
  _confab_form_focus_entry (field);
}

static void
add_server (ConfabMcpPage *self)
{
  g_autofree char *name = _confab_form_dup_entry_text (self->add_name_row);
  g_autofree char *command = _confab_form_dup_entry_text (self->add_command_row);
  g_autofree char *env = _confab_form_dup_entry_text (self->add_env_row);
  g_autoptr(ConfabMcpServerConfig) server_config = NULL;
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) variables = NULL;

  if (is_disposed (self))
    return;

  _confab_form_mark_field (GTK_WIDGET (self->add_name_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_command_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_env_row), NULL);

  config = begin_edit (self, &error);
  if (config == NULL)
    {
      _confab_form_show_message (self->add_message_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  if (!confab_mcp_server_name_validate (name, &error))
    {
      refuse_field (self, self->add_name_row, error->message);
      return;
    }
  if (has_server (config, name))
    {
      /* Translators: %s is the name of an MCP server */
      g_autofree char *message = g_strdup_printf (_("There already is an MCP server named “%s”"), name);

      refuse_field (self, self->add_name_row, message);
      return;
    }

  if (command[0] == '\0')
    {
      refuse_field (self, self->add_command_row, _("Enter the command that starts the server"));
      return;
    }
  if (!g_shell_parse_argv (command, NULL, &argv, &error))
    {
      /* Translators: %s says what is wrong with the command line */
      g_autofree char *message = g_strdup_printf (_("The command cannot be read: %s"), error->message);

      refuse_field (self, self->add_command_row, message);
      return;
    }

  if (env[0] != '\0' && !g_shell_parse_argv (env, NULL, &variables, &error))
    {
      /* Translators: %s says what is wrong with the text */
      g_autofree char *message = g_strdup_printf (_("The environment cannot be read: %s"), error->message);

      refuse_field (self, self->add_env_row, message);
      return;
    }
  for (guint i = 0; variables != NULL && variables[i] != NULL; i++)
    {
      const char *equals = strchr (variables[i], '=');

      if (equals == NULL || equals == variables[i])
        {
          /* Translators: %s is what the user wrote; NAME=VALUE stays as it is */
          g_autofree char *message = g_strdup_printf (_("“%s” is not NAME=VALUE"), variables[i]);

          refuse_field (self, self->add_env_row, message);
          return;
        }
    }

  server_config = confab_mcp_server_config_new (name, argv[0], (const char * const *)argv + 1);
  for (guint i = 0; variables != NULL && variables[i] != NULL; i++)
    {
      g_autofree char *variable = g_strndup (variables[i], strchr (variables[i], '=') - variables[i]);

      confab_mcp_server_config_set_env (server_config, variable, strchr (variables[i], '=') + 1);
    }

  _confab_form_hide_message (self->add_message_label);
  confab_mcp_config_add_server (config, server_config);
  commit_edit (self, config, edit_new (EDIT_ADD, name));
}

/* Import from Claude Desktop */

typedef struct
{
  char *config_path;
  char *import_path;
} ImportData;

static void
import_data_free (gpointer data)
{
  ImportData *import = data;

  g_free (import->config_path);
  g_free (import->import_path);
  g_free (import);
}

/* Reads the file into an empty configuration: merged into the working
 * one back on the main thread, which may have changed meanwhile. */
static void
import_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  ImportData *import = data;
  g_autoptr(ConfabMcpConfig) config = confab_mcp_config_new (import->config_path);
  GError *error = NULL;

  if (!confab_mcp_config_import (config, import->import_path, FALSE, NULL, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&config), g_object_unref);
}

static void
imported_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);
  ImportData *import = g_task_get_task_data (G_TASK (result));
  g_autoptr(ConfabMcpConfig) source = NULL;
  g_autoptr(ConfabMcpConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *servers;
  Edit *edit;

  source = g_task_propagate_pointer (G_TASK (result), &error);
  if (is_disposed (self))
    return;

  self->importing = FALSE;
  if (source != NULL)
    config = begin_edit (self, &error);
  if (config == NULL)
    {
      _confab_form_show_message (self->import_message_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  edit = edit_new (EDIT_IMPORT, NULL);
  edit->imported = g_ptr_array_new_with_free_func (g_free);
  edit->skipped = g_ptr_array_new_with_free_func (g_free);
  servers = confab_mcp_config_get_servers (source);
  for (guint i = 0; i < servers->len; i++)
    {
      ConfabMcpServerConfig *server_config = g_ptr_array_index (servers, i);
      const char *name = confab_mcp_server_config_get_name (server_config);

      if (has_server (config, name))
        g_ptr_array_add (edit->skipped, g_strdup (name));
      else
        {
          confab_mcp_config_add_server (config, server_config);
          g_ptr_array_add (edit->imported, g_strdup (name));
        }
    }

  if (edit->imported->len == 0)
    {
      g_autofree char *text = NULL;

      if (edit->skipped->len == 0)
        /* Translators: %s is a file */
        text = g_strdup_printf (_("%s has no MCP servers Confab can run."), import->import_path);
      else
        {
          g_autofree char *skipped = join_names (edit->skipped);

          /* Translators: %s are the names of MCP servers */
          text = g_strdup_printf (_("Nothing to import: Confab already has %s."), skipped);
        }
      _confab_form_show_message (self->import_message_label, CONFAB_FORM_INFO, text);
      edit_free (edit);
      return;
    }

  _confab_form_hide_message (self->import_message_label);
  commit_edit (self, config, edit);
}

static void
import_clicked_cb (ConfabMcpPage *self)
{
  g_autoptr(GTask) task = NULL;
  ImportData *import;

  if (self->importing || is_disposed (self) || working_config (self) == NULL)
    return;

  self->importing = TRUE;
  import = g_new0 (ImportData, 1);
  import->config_path = g_strdup (confab_mcp_manager_get_config_path (self->manager));
  import->import_path = self->import_path != NULL ? g_strdup (self->import_path)
                                                  : confab_mcp_config_get_claude_desktop_path ();

  task = g_task_new (self, self->cancellable, imported_cb, NULL);
  g_task_set_source_tag (task, import_clicked_cb);
  g_task_set_task_data (task, import, import_data_free);
  g_task_run_in_thread (task, import_thread);
}

static void
sync_import_row (ConfabMcpPage *self)
{
  g_autofree char *path = self->import_path != NULL ? g_strdup (self->import_path)
                                                    : confab_mcp_config_get_claude_desktop_path ();

  adw_action_row_set_subtitle (self->import_row, path);
}

/* GObject */

static void
confab_mcp_page_constructed (GObject *object)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);

  G_OBJECT_CLASS (confab_mcp_page_parent_class)->constructed (object);

  g_assert (CONFAB_IS_MCP_MANAGER (self->manager));

  g_signal_connect (self->manager, "servers-changed", G_CALLBACK (servers_changed_cb), self);
  sync_state (self);
  sync_rows (self);
}

static void
confab_mcp_page_dispose (GObject *object)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);
  GHashTableIter iter;
  gpointer value;

  /* First: every callback from here on returns at once. */
  g_cancellable_cancel (self->cancellable);

  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  if (self->rows != NULL)
    {
      g_hash_table_iter_init (&iter, self->rows);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        bind_server (server_row_get (value), NULL);
      g_hash_table_remove_all (self->rows);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), CONFAB_TYPE_MCP_PAGE);

  G_OBJECT_CLASS (confab_mcp_page_parent_class)->dispose (object);
}

static void
confab_mcp_page_finalize (GObject *object)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);

  /* Kept until here: a save under way when the page was closed still
   * writes and applies the edits that wait for it. */
  g_clear_object (&self->manager);
  g_clear_object (&self->config);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->load_error);
  g_clear_pointer (&self->import_path, g_free);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_hash_table_unref);

  G_OBJECT_CLASS (confab_mcp_page_parent_class)->finalize (object);
}

static void
confab_mcp_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;

    case PROP_LOAD_ERROR:
      g_value_set_boxed (value, self->load_error);
      break;

    case PROP_IMPORT_PATH:
      g_value_set_string (value, self->import_path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_mcp_page_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  ConfabMcpPage *self = CONFAB_MCP_PAGE (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      g_set_object (&self->manager, g_value_get_object (value));
      break;

    case PROP_LOAD_ERROR:
      g_clear_error (&self->load_error);
      self->load_error = g_value_dup_boxed (value);
      break;

    case PROP_IMPORT_PATH:
      confab_mcp_page_set_import_path (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_mcp_page_class_init (ConfabMcpPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = confab_mcp_page_constructed;
  object_class->dispose = confab_mcp_page_dispose;
  object_class->finalize = confab_mcp_page_finalize;
  object_class->get_property = confab_mcp_page_get_property;
  object_class->set_property = confab_mcp_page_set_property;

  /**
   * ConfabMcpPage:manager:
   *
   * The MCP servers shown and edited.
   */
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL,
                         CONFAB_TYPE_MCP_MANAGER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * ConfabMcpPage:load-error:
   *
   * Why the configuration could not be read at start-up, or %NULL.
   */
  properties[PROP_LOAD_ERROR] =
    g_param_spec_boxed ("load-error", NULL, NULL,
                        G_TYPE_ERROR,
                        (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * ConfabMcpPage:import-path:
   *
   * The file "Import from Claude Desktop" reads; %NULL for Claude
   * Desktop's own.
   */
  properties[PROP_IMPORT_PATH] =
    g_param_spec_string ("import-path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/confab/Confab/ui/confab-mcp-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, error_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, error_hint_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, reload_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, servers_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, servers_list);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, servers_message_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_name_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_command_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_env_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_message_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, add_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, import_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, import_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, import_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMcpPage, import_message_label);
}

static void
confab_mcp_page_init (ConfabMcpPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->pending = g_ptr_array_new_with_free_func (edit_free);
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_list_box_set_sort_func (self->servers_list, compare_rows, NULL, NULL);
  /* Command lines in monospace, as in a terminal; the titles as usual */
  gtk_widget_add_css_class (GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (self->add_command_row))),
                            "monospace");
  gtk_widget_add_css_class (GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (self->add_env_row))),
                            "monospace");
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self->import_row), FALSE);
  sync_import_row (self);

  g_signal_connect_object (self->reload_button, "clicked",
                           G_CALLBACK (reload_clicked_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_name_row, "notify::text",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_command_row, "notify::text",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_env_row, "notify::text",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_name_row, "entry-activated",
                           G_CALLBACK (add_server), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_command_row, "entry-activated",
                           G_CALLBACK (add_server), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_env_row, "entry-activated",
                           G_CALLBACK (add_server), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_button, "clicked",
                           G_CALLBACK (add_server), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->import_button, "clicked",
                           G_CALLBACK (import_clicked_cb), self, G_CONNECT_SWAPPED);
}

/* Public API */

/**
 * confab_mcp_page_new:
 * @manager: the MCP servers
 * @load_error: (nullable): why the configuration could not be read at
 *   start-up
 *
 * Creates the MCP Servers page; add it to an AdwPreferencesWindow.
 * Main thread.
 *
 * Returns: (transfer floating): the new page
 */
GtkWidget *
confab_mcp_page_new (ConfabMcpManager *manager,
                     const GError     *load_error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (manager), NULL);

  return g_object_new (CONFAB_TYPE_MCP_PAGE,
                       "manager", manager,
                       "load-error", load_error,
                       NULL);
}

/**
 * confab_mcp_page_get_import_path:
 *
 * Returns: (nullable): the file "Import from Claude Desktop" reads, or
 *   %NULL for Claude Desktop's own; owned by @self.
 */
const char *
confab_mcp_page_get_import_path (ConfabMcpPage *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_PAGE (self), NULL);
  return self->import_path;
}

/**
 * confab_mcp_page_set_import_path:
 * @path: (nullable): a configuration with "mcpServers", or %NULL for
 *   Claude Desktop's
 *
 * Sets the file "Import from Claude Desktop" reads. Main thread.
 */
void
confab_mcp_page_set_import_path (ConfabMcpPage *self,
                                 const char    *path)
{
  g_return_if_fail (CONFAB_IS_MCP_PAGE (self));

  if (g_strcmp0 (self->import_path, path) == 0)
    return;

  g_free (self->import_path);
  self->import_path = g_strdup (path);
  sync_import_row (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMPORT_PATH]);
}
