/* confab-application.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <gtksourceview/gtksource.h>

#include "confab-application.h"
#include "confab-preferences-window.h"
#include "confab-resources.h"
#include "confab-window.h"

/* The application opens the conversation store on its worker thread at
 * start-up; windows appear at once and fill in when it is ready. */
struct _ConfabApplication
{
  AdwApplication  parent_instance;

  ConfabStore    *store;
  GError         *store_error;
  char           *store_path;
  ConfabToolbox  *toolbox;
  GSettings      *settings;
  ConfabMcpManager *mcp;
  GError         *mcp_error;
};

G_DEFINE_FINAL_TYPE (ConfabApplication, confab_application, ADW_TYPE_APPLICATION)

static void
store_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ConfabApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  GList *windows;

  self->store = confab_store_new_finish (result, &error);
  if (self->store == NULL)
    self->store_error = g_steal_pointer (&error);

  windows = gtk_application_get_windows (GTK_APPLICATION (self));
  for (GList *l = windows; l != NULL; l = l->next)
    if (CONFAB_IS_WINDOW (l->data))
      confab_window_set_store (l->data, self->store,
                               self->store != NULL ? confab_store_get_open_error (self->store)
                                                   : self->store_error);

  g_application_release (G_APPLICATION (self));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer      user_data)
{
  static const char *developers[] = { "The Confab developers", NULL };
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  adw_show_about_window (window,
                         "application-name", _("Confab"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Confab developers"),
                         "version", PACKAGE_VERSION,
                         "comments", _("Chat with language models and let them act as agents"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer      user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

/* Preferences may outlive its parent for a moment (a keyring call still
 * under way); it must not keep pointing at a parent that is gone. */
static void
parent_destroyed_cb (GtkWidget *parent,
                     GtkWindow *prefs)
{
  if (gtk_window_get_transient_for (prefs) == GTK_WINDOW (parent))
    gtk_window_set_transient_for (prefs, NULL);
}

/* One Preferences window at a time; the main window follows the
 * provider changes made there. */
static ConfabPreferencesWindow *
present_preferences (ConfabApplication *self)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));
  ConfabPreferencesWindow *prefs = NULL;

  for (GList *l = windows; l != NULL; l = l->next)
    if (CONFAB_IS_PREFERENCES_WINDOW (l->data))
      prefs = l->data;

  if (parent != NULL && CONFAB_IS_PREFERENCES_WINDOW (parent))
    parent = gtk_window_get_transient_for (parent);

  if (prefs == NULL)
    {
      prefs = CONFAB_PREFERENCES_WINDOW (confab_preferences_window_new (parent, self->store));
      gtk_window_set_application (GTK_WINDOW (prefs), GTK_APPLICATION (self));
      if (CONFAB_IS_WINDOW (parent))
        g_signal_connect_object (prefs, "providers-changed", G_CALLBACK (confab_window_reload_providers),
                                 parent, G_CONNECT_SWAPPED);
      if (parent != NULL)
        g_signal_connect_object (parent, "destroy", G_CALLBACK (parent_destroyed_cb), prefs, 0);
    }

  gtk_window_present (GTK_WINDOW (prefs));
  return prefs;
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer      user_data)
{
  present_preferences (CONFAB_APPLICATION (user_data));
}

static void
add_provider_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer      user_data)
{
  ConfabPreferencesWindow *prefs = present_preferences (CONFAB_APPLICATION (user_data));

  confab_preferences_window_add_provider_template (prefs, g_variant_get_string (parameter, NULL));
}

static void
show_conversation_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer      user_data)
{
  ConfabApplication *self = user_data;
  GtkWindow *window;

  g_application_activate (G_APPLICATION (self));
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (CONFAB_IS_WINDOW (window))
    confab_window_show_conversation (CONFAB_WINDOW (window), g_variant_get_int64 (parameter));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
  { "show-conversation", show_conversation_action, "x" },
  { "preferences", preferences_action },
  { "add-provider", add_provider_action, "s" },
};

