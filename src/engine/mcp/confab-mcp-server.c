/* confab-mcp-server.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confab-error.h"
#include "confab-json.h"
#include "confab-line-reader-private.h"
#include "confab-mcp-server.h"

/* An MCP server is a child process speaking JSON-RPC 2.0, one message
 * per line, on its stdin and stdout; its stderr is its log. Everything
 * here runs on the main context of the server's thread: the pipes are
 * read with async reads, requests wait in a table by id, and timers
 * drive timeouts and the stop sequence. No thread, no blocking call.
 *
 * The process lives in its own process group (setpgid in the child), so
 * that stopping it also stops whatever it started (npx and uvx run the
 * real server as a grandchild). */

/* The handshake and each page of tools/list. */
#define STARTUP_TIMEOUT_SECONDS 60
/* Between closing stdin, SIGTERM and SIGKILL; and after SIGKILL, before
 * giving up on a process that cannot die. */
#define GRACE_MS                2000
/* After the process exited: how long its last output may take to
 * arrive. After stdout closed: how long the process may take to exit. */
#define DRAIN_MS                1000
#define EOF_WAIT_MS             2000
#define BACKOFF_MAX_SECONDS     30
/* A server that ran this long before failing starts its backoff anew. */
#define HEALTHY_SECONDS         30
#define MAX_TOOL_PAGES          1000
/* How much of a garbage line, and of a stderr line, a message shows. */
#define SHOWN_CHARS             200
#define READ_SIZE               (64 * 1024)

static const char * const supported_versions[] = {
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
  NULL
};

/* One spawned process. The server holds it while it starts or runs
 * (self->process), then while it is being stopped (self->dying); each
 * read, write and wait in flight holds a reference too. */
typedef struct
{
  grefcount         ref_count;
  ConfabMcpServer  *server;          /* unowned; cleared by dispose */
  GSubprocess      *subprocess;
  GPid              pid;
  GOutputStream    *stdin_pipe;
  GInputStream     *stdout_pipe;
  GInputStream     *stderr_pipe;
  GCancellable     *cancellable;     /* reads and writes */
  ConfabLineReader  reader;
  guint8           *out_buffer;
  guint8           *err_buffer;
  GString          *err_partial;     /* stderr since the last line end */
  char             *last_err_line;
  GQueue            writes;          /* GBytes; the head is being written */
  gboolean          writing;
  gboolean          stdin_closing;
  gboolean          stdin_closed;
  gboolean          write_failed;
  gboolean          exited;
  gboolean          out_eof;
  gboolean          err_eof;
  gboolean          initialized;
  int               wait_status;
  int               stop_step;       /* 0; 1 stdin closed; 2 SIGTERM; 3 SIGKILL */
  GSource          *stop_source;
  GSource          *drain_source;
  gint64            started_at;
} McpProcess;

/* A request waiting for its answer (id > 0), or a caller waiting for a
 * start (id 0). Either fails early when its cancellable is cancelled. */
typedef struct
{
  ConfabMcpServer *server;           /* unowned: the task holds it */
  GTask           *task;
  gint64           id;
  char            *method;
  GCancellable    *cancellable;
  gulong           cancelled_id;
  GSource         *cancel_idle;
  GSource         *timeout_source;
  guint            timeout_seconds;
} Pending;

struct _ConfabMcpServer
{
  GObject                parent_instance;

  ConfabMcpServerConfig *config;
  GMainContext          *context;
  ConfabMcpServerStatus  status;
  McpProcess            *process;        /* starting or running */
  GPtrArray             *dying;          /* McpProcess being stopped */
  GHashTable            *pending;        /* id → Pending */
  GPtrArray             *start_waiters;  /* Pending */
  GPtrArray             *stop_tasks;     /* GTask, done when dying is empty */
  gint64                 next_id;
  GPtrArray             *tools;          /* JsonObject */
  GPtrArray             *new_tools;      /* the listing under way */
  gboolean               listing;
  gboolean               list_again;
  char                  *protocol_version;
  GError                *error;
  GString               *log;
  guint                  failures;
  gint64                 retry_at;       /* monotonic µs */
};

