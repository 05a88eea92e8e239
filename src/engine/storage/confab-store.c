/* confab-store.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "confab-json.h"
#include "confab-store-private.h"

/* Conversations in one SQLite database, owned by one worker thread that
 * runs every statement; the public API queues jobs to it and completes
 * on the caller's main context. The main thread never waits on the disk.
 *
 * Durability: WAL with synchronous=NORMAL. A commit is in the WAL file
 * before the call returns, so a crash or kill -9 of Confab loses nothing
 * committed; only a power failure can lose the last commits, which is
 * the same one-second window a streaming reply is flushed in anyway.
 * synchronous=FULL would add an fsync to every flush of every reply.
 */

struct _ConfabStore
{
  GObject          parent_instance;

  char            *path;
  ConfabStoreMode  mode;
  GError          *open_error;

  GThread         *thread;
  GAsyncQueue     *queue;

  /* Worker thread only */
  sqlite3         *db;
  int              lock_fd;
  GCancellable    *job_cancellable;
  GHashTable      *statements;
  gint             n_statements;
};

G_DEFINE_FINAL_TYPE (ConfabStore, confab_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (confab-store-error-quark, confab_store_error)

typedef struct
{
  GTask              *task;
  ConfabStoreJobFunc  func;
  gpointer            data;
  GDestroyNotify      destroy;
} Job;

/* Pushed to the queue to stop the worker. */
static Job stop_job;

void
confab_search_hit_free (ConfabSearchHit *hit)
{
  if (hit == NULL)
    return;
  g_free (hit->title);
  g_free (hit->snippet);
  g_free (hit);
}

gint64
_confab_store_now (void)
{
  return g_get_real_time () / 1000;
}

/* Errors */

GError *
_confab_store_error (ConfabStore *self,
                     int          rc,
                     const char  *what)
{
  int saved_errno = errno;
  int primary = rc & 0xff;
  int system_errno = self->db != NULL ? sqlite3_system_errno (self->db) : 0;
  const char *detail = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);

  /* SQLite does not keep the errno of a failed write reliably; right
   * after the failing call, errno still has it. */
  if (system_errno == 0 && rc == SQLITE_IOERR_WRITE)
    system_errno = saved_errno;

  /* A write that fails is, in practice, a full disk, a quota or the file
   * size limit; SQLite does not reliably keep the errno to tell which. */
  if (primary == SQLITE_FULL ||
      (primary == SQLITE_IOERR && (system_errno == ENOSPC || system_errno == EFBIG || system_errno == EDQUOT)) ||
      (rc == SQLITE_IOERR_WRITE && system_errno == 0))
    return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_FULL,
                        /* Translators: the first %s says what was being done,
                         * such as “saving” or “reading messages” (translated
                         * on their own); the second is the system's
                         * explanation. */
                        _("Could not save while %s: the disk is full or the file has reached its size limit (%s)"),
                        what, system_errno != 0 ? g_strerror (system_errno) : detail);
  if (primary == SQLITE_INTERRUPT)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                        /* Translators: %s says what was being done, such as
                         * “reading messages” (translated on their own). */
                        _("Cancelled while %s"), what);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_LOCKED,
                        /* Translators: %s says what was being done, such as
                         * “reading messages” (translated on their own). */
                        _("The conversation database is locked by another program (while %s)"), what);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_CORRUPT,
                        /* Translators: the first %s is a file name, the second
                         * says what was being done, such as “reading messages”
                         * (translated on their own), the third is SQLite's
                         * explanation (in English). */
                        _("The conversation database %s is damaged (while %s: %s)"),
                        self->path, what, detail);
  if (primary == SQLITE_READONLY)
    return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY,
                        /* Translators: %s says what was being done, such as
                         * “reading messages” (translated on their own). */
                        _("The conversation database is open read-only (while %s)"), what);
  if (system_errno != 0)
    return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_FAILED,
                        /* Translators: the first %s says what was being done,
                         * such as “reading messages” (translated on their
                         * own); the second is SQLite's explanation (in
                         * English), the third the system's; %d is SQLite's
                         * error code. */
                        _("Database error while %s: %s (%s, code %d)"), what, detail,
                        g_strerror (system_errno), rc);
  return g_error_new (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_FAILED,
                      /* Translators: the first %s says what was being done,
                       * such as “reading messages” (translated on their own);
                       * the second is SQLite's explanation (in English); %d is
                       * SQLite's error code. */
                      _("Database error while %s: %s (code %d)"), what, detail, rc);
}

gboolean
_confab_store_check_writable (ConfabStore  *self,
                              GError      **error)
{
  if (self->mode != CONFAB_STORE_READ_ONLY)
    return TRUE;

  g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_READ_ONLY,
               /* Translators: %s says why, such as the error that made the
                * database read-only. */
               _("Nothing can be saved: the conversation database is open read-only (%s)"),
               self->open_error != NULL ? self->open_error->message : _("opened read-only"));
  return FALSE;
}

/* Worker thread helpers */

/* A long statement (a search for a common word) stops when its job is
 * cancelled, so the next job (the next keystroke's search) need not wait. */
static int
progress_cb (void *data)
{
  ConfabStore *self = data;

  return self->job_cancellable != NULL && g_cancellable_is_cancelled (self->job_cancellable);
}

static int
trace_cb (unsigned  type,
          void     *context,
          void     *p,
          void     *x)
{
  ConfabStore *self = context;

  /* The one rule of this file: SQLite runs on the worker, never else. */
  g_assert (g_thread_self () == self->thread);
  g_atomic_int_inc (&self->n_statements);
  return 0;
}

sqlite3 *
_confab_store_get_db (ConfabStore *self)
{
  g_assert (g_thread_self () == self->thread);
  return self->db;
}

sqlite3_stmt *
_confab_store_prepare (ConfabStore  *self,
                       const char   *sql,
                       GError      **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_assert (g_thread_self () == self->thread);

  stmt = g_hash_table_lookup (self->statements, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("preparing a query")));
      return NULL;
    }

  /* The SQL strings are literals of this program, so they outlive us. */
  g_hash_table_insert (self->statements, (gpointer)sql, stmt);
  return stmt;
}

gboolean
_confab_store_exec (ConfabStore  *self,
                    const char   *sql,
                    GError      **error)
{
  char *message = NULL;
  int rc;

  g_assert (g_thread_self () == self->thread);

  rc = sqlite3_exec (self->db, sql, NULL, NULL, &message);
  sqlite3_free (message);
  if (rc != SQLITE_OK)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("updating the database")));
      return FALSE;
    }
  return TRUE;
}

gboolean
_confab_store_step_done (ConfabStore   *self,
                         sqlite3_stmt  *stmt,
                         GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("saving")));
      return FALSE;
    }
  return TRUE;
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           column,
                   const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, column, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

static void
bind_count (sqlite3_stmt *stmt,
            int           column,
            gint64        count)
{
  if (count >= 0)
    sqlite3_bind_int64 (stmt, column, count);
  else
    sqlite3_bind_null (stmt, column);
}

static gint64
column_count (sqlite3_stmt *stmt,
              int           column)
{
  return sqlite3_column_type (stmt, column) == SQLITE_NULL ? -1 : sqlite3_column_int64 (stmt, column);
}

/* Completes @task once @stmt (bound) ran: TRUE when it changed a row,
 * NOT_FOUND with the message @not_found otherwise. */
static void
return_if_changed (ConfabStore  *self,
                   GTask        *task,
                   sqlite3_stmt *stmt,
                   const char   *not_found,
                   ...) G_GNUC_PRINTF (4, 5);

static void
return_if_changed (ConfabStore  *self,
                   GTask        *task,
                   sqlite3_stmt *stmt,
                   const char   *not_found,
                   ...)
{
  GError *error = NULL;

  if (!_confab_store_step_done (self, stmt, &error))
    g_task_return_error (task, error);
  else if (sqlite3_changes (self->db) == 0)
    {
      g_autofree char *message = NULL;
      va_list args;

      va_start (args, not_found);
      message = g_strdup_vprintf (not_found, args);
      va_end (args);
      g_task_return_error (task, g_error_new_literal (CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND, message));
    }
  else
    g_task_return_boolean (task, TRUE);
}

