/* confab-mcp-manager.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-mcp-config.h"
#include "confab-mcp-server.h"
#include "confab-toolbox.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_MCP_MANAGER (confab_mcp_manager_get_type ())
G_DECLARE_FINAL_TYPE (ConfabMcpManager, confab_mcp_manager, CONFAB, MCP_MANAGER, GObject)

/* The MCP servers of the user's configuration, as the app and
 * confab-cli use them: one ConfabMcpServer per enabled server, started
 * once and kept running, and their tools kept in a toolbox. Main thread
 * (the thread that created it) only. */
ConfabMcpManager *confab_mcp_manager_new             (const char        *config_path);
/* The file it reads: @config_path, or confab_mcp_config_get_default_path(). */
const char       *confab_mcp_manager_get_config_path (ConfabMcpManager  *self);
/* (Re)reads the configuration. Servers that are new or whose command
 * changed get a new ConfabMcpServer (started at once if start_all was
 * called); servers removed or disabled are stopped and their tools
 * leave the toolbox; the others keep running. On error nothing changes.
 * Emits ::servers-changed. Blocking I/O on a small file. */
gboolean          confab_mcp_manager_reload          (ConfabMcpManager  *self,
                                                      GError           **error);
/* Uses @config (a file just read, or edited in Preferences) as reload
 * does, without reading anything. */
void              confab_mcp_manager_apply_config    (ConfabMcpManager  *self,
                                                      ConfabMcpConfig   *config);
/* reload with the file read on a worker thread: for the app's main
 * thread, which never blocks on a file. */
void              confab_mcp_manager_load_async      (ConfabMcpManager    *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean          confab_mcp_manager_load_finish     (ConfabMcpManager    *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* Writes @config to its file on a worker thread (atomically, mode 0600);
 * apply it with confab_mcp_manager_apply_config(). */
void              confab_mcp_manager_save_async      (ConfabMcpManager    *self,
                                                      ConfabMcpConfig     *config,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean          confab_mcp_manager_save_finish     (ConfabMcpManager    *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

/* The configuration last loaded (NULL before); owned by @self. */
ConfabMcpConfig  *confab_mcp_manager_get_config      (ConfabMcpManager  *self);
/* The enabled servers (ConfabMcpServer) in file order; owned by @self. */
GPtrArray        *confab_mcp_manager_get_servers     (ConfabMcpManager  *self);
ConfabMcpServer  *confab_mcp_manager_lookup          (ConfabMcpManager  *self,
                                                      const char        *name);
/* Keeps @toolbox (NULL: none) holding one ConfabMcpTool per tool of
 * every server, named "SERVER__TOOL", as servers list their tools. */
void              confab_mcp_manager_set_toolbox     (ConfabMcpManager  *self,
                                                      ConfabToolbox     *toolbox);
/* Starts every server at once and completes when each has started or
 * failed. A server's failure is not this call's: it is in the server's
 * status and confab_mcp_server_get_error(). */
void              confab_mcp_manager_start_all_async  (ConfabMcpManager    *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean          confab_mcp_manager_start_all_finish (ConfabMcpManager    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
/* Stops every server at once (see confab_mcp_server_stop_async()). */
void              confab_mcp_manager_shutdown_async   (ConfabMcpManager    *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean          confab_mcp_manager_shutdown_finish  (ConfabMcpManager    *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
/* For quitting: shuts down and iterates the thread-default main context
 * until every server has stopped or @timeout_ms has passed. FALSE when
 * some process was still there at the deadline. */
gboolean          confab_mcp_manager_shutdown_sync    (ConfabMcpManager    *self,
                                                       guint                timeout_ms);

G_END_DECLS
