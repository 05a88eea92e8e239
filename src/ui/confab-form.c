/* confab-form.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-form-private.h"

char *
_confab_form_dup_entry_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

void
_confab_form_focus_entry (AdwEntryRow *row)
{
  gtk_widget_grab_focus (GTK_WIDGET (gtk_editable_get_delegate (GTK_EDITABLE (row))));
}

void
_confab_form_mark_field (GtkWidget  *widget,
                         const char *message)
{
  if (message != NULL)
    {
      gtk_widget_add_css_class (widget, "error");
      gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
    }
  else if (gtk_widget_has_css_class (widget, "error"))
    {
      gtk_widget_remove_css_class (widget, "error");
      gtk_accessible_reset_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
}

void
_confab_form_show_message (GtkLabel              *label,
                           ConfabFormMessageKind  kind,
                           const char            *text)
{
  static const char * const classes[] = { "dim-label", "warning", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (label), classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (label), classes[kind]);

  gtk_label_set_text (label, text);
  gtk_widget_set_visible (GTK_WIDGET (label), TRUE);
}

void
_confab_form_hide_message (GtkLabel *label)
{
  gtk_widget_set_visible (GTK_WIDGET (label), FALSE);
  gtk_label_set_text (label, "");
}