/* Schema */

/* Version 1: conversations, messages as a tree (parent pointers), tool
 * calls. Version 2: full-text search over messages and stored provider
 * configurations. Version 3: an index for crash recovery. Version 4: tool
 * access per conversation. Each step runs in the migration transaction. */
static const char * const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE conversations ("
  "  id INTEGER PRIMARY KEY,"
  "  title TEXT NOT NULL DEFAULT '',"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  pinned INTEGER NOT NULL DEFAULT 0,"
  "  archived INTEGER NOT NULL DEFAULT 0,"
  "  provider TEXT,"
  "  model TEXT,"
  "  system_prompt TEXT,"
  "  current_leaf INTEGER REFERENCES messages(id) ON DELETE SET NULL"
  ");"
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
  "  parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,"
  "  role TEXT NOT NULL,"
  "  content TEXT NOT NULL DEFAULT '',"
  "  reasoning TEXT NOT NULL DEFAULT '',"
  "  state TEXT NOT NULL DEFAULT 'complete',"
  "  error TEXT,"
  "  model TEXT,"
  "  prompt_tokens INTEGER,"
  "  completion_tokens INTEGER,"
  "  created_at INTEGER NOT NULL,"
  "  finished_at INTEGER,"
  "  tool_call_id TEXT,"
  "  tool_name TEXT,"
  "  is_error INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE tool_calls ("
  "  id INTEGER PRIMARY KEY,"
  "  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  call_id TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  arguments TEXT NOT NULL"
  ");"
  "CREATE INDEX conversations_recent ON conversations (archived, pinned DESC, updated_at DESC);"
  "CREATE INDEX messages_by_conversation ON messages (conversation_id, id);"
  "CREATE INDEX messages_by_parent ON messages (parent_id);"
  "CREATE INDEX tool_calls_by_message ON tool_calls (message_id, position);",

  /* 1 -> 2 */
  "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
  "  content, reasoning, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'"
  ");"
  /* A streaming reply is indexed once it stops growing, not at every
   * flush. */
  "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.state != 'streaming' BEGIN"
  "  INSERT INTO messages_fts (rowid, content, reasoning) VALUES (new.id, new.content, new.reasoning);"
  "END;"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.state != 'streaming' BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, content, reasoning)"
  "    VALUES ('delete', old.id, old.content, old.reasoning);"
  "END;"
  /* One trigger, so the old text leaves the index before the new enters:
   * FTS5 needs exactly the indexed text to delete a row. */
  "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, reasoning, state ON messages BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, content, reasoning)"
  "    SELECT 'delete', old.id, old.content, old.reasoning WHERE old.state != 'streaming';"
  "  INSERT INTO messages_fts (rowid, content, reasoning)"
  "    SELECT new.id, new.content, new.reasoning WHERE new.state != 'streaming';"
  "END;"
  "INSERT INTO messages_fts (rowid, content, reasoning)"
  "  SELECT id, content, reasoning FROM messages WHERE state != 'streaming';"
  "CREATE TABLE providers ("
  "  name TEXT PRIMARY KEY,"
  "  api TEXT NOT NULL,"
  "  base_url TEXT NOT NULL,"
  "  default_model TEXT,"
  "  headers TEXT NOT NULL DEFAULT '{}',"
  "  created_at INTEGER NOT NULL"
  ");",

  /* 2 -> 3: crash recovery at start-up finds streaming replies without
   * reading every message (30 ms of 34 with 10,000 conversations), and
   * databases made by the first version-2 builds, whose two update
   * triggers ran in the wrong order, get the one trigger and a rebuilt
   * index. Written to be a no-op where that is already so. */
  "CREATE INDEX IF NOT EXISTS messages_streaming ON messages (id) WHERE state = 'streaming';"
  "DROP TRIGGER IF EXISTS messages_fts_update_old;"
  "DROP TRIGGER IF EXISTS messages_fts_update_new;"
  "CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content, reasoning, state ON messages BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, content, reasoning)"
  "    SELECT 'delete', old.id, old.content, old.reasoning WHERE old.state != 'streaming';"
  "  INSERT INTO messages_fts (rowid, content, reasoning)"
  "    SELECT new.id, new.content, new.reasoning WHERE new.state != 'streaming';"
  "END;"
  "INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');"
  "INSERT INTO messages_fts (rowid, content, reasoning)"
  "  SELECT id, content, reasoning FROM messages WHERE state != 'streaming';",

  /* 3 -> 4: what the user granted to a conversation's tools outlives the
   * app: the folders (a JSON array of real paths) and whether the tools
   * may reach this computer and the local network. */
  ("ALTER TABLE conversations ADD COLUMN tool_folders TEXT NOT NULL DEFAULT '[]';"
   "ALTER TABLE conversations ADD COLUMN tools_private_network INTEGER NOT NULL DEFAULT 0;"),
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == CONFAB_STORE_SCHEMA_VERSION);

static gint64
read_user_version (ConfabStore  *self,
                   GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 version;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      version = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
      sqlite3_finalize (stmt);
      if (rc == SQLITE_ROW)
        return version;
    }

  /* Translators: completes “… while %s” in database errors */
  g_propagate_error (error, _confab_store_error (self, rc, _("reading the database")));
  return -1;
}

static gboolean
migrate (ConfabStore  *self,
         gint64        version,
         GError      **error)
{
  g_autofree char *set_version = NULL;

  if (version == CONFAB_STORE_SCHEMA_VERSION)
    return TRUE;

  if (!_confab_store_exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  for (gint64 v = version; v < CONFAB_STORE_SCHEMA_VERSION; v++)
    {
      if (!_confab_store_exec (self, migrations[v], error))
        {
          _confab_store_exec (self, "ROLLBACK", NULL);
          /* Translators: this goes before the error itself. */
          g_prefix_error (error, _("Could not upgrade the database from version %lld: "), (long long)v);
          return FALSE;
        }
    }

  set_version = g_strdup_printf ("PRAGMA user_version = %d", CONFAB_STORE_SCHEMA_VERSION);
  if (!_confab_store_exec (self, set_version, error) || !_confab_store_exec (self, "COMMIT", error))
    {
      _confab_store_exec (self, "ROLLBACK", NULL);
      return FALSE;
    }

  g_debug ("Migrated %s from schema %" G_GINT64_FORMAT " to %d",
           self->path, version, CONFAB_STORE_SCHEMA_VERSION);
  return TRUE;
}

static void
close_db (ConfabStore *self)
{
  g_hash_table_remove_all (self->statements);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  self->db = NULL;
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  self->lock_fd = -1;
}

static gboolean
open_db (ConfabStore  *self,
         const char   *filename,
         int           flags,
         GError      **error)
{
  int rc;

  rc = sqlite3_open_v2 (filename, &self->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
  if (rc != SQLITE_OK)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("opening the database")));
      close_db (self);
      return FALSE;
    }

  sqlite3_extended_result_codes (self->db, TRUE);
  /* Another Confab (the app and the CLI) may hold the write lock for a
   * moment; wait for it rather than fail. */
  sqlite3_busy_timeout (self->db, 3000);
  sqlite3_trace_v2 (self->db, SQLITE_TRACE_STMT, trace_cb, self);
  sqlite3_progress_handler (self->db, 10000, progress_cb, self);

  return TRUE;
}

/* Returns TRUE when this is the only store that has the database open.
 * The lock is turned shared (and kept) once recovery ran. */
static gboolean
take_recovery_lock (ConfabStore *self)
{
  g_autofree char *lock_path = g_strconcat (self->path, ".lock", NULL);

  if (self->lock_fd < 0)
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    {
      /* A read-only folder, say: recover as before, since no other
       * Confab can be writing there either. */
      g_debug ("Could not open %s: %s", lock_path, g_strerror (errno));
      return TRUE;
    }

  return flock (self->lock_fd, LOCK_EX | LOCK_NB) == 0;
}

