/* confab-datetime-tool.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_DATETIME_TOOL (confab_datetime_tool_get_type ())

G_DECLARE_FINAL_TYPE (ConfabDatetimeTool, confab_datetime_tool, CONFAB, DATETIME_TOOL, ConfabTool)

/* The built-in "current_datetime" tool: the local date and time, time
 * zone and weekday. Main thread. */
ConfabTool *confab_datetime_tool_new (void);

G_END_DECLS
