/* confab-mcp-tool.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-mcp-server.h"
#include "confab-tool.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_MCP_TOOL (confab_mcp_tool_get_type ())
G_DECLARE_FINAL_TYPE (ConfabMcpTool, confab_mcp_tool, CONFAB, MCP_TOOL, ConfabTool)

/* One tool of an MCP server, as the model sees it: named
 * "SERVER__TOOL", described and typed by the server's tools/list entry
 * @definition, and run with tools/call on @server (started, or started
 * again after a crash, when needed). It needs approval by default. */
ConfabMcpTool    *confab_mcp_tool_new                  (ConfabMcpServer *server,
                                                        JsonObject      *definition);
ConfabMcpServer  *confab_mcp_tool_get_server           (ConfabMcpTool   *self);
/* The server's own name for the tool. */
const char       *confab_mcp_tool_get_mcp_name         (ConfabMcpTool   *self);

/* "SERVER__TOOL", with the characters model APIs refuse in tool names
 * replaced by "_", and at most 64 characters (a longer name ends in a
 * hash of the whole). Free with g_free(). Any thread. */
char             *confab_mcp_tool_make_name            (const char      *server_name,
                                                        const char      *tool_name);
/* What the model is told of a CallToolResult: the text of its content
 * (text verbatim; images, audio and resources summarized as
 * "[image: image/png, 1024 bytes]" and the like), structuredContent as
 * the structured form, and isError as an error result. Any thread. */
ConfabToolResult *confab_mcp_tool_result_new_from_json (JsonObject      *result);

G_END_DECLS
