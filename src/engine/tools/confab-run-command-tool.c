/* confab-run-command-tool.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "confab-builtin-tools-private.h"
#include "confab-error.h"
#include "confab-run-command-tool.h"

/* The command runs as `/bin/sh -c COMMAND` in a process group of its own,
 * with stdin on /dev/null and stderr merged into stdout. The output is read
 * on the main loop, never by a thread; past the cap it is still read (so
 * the command never blocks on a full pipe) but dropped. Cancellation (the
 * user's Stop, or the base class's timeout) kills the whole group at once
 * from the cancellable's handler, so grandchildren die too.
 *
 * A nonzero exit status is not a tool failure: the result reports it and
 * the model decides (grep exits 1 when nothing matches, diff when files
 * differ). Failures are a command that cannot start and a timeout.
 */

#define DEFAULT_TIMEOUT    60
#define DEFAULT_MAX_OUTPUT (64 * 1024)
#define READ_SIZE          (64 * 1024)
/* After the shell exits, how long background processes that kept the
 * output open may still write before the result is returned without them. */
#define DRAIN_GRACE_MS     1000

struct _ConfabRunCommandTool
{
  ConfabTool parent_instance;

  guint      max_output;
};

G_DEFINE_FINAL_TYPE (ConfabRunCommandTool, confab_run_command_tool, CONFAB_TYPE_TOOL)

enum {
  PROP_0,
  PROP_MAX_OUTPUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  GSubprocess  *process;
  GInputStream *output_pipe;
  GCancellable *cancellable;       /* the run's, cancelled by the base class */
  gulong        cancelled_id;
  GCancellable *read_cancellable;  /* stops reading the output */
  GSource      *timeout_source;    /* the call's own "timeout" argument */
  GSource      *grace_source;
  GByteArray   *output;
  guint64       dropped;
  pid_t         pgid;
  guint         max_output;
  guint         timeout;
  guint         exited : 1;
  guint         eof : 1;
  guint         timed_out : 1;
  guint         left_running : 1;  /* background processes kept the output open */
  guint         done : 1;
} RunCommand;

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
run_command_free (gpointer data)
{
  RunCommand *run = data;

  if (run->cancelled_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancelled_id);
  clear_source (&run->timeout_source);
  clear_source (&run->grace_source);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->read_cancellable);
  g_clear_object (&run->output_pipe);
  g_clear_object (&run->process);
  g_clear_pointer (&run->output, g_byte_array_unref);
  g_free (run);
}

static void
kill_group (RunCommand *run)
{
  /* The whole group: the shell and everything it started that did not
   * leave the group. Synchronous, so nothing of the command runs on after
   * a cancel() returns. */
  if (run->pgid > 0)
    kill (-run->pgid, SIGKILL);
}

static void
child_setup_cb (gpointer user_data)
{
  /* In the child, before exec: its own process group, led by the shell. */
  setpgid (0, 0);
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  RunCommand *run = user_data;

  kill_group (run);
  g_cancellable_cancel (run->read_cancellable);
}

static gboolean
timeout_cb (gpointer user_data)
{
  RunCommand *run = user_data;

  g_clear_pointer (&run->timeout_source, g_source_unref);
  run->timed_out = TRUE;
  kill_group (run);
  g_cancellable_cancel (run->read_cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
grace_cb (gpointer user_data)
{
  RunCommand *run = user_data;

  g_clear_pointer (&run->grace_source, g_source_unref);
  run->left_running = TRUE;
  g_cancellable_cancel (run->read_cancellable);
  return G_SOURCE_REMOVE;
}

static GSource *
timeout_add (guint       interval_ms,
             GSourceFunc func,
             gpointer    data)
{
  GSource *source = g_timeout_source_new (interval_ms);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, "[confab] run_command");
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

static ConfabToolResult *
build_result (RunCommand *run)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) structured = NULL;
  g_autofree char *output = NULL;
  ConfabToolResult *result;
  gsize len = run->output->len;

  /* A cut may have split a character; invalid bytes become U+FFFD. */
  if (run->dropped > 0)
    len = _confab_utf8_complete_length ((const char *) run->output->data, len);
  output = g_utf8_make_valid ((const char *) run->output->data, len);

  g_string_append (text, output);
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append_c (text, '\n');
  if (text->len == 0)
    g_string_append_printf (text, "%s\n", _("[no output]"));
  if (run->dropped > 0)
    {
      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "[output cut: %llu more byte not shown]",
                                           "[output cut: %llu more bytes not shown]",
                                           (gulong) MIN (run->dropped, G_MAXULONG)),
                              (unsigned long long) run->dropped);
      g_string_append_c (text, '\n');
    }
  if (run->left_running)
    g_string_append_printf (text, "%s\n",
                            _("[processes started in the background still hold the output open; "
                              "they were left running and their further output is not shown]"));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "exit_status");
  if (g_subprocess_get_if_exited (run->process))
    {
      int status = g_subprocess_get_exit_status (run->process);

      g_string_append_printf (text, _("[exit status %d]"), status);
      json_builder_add_int_value (builder, status);
    }
  else
    {
      int sig = g_subprocess_get_if_signaled (run->process) ? g_subprocess_get_term_sig (run->process) : 0;

      g_string_append_printf (text, _("[killed by signal %d (%s)]"), sig, g_strsignal (sig));
      json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "signal");
      json_builder_add_int_value (builder, sig);
    }
  json_builder_set_member_name (builder, "output");
  json_builder_add_string_value (builder, output);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, run->dropped > 0);
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  result = confab_tool_result_new (text->str);
  confab_tool_result_set_structured (result, structured);
  return result;
}

