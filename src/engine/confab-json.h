/* confab-json.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean confab_json_parse (const char  *data,
                            gssize       length,
                            JsonNode   **root,
                            GError     **error);

G_END_DECLS
