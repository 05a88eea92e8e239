/* confab-cjson-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

G_BEGIN_DECLS

/* cJSON parses the per-token stream chunks (about six times cheaper than a
 * DOM parse with json-glib, see docs/benchmarks.md); everything else uses
 * json-glib. These helpers read fields without caring about missing keys.
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

static inline const char *
confab_cjson_string (const cJSON *object,
                     const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);

  return cJSON_IsString (item) ? item->valuestring : NULL;
}

static inline const cJSON *
confab_cjson_object (const cJSON *object,
                     const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);

  return cJSON_IsObject (item) ? item : NULL;
}

static inline const cJSON *
confab_cjson_array (const cJSON *object,
                    const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);

  return cJSON_IsArray (item) ? item : NULL;
}

/* Returns -1 when absent or not a non-negative number. */
static inline gint64
confab_cjson_count (const cJSON *object,
                    const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (object, key);

  if (!cJSON_IsNumber (item) || item->valuedouble < 0 || item->valuedouble > (double)G_MAXINT64 / 2)
    return -1;
  return (gint64)item->valuedouble;
}

/* Parses @data as one JSON object, or sets a protocol error quoting the
 * beginning of what the server sent. */
cJSON *_confab_cjson_parse_object (const char  *data,
                                   gsize        len,
                                   GError     **error);

/* The message of an error report: a string, or an object's "message". */
const char *_confab_cjson_error_message (const cJSON *error_item);

G_END_DECLS
