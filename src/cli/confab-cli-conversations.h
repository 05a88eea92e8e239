/* confab-cli-conversations.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

/* confab-cli conversations …; argv[0] is "conversations". */
int confab_cli_conversations_main (int    argc,
                                   char **argv);