/* Opens the file for reading and writing, creating and upgrading it. */
static gboolean
open_read_write (ConfabStore  *self,
                 GError      **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  gint64 version;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_FAILED,
                   /* Translators: the first %s is a folder, the second the
                    * system's explanation. */
                   _("Could not create the folder %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!open_db (self, self->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error))
    return FALSE;

  if ((version = read_user_version (self, error)) < 0)
    goto fail;

  if (version > CONFAB_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NEWER_SCHEMA,
                   /* Translators: %s is a file name; the numbers are the
                    * database's schema version and the newest this version
                    * of Confab knows. */
                   _("The conversation database %s was written by a newer version of Confab "
                     "(schema %lld, this version knows %d); it is left as it is"),
                   self->path, (long long)version, CONFAB_STORE_SCHEMA_VERSION);
      goto fail;
    }

  if (!_confab_store_exec (self, "PRAGMA journal_mode = WAL", error) ||
      !_confab_store_exec (self, "PRAGMA synchronous = NORMAL", error) ||
      !_confab_store_exec (self, "PRAGMA foreign_keys = ON", error) ||
      !migrate (self, version, error))
    goto fail;

  /* A reply that was streaming when Confab stopped (a crash, kill -9, a
   * power cut) keeps everything up to its last flush, marked stopped.
   * Only when no other Confab has the database open: their replies may
   * be streaming right now. Every open store holds a shared lock on
   * DATABASE.lock; whoever gets it exclusively is alone. */
  if (take_recovery_lock (self) &&
      !_confab_store_exec (self,
                           "UPDATE messages SET state = 'stopped' WHERE state = 'streaming'",
                           error))
    goto fail;
  if (self->lock_fd >= 0)
    flock (self->lock_fd, LOCK_SH);

  return TRUE;

fail:
  close_db (self);
  return FALSE;
}

static gboolean
open_read_only (ConfabStore  *self,
                GError      **error)
{
  gint64 version;

  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      g_set_error_literal (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_FAILED, _("No database file"));
      return FALSE;
    }

  if (!open_db (self, self->path, SQLITE_OPEN_READONLY, error))
    return FALSE;

  /* The read-write attempt already waited for a lock; don't wait twice. */
  sqlite3_busy_timeout (self->db, 100);

  /* Reading the schema proves the file is a database at all. */
  if ((version = read_user_version (self, error)) < 1 ||
      !_confab_store_exec (self, "SELECT count(*) FROM conversations", error))
    {
      if (version == 0 && error != NULL && *error == NULL)
        g_set_error_literal (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_CORRUPT, _("Empty database"));
      close_db (self);
      return FALSE;
    }

  return TRUE;
}

static gboolean
open_memory (ConfabStore  *self,
             GError      **error)
{
  return open_db (self, ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error) &&
         _confab_store_exec (self, "PRAGMA foreign_keys = ON", error) &&
         migrate (self, 0, error);
}

static void
open_job (ConfabStore *self,
          GTask       *task,
          gpointer     data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) fallback_error = NULL;

  if (open_read_write (self, &error))
    {
      self->mode = CONFAB_STORE_READ_WRITE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_debug ("Could not open %s: %s", self->path, error->message);
  self->open_error = g_error_copy (error);

  /* Keep what is readable available for export; never write the file. */
  if (open_read_only (self, &fallback_error))
    self->mode = CONFAB_STORE_READ_ONLY;
  else if (open_memory (self, NULL))
    self->mode = CONFAB_STORE_MEMORY;
  else
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* Worker */

static gboolean
unref_task_cb (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static gpointer
worker_main (gpointer data)
{
  ConfabStore *self = data;
  Job *job;

  while ((job = g_async_queue_pop (self->queue)) != &stop_job)
    {
      if (!g_task_return_error_if_cancelled (job->task))
        {
          self->job_cancellable = g_task_get_cancellable (job->task);
          job->func (self, job->task, job->data);
          self->job_cancellable = NULL;
        }
      if (job->destroy != NULL)
        job->destroy (job->data);
      /* The task holds the store: its last reference must not drop here,
       * or the store would be finalized on the thread it joins. An idle
       * on the task's context always runs there (g_main_context_invoke()
       * may run it right here when that context is free). */
      {
        GSource *source = g_idle_source_new ();

        g_source_set_callback (source, unref_task_cb, job->task, NULL);
        g_source_attach (source, g_task_get_context (job->task));
        g_source_unref (source);
      }
      g_free (job);
    }

  close_db (self);
  return NULL;
}

/**
 * _confab_store_run:
 * @task: (transfer none): completed by @func
 *
 * Queues @func to run on the worker thread. Jobs run one at a time, in
 * the order they were queued.
 */
void
_confab_store_run (ConfabStore        *self,
                   GTask              *task,
                   ConfabStoreJobFunc  func,
                   gpointer            data,
                   GDestroyNotify      destroy)
{
  Job *job = g_new0 (Job, 1);

  job->task = g_object_ref (task);
  job->func = func;
  job->data = data;
  job->destroy = destroy;
  g_async_queue_push (self->queue, job);
}

/* GObject */

static void
confab_store_finalize (GObject *object)
{
  ConfabStore *self = (ConfabStore *)object;

  /* Jobs hold a reference on their task, and the task on us: when we get
   * here, the queue is empty and the worker idle. */
  g_async_queue_push (self->queue, &stop_job);
  g_thread_join (self->thread);

  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->path, g_free);
  g_clear_error (&self->open_error);

  G_OBJECT_CLASS (confab_store_parent_class)->finalize (object);
}

static void
confab_store_class_init (ConfabStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_store_finalize;
}

static void
confab_store_init (ConfabStore *self)
{
  self->lock_fd = -1;
  self->queue = g_async_queue_new ();
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)sqlite3_finalize);
  self->thread = g_thread_new ("confab-store", worker_main, self);
}

/* Public API */

/**
 * confab_store_get_default_path:
 *
 * Returns: (transfer full): $XDG_DATA_HOME/confab/confab.db
 */
char *
confab_store_get_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "confab", "confab.db", NULL);
}

/**
 * confab_store_new_async:
 * @path: (nullable): the database file; %NULL for the default
 *
 * Opens (creating or upgrading) the database on the store's worker
 * thread. When the file cannot be used (a newer schema, damage, a lock),
 * the store still opens, read-only when the file can be read and in
 * memory otherwise; confab_store_get_open_error() then says why, and the
 * file is never written.
 */
void
confab_store_new_async (const char          *path,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(ConfabStore) self = g_object_new (CONFAB_TYPE_STORE, NULL);
  g_autoptr(GTask) task = NULL;

  self->path = path != NULL ? g_strdup (path) : confab_store_get_default_path ();

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_store_new_async);
  _confab_store_run (self, task, open_job, NULL, NULL);
}

/**
 * confab_store_new_finish:
 *
 * Returns: (transfer full) (nullable): the store, or %NULL when not even
 *   a store in memory could be opened.
 */