/* The user's "always ask / allow / never" per tool, from GSettings. */
static void
apply_tool_policies (ConfabApplication *self)
{
  g_autoptr(GVariant) policies = NULL;
  GVariantIter iter;
  const char *name;
  const char *value;

  if (self->settings == NULL)
    return;

  /* Policies are kept by name: those of tools not here yet (an MCP
   * server still starting) apply when they come. */
  confab_toolbox_clear_policies (self->toolbox);
  policies = g_settings_get_value (self->settings, "tool-approval");
  g_variant_iter_init (&iter, policies);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &value))
    {
      ConfabToolPolicy policy;

      if (confab_tool_policy_from_string (value, &policy))
        confab_toolbox_set_policy (self->toolbox, name, policy);
    }
}

static void
tool_policies_changed_cb (GSettings         *settings,
                          const char        *key,
                          ConfabApplication *self)
{
  apply_tool_policies (self);
}

static void
mcp_started_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* A server that failed says why in Preferences; the others run. */
  if (!confab_mcp_manager_start_all_finish (CONFAB_MCP_MANAGER (object), result, &error))
    g_debug ("Not every MCP server started: %s", error->message);
}

static void
mcp_servers_changed_cb (ConfabApplication *self)
{
  g_clear_error (&self->mcp_error);
}

static void
mcp_loaded_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ConfabApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_error (&self->mcp_error);
  if (!confab_mcp_manager_load_finish (CONFAB_MCP_MANAGER (object), result, &error))
    {
      /* Shown in Preferences, where the servers are edited. */
      self->mcp_error = g_steal_pointer (&error);
      return;
    }

  /* Every server starts now, all at once, and stays up: their tools are
   * there for the first turn. */
  confab_mcp_manager_start_all_async (CONFAB_MCP_MANAGER (object), NULL, mcp_started_cb, NULL);
}

static void
confab_application_activate (GApplication *app)
{
  ConfabApplication *self = CONFAB_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      window = GTK_WINDOW (confab_window_new (self));
      if (self->store != NULL || self->store_error != NULL)
        confab_window_set_store (CONFAB_WINDOW (window), self->store,
                                 self->store != NULL ? confab_store_get_open_error (self->store)
                                                     : self->store_error);
    }

  gtk_window_present (window);
}

static void
confab_application_startup (GApplication *app)
{
  ConfabApplication *self = CONFAB_APPLICATION (app);
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.new-chat", { "<Control>n", NULL } },
    { "win.focus-composer", { "<Control>l", NULL } },
    { "win.search", { "<Control>k", NULL } },
    { "win.previous-conversation", { "<Control>Page_Up", "<Alt>Up", NULL } },
    { "win.next-conversation", { "<Control>Page_Down", "<Alt>Down", NULL } },
    { "win.copy-last-reply", { "<Control><Shift>c", NULL } },
    { "win.rename", { "F2", NULL } },
    { "win.regenerate", { "<Control>r", NULL } },
    { "win.pin", { "<Control>p", NULL } },
    { "win.find", { "<Control>f", NULL } },
    { "win.archive", { "<Control><Shift>a", NULL } },
    { "win.grant-folder", { "<Control><Shift>o", NULL } },
    { "conversation.allow-private-network", { "<Control><Shift>n", NULL } },
    { "win.revoke-tool-access", { "<Control><Shift>r", NULL } },
  };

  /* A static library may drop its resources unless they are registered. */
  g_resources_register (confab_get_resource ());

  G_APPLICATION_CLASS (confab_application_parent_class)->startup (app);

  gtk_source_init ();

  /* Every tool Confab has, with the user's policies. */
  self->toolbox = confab_toolbox_new ();
  confab_builtin_tools_add_all (self->toolbox);
  {
    GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
    g_autoptr(GSettingsSchema) schema = source != NULL ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;

    if (schema != NULL && g_settings_schema_has_key (schema, "tool-approval"))
      {
        self->settings = g_settings_new (APP_ID);
        g_signal_connect (self->settings, "changed::tool-approval", G_CALLBACK (tool_policies_changed_cb), self);
      }
  }
  apply_tool_policies (self);

  /* MCP servers from the user's mcp.json, read on a worker thread. */
  self->mcp = confab_mcp_manager_new (NULL);
  confab_mcp_manager_set_toolbox (self->mcp, self->toolbox);
  /* A configuration read since (Preferences' Read Again) replaces the
   * start-up error. */
  g_signal_connect_swapped (self->mcp, "servers-changed", G_CALLBACK (mcp_servers_changed_cb), self);
  confab_mcp_manager_load_async (self->mcp, NULL, mcp_loaded_cb, g_object_ref (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);

  /* Opening runs on the store's worker thread: the window shows at once. */
  g_application_hold (app);
  confab_store_new_async (self->store_path, NULL, store_ready_cb, g_object_ref (self));
}

