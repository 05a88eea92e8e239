/* confab-mcp-page.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "confab-engine.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_MCP_PAGE (confab_mcp_page_get_type ())

G_DECLARE_FINAL_TYPE (ConfabMcpPage, confab_mcp_page, CONFAB, MCP_PAGE, AdwPreferencesPage)

/* The MCP Servers page of Preferences: every server of @manager's
 * configuration with its status, tools and log, turned on and off,
 * added, removed or imported from Claude Desktop. Each change is written
 * to the file on a worker thread, then applied to @manager. @load_error
 * (nullable; copied) is why the file could not be read at start-up:
 * while @manager has no configuration, the page shows it and writes
 * nothing. Main thread only. */
GtkWidget  *confab_mcp_page_new             (ConfabMcpManager *manager,
                                             const GError     *load_error);
/* The file "Import from Claude Desktop" reads; NULL (the default) is
 * confab_mcp_config_get_claude_desktop_path(). */
const char *confab_mcp_page_get_import_path (ConfabMcpPage    *self);
void        confab_mcp_page_set_import_path (ConfabMcpPage    *self,
                                             const char       *path);

G_END_DECLS