G_DEFINE_FINAL_TYPE (ConfabMcpServer, confab_mcp_server, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (ConfabMcpServerStatus, confab_mcp_server_status,
                    G_DEFINE_ENUM_VALUE (CONFAB_MCP_SERVER_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (CONFAB_MCP_SERVER_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (CONFAB_MCP_SERVER_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (CONFAB_MCP_SERVER_FAILED, "failed"))

enum {
  PROP_0,
  PROP_CONFIG,
  PROP_STATUS,
  PROP_PID,
  PROP_PROTOCOL_VERSION,
  N_PROPS
};

enum {
  TOOLS_CHANGED,
  LOG_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void list_tools     (ConfabMcpServer *self);
static void process_gone   (ConfabMcpServer *self,
                            McpProcess      *p);

/* Helpers */

static const char *
get_name (ConfabMcpServer *self)
{
  return confab_mcp_server_config_get_name (self->config);
}

/* A source on the server's context; the caller keeps the returned
 * reference, and the callback drops it (or clear_source() does). */
static GSource *
add_source (ConfabMcpServer *self,
            GSource         *source,
            GSourceFunc      func,
            gpointer         data,
            const char      *name)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  return source;
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Members of messages, read without trusting their types. */
static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node) : NULL;
}

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
member_array (JsonObject *object,
              const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static void
set_status (ConfabMcpServer       *self,
            ConfabMcpServerStatus  status)
{
  if (self->status != status)
    {
      self->status = status;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
}

/* Shows at most SHOWN_CHARS characters of @data, as valid UTF-8. */
static char *
shorten (const char *data,
         gssize      len)
{
  g_autofree char *valid = g_utf8_make_valid (data, len);
  g_autofree char *start = NULL;

  if (g_utf8_strlen (valid, -1) <= SHOWN_CHARS)
    return g_steal_pointer (&valid);
  start = g_utf8_substring (valid, 0, SHOWN_CHARS);
  return g_strconcat (start, "…", NULL);
}

static void
append_log (ConfabMcpServer *self,
            const char      *data,
            gsize            len)
{
  g_string_append_len (self->log, data, len);
  if (self->log->len > CONFAB_MCP_LOG_MAX)
    {
      gsize cut = self->log->len - CONFAB_MCP_LOG_MAX;
      const char *newline = memchr (self->log->str + cut, '\n', self->log->len - cut);

      /* Drop whole lines where one ends nearby. */
      if (newline != NULL && (gsize)(newline - self->log->str) < cut + 4096)
        cut = newline - self->log->str + 1;
      g_string_erase (self->log, 0, cut);
    }
  g_signal_emit (self, signals[LOG_CHANGED], 0);
}

static GError *
new_stopped_error (ConfabMcpServer *self)
{
  return g_error_new (CONFAB_ERROR, CONFAB_ERROR_CANCELLED,
                      _("The MCP server “%s” was stopped"), get_name (self));
}

/* Processes */

static McpProcess *
process_ref (McpProcess *p)
{
  g_ref_count_inc (&p->ref_count);
  return p;
}

static void
process_unref (McpProcess *p)
{
  if (!g_ref_count_dec (&p->ref_count))
    return;

  g_assert (p->stop_source == NULL && p->drain_source == NULL);
  _confab_line_reader_clear (&p->reader);
  g_queue_clear_full (&p->writes, (GDestroyNotify)g_bytes_unref);
  g_clear_object (&p->stdin_pipe);
  g_clear_object (&p->stdout_pipe);
  g_clear_object (&p->stderr_pipe);
  g_clear_object (&p->subprocess);
  g_clear_object (&p->cancellable);
  g_string_free (p->err_partial, TRUE);
  g_free (p->last_err_line);
  g_free (p->out_buffer);
  g_free (p->err_buffer);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McpProcess, process_unref)

static void
process_kill_group (McpProcess *p,
                    int         signum)
{
  /* The group has the leader's id (setpgid (0, 0) in the child). */
  if (p->pid > 0 && kill (-p->pid, signum) != 0 && errno != ESRCH)
    g_debug ("MCP: kill (-%d, %d): %s", (int)p->pid, signum, g_strerror (errno));
}

static void
process_close_stdin (McpProcess *p)
{
  p->stdin_closing = TRUE;
  /* What was queued will never matter; a write under way finishes
   * first (write_cb closes then). */
  while (g_queue_get_length (&p->writes) > (p->writing ? 1u : 0u))
    g_bytes_unref (g_queue_pop_tail (&p->writes));
  if (!p->writing && !p->stdin_closed)
    {
      p->stdin_closed = TRUE;
      g_output_stream_close (p->stdin_pipe, NULL, NULL);
    }
}

static void process_write_next (McpProcess *p);
static void process_check_gone (McpProcess *p);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(McpProcess) p = user_data;
  g_autoptr(GError) error = NULL;

  p->writing = FALSE;
  g_bytes_unref (g_queue_pop_head (&p->writes));

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* The reading end is closed: the server is gone or going. What
       * happened is told by its exit (see process_check_gone). */
      g_debug ("MCP: writing to a server failed: %s", error->message);
      p->write_failed = TRUE;
      g_queue_clear_full (&p->writes, (GDestroyNotify)g_bytes_unref);
      process_check_gone (p);
      return;
    }

  if (p->stdin_closing)
    process_close_stdin (p);
  else
    process_write_next (p);
}

static void
process_write_next (McpProcess *p)
{
  GBytes *bytes;
  gsize size;
  gconstpointer data;

  if (p->writing || p->stdin_closed || g_queue_is_empty (&p->writes))
    return;

  bytes = g_queue_peek_head (&p->writes);
  data = g_bytes_get_data (bytes, &size);
  p->writing = TRUE;
  g_output_stream_write_all_async (p->stdin_pipe, data, size, G_PRIORITY_DEFAULT, p->cancellable,
                                   write_cb, process_ref (p));
}

static void
process_send (McpProcess *p,
              JsonObject *message)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), message);
  g_autofree char *data = NULL;
  gsize len;

  if (p->stdin_closing || p->stdin_closed || p->write_failed)
    return;

  /* Not pretty: a string's line ends are escaped, so the message is one
   * line. */
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &len);
  g_queue_push_tail (&p->writes, g_bytes_new_take (g_strconcat (data, "\n", NULL), len + 1));
  process_write_next (p);
}

static JsonObject *
new_message (void)
{
  JsonObject *message = json_object_new ();

  json_object_set_string_member (message, "jsonrpc", "2.0");
  return message;
}

static void
send_notification (ConfabMcpServer *self,
                   const char      *method,
                   JsonObject      *params)
{
  g_autoptr(JsonObject) message = new_message ();

  json_object_set_string_member (message, "method", method);
  if (params != NULL)
    json_object_set_object_member (message, "params", json_object_ref (params));
  if (self->process != NULL)
    process_send (self->process, message);
}

/* Pending requests */

static void
pending_free (Pending *pending)
{
  if (pending->cancelled_id != 0)
    g_cancellable_disconnect (pending->cancellable, pending->cancelled_id);
  clear_source (&pending->cancel_idle);
  clear_source (&pending->timeout_source);
  g_clear_object (&pending->cancellable);
  g_clear_object (&pending->task);
  g_free (pending->method);
  g_free (pending);
}

/* Answers @pending's task (with @result, or @error if set) and frees it.
 * @pending must already be out of the table or list that held it. */
static void
pending_return (Pending  *pending,
                JsonNode *result,
                GError   *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&pending->task);

  pending_free (pending);
  if (error != NULL)
    g_task_return_error (task, error);
  else if (result != NULL)
    g_task_return_pointer (task, json_node_ref (result), (GDestroyNotify)json_node_unref);
  else
    g_task_return_boolean (task, TRUE);
}

static void
send_cancelled (ConfabMcpServer *self,
                gint64           id,
                const char      *reason)
{
  g_autoptr(JsonObject) params = json_object_new ();

  json_object_set_int_member (params, "requestId", id);
  json_object_set_string_member (params, "reason", reason);
  send_notification (self, "notifications/cancelled", params);
}

