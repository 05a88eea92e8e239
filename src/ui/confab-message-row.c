/* confab-message-row.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "confab-long-text.h"
#include "confab-markdown-view.h"
#include "confab-message-row.h"

/* One message of the chat. A reply that is still streaming is followed
 * through its ConfabReply: every delta goes to the Markdown view, which
 * renders at most once per frame. Rows are recycled by the list view, so
 * binding and unbinding are cheap and complete. */
struct _ConfabMessageRow
{
  GtkWidget           parent_instance;

  ConfabMessage      *message;
  ConfabReply        *reply;
  gulong              reply_handler;
  guint               reasoning_tick;

  GtkLabel           *role_label;
  GtkLabel           *time_label;
  GtkSpinner         *spinner;
  GtkExpander        *reasoning_expander;
  ConfabLongText     *reasoning_label;
  ConfabLongText     *user_label;
  ConfabMarkdownView *markdown_view;
  GtkLabel           *tool_calls_label;
  GtkLabel           *status_label;
  GtkButton          *retry_button;
  GtkWidget          *branch_box;
  GtkLabel           *branch_label;
  GtkButton          *previous_button;
  GtkButton          *next_button;
  GtkButton          *copy_button;
  GtkWidget          *approval_box;
  GtkLabel           *approval_label;
  GtkButton          *allow_once_button;
  GtkButton          *allow_always_button;
  GtkButton          *deny_button;
  GtkExpander        *output_expander;
  ConfabLongText     *output_label;
};

G_DEFINE_FINAL_TYPE (ConfabMessageRow, confab_message_row, GTK_TYPE_WIDGET)

#define LIVE_REPLY_KEY "confab-live-reply"

void
confab_message_set_live_reply (ConfabMessage *message,
                               ConfabReply   *reply)
{
  g_object_set_data_full (G_OBJECT (message), LIVE_REPLY_KEY,
                          reply != NULL ? g_object_ref (reply) : NULL, g_object_unref);
}

ConfabReply *
confab_message_get_live_reply (ConfabMessage *message)
{
  return g_object_get_data (G_OBJECT (message), LIVE_REPLY_KEY);
}

#define APPROVAL_KEY "confab-approval"

void
confab_message_set_approval (ConfabMessage  *message,
                             ConfabApproval *approval)
{
  g_object_set_data_full (G_OBJECT (message), APPROVAL_KEY,
                          approval != NULL ? g_object_ref (approval) : NULL, g_object_unref);
}

ConfabApproval *
confab_message_get_approval (ConfabMessage *message)
{
  ConfabApproval *approval = g_object_get_data (G_OBJECT (message), APPROVAL_KEY);

  return approval != NULL && !confab_approval_get_resolved (approval) ? approval : NULL;
}

static char *
format_duration (gint64 ms)
{
  if (ms < 1000)
    /* Translators: a duration in milliseconds */
    return g_strdup_printf (_("%lld ms"), (long long) ms);
  /* Translators: a duration in seconds */
  return g_strdup_printf (_("%.1f s"), ms / 1000.0);
}

/* How a tool call reads on its card: the full command for a shell
 * command, the arguments as JSON otherwise. */
static char *
describe_call (ConfabToolCall *call)
{
  JsonNode *arguments = confab_tool_call_get_arguments (call);

  if (arguments != NULL && JSON_NODE_HOLDS_OBJECT (arguments) &&
      g_str_equal (confab_tool_call_get_name (call), "run_command"))
    {
      const char *command = json_object_get_string_member_with_default (json_node_get_object (arguments),
                                                                        "command", NULL);
      if (command != NULL)
        return g_strdup_printf ("$ %s", command);
    }
  return confab_tool_call_dup_arguments_json (call);
}

