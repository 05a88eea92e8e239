/* confab-long-text.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <string.h>

#include "confab-long-text.h"

struct _ConfabLongText
{
  GtkWidget  parent_instance;

  GtkLabel  *label;
  /* Made when a text is first clipped: most never are, and a chat builds
   * a row for every message it shows. */
  GtkWidget *more_box;
  GtkLabel  *more_label;

  char      *text;
  char      *title;
  gboolean   clipped;
};

G_DEFINE_FINAL_TYPE (ConfabLongText, confab_long_text, GTK_TYPE_WIDGET)

/* Where the shown beginning of @text ends: after MAX_LINES lines, or at
 * MAX_CHARS characters (at a line's end, if one is in the last quarter
 * of them). */
static gsize
clip_end (const char *text)
{
  const char *p = text;
  const char *last_newline = NULL;
  guint n_lines = 0;
  guint n_chars = 0;

  while (*p != '\0')
    {
      if (*p == '\n')
        {
          last_newline = p;
          if (++n_lines == CONFAB_LONG_TEXT_MAX_LINES)
            return p - text;
        }
      if (++n_chars > CONFAB_LONG_TEXT_MAX_CHARS)
        {
          if (last_newline != NULL && p - last_newline < CONFAB_LONG_TEXT_MAX_CHARS / 4)
            return last_newline - text;
          return p - text;
        }
      p = g_utf8_next_char (p);
    }
  return p - text;
}

static gboolean
viewer_close_cb (GtkWidget *widget,
                 GVariant  *args,
                 gpointer   user_data)
{
  gtk_window_close (GTK_WINDOW (widget));
  return TRUE;
}

/* The whole text, read-only: GtkTextView lays out what is on screen and
 * the rest in the background. */
static void
show_all_clicked_cb (GtkButton      *button,
                     ConfabLongText *self)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *view = gtk_text_view_new ();
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *title = self->title != NULL ? self->title : _("Text");

  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_default_size (GTK_WINDOW (window), 720, 560);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (root));
  gtk_window_set_destroy_with_parent (GTK_WINDOW (window), TRUE);

  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view),
                               gtk_widget_has_css_class (GTK_WIDGET (self), "monospace"));
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), self->text, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (content), header);
  gtk_box_append (GTK_BOX (content), scroller);
  adw_window_set_content (ADW_WINDOW (window), content);

  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_callback_action_new (viewer_close_cb, NULL, NULL)));
  gtk_widget_add_controller (window, shortcuts);

  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_grab_focus (view);
}

static void
ensure_more_box (ConfabLongText *self)
{
  GtkWidget *button;

  if (self->more_box != NULL)
    return;

  self->more_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->more_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->more_label, 0.0f);
  gtk_widget_add_css_class (GTK_WIDGET (self->more_label), "dim-label");
  gtk_box_append (GTK_BOX (self->more_box), GTK_WIDGET (self->more_label));

  button = gtk_button_new_with_mnemonic (_("Show _All"));
  gtk_widget_set_tooltip_text (button, _("Show the whole text in a window of its own"));
  gtk_widget_add_css_class (button, "flat");
  g_signal_connect (button, "clicked", G_CALLBACK (show_all_clicked_cb), self);
  gtk_box_append (GTK_BOX (self->more_box), button);

  gtk_widget_insert_after (self->more_box, GTK_WIDGET (self), GTK_WIDGET (self->label));
}

static void
confab_long_text_dispose (GObject *object)
{
  ConfabLongText *self = CONFAB_LONG_TEXT (object);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);
  self->label = NULL;
  self->more_box = NULL;
  self->more_label = NULL;

  G_OBJECT_CLASS (confab_long_text_parent_class)->dispose (object);
}

static void
confab_long_text_finalize (GObject *object)
{
  ConfabLongText *self = CONFAB_LONG_TEXT (object);

  g_free (self->text);
  g_free (self->title);

  G_OBJECT_CLASS (confab_long_text_parent_class)->finalize (object);
}

static void
confab_long_text_class_init (ConfabLongTextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = confab_long_text_dispose;
  object_class->finalize = confab_long_text_finalize;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "longtext");
}

static void
confab_long_text_init (ConfabLongText *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  self->text = g_strdup ("");

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);

  self->label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->label, 0.0f);
  gtk_label_set_wrap (self->label, TRUE);
  gtk_label_set_wrap_mode (self->label, PANGO_WRAP_WORD_CHAR);
  /* Without a narrowest width, GTK measures a wrapping label's by laying
   * it out a character per line: thousands of lines for a long message. */
  gtk_label_set_width_chars (self->label, 20);
  gtk_label_set_selectable (self->label, TRUE);
  gtk_widget_set_parent (GTK_WIDGET (self->label), GTK_WIDGET (self));
}

GtkWidget *
confab_long_text_new (void)
{
  return g_object_new (CONFAB_TYPE_LONG_TEXT, NULL);
}

void
confab_long_text_set_text (ConfabLongText *self,
                           const char     *text)
{
  gsize len, end;

  g_return_if_fail (CONFAB_IS_LONG_TEXT (self));

  if (text == NULL)
    text = "";
  if (g_strcmp0 (self->text, text) == 0)
    return;

  g_free (self->text);
  self->text = g_strdup (text);
  len = strlen (text);
  end = clip_end (text);
  self->clipped = end < len;

  if (!self->clipped)
    {
      gtk_label_set_text (self->label, text);
      if (self->more_box != NULL)
        gtk_widget_set_visible (self->more_box, FALSE);
    }
  else
    {
      g_autofree char *shown = g_strndup (text, end);
      g_autofree char *size = g_format_size (len - end);
      /* Translators: %s is a size, such as “1.0 MB”: how much of a long
       * text is not shown */
      g_autofree char *more = g_strdup_printf (_("… and %s more"), size);

      gtk_label_set_text (self->label, shown);
      ensure_more_box (self);
      gtk_label_set_text (self->more_label, more);
      gtk_widget_set_visible (self->more_box, TRUE);
    }
}

const char *
confab_long_text_get_text (ConfabLongText *self)
{
  g_return_val_if_fail (CONFAB_IS_LONG_TEXT (self), NULL);

  return self->text;
}

gboolean
confab_long_text_is_clipped (ConfabLongText *self)
{
  g_return_val_if_fail (CONFAB_IS_LONG_TEXT (self), FALSE);

  return self->clipped;
}

void
confab_long_text_set_title (ConfabLongText *self,
                            const char     *title)
{
  g_return_if_fail (CONFAB_IS_LONG_TEXT (self));

  g_free (self->title);
  self->title = g_strdup (title);
}