static gboolean
pending_cancel_idle_cb (gpointer user_data)
{
  Pending *pending = user_data;
  ConfabMcpServer *self = pending->server;

  g_clear_pointer (&pending->cancel_idle, g_source_unref);

  if (pending->id > 0)
    {
      g_hash_table_steal (self->pending, &pending->id);
      send_cancelled (self, pending->id, "Cancelled by the user");
    }
  else
    g_ptr_array_remove_fast (self->start_waiters, pending);

  pending_return (pending, NULL,
                  g_error_new_literal (CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped")));
  return G_SOURCE_REMOVE;
}

static void
pending_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  Pending *pending = user_data;

  /* Runs inside g_cancellable_cancel(), where the handler cannot be
   * disconnected: answer from an idle. */
  if (pending->cancel_idle == NULL)
    pending->cancel_idle = add_source (pending->server, g_idle_source_new (), pending_cancel_idle_cb, pending,
                                       "[confab] MCP request cancelled");
}

static gboolean
pending_timeout_cb (gpointer user_data)
{
  Pending *pending = user_data;
  ConfabMcpServer *self = pending->server;
  GError *error;

  g_clear_pointer (&pending->timeout_source, g_source_unref);
  g_hash_table_steal (self->pending, &pending->id);
  send_cancelled (self, pending->id, "Timed out");

  error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_TIMEOUT,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "The MCP server “%s” did not answer “%s” within %u second",
                                    "The MCP server “%s” did not answer “%s” within %u seconds",
                                    pending->timeout_seconds),
                       get_name (self), pending->method, pending->timeout_seconds);
  pending_return (pending, NULL, error);
  return G_SOURCE_REMOVE;
}

static Pending *
pending_new (ConfabMcpServer *self,
             GTask           *task,
             GCancellable    *cancellable)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->server = self;
  pending->task = g_object_ref (task);
  if (cancellable != NULL)
    {
      pending->cancellable = g_object_ref (cancellable);
      /* Connecting to a cancelled cancellable calls the handler now,
       * which only queues an idle. */
      pending->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (pending_cancelled_cb),
                                                     pending, NULL);
    }
  return pending;
}

/* Sends a request; the task's result is the JSON-RPC "result" node. */
static void
server_request (ConfabMcpServer     *self,
                const char          *method,
                JsonObject          *params,
                guint                timeout_seconds,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr(JsonObject) message = NULL;
  Pending *pending;

  g_task_set_source_tag (task, server_request);

  if (self->process == NULL)
    {
      g_task_return_error (task, self->error != NULL ? g_error_copy (self->error) : new_stopped_error (self));
      return;
    }

  pending = pending_new (self, task, cancellable);
  pending->id = ++self->next_id;
  pending->method = g_strdup (method);
  pending->timeout_seconds = timeout_seconds;
  g_hash_table_insert (self->pending, &pending->id, pending);

  message = new_message ();
  json_object_set_int_member (message, "id", pending->id);
  json_object_set_string_member (message, "method", method);
  json_object_set_object_member (message, "params", params != NULL ? json_object_ref (params) : json_object_new ());
  process_send (self->process, message);

  if (timeout_seconds > 0 && pending->cancel_idle == NULL)
    pending->timeout_source = add_source (self, g_timeout_source_new_seconds (timeout_seconds),
                                          pending_timeout_cb, pending, "[confab] MCP request timeout");
}

static JsonNode *
server_request_finish (ConfabMcpServer  *self,
                       GAsyncResult     *result,
                       GError          **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Takes every request and start waiter away from @self, for failing
 * them once its state is consistent again. */
static GPtrArray *
steal_waiting (ConfabMcpServer *self)
{
  GPtrArray *waiting = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (waiting, value);
      g_hash_table_iter_steal (&iter);
    }
  for (guint i = 0; i < self->start_waiters->len; i++)
    g_ptr_array_add (waiting, g_ptr_array_index (self->start_waiters, i));
  g_ptr_array_set_size (self->start_waiters, 0);

  return waiting;
}

static void
fail_waiting (GPtrArray    *waiting,
              const GError *error)
{
  for (guint i = 0; i < waiting->len; i++)
    pending_return (g_ptr_array_index (waiting, i), NULL, g_error_copy (error));
  g_ptr_array_unref (waiting);
}

/* Stopping processes */

static gboolean
stop_step_cb (gpointer user_data)
{
  McpProcess *p = user_data;

  g_clear_pointer (&p->stop_source, g_source_unref);
  switch (p->stop_step)
    {
    case 1:
      p->stop_step = 2;
      process_kill_group (p, SIGTERM);
      break;
    case 2:
      p->stop_step = 3;
      process_kill_group (p, SIGKILL);
      break;
    default:
      /* SIGKILL did not end it (a process stuck in the kernel): stop
       * waiting; GSubprocess reaps it whenever it dies. */
      g_debug ("MCP: process %d did not die", (int)p->pid);
      process_gone (p->server, p);
      return G_SOURCE_REMOVE;
    }
  p->stop_source = add_source (p->server, g_timeout_source_new (GRACE_MS), stop_step_cb, p, "[confab] MCP stop");
  return G_SOURCE_REMOVE;
}

/* Moves @p (a reference the caller gives) to the dying and stops it:
 * stdin closed, then SIGTERM, then SIGKILL. */
static void
process_stop (ConfabMcpServer *self,
              McpProcess      *p)
{
  g_assert (self->process != p);

  clear_source (&p->drain_source);
  g_ptr_array_add (self->dying, p);

  if (p->exited)
    {
      process_gone (self, p);
      return;
    }
  if (p->stop_step == 0)
    {
      p->stop_step = 1;
      process_close_stdin (p);
      p->stop_source = add_source (self, g_timeout_source_new (GRACE_MS), stop_step_cb, p, "[confab] MCP stop");
    }
}

/* @p has exited (or will never be waited for again). */
static void
process_gone (ConfabMcpServer *self,
              McpProcess      *p)
{
  guint index;

  clear_source (&p->stop_source);
  clear_source (&p->drain_source);
  g_cancellable_cancel (p->cancellable);

  if (!g_ptr_array_find (self->dying, p, &index))
    return;
  process_unref (g_ptr_array_steal_index_fast (self->dying, index));

  if (self->dying->len == 0)
    {
      g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->stop_tasks);

      self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < tasks->len; i++)
        g_task_return_boolean (g_ptr_array_index (tasks, i), TRUE);
    }
}

/* Failures */

/* The server failed with @error (taken): calls in flight and starts
 * under way fail with it, the process is stopped, and the next start
 * waits for the backoff. */
