/* confab-mcp-manager.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>

#include <glib/gi18n-lib.h>

#include "confab-mcp-manager.h"
#include "confab-mcp-tool.h"

struct _ConfabMcpManager
{
  GObject          parent_instance;

  char            *config_path;
  ConfabMcpConfig *config;
  GPtrArray       *servers;      /* ConfabMcpServer, enabled, in file order */
  GPtrArray       *retired;      /* ConfabMcpServer removed by a reload, stopping */
  GHashTable      *tool_names;   /* ConfabMcpServer → GPtrArray of names in the toolbox */
  ConfabToolbox   *toolbox;
  gboolean         started;
};

G_DEFINE_FINAL_TYPE (ConfabMcpManager, confab_mcp_manager, G_TYPE_OBJECT)

enum {
  SERVERS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Counts down the servers of a start_all or shutdown. */
typedef struct
{
  guint remaining;
} Countdown;

static void
countdown_done (GTask *task)
{
  Countdown *countdown = g_task_get_task_data (task);

  if (--countdown->remaining == 0)
    g_task_return_boolean (task, TRUE);
}

/* Toolbox */

static void
remove_tools (ConfabMcpManager *self,
              ConfabMcpServer  *server)
{
  GPtrArray *names = g_hash_table_lookup (self->tool_names, server);

  for (guint i = 0; self->toolbox != NULL && names != NULL && i < names->len; i++)
    confab_toolbox_remove (self->toolbox, g_ptr_array_index (names, i));
  g_hash_table_remove (self->tool_names, server);
}

static void
sync_tools (ConfabMcpManager *self,
            ConfabMcpServer  *server)
{
  GPtrArray *definitions = confab_mcp_server_get_tools (server);
  g_autoptr(GPtrArray) tools = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *old_names = g_hash_table_lookup (self->tool_names, server);

  for (guint i = 0; i < definitions->len; i++)
    {
      ConfabMcpTool *tool = confab_mcp_tool_new (server, g_ptr_array_index (definitions, i));

      g_ptr_array_add (tools, tool);
      g_ptr_array_add (names, g_strdup (confab_tool_get_name (CONFAB_TOOL (tool))));
    }

  if (self->toolbox != NULL)
    {
      /* Tools the server dropped go; the others are replaced in place. */
      for (guint i = 0; old_names != NULL && i < old_names->len; i++)
        {
          const char *name = g_ptr_array_index (old_names, i);

          if (!g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
            confab_toolbox_remove (self->toolbox, name);
        }
      for (guint i = 0; i < tools->len; i++)
        confab_toolbox_add (self->toolbox, g_ptr_array_index (tools, i));
    }

  g_hash_table_insert (self->tool_names, server, names);
}

static void
tools_changed_cb (ConfabMcpServer  *server,
                  ConfabMcpManager *self)
{
  sync_tools (self, server);
}

/* Servers */

static void
start_one_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* The failure stays with the server (its status and error). */
  if (!confab_mcp_server_start_finish (CONFAB_MCP_SERVER (object), result, &error))
    g_debug ("MCP: %s", error->message);
  if (task != NULL)
    countdown_done (task);
}

static ConfabMcpServer *
add_server (ConfabMcpManager      *self,
            ConfabMcpServerConfig *config)
{
  ConfabMcpServer *server = confab_mcp_server_new (config);

  g_signal_connect_object (server, "tools-changed", G_CALLBACK (tools_changed_cb), self, 0);
  if (self->started)
    confab_mcp_server_start_async (server, NULL, start_one_cb, NULL);
  return server;
}

static void
retired_stopped_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(ConfabMcpManager) self = user_data;

  confab_mcp_server_stop_finish (CONFAB_MCP_SERVER (object), result, NULL);
  g_ptr_array_remove (self->retired, object);
}

static void
retire_server (ConfabMcpManager *self,
               ConfabMcpServer  *server)
{
  remove_tools (self, server);
  g_signal_handlers_disconnect_by_data (server, self);
  g_ptr_array_add (self->retired, g_object_ref (server));
  confab_mcp_server_stop_async (server, NULL, retired_stopped_cb, g_object_ref (self));
}

/* GObject */

static void
confab_mcp_manager_dispose (GObject *object)
{
  ConfabMcpManager *self = (ConfabMcpManager *)object;

  if (self->servers != NULL)
    for (guint i = 0; i < self->servers->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->servers, i), self);
  g_clear_pointer (&self->servers, g_ptr_array_unref);
  g_clear_pointer (&self->tool_names, g_hash_table_unref);
  g_clear_object (&self->toolbox);
  g_clear_object (&self->config);

  G_OBJECT_CLASS (confab_mcp_manager_parent_class)->dispose (object);
}

