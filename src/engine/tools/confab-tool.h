/* confab-tool.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "confab-tool-spec.h"

G_BEGIN_DECLS

/**
 * ConfabToolPolicy:
 * @CONFAB_TOOL_POLICY_ASK: ask the user before every call
 * @CONFAB_TOOL_POLICY_ALLOW: run without asking
 * @CONFAB_TOOL_POLICY_NEVER: never run; the model is told it was refused
 *
 * What happens when the model asks for a tool.
 */
typedef enum
{
  CONFAB_TOOL_POLICY_ASK,
  CONFAB_TOOL_POLICY_ALLOW,
  CONFAB_TOOL_POLICY_NEVER,
} ConfabToolPolicy;

const char *confab_tool_policy_to_string   (ConfabToolPolicy  policy);
gboolean    confab_tool_policy_from_string (const char       *str,
                                            ConfabToolPolicy *policy);

/* ConfabToolResult: what a tool hands back to the model. */

#define CONFAB_TYPE_TOOL_RESULT (confab_tool_result_get_type ())
G_DECLARE_FINAL_TYPE (ConfabToolResult, confab_tool_result, CONFAB, TOOL_RESULT, GObject)

ConfabToolResult *confab_tool_result_new            (const char       *text);
ConfabToolResult *confab_tool_result_new_error      (const char       *text);
const char       *confab_tool_result_get_text       (ConfabToolResult *self);
gboolean          confab_tool_result_get_is_error   (ConfabToolResult *self);
/* Optional machine-readable form (an MCP structuredContent, a listing). */
JsonNode         *confab_tool_result_get_structured (ConfabToolResult *self);
void              confab_tool_result_set_structured (ConfabToolResult *self,
                                                     JsonNode         *structured);

/* ConfabToolContext: what the user granted to the tools of one
 * conversation. Shared by every call of a turn; set up on the main
 * thread before a turn and read (never changed) by worker threads. */

#define CONFAB_TYPE_TOOL_CONTEXT (confab_tool_context_get_type ())
G_DECLARE_FINAL_TYPE (ConfabToolContext, confab_tool_context, CONFAB, TOOL_CONTEXT, GObject)

ConfabToolContext  *confab_tool_context_new                       (void);
/* Grants a folder to the file tools. @path is resolved to its real path;
 * FALSE and @error when it does not exist or is not a folder. Blocks on
 * the file system: the _async form resolves on a worker thread, and its
 * _finish (on the caller's thread) grants the folder. */
gboolean            confab_tool_context_add_allowed_dir           (ConfabToolContext *self,
                                                                   const char        *path,
                                                                   GError           **error);
void                confab_tool_context_add_allowed_dir_async     (ConfabToolContext   *self,
                                                                   const char          *path,
                                                                   GCancellable        *cancellable,
                                                                   GAsyncReadyCallback  callback,
                                                                   gpointer             user_data);
gboolean            confab_tool_context_add_allowed_dir_finish    (ConfabToolContext  *self,
                                                                   GAsyncResult       *result,
                                                                   GError            **error);
/* Grants again, without touching the file system, a real path this or
 * another context granted earlier (one stored with a conversation).
 * Follow with confab_tool_context_check_allowed_dirs_async(). */
void                confab_tool_context_restore_allowed_dir       (ConfabToolContext *self,
                                                                   const char        *real_path);
/* Checks the granted folders on a worker thread; _finish takes back
 * those that are gone or whose real path changed, and returns them
 * (an empty vector when none). */
void                confab_tool_context_check_allowed_dirs_async  (ConfabToolContext   *self,
                                                                   GCancellable        *cancellable,
                                                                   GAsyncReadyCallback  callback,
                                                                   gpointer             user_data);
char              **confab_tool_context_check_allowed_dirs_finish (ConfabToolContext  *self,
                                                                   GAsyncResult       *result,
                                                                   GError            **error);
