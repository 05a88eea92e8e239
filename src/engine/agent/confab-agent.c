/* confab-agent.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "confab-agent.h"
#include "confab-error.h"
#include "confab-reply-recorder.h"

/* A turn is a loop of steps on the main loop, without threads of its own:
 *
 *   send → stream → tool calls? → approvals → run them all at once →
 *   results in the model's order → send again
 *
 * The tool phase is a countdown: every call starts as soon as it may (at
 * once, or when the user allows it) and the turn goes on when the last one
 * ends. Blocking tools run on GTask threads, commands in subprocesses, so
 * the loop itself only waits.
 */

/* Approvals */

struct _ConfabApproval
{
  GObject         parent_instance;

  ConfabToolCall *call;
  ConfabTool     *tool;
  ConfabMessage  *message;
  gboolean        resolved;

  /* Set by the agent; cleared once resolved. */
  void          (*answered) (ConfabApproval       *self,
                             ConfabApprovalAnswer  answer,
                             const char           *reason,
                             gpointer              data);
  gpointer        data;
};

G_DEFINE_FINAL_TYPE (ConfabApproval, confab_approval, G_TYPE_OBJECT)

enum {
  APPROVAL_RESOLVED,
  N_APPROVAL_SIGNALS
};

static guint approval_signals[N_APPROVAL_SIGNALS];

static void
confab_approval_finalize (GObject *object)
{
  ConfabApproval *self = (ConfabApproval *)object;

  g_clear_object (&self->call);
  g_clear_object (&self->tool);
  g_clear_object (&self->message);

  G_OBJECT_CLASS (confab_approval_parent_class)->finalize (object);
}