static void
show_tool (ConfabMessageRow *self,
           ConfabMessage    *message)
{
  ConfabToolCall *call = confab_message_get_call (message);
  ConfabApproval *approval = confab_message_get_approval (message);
  ConfabMessageState state = confab_message_get_state (message);
  const char *content = confab_message_get_content (message);
  gboolean is_error = confab_message_get_is_error (message);
  gint64 ms = confab_message_get_finished_at (message) - confab_message_get_created_at (message);
  g_autofree char *status = NULL;
  g_autofree char *duration = format_duration (MAX (ms, 0));

  gtk_label_set_text (self->role_label, confab_message_get_tool_name (message) != NULL
                                        ? confab_message_get_tool_name (message) : _("Tool"));

  if (state == CONFAB_MESSAGE_STREAMING && approval != NULL)
    status = g_strdup (_("Waiting for your approval"));
  else if (state == CONFAB_MESSAGE_STREAMING)
    status = g_strdup (_("Running…"));
  else if (state == CONFAB_MESSAGE_STOPPED)
    status = g_strdup (_("Stopped"));
  else if (is_error)
    /* Translators: %s is a duration such as “1.2 s” */
    status = g_strdup_printf (_("Failed after %s"), duration);
  else
    /* Translators: %s is a duration such as “1.2 s” */
    status = g_strdup_printf (_("Done in %s"), duration);
  gtk_label_set_text (self->time_label, status);

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), state == CONFAB_MESSAGE_STREAMING && approval == NULL);
  if (state == CONFAB_MESSAGE_STREAMING && approval == NULL)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);

  if (call != NULL)
    {
      g_autofree char *text = describe_call (call);

      gtk_label_set_text (self->tool_calls_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->tool_calls_label), TRUE);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->tool_calls_label), FALSE);

  gtk_widget_set_visible (self->approval_box, approval != NULL);
  if (approval != NULL)
    {
      /* Translators: asked before a tool runs; %s is its name */
      g_autofree char *question = g_strdup_printf (_("Allow “%s” to run?"),
                                                   confab_tool_get_name (confab_approval_get_tool (approval)));
      gtk_label_set_text (self->approval_label, question);
    }

  /* The output stays folded unless it says what went wrong. */
  gtk_widget_set_visible (GTK_WIDGET (self->output_expander), content[0] != '\0');
  confab_long_text_set_text (self->output_label, content);
  gtk_expander_set_expanded (self->output_expander, is_error && state != CONFAB_MESSAGE_STREAMING);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->output_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->output_label), "error");

  gtk_widget_set_visible (GTK_WIDGET (self->user_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->markdown_view), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->reasoning_expander), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->retry_button), FALSE);
}

static char *
format_time (gint64 unix_ms)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (unix_ms <= 0)
    return g_strdup ("");
  utc = g_date_time_new_from_unix_utc (unix_ms / 1000);
  local = g_date_time_to_local (utc);
  /* Translators: the time a message was written, see strftime(3) */
  return g_date_time_format (local, _("%H:%M"));
}

static void
update_reasoning (ConfabMessageRow *self,
                  const char       *reasoning)
{
  gboolean has = reasoning != NULL && reasoning[0] != '\0';

  gtk_widget_set_visible (GTK_WIDGET (self->reasoning_expander), has);
  confab_long_text_set_text (self->reasoning_label, has ? reasoning : "");
}

static void
update_tool_calls (ConfabMessageRow *self,
                   GPtrArray        *calls)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; calls != NULL && i < calls->len; i++)
    {
      ConfabToolCall *call = g_ptr_array_index (calls, i);
      g_autofree char *arguments = confab_tool_call_dup_arguments_json (call);

      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text, "%s %s", confab_tool_call_get_name (call), arguments);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->tool_calls_label), text->len > 0);
  gtk_label_set_text (self->tool_calls_label, text->str);
}

