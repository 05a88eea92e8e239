/* confab-mcp-server.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "confab-mcp-config.h"

G_BEGIN_DECLS

/* The protocol version Confab asks for. */
#define CONFAB_MCP_PROTOCOL_VERSION "2025-11-25"

/* The longest stderr kept per server, in bytes. */
#define CONFAB_MCP_LOG_MAX (64 * 1024)

/**
 * ConfabMcpServerStatus:
 * @CONFAB_MCP_SERVER_STOPPED: not started, or stopped on purpose
 * @CONFAB_MCP_SERVER_STARTING: spawned, the handshake or tool list under way
 * @CONFAB_MCP_SERVER_RUNNING: ready for calls
 * @CONFAB_MCP_SERVER_FAILED: crashed, spoke garbage or failed to start;
 *   the next use starts it again, after a backoff
 */
typedef enum
{
  CONFAB_MCP_SERVER_STOPPED,
  CONFAB_MCP_SERVER_STARTING,
  CONFAB_MCP_SERVER_RUNNING,
  CONFAB_MCP_SERVER_FAILED,
} ConfabMcpServerStatus;

GType        confab_mcp_server_status_get_type (void);
#define CONFAB_TYPE_MCP_SERVER_STATUS (confab_mcp_server_status_get_type ())

/* The protocol versions Confab accepts from a server, newest first,
 * NULL-terminated. */
const char * const *confab_mcp_get_supported_protocol_versions (void);

#define CONFAB_TYPE_MCP_SERVER (confab_mcp_server_get_type ())
G_DECLARE_FINAL_TYPE (ConfabMcpServer, confab_mcp_server, CONFAB, MCP_SERVER, GObject)

/* One MCP server process, spoken to in newline-delimited JSON-RPC over
 * its stdin and stdout, on the main context of the thread that created
 * it: every function below is for that thread only.
 *
 * Started on first use and kept running; calls share the one process
 * and are in flight together. When it crashes or sends garbage, every
 * call in flight fails with a message that says so, and the next use
 * starts it again, but not before 1 s, 2 s, 4 s … (at most 30 s) after
 * the last failure: a use within that window fails at once, saying when
 * the server will be tried again. */
ConfabMcpServer       *confab_mcp_server_new                  (ConfabMcpServerConfig  *config);
const char            *confab_mcp_server_get_name             (ConfabMcpServer        *self);
ConfabMcpServerConfig *confab_mcp_server_get_config           (ConfabMcpServer        *self);
ConfabMcpServerStatus  confab_mcp_server_get_status           (ConfabMcpServer        *self);
/* The process id (its process group has the same id), 0 when none. */
GPid                   confab_mcp_server_get_pid              (ConfabMcpServer        *self);
/* The version agreed in the handshake; NULL before the first one. */
const char            *confab_mcp_server_get_protocol_version (ConfabMcpServer        *self);
/* The tools of the last tools/list, in the server's order, as the JSON
 * objects it sent (name, description, inputSchema, …); owned by @self,
 * replaced when ::tools-changed is emitted; never NULL. */
GPtrArray             *confab_mcp_server_get_tools            (ConfabMcpServer        *self);
/* Why the server last failed, or NULL; owned by @self. */
const GError          *confab_mcp_server_get_error            (ConfabMcpServer        *self);
/* Its last CONFAB_MCP_LOG_MAX bytes of stderr (across restarts); free
 * with g_free(). ::log-changed tells when it grew. */
char                  *confab_mcp_server_dup_log              (ConfabMcpServer        *self);

/* Starts the server if it is not running, or joins a start under way.
 * Cancelling @cancellable fails this call only: the start goes on. */
void                   confab_mcp_server_start_async          (ConfabMcpServer        *self,
                                                               GCancellable           *cancellable,
                                                               GAsyncReadyCallback     callback,
                                                               gpointer                user_data);
gboolean               confab_mcp_server_start_finish         (ConfabMcpServer        *self,
                                                               GAsyncResult           *result,
                                                               GError                **error);
/* Stops the server: calls in flight fail, stdin is closed, and the
 * process gets 2 s to exit, then SIGTERM (to its whole process group),
 * 2 s more, then SIGKILL. Completes once the process has gone. The
 * next use starts it again at once. */
void                   confab_mcp_server_stop_async           (ConfabMcpServer        *self,
                                                               GCancellable           *cancellable,
                                                               GAsyncReadyCallback     callback,
                                                               gpointer                user_data);
gboolean               confab_mcp_server_stop_finish          (ConfabMcpServer        *self,
                                                               GAsyncResult           *result,
                                                               GError                **error);
/* Calls the tool @tool_name (the server's own name for it) with
 * @arguments (NULL: none), starting the server first if needed. Fails
 * after @timeout_seconds (0: no limit) with CONFAB_ERROR_TIMEOUT; when
 * cancelled, with CONFAB_ERROR_CANCELLED; either way the server is sent
 * notifications/cancelled. A JSON-RPC error answer is CONFAB_ERROR_TOOL
 * with the server's message. */
void                   confab_mcp_server_call_tool_async      (ConfabMcpServer        *self,
                                                               const char             *tool_name,
                                                               JsonObject             *arguments,
                                                               guint                   timeout_seconds,
                                                               GCancellable           *cancellable,
                                                               GAsyncReadyCallback     callback,
                                                               gpointer                user_data);
/* The CallToolResult object (content, structuredContent, isError);
 * free with json_object_unref(). */
JsonObject            *confab_mcp_server_call_tool_finish     (ConfabMcpServer        *self,
                                                               GAsyncResult           *result,
                                                               GError                **error);

G_END_DECLS