static void
confab_approval_class_init (ConfabApprovalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_approval_finalize;

  /**
   * ConfabApproval::resolved:
   *
   * The question was answered, or withdrawn because the turn stopped: a
   * card asking it can go.
   */
  approval_signals[APPROVAL_RESOLVED] =
    g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
confab_approval_init (ConfabApproval *self)
{
}

ConfabToolCall *
confab_approval_get_call (ConfabApproval *self)
{
  g_return_val_if_fail (CONFAB_IS_APPROVAL (self), NULL);
  return self->call;
}

ConfabTool *
confab_approval_get_tool (ConfabApproval *self)
{
  g_return_val_if_fail (CONFAB_IS_APPROVAL (self), NULL);
  return self->tool;
}

ConfabMessage *
confab_approval_get_message (ConfabApproval *self)
{
  g_return_val_if_fail (CONFAB_IS_APPROVAL (self), NULL);
  return self->message;
}

gboolean
confab_approval_get_resolved (ConfabApproval *self)
{
  g_return_val_if_fail (CONFAB_IS_APPROVAL (self), FALSE);
  return self->resolved;
}

void
confab_approval_answer (ConfabApproval       *self,
                        ConfabApprovalAnswer  answer,
                        const char           *reason)
{
  g_autoptr(ConfabApproval) hold = NULL;

  g_return_if_fail (CONFAB_IS_APPROVAL (self));

  if (self->resolved)
    return;

  hold = g_object_ref (self);
  self->resolved = TRUE;
  if (self->answered != NULL)
    self->answered (self, answer, reason, self->data);
  self->answered = NULL;
  self->data = NULL;
  g_signal_emit (self, approval_signals[APPROVAL_RESOLVED], 0);
}

/* Agents */

struct _ConfabAgent
{
  GObject            parent_instance;

  ConfabProvider    *provider;
  ConfabToolbox     *toolbox;
  ConfabToolContext *context;
  ConfabStore       *store;
  gint64             conversation_id;
  guint              max_steps;
  GHashTable        *allowed;
  GPtrArray         *messages;
  gint64             tool_time;
  /* What the server refused once, not asked of it again. */
  gboolean           server_refuses_tools;
  gboolean           server_cannot_stream_tools;
};

G_DEFINE_FINAL_TYPE (ConfabAgent, confab_agent, G_TYPE_OBJECT)

enum {
  MESSAGE_ADDED,
  MESSAGE_UPDATED,
  STEP_STARTED,
  TOOL_STARTED,
  APPROVAL_REQUESTED,
  SAVE_FAILED,
  NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
confab_agent_finalize (GObject *object)
{
  ConfabAgent *self = (ConfabAgent *)object;

  g_clear_object (&self->provider);
  g_clear_object (&self->toolbox);
  g_clear_object (&self->context);
  g_clear_object (&self->store);
  g_clear_pointer (&self->allowed, g_hash_table_unref);
  g_clear_pointer (&self->messages, g_ptr_array_unref);

  G_OBJECT_CLASS (confab_agent_parent_class)->finalize (object);
}

static void
confab_agent_class_init (ConfabAgentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_agent_finalize;

  /**
   * ConfabAgent::message-added:
   * @message: a reply about to stream, or a tool call's result (running
   *   or waiting for approval while its state is streaming)
   */
  signals[MESSAGE_ADDED] =
    g_signal_new ("message-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, CONFAB_TYPE_MESSAGE);

  /**
   * ConfabAgent::message-updated:
   * @message: a reply or tool result that reached its final state
   */
  signals[MESSAGE_UPDATED] =
    g_signal_new ("message-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, CONFAB_TYPE_MESSAGE);

  /**
   * ConfabAgent::step-started:
   * @message: the reply's message (stored, when there is a store)
   * @reply: what streams into it
   */
  signals[STEP_STARTED] =
    g_signal_new ("step-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, CONFAB_TYPE_MESSAGE, CONFAB_TYPE_REPLY);

  /**
   * ConfabAgent::tool-started:
   * @message: the tool call's result message; the tool runs from now on
   */
  signals[TOOL_STARTED] =
    g_signal_new ("tool-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, CONFAB_TYPE_MESSAGE);

  /**
   * ConfabAgent::approval-requested:
   * @approval: the question; answer it now or later with
   *   confab_approval_answer()
   *
   * A tool whose policy is to ask was called. Without a handler the call
   * is denied.
   */
  signals[APPROVAL_REQUESTED] =
    g_signal_new ("approval-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, CONFAB_TYPE_APPROVAL);

  /**
   * ConfabAgent::save-failed:
   * @message: why a step could not be stored
   *
   * The turn goes on (what the user sees is kept in memory).
   */
  signals[SAVE_FAILED] =
    g_signal_new ("save-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * ConfabAgent::notice:
   * @message: something the user should know that is not an error, such
   *   as a server that refused tools (the turn went on without them)
   */
  signals[NOTICE] =
    g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
confab_agent_init (ConfabAgent *self)
{
  self->max_steps = CONFAB_DEFAULT_MAX_STEPS;
  self->allowed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->messages = g_ptr_array_new_with_free_func (g_object_unref);
  self->context = confab_tool_context_new ();
}

ConfabAgent *
confab_agent_new (ConfabProvider *provider,
                  ConfabToolbox  *toolbox)
{
  ConfabAgent *self;

  g_return_val_if_fail (CONFAB_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (toolbox == NULL || CONFAB_IS_TOOLBOX (toolbox), NULL);

  self = g_object_new (CONFAB_TYPE_AGENT, NULL);
  self->provider = g_object_ref (provider);
  self->toolbox = toolbox != NULL ? g_object_ref (toolbox) : confab_toolbox_new ();
  return self;
}

ConfabProvider *
confab_agent_get_provider (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), NULL);
  return self->provider;
}

void
confab_agent_set_provider (ConfabAgent    *self,
                           ConfabProvider *provider)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (CONFAB_IS_PROVIDER (provider));

  g_set_object (&self->provider, provider);
}

ConfabToolbox *
confab_agent_get_toolbox (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), NULL);
  return self->toolbox;
}

ConfabToolContext *
confab_agent_get_context (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), NULL);
  return self->context;
}

void
confab_agent_set_context (ConfabAgent       *self,
                          ConfabToolContext *context)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (CONFAB_IS_TOOL_CONTEXT (context));

  g_set_object (&self->context, context);
}

guint
confab_agent_get_max_steps (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), 0);
  return self->max_steps;
}

void
confab_agent_set_max_steps (ConfabAgent *self,
                            guint        max_steps)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (max_steps > 0);

  self->max_steps = max_steps;
}