static void
update_status (ConfabMessageRow *self)
{
  ConfabMessageState state = confab_message_get_state (self->message);
  g_autofree char *text = NULL;

  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "dim-label");

  if (state == CONFAB_MESSAGE_FAILED)
    {
      text = g_strdup_printf (_("The reply failed: %s"),
                              confab_message_get_error (self->message) != NULL
                              ? confab_message_get_error (self->message) : _("unknown error"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
    }
  else if (state == CONFAB_MESSAGE_STOPPED)
    {
      text = g_strdup (_("Stopped"));
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "dim-label");
    }

  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  /* A failed reply can be asked for again; the failed one stays as a
   * branch of the conversation. */
  gtk_widget_set_visible (GTK_WIDGET (self->retry_button), state == CONFAB_MESSAGE_FAILED);
}

static gboolean
reasoning_tick_cb (GtkWidget     *widget,
                   GdkFrameClock *frame_clock,
                   gpointer       user_data)
{
  ConfabMessageRow *self = CONFAB_MESSAGE_ROW (widget);

  self->reasoning_tick = 0;
  if (self->reply != NULL)
    update_reasoning (self, confab_reply_get_reasoning (self->reply));
  return G_SOURCE_REMOVE;
}

static void
reply_event_cb (ConfabReply       *reply,
                const ConfabEvent *event,
                ConfabMessageRow  *self)
{
  switch (event->type)
    {
    case CONFAB_EVENT_TEXT_DELTA:
      confab_markdown_view_append (self->markdown_view, event->text, event->text_len);
      break;

    case CONFAB_EVENT_REASONING_DELTA:
      /* Reasoning is shown whole in an expander: its text is set at most
       * once per frame, however fast the deltas come. */
      if (self->reasoning_tick == 0)
        self->reasoning_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), reasoning_tick_cb, NULL, NULL);
      break;

    case CONFAB_EVENT_TOOL_CALL:
      update_tool_calls (self, confab_reply_get_tool_calls (reply));
      break;

    case CONFAB_EVENT_USAGE:
      break;

    case CONFAB_EVENT_FINISHED:
    case CONFAB_EVENT_ERROR:
    default:
      gtk_spinner_stop (self->spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
      break;
    }
}

static void
unbind_reply (ConfabMessageRow *self)
{
  if (self->reasoning_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->reasoning_tick);
  self->reasoning_tick = 0;
  if (self->reply != NULL)
    g_clear_signal_handler (&self->reply_handler, self->reply);
  g_clear_object (&self->reply);
}

static void
confab_message_row_dispose (GObject *object)
{
  ConfabMessageRow *self = (ConfabMessageRow *)object;
  GtkWidget *child;

  unbind_reply (self);
  g_clear_object (&self->message);
  gtk_widget_dispose_template (GTK_WIDGET (self), CONFAB_TYPE_MESSAGE_ROW);
  /* Children the template does not name (the header box) go too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (confab_message_row_parent_class)->dispose (object);
}

static void
confab_message_row_class_init (ConfabMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = confab_message_row_dispose;

  g_type_ensure (CONFAB_TYPE_LONG_TEXT);
  g_type_ensure (CONFAB_TYPE_MARKDOWN_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/confab/Confab/ui/confab-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, role_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, reasoning_expander);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, reasoning_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, user_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, markdown_view);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, tool_calls_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, branch_box);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, branch_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, previous_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, next_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, approval_box);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, approval_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, allow_once_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, allow_always_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, deny_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, output_expander);
  gtk_widget_class_bind_template_child (widget_class, ConfabMessageRow, output_label);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
copy_clicked_cb (GtkButton        *button,
                 ConfabMessageRow *self)
{
  ConfabReply *live;

  if (self->message == NULL)
    return;

  live = confab_message_get_live_reply (self->message);
  /* A tool's card copies its output. */
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          live != NULL ? confab_reply_get_text (live) : confab_message_get_content (self->message));
}

