/* confab-run-command-tool.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_RUN_COMMAND_TOOL (confab_run_command_tool_get_type ())

G_DECLARE_FINAL_TYPE (ConfabRunCommandTool, confab_run_command_tool, CONFAB, RUN_COMMAND_TOOL, ConfabTool)

/* The built-in "run_command" tool: `/bin/sh -c COMMAND` in the first
 * granted folder, in a process group of its own that is killed whole on
 * timeout or cancellation. Asks for approval by default. Main thread. */
ConfabTool *confab_run_command_tool_new            (void);
/* Bytes of output kept for the model; the rest is read and dropped. */
guint       confab_run_command_tool_get_max_output (ConfabRunCommandTool *self);
void        confab_run_command_tool_set_max_output (ConfabRunCommandTool *self,
                                                    guint                 max_output);

G_END_DECLS