/* The granted folders' real paths, in the order granted; never NULL. */
const char * const *confab_tool_context_get_allowed_dirs          (ConfabToolContext *self);
/* The first granted folder, or the home folder if none. */
const char         *confab_tool_context_get_working_directory     (ConfabToolContext *self);
gboolean            confab_tool_context_get_allow_private_network (ConfabToolContext *self);
void                confab_tool_context_set_allow_private_network (ConfabToolContext *self,
                                                                   gboolean           allow);

/* ConfabTool: the base class of every tool, built-in or MCP. */

#define CONFAB_TYPE_TOOL (confab_tool_get_type ())
G_DECLARE_DERIVABLE_TYPE (ConfabTool, confab_tool, CONFAB, TOOL, GObject)

/**
 * ConfabToolClass:
 * @run_async: starts the tool with @arguments (a JSON object, never
 *   NULL). Must stop promptly when @cancellable is cancelled: a thread
 *   checks it between steps, a subprocess is killed with its process group
 *   from the cancellable's handler.
 * @run_finish: the result; a %FALSE-y result (NULL) with @error when the
 *   tool failed. A result whose is-error is set is also a failure the
 *   model sees, with the tool's own words.
 */
struct _ConfabToolClass
{
  GObjectClass parent_class;

  void              (*run_async)  (ConfabTool          *self,
                                   ConfabToolContext   *context,
                                   JsonObject          *arguments,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
  ConfabToolResult *(*run_finish) (ConfabTool          *self,
                                   GAsyncResult        *result,
                                   GError             **error);

  /*< private >*/
  gpointer _reserved[8];
};

const char       *confab_tool_get_name           (ConfabTool          *self);
const char       *confab_tool_get_description    (ConfabTool          *self);
/* The JSON Schema of the arguments (an object schema). */
JsonNode         *confab_tool_get_parameters     (ConfabTool          *self);
/* Whether the default policy is to ask (run_command, MCP tools). */
gboolean          confab_tool_get_needs_approval (ConfabTool          *self);
/* Seconds before a call is stopped; 0 means never. */
guint             confab_tool_get_timeout        (ConfabTool          *self);
void              confab_tool_set_timeout        (ConfabTool          *self,
                                                  guint                seconds);
ConfabToolSpec   *confab_tool_dup_spec           (ConfabTool          *self);

/* Runs the tool under its timeout. Arguments that are not a JSON object
 * fail at once with CONFAB_ERROR_INVALID_ARGUMENT; a timeout fails with
 * CONFAB_ERROR_TIMEOUT and cancellation with CONFAB_ERROR_CANCELLED, both
 * as soon as they happen (the tool is cancelled at that moment). */
void              confab_tool_run_async          (ConfabTool          *self,
                                                  ConfabToolContext   *context,
                                                  JsonNode            *arguments,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
ConfabToolResult *confab_tool_run_finish         (ConfabTool          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Helpers for subclasses reading their arguments: a clear
 * CONFAB_ERROR_INVALID_ARGUMENT naming the tool and the member when a
 * required member is missing or has the wrong type. */
const char       *confab_tool_get_string_arg     (ConfabTool          *self,
                                                  JsonObject          *arguments,
                                                  const char          *name,
                                                  gboolean             required,
                                                  GError             **error);
gboolean          confab_tool_get_int_arg        (ConfabTool          *self,
                                                  JsonObject          *arguments,
                                                  const char          *name,
                                                  gint64               fallback,
                                                  gint64              *value,
                                                  GError             **error);
gboolean          confab_tool_get_bool_arg       (ConfabTool          *self,
                                                  JsonObject          *arguments,
                                                  const char          *name,
                                                  gboolean             fallback,
                                                  gboolean            *value,
                                                  GError             **error);

/* Builds a parameters schema from a JSON text; aborts on invalid JSON
 * (for the built-in tools' literal schemas). */
JsonNode         *confab_tool_schema_from_string (const char          *json);

G_END_DECLS
