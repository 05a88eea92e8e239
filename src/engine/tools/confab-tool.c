/* confab-tool.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <glib/gi18n-lib.h>

#include "confab-error.h"
#include "confab-tool.h"

/* Policies */

const char *
confab_tool_policy_to_string (ConfabToolPolicy policy)
{
  switch (policy)
    {
    case CONFAB_TOOL_POLICY_ASK: return "ask";
    case CONFAB_TOOL_POLICY_ALLOW: return "allow";
    case CONFAB_TOOL_POLICY_NEVER: return "never";
    default: g_return_val_if_reached ("ask");
    }
}

gboolean
confab_tool_policy_from_string (const char       *str,
                                ConfabToolPolicy *policy)
{
  static const char * const names[] = { "ask", "allow", "never" };

  g_return_val_if_fail (policy != NULL, FALSE);

  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (str, names[i]))
      {
        *policy = (ConfabToolPolicy) i;
        return TRUE;
      }
  return FALSE;
}

/* Results */

struct _ConfabToolResult
{
  GObject   parent_instance;

  char     *text;
  JsonNode *structured;
  gboolean  is_error;
};

G_DEFINE_FINAL_TYPE (ConfabToolResult, confab_tool_result, G_TYPE_OBJECT)

static void
confab_tool_result_finalize (GObject *object)
{
  ConfabToolResult *self = (ConfabToolResult *)object;

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->structured, json_node_unref);

  G_OBJECT_CLASS (confab_tool_result_parent_class)->finalize (object);
}

static void
confab_tool_result_class_init (ConfabToolResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_tool_result_finalize;
}

static void
confab_tool_result_init (ConfabToolResult *self)
{
}

ConfabToolResult *
confab_tool_result_new (const char *text)
{
  ConfabToolResult *self = g_object_new (CONFAB_TYPE_TOOL_RESULT, NULL);

  self->text = g_strdup (text != NULL ? text : "");
  return self;
}

ConfabToolResult *
confab_tool_result_new_error (const char *text)
{
  ConfabToolResult *self = confab_tool_result_new (text);

  self->is_error = TRUE;
  return self;
}

const char *
confab_tool_result_get_text (ConfabToolResult *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_RESULT (self), NULL);
  return self->text;
}

gboolean
confab_tool_result_get_is_error (ConfabToolResult *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_RESULT (self), FALSE);
  return self->is_error;
}

JsonNode *
confab_tool_result_get_structured (ConfabToolResult *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_RESULT (self), NULL);
  return self->structured;
}

void
confab_tool_result_set_structured (ConfabToolResult *self,
                                   JsonNode         *structured)
{
  g_return_if_fail (CONFAB_IS_TOOL_RESULT (self));

  g_clear_pointer (&self->structured, json_node_unref);
  if (structured != NULL)
    self->structured = json_node_ref (structured);
}

/* Contexts */

struct _ConfabToolContext
{
  GObject    parent_instance;

  GPtrArray *allowed_dirs;
  gboolean   allow_private_network;
};

G_DEFINE_FINAL_TYPE (ConfabToolContext, confab_tool_context, G_TYPE_OBJECT)

static void
confab_tool_context_finalize (GObject *object)
{
  ConfabToolContext *self = (ConfabToolContext *)object;

  g_clear_pointer (&self->allowed_dirs, g_ptr_array_unref);

  G_OBJECT_CLASS (confab_tool_context_parent_class)->finalize (object);
}

static void
confab_tool_context_class_init (ConfabToolContextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_tool_context_finalize;
}

static void
confab_tool_context_init (ConfabToolContext *self)
{
  self->allowed_dirs = g_ptr_array_new_null_terminated (2, g_free, TRUE);
}

ConfabToolContext *
confab_tool_context_new (void)
{
  return g_object_new (CONFAB_TYPE_TOOL_CONTEXT, NULL);
}

/* @path's real path, if it is a folder. Blocks: file system calls. */
static char *
resolve_folder (const char  *path,
                GError     **error)
{
  g_autofree char *real = realpath (path, NULL);

  if (real == NULL || !g_file_test (real, G_FILE_TEST_IS_DIR))
    {
      int saved_errno = real == NULL ? errno : ENOTDIR;

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("The folder “%s” cannot be granted: %s"), path, g_strerror (saved_errno));
      return NULL;
    }

  return g_steal_pointer (&real);
}

static gboolean
has_dir (ConfabToolContext *self,
         const char        *real_path,
         guint             *index)
{
  for (guint i = 0; i < self->allowed_dirs->len; i++)
    if (g_str_equal (g_ptr_array_index (self->allowed_dirs, i), real_path))
      {
        if (index != NULL)
          *index = i;
        return TRUE;
      }
  return FALSE;
}

