/* confab-cli-mcp.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "confab-cli mcp ...": @argv[0] is "mcp". Returns the exit status.
 * Main thread; runs the default main context while it waits. */
int confab_cli_mcp_main (int    argc,
                         char **argv);

G_END_DECLS