void
confab_agent_allow_tool (ConfabAgent *self,
                         const char  *name)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (name != NULL);

  g_hash_table_add (self->allowed, g_strdup (name));
}

void
confab_agent_forget_allowed_tools (ConfabAgent *self)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));

  g_hash_table_remove_all (self->allowed);
}

gboolean
confab_agent_is_tool_allowed (ConfabAgent *self,
                              const char  *name)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), FALSE);
  return name != NULL && g_hash_table_contains (self->allowed, name);
}

void
confab_agent_set_store (ConfabAgent *self,
                        ConfabStore *store,
                        gint64       conversation_id)
{
  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (store == NULL || CONFAB_IS_STORE (store));

  g_set_object (&self->store, store);
  self->conversation_id = store != NULL ? conversation_id : 0;
}

GPtrArray *
confab_agent_get_messages (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), NULL);
  return self->messages;
}

gint64
confab_agent_get_tool_time (ConfabAgent *self)
{
  g_return_val_if_fail (CONFAB_IS_AGENT (self), 0);
  return self->tool_time;
}

/* Turns */

typedef struct
{
  ConfabChatRequest *request;
  GCancellable      *cancellable;
  gint64             parent_id;
  guint              step;
  gboolean           stopped;

  /* The step streaming now: its run and its recording both end. */
  ConfabReply       *reply;
  ConfabMessage     *reply_message;
  ConfabMessageState reply_state;
  guint              reply_pending;
  guint              fallbacks;
  GError            *reply_error;

  /* The tool phase. */
  GPtrArray         *tool_messages;
  GPtrArray         *approvals;
  guint              tools_pending;
  guint              next_placeholder;
  gint64             tools_started;
  gulong             cancelled_id;
} Turn;

static void
turn_free (gpointer data)
{
  Turn *turn = data;

  g_assert (turn->cancelled_id == 0);
  g_clear_object (&turn->request);
  g_clear_object (&turn->cancellable);
  g_clear_object (&turn->reply);
  g_clear_object (&turn->reply_message);
  g_clear_error (&turn->reply_error);
  g_clear_pointer (&turn->tool_messages, g_ptr_array_unref);
  g_clear_pointer (&turn->approvals, g_ptr_array_unref);
  g_free (turn);
}

typedef struct
{
  GTask *task;
  guint  index;
} ToolClosure;

static void start_step (GTask *task);

static void
save_failed (ConfabAgent  *self,
             const GError *error)
{
  g_autofree char *message = g_strdup_printf (_("A step of the turn could not be saved: %s"), error->message);

  g_signal_emit (self, signals[SAVE_FAILED], 0, message);
}

static void
finish_turn (GTask              *task,
             ConfabAgentOutcome  outcome)
{
  Turn *turn = g_task_get_task_data (task);

  if (turn->cancelled_id != 0)
    {
      g_cancellable_disconnect (turn->cancellable, turn->cancelled_id);
      turn->cancelled_id = 0;
    }
  g_task_return_int (task, outcome);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ConfabAgent) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_finish_message_finish (CONFAB_STORE (object), result, &error))
    save_failed (self, error);
}

static void
store_final_state (ConfabAgent   *self,
                   ConfabMessage *message)
{
  if (self->store != NULL && confab_message_get_id (message) > 0)
    confab_store_finish_message_async (self->store, message, NULL, stored_cb, g_object_ref (self));
}

/* The tool phase */

static void
tools_done (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);

  self->tool_time += g_get_monotonic_time () - turn->tools_started;

  if (turn->cancelled_id != 0)
    {
      g_cancellable_disconnect (turn->cancellable, turn->cancelled_id);
      turn->cancelled_id = 0;
    }

  for (guint i = 0; i < turn->tool_messages->len; i++)
    confab_chat_request_add_message (turn->request, g_ptr_array_index (turn->tool_messages, i));
  g_clear_pointer (&turn->approvals, g_ptr_array_unref);
  g_clear_pointer (&turn->tool_messages, g_ptr_array_unref);

  if (turn->stopped || g_cancellable_is_cancelled (turn->cancellable))
    finish_turn (task, CONFAB_AGENT_STOPPED);
  else if (turn->step >= self->max_steps)
    finish_turn (task, CONFAB_AGENT_STEP_LIMIT);
  else
    start_step (task);
}

