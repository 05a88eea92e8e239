/* confab-text-block.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_TEXT_BLOCK (confab_text_block_get_type ())

G_DECLARE_FINAL_TYPE (ConfabTextBlock, confab_text_block, CONFAB, TEXT_BLOCK, GtkWidget)

/* One block of wrapped text in Pango markup, laid out once per text and
 * width. GtkLabel in GTK 4.8 lays a changed text out three or four times
 * (minimum and natural width, height for the width, then what it draws);
 * for text that changes every frame that is most of the frame. It has
 * neither selection nor links: the Markdown view shows streaming text
 * with it, and once the text is complete puts a selectable GtkLabel in
 * its place when ::selection-wanted says the user may select it. Its CSS
 * name is "label", so it is styled as one. Main thread only.
 */
GtkWidget  *confab_text_block_new             (GtkAccessibleRole  role);

void        confab_text_block_set_markup      (ConfabTextBlock   *self,
                                               const char        *markup);
const char *confab_text_block_get_markup      (ConfabTextBlock   *self);
/* The text without markup, as a label with the same markup shows it. */
const char *confab_text_block_get_text        (ConfabTextBlock   *self);

/* The narrowest it asks to be, in characters (GtkLabel:width-chars). */
void        confab_text_block_set_width_chars (ConfabTextBlock   *self,
                                               int                n_chars);

G_END_DECLS
