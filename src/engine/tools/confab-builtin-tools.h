/* confab-builtin-tools.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-datetime-tool.h"
#include "confab-fetch-url-tool.h"
#include "confab-file-tools.h"
#include "confab-run-command-tool.h"
#include "confab-toolbox.h"

G_BEGIN_DECLS

/* Adds a new instance of every built-in tool to @toolbox: run_command,
 * read_file, list_directory, search_files, fetch_url and
 * current_datetime. Main thread. */
void        confab_builtin_tools_add_all (ConfabToolbox *toolbox);
/* Returns (transfer full) a new built-in tool called @name, or NULL when
 * no built-in tool has that name. Main thread. */
ConfabTool *confab_builtin_tool_new      (const char    *name);

G_END_DECLS
