/* confab-form-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* What the forms of Preferences share: entry rows, fields marked in
 * error (for screen readers too), and an inline message under a group. */

typedef enum
{
  CONFAB_FORM_INFO,
  CONFAB_FORM_WARNING,
  CONFAB_FORM_ERROR,
} ConfabFormMessageKind;

/* The text of @row, without surrounding white space. */
char *_confab_form_dup_entry_text (AdwEntryRow           *row);
void  _confab_form_focus_entry    (AdwEntryRow           *row);
/* Marks @widget as the field in error, with @message for screen readers,
 * or clears the mark with a %NULL @message. */
void  _confab_form_mark_field     (GtkWidget             *widget,
                                   const char            *message);
void  _confab_form_show_message   (GtkLabel              *label,
                                   ConfabFormMessageKind  kind,
                                   const char            *text);
void  _confab_form_hide_message   (GtkLabel              *label);

G_END_DECLS