static void
confab_mcp_manager_finalize (GObject *object)
{
  ConfabMcpManager *self = (ConfabMcpManager *)object;

  g_clear_pointer (&self->config_path, g_free);
  g_clear_pointer (&self->retired, g_ptr_array_unref);

  G_OBJECT_CLASS (confab_mcp_manager_parent_class)->finalize (object);
}

static void
confab_mcp_manager_class_init (ConfabMcpManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = confab_mcp_manager_dispose;
  object_class->finalize = confab_mcp_manager_finalize;

  /**
   * ConfabMcpManager::servers-changed:
   *
   * A reload changed the list of servers.
   */
  signals[SERVERS_CHANGED] = g_signal_new ("servers-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
confab_mcp_manager_init (ConfabMcpManager *self)
{
  self->servers = g_ptr_array_new_with_free_func (g_object_unref);
  self->retired = g_ptr_array_new_with_free_func (g_object_unref);
  self->tool_names = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
}

/* Public API */

ConfabMcpManager *
confab_mcp_manager_new (const char *config_path)
{
  ConfabMcpManager *self = g_object_new (CONFAB_TYPE_MCP_MANAGER, NULL);

  self->config_path = config_path != NULL ? g_strdup (config_path) : confab_mcp_config_get_default_path ();
  return self;
}

const char *
confab_mcp_manager_get_config_path (ConfabMcpManager *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), NULL);
  return self->config_path;
}

gboolean
confab_mcp_manager_reload (ConfabMcpManager  *self,
                           GError           **error)
{
  g_autoptr(ConfabMcpConfig) config = NULL;

  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), FALSE);

  config = confab_mcp_config_load (self->config_path, error);
  if (config == NULL)
    return FALSE;

  confab_mcp_manager_apply_config (self, config);
  return TRUE;
}

void
confab_mcp_manager_apply_config (ConfabMcpManager *self,
                                 ConfabMcpConfig  *config)
{
  g_autoptr(GPtrArray) servers = NULL;
  g_autoptr(GPtrArray) old = NULL;
  GPtrArray *configs;

  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));
  g_return_if_fail (CONFAB_IS_MCP_CONFIG (config));

  old = g_steal_pointer (&self->servers);
  servers = g_ptr_array_new_with_free_func (g_object_unref);
  configs = confab_mcp_config_get_servers (config);

  for (guint i = 0; i < configs->len; i++)
    {
      ConfabMcpServerConfig *server_config = g_ptr_array_index (configs, i);
      ConfabMcpServer *kept = NULL;

      if (!confab_mcp_server_config_get_enabled (server_config))
        continue;

      for (guint j = 0; old != NULL && j < old->len && kept == NULL; j++)
        {
          ConfabMcpServer *server = g_ptr_array_index (old, j);

          if (confab_mcp_server_config_equal (confab_mcp_server_get_config (server), server_config))
            kept = g_ptr_array_steal_index (old, j);
        }
      g_ptr_array_add (servers, kept != NULL ? kept : add_server (self, server_config));
    }

  for (guint i = 0; old != NULL && i < old->len; i++)
    retire_server (self, g_ptr_array_index (old, i));

  self->servers = g_steal_pointer (&servers);
  g_set_object (&self->config, config);

  g_signal_emit (self, signals[SERVERS_CHANGED], 0);
}

/* Reading and writing the file on a worker thread, for the app. */

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  ConfabMcpConfig *config = confab_mcp_config_load (data, &error);

  if (config == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, config, g_object_unref);
}

void
confab_mcp_manager_load_async (ConfabMcpManager    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_manager_load_async);
  g_task_set_task_data (task, g_strdup (self->config_path), g_free);
  g_task_run_in_thread (task, load_thread);
}

gboolean
confab_mcp_manager_load_finish (ConfabMcpManager  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_autoptr(ConfabMcpConfig) config = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  config = g_task_propagate_pointer (G_TASK (result), error);
  if (config == NULL)
    return FALSE;
  confab_mcp_manager_apply_config (self, config);
  return TRUE;
}

typedef struct
{
  char *path;
  char *data;
} SaveData;

static void
save_data_free (gpointer data)
{
  SaveData *save = data;

  g_free (save->path);
  g_free (save->data);
  g_free (save);
}

static void
save_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  SaveData *save = data;
  g_autofree char *dir = g_path_get_dirname (save->path);
  GError *error = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("The folder “%s” could not be created: %s"), dir, g_strerror (saved_errno));
      return;
    }
  if (!g_file_set_contents_full (save->path, save->data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
confab_mcp_manager_save_async (ConfabMcpManager    *self,
                               ConfabMcpConfig     *config,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SaveData *save;

  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));
  g_return_if_fail (CONFAB_IS_MCP_CONFIG (config));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_manager_save_async);
  save = g_new0 (SaveData, 1);
  save->path = g_strdup (confab_mcp_config_get_path (config));
  /* The text is made here: the thread only writes it. */
  save->data = confab_mcp_config_to_data (config);
  g_task_set_task_data (task, save, save_data_free);
  g_task_run_in_thread (task, save_thread);
}