static void
finish_tool (GTask              *task,
             guint               index,
             const char         *text,
             gboolean            is_error,
             ConfabMessageState  state,
             JsonNode           *structured)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message = g_ptr_array_index (turn->tool_messages, index);

  g_assert (confab_message_get_state (message) == CONFAB_MESSAGE_STREAMING);

  confab_message_set_content (message, text);
  confab_message_set_tool_result_info (message, confab_message_get_tool_call_id (message),
                                       confab_message_get_tool_name (message), is_error);
  confab_message_set_state (message, state);
  confab_message_set_finished_at (message, g_get_real_time () / 1000);
  confab_message_set_structured (message, structured);

  store_final_state (self, message);
  g_signal_emit (self, signals[MESSAGE_UPDATED], 0, message);

  g_assert (turn->tools_pending > 0);
  if (--turn->tools_pending == 0)
    tools_done (task);
}

static void
tool_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ToolClosure *closure = user_data;
  g_autoptr(GTask) task = closure->task;
  guint index = closure->index;
  g_autoptr(ConfabToolResult) tool_result = NULL;
  g_autoptr(GError) error = NULL;

  g_free (closure);

  tool_result = confab_tool_run_finish (CONFAB_TOOL (object), result, &error);
  if (tool_result != NULL)
    finish_tool (task, index, confab_tool_result_get_text (tool_result),
                 confab_tool_result_get_is_error (tool_result), CONFAB_MESSAGE_COMPLETE,
                 confab_tool_result_get_structured (tool_result));
  else if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED))
    finish_tool (task, index, _("The user stopped the tool before it finished."), TRUE,
                 CONFAB_MESSAGE_STOPPED, NULL);
  else
    finish_tool (task, index, error->message, TRUE, CONFAB_MESSAGE_FAILED, NULL);
}

static void
run_tool (GTask      *task,
          guint       index,
          ConfabTool *tool)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message = g_ptr_array_index (turn->tool_messages, index);
  ConfabToolCall *call = confab_message_get_call (message);
  ToolClosure *closure = g_new0 (ToolClosure, 1);

  closure->task = g_object_ref (task);
  closure->index = index;

  g_signal_emit (self, signals[TOOL_STARTED], 0, message);

  confab_tool_run_async (tool, self->context, confab_tool_call_get_arguments (call), turn->cancellable,
                         tool_done_cb, closure);
}

static void
approval_answered (ConfabApproval       *approval,
                   ConfabApprovalAnswer  answer,
                   const char           *reason,
                   gpointer              data)
{
  ToolClosure *closure = data;
  g_autoptr(GTask) task = closure->task;
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  guint index = closure->index;
  const char *name = confab_tool_get_name (approval->tool);

  g_free (closure);

  if (turn->stopped || g_cancellable_is_cancelled (turn->cancellable))
    {
      finish_tool (task, index, _("The user stopped the turn before answering."), TRUE,
                   CONFAB_MESSAGE_STOPPED, NULL);
      return;
    }

  switch (answer)
    {
    case CONFAB_APPROVAL_ALLOW_ALWAYS:
      confab_agent_allow_tool (self, name);
      run_tool (task, index, approval->tool);
      /* The same tool's other questions of this turn are answered too. */
      if (turn->approvals != NULL)
        {
          g_autoptr(GPtrArray) others = g_ptr_array_copy (turn->approvals, (GCopyFunc) g_object_ref, NULL);

          g_ptr_array_set_free_func (others, g_object_unref);
          for (guint i = 0; i < others->len; i++)
            {
              ConfabApproval *other = g_ptr_array_index (others, i);

              if (other != approval && !other->resolved && g_str_equal (confab_tool_get_name (other->tool), name))
                confab_approval_answer (other, CONFAB_APPROVAL_ALLOW_ONCE, NULL);
            }
        }
      break;

    case CONFAB_APPROVAL_ALLOW_ONCE:
      run_tool (task, index, approval->tool);
      break;

    case CONFAB_APPROVAL_DENY:
    default:
      {
        g_autofree char *text = NULL;

        if (reason != NULL && reason[0] != '\0')
          text = g_strdup (reason);
        else
          text = g_strdup_printf (_("The user did not allow the tool “%s” to run."), name);
        finish_tool (task, index, text, TRUE, CONFAB_MESSAGE_COMPLETE, NULL);
      }
      break;
    }
}

