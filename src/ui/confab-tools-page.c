/* confab-tools-page.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "confab-tools-page.h"

struct _ConfabToolsPage
{
  AdwPreferencesPage  parent_instance;

  ConfabToolbox      *toolbox;
  GSettings          *settings;
  AdwPreferencesGroup *group;
  GPtrArray          *rows;
  GtkWidget          *empty_label;
  GtkSpinButton      *steps_button;
  gboolean            syncing;
};

G_DEFINE_FINAL_TYPE (ConfabToolsPage, confab_tools_page, ADW_TYPE_PREFERENCES_PAGE)

/* The choices, in the order of ConfabToolPolicy. */
static const char * const policy_labels[] = {
  N_("Ask First"),
  N_("Allow"),
  N_("Never"),
};

/* What the settings say for @name, else the tool's own default. */
static ConfabToolPolicy
policy_for (ConfabToolsPage *self,
            const char      *name)
{
  g_autoptr(GVariant) map = NULL;
  ConfabToolPolicy policy;
  ConfabTool *tool;
  const char *value;

  if (self->settings != NULL)
    {
      map = g_settings_get_value (self->settings, "tool-approval");
      if (g_variant_lookup (map, name, "&s", &value) && confab_tool_policy_from_string (value, &policy))
        return policy;
    }
  tool = confab_toolbox_lookup (self->toolbox, name);
  return tool != NULL && !confab_tool_get_needs_approval (tool) ? CONFAB_TOOL_POLICY_ALLOW : CONFAB_TOOL_POLICY_ASK;
}

static void
policy_selected_cb (AdwComboRow     *row,
                    GParamSpec      *pspec,
                    ConfabToolsPage *self)
{
  const char *name = g_object_get_data (G_OBJECT (row), "confab-tool-name");
  ConfabToolPolicy policy = (ConfabToolPolicy) adw_combo_row_get_selected (row);
  g_autoptr(GVariant) old = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key;
  const char *value;

  if (self->syncing || self->settings == NULL || policy == policy_for (self, name))
    return;

  /* Rewrites the whole map: the tool's entry replaced, the others kept
   * (also those of tools not here right now, such as a stopped MCP
   * server's). */
  old = g_settings_get_value (self->settings, "tool-approval");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_iter_init (&iter, old);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (!g_str_equal (key, name))
      g_variant_builder_add (&builder, "{ss}", key, value);
  g_variant_builder_add (&builder, "{ss}", name, confab_tool_policy_to_string (policy));
  g_settings_set_value (self->settings, "tool-approval", g_variant_builder_end (&builder));
}

static void
clear_rows (ConfabToolsPage *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
}

static void
rebuild (ConfabToolsPage *self)
{
  g_autoptr(GtkStringList) choices = gtk_string_list_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->toolbox));

  for (guint i = 0; i < G_N_ELEMENTS (policy_labels); i++)
    gtk_string_list_append (choices, _(policy_labels[i]));

  self->syncing = TRUE;
  clear_rows (self);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ConfabTool) tool = g_list_model_get_item (G_LIST_MODEL (self->toolbox), i);
      g_autofree char *summary = g_strdup (confab_tool_get_description (tool));
      char *newline = strchr (summary, '\n');
      const char *name = confab_tool_get_name (tool);
      GtkWidget *row = adw_combo_row_new ();

      if (newline != NULL)
        *newline = '\0';
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), summary);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (choices));
      adw_combo_row_set_selected (ADW_COMBO_ROW (row), policy_for (self, name));
      g_object_set_data_full (G_OBJECT (row), "confab-tool-name", g_strdup (name), g_free);
      /* Translators: the accessible name of the choice for a tool; %s is its name */
      {
        g_autofree char *label = g_strdup_printf (_("When the model calls %s"), name);
        gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, label, -1);
      }
      g_signal_connect (row, "notify::selected", G_CALLBACK (policy_selected_cb), self);
      adw_preferences_group_add (self->group, row);
      g_ptr_array_add (self->rows, row);
    }
  gtk_widget_set_visible (self->empty_label, n == 0);
  self->syncing = FALSE;
}

