/* confab-application.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_APPLICATION (confab_application_get_type ())

G_DECLARE_FINAL_TYPE (ConfabApplication, confab_application, CONFAB, APPLICATION, AdwApplication)

ConfabApplication *confab_application_new       (void);
ConfabStore       *confab_application_get_store   (ConfabApplication *self);
ConfabToolbox     *confab_application_get_toolbox (ConfabApplication *self);
ConfabMcpManager  *confab_application_get_mcp_manager (ConfabApplication *self);
const GError      *confab_application_get_mcp_error   (ConfabApplication *self);
void               confab_application_set_store_path (ConfabApplication *self,
                                                      const char        *path);

G_END_DECLS