static void
ask (GTask      *task,
     guint       index,
     ConfabTool *tool)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message = g_ptr_array_index (turn->tool_messages, index);
  g_autoptr(ConfabApproval) approval = g_object_new (CONFAB_TYPE_APPROVAL, NULL);
  ToolClosure *closure = g_new0 (ToolClosure, 1);

  closure->task = g_object_ref (task);
  closure->index = index;

  approval->call = g_object_ref (confab_message_get_call (message));
  approval->tool = g_object_ref (tool);
  approval->message = g_object_ref (message);
  approval->answered = approval_answered;
  approval->data = closure;
  g_ptr_array_add (turn->approvals, g_object_ref (approval));

  if (!g_signal_has_handler_pending (self, signals[APPROVAL_REQUESTED], 0, FALSE))
    {
      g_autofree char *reason = g_strdup_printf (_("The tool “%s” needs the user’s approval, and nobody could be asked."),
                                                 confab_tool_get_name (tool));

      confab_approval_answer (approval, CONFAB_APPROVAL_DENY, reason);
      return;
    }

  g_signal_emit (self, signals[APPROVAL_REQUESTED], 0, approval);
}

static gboolean
withdraw_approvals_cb (gpointer user_data)
{
  GTask *task = user_data;
  Turn *turn = g_task_get_task_data (task);

  /* Each answer may end the phase (and free the array). */
  while (turn->approvals != NULL && turn->approvals->len > 0)
    {
      g_autoptr(ConfabApproval) approval = g_ptr_array_steal_index (turn->approvals, 0);

      confab_approval_answer (approval, CONFAB_APPROVAL_DENY, NULL);
    }
  return G_SOURCE_REMOVE;
}

static void
tool_phase_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  GTask *task = user_data;
  Turn *turn = g_task_get_task_data (task);
  g_autoptr(GSource) idle = g_idle_source_new ();

  /* Running tools see the cancellable themselves; questions still open
   * are withdrawn from the main loop. */
  turn->stopped = TRUE;
  g_source_set_callback (idle, withdraw_approvals_cb, g_object_ref (task), g_object_unref);
  g_source_set_static_name (idle, "[confab] withdraw approvals");
  g_source_attach (idle, g_task_get_context (task));
}

static void
launch_tools (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  guint n = turn->tool_messages->len;

  turn->tools_started = g_get_monotonic_time ();
  turn->approvals = g_ptr_array_new_with_free_func (g_object_unref);

  /* One extra count, so a call that ends at once can't end the phase
   * while the others are being started. */
  turn->tools_pending = n + 1;

  if (turn->cancellable != NULL)
    turn->cancelled_id = g_cancellable_connect (turn->cancellable, G_CALLBACK (tool_phase_cancelled_cb), task, NULL);

  for (guint i = 0; i < n; i++)
    {
      ConfabMessage *message = g_ptr_array_index (turn->tool_messages, i);
      ConfabToolCall *call = confab_message_get_call (message);
      const char *name = confab_tool_call_get_name (call);
      ConfabTool *tool = confab_toolbox_lookup (self->toolbox, name);
      const GError *arguments_error = confab_tool_call_get_arguments_error (call);
      g_autofree char *text = NULL;

      if (turn->stopped)
        finish_tool (task, i, _("The user stopped the turn before the tool started."), TRUE,
                     CONFAB_MESSAGE_STOPPED, NULL);
      else if (arguments_error != NULL)
        finish_tool (task, i, arguments_error->message, TRUE, CONFAB_MESSAGE_FAILED, NULL);
      else if (tool == NULL)
        {
          text = g_strdup_printf (_("There is no tool named “%s”."), name);
          finish_tool (task, i, text, TRUE, CONFAB_MESSAGE_FAILED, NULL);
        }
      else
        switch (confab_toolbox_get_policy (self->toolbox, name))
          {
          case CONFAB_TOOL_POLICY_NEVER:
            text = g_strdup_printf (_("The user does not allow the tool “%s”."), name);
            finish_tool (task, i, text, TRUE, CONFAB_MESSAGE_COMPLETE, NULL);
            break;
          case CONFAB_TOOL_POLICY_ASK:
            if (!confab_agent_is_tool_allowed (self, name))
              {
                ask (task, i, tool);
                break;
              }
            G_GNUC_FALLTHROUGH;
          case CONFAB_TOOL_POLICY_ALLOW:
          default:
            run_tool (task, i, tool);
            break;
          }
    }

  if (--turn->tools_pending == 0)
    tools_done (task);
}

