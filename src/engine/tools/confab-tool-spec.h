/* confab-tool-spec.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_TOOL_SPEC (confab_tool_spec_get_type ())

G_DECLARE_FINAL_TYPE (ConfabToolSpec, confab_tool_spec, CONFAB, TOOL_SPEC, GObject)

ConfabToolSpec *confab_tool_spec_new             (const char     *name,
                                                  const char     *description,
                                                  JsonNode       *parameters);
const char     *confab_tool_spec_get_name        (ConfabToolSpec *self);
const char     *confab_tool_spec_get_description (ConfabToolSpec *self);
JsonNode       *confab_tool_spec_get_parameters  (ConfabToolSpec *self);

G_END_DECLS