ConfabStore *
confab_store_new_finish (GAsyncResult  *result,
                         GError       **error)
{
  ConfabStore *self = g_task_get_source_object (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_object_ref (self);
}

ConfabStoreMode
confab_store_get_mode (ConfabStore *self)
{
  g_return_val_if_fail (CONFAB_IS_STORE (self), CONFAB_STORE_MEMORY);
  return self->mode;
}

/**
 * confab_store_get_open_error:
 *
 * Returns: (nullable): why the database file is not used read-write.
 */
const GError *
confab_store_get_open_error (ConfabStore *self)
{
  g_return_val_if_fail (CONFAB_IS_STORE (self), NULL);
  return self->open_error;
}

const char *
confab_store_get_path (ConfabStore *self)
{
  g_return_val_if_fail (CONFAB_IS_STORE (self), NULL);
  return self->path;
}

/**
 * confab_store_get_worker_thread:
 *
 * Returns: (transfer none): the thread that runs every SQLite call.
 */
GThread *
confab_store_get_worker_thread (ConfabStore *self)
{
  g_return_val_if_fail (CONFAB_IS_STORE (self), NULL);
  return self->thread;
}

/**
 * confab_store_get_n_statements:
 *
 * Returns: how many SQL statements have run, all on the worker thread
 *   (each asserts so). For tests and benchmarks.
 */
guint
confab_store_get_n_statements (ConfabStore *self)
{
  g_return_val_if_fail (CONFAB_IS_STORE (self), 0);
  return g_atomic_int_get (&self->n_statements);
}

static GTask *
new_task (ConfabStore         *self,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

/* Conversations */

#define CONVERSATION_COLUMNS \
  "c.id, c.title, c.created_at, c.updated_at, c.pinned, c.archived, c.provider, c.model, " \
  "c.system_prompt, c.current_leaf, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), " \
  "c.tool_folders, c.tools_private_network"

/* The folders as stored: a JSON array of strings. Anything else (which
 * Confab never writes) counts as none. */
static void
set_tool_folders_from_json (ConfabConversation *conversation,
                            const char         *json)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) folders = NULL;
  JsonArray *array;

  if (json == NULL || !confab_json_parse (json, -1, &root, NULL) || root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return;
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (element));
    }
  folders = g_strv_builder_end (builder);
  confab_conversation_set_tool_folders (conversation, (const char * const *)folders);
}

static char *
tool_folders_to_json (ConfabConversation *conversation)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char * const *folders = confab_conversation_get_tool_folders (conversation);

  json_builder_begin_array (builder);
  for (guint i = 0; folders[i] != NULL; i++)
    json_builder_add_string_value (builder, folders[i]);
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static ConfabConversation *
conversation_from_row (sqlite3_stmt *stmt)
{
  ConfabConversation *conversation = confab_conversation_new (sqlite3_column_int64 (stmt, 0));

  confab_conversation_set_title (conversation, _confab_store_column_text (stmt, 1));
  confab_conversation_set_created_at (conversation, sqlite3_column_int64 (stmt, 2));
  confab_conversation_set_updated_at (conversation, sqlite3_column_int64 (stmt, 3));
  confab_conversation_set_pinned (conversation, sqlite3_column_int (stmt, 4));
  confab_conversation_set_archived (conversation, sqlite3_column_int (stmt, 5));
  confab_conversation_set_provider (conversation, _confab_store_column_text (stmt, 6));
  confab_conversation_set_model (conversation, _confab_store_column_text (stmt, 7));
  confab_conversation_set_system_prompt (conversation, _confab_store_column_text (stmt, 8));
  confab_conversation_set_current_leaf (conversation, sqlite3_column_int64 (stmt, 9));
  confab_conversation_set_n_messages (conversation, sqlite3_column_int (stmt, 10));
  set_tool_folders_from_json (conversation, _confab_store_column_text (stmt, 11));
  confab_conversation_set_tools_private_network (conversation, sqlite3_column_int (stmt, 12));

  return conversation;
}

typedef struct
{
  guint    limit;
  gboolean include_archived;
} ListData;

static void
list_job (ConfabStore *self,
          GTask       *task,
          gpointer     data)
{
  ListData *list = data;
  g_autoptr(GPtrArray) conversations = g_ptr_array_new_with_free_func (g_object_unref);
  GError *error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (self,
                                "SELECT " CONVERSATION_COLUMNS " FROM conversations c "
                                "WHERE c.archived = 0 OR ?1 "
                                "ORDER BY c.archived, c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT ?2",
                                &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int (stmt, 1, list->include_archived);
  sqlite3_bind_int64 (stmt, 2, list->limit > 0 ? (gint64)list->limit : -1);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (conversations, conversation_from_row (stmt));
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    /* Translators: completes “… while %s” in database errors */
    g_task_return_error (task, _confab_store_error (self, rc, _("listing conversations")));
  else
    g_task_return_pointer (task, g_steal_pointer (&conversations), (GDestroyNotify)g_ptr_array_unref);
}

/**
 * confab_store_list_conversations_async:
 * @limit: at most this many, 0 for all
 * @include_archived: whether archived ones are listed (after the others)
 *
 * Lists conversations pinned first, then the most recently updated.
 */
void
confab_store_list_conversations_async (ConfabStore         *self,
                                       guint                limit,
                                       gboolean             include_archived,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ListData *list;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_list_conversations_async, cancellable, callback, user_data);
  list = g_new0 (ListData, 1);
  list->limit = limit;
  list->include_archived = include_archived;
  _confab_store_run (self, task, list_job, list, g_free);
}

/**
 * confab_store_list_conversations_finish:
 *
 * Returns: (transfer container) (element-type ConfabConversation):
 */
GPtrArray *
confab_store_list_conversations_finish (ConfabStore   *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

ConfabConversation *
_confab_store_read_conversation (ConfabStore  *self,
                                 gint64        conversation_id,
                                 GError      **error)
{
  sqlite3_stmt *stmt;
  ConfabConversation *conversation;
  int rc;

  stmt = _confab_store_prepare (self, "SELECT " CONVERSATION_COLUMNS " FROM conversations c WHERE c.id = ?1",
                                error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      conversation = conversation_from_row (stmt);
      sqlite3_reset (stmt);
      return conversation;
    }

  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                 _("There is no conversation %lld"), (long long)conversation_id);
  else
    /* Translators: completes “… while %s” in database errors */
    g_propagate_error (error, _confab_store_error (self, rc, _("reading a conversation")));
  return NULL;
}

static void
get_conversation_job (ConfabStore *self,
                      GTask       *task,
                      gpointer     data)
{
  GError *error = NULL;
  ConfabConversation *conversation = _confab_store_read_conversation (self, *(gint64 *)data, &error);

  if (conversation == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, conversation, g_object_unref);
}

static gint64 *
id_dup (gint64 id)
{
  return g_memdup2 (&id, sizeof id);
}

void
confab_store_get_conversation_async (ConfabStore         *self,
                                     gint64               conversation_id,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_get_conversation_async, cancellable, callback, user_data);
  _confab_store_run (self, task, get_conversation_job, id_dup (conversation_id), g_free);
}

/**
 * confab_store_get_conversation_finish:
 *
 * Returns: (transfer full): the conversation, or %NULL with
 *   %CONFAB_STORE_ERROR_NOT_FOUND.
 */