static void store_next_placeholder (GTask *task);

static void
placeholder_stored_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message = g_ptr_array_index (turn->tool_messages, turn->next_placeholder);
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = confab_store_add_message_finish (CONFAB_STORE (object), result, &error);
  if (id == 0)
    {
      /* The rest of the turn is not chained to a message that isn't
       * there: it goes on in memory only. */
      save_failed (self, error);
      launch_tools (task);
      return;
    }

  confab_message_set_id (message, id);
  turn->parent_id = id;
  turn->next_placeholder++;
  store_next_placeholder (task);
}

/* Places for the results, in the model's order, before any tool runs: a
 * crash while they run keeps the calls and shows which never ended. */
static void
store_next_placeholder (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message;

  if (self->store == NULL || turn->next_placeholder >= turn->tool_messages->len)
    {
      launch_tools (task);
      return;
    }

  message = g_ptr_array_index (turn->tool_messages, turn->next_placeholder);
  confab_message_set_parent_id (message, turn->parent_id);
  confab_store_add_message_async (self->store, self->conversation_id, message, NULL,
                                  placeholder_stored_cb, g_object_ref (task));
}

static void
start_tool_phase (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  GPtrArray *calls = confab_message_get_tool_calls (turn->reply_message);

  turn->tool_messages = g_ptr_array_new_with_free_func (g_object_unref);
  turn->next_placeholder = 0;

  for (guint i = 0; i < calls->len; i++)
    {
      ConfabToolCall *call = g_ptr_array_index (calls, i);
      ConfabMessage *message = confab_message_new_tool_result (call, "", FALSE);

      confab_message_set_state (message, CONFAB_MESSAGE_STREAMING);
      confab_message_set_created_at (message, g_get_real_time () / 1000);
      g_ptr_array_add (turn->tool_messages, message);
      g_ptr_array_add (self->messages, g_object_ref (message));
      g_signal_emit (self, signals[MESSAGE_ADDED], 0, message);
    }

  store_next_placeholder (task);
}

/* The reply of a step */

static void begin_reply (GTask *task);

/* Servers that take no tools, or cannot stream a reply with tools (older
 * llama.cpp: "Cannot use tools with stream"), say so with an error before
 * any output. The step is asked again without what they refused, once
 * each, and the agent remembers for its next turns. */
static gboolean
try_without_what_was_refused (ConfabAgent *self,
                              Turn        *turn)
{
  ConfabMessage *message = turn->reply_message;
  g_autofree char *lower = NULL;

  if (turn->fallbacks >= 2 || confab_chat_request_get_tools (turn->request)->len == 0 ||
      confab_message_get_content (message)[0] != '\0' || confab_message_get_tool_calls (message)->len > 0 ||
      !(g_error_matches (turn->reply_error, CONFAB_ERROR, CONFAB_ERROR_SERVER) ||
        g_error_matches (turn->reply_error, CONFAB_ERROR, CONFAB_ERROR_BAD_REQUEST)))
    return FALSE;

  /* What servers say when they won't take tools: Ollama "does not
   * support tools", llama.cpp "tools param requires --jinja flag" and
   * "Cannot use tools with stream", vLLM "tool choice requires
   * --enable-auto-tool-choice". Any other error is the turn's. */
  lower = g_utf8_strdown (turn->reply_error->message, -1);
  if (strstr (lower, "tool") == NULL ||
      (strstr (lower, "support") == NULL && strstr (lower, "requires") == NULL &&
       strstr (lower, "cannot use tools") == NULL && strstr (lower, "not enabled") == NULL))
    return FALSE;

  turn->fallbacks++;
  if (strstr (lower, "stream") != NULL && confab_chat_request_get_stream (turn->request))
    {
      self->server_cannot_stream_tools = TRUE;
      confab_chat_request_set_stream (turn->request, FALSE);
      return TRUE;
    }

  self->server_refuses_tools = TRUE;
  confab_chat_request_clear_tools (turn->request);
  confab_chat_request_set_stream (turn->request, TRUE);
  {
    g_autofree char *notice = g_strdup_printf (_("The server does not take tools (%s); the model answers without them."),
                                               turn->reply_error->message);
    g_signal_emit (self, signals[NOTICE], 0, notice);
  }
  return TRUE;
}

