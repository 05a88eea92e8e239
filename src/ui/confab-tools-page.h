/* confab-tools-page.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_TOOLS_PAGE (confab_tools_page_get_type ())

G_DECLARE_FINAL_TYPE (ConfabToolsPage, confab_tools_page, CONFAB, TOOLS_PAGE, AdwPreferencesPage)

/* The Tools page of Preferences: for every tool Confab has, whether it
 * asks first, runs without asking or never runs (GSettings
 * "tool-approval"). Follows @toolbox as tools come and go. */
GtkWidget *confab_tools_page_new (ConfabToolbox *toolbox,
                                  GSettings     *settings);

G_END_DECLS