static void
confab_application_shutdown (GApplication *app)
{
  ConfabApplication *self = CONFAB_APPLICATION (app);

  /* MCP servers get their stdin closed, then SIGTERM, then SIGKILL. */
  if (self->mcp != NULL)
    confab_mcp_manager_shutdown_sync (self->mcp, 5000);

  G_APPLICATION_CLASS (confab_application_parent_class)->shutdown (app);

  g_clear_object (&self->store);
}

static void
confab_application_finalize (GObject *object)
{
  ConfabApplication *self = (ConfabApplication *)object;

  g_clear_object (&self->store);
  g_clear_object (&self->mcp);
  g_clear_error (&self->mcp_error);
  g_clear_object (&self->toolbox);
  g_clear_object (&self->settings);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->store_path, g_free);

  G_OBJECT_CLASS (confab_application_parent_class)->finalize (object);
}

static void
confab_application_class_init (ConfabApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = confab_application_finalize;
  app_class->activate = confab_application_activate;
  app_class->startup = confab_application_startup;
  app_class->shutdown = confab_application_shutdown;
}

static void
confab_application_init (ConfabApplication *self)
{
}

ConfabApplication *
confab_application_new (void)
{
  return g_object_new (CONFAB_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/confab/Confab",
                       NULL);
}

/**
 * confab_application_get_store:
 *
 * Returns: (transfer none) (nullable): the conversation store, or %NULL
 *   while it opens.
 */
ConfabStore *
confab_application_get_store (ConfabApplication *self)
{
  g_return_val_if_fail (CONFAB_IS_APPLICATION (self), NULL);
  return self->store;
}

/**
 * confab_application_set_store_path:
 * @path: (nullable): the conversation database; %NULL for the default
 *
 * For tests: where the store is, set before the application starts.
 */
void
confab_application_set_store_path (ConfabApplication *self,
                                   const char        *path)
{
  g_return_if_fail (CONFAB_IS_APPLICATION (self));
  g_return_if_fail (self->store == NULL);

  g_free (self->store_path);
  self->store_path = g_strdup (path);
}

/**
 * confab_application_get_toolbox:
 *
 * Returns: (transfer none): every tool Confab has (built-in and from MCP
 *   servers), with the policies the user chose in Preferences.
 */
ConfabToolbox *
confab_application_get_toolbox (ConfabApplication *self)
{
  g_return_val_if_fail (CONFAB_IS_APPLICATION (self), NULL);
  return self->toolbox;
}

/**
 * confab_application_get_mcp_manager:
 *
 * Returns: (transfer none): the MCP servers of the user's configuration.
 */
ConfabMcpManager *
confab_application_get_mcp_manager (ConfabApplication *self)
{
  g_return_val_if_fail (CONFAB_IS_APPLICATION (self), NULL);
  return self->mcp;
}

/**
 * confab_application_get_mcp_error:
 *
 * Returns: (transfer none) (nullable): why the MCP configuration file
 *   could not be read at start-up (bad JSON, say), or %NULL.
 */
const GError *
confab_application_get_mcp_error (ConfabApplication *self)
{
  g_return_val_if_fail (CONFAB_IS_APPLICATION (self), NULL);
  return self->mcp_error;
}