static void
reply_part_done (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message = turn->reply_message;

  if (--turn->reply_pending > 0)
    return;

  if (turn->reply_error != NULL && try_without_what_was_refused (self, turn))
    {
      /* Same step, same message: asked again in a form the server takes. */
      g_clear_error (&turn->reply_error);
      confab_message_set_error (message, NULL);
      begin_reply (task);
      return;
    }

  confab_message_set_state (message, turn->reply_state);
  g_signal_emit (self, signals[MESSAGE_UPDATED], 0, message);

  /* A reply worth sending back: the model's own words and calls. */
  if (confab_message_get_state (message) == CONFAB_MESSAGE_COMPLETE ||
      confab_message_get_tool_calls (message)->len > 0 ||
      confab_message_get_content (message)[0] != '\0')
    confab_chat_request_add_message (turn->request, message);

  if (turn->reply_error != NULL)
    {
      if (turn->cancelled_id != 0)
        {
          g_cancellable_disconnect (turn->cancellable, turn->cancelled_id);
          turn->cancelled_id = 0;
        }
      g_task_return_error (task, g_steal_pointer (&turn->reply_error));
      return;
    }
  if (confab_message_get_state (message) == CONFAB_MESSAGE_STOPPED)
    {
      finish_turn (task, CONFAB_AGENT_STOPPED);
      return;
    }
  /* Without tools nothing was offered: calls the model makes anyway end
   * the turn as they are, for the caller to show. */
  if (confab_message_get_tool_calls (message)->len == 0 || confab_chat_request_get_tools (turn->request)->len == 0)
    {
      finish_turn (task, CONFAB_AGENT_FINAL);
      return;
    }

  start_tool_phase (task);
}

static void
record_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!confab_store_record_reply_finish (CONFAB_STORE (object), result, &error))
    save_failed (g_task_get_source_object (task), error);
  reply_part_done (task);
}

static void
reply_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Turn *turn = g_task_get_task_data (task);
  ConfabReply *reply = CONFAB_REPLY (object);
  ConfabMessage *message = turn->reply_message;
  const ConfabUsage *usage = confab_reply_get_usage (reply);
  GPtrArray *calls = confab_reply_get_tool_calls (reply);
  g_autoptr(GError) error = NULL;

  confab_message_set_content (message, confab_reply_get_text (reply));
  confab_message_set_reasoning (message, confab_reply_get_reasoning (reply));
  if (confab_message_get_tool_calls (message)->len == 0)
    for (guint i = 0; i < calls->len; i++)
      confab_message_add_tool_call (message, g_ptr_array_index (calls, i));
  confab_message_set_usage (message, usage->prompt_tokens, usage->completion_tokens);
  confab_message_set_finished_at (message, g_get_real_time () / 1000);

  /* The state is the message's once the recording ended too: a message
   * that shows as finished is on disk. */
  if (confab_reply_run_finish (reply, result, &error))
    turn->reply_state = CONFAB_MESSAGE_COMPLETE;
  else if (g_error_matches (error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED))
    {
      turn->stopped = TRUE;
      turn->reply_state = CONFAB_MESSAGE_STOPPED;
    }
  else
    {
      turn->reply_state = CONFAB_MESSAGE_FAILED;
      confab_message_set_error (message, error->message);
      turn->reply_error = g_steal_pointer (&error);
    }

  /* Calls of a reply that did not end are not run. */
  if (turn->reply_state != CONFAB_MESSAGE_COMPLETE)
    g_ptr_array_set_size (confab_message_get_tool_calls (message), 0);

  reply_part_done (task);
}