static void
answer (ConfabMessageRow     *self,
        ConfabApprovalAnswer  reply)
{
  ConfabApproval *approval = self->message != NULL ? confab_message_get_approval (self->message) : NULL;

  /* The agent reports back through the message: the card updates then. */
  if (approval != NULL)
    confab_approval_answer (approval, reply, NULL);
}

static void
allow_once_clicked_cb (GtkButton        *button,
                       ConfabMessageRow *self)
{
  answer (self, CONFAB_APPROVAL_ALLOW_ONCE);
}

static void
allow_always_clicked_cb (GtkButton        *button,
                         ConfabMessageRow *self)
{
  answer (self, CONFAB_APPROVAL_ALLOW_ALWAYS);
}

static void
deny_clicked_cb (GtkButton        *button,
                 ConfabMessageRow *self)
{
  answer (self, CONFAB_APPROVAL_DENY);
}

static void
confab_message_row_init (ConfabMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* Titles of the windows their Show All buttons open. */
  confab_long_text_set_title (self->user_label, _("Message"));
  confab_long_text_set_title (self->reasoning_label, _("Reasoning"));
  confab_long_text_set_title (self->output_label, _("Tool Output"));
  g_signal_connect (self->copy_button, "clicked", G_CALLBACK (copy_clicked_cb), self);
  g_signal_connect (self->allow_once_button, "clicked", G_CALLBACK (allow_once_clicked_cb), self);
  g_signal_connect (self->allow_always_button, "clicked", G_CALLBACK (allow_always_clicked_cb), self);
  g_signal_connect (self->deny_button, "clicked", G_CALLBACK (deny_clicked_cb), self);
}

GtkWidget *
confab_message_row_new (void)
{
  return g_object_new (CONFAB_TYPE_MESSAGE_ROW, NULL);
}

ConfabMessage *
confab_message_row_get_message (ConfabMessageRow *self)
{
  g_return_val_if_fail (CONFAB_IS_MESSAGE_ROW (self), NULL);
  return self->message;
}

/**
 * confab_message_row_set_message:
 * @message: (nullable): the message to show
 *
 * Shows @message; when a reply is still streaming into it, follows it.
 */
