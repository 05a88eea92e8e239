/* confab-text-block.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-text-block.h"

struct _ConfabTextBlock
{
  GtkWidget    parent_instance;

  PangoLayout *layout;
  char        *markup;
  int          width_chars;
  int          char_width;     /* Pango units, for the font of ... */
  guint        char_serial;    /* ... this serial of the Pango context */
};

G_DEFINE_FINAL_TYPE (ConfabTextBlock, confab_text_block, GTK_TYPE_WIDGET)

enum {
  SELECTION_WANTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The pointer over the text or the keyboard focus on it: the user may be
 * about to select it, which a label can do. */
static void
want_selection (ConfabTextBlock *self)
{
  g_signal_emit (self, signals[SELECTION_WANTED], 0);
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           ConfabTextBlock          *self)
{
  want_selection (self);
}

static void
focus_enter_cb (GtkEventControllerFocus *controller,
                ConfabTextBlock         *self)
{
  want_selection (self);
}

/* The layout lives on the widget's own Pango context, which GTK keeps in
 * line with the CSS font; Pango notices the context changed and lays the
 * text out again on the next measure. */
static PangoLayout *
ensure_layout (ConfabTextBlock *self)
{
  if (self->layout == NULL)
    {
      self->layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
      pango_layout_set_wrap (self->layout, PANGO_WRAP_WORD_CHAR);
      if (self->markup != NULL)
        pango_layout_set_markup (self->layout, self->markup, -1);
    }
  return self->layout;
}

/* Font metrics cost a small layout of their own: kept until the font
 * changes. */
static int
char_width (ConfabTextBlock *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
  PangoFontMetrics *metrics;

  if (self->char_width > 0 && self->char_serial == pango_context_get_serial (context))
    return self->char_width;

  metrics = pango_context_get_metrics (context, NULL, NULL);
  self->char_width = MAX (pango_font_metrics_get_approximate_char_width (metrics),
                          pango_font_metrics_get_approximate_digit_width (metrics));
  self->char_serial = pango_context_get_serial (context);
  pango_font_metrics_unref (metrics);
  return self->char_width;
}

/* Widths come from the font's metrics, with no layout: at least
 * width-chars characters, at most the whole text on one line. Heights
 * are the text laid out at the width asked for, which is the width it
 * is then given, so the layout is not done again to draw it. */
static void
confab_text_block_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  ConfabTextBlock *self = CONFAB_TEXT_BLOCK (widget);
  PangoLayout *layout = ensure_layout (self);
  int per_char = char_width (self);
  int n_chars = g_utf8_strlen (pango_layout_get_text (layout), -1);
  int min_width = PANGO_PIXELS_CEIL (per_char * MAX (self->width_chars, 1));
  int nat_width = MAX (min_width, PANGO_PIXELS_CEIL (per_char * n_chars));

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = min_width;
      *natural = nat_width;
    }
  else
    {
      int height;

      pango_layout_set_width (layout, (for_size >= 0 ? for_size : nat_width) * PANGO_SCALE);
      pango_layout_get_pixel_size (layout, NULL, &height);
      *minimum = *natural = height;
    }
}

/* Its height depends on its width, as a wrapping label's does; without
 * saying so, GTK would measure its height at its natural width only. */
static GtkSizeRequestMode
confab_text_block_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
confab_text_block_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  pango_layout_set_width (ensure_layout (CONFAB_TEXT_BLOCK (widget)), width * PANGO_SCALE);
}

static void
confab_text_block_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  GdkRGBA color;

  /* GTK 4.8 has no gtk_widget_get_color() yet. */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS

  gtk_snapshot_append_layout (snapshot, ensure_layout (CONFAB_TEXT_BLOCK (widget)), &color);
}

static void
confab_text_block_finalize (GObject *object)
{
  ConfabTextBlock *self = CONFAB_TEXT_BLOCK (object);

  g_clear_object (&self->layout);
  g_clear_pointer (&self->markup, g_free);

  G_OBJECT_CLASS (confab_text_block_parent_class)->finalize (object);
}

static void
confab_text_block_class_init (ConfabTextBlockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = confab_text_block_finalize;

  widget_class->get_request_mode = confab_text_block_get_request_mode;
  widget_class->measure = confab_text_block_measure;
  widget_class->size_allocate = confab_text_block_size_allocate;
  widget_class->snapshot = confab_text_block_snapshot;

  gtk_widget_class_set_css_name (widget_class, "label");

  /**
   * ConfabTextBlock::selection-wanted:
   *
   * The pointer moves over the text or the keyboard focus comes to it:
   * whoever shows it may put a selectable label in its place.
   */
  signals[SELECTION_WANTED] =
    g_signal_new ("selection-wanted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
confab_text_block_init (ConfabTextBlock *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();

  self->width_chars = -1;

  /* Focusable like a selectable label, so Tab reaches the text. */
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);

  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (focus, "enter", G_CALLBACK (focus_enter_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), focus);
}

GtkWidget *
confab_text_block_new (GtkAccessibleRole role)
{
  return g_object_new (CONFAB_TYPE_TEXT_BLOCK, "accessible-role", role, NULL);
}

void
confab_text_block_set_markup (ConfabTextBlock *self,
                              const char      *markup)
{
  g_return_if_fail (CONFAB_IS_TEXT_BLOCK (self));

  if (markup == NULL)
    markup = "";
  if (g_strcmp0 (self->markup, markup) == 0)
    return;

  g_free (self->markup);
  self->markup = g_strdup (markup);
  pango_layout_set_markup (ensure_layout (self), markup, -1);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, pango_layout_get_text (self->layout),
                                  -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
confab_text_block_get_markup (ConfabTextBlock *self)
{
  g_return_val_if_fail (CONFAB_IS_TEXT_BLOCK (self), NULL);

  return self->markup != NULL ? self->markup : "";
}

const char *
confab_text_block_get_text (ConfabTextBlock *self)
{
  g_return_val_if_fail (CONFAB_IS_TEXT_BLOCK (self), NULL);

  return pango_layout_get_text (ensure_layout (self));
}

void
confab_text_block_set_width_chars (ConfabTextBlock *self,
                                   int              n_chars)
{
  g_return_if_fail (CONFAB_IS_TEXT_BLOCK (self));

  if (self->width_chars == n_chars)
    return;
  self->width_chars = n_chars;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}
