/* confab-window.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "confab-application.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_WINDOW (confab_window_get_type ())

G_DECLARE_FINAL_TYPE (ConfabWindow, confab_window, CONFAB, WINDOW, AdwApplicationWindow)

ConfabWindow *confab_window_new       (ConfabApplication *application);
void          confab_window_set_store (ConfabWindow      *self,
                                       ConfabStore       *store,
                                       const GError      *error);
void          confab_window_show_conversation (ConfabWindow *self,
                                               gint64        conversation_id);
void          confab_window_reload_providers  (ConfabWindow *self);

G_END_DECLS