void
confab_message_row_set_message (ConfabMessageRow *self,
                                ConfabMessage    *message)
{
  ConfabRole role;
  ConfabReply *reply;
  g_autofree char *time = NULL;
  gboolean assistant;
  gboolean was_live;

  g_return_if_fail (CONFAB_IS_MESSAGE_ROW (self));

  /* A reply that just finished in this row is on screen already: its
   * view keeps what it rendered instead of parsing it all again. */
  was_live = message != NULL && message == self->message && self->reply != NULL;

  unbind_reply (self);
  g_set_object (&self->message, message);
  gtk_widget_set_visible (self->branch_box, FALSE);
  if (message == NULL)
    return;

  role = confab_message_get_role (message);
  assistant = role == CONFAB_ROLE_ASSISTANT;
  gtk_widget_remove_css_class (GTK_WIDGET (self), "user");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "assistant");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "tool");
  gtk_widget_add_css_class (GTK_WIDGET (self), assistant ? "assistant" : role == CONFAB_ROLE_TOOL ? "tool" : "user");
  gtk_widget_set_visible (self->approval_box, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->output_expander), FALSE);

  if (role == CONFAB_ROLE_TOOL)
    {
      show_tool (self, message);
      return;
    }

  switch (role)
    {
    case CONFAB_ROLE_USER: gtk_label_set_text (self->role_label, _("You")); break;
    case CONFAB_ROLE_ASSISTANT: gtk_label_set_text (self->role_label, _("Assistant")); break;
    case CONFAB_ROLE_SYSTEM: gtk_label_set_text (self->role_label, _("System")); break;
    case CONFAB_ROLE_TOOL: gtk_label_set_text (self->role_label, _("Tool result")); break;
    default: break;
    }

  time = format_time (confab_message_get_created_at (message));
  {
    gint64 completion_tokens = -1;
    gint64 elapsed_ms = confab_message_get_finished_at (message) - confab_message_get_created_at (message);
    g_autofree char *footer = NULL;

    /* A subtle line for replies: how long, how fast. */
    confab_message_get_usage (message, NULL, &completion_tokens);
    if (assistant && completion_tokens > 0 && confab_message_get_finished_at (message) > 0 && elapsed_ms > 0)
      /* Translators: time, number of tokens, tokens per second */
      footer = g_strdup_printf (_("%s · %lld tokens · %.1f tokens/s"), time, (long long)completion_tokens,
                                completion_tokens * 1000.0 / elapsed_ms);
    gtk_label_set_text (self->time_label, footer != NULL ? footer : time);
  }

  gtk_widget_set_visible (GTK_WIDGET (self->user_label), !assistant);
  gtk_widget_set_visible (GTK_WIDGET (self->markdown_view), assistant);

  reply = confab_message_get_live_reply (message);
  if (assistant && reply != NULL)
    {
      /* What arrived before this row was bound, then the rest as it comes. */
      self->reply = g_object_ref (reply);
      self->reply_handler = g_signal_connect (reply, "event", G_CALLBACK (reply_event_cb), self);
      confab_markdown_view_load_text (self->markdown_view, confab_reply_get_text (reply), FALSE);
      update_reasoning (self, confab_reply_get_reasoning (reply));
      update_tool_calls (self, confab_reply_get_tool_calls (reply));
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
      gtk_spinner_start (self->spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->retry_button), FALSE);
      return;
    }

  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);

  if (assistant && was_live &&
      g_str_equal (confab_markdown_view_get_text (self->markdown_view), confab_message_get_content (message)))
    confab_markdown_view_finish (self->markdown_view);
  else if (assistant)
    /* A long stored reply must not hold the window while a chat opens. */
    confab_markdown_view_load_text (self->markdown_view, confab_message_get_content (message), TRUE);
  else
    confab_long_text_set_text (self->user_label, confab_message_get_content (message));

  update_reasoning (self, confab_message_get_reasoning (message));
  update_tool_calls (self, confab_message_get_tool_calls (message));
  update_status (self);
}

/**
 * confab_message_row_set_versions:
 * @versions: (element-type gint64): the ids of the message's versions
 *   (itself and its siblings), oldest first
 *
 * Shows ‹ i/n › to switch between the versions of the message when there
 * is more than one; the buttons activate win.switch-branch.
 */
void
confab_message_row_set_versions (ConfabMessageRow *self,
                                 GArray           *versions)
{
  gint64 id;
  guint index = 0;
  g_autofree char *text = NULL;

  g_return_if_fail (CONFAB_IS_MESSAGE_ROW (self));

  if (self->message == NULL || versions == NULL || versions->len < 2)
    {
      gtk_widget_set_visible (self->branch_box, FALSE);
      return;
    }

  id = confab_message_get_id (self->message);
  for (guint i = 0; i < versions->len; i++)
    if (g_array_index (versions, gint64, i) == id)
      index = i;

  /* Translators: which version of a message is shown, "2/3" */
  text = g_strdup_printf (_("%u/%u"), index + 1, versions->len);
  gtk_label_set_text (self->branch_label, text);

  /* The target first: an action name without its target would not match
   * the action's parameter type. */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->previous_button), "x",
                                    g_array_index (versions, gint64, index > 0 ? index - 1 : 0));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->previous_button), "win.switch-branch");
  gtk_widget_set_sensitive (GTK_WIDGET (self->previous_button), index > 0);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->next_button), "x",
                                    g_array_index (versions, gint64, MIN (index + 1, versions->len - 1)));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->next_button), "win.switch-branch");
  gtk_widget_set_sensitive (GTK_WIDGET (self->next_button), index + 1 < versions->len);
  gtk_widget_set_visible (self->branch_box, TRUE);
}