gboolean
confab_mcp_manager_save_finish (ConfabMcpManager  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

ConfabMcpConfig *
confab_mcp_manager_get_config (ConfabMcpManager *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), NULL);
  return self->config;
}

GPtrArray *
confab_mcp_manager_get_servers (ConfabMcpManager *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), NULL);
  return self->servers;
}

ConfabMcpServer *
confab_mcp_manager_lookup (ConfabMcpManager *self,
                           const char       *name)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->servers->len; i++)
    {
      ConfabMcpServer *server = g_ptr_array_index (self->servers, i);

      if (g_str_equal (confab_mcp_server_get_name (server), name))
        return server;
    }
  return NULL;
}

void
confab_mcp_manager_set_toolbox (ConfabMcpManager *self,
                                ConfabToolbox    *toolbox)
{
  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));
  g_return_if_fail (toolbox == NULL || CONFAB_IS_TOOLBOX (toolbox));

  if (self->toolbox == toolbox)
    return;

  for (guint i = 0; i < self->servers->len; i++)
    remove_tools (self, g_ptr_array_index (self->servers, i));
  g_set_object (&self->toolbox, toolbox);
  for (guint i = 0; i < self->servers->len; i++)
    sync_tools (self, g_ptr_array_index (self->servers, i));
}

void
confab_mcp_manager_start_all_async (ConfabMcpManager    *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Countdown *countdown;

  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_manager_start_all_async);

  self->started = TRUE;
  countdown = g_new0 (Countdown, 1);
  countdown->remaining = self->servers->len + 1;
  g_task_set_task_data (task, countdown, g_free);

  for (guint i = 0; i < self->servers->len; i++)
    confab_mcp_server_start_async (g_ptr_array_index (self->servers, i), cancellable,
                                   start_one_cb, g_object_ref (task));
  countdown_done (task);
}

gboolean
confab_mcp_manager_start_all_finish (ConfabMcpManager  *self,
                                     GAsyncResult      *result,
                                     GError           **error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stop_one_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  confab_mcp_server_stop_finish (CONFAB_MCP_SERVER (object), result, NULL);
  countdown_done (task);
}

void
confab_mcp_manager_shutdown_async (ConfabMcpManager    *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  Countdown *countdown;

  g_return_if_fail (CONFAB_IS_MCP_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_manager_shutdown_async);

  self->started = FALSE;
  g_ptr_array_extend (all, self->servers, NULL, NULL);
  g_ptr_array_extend (all, self->retired, NULL, NULL);

  countdown = g_new0 (Countdown, 1);
  countdown->remaining = all->len + 1;
  g_task_set_task_data (task, countdown, g_free);

  for (guint i = 0; i < all->len; i++)
    confab_mcp_server_stop_async (g_ptr_array_index (all, i), NULL, stop_one_cb, g_object_ref (task));
  countdown_done (task);
}

gboolean
confab_mcp_manager_shutdown_finish (ConfabMcpManager  *self,
                                    GAsyncResult      *result,
                                    GError           **error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* What shutdown_sync waits for; freed by whichever of the two ends
 * last (the wait may give up before the shutdown completes). */
typedef struct
{
  gboolean done;
  gboolean expired;
  gboolean abandoned;
} SyncWait;

static void
shutdown_sync_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SyncWait *wait = user_data;

  confab_mcp_manager_shutdown_finish (CONFAB_MCP_MANAGER (object), result, NULL);
  if (wait->abandoned)
    g_free (wait);
  else
    wait->done = TRUE;
}

static gboolean
deadline_cb (gpointer user_data)
{
  SyncWait *wait = user_data;

  wait->expired = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
confab_mcp_manager_shutdown_sync (ConfabMcpManager *self,
                                  guint             timeout_ms)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GSource) deadline = g_timeout_source_new (timeout_ms);
  SyncWait *wait = g_new0 (SyncWait, 1);
  gboolean done;

  g_return_val_if_fail (CONFAB_IS_MCP_MANAGER (self), FALSE);

  g_source_set_callback (deadline, deadline_cb, wait, NULL);
  g_source_attach (deadline, context);

  confab_mcp_manager_shutdown_async (self, NULL, shutdown_sync_cb, wait);
  while (!wait->done && !wait->expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (deadline);

  done = wait->done;
  if (done)
    g_free (wait);
  else
    wait->abandoned = TRUE;
  return done;
}
