/* confab-preferences-window.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_PREFERENCES_WINDOW (confab_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (ConfabPreferencesWindow, confab_preferences_window, CONFAB, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* The preferences: the stored providers (add, edit, test, remove; keys in
 * the keyring) and the chat defaults (GSettings). Main thread only.
 *
 * Signals:
 *   "providers-changed" (no arguments): a provider was added, saved or
 *   removed, or its key stored or removed; list the providers again. */

ConfabPreferencesWindow *confab_preferences_window_new                   (GtkWindow               *parent,
                                                                          ConfabStore             *store);
void                     confab_preferences_window_add_provider_template (ConfabPreferencesWindow *self,
                                                                          const char              *template_id);

G_END_DECLS
