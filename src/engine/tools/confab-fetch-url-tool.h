/* confab-fetch-url-tool.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_FETCH_URL_TOOL (confab_fetch_url_tool_get_type ())

G_DECLARE_FINAL_TYPE (ConfabFetchUrlTool, confab_fetch_url_tool, CONFAB, FETCH_URL_TOOL, ConfabTool)

/* The built-in "fetch_url" tool: an http or https GET with libsoup on the
 * main loop, a web page reduced to its text. Private, loopback and
 * link-local addresses are refused unless the call's context allows the
 * private network. Its "max-size" property (bytes, 2 MiB by default) caps
 * what is downloaded. Main thread. */
ConfabTool *confab_fetch_url_tool_new (void);

G_END_DECLS