static void
add_real_dir (ConfabToolContext *self,
              char              *real_path)
{
  if (has_dir (self, real_path, NULL))
    g_free (real_path);
  else
    g_ptr_array_add (self->allowed_dirs, real_path);
}

gboolean
confab_tool_context_add_allowed_dir (ConfabToolContext  *self,
                                     const char         *path,
                                     GError            **error)
{
  char *real;

  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if ((real = resolve_folder (path, error)) == NULL)
    return FALSE;
  add_real_dir (self, real);
  return TRUE;
}

static void
add_allowed_dir_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  GError *error = NULL;
  char *real = resolve_folder (task_data, &error);

  if (real == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, real, g_free);
}

void
confab_tool_context_add_allowed_dir_async (ConfabToolContext   *self,
                                           const char          *path,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_TOOL_CONTEXT (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_tool_context_add_allowed_dir_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, add_allowed_dir_thread);
}

gboolean
confab_tool_context_add_allowed_dir_finish (ConfabToolContext  *self,
                                            GAsyncResult       *result,
                                            GError            **error)
{
  char *real;

  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if ((real = g_task_propagate_pointer (G_TASK (result), error)) == NULL)
    return FALSE;
  add_real_dir (self, real);
  return TRUE;
}

void
confab_tool_context_restore_allowed_dir (ConfabToolContext *self,
                                         const char        *real_path)
{
  g_return_if_fail (CONFAB_IS_TOOL_CONTEXT (self));
  g_return_if_fail (real_path != NULL && g_path_is_absolute (real_path));

  add_real_dir (self, g_strdup (real_path));
}

/* A granted folder still stands if it is a folder at the same real
 * path: one that is gone, or whose path now leads elsewhere through a
 * symbolic link, is not the folder the user granted. */
static void
check_allowed_dirs_thread (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  char **dirs = task_data;
  g_autoptr(GStrvBuilder) gone = g_strv_builder_new ();

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *real = resolve_folder (dirs[i], NULL);

      if (real == NULL || !g_str_equal (real, dirs[i]))
        g_strv_builder_add (gone, dirs[i]);
    }

  g_task_return_pointer (task, g_strv_builder_end (gone), (GDestroyNotify)g_strfreev);
}

void
confab_tool_context_check_allowed_dirs_async (ConfabToolContext   *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_TOOL_CONTEXT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_tool_context_check_allowed_dirs_async);
  g_task_set_task_data (task, g_strdupv ((char **)self->allowed_dirs->pdata), (GDestroyNotify)g_strfreev);
  g_task_run_in_thread (task, check_allowed_dirs_thread);
}

char **
confab_tool_context_check_allowed_dirs_finish (ConfabToolContext  *self,
                                               GAsyncResult       *result,
                                               GError            **error)
{
  char **gone;

  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if ((gone = g_task_propagate_pointer (G_TASK (result), error)) == NULL)
    return NULL;

  /* The order stays: the first folder is where commands run. */
  for (guint i = 0; gone[i] != NULL; i++)
    {
      guint index;

      if (has_dir (self, gone[i], &index))
        g_ptr_array_remove_index (self->allowed_dirs, index);
    }

  return gone;
}

const char * const *
confab_tool_context_get_allowed_dirs (ConfabToolContext *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), NULL);
  return (const char * const *) self->allowed_dirs->pdata;
}

const char *
confab_tool_context_get_working_directory (ConfabToolContext *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), NULL);

  if (self->allowed_dirs->len > 0)
    return g_ptr_array_index (self->allowed_dirs, 0);
  return g_get_home_dir ();
}

gboolean
confab_tool_context_get_allow_private_network (ConfabToolContext *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CONTEXT (self), FALSE);
  return self->allow_private_network;
}

void
confab_tool_context_set_allow_private_network (ConfabToolContext *self,
                                               gboolean           allow)
{
  g_return_if_fail (CONFAB_IS_TOOL_CONTEXT (self));
  self->allow_private_network = !!allow;
}

/* Tools */

typedef struct
{
  char     *name;
  char     *description;
  JsonNode *parameters;
  gboolean  needs_approval;
  guint     timeout;
} ConfabToolPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ConfabTool, confab_tool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_PARAMETERS,
  PROP_NEEDS_APPROVAL,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
confab_tool_finalize (GObject *object)
{
  ConfabTool *self = (ConfabTool *)object;
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_clear_pointer (&priv->name, g_free);
  g_clear_pointer (&priv->description, g_free);
  g_clear_pointer (&priv->parameters, json_node_unref);

  G_OBJECT_CLASS (confab_tool_parent_class)->finalize (object);
}

