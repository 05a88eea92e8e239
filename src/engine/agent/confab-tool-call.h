/* confab-tool-call.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_TOOL_CALL (confab_tool_call_get_type ())

G_DECLARE_FINAL_TYPE (ConfabToolCall, confab_tool_call, CONFAB, TOOL_CALL, GObject)

ConfabToolCall *confab_tool_call_new                 (const char     *id,
                                                      const char     *name,
                                                      JsonNode       *arguments);
ConfabToolCall *confab_tool_call_new_from_json_text  (const char     *id,
                                                      const char     *name,
                                                      const char     *arguments_json);
const char     *confab_tool_call_get_id              (ConfabToolCall *self);
const char     *confab_tool_call_get_name            (ConfabToolCall *self);
JsonNode       *confab_tool_call_get_arguments       (ConfabToolCall *self);
const char     *confab_tool_call_get_raw_arguments   (ConfabToolCall *self);
const GError   *confab_tool_call_get_arguments_error (ConfabToolCall *self);
char           *confab_tool_call_dup_arguments_json  (ConfabToolCall *self);
char           *confab_tool_call_generate_id         (void);

G_END_DECLS