ConfabConversation *
confab_store_get_conversation_finish (ConfabStore   *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gint64
_confab_store_insert_conversation (ConfabStore         *self,
                                   ConfabConversation  *conversation,
                                   GError             **error)
{
  sqlite3_stmt *stmt;
  gint64 now = _confab_store_now ();
  gint64 created = confab_conversation_get_created_at (conversation);
  gint64 updated = confab_conversation_get_updated_at (conversation);

  stmt = _confab_store_prepare (self,
                                "INSERT INTO conversations (title, created_at, updated_at, pinned, archived, "
                                "provider, model, system_prompt, tool_folders, tools_private_network) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                error);
  if (stmt == NULL)
    return 0;

  sqlite3_bind_text (stmt, 1, confab_conversation_get_title (conversation), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, created > 0 ? created : now);
  sqlite3_bind_int64 (stmt, 3, updated > 0 ? updated : now);
  sqlite3_bind_int (stmt, 4, confab_conversation_get_pinned (conversation));
  sqlite3_bind_int (stmt, 5, confab_conversation_get_archived (conversation));
  bind_text_or_null (stmt, 6, confab_conversation_get_provider (conversation));
  bind_text_or_null (stmt, 7, confab_conversation_get_model (conversation));
  bind_text_or_null (stmt, 8, confab_conversation_get_system_prompt (conversation));
  sqlite3_bind_text (stmt, 9, tool_folders_to_json (conversation), -1, g_free);
  sqlite3_bind_int (stmt, 10, confab_conversation_get_tools_private_network (conversation));

  if (!_confab_store_step_done (self, stmt, error))
    return 0;
  return sqlite3_last_insert_rowid (self->db);
}

static void
create_conversation_job (ConfabStore *self,
                         GTask       *task,
                         gpointer     data)
{
  ConfabConversation *conversation = data;
  GError *error = NULL;
  ConfabConversation *created;
  gint64 id;

  if (!_confab_store_check_writable (self, &error) ||
      (id = _confab_store_insert_conversation (self, conversation, &error)) == 0 ||
      (created = _confab_store_read_conversation (self, id, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, created, g_object_unref);
}

/**
 * confab_store_create_conversation_async:
 * @conversation: title, provider, model, system prompt (its id is ignored)
 */
void
confab_store_create_conversation_async (ConfabStore         *self,
                                        ConfabConversation  *conversation,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (CONFAB_IS_CONVERSATION (conversation));

  task = new_task (self, confab_store_create_conversation_async, cancellable, callback, user_data);
  _confab_store_run (self, task, create_conversation_job, g_object_ref (conversation), g_object_unref);
}

/**
 * confab_store_create_conversation_finish:
 *
 * Returns: (transfer full): the stored conversation, with its id.
 */
ConfabConversation *
confab_store_create_conversation_finish (ConfabStore   *self,
                                         GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
update_conversation_job (ConfabStore *self,
                         GTask       *task,
                         gpointer     data)
{
  ConfabConversation *conversation = data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!_confab_store_check_writable (self, &error) ||
      !(stmt = _confab_store_prepare (self,
                                      "UPDATE conversations SET title = ?2, pinned = ?3, archived = ?4, "
                                      "provider = ?5, model = ?6, system_prompt = ?7 WHERE id = ?1",
                                      &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, confab_conversation_get_id (conversation));
  sqlite3_bind_text (stmt, 2, confab_conversation_get_title (conversation), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, confab_conversation_get_pinned (conversation));
  sqlite3_bind_int (stmt, 4, confab_conversation_get_archived (conversation));
  bind_text_or_null (stmt, 5, confab_conversation_get_provider (conversation));
  bind_text_or_null (stmt, 6, confab_conversation_get_model (conversation));
  bind_text_or_null (stmt, 7, confab_conversation_get_system_prompt (conversation));

  return_if_changed (self, task, stmt, _("There is no conversation %lld"),
                     (long long)confab_conversation_get_id (conversation));
}

/**
 * confab_store_update_conversation_async:
 * @conversation: a conversation with its id: its title, pinned, archived,
 *   provider, model and system prompt are saved
 */
void
confab_store_update_conversation_async (ConfabStore         *self,
                                        ConfabConversation  *conversation,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (CONFAB_IS_CONVERSATION (conversation));

  task = new_task (self, confab_store_update_conversation_async, cancellable, callback, user_data);
  /* A copy: the worker reads it while the caller may change the original. */
  _confab_store_run (self, task, update_conversation_job, confab_conversation_copy (conversation), g_object_unref);
}

gboolean
confab_store_update_conversation_finish (ConfabStore   *self,
                                         GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The values to store travel in a conversation record of their own. */
static void
set_tool_access_job (ConfabStore *self,
                     GTask       *task,
                     gpointer     data)
{
  ConfabConversation *access = data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!_confab_store_check_writable (self, &error) ||
      !(stmt = _confab_store_prepare (self,
                                      "UPDATE conversations SET tool_folders = ?2, tools_private_network = ?3 "
                                      "WHERE id = ?1",
                                      &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, confab_conversation_get_id (access));
  sqlite3_bind_text (stmt, 2, tool_folders_to_json (access), -1, g_free);
  sqlite3_bind_int (stmt, 3, confab_conversation_get_tools_private_network (access));

  return_if_changed (self, task, stmt, _("There is no conversation %lld"),
                     (long long)confab_conversation_get_id (access));
}

void
confab_store_set_tool_access_async (ConfabStore         *self,
                                    gint64               conversation_id,
                                    const char * const  *folders,
                                    gboolean             allow_private_network,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ConfabConversation *access;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (conversation_id > 0);

  access = confab_conversation_new (conversation_id);
  confab_conversation_set_tool_folders (access, folders);
  confab_conversation_set_tools_private_network (access, allow_private_network);

  task = new_task (self, confab_store_set_tool_access_async, cancellable, callback, user_data);
  _confab_store_run (self, task, set_tool_access_job, access, g_object_unref);
}

gboolean
confab_store_set_tool_access_finish (ConfabStore   *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
delete_conversation_job (ConfabStore *self,
                         GTask       *task,
                         gpointer     data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!_confab_store_check_writable (self, &error) ||
      !(stmt = _confab_store_prepare (self, "DELETE FROM conversations WHERE id = ?1", &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, *(gint64 *)data);
  return_if_changed (self, task, stmt, _("There is no conversation %lld"), (long long)*(gint64 *)data);
}

/**
 * confab_store_delete_conversation_async:
 *
 * Deletes a conversation with all its messages and branches.
 */
void
confab_store_delete_conversation_async (ConfabStore         *self,
                                        gint64               conversation_id,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_delete_conversation_async, cancellable, callback, user_data);
  _confab_store_run (self, task, delete_conversation_job, id_dup (conversation_id), g_free);
}

gboolean
confab_store_delete_conversation_finish (ConfabStore   *self,
                                         GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Messages */

static gboolean
read_tool_calls (ConfabStore    *self,
                 ConfabMessage  *message,
                 GError        **error)
{
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (self,
                                "SELECT call_id, name, arguments FROM tool_calls "
                                "WHERE message_id = ?1 ORDER BY position",
                                error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, confab_message_get_id (message));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(ConfabToolCall) call =
        confab_tool_call_new_from_json_text (_confab_store_column_text (stmt, 0),
                                             _confab_store_column_text (stmt, 1),
                                             _confab_store_column_text (stmt, 2));
      confab_message_add_tool_call (message, call);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("reading tool calls")));
      return FALSE;
    }
  return TRUE;
}

static ConfabMessage *
message_from_row (sqlite3_stmt *stmt)
{
  ConfabRole role = CONFAB_ROLE_USER;
  ConfabMessageState state = CONFAB_MESSAGE_COMPLETE;
  ConfabMessage *message;
  const char *reasoning;

  confab_role_from_string (_confab_store_column_text (stmt, 2), &role);
  confab_message_state_from_string (_confab_store_column_text (stmt, 5), &state);

  message = confab_message_new (role, _confab_store_column_text (stmt, 3));
  confab_message_set_id (message, sqlite3_column_int64 (stmt, 0));
  /* -1 for a first message, so that "a sibling of this one" is always
   * "the same parent id" (0 would mean after the current leaf). */
  confab_message_set_parent_id (message, sqlite3_column_type (stmt, 1) == SQLITE_NULL
                                         ? -1 : sqlite3_column_int64 (stmt, 1));
  reasoning = _confab_store_column_text (stmt, 4);
  if (reasoning != NULL && reasoning[0] != '\0')
    confab_message_set_reasoning (message, reasoning);
  confab_message_set_state (message, state);
  confab_message_set_error (message, _confab_store_column_text (stmt, 6));
  confab_message_set_model (message, _confab_store_column_text (stmt, 7));
  confab_message_set_usage (message, column_count (stmt, 8), column_count (stmt, 9));
  confab_message_set_created_at (message, sqlite3_column_int64 (stmt, 10));
  confab_message_set_finished_at (message, sqlite3_column_int64 (stmt, 11));
  if (role == CONFAB_ROLE_TOOL)
    confab_message_set_tool_result_info (message, _confab_store_column_text (stmt, 12),
                                         _confab_store_column_text (stmt, 13),
                                         sqlite3_column_int (stmt, 14));

  return message;
}

/* Up to @limit messages of the branch that ends at @last_id (0: at the
 * conversation's current leaf, -1: none), oldest first. */
static GPtrArray *
read_branch_page (ConfabStore  *self,
                  gint64        conversation_id,
                  gint64        last_id,
                  guint         limit,
                  GError      **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(ConfabConversation) conversation = NULL;
  sqlite3_stmt *stmt;
  int rc;

  conversation = _confab_store_read_conversation (self, conversation_id, error);
  if (conversation == NULL)
    return NULL;
  if (last_id == 0)
    last_id = confab_conversation_get_current_leaf (conversation);
  if (last_id <= 0 || limit == 0)
    return g_steal_pointer (&messages);

  /* From the last message up towards the root, then reversed. */
  stmt = _confab_store_prepare (self,
                                "WITH RECURSIVE branch (id, depth) AS ("
                                "  SELECT ?1, 0 "
                                "  UNION ALL "
                                "  SELECT m.parent_id, b.depth + 1 FROM messages m JOIN branch b ON m.id = b.id "
                                "  WHERE m.parent_id IS NOT NULL AND b.depth + 1 < ?2"
                                ") "
                                "SELECT m.id, m.parent_id, m.role, m.content, m.reasoning, m.state, m.error, "
                                "m.model, m.prompt_tokens, m.completion_tokens, m.created_at, m.finished_at, "
                                "m.tool_call_id, m.tool_name, m.is_error "
                                "FROM branch b JOIN messages m ON m.id = b.id "
                                "WHERE m.conversation_id = ?3 ORDER BY b.depth DESC",
                                error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, last_id);
  sqlite3_bind_int64 (stmt, 2, MIN (limit, (guint)G_MAXINT));
  sqlite3_bind_int64 (stmt, 3, conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (messages, message_from_row (stmt));
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    {
      /* Translators: completes “… while %s” in database errors */
      g_propagate_error (error, _confab_store_error (self, rc, _("reading messages")));
      return NULL;
    }

  for (guint i = 0; i < messages->len; i++)
    {
      ConfabMessage *message = g_ptr_array_index (messages, i);

      if (confab_message_get_role (message) == CONFAB_ROLE_ASSISTANT &&
          !read_tool_calls (self, message, error))
        return NULL;
    }

  return g_steal_pointer (&messages);
}

GPtrArray *
_confab_store_read_branch (ConfabStore  *self,
                           gint64        conversation_id,
                           GError      **error)
{
  return read_branch_page (self, conversation_id, 0, G_MAXUINT, error);
}

static void
load_messages_job (ConfabStore *self,
                   GTask       *task,
                   gpointer     data)
{
  GError *error = NULL;
  GPtrArray *messages = _confab_store_read_branch (self, *(gint64 *)data, &error);

  if (messages == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, messages, (GDestroyNotify)g_ptr_array_unref);
}

/**
 * confab_store_load_messages_async:
 *
 * Loads the messages of the conversation's current branch, oldest
 * first, with their tool calls.
 */
void
confab_store_load_messages_async (ConfabStore         *self,
                                  gint64               conversation_id,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_load_messages_async, cancellable, callback, user_data);
  _confab_store_run (self, task, load_messages_job, id_dup (conversation_id), g_free);
}

/**
 * confab_store_load_messages_finish:
 *
 * Returns: (transfer container) (element-type ConfabMessage):
 */
GPtrArray *
confab_store_load_messages_finish (ConfabStore   *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  gint64 conversation_id;
  gint64 last_id;
  guint  limit;
} PageRequest;

static void
load_page_job (ConfabStore *self,
               GTask       *task,
               gpointer     data)
{
  PageRequest *request = data;
  GError *error = NULL;
  GPtrArray *messages = read_branch_page (self, request->conversation_id, request->last_id,
                                          request->limit, &error);

  if (messages == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, messages, (GDestroyNotify)g_ptr_array_unref);
}

/**
 * confab_store_load_messages_page_async:
 * @last_id: the newest message to load: 0 for the end of the current
 *   branch, or the parent id of the oldest message loaded so far
 * @limit: how many messages at most; G_MAXUINT for all
 *
 * Loads up to @limit messages of the conversation's current branch that
 * end at @last_id, oldest first, with their tool calls: a long
 * conversation opens with its newest page, and older pages follow. Loads
 * nothing for a @last_id of -1 (the oldest message has no parent). Call
 * from the thread that owns the store; the reading is done on the
 * store's worker thread.
 */
void
confab_store_load_messages_page_async (ConfabStore         *self,
                                       gint64               conversation_id,
                                       gint64               last_id,
                                       guint                limit,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PageRequest *request;

  g_return_if_fail (CONFAB_IS_STORE (self));

  request = g_new0 (PageRequest, 1);
  request->conversation_id = conversation_id;
  request->last_id = last_id;
  request->limit = limit;
  task = new_task (self, confab_store_load_messages_page_async, cancellable, callback, user_data);
  _confab_store_run (self, task, load_page_job, request, g_free);
}

/**
 * confab_store_load_messages_page_finish:
 *
 * Returns: (transfer container) (element-type ConfabMessage): the
 *   messages, oldest first; empty when there are none
 */
GPtrArray *
confab_store_load_messages_page_finish (ConfabStore   *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gint64
_confab_store_insert_message (ConfabStore    *self,
                              gint64          conversation_id,
                              ConfabMessage  *message,
                              GError        **error)
{
  GPtrArray *calls = confab_message_get_tool_calls (message);
  gint64 parent_id = confab_message_get_parent_id (message);
  gint64 created_at = confab_message_get_created_at (message);
  gint64 prompt_tokens;
  gint64 completion_tokens;
  sqlite3_stmt *stmt;
  gint64 id;
  gboolean explicit_parent = FALSE;
  int rc;

  /* Only the current leaf is needed: this runs once per message, also
   * for imports of conversations with thousands of them. */
  stmt = _confab_store_prepare (self, "SELECT current_leaf FROM conversations WHERE id = ?1", error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      if (rc == SQLITE_DONE)
        g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                     _("There is no conversation %lld"), (long long)conversation_id);
      else
        g_propagate_error (error, _confab_store_error (self, rc, _("reading a conversation")));
      return 0;
    }

  /* 0 continues the current branch; -1 starts a new first message. */
  if (parent_id == 0)
    parent_id = sqlite3_column_int64 (stmt, 0);
  else if (parent_id < 0)
    parent_id = 0;
  else
    explicit_parent = TRUE;
  sqlite3_reset (stmt);

  if (explicit_parent)
    {
      stmt = _confab_store_prepare (self, "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2",
                                    error);
      if (stmt == NULL)
        return 0;
      sqlite3_bind_int64 (stmt, 1, parent_id);
      sqlite3_bind_int64 (stmt, 2, conversation_id);
      rc = sqlite3_step (stmt);
      sqlite3_reset (stmt);
      if (rc != SQLITE_ROW)
        {
          if (rc == SQLITE_DONE)
            g_set_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                         /* Translators: the numbers are a message id and a
                          * conversation id. */
                         _("There is no message %lld in conversation %lld"),
                         (long long)parent_id, (long long)conversation_id);
          else
            /* Translators: completes “… while %s” in database errors */
            g_propagate_error (error, _confab_store_error (self, rc, _("reading a message")));
          return 0;
        }
    }

  stmt = _confab_store_prepare (self,
                                "INSERT INTO messages (conversation_id, parent_id, role, content, reasoning, state, "
                                "error, model, prompt_tokens, completion_tokens, created_at, finished_at, "
                                "tool_call_id, tool_name, is_error) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                                error);
  if (stmt == NULL)
    return 0;

  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  if (parent_id > 0)
    sqlite3_bind_int64 (stmt, 2, parent_id);
  else
    sqlite3_bind_null (stmt, 2);
  sqlite3_bind_text (stmt, 3, confab_role_to_string (confab_message_get_role (message)), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, confab_message_get_content (message), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, confab_message_get_reasoning (message) ? confab_message_get_reasoning (message) : "",
                     -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, confab_message_state_to_string (confab_message_get_state (message)), -1,
                     SQLITE_STATIC);
  bind_text_or_null (stmt, 7, confab_message_get_error (message));
  bind_text_or_null (stmt, 8, confab_message_get_model (message));
  bind_count (stmt, 9, prompt_tokens);
  bind_count (stmt, 10, completion_tokens);
  sqlite3_bind_int64 (stmt, 11, created_at > 0 ? created_at : _confab_store_now ());
  if (confab_message_get_finished_at (message) > 0)
    sqlite3_bind_int64 (stmt, 12, confab_message_get_finished_at (message));
  else
    sqlite3_bind_null (stmt, 12);
  bind_text_or_null (stmt, 13, confab_message_get_tool_call_id (message));
  bind_text_or_null (stmt, 14, confab_message_get_tool_name (message));
  sqlite3_bind_int (stmt, 15, confab_message_get_is_error (message));

  if (!_confab_store_step_done (self, stmt, error))
    return 0;
  id = sqlite3_last_insert_rowid (self->db);

  for (guint i = 0; i < calls->len; i++)
    {
      ConfabToolCall *call = g_ptr_array_index (calls, i);
      g_autofree char *arguments = confab_tool_call_dup_arguments_json (call);

      stmt = _confab_store_prepare (self,
                                    "INSERT INTO tool_calls (message_id, position, call_id, name, arguments) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5)",
                                    error);
      if (stmt == NULL)
        return 0;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, i);
      sqlite3_bind_text (stmt, 3, confab_tool_call_get_id (call), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, confab_tool_call_get_name (call), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, arguments, -1, SQLITE_TRANSIENT);
      if (!_confab_store_step_done (self, stmt, error))
        return 0;
    }

  stmt = _confab_store_prepare (self,
                                "UPDATE conversations SET current_leaf = ?2, updated_at = ?3 WHERE id = ?1",
                                error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, id);
  sqlite3_bind_int64 (stmt, 3, MAX (_confab_store_now (), created_at));
  if (!_confab_store_step_done (self, stmt, error))
    return 0;

  return id;
}

typedef struct
{
  gint64         conversation_id;
  ConfabMessage *message;
} AddData;

static void
add_data_free (gpointer data)
{
  AddData *add = data;

  g_clear_object (&add->message);
  g_free (add);
}

static void
add_message_job (ConfabStore *self,
                 GTask       *task,
                 gpointer     data)
{
  AddData *add = data;
  GError *error = NULL;
  gint64 id;

  if (!_confab_store_check_writable (self, &error) ||
      !_confab_store_exec (self, "BEGIN IMMEDIATE", &error))
    {
      g_task_return_error (task, error);
      return;
    }

  id = _confab_store_insert_message (self, add->conversation_id, add->message, &error);
  if (id == 0 || !_confab_store_exec (self, "COMMIT", &error))
    {
      _confab_store_exec (self, "ROLLBACK", NULL);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_int (task, id);
}

/**
 * confab_store_add_message_async:
 * @message: the message; its parent id says where it goes: 0 after the
 *   current leaf, -1 as a new first message, otherwise after that message
 *   (an edit or a regenerated reply is a sibling of the message it
 *   replaces, so the old one stays reachable)
 *
 * Saves @message (committed when this completes) and makes it the
 * conversation's current leaf. A reply that will stream is added with
 * %CONFAB_MESSAGE_STREAMING, grown with confab_store_append_to_message_async()
 * and closed with confab_store_finish_message_async().
 */
void
confab_store_add_message_async (ConfabStore         *self,
                                gint64               conversation_id,
                                ConfabMessage       *message,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AddData *add;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (CONFAB_IS_MESSAGE (message));

  task = new_task (self, confab_store_add_message_async, cancellable, callback, user_data);
  add = g_new0 (AddData, 1);
  add->conversation_id = conversation_id;
  add->message = g_object_ref (message);
  _confab_store_run (self, task, add_message_job, add, add_data_free);
}

/**
 * confab_store_add_message_finish:
 *
 * Returns: the new message's id, or 0 with @error set.
 */
gint64
confab_store_add_message_finish (ConfabStore   *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  gssize id;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);

  id = g_task_propagate_int (G_TASK (result), error);
  return id > 0 ? id : 0;
}

typedef struct
{
  gint64  message_id;
  char   *text;
  char   *reasoning;
} AppendData;

static void
append_data_free (gpointer data)
{
  AppendData *append = data;

  g_free (append->text);
  g_free (append->reasoning);
  g_free (append);
}

static void
append_job (ConfabStore *self,
            GTask       *task,
            gpointer     data)
{
  AppendData *append = data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  /* One statement per flush: the row grows, nothing else is rewritten. */
  if (!_confab_store_check_writable (self, &error) ||
      !(stmt = _confab_store_prepare (self,
                                      "UPDATE messages SET content = content || ?2, reasoning = reasoning || ?3 "
                                      "WHERE id = ?1",
                                      &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, append->message_id);
  sqlite3_bind_text (stmt, 2, append->text != NULL ? append->text : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, append->reasoning != NULL ? append->reasoning : "", -1, SQLITE_STATIC);

  return_if_changed (self, task, stmt, _("There is no message %lld"), (long long)append->message_id);
}

/**
 * confab_store_append_to_message_async:
 * @text: (nullable): more of the reply's text
 * @reasoning: (nullable): more of its reasoning
 *
 * Grows a streaming reply (committed when this completes).
 */
void
confab_store_append_to_message_async (ConfabStore         *self,
                                      gint64               message_id,
                                      const char          *text,
                                      const char          *reasoning,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AppendData *append;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_append_to_message_async, cancellable, callback, user_data);
  append = g_new0 (AppendData, 1);
  append->message_id = message_id;
  append->text = g_strdup (text);
  append->reasoning = g_strdup (reasoning);
  _confab_store_run (self, task, append_job, append, append_data_free);
}

gboolean
confab_store_append_to_message_finish (ConfabStore   *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
finish_message_job (ConfabStore *self,
                    GTask       *task,
                    gpointer     data)
{
  ConfabMessage *message = data;
  GPtrArray *calls = confab_message_get_tool_calls (message);
  GError *error = NULL;
  sqlite3_stmt *stmt;
  gint64 prompt_tokens;
  gint64 completion_tokens;
  gint64 id = confab_message_get_id (message);

  if (!_confab_store_check_writable (self, &error) ||
      !_confab_store_exec (self, "BEGIN IMMEDIATE", &error))
    {
      g_task_return_error (task, error);
      return;
    }

  stmt = _confab_store_prepare (self,
                                "UPDATE messages SET content = ?2, reasoning = ?3, state = ?4, error = ?5, "
                                "prompt_tokens = ?6, completion_tokens = ?7, finished_at = ?8, "
                                "model = coalesce(?9, model), is_error = ?10 WHERE id = ?1",
                                &error);
  if (stmt == NULL)
    goto fail;

  confab_message_get_usage (message, &prompt_tokens, &completion_tokens);
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, confab_message_get_content (message), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, confab_message_get_reasoning (message) ? confab_message_get_reasoning (message) : "",
                     -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, confab_message_state_to_string (confab_message_get_state (message)), -1,
                     SQLITE_STATIC);
  bind_text_or_null (stmt, 5, confab_message_get_error (message));
  bind_count (stmt, 6, prompt_tokens);
  bind_count (stmt, 7, completion_tokens);
  sqlite3_bind_int64 (stmt, 8, confab_message_get_finished_at (message) > 0
                               ? confab_message_get_finished_at (message) : _confab_store_now ());
  bind_text_or_null (stmt, 9, confab_message_get_model (message));
  sqlite3_bind_int (stmt, 10, confab_message_get_is_error (message) ? 1 : 0);
  if (!_confab_store_step_done (self, stmt, &error))
    goto fail;
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (&error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                   _("There is no message %lld"), (long long)id);
      goto fail;
    }

  stmt = _confab_store_prepare (self, "DELETE FROM tool_calls WHERE message_id = ?1", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_confab_store_step_done (self, stmt, &error))
    goto fail;

  for (guint i = 0; i < calls->len; i++)
    {
      ConfabToolCall *call = g_ptr_array_index (calls, i);
      g_autofree char *arguments = confab_tool_call_dup_arguments_json (call);

      stmt = _confab_store_prepare (self,
                                    "INSERT INTO tool_calls (message_id, position, call_id, name, arguments) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5)",
                                    &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, i);
      sqlite3_bind_text (stmt, 3, confab_tool_call_get_id (call), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, confab_tool_call_get_name (call), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, arguments, -1, SQLITE_TRANSIENT);
      if (!_confab_store_step_done (self, stmt, &error))
        goto fail;
    }

  if (!_confab_store_exec (self, "COMMIT", &error))
    goto fail;

  g_task_return_boolean (task, TRUE);
  return;

fail:
  _confab_store_exec (self, "ROLLBACK", NULL);
  g_task_return_error (task, error);
}

/**
 * confab_store_finish_message_async:
 * @message: a stored message (with its id): its full content, reasoning,
 *   state, error, usage, model and tool calls are saved
 *
 * Closes a streaming reply, or rewrites a stored message.
 */
void
confab_store_finish_message_async (ConfabStore         *self,
                                   ConfabMessage       *message,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (CONFAB_IS_MESSAGE (message));
  g_return_if_fail (confab_message_get_id (message) > 0);

  task = new_task (self, confab_store_finish_message_async, cancellable, callback, user_data);
  _confab_store_run (self, task, finish_message_job, g_object_ref (message), g_object_unref);
}

gboolean
confab_store_finish_message_finish (ConfabStore   *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
list_siblings_job (ConfabStore *self,
                   GTask       *task,
                   gpointer     data)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GError *error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (self,
                                "SELECT s.id FROM messages m JOIN messages s "
                                "ON s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id "
                                "WHERE m.id = ?1 ORDER BY s.id",
                                &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, *(gint64 *)data);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    /* Translators: completes “… while %s” in database errors */
    g_task_return_error (task, _confab_store_error (self, rc, _("reading branches")));
  else if (ids->len == 0)
    g_task_return_new_error (task, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                             _("There is no message %lld"), (long long)*(gint64 *)data);
  else
    g_task_return_pointer (task, g_steal_pointer (&ids), (GDestroyNotify)g_array_unref);
}

/**
 * confab_store_list_siblings_async:
 *
 * Lists the versions of a message: itself and the messages that share
 * its parent (edits, regenerated replies), oldest first.
 */
void
confab_store_list_siblings_async (ConfabStore         *self,
                                  gint64               message_id,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_list_siblings_async, cancellable, callback, user_data);
  _confab_store_run (self, task, list_siblings_job, id_dup (message_id), g_free);
}

/**
 * confab_store_list_siblings_finish:
 *
 * Returns: (transfer full) (element-type gint64): message ids.
 */
GArray *
confab_store_list_siblings_finish (ConfabStore   *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
switch_branch_job (ConfabStore *self,
                   GTask       *task,
                   gpointer     data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt;

  /* The leaf under the chosen message: at each step, its newest child. */
  if (!_confab_store_check_writable (self, &error) ||
      !(stmt = _confab_store_prepare (self,
                                      "WITH RECURSIVE down (id) AS ("
                                      "  SELECT ?1 "
                                      "  UNION ALL "
                                      "  SELECT (SELECT max(c.id) FROM messages c WHERE c.parent_id = d.id) FROM down d "
                                      "  WHERE (SELECT max(c.id) FROM messages c WHERE c.parent_id = d.id) IS NOT NULL"
                                      ") "
                                      "UPDATE conversations SET current_leaf = (SELECT max(id) FROM down) "
                                      "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?1)",
                                      &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_int64 (stmt, 1, *(gint64 *)data);
  return_if_changed (self, task, stmt, _("There is no message %lld"), (long long)*(gint64 *)data);
}

/**
 * confab_store_switch_branch_async:
 *
 * Makes the branch through @message_id the conversation's current one
 * (following the newest reply below it).
 */
void
confab_store_switch_branch_async (ConfabStore         *self,
                                  gint64               message_id,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (self));

  task = new_task (self, confab_store_switch_branch_async, cancellable, callback, user_data);
  _confab_store_run (self, task, switch_branch_job, id_dup (message_id), g_free);
}

gboolean
confab_store_switch_branch_finish (ConfabStore   *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Search */

/* What people type, made into an FTS5 query: every word must appear
 * (quoted, so punctuation is never query syntax), the last, when it has
 * three letters or more, may be the start of a word. */
static char *
build_match_query (const char *query)
{
  g_autoptr(GString) match = g_string_new (NULL);
  g_auto(GStrv) words = g_strsplit_set (query, " \t\n\r", -1);
  const char *last = "";
  guint n = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      last = words[i];
      if (n++ > 0)
        g_string_append_c (match, ' ');
      g_string_append_c (match, '"');
      for (const char *p = words[i]; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (match, '"');
          g_string_append_c (match, *p);
        }
      g_string_append_c (match, '"');
    }

  if (n == 0)
    return NULL;
  /* As you type, the last word may be unfinished; one or two letters
   * would match nearly everything, slowly, so those must be whole. */
  if (g_utf8_strlen (last, -1) >= 3)
    g_string_append_c (match, '*');
  return g_string_free (g_steal_pointer (&match), FALSE);
}

typedef struct
{
  char  *query;
  guint  limit;
} SearchData;

static void
search_data_free (gpointer data)
{
  SearchData *search = data;

  g_free (search->query);
  g_free (search);
}

static void
search_job (ConfabStore *self,
            GTask       *task,
            gpointer     data)
{
  SearchData *search = data;
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify)confab_search_hit_free);
  g_autofree char *match = build_match_query (search->query);
  GError *error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  if (match == NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&hits), (GDestroyNotify)g_ptr_array_unref);
      return;
    }

  stmt = _confab_store_prepare (self,
                                "SELECT m.conversation_id, m.id, c.title, "
                                "snippet(messages_fts, -1, '«', '»', '…', 12), bm25(messages_fts) AS score "
                                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                                "JOIN conversations c ON c.id = m.conversation_id "
                                "WHERE messages_fts MATCH ?1 ORDER BY score LIMIT ?2",
                                &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_text (stmt, 1, match, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, search->limit > 0 ? (gint64)search->limit : -1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ConfabSearchHit *hit = g_new0 (ConfabSearchHit, 1);

      hit->conversation_id = sqlite3_column_int64 (stmt, 0);
      hit->message_id = sqlite3_column_int64 (stmt, 1);
      hit->title = g_strdup (_confab_store_column_text (stmt, 2));
      hit->snippet = g_strdup (_confab_store_column_text (stmt, 3));
      hit->rank = sqlite3_column_double (stmt, 4);
      g_ptr_array_add (hits, hit);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    /* Translators: completes “… while %s” in database errors */
    g_task_return_error (task, _confab_store_error (self, rc, _("searching")));
  else
    g_task_return_pointer (task, g_steal_pointer (&hits), (GDestroyNotify)g_ptr_array_unref);
}

/**
 * confab_store_search_async:
 * @query: words to find (all of them; the last, of three letters or
 *   more, may be a word's start)
 * @limit: at most this many hits, 0 for all
 *
 * Searches every stored message, best matches first.
 */
void
confab_store_search_async (ConfabStore         *self,
                           const char          *query,
                           guint                limit,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SearchData *search;

  g_return_if_fail (CONFAB_IS_STORE (self));
  g_return_if_fail (query != NULL);

  task = new_task (self, confab_store_search_async, cancellable, callback, user_data);
  search = g_new0 (SearchData, 1);
  search->query = g_strdup (query);
  search->limit = limit;
  _confab_store_run (self, task, search_job, search, search_data_free);
}

/**
 * confab_store_search_finish:
 *
 * Returns: (transfer container) (element-type ConfabSearchHit):
 */
GPtrArray *
confab_store_search_finish (ConfabStore   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