static void
items_changed_cb (GListModel      *model,
                  guint            position,
                  guint            removed,
                  guint            added,
                  ConfabToolsPage *self)
{
  rebuild (self);
}

static void
settings_changed_cb (GSettings       *settings,
                     const char      *key,
                     ConfabToolsPage *self)
{
  /* The rows follow the settings (a change made elsewhere, or this
   * page's own write coming back). */
  self->syncing = TRUE;
  for (guint i = 0; i < self->rows->len; i++)
    {
      AdwComboRow *row = g_ptr_array_index (self->rows, i);
      const char *name = g_object_get_data (G_OBJECT (row), "confab-tool-name");
      ConfabToolPolicy policy = policy_for (self, name);

      if (adw_combo_row_get_selected (row) != policy)
        adw_combo_row_set_selected (row, policy);
    }
  self->syncing = FALSE;
}

static void
confab_tools_page_dispose (GObject *object)
{
  ConfabToolsPage *self = (ConfabToolsPage *)object;

  if (self->toolbox != NULL)
    g_signal_handlers_disconnect_by_data (self->toolbox, self);
  if (self->settings != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->settings, self);
      if (self->steps_button != NULL)
        g_settings_unbind (self->steps_button, "value");
    }
  g_clear_object (&self->toolbox);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->rows, g_ptr_array_unref);

  G_OBJECT_CLASS (confab_tools_page_parent_class)->dispose (object);
}

static void
confab_tools_page_class_init (ConfabToolsPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = confab_tools_page_dispose;
}

static void
confab_tools_page_init (ConfabToolsPage *self)
{
  self->rows = g_ptr_array_new ();

  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), _("Tools"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (self), "applications-utilities-symbolic");
  adw_preferences_page_set_name (ADW_PREFERENCES_PAGE (self), "tools");

  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->group, _("When the Model Calls a Tool"));
  adw_preferences_group_set_description (self->group,
                                         _("Tools that run commands or come from MCP servers ask first unless you "
                                           "allow them here. File tools only read folders you grant in a "
                                           "conversation (Ctrl+Shift+O)."));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (self), self->group);

  self->empty_label = gtk_label_new (_("No tools are available."));
  gtk_widget_add_css_class (self->empty_label, "dim-label");
  adw_preferences_group_add (self->group, self->empty_label);

  {
    AdwPreferencesGroup *turns = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
    GtkWidget *row = adw_action_row_new ();

    adw_preferences_group_set_title (turns, _("Turns"));
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Most Requests per Turn"));
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                 _("After this many, a model that still calls tools is stopped"));
    self->steps_button = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 200, 1));
    gtk_widget_set_valign (GTK_WIDGET (self->steps_button), GTK_ALIGN_CENTER);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->steps_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Most requests per turn"), -1);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->steps_button));
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (self->steps_button));
    adw_preferences_group_add (turns, row);
    adw_preferences_page_add (ADW_PREFERENCES_PAGE (self), turns);
  }
}

GtkWidget *
confab_tools_page_new (ConfabToolbox *toolbox,
                       GSettings     *settings)
{
  ConfabToolsPage *self;

  g_return_val_if_fail (CONFAB_IS_TOOLBOX (toolbox), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (CONFAB_TYPE_TOOLS_PAGE, NULL);
  self->toolbox = g_object_ref (toolbox);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  g_signal_connect (toolbox, "items-changed", G_CALLBACK (items_changed_cb), self);
  if (settings != NULL)
    {
      g_signal_connect (settings, "changed::tool-approval", G_CALLBACK (settings_changed_cb), self);
      g_settings_bind (settings, "max-steps", self->steps_button, "value", G_SETTINGS_BIND_DEFAULT);
    }
  else
    gtk_widget_set_sensitive (GTK_WIDGET (self->steps_button), FALSE);
  rebuild (self);

  return GTK_WIDGET (self);
}