static void
maybe_finish (GTask *task)
{
  RunCommand *run = g_task_get_task_data (task);

  if (run->done || !run->exited || !run->eof)
    return;
  run->done = TRUE;

  clear_source (&run->timeout_source);
  clear_source (&run->grace_source);

  if (g_cancellable_is_cancelled (run->cancellable))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", _("Stopped"));
  else if (run->timed_out)
    g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_TIMEOUT,
                             g_dngettext (GETTEXT_PACKAGE,
                                          "The command did not finish within %u second and was stopped",
                                          "The command did not finish within %u seconds and was stopped",
                                          run->timeout),
                             run->timeout);
  else
    g_task_return_pointer (task, build_result (run), g_object_unref);
}

static void read_next (GTask *task);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunCommand *run = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  gsize size;
  gsize kept;

  /* An error (cancelled: stopped, timed out, or past the grace period)
   * ends the output like EOF does. */
  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);
  size = bytes != NULL ? g_bytes_get_size (bytes) : 0;
  if (size == 0)
    {
      run->eof = TRUE;
      maybe_finish (task);
      return;
    }

  kept = MIN (size, run->max_output - MIN (run->output->len, run->max_output));
  g_byte_array_append (run->output, g_bytes_get_data (bytes, NULL), kept);
  run->dropped += size - kept;

  read_next (task);
}

static void
read_next (GTask *task)
{
  RunCommand *run = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (run->output_pipe, READ_SIZE, G_PRIORITY_DEFAULT,
                                   run->read_cancellable, read_cb, g_object_ref (task));
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunCommand *run = g_task_get_task_data (task);

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  run->exited = TRUE;

  /* The shell is gone, but something it started in the background may
   * still hold the output open: give it a moment, then return without it. */
  if (!run->eof && !g_cancellable_is_cancelled (run->read_cancellable))
    run->grace_source = timeout_add (DRAIN_GRACE_MS, grace_cb, run);

  maybe_finish (task);
}

