/* confab-store-export.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-store.h"

G_BEGIN_DECLS

/**
 * ConfabExportFormat:
 * @CONFAB_EXPORT_MARKDOWN: a readable transcript of each conversation's
 *   current branch; not meant to be imported again
 * @CONFAB_EXPORT_JSON: every message of every branch, in the versioned
 *   format of docs/export-format.md, which confab_store_import_async() reads
 */
typedef enum
{
  CONFAB_EXPORT_MARKDOWN,
  CONFAB_EXPORT_JSON,
} ConfabExportFormat;

/* The "format" and "version" members of a JSON export. */
#define CONFAB_EXPORT_FORMAT_NAME    "confab-conversations"
#define CONFAB_EXPORT_FORMAT_VERSION 1

void    confab_store_export_async  (ConfabStore         *self,
                                    gint64               conversation_id,
                                    ConfabExportFormat   format,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
char   *confab_store_export_finish (ConfabStore         *self,
                                    GAsyncResult        *result,
                                    GError             **error);
void    confab_store_import_async  (ConfabStore         *self,
                                    const char          *json_text,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
GArray *confab_store_import_finish (ConfabStore         *self,
                                    GAsyncResult        *result,
                                    GError             **error);

G_END_DECLS
