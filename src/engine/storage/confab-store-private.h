/* confab-store-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "confab-store.h"

G_BEGIN_DECLS

/* A job runs on the store's worker thread, the only thread that touches
 * SQLite, and completes @task (which returns on the caller's context). */
typedef void (*ConfabStoreJobFunc) (ConfabStore *self,
                                    GTask       *task,
                                    gpointer     data);

void          _confab_store_run            (ConfabStore        *self,
                                            GTask              *task,
                                            ConfabStoreJobFunc  func,
                                            gpointer            data,
                                            GDestroyNotify      destroy);
/* Worker thread only. A cached statement, reset and unbound. */
sqlite3_stmt *_confab_store_prepare        (ConfabStore        *self,
                                            const char         *sql,
                                            GError            **error);
gboolean      _confab_store_exec           (ConfabStore        *self,
                                            const char         *sql,
                                            GError            **error);
gboolean      _confab_store_step_done      (ConfabStore        *self,
                                            sqlite3_stmt       *stmt,
                                            GError            **error);
/* The error for SQLite's @rc; @what says what was being done, already
 * translated, such as “reading messages”. */
GError       *_confab_store_error          (ConfabStore        *self,
                                            int                 rc,
                                            const char         *what);
gboolean      _confab_store_check_writable (ConfabStore        *self,
                                            GError            **error);
sqlite3      *_confab_store_get_db         (ConfabStore        *self);
gint64        _confab_store_now            (void);
/* Worker thread only: the messages of a conversation's current branch. */
GPtrArray    *_confab_store_read_branch    (ConfabStore        *self,
                                            gint64              conversation_id,
                                            GError            **error);
ConfabConversation *_confab_store_read_conversation (ConfabStore   *self,
                                                     gint64         conversation_id,
                                                     GError       **error);
/* Worker thread only; inside a transaction of the caller's. */
gint64        _confab_store_insert_message (ConfabStore        *self,
                                            gint64              conversation_id,
                                            ConfabMessage      *message,
                                            GError            **error);
gint64        _confab_store_insert_conversation (ConfabStore        *self,
                                                 ConfabConversation *conversation,
                                                 GError            **error);

static inline const char *
_confab_store_column_text (sqlite3_stmt *stmt,
                           int           column)
{
  return (const char *)sqlite3_column_text (stmt, column);
}

G_END_DECLS