static void
server_fail (ConfabMcpServer *self,
             GError          *error)
{
  McpProcess *p = g_steal_pointer (&self->process);
  gint64 now = g_get_monotonic_time ();
  g_autoptr(GError) reported = g_error_copy (error);
  GPtrArray *waiting;
  guint delay;

  /* Callbacks below may drop the last other reference. */
  g_object_ref (self);
  g_debug ("MCP: %s", error->message);

  if (p != NULL && p->initialized && now - p->started_at >= HEALTHY_SECONDS * G_USEC_PER_SEC)
    self->failures = 0;
  self->failures++;
  delay = self->failures > 5 ? BACKOFF_MAX_SECONDS : MIN (1u << (self->failures - 1), BACKOFF_MAX_SECONDS);
  self->retry_at = now + delay * G_USEC_PER_SEC;

  g_clear_error (&self->error);
  self->error = error;
  self->listing = FALSE;
  self->list_again = FALSE;
  g_clear_pointer (&self->new_tools, g_ptr_array_unref);

  waiting = steal_waiting (self);
  if (p != NULL)
    process_stop (self, p);

  /* Callbacks may start the server again, which replaces self->error:
   * they are given a copy. */
  g_object_freeze_notify (G_OBJECT (self));
  set_status (self, CONFAB_MCP_SERVER_FAILED);
  if (p != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PID]);
  g_object_thaw_notify (G_OBJECT (self));

  fail_waiting (waiting, reported);
  g_object_unref (self);
}

static void
fail_crashed (ConfabMcpServer *self,
              McpProcess      *p)
{
  g_autofree char *reason = NULL;
  GError *error;

  if (p->exited && WIFEXITED (p->wait_status))
    reason = g_strdup_printf (_("exit status %d"), WEXITSTATUS (p->wait_status));
  else if (p->exited && WIFSIGNALED (p->wait_status))
    /* Translators: the first %d is a number, %s its name (“Killed”). */
    reason = g_strdup_printf (_("signal %d, %s"), WTERMSIG (p->wait_status), g_strsignal (WTERMSIG (p->wait_status)));
  else
    reason = g_strdup (_("it closed its output"));

  /* Its last words explain more often than not. */
  if (p->err_partial->len > 0)
    {
      g_free (p->last_err_line);
      p->last_err_line = shorten (p->err_partial->str, p->err_partial->len);
    }
  if (p->last_err_line != NULL)
    /* Translators: the first %s is a name, the second a reason (“exit
     * status 1”), the third the last line the server printed. */
    error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_SERVER, _("The MCP server “%s” stopped (%s): %s"),
                         get_name (self), reason, p->last_err_line);
  else
    error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_SERVER, _("The MCP server “%s” stopped (%s)"),
                         get_name (self), reason);

  server_fail (self, error);
}

static gboolean
drain_cb (gpointer user_data)
{
  McpProcess *p = user_data;

  g_clear_pointer (&p->drain_source, g_source_unref);
  if (p->server != NULL && p->server->process == p)
    fail_crashed (p->server, p);
  return G_SOURCE_REMOVE;
}

/* Called when the running process exited, closed stdout, closed stderr
 * or stopped reading stdin: once it has done all it will do (or a short
 * while after the first sign), it has crashed. */
static void
process_check_gone (McpProcess *p)
{
  ConfabMcpServer *self = p->server;

  if (self == NULL || self->process != p)
    return;
  if (!p->exited && !p->out_eof && !p->write_failed)
    return;

  if (p->exited && p->out_eof && p->err_eof)
    {
      clear_source (&p->drain_source);
      fail_crashed (self, p);
    }
  else if (p->drain_source == NULL)
    p->drain_source = add_source (self, g_timeout_source_new (p->exited ? DRAIN_MS : EOF_WAIT_MS),
                                  drain_cb, p, "[confab] MCP drain");
}

/* Messages from the server */

static void
fail_garbage (ConfabMcpServer *self,
              const char      *line,
              gsize            len)
{
  g_autofree char *shown = shorten (line, len);

  server_fail (self, g_error_new (CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                  _("The MCP server “%s” sent something that is not JSON-RPC: %s"),
                                  get_name (self), shown));
}

static gboolean
get_id (JsonNode *node,
        gint64   *id)
{
  if (node == NULL)
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *id = json_node_get_int (node);
      return TRUE;
    }
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_ascii_string_to_signed (json_node_get_string (node), 10, 1, G_MAXINT64, id, NULL);
  return FALSE;
}

static void
handle_response (ConfabMcpServer *self,
                 JsonObject      *message)
{
  Pending *pending;
  JsonNode *error_node;
  gint64 id;

  if (!get_id (json_object_get_member (message, "id"), &id) ||
      !g_hash_table_steal_extended (self->pending, &id, NULL, (gpointer *)&pending))
    {
      /* An answer to a request given up on (cancelled, timed out). */
      g_debug ("MCP: “%s” answered an unknown request", get_name (self));
      return;
    }

  error_node = json_object_get_member (message, "error");
  if (error_node != NULL && JSON_NODE_HOLDS_OBJECT (error_node))
    {
      const char *text = member_string (json_node_get_object (error_node), "message");
      g_autofree char *shown = text != NULL ? shorten (text, -1) : g_strdup (_("no message"));

      pending_return (pending, NULL,
                      g_error_new (CONFAB_ERROR, CONFAB_ERROR_TOOL,
                                   _("The MCP server “%s” returned an error: %s"), get_name (self), shown));
      return;
    }

  pending_return (pending, json_object_get_member (message, "result"), NULL);
}

static void
handle_request (ConfabMcpServer *self,
                JsonObject      *message,
                const char      *method)
{
  g_autoptr(JsonObject) answer = new_message ();

  json_object_set_member (answer, "id", json_node_copy (json_object_get_member (message, "id")));
  if (g_str_equal (method, "ping"))
    json_object_set_object_member (answer, "result", json_object_new ());
  else
    {
      /* Confab offers no sampling, roots or elicitation. */
      JsonObject *error = json_object_new ();
      g_autofree char *text = g_strdup_printf ("Method not found: %s", method);

      json_object_set_int_member (error, "code", -32601);
      json_object_set_string_member (error, "message", text);
      json_object_set_object_member (answer, "error", error);
    }
  process_send (self->process, answer);
}

