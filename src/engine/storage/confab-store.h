/* confab-store.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "confab-conversation.h"
#include "confab-message.h"

G_BEGIN_DECLS

#define CONFAB_STORE_ERROR (confab_store_error_quark ())

/**
 * ConfabStoreError:
 * @CONFAB_STORE_ERROR_NEWER_SCHEMA: the database was written by a newer Confab
 * @CONFAB_STORE_ERROR_CORRUPT: the file is not a readable Confab database
 * @CONFAB_STORE_ERROR_LOCKED: another program holds the database locked
 * @CONFAB_STORE_ERROR_FULL: the disk (or the file size limit) is full
 * @CONFAB_STORE_ERROR_READ_ONLY: the store was opened read-only or in memory
 *   after a problem, and does not write
 * @CONFAB_STORE_ERROR_NOT_FOUND: no such conversation or message
 * @CONFAB_STORE_ERROR_INVALID: bad input (an import file, a query)
 * @CONFAB_STORE_ERROR_FAILED: any other database error
 */
typedef enum
{
  CONFAB_STORE_ERROR_NEWER_SCHEMA,
  CONFAB_STORE_ERROR_CORRUPT,
  CONFAB_STORE_ERROR_LOCKED,
  CONFAB_STORE_ERROR_FULL,
  CONFAB_STORE_ERROR_READ_ONLY,
  CONFAB_STORE_ERROR_NOT_FOUND,
  CONFAB_STORE_ERROR_INVALID,
  CONFAB_STORE_ERROR_FAILED,
} ConfabStoreError;

/**
 * ConfabStoreMode:
 * @CONFAB_STORE_READ_WRITE: the database file, as usual
 * @CONFAB_STORE_READ_ONLY: the file could be read but not written (a newer
 *   schema, a locked or damaged file): what is readable can be exported
 * @CONFAB_STORE_MEMORY: the file could not be read at all; a fresh
 *   database in memory lets the app run, and nothing is saved
 */
typedef enum
{
  CONFAB_STORE_READ_WRITE,
  CONFAB_STORE_READ_ONLY,
  CONFAB_STORE_MEMORY,
} ConfabStoreMode;

/**
 * ConfabSearchHit:
 * @conversation_id: where
 * @message_id: which message
 * @title: the conversation's title
 * @snippet: the matching words in context, matches between «»
 * @rank: lower is better
 */
typedef struct
{
  gint64  conversation_id;
  gint64  message_id;
  char   *title;
  char   *snippet;
  double  rank;
} ConfabSearchHit;

void confab_search_hit_free (ConfabSearchHit *hit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfabSearchHit, confab_search_hit_free)

#define CONFAB_STORE_SCHEMA_VERSION 4

#define CONFAB_TYPE_STORE (confab_store_get_type ())

G_DECLARE_FINAL_TYPE (ConfabStore, confab_store, CONFAB, STORE, GObject)

GQuark              confab_store_error_quark                (void);
char               *confab_store_get_default_path           (void);

void                confab_store_new_async                  (const char          *path,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
ConfabStore        *confab_store_new_finish                 (GAsyncResult        *result,
                                                             GError             **error);
ConfabStoreMode     confab_store_get_mode                   (ConfabStore         *self);
const GError       *confab_store_get_open_error             (ConfabStore         *self);
const char         *confab_store_get_path                   (ConfabStore         *self);
GThread            *confab_store_get_worker_thread          (ConfabStore         *self);
guint               confab_store_get_n_statements           (ConfabStore         *self);

/* Conversations */
void                confab_store_list_conversations_async   (ConfabStore         *self,
                                                             guint                limit,
                                                             gboolean             include_archived,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GPtrArray          *confab_store_list_conversations_finish  (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_get_conversation_async     (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
ConfabConversation *confab_store_get_conversation_finish    (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_create_conversation_async  (ConfabStore         *self,
                                                             ConfabConversation  *conversation,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
ConfabConversation *confab_store_create_conversation_finish (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_update_conversation_async  (ConfabStore         *self,
                                                             ConfabConversation  *conversation,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_update_conversation_finish (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
/* Stores what the user granted to the conversation's tools: @folders
 * (nullable: none), real paths, and whether the tools may reach this
 * computer and the local network. Only these; update_conversation leaves
 * them as they are. */
void                confab_store_set_tool_access_async      (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             const char * const  *folders,
                                                             gboolean             allow_private_network,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_set_tool_access_finish     (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_delete_conversation_async  (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_delete_conversation_finish (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* Messages */
void                confab_store_load_messages_async        (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GPtrArray          *confab_store_load_messages_finish       (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_load_messages_page_async   (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             gint64               last_id,
                                                             guint                limit,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GPtrArray          *confab_store_load_messages_page_finish  (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_add_message_async          (ConfabStore         *self,
                                                             gint64               conversation_id,
                                                             ConfabMessage       *message,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gint64              confab_store_add_message_finish         (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_append_to_message_async    (ConfabStore         *self,
                                                             gint64               message_id,
                                                             const char          *text,
                                                             const char          *reasoning,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_append_to_message_finish   (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_finish_message_async       (ConfabStore         *self,
                                                             ConfabMessage       *message,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_finish_message_finish      (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_list_siblings_async        (ConfabStore         *self,
                                                             gint64               message_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GArray             *confab_store_list_siblings_finish       (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);
void                confab_store_switch_branch_async        (ConfabStore         *self,
                                                             gint64               message_id,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
gboolean            confab_store_switch_branch_finish       (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

/* Search */
void                confab_store_search_async               (ConfabStore         *self,
                                                             const char          *query,
                                                             guint                limit,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GPtrArray          *confab_store_search_finish              (ConfabStore         *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

G_END_DECLS