static void
begin_reply (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);

  g_clear_object (&turn->reply);
  turn->reply = confab_reply_new (self->provider, turn->request);
  turn->reply_pending = 1;

  g_signal_emit (self, signals[STEP_STARTED], 0, turn->reply_message, turn->reply);

  if (self->store != NULL && confab_message_get_id (turn->reply_message) > 0)
    {
      turn->reply_pending++;
      confab_store_record_reply_async (self->store, turn->reply, confab_message_get_id (turn->reply_message),
                                       NULL, record_done_cb, g_object_ref (task));
    }
  confab_reply_run_async (turn->reply, turn->cancellable, reply_done_cb, g_object_ref (task));
}

static void
reply_stored_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Turn *turn = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = confab_store_add_message_finish (CONFAB_STORE (object), result, &error);
  if (id == 0)
    save_failed (g_task_get_source_object (task), error);
  else
    {
      confab_message_set_id (turn->reply_message, id);
      turn->parent_id = id;
    }
  begin_reply (task);
}

static void
start_step (GTask *task)
{
  ConfabAgent *self = g_task_get_source_object (task);
  Turn *turn = g_task_get_task_data (task);
  ConfabMessage *message;

  if (g_cancellable_is_cancelled (turn->cancellable))
    {
      finish_turn (task, CONFAB_AGENT_STOPPED);
      return;
    }

  turn->step++;

  message = confab_message_new (CONFAB_ROLE_ASSISTANT, "");
  confab_message_set_state (message, CONFAB_MESSAGE_STREAMING);
  confab_message_set_model (message, confab_chat_request_get_model (turn->request));
  confab_message_set_created_at (message, g_get_real_time () / 1000);
  confab_message_set_parent_id (message, turn->parent_id);
  g_clear_object (&turn->reply_message);
  turn->reply_message = message;
  g_ptr_array_add (self->messages, g_object_ref (message));
  g_signal_emit (self, signals[MESSAGE_ADDED], 0, message);

  if (self->store != NULL)
    confab_store_add_message_async (self->store, self->conversation_id, message, NULL,
                                    reply_stored_cb, g_object_ref (task));
  else
    begin_reply (task);
}

void
confab_agent_run_async (ConfabAgent         *self,
                        ConfabChatRequest   *request,
                        gint64               parent_id,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Turn *turn;

  g_return_if_fail (CONFAB_IS_AGENT (self));
  g_return_if_fail (CONFAB_IS_CHAT_REQUEST (request));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_agent_run_async);
  /* A stopped turn is an outcome, not an error. */
  g_task_set_check_cancellable (task, FALSE);

  turn = g_new0 (Turn, 1);
  turn->request = g_object_ref (request);
  turn->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  turn->parent_id = parent_id;
  g_task_set_task_data (task, turn, turn_free);

  g_ptr_array_set_size (self->messages, 0);
  self->tool_time = 0;

  /* The model is told about every tool the user did not forbid, unless
   * its server refused tools before. */
  if (confab_chat_request_get_tools (request)->len == 0 && !self->server_refuses_tools)
    {
      g_autoptr(GPtrArray) specs = confab_toolbox_dup_specs (self->toolbox);

      for (guint i = 0; i < specs->len; i++)
        confab_chat_request_add_tool (request, g_ptr_array_index (specs, i));
    }
  if (self->server_cannot_stream_tools && confab_chat_request_get_tools (request)->len > 0)
    confab_chat_request_set_stream (request, FALSE);

  start_step (task);
}

gboolean
confab_agent_run_finish (ConfabAgent         *self,
                         GAsyncResult        *result,
                         ConfabAgentOutcome  *outcome,
                         GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize value;

  g_return_val_if_fail (CONFAB_IS_AGENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  value = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (outcome != NULL)
    *outcome = (ConfabAgentOutcome) value;
  return TRUE;
}