static void
handle_notification (ConfabMcpServer *self,
                     JsonObject      *message,
                     const char      *method)
{
  if (g_str_equal (method, "notifications/tools/list_changed"))
    {
      if (self->status == CONFAB_MCP_SERVER_RUNNING)
        list_tools (self);
      else if (self->listing)
        self->list_again = TRUE;
    }
  else if (g_str_equal (method, "notifications/message"))
    {
      /* Logging sent over the protocol joins the stderr log. */
      JsonObject *params = member_object (message, "params");
      const char *level = member_string (params, "level");
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autofree char *data = NULL;
      g_autofree char *line = NULL;

      if (params == NULL || !json_object_has_member (params, "data"))
        return;
      json_generator_set_root (generator, json_object_get_member (params, "data"));
      data = json_generator_to_data (generator, NULL);
      line = g_strdup_printf ("[%s] %s\n", level != NULL ? level : "info", data);
      append_log (self, line, strlen (line));
    }
}

/* FALSE when @node is not a JSON-RPC message. */
static gboolean
handle_message (ConfabMcpServer *self,
                JsonNode        *node)
{
  JsonObject *message;
  JsonNode *method;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  message = json_node_get_object (node);
  if (g_strcmp0 (member_string (message, "jsonrpc"), "2.0") != 0)
    return FALSE;

  method = json_object_get_member (message, "method");
  if (method != NULL)
    {
      if (json_node_get_value_type (method) != G_TYPE_STRING)
        return FALSE;
      if (json_object_has_member (message, "id"))
        handle_request (self, message, json_node_get_string (method));
      else
        handle_notification (self, message, json_node_get_string (method));
      return TRUE;
    }

  if (json_object_has_member (message, "id") &&
      (json_object_has_member (message, "result") || json_object_has_member (message, "error")))
    {
      handle_response (self, message);
      return TRUE;
    }

  return FALSE;
}

static gboolean
line_cb (const char  *line,
         gsize        len,
         gpointer     user_data,
         GError     **error)
{
  McpProcess *p = user_data;
  ConfabMcpServer *self = p->server;
  g_autoptr(JsonNode) root = NULL;
  gsize i;

  /* The server failed, or was stopped, by an earlier line. */
  if (self == NULL || self->process != p)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "");
      return FALSE;
    }

  for (i = 0; i < len && g_ascii_isspace (line[i]); i++)
    ;
  if (i == len)
    return TRUE;

  if (!confab_json_parse (line, len, &root, NULL) || root == NULL)
    {
      fail_garbage (self, line, len);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "");
      return FALSE;
    }

  /* A batch (protocol 2025-03-26) is its messages in order. */
  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *batch = json_node_get_array (root);
      gboolean ok = json_array_get_length (batch) > 0;

      for (guint j = 0; ok && j < json_array_get_length (batch) && self->process == p; j++)
        ok = handle_message (self, json_array_get_element (batch, j));
      if (!ok && self->process == p)
        fail_garbage (self, line, len);
    }
  else if (!handle_message (self, root))
    fail_garbage (self, line, len);

  return TRUE;
}

static void read_stdout (McpProcess *p);

static void
stdout_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(McpProcess) p = user_data;
  g_autoptr(ConfabMcpServer) self = p->server != NULL ? g_object_ref (p->server) : NULL;
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self == NULL)
    return;

  /* A stopping process's output matters to no one, but is read so that
   * it never blocks on a full pipe. */
  if (self->process != p)
    {
      if (n > 0)
        read_stdout (p);
      return;
    }

  if (n <= 0)
    {
      if (error != NULL)
        g_debug ("MCP: reading from “%s” failed: %s", get_name (self), error->message);
      p->out_eof = TRUE;
      process_check_gone (p);
      return;
    }

  if (!_confab_line_reader_feed (&p->reader, (const char *)p->out_buffer, n, line_cb, p, &error))
    {
      if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL) && self->process == p)
        {
          g_autofree char *limit = g_format_size_full (CONFAB_DEFAULT_MAX_LINE_LENGTH, G_FORMAT_SIZE_IEC_UNITS);

          server_fail (self, g_error_new (CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                          /* Translators: %s is a size (“16 MiB”). */
                                          _("The MCP server “%s” sent something that is not JSON-RPC: "
                                            "a line longer than %s"),
                                          get_name (self), limit));
        }
      if (self->process != p)
        {
          /* Read on until the stop ends it. */
          read_stdout (p);
          return;
        }
    }

  read_stdout (p);
}

static void
read_stdout (McpProcess *p)
{
  g_input_stream_read_async (p->stdout_pipe, p->out_buffer, READ_SIZE, G_PRIORITY_DEFAULT, p->cancellable,
                             stdout_read_cb, process_ref (p));
}

static void read_stderr (McpProcess *p);

static void
stderr_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(McpProcess) p = user_data;
  ConfabMcpServer *self = p->server;
  g_autoptr(GError) error = NULL;
  const char *data = (const char *)p->err_buffer;
  const char *newline;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self == NULL)
    return;

  if (n <= 0)
    {
      p->err_eof = TRUE;
      process_check_gone (p);
      return;
    }

  /* The last complete line is kept for the message when it crashes. */
  for (const char *line = data; line < data + n; line = newline + 1)
    {
      newline = memchr (line, '\n', data + n - line);
      if (newline == NULL)
        {
          if (p->err_partial->len < 4096)
            g_string_append_len (p->err_partial, line, MIN (data + n - line, 4096 - (gssize)p->err_partial->len));
          break;
        }
      g_string_append_len (p->err_partial, line, MIN (newline - line, 4096));
      while (p->err_partial->len > 0 && g_ascii_isspace (p->err_partial->str[p->err_partial->len - 1]))
        g_string_truncate (p->err_partial, p->err_partial->len - 1);
      if (p->err_partial->len > 0)
        {
          g_free (p->last_err_line);
          p->last_err_line = shorten (p->err_partial->str, p->err_partial->len);
        }
      g_string_truncate (p->err_partial, 0);
    }

  g_object_ref (self);
  append_log (self, data, n);
  g_object_unref (self);

  read_stderr (p);
}

static void
read_stderr (McpProcess *p)
{
  g_input_stream_read_async (p->stderr_pipe, p->err_buffer, 4096, G_PRIORITY_DEFAULT, p->cancellable,
                             stderr_read_cb, process_ref (p));
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(McpProcess) p = user_data;
  ConfabMcpServer *self = p->server;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  p->exited = TRUE;
  p->wait_status = g_subprocess_get_status (G_SUBPROCESS (object));

  /* What it left behind in its group goes with it. */
  process_kill_group (p, SIGKILL);

  if (self == NULL)
    return;
  if (self->process == p)
    process_check_gone (p);
  else
    process_gone (self, p);
}

