/* confab-long-text.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_LONG_TEXT (confab_long_text_get_type ())

G_DECLARE_FINAL_TYPE (ConfabLongText, confab_long_text, CONFAB, LONG_TEXT, GtkWidget)

/* Plain text in a selectable, wrapping label, however long: past
 * CONFAB_LONG_TEXT_MAX_LINES lines or CONFAB_LONG_TEXT_MAX_CHARS
 * characters the label shows the beginning, says how much more there is,
 * and a Show All button opens the whole text in a window of its own,
 * where GtkTextView lays out only what is on screen. A label with a
 * megabyte of text would freeze the window for many seconds: GtkLabel
 * lays its text out several times per measure, and Pango 1.50 takes time
 * in the square of the number of lines to do it. Main thread only.
 */
#define CONFAB_LONG_TEXT_MAX_LINES 80
#define CONFAB_LONG_TEXT_MAX_CHARS 6000

GtkWidget  *confab_long_text_new          (void);

void        confab_long_text_set_text     (ConfabLongText *self,
                                           const char     *text);
/* The whole text, as set. */
const char *confab_long_text_get_text     (ConfabLongText *self);
/* Whether only the beginning is shown. */
gboolean    confab_long_text_is_clipped   (ConfabLongText *self);

/* The title of the window Show All opens, such as "Message". */
void        confab_long_text_set_title    (ConfabLongText *self,
                                           const char     *title);

G_END_DECLS