static void
confab_run_command_tool_run_async (ConfabTool          *tool,
                                   ConfabToolContext   *context,
                                   JsonObject          *arguments,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  ConfabRunCommandTool *self = CONFAB_RUN_COMMAND_TOOL (tool);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  const char *command;
  const char *identifier;
  guint tool_timeout = confab_tool_get_timeout (tool);
  gint64 timeout = 0;
  RunCommand *run;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_run_command_tool_run_async);
  g_task_set_check_cancellable (task, FALSE);

  command = confab_tool_get_string_arg (tool, arguments, "command", TRUE, &error);
  if (command == NULL ||
      !confab_tool_get_int_arg (tool, arguments, "timeout", 0, &timeout, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (command[0] == '\0')
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                               _("The command is empty"));
      return;
    }
  if (timeout < 0)
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                               _("The timeout must be a positive number of seconds"));
      return;
    }
  /* The tool's own limit (the user's setting) always wins. */
  if (tool_timeout > 0 && timeout >= tool_timeout)
    timeout = 0;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_cwd (launcher, confab_tool_context_get_working_directory (context));
  g_subprocess_launcher_set_child_setup (launcher, child_setup_cb, NULL, NULL);

  run = g_new0 (RunCommand, 1);
  run->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  run->read_cancellable = g_cancellable_new ();
  run->output = g_byte_array_new ();
  run->max_output = self->max_output;
  run->timeout = (guint) timeout;
  g_task_set_task_data (task, run, run_command_free);

  run->process = g_subprocess_launcher_spawn (launcher, &error, "/bin/sh", "-c", command, NULL);
  if (run->process == NULL)
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                               _("The command could not be started: %s"), error->message);
      return;
    }
  run->output_pipe = g_object_ref (g_subprocess_get_stdout_pipe (run->process));
  identifier = g_subprocess_get_identifier (run->process);
  run->pgid = identifier != NULL ? (pid_t) g_ascii_strtoll (identifier, NULL, 10) : 0;

  /* Connected after the spawn: a run cancelled already kills it at once. */
  run->cancelled_id = g_cancellable_connect (run->cancellable, G_CALLBACK (cancelled_cb), run, NULL);
  if (run->timeout > 0)
    run->timeout_source = timeout_add (run->timeout * 1000, timeout_cb, run);

  g_subprocess_wait_async (run->process, NULL, wait_cb, g_object_ref (task));
  read_next (task);
}

static ConfabToolResult *
confab_run_command_tool_run_finish (ConfabTool    *tool,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
confab_run_command_tool_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  ConfabRunCommandTool *self = CONFAB_RUN_COMMAND_TOOL (object);

  switch (prop_id)
    {
    case PROP_MAX_OUTPUT:
      g_value_set_uint (value, self->max_output);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_run_command_tool_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  ConfabRunCommandTool *self = CONFAB_RUN_COMMAND_TOOL (object);

  switch (prop_id)
    {
    case PROP_MAX_OUTPUT:
      confab_run_command_tool_set_max_output (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_run_command_tool_class_init (ConfabRunCommandToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  object_class->get_property = confab_run_command_tool_get_property;
  object_class->set_property = confab_run_command_tool_set_property;

  tool_class->run_async = confab_run_command_tool_run_async;
  tool_class->run_finish = confab_run_command_tool_run_finish;

  /**
   * ConfabRunCommandTool:max-output:
   *
   * Bytes of output (stdout and stderr together) kept for the model.
   */
  properties[PROP_MAX_OUTPUT] =
    g_param_spec_uint ("max-output", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_MAX_OUTPUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
confab_run_command_tool_init (ConfabRunCommandTool *self)
{
  self->max_output = DEFAULT_MAX_OUTPUT;
}

ConfabTool *
confab_run_command_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{"
      "\"type\": \"object\","
      "\"properties\": {"
        "\"command\": {"
          "\"type\": \"string\","
          "\"description\": \"The shell command line, run with /bin/sh -c.\""
        "},"
        "\"timeout\": {"
          "\"type\": \"integer\","
          "\"minimum\": 1,"
          "\"description\": \"Seconds before the command is killed; at most the tool's own limit (60 by default), which also applies when this is left out.\""
        "}"
      "},"
      "\"required\": [\"command\"]"
    "}");

  return g_object_new (CONFAB_TYPE_RUN_COMMAND_TOOL,
                       "name", "run_command",
                       "description",
                       "Run a shell command on the user's computer with /bin/sh -c and return its output "
                       "(stdout and stderr together) and exit status. The command runs in the first folder "
                       "the user granted (or their home folder), with no input (stdin is empty), so "
                       "interactive programs get end-of-file. Output beyond 64 KiB is cut. The command and "
                       "everything it started are killed when it runs longer than its timeout. A process "
                       "left running in the background must send its output to a file "
                       "(for example `server > log.txt 2>&1 &`). The user approves each command.",
                       "parameters", parameters,
                       "needs-approval", TRUE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}

guint
confab_run_command_tool_get_max_output (ConfabRunCommandTool *self)
{
  g_return_val_if_fail (CONFAB_IS_RUN_COMMAND_TOOL (self), 0);
  return self->max_output;
}

void
confab_run_command_tool_set_max_output (ConfabRunCommandTool *self,
                                        guint                 max_output)
{
  g_return_if_fail (CONFAB_IS_RUN_COMMAND_TOOL (self));
  g_return_if_fail (max_output > 0);

  if (self->max_output != max_output)
    {
      self->max_output = max_output;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_OUTPUT]);
    }
}