static void
child_setup (gpointer user_data)
{
  struct sigaction action = { 0 };

  /* Only async-signal-safe calls here. The group is what a stop
   * signals; SIGPIPE, which Confab ignores, is the server's to handle
   * (an ignored signal stays ignored across exec). */
  setpgid (0, 0);
  action.sa_handler = SIG_DFL;
  sigaction (SIGPIPE, &action, NULL);
}

static McpProcess *
process_spawn (ConfabMcpServer  *self,
               GError          **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) spawn_error = NULL;
  const char * const *args = confab_mcp_server_config_get_args (self->config);
  GHashTableIter iter;
  gpointer key, value;
  McpProcess *p;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_hash_table_iter_init (&iter, confab_mcp_server_config_get_env (self->config));
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_subprocess_launcher_setenv (launcher, key, value, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  g_ptr_array_add (argv, (gpointer)confab_mcp_server_config_get_command (self->config));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);

  subprocess = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &spawn_error);
  if (subprocess == NULL)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_SERVER,
                   /* Translators: %s says why. */
                   _("The MCP server “%s” could not be started: %s"), get_name (self), spawn_error->message);
      return NULL;
    }

  p = g_new0 (McpProcess, 1);
  g_ref_count_init (&p->ref_count);
  p->server = self;
  p->subprocess = g_steal_pointer (&subprocess);
  p->pid = (GPid)g_ascii_strtoll (g_subprocess_get_identifier (p->subprocess), NULL, 10);
  p->stdin_pipe = g_object_ref (g_subprocess_get_stdin_pipe (p->subprocess));
  p->stdout_pipe = g_object_ref (g_subprocess_get_stdout_pipe (p->subprocess));
  p->stderr_pipe = g_object_ref (g_subprocess_get_stderr_pipe (p->subprocess));
  p->cancellable = g_cancellable_new ();
  p->out_buffer = g_malloc (READ_SIZE);
  p->err_buffer = g_malloc (4096);
  p->err_partial = g_string_new (NULL);
  p->started_at = g_get_monotonic_time ();
  g_queue_init (&p->writes);
  _confab_line_reader_init (&p->reader, CONFAB_DEFAULT_MAX_LINE_LENGTH);

  read_stdout (p);
  read_stderr (p);
  g_subprocess_wait_async (p->subprocess, NULL, wait_cb, process_ref (p));

  return p;
}

/* Starting: initialize, notifications/initialized, tools/list */

static void
start_succeeded (ConfabMcpServer *self)
{
  GPtrArray *waiting = g_ptr_array_new ();

  for (guint i = 0; i < self->start_waiters->len; i++)
    g_ptr_array_add (waiting, g_ptr_array_index (self->start_waiters, i));
  g_ptr_array_set_size (self->start_waiters, 0);

  g_clear_error (&self->error);
  set_status (self, CONFAB_MCP_SERVER_RUNNING);

  for (guint i = 0; i < waiting->len; i++)
    pending_return (g_ptr_array_index (waiting, i), NULL, NULL);
  g_ptr_array_unref (waiting);
}

static void tools_page_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data);

/* One page of tools/list under way. */
typedef struct
{
  McpProcess *process;
  char       *cursor;
  guint       page;
} ToolsPage;

static void
tools_page_free (ToolsPage *page)
{
  process_unref (page->process);
  g_free (page->cursor);
  g_free (page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ToolsPage, tools_page_free)

static void
request_tools_page (ConfabMcpServer *self,
                    const char      *cursor,
                    guint            page_number)
{
  g_autoptr(JsonObject) params = json_object_new ();
  ToolsPage *page = g_new0 (ToolsPage, 1);

  page->process = process_ref (self->process);
  page->cursor = g_strdup (cursor);
  page->page = page_number;

  if (cursor != NULL)
    json_object_set_string_member (params, "cursor", cursor);
  server_request (self, "tools/list", params, STARTUP_TIMEOUT_SECONDS, NULL, tools_page_cb, page);
}

static void
finish_listing (ConfabMcpServer *self)
{
  g_clear_pointer (&self->tools, g_ptr_array_unref);
  self->tools = g_steal_pointer (&self->new_tools);
  self->listing = FALSE;

  if (self->status == CONFAB_MCP_SERVER_STARTING)
    start_succeeded (self);
  g_signal_emit (self, signals[TOOLS_CHANGED], 0);

  if (self->list_again && self->status == CONFAB_MCP_SERVER_RUNNING)
    {
      self->list_again = FALSE;
      list_tools (self);
    }
}

static void
tools_page_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  ConfabMcpServer *self = CONFAB_MCP_SERVER (object);
  g_autoptr(ToolsPage) page = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  const char *next = NULL;
  JsonArray *tools = NULL;

  node = server_request_finish (self, result, &error);
  if (self->process != page->process || !self->listing)
    return;

  if (node == NULL)
    {
      g_autofree char *line = g_strdup_printf ("confab: tools/list failed: %s\n", error->message);

      append_log (self, line, strlen (line));
      /* A server without tools may refuse tools/list: it has none. */
      if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_TOOL) || self->status == CONFAB_MCP_SERVER_RUNNING)
        {
          if (self->status == CONFAB_MCP_SERVER_RUNNING)
            {
              /* Keep what was listed before. */
              g_clear_pointer (&self->new_tools, g_ptr_array_unref);
              self->new_tools = g_ptr_array_ref (self->tools);
            }
          finish_listing (self);
        }
      else
        server_fail (self, g_steal_pointer (&error));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      tools = member_array (json_node_get_object (node), "tools");
      next = member_string (json_node_get_object (node), "nextCursor");
    }

  for (guint i = 0; tools != NULL && i < json_array_get_length (tools); i++)
    {
      JsonNode *tool = json_array_get_element (tools, i);

      if (JSON_NODE_HOLDS_OBJECT (tool) && member_string (json_node_get_object (tool), "name") != NULL)
        g_ptr_array_add (self->new_tools, json_object_ref (json_node_get_object (tool)));
    }

  /* A cursor that does not move would page forever. */
  if (next != NULL && next[0] != '\0' && g_strcmp0 (next, page->cursor) != 0 && page->page + 1 < MAX_TOOL_PAGES)
    request_tools_page (self, next, page->page + 1);
  else
    finish_listing (self);
}

