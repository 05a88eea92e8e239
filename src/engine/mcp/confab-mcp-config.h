/* confab-mcp-config.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The longest server name: "server__tool" must fit in the 64 characters
 * that OpenAI and Anthropic allow for a tool name. */
#define CONFAB_MCP_SERVER_NAME_MAX 40

/* ConfabMcpServerConfig: one entry of "mcpServers": how to start one
 * stdio server. Members Confab does not know are kept as they were. */

#define CONFAB_TYPE_MCP_SERVER_CONFIG (confab_mcp_server_config_get_type ())
G_DECLARE_FINAL_TYPE (ConfabMcpServerConfig, confab_mcp_server_config, CONFAB, MCP_SERVER_CONFIG, GObject)

/* A new entry; @args may be NULL. An invalid @name is a programming
 * error (NULL and a critical): check it with
 * confab_mcp_server_name_validate() first. */
ConfabMcpServerConfig *confab_mcp_server_config_new         (const char            *name,
                                                             const char            *command,
                                                             const char * const    *args);
const char            *confab_mcp_server_config_get_name    (ConfabMcpServerConfig *self);
const char            *confab_mcp_server_config_get_command (ConfabMcpServerConfig *self);
/* The arguments after the command; never NULL. */
const char * const    *confab_mcp_server_config_get_args    (ConfabMcpServerConfig *self);
/* Variables added to Confab's own environment for the server: a table of
 * name → value owned by @self; never NULL. */
GHashTable            *confab_mcp_server_config_get_env     (ConfabMcpServerConfig *self);
void                   confab_mcp_server_config_set_env     (ConfabMcpServerConfig *self,
                                                             const char            *name,
                                                             const char            *value);
gboolean               confab_mcp_server_config_get_enabled (ConfabMcpServerConfig *self);
void                   confab_mcp_server_config_set_enabled (ConfabMcpServerConfig *self,
                                                             gboolean               enabled);
/* Whether both start the same program the same way (name, command,
 * arguments and environment; not the enabled flag). */
gboolean               confab_mcp_server_config_equal       (ConfabMcpServerConfig *a,
                                                             ConfabMcpServerConfig *b);

/* A server name becomes the prefix of its tools' names, so it may only
 * hold letters, digits, "-" and "_". FALSE with a CONFAB_ERROR_INVALID_ARGUMENT
 * that names it otherwise. Any thread. */
gboolean               confab_mcp_server_name_validate      (const char            *name,
                                                             GError               **error);

/* ConfabMcpConfig: the whole mcp.json file. */

#define CONFAB_TYPE_MCP_CONFIG (confab_mcp_config_get_type ())
G_DECLARE_FINAL_TYPE (ConfabMcpConfig, confab_mcp_config, CONFAB, MCP_CONFIG, GObject)

/* $CONFAB_MCP_CONFIG when set, else $XDG_CONFIG_HOME/confab/mcp.json.
 * Free with g_free(). */
char                  *confab_mcp_config_get_default_path        (void);
/* Where Claude Desktop keeps its configuration on Linux:
 * $XDG_CONFIG_HOME/Claude/claude_desktop_config.json. Free with g_free(). */
char                  *confab_mcp_config_get_claude_desktop_path (void);

/* An empty configuration that will be saved at @path. */
ConfabMcpConfig       *confab_mcp_config_new            (const char       *path);
/* Parses @data as the contents of @path (used in messages only). A bad
 * file is a CONFAB_ERROR_INVALID_ARGUMENT that says where: the line and
 * column of a JSON error, or the server and member that is wrong. */
ConfabMcpConfig       *confab_mcp_config_new_from_data  (const char       *path,
                                                         const char       *data,
                                                         gssize            length,
                                                         GError          **error);
/* Reads @path (NULL: the default path). A missing file is an empty
 * configuration, not an error. Blocking I/O on a small file: call it at
 * start-up or when the user asks, on any one thread at a time. */
ConfabMcpConfig       *confab_mcp_config_load           (const char       *path,
                                                         GError          **error);
const char            *confab_mcp_config_get_path       (ConfabMcpConfig  *self);
/* The servers in file order (ConfabMcpServerConfig), owned by @self. */
GPtrArray             *confab_mcp_config_get_servers    (ConfabMcpConfig  *self);
ConfabMcpServerConfig *confab_mcp_config_lookup         (ConfabMcpConfig  *self,
                                                         const char       *name);
/* Servers of the file Confab does not start (over HTTP, not stdio):
 * kept in the file when it is saved. */
GStrv                  confab_mcp_config_dup_unsupported (ConfabMcpConfig *self);
/* Adds @server at the end, or in the place of the one of the same name. */
void                   confab_mcp_config_add_server     (ConfabMcpConfig  *self,
                                                         ConfabMcpServerConfig *server);
gboolean               confab_mcp_config_remove_server  (ConfabMcpConfig  *self,
                                                         const char       *name);
/* The file's text: the original document with the servers' entries
 * rewritten, every member Confab does not know kept. Free with g_free(). */
char                  *confab_mcp_config_to_data        (ConfabMcpConfig  *self);
/* Writes the file atomically (a crash leaves the old or the new file,
 * never half of one), readable by its owner only (0600), creating its
 * folder. Blocking I/O, like confab_mcp_config_load(). */
gboolean               confab_mcp_config_save           (ConfabMcpConfig  *self,
                                                         GError          **error);
/* Merges the servers of a Claude Desktop (or LM Studio) configuration at
 * @path (NULL: confab_mcp_config_get_claude_desktop_path()) into @self,
 * which is not saved. A server whose name @self already has is kept as
 * it is unless @replace. @imported and @skipped (both optional) receive
 * the names, in file order, as arrays of strings to free with
 * g_ptr_array_unref(). A file that cannot be read or is invalid leaves
 * @self unchanged. */
gboolean               confab_mcp_config_import         (ConfabMcpConfig  *self,
                                                         const char       *path,
                                                         gboolean          replace,
                                                         GPtrArray       **imported,
                                                         GPtrArray       **skipped,
                                                         GError          **error);

G_END_DECLS