static void
confab_tool_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ConfabTool *self = CONFAB_TOOL (object);
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, priv->description);
      break;
    case PROP_PARAMETERS:
      g_value_set_boxed (value, priv->parameters);
      break;
    case PROP_NEEDS_APPROVAL:
      g_value_set_boolean (value, priv->needs_approval);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, priv->timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_tool_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  ConfabTool *self = CONFAB_TOOL (object);
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_NAME:
      priv->name = g_value_dup_string (value);
      break;
    case PROP_DESCRIPTION:
      priv->description = g_value_dup_string (value);
      break;
    case PROP_PARAMETERS:
      priv->parameters = g_value_dup_boxed (value);
      break;
    case PROP_NEEDS_APPROVAL:
      priv->needs_approval = g_value_get_boolean (value);
      break;
    case PROP_TIMEOUT:
      confab_tool_set_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_tool_constructed (GObject *object)
{
  ConfabTool *self = CONFAB_TOOL (object);
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  G_OBJECT_CLASS (confab_tool_parent_class)->constructed (object);

  g_assert (priv->name != NULL && priv->name[0] != '\0');
  if (priv->description == NULL)
    priv->description = g_strdup ("");
  if (priv->parameters == NULL)
    priv->parameters = confab_tool_schema_from_string ("{\"type\":\"object\",\"properties\":{}}");
}

static void
confab_tool_class_init (ConfabToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = confab_tool_constructed;
  object_class->finalize = confab_tool_finalize;
  object_class->get_property = confab_tool_get_property;
  object_class->set_property = confab_tool_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PARAMETERS] =
    g_param_spec_boxed ("parameters", NULL, NULL, JSON_TYPE_NODE,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NEEDS_APPROVAL] =
    g_param_spec_boolean ("needs-approval", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT / 1000, 60,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
confab_tool_init (ConfabTool *self)
{
}

const char *
confab_tool_get_name (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), NULL);
  return priv->name;
}

const char *
confab_tool_get_description (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), NULL);
  return priv->description;
}

JsonNode *
confab_tool_get_parameters (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), NULL);
  return priv->parameters;
}

gboolean
confab_tool_get_needs_approval (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), FALSE);
  return priv->needs_approval;
}

guint
confab_tool_get_timeout (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), 0);
  return priv->timeout;
}

void
confab_tool_set_timeout (ConfabTool *self,
                         guint       seconds)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_if_fail (CONFAB_IS_TOOL (self));

  if (priv->timeout != seconds)
    {
      priv->timeout = seconds;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
    }
}

ConfabToolSpec *
confab_tool_dup_spec (ConfabTool *self)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);

  g_return_val_if_fail (CONFAB_IS_TOOL (self), NULL);
  return confab_tool_spec_new (priv->name, priv->description, priv->parameters);
}

/* Running: the base class owns the timeout and the cancellation, so every
 * tool ends the same way when the user stops a turn or a tool hangs. */

typedef struct
{
  GCancellable *inner;
  GSource      *timeout_source;
  gulong        cancelled_id;
  GCancellable *outer;
  gboolean      returned;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;

  if (run->timeout_source != NULL)
    {
      g_source_destroy (run->timeout_source);
      g_source_unref (run->timeout_source);
    }
  if (run->outer != NULL)
    g_cancellable_disconnect (run->outer, run->cancelled_id);
  g_clear_object (&run->outer);
  g_clear_object (&run->inner);
  g_free (run);
}

static void
run_fail (GTask      *task,
          int         code,
          const char *message)
{
  /* The tool is told to stop; its late answer is dropped. */
  RunData *run = g_task_get_task_data (task);

  g_cancellable_cancel (run->inner);
  if (run->returned)
    return;
  run->returned = TRUE;
  g_task_return_new_error (task, CONFAB_ERROR, code, "%s", message);
}

static gboolean
run_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunData *run = g_task_get_task_data (task);
  ConfabTool *self = g_task_get_source_object (task);
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);
  g_autofree char *message = NULL;

  g_clear_pointer (&run->timeout_source, g_source_unref);
  if (!run->returned)
    {
      message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "The tool “%s” did not finish within %u second and was stopped",
                                              "The tool “%s” did not finish within %u seconds and was stopped",
                                              priv->timeout),
                                 priv->name, priv->timeout);
      run_fail (task, CONFAB_ERROR_TIMEOUT, message);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
run_cancelled_idle_cb (gpointer user_data)
{
  GTask *task = user_data;

  run_fail (task, CONFAB_ERROR_CANCELLED, _("Stopped"));
  return G_SOURCE_REMOVE;
}