static void
list_tools (ConfabMcpServer *self)
{
  if (self->listing)
    {
      self->list_again = TRUE;
      return;
    }

  self->listing = TRUE;
  self->new_tools = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  request_tools_page (self, NULL, 0);
}

static char *
join_versions (void)
{
  /* Translators: the separator of a list of protocol versions. */
  return g_strjoinv (_(", "), (char **)supported_versions);
}

static void
initialize_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  ConfabMcpServer *self = CONFAB_MCP_SERVER (object);
  g_autoptr(McpProcess) p = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  const char *version = NULL;

  node = server_request_finish (self, result, &error);
  if (self->process != p)
    return;

  if (node == NULL)
    {
      server_fail (self, g_steal_pointer (&error));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    version = member_string (json_node_get_object (node), "protocolVersion");
  if (version == NULL || !g_strv_contains (supported_versions, version))
    {
      g_autofree char *versions = join_versions ();
      g_autofree char *shown = version != NULL ? shorten (version, -1) : g_strdup (_("none"));

      server_fail (self, g_error_new (CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                      /* Translators: the versions are dates such as 2025-11-25;
                                       * the last %s is a list of them. */
                                      _("The MCP server “%s” answered with protocol version %s, but Confab "
                                        "asked for %s and supports only %s"),
                                      get_name (self), shown, CONFAB_MCP_PROTOCOL_VERSION, versions));
      return;
    }

  if (g_strcmp0 (self->protocol_version, version) != 0)
    {
      g_free (self->protocol_version);
      self->protocol_version = g_strdup (version);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTOCOL_VERSION]);
    }

  p->initialized = TRUE;
  send_notification (self, "notifications/initialized", NULL);
  list_tools (self);
}

static void
begin_start (ConfabMcpServer *self)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *client_info;
  McpProcess *p;

  g_assert (self->process == NULL);

  set_status (self, CONFAB_MCP_SERVER_STARTING);

  p = process_spawn (self, &error);
  if (p == NULL)
    {
      server_fail (self, g_steal_pointer (&error));
      return;
    }
  self->process = p;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PID]);

  client_info = json_object_new ();
  json_object_set_string_member (client_info, "name", "Confab");
  json_object_set_string_member (client_info, "version", PACKAGE_VERSION);
  json_object_set_string_member (params, "protocolVersion", CONFAB_MCP_PROTOCOL_VERSION);
  json_object_set_object_member (params, "capabilities", json_object_new ());
  json_object_set_object_member (params, "clientInfo", client_info);

  server_request (self, "initialize", params, STARTUP_TIMEOUT_SECONDS, NULL, initialize_cb, process_ref (p));
}

/* GObject */

static void
confab_mcp_server_dispose (GObject *object)
{
  ConfabMcpServer *self = (ConfabMcpServer *)object;
  McpProcess *p = g_steal_pointer (&self->process);

  /* Nothing can wait for a stop now: whatever still runs is killed. */
  if (p != NULL)
    g_ptr_array_add (self->dying, p);
  while (self->dying->len > 0)
    {
      p = g_ptr_array_steal_index_fast (self->dying, self->dying->len - 1);
      clear_source (&p->stop_source);
      clear_source (&p->drain_source);
      if (!p->exited)
        process_kill_group (p, SIGKILL);
      p->server = NULL;
      g_cancellable_cancel (p->cancellable);
      process_unref (p);
    }

  G_OBJECT_CLASS (confab_mcp_server_parent_class)->dispose (object);
}

static void
confab_mcp_server_finalize (GObject *object)
{
  ConfabMcpServer *self = (ConfabMcpServer *)object;

  /* Every task holds the server: none can be left. */
  g_assert (g_hash_table_size (self->pending) == 0);
  g_assert (self->start_waiters->len == 0);
  g_assert (self->stop_tasks->len == 0);

  g_clear_object (&self->config);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->dying, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->start_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->stop_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->tools, g_ptr_array_unref);
  g_clear_pointer (&self->new_tools, g_ptr_array_unref);
  g_clear_pointer (&self->protocol_version, g_free);
  g_clear_error (&self->error);
  g_string_free (self->log, TRUE);

  G_OBJECT_CLASS (confab_mcp_server_parent_class)->finalize (object);
}

static void
confab_mcp_server_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ConfabMcpServer *self = CONFAB_MCP_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONFIG:
      g_value_set_object (value, self->config);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_PID:
      g_value_set_int (value, confab_mcp_server_get_pid (self));
      break;
    case PROP_PROTOCOL_VERSION:
      g_value_set_string (value, self->protocol_version);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_mcp_server_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ConfabMcpServer *self = CONFAB_MCP_SERVER (object);

  switch (prop_id)
    {
    case PROP_CONFIG:
      self->config = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_mcp_server_class_init (ConfabMcpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = confab_mcp_server_dispose;
  object_class->finalize = confab_mcp_server_finalize;
  object_class->get_property = confab_mcp_server_get_property;
  object_class->set_property = confab_mcp_server_set_property;

  properties[PROP_CONFIG] =
    g_param_spec_object ("config", NULL, NULL, CONFAB_TYPE_MCP_SERVER_CONFIG,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, CONFAB_TYPE_MCP_SERVER_STATUS, CONFAB_MCP_SERVER_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PID] =
    g_param_spec_int ("pid", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROTOCOL_VERSION] =
    g_param_spec_string ("protocol-version", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * ConfabMcpServer::tools-changed:
   *
   * The tool list was (re)loaded: at start, and when the server said
   * it changed.
   */
  signals[TOOLS_CHANGED] = g_signal_new ("tools-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * ConfabMcpServer::log-changed:
   *
   * The server wrote to stderr (or sent a log message).
   */
  signals[LOG_CHANGED] = g_signal_new ("log-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /* A server that dies while we write to it must not take Confab with
   * it: EPIPE is handled, SIGPIPE ignored (as GSocket does). */
  signal (SIGPIPE, SIG_IGN);
}

static void
confab_mcp_server_init (ConfabMcpServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->dying = g_ptr_array_new ();
  self->pending = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->start_waiters = g_ptr_array_new ();
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->tools = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  self->log = g_string_new (NULL);
}

/* Public API */

const char * const *
confab_mcp_get_supported_protocol_versions (void)
{
  return supported_versions;
}

ConfabMcpServer *
confab_mcp_server_new (ConfabMcpServerConfig *config)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (config), NULL);

  return g_object_new (CONFAB_TYPE_MCP_SERVER, "config", config, NULL);
}

const char *
confab_mcp_server_get_name (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return get_name (self);
}

ConfabMcpServerConfig *
confab_mcp_server_get_config (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return self->config;
}

ConfabMcpServerStatus
confab_mcp_server_get_status (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), CONFAB_MCP_SERVER_STOPPED);
  return self->status;
}

GPid
confab_mcp_server_get_pid (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), 0);
  return self->process != NULL ? self->process->pid : 0;
}

const char *
confab_mcp_server_get_protocol_version (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return self->protocol_version;
}

GPtrArray *
confab_mcp_server_get_tools (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return self->tools;
}

const GError *
confab_mcp_server_get_error (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return self->error;
}

char *
confab_mcp_server_dup_log (ConfabMcpServer *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  return g_strndup (self->log->str, self->log->len);
}

void
confab_mcp_server_start_async (ConfabMcpServer     *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  gint64 now = g_get_monotonic_time ();

  g_return_if_fail (CONFAB_IS_MCP_SERVER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_server_start_async);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped"));
      return;
    }

  switch (self->status)
    {
    case CONFAB_MCP_SERVER_RUNNING:
      g_task_return_boolean (task, TRUE);
      return;

    case CONFAB_MCP_SERVER_FAILED:
      /* Fail fast within the backoff: a turn should not hang on a server
       * that just crashed, and the message says when to try again. */
      if (now < self->retry_at)
        {
          guint seconds = (guint)((self->retry_at - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);

          g_task_return_new_error (task, CONFAB_ERROR, self->error->code,
                                   g_dngettext (GETTEXT_PACKAGE,
                                                "%s. Confab will try to start it again in %u second.",
                                                "%s. Confab will try to start it again in %u seconds.",
                                                seconds),
                                   self->error->message, seconds);
          return;
        }
      G_GNUC_FALLTHROUGH;
    case CONFAB_MCP_SERVER_STOPPED:
      g_ptr_array_add (self->start_waiters, pending_new (self, task, cancellable));
      begin_start (self);
      return;

    case CONFAB_MCP_SERVER_STARTING:
      g_ptr_array_add (self->start_waiters, pending_new (self, task, cancellable));
      return;

    default:
      g_assert_not_reached ();
    }
}

gboolean
confab_mcp_server_start_finish (ConfabMcpServer  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
confab_mcp_server_stop_async (ConfabMcpServer     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  McpProcess *p;
  GPtrArray *waiting;

  g_return_if_fail (CONFAB_IS_MCP_SERVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_server_stop_async);

  /* A stop on purpose: the next use starts at once. */
  p = g_steal_pointer (&self->process);
  self->failures = 0;
  self->retry_at = 0;
  self->listing = FALSE;
  self->list_again = FALSE;
  g_clear_pointer (&self->new_tools, g_ptr_array_unref);
  g_clear_error (&self->error);

  waiting = steal_waiting (self);
  if (p != NULL)
    process_stop (self, p);

  g_object_freeze_notify (G_OBJECT (self));
  set_status (self, CONFAB_MCP_SERVER_STOPPED);
  if (p != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PID]);
  g_object_thaw_notify (G_OBJECT (self));

  error = new_stopped_error (self);
  fail_waiting (waiting, error);

  if (self->dying->len == 0)
    g_task_return_boolean (task, TRUE);
  else
    g_ptr_array_add (self->stop_tasks, g_steal_pointer (&task));
}

gboolean
confab_mcp_server_stop_finish (ConfabMcpServer  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Calling tools */

typedef struct
{
  char         *tool_name;
  JsonObject   *arguments;
  guint         timeout;
} CallData;

static void
call_data_free (CallData *call)
{
  g_free (call->tool_name);
  json_object_unref (call->arguments);
  g_free (call);
}

static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ConfabMcpServer *self = CONFAB_MCP_SERVER (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonNode) node = NULL;
  GError *error = NULL;

  node = server_request_finish (self, result, &error);
  if (node == NULL)
    g_task_return_error (task, error);
  else if (!JSON_NODE_HOLDS_OBJECT (node))
    g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                             _("The MCP server “%s” answered a tool call with something that is not a result"),
                             get_name (self));
  else
    g_task_return_pointer (task, json_object_ref (json_node_get_object (node)), (GDestroyNotify)json_object_unref);
}

static void
send_call (GTask *task)
{
  ConfabMcpServer *self = g_task_get_source_object (task);
  CallData *call = g_task_get_task_data (task);
  g_autoptr(JsonObject) params = json_object_new ();

  json_object_set_string_member (params, "name", call->tool_name);
  json_object_set_object_member (params, "arguments", json_object_ref (call->arguments));
  server_request (self, "tools/call", params, call->timeout, g_task_get_cancellable (task),
                  call_done_cb, g_object_ref (task));
}

static void
call_started_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!confab_mcp_server_start_finish (CONFAB_MCP_SERVER (object), result, &error))
    g_task_return_error (task, error);
  else if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped"));
  else
    send_call (task);
}

void
confab_mcp_server_call_tool_async (ConfabMcpServer     *self,
                                   const char          *tool_name,
                                   JsonObject          *arguments,
                                   guint                timeout_seconds,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CallData *call;

  g_return_if_fail (CONFAB_IS_MCP_SERVER (self));
  g_return_if_fail (tool_name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_mcp_server_call_tool_async);
  /* The errors are ours (CONFAB_ERROR_CANCELLED), not GIO's. */
  g_task_set_check_cancellable (task, FALSE);

  call = g_new0 (CallData, 1);
  call->tool_name = g_strdup (tool_name);
  call->arguments = arguments != NULL ? json_object_ref (arguments) : json_object_new ();
  call->timeout = timeout_seconds;
  g_task_set_task_data (task, call, (GDestroyNotify)call_data_free);

  if (g_cancellable_is_cancelled (cancellable))
    g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped"));
  else if (self->status == CONFAB_MCP_SERVER_RUNNING)
    send_call (task);
  else
    confab_mcp_server_start_async (self, cancellable, call_started_cb, g_object_ref (task));
}

JsonObject *
confab_mcp_server_call_tool_finish (ConfabMcpServer  *self,
                                    GAsyncResult     *result,
                                    GError          **error)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