static void
run_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  GTask *task = user_data;
  RunData *run = g_task_get_task_data (task);

  /* Stop the tool now (a subprocess dies here), report from an idle so the
   * caller's cancel() returns first. */
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_cancellable_cancel (run->inner);
  g_source_set_callback (idle, run_cancelled_idle_cb, g_object_ref (task), g_object_unref);
  g_source_set_static_name (idle, "[confab] tool cancelled");
  g_source_attach (idle, g_task_get_context (task));
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConfabTool *self = CONFAB_TOOL (object);
  g_autoptr(ConfabToolResult) tool_result = NULL;
  g_autoptr(GError) error = NULL;
  RunData *run = g_task_get_task_data (task);

  tool_result = CONFAB_TOOL_GET_CLASS (self)->run_finish (self, result, &error);

  /* A timeout or a cancellation already answered. */
  if (run->returned)
    return;
  run->returned = TRUE;

  if (tool_result == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped"));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&tool_result), g_object_unref);
}

void
confab_tool_run_async (ConfabTool          *self,
                       ConfabToolContext   *context,
                       JsonNode            *arguments,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  ConfabToolPrivate *priv = confab_tool_get_instance_private (self);
  g_autoptr(GTask) task = NULL;
  g_autoptr(ConfabToolContext) fallback_context = NULL;
  RunData *run;

  g_return_if_fail (CONFAB_IS_TOOL (self));
  g_return_if_fail (context == NULL || CONFAB_IS_TOOL_CONTEXT (context));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, confab_tool_run_async);
  /* The errors are ours: a cancelled task must still report
   * CONFAB_ERROR_CANCELLED, not GIO's. */
  g_task_set_check_cancellable (task, FALSE);

  if (arguments == NULL || !JSON_NODE_HOLDS_OBJECT (arguments))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                               _("The arguments for the tool “%s” are not a JSON object"), priv->name);
      return;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Stopped"));
      return;
    }

  if (context == NULL)
    context = fallback_context = confab_tool_context_new ();

  run = g_new0 (RunData, 1);
  run->inner = g_cancellable_new ();
  g_task_set_task_data (task, run, run_data_free);

  if (priv->timeout > 0)
    {
      run->timeout_source = g_timeout_source_new_seconds (priv->timeout);
      g_source_set_callback (run->timeout_source, run_timeout_cb, task, NULL);
      g_source_set_static_name (run->timeout_source, "[confab] tool timeout");
      g_source_attach (run->timeout_source, g_main_context_get_thread_default ());
    }
  if (cancellable != NULL)
    {
      run->outer = g_object_ref (cancellable);
      /* The handler holds no reference: run_data_free disconnects it
       * before the task goes. */
      run->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (run_cancelled_cb), task, NULL);
    }

  CONFAB_TOOL_GET_CLASS (self)->run_async (self, context, json_node_get_object (arguments), run->inner,
                                           run_done_cb, g_object_ref (task));
}

ConfabToolResult *
confab_tool_run_finish (ConfabTool    *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (CONFAB_IS_TOOL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Arguments */

static JsonNode *
get_member (JsonObject *arguments,
            const char *name)
{
  JsonNode *node = json_object_get_member (arguments, name);

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

const char *
confab_tool_get_string_arg (ConfabTool  *self,
                            JsonObject  *arguments,
                            const char  *name,
                            gboolean     required,
                            GError     **error)
{
  JsonNode *node = get_member (arguments, name);

  if (node == NULL)
    {
      if (required)
        g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                     _("The tool “%s” needs the argument “%s”"), confab_tool_get_name (self), name);
      return NULL;
    }
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("The argument “%s” of the tool “%s” must be a string"), name, confab_tool_get_name (self));
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
confab_tool_get_int_arg (ConfabTool  *self,
                         JsonObject  *arguments,
                         const char  *name,
                         gint64       fallback,
                         gint64      *value,
                         GError     **error)
{
  JsonNode *node = get_member (arguments, name);
  GType type;

  *value = fallback;
  if (node == NULL)
    return TRUE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *value = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE && json_node_get_double (node) == (double) (gint64) json_node_get_double (node))
    *value = (gint64) json_node_get_double (node);
  else
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("The argument “%s” of the tool “%s” must be a whole number"), name, confab_tool_get_name (self));
      return FALSE;
    }
  return TRUE;
}

gboolean
confab_tool_get_bool_arg (ConfabTool  *self,
                          JsonObject  *arguments,
                          const char  *name,
                          gboolean     fallback,
                          gboolean    *value,
                          GError     **error)
{
  JsonNode *node = get_member (arguments, name);

  *value = fallback;
  if (node == NULL)
    return TRUE;

  if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("The argument “%s” of the tool “%s” must be true or false"), name, confab_tool_get_name (self));
      return FALSE;
    }
  *value = json_node_get_boolean (node);
  return TRUE;
}

JsonNode *
confab_tool_schema_from_string (const char *json)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_error ("A built-in tool schema is not a JSON object: %s", error != NULL ? error->message : json);
  return node;
}
