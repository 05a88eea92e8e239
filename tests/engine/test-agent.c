/* test-agent.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The agent loop against the test server, scripted step by step: a reply
 * asking for (parallel) tool calls in each API's format, then a follow-up
 * request the server checks for the right results in the right order and
 * shape, then the final answer. The tools are small test tools that wait
 * on the main loop, echo, fail or need approval.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "confab-engine.h"
#include "confab-test-server.h"

#define DEFAULT_TIMEOUT_S 30

#define assert_contains(haystack, needle)                                 \
  G_STMT_START {                                                          \
    const char *h_ = (haystack);                                          \
    const char *n_ = (needle);                                            \
    if (h_ == NULL || strstr (h_, n_) == NULL)                            \
      {                                                                   \
        g_autofree char *msg_ = g_strdup_printf ("“%s” does not contain “%s”", \
                                                 h_, n_);                 \
        g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, \
                             msg_);                                       \
      }                                                                   \
  } G_STMT_END

/* Test tools */

typedef enum
{
  TEST_ECHO,
  TEST_WAIT,
  TEST_FAIL,
} TestBehaviour;

#define TEST_TYPE_TOOL (test_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestTool, test_tool, TEST, TOOL, ConfabTool)

struct _TestTool
{
  ConfabTool    parent_instance;
  TestBehaviour behaviour;
  guint         n_calls;
  guint         running;
  guint         peak_running;
};

G_DEFINE_FINAL_TYPE (TestTool, test_tool, CONFAB_TYPE_TOOL)

typedef struct
{
  GTask *task;
  guint  source_id;
  gulong cancelled_id;
} Wait;

static gboolean
wait_done_cb (gpointer user_data)
{
  Wait *wait = user_data;
  g_autoptr(GTask) task = wait->task;
  TestTool *self = g_task_get_source_object (task);

  wait->source_id = 0;
  g_cancellable_disconnect (g_task_get_cancellable (task), wait->cancelled_id);
  self->running--;
  g_free (wait);
  g_task_return_pointer (task, confab_tool_result_new ("waited"), g_object_unref);
  return G_SOURCE_REMOVE;
}

static void
wait_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  Wait *wait = user_data;

  /* Called from cancel() on the main thread: stop waiting at once. */
  g_source_remove (wait->source_id);
  wait->source_id = 0;
  g_idle_add (wait_done_cb, wait);
}

static void
test_tool_run_async (ConfabTool          *tool,
                     ConfabToolContext   *context,
                     JsonObject          *arguments,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  TestTool *self = TEST_TOOL (tool);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;

  self->n_calls++;

  switch (self->behaviour)
    {
    case TEST_ECHO:
      {
        const char *text = confab_tool_get_string_arg (tool, arguments, "text", TRUE, &error);
        g_autofree char *reply = NULL;

        if (text == NULL)
          {
            g_task_return_error (task, g_steal_pointer (&error));
            return;
          }
        reply = g_strdup_printf ("echo: %s", text);
        g_task_return_pointer (task, confab_tool_result_new (reply), g_object_unref);
      }
      break;

    case TEST_WAIT:
      {
        Wait *wait = g_new0 (Wait, 1);
        gint64 ms;

        g_assert_true (confab_tool_get_int_arg (tool, arguments, "ms", 1000, &ms, NULL));
        wait->task = g_steal_pointer (&task);
        wait->source_id = g_timeout_add ((guint) ms, wait_done_cb, wait);
        wait->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (wait_cancelled_cb), wait, NULL);
        self->running++;
        self->peak_running = MAX (self->peak_running, self->running);
      }
      break;

    case TEST_FAIL:
    default:
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_TOOL, "the disk is on fire");
      break;
    }
}

static ConfabToolResult *
test_tool_run_finish (ConfabTool    *tool,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_tool_class_init (TestToolClass *klass)
{
  CONFAB_TOOL_CLASS (klass)->run_async = test_tool_run_async;
  CONFAB_TOOL_CLASS (klass)->run_finish = test_tool_run_finish;
}

static void
test_tool_init (TestTool *self)
{
}

static TestTool *
test_tool_new (const char    *name,
               TestBehaviour  behaviour,
               gboolean       needs_approval)
{
  TestTool *self = g_object_new (TEST_TYPE_TOOL,
                                 "name", name,
                                 "description", "A tool for tests",
                                 "needs-approval", needs_approval,
                                 NULL);

  self->behaviour = behaviour;
  return self;
}

/* Fixture */

typedef struct
{
  ConfabTestServer *server;
  ConfabToolbox    *toolbox;
  TestTool         *echo;
  TestTool         *wait;
  TestTool         *fail;
  TestTool         *guarded;
  ConfabAgent      *agent;
  const char       *api;
  GMainLoop        *loop;
  gboolean          done;
  gboolean          ok;
  ConfabAgentOutcome outcome;
  GError           *error;
  guint             n_asked;
  ConfabApprovalAnswer answer;
  gboolean          answer_later;
  GPtrArray        *pending;
  char             *db_path;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autofree char *base_url = NULL;
  g_autoptr(ConfabProvider) provider = NULL;
  g_autoptr(GError) error = NULL;

  fixture->api = user_data != NULL ? user_data : "openai";
  fixture->server = confab_test_server_new ();
  fixture->toolbox = confab_toolbox_new ();
  fixture->echo = test_tool_new ("echo", TEST_ECHO, FALSE);
  fixture->wait = test_tool_new ("wait", TEST_WAIT, FALSE);
  fixture->fail = test_tool_new ("fail", TEST_FAIL, FALSE);
  fixture->guarded = test_tool_new ("guarded", TEST_ECHO, TRUE);
  confab_toolbox_add (fixture->toolbox, CONFAB_TOOL (fixture->echo));
  confab_toolbox_add (fixture->toolbox, CONFAB_TOOL (fixture->wait));
  confab_toolbox_add (fixture->toolbox, CONFAB_TOOL (fixture->fail));
  confab_toolbox_add (fixture->toolbox, CONFAB_TOOL (fixture->guarded));

  base_url = confab_test_server_dup_base_url (fixture->server, fixture->api);
  provider = confab_provider_new_for_api (fixture->api, base_url, &error);
  g_assert_no_error (error);
  confab_provider_set_api_key (provider, "test-key");
  fixture->agent = confab_agent_new (provider, fixture->toolbox);
  fixture->loop = g_main_loop_new (NULL, FALSE);
  fixture->pending = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_pointer (&fixture->pending, g_ptr_array_unref);
  /* What a stopped turn left queued (its questions withdrawn from an
   * idle) runs first. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (fixture->agent);
  g_clear_object (&fixture->echo);
  g_clear_object (&fixture->wait);
  g_clear_object (&fixture->fail);
  g_clear_object (&fixture->guarded);
  g_assert_finalize_object (fixture->toolbox);
  g_assert_finalize_object (fixture->server);
  g_clear_pointer (&fixture->loop, g_main_loop_unref);
  g_clear_error (&fixture->error);
  if (fixture->db_path != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (fixture->db_path);
      g_autofree char *lock = g_strconcat (fixture->db_path, ".lock", NULL);
      g_autofree char *wal = g_strconcat (fixture->db_path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (fixture->db_path, "-shm", NULL);

      g_unlink (fixture->db_path);
      g_unlink (lock);
      g_unlink (wal);
      g_unlink (shm);
      g_rmdir (dir);
      g_free (fixture->db_path);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("The test did not finish within %d seconds", DEFAULT_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Fixture *fixture = user_data;

  fixture->ok = confab_agent_run_finish (CONFAB_AGENT (object), result, &fixture->outcome, &fixture->error);
  fixture->done = TRUE;
  g_main_loop_quit (fixture->loop);
}

static ConfabChatRequest *
new_request (const char *prompt)
{
  ConfabChatRequest *request = confab_chat_request_new ("test");
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, prompt);

  confab_chat_request_add_message (request, user);
  return request;
}

static void
run_turn (Fixture           *fixture,
          ConfabChatRequest *request,
          gint64             parent_id,
          GCancellable      *cancellable)
{
  guint timeout_id = g_timeout_add_seconds (DEFAULT_TIMEOUT_S, timeout_cb, NULL);

  fixture->done = FALSE;
  g_clear_error (&fixture->error);
  confab_agent_run_async (fixture->agent, request, parent_id, cancellable, run_done_cb, fixture);
  if (!fixture->done)
    g_main_loop_run (fixture->loop);
  g_source_remove (timeout_id);
}

static void
queue_tool_calls (Fixture            *fixture,
                  const char * const *names,
                  const char * const *arguments)
{
  g_autoptr(GBytes) body = confab_test_generate_tool_call_stream (fixture->api, "Let me check.", names, arguments);
  ConfabTestResponse *resp = confab_test_server_add_response (fixture->server, confab_test_chat_path (fixture->api), 200);

  confab_test_response_set_body (resp, body);
}

static ConfabTestResponse *
queue_answer (Fixture    *fixture,
              const char *text)
{
  g_autoptr(GBytes) body = confab_test_generate_text_reply (fixture->api, text);
  ConfabTestResponse *resp = confab_test_server_add_response (fixture->server, confab_test_chat_path (fixture->api), 200);

  confab_test_response_set_body (resp, body);
  return resp;
}

/* The ids the follow-up carries: call ids, or for Ollama tool names. */
static char *
result_key (Fixture    *fixture,
            guint       i,
            const char *name)
{
  if (g_str_equal (fixture->api, "ollama"))
    return g_strdup (name);
  if (g_str_equal (fixture->api, "anthropic"))
    return g_strdup_printf ("toolu_%u", i);
  return g_strdup_printf ("call_%u", i);
}

static JsonNode *
request_json (Fixture *fixture,
              guint    i)
{
  GBytes *body = confab_test_server_get_request_body (fixture->server, i);
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

/* Tests */

static void
test_single_call (Fixture       *fixture,
                  gconstpointer  user_data)
{
  const char *names[] = { "echo", NULL };
  const char *arguments[] = { "{\"text\":\"hello\"}", NULL };
  g_autofree char *key = result_key (fixture, 0, "echo");
  const char *keys[] = { key, NULL };
  const char *contains[] = { "echo: hello", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Say hello through the tool");
  g_autoptr(JsonNode) first = NULL;
  g_autofree char *first_text = NULL;
  GPtrArray *messages;
  ConfabMessage *tool_message;

  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "The tool said hello."),
                                            fixture->api, keys, contains);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_true (fixture->ok);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 2);

  /* The first request offered the tools. */
  first = request_json (fixture, 0);
  first_text = json_to_string (first, FALSE);
  assert_contains (first_text, "\"echo\"");
  assert_contains (first_text, "\"guarded\"");

  messages = confab_agent_get_messages (fixture->agent);
  g_assert_cmpuint (messages->len, ==, 3);
  g_assert_cmpint (confab_message_get_role (g_ptr_array_index (messages, 0)), ==, CONFAB_ROLE_ASSISTANT);
  g_assert_cmpuint (confab_message_get_tool_calls (g_ptr_array_index (messages, 0))->len, ==, 1);
  tool_message = g_ptr_array_index (messages, 1);
  g_assert_cmpint (confab_message_get_role (tool_message), ==, CONFAB_ROLE_TOOL);
  g_assert_cmpstr (confab_message_get_content (tool_message), ==, "echo: hello");
  g_assert_false (confab_message_get_is_error (tool_message));
  g_assert_cmpint (confab_message_get_state (tool_message), ==, CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (messages, 2)), ==, "The tool said hello.");
  g_assert_cmpuint (fixture->echo->n_calls, ==, 1);
}

static void
test_parallel (Fixture       *fixture,
               gconstpointer  user_data)
{
  const char *names[9];
  const char *arguments[9];
  char *keys_data[8];
  const char *keys[9];
  g_autoptr(ConfabChatRequest) request = new_request ("Wait eight times");
  gint64 start;
  gint64 elapsed;

  for (guint i = 0; i < 8; i++)
    {
      names[i] = "wait";
      arguments[i] = "{\"ms\":1000}";
      keys_data[i] = result_key (fixture, i, "wait");
      keys[i] = keys_data[i];
    }
  names[8] = arguments[8] = keys[8] = NULL;

  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "All done."), fixture->api, keys, NULL);

  start = g_get_monotonic_time ();
  run_turn (fixture, request, 0, NULL);
  elapsed = g_get_monotonic_time () - start;

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (fixture->wait->n_calls, ==, 8);
  /* All eight were waiting at the same time: a countdown, not a queue. */
  g_assert_cmpuint (fixture->wait->peak_running, ==, 8);
  /* One second of waiting, not eight (generous for a loaded machine). */
  g_assert_cmpint (confab_agent_get_tool_time (fixture->agent), >=, G_USEC_PER_SEC);
  g_assert_cmpint (confab_agent_get_tool_time (fixture->agent), <, 4 * G_USEC_PER_SEC);
  g_test_message ("8 x 1 s tool calls: tool phase %.3f s, whole turn %.3f s",
                  confab_agent_get_tool_time (fixture->agent) / 1e6, elapsed / 1e6);

  for (guint i = 0; i < 8; i++)
    g_free (keys_data[i]);
}

static void
test_chained (Fixture       *fixture,
              gconstpointer  user_data)
{
  const char *names[] = { "echo", NULL };
  const char *one[] = { "{\"text\":\"one\"}", NULL };
  const char *two[] = { "{\"text\":\"two\"}", NULL };
  g_autofree char *key = result_key (fixture, 0, "echo");
  const char *keys[] = { key, NULL };
  const char *contains_two[] = { "echo: two", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Echo twice");
  g_autoptr(JsonNode) third = NULL;
  g_autofree char *third_text = NULL;

  queue_tool_calls (fixture, names, one);
  queue_tool_calls (fixture, names, two);
  confab_test_response_expect_tool_results (queue_answer (fixture, "Both echoed."), fixture->api, keys, contains_two);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 3);
  g_assert_cmpuint (confab_agent_get_messages (fixture->agent)->len, ==, 5);

  /* The last request carries the whole history: both steps. */
  third = request_json (fixture, 2);
  third_text = json_to_string (third, FALSE);
  assert_contains (third_text, "echo: one");
  assert_contains (third_text, "echo: two");
}

static void
test_step_limit (Fixture       *fixture,
                 gconstpointer  user_data)
{
  const char *names[] = { "echo", NULL };
  const char *arguments[] = { "{\"text\":\"again\"}", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Loop forever");

  /* The last queued response repeats: the model never stops asking. */
  queue_tool_calls (fixture, names, arguments);
  confab_agent_set_max_steps (fixture->agent, 3);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_true (fixture->ok);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_STEP_LIMIT);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 3);
  g_assert_cmpuint (fixture->echo->n_calls, ==, 3);
}

static void
approval_cb (ConfabAgent    *agent,
             ConfabApproval *approval,
             gpointer        user_data)
{
  Fixture *fixture = user_data;

  fixture->n_asked++;
  g_assert_cmpstr (confab_tool_get_name (confab_approval_get_tool (approval)), ==, "guarded");
  g_assert_cmpstr (confab_tool_call_get_raw_arguments (confab_approval_get_call (approval)), !=, NULL);
  g_assert_false (confab_approval_get_resolved (approval));

  if (fixture->answer_later)
    g_ptr_array_add (fixture->pending, g_object_ref (approval));
  else
    confab_approval_answer (approval, fixture->answer, NULL);
}

static void
test_denied (Fixture       *fixture,
             gconstpointer  user_data)
{
  const char *names[] = { "guarded", "echo", NULL };
  const char *arguments[] = { "{\"text\":\"secret\"}", "{\"text\":\"free\"}", NULL };
  g_autofree char *key0 = result_key (fixture, 0, "guarded");
  g_autofree char *key1 = result_key (fixture, 1, "echo");
  const char *keys[] = { key0, key1, NULL };
  const char *contains[] = { "did not allow", "echo: free", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Use the guarded tool");
  ConfabMessage *denied;

  g_signal_connect (fixture->agent, "approval-requested", G_CALLBACK (approval_cb), fixture);
  fixture->answer = CONFAB_APPROVAL_DENY;
  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "I may not."), fixture->api, keys, contains);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (fixture->n_asked, ==, 1);
  g_assert_cmpuint (fixture->guarded->n_calls, ==, 0);
  g_assert_cmpuint (fixture->echo->n_calls, ==, 1);
  denied = g_ptr_array_index (confab_agent_get_messages (fixture->agent), 1);
  g_assert_true (confab_message_get_is_error (denied));
  assert_contains (confab_message_get_content (denied), "guarded");
}

static void
test_allowed_for_conversation (Fixture       *fixture,
                               gconstpointer  user_data)
{
  const char *names[] = { "guarded", NULL };
  const char *arguments[] = { "{\"text\":\"x\"}", NULL };
  g_autofree char *key = result_key (fixture, 0, "guarded");
  const char *keys[] = { key, NULL };
  const char *contains[] = { "echo: x", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Use it twice");

  const char *two_names[] = { "guarded", "guarded", NULL };
  const char *two_arguments[] = { "{\"text\":\"y\"}", "{\"text\":\"z\"}", NULL };

  g_signal_connect (fixture->agent, "approval-requested", G_CALLBACK (approval_cb), fixture);
  fixture->answer = CONFAB_APPROVAL_ALLOW_ALWAYS;
  /* Two calls of the tool in one reply, then one more in the next. */
  queue_tool_calls (fixture, two_names, two_arguments);
  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "Twice."), fixture->api, keys, contains);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  /* Asked once: the answer covered the other call of the same reply and
   * the call of the next step. */
  g_assert_cmpuint (fixture->n_asked, ==, 1);
  g_assert_cmpuint (fixture->guarded->n_calls, ==, 3);
  g_assert_true (confab_agent_is_tool_allowed (fixture->agent, "guarded"));
}

static void
test_nobody_to_ask (Fixture       *fixture,
                    gconstpointer  user_data)
{
  const char *names[] = { "guarded", "echo", NULL };
  const char *arguments[] = { "{\"text\":\"a\"}", "{\"text\":\"b\"}", NULL };
  g_autofree char *key0 = result_key (fixture, 0, "guarded");
  g_autofree char *key1 = result_key (fixture, 1, "echo");
  const char *keys[] = { key0, key1, NULL };
  const char *contains[] = { "nobody could be asked", "does not allow", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Try both");

  /* No handler for the guarded tool; the user forbade echo outright. */
  confab_toolbox_set_policy (fixture->toolbox, "echo", CONFAB_TOOL_POLICY_NEVER);
  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "Neither."), fixture->api, keys, contains);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (fixture->guarded->n_calls, ==, 0);
  g_assert_cmpuint (fixture->echo->n_calls, ==, 0);
}

static void
test_tool_errors (Fixture       *fixture,
                  gconstpointer  user_data)
{
  const char *names[] = { "fail", "no_such_tool", "echo", NULL };
  const char *arguments[] = { "{}", "{}", "{\"text\": ", NULL };
  g_autofree char *key0 = result_key (fixture, 0, "fail");
  g_autofree char *key1 = result_key (fixture, 1, "no_such_tool");
  g_autofree char *key2 = result_key (fixture, 2, "echo");
  const char *keys[] = { key0, key1, key2, NULL };
  const char *contains[] = { "the disk is on fire", "no_such_tool", "echo", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Break things");
  GPtrArray *messages;

  if (g_str_equal (fixture->api, "ollama"))
    {
      /* Ollama's arguments are JSON objects in the stream itself, so a
       * broken one breaks the whole line: covered by the parser tests. */
      arguments[2] = "{\"wrong\":1}";
      contains[2] = "needs the argument";
    }

  queue_tool_calls (fixture, names, arguments);
  confab_test_response_expect_tool_results (queue_answer (fixture, "Recovered."), fixture->api, keys, contains);

  run_turn (fixture, request, 0, NULL);

  /* Failed tools don't end the turn: the model reads why and goes on. */
  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  messages = confab_agent_get_messages (fixture->agent);
  g_assert_cmpuint (messages->len, ==, 5);
  for (guint i = 1; i <= 3; i++)
    {
      ConfabMessage *message = g_ptr_array_index (messages, i);

      g_assert_true (confab_message_get_is_error (message));
      g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_FAILED);
    }
  g_assert_cmpuint (fixture->echo->n_calls, ==, g_str_equal (fixture->api, "ollama") ? 1 : 0);
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (messages, 4)), ==, "Recovered.");
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
tool_started_cb (ConfabAgent   *agent,
                 ConfabMessage *message,
                 gpointer       user_data)
{
  GCancellable *cancellable = user_data;

  /* Stop once the last tool runs and the quick one has answered (its
   * answer comes from a default-priority idle, before this one). */
  if (g_str_equal (confab_message_get_tool_name (message), "wait"))
    g_idle_add_full (G_PRIORITY_LOW, cancel_idle_cb, g_object_ref (cancellable), g_object_unref);
}

static void
test_cancel_mid_tool (Fixture       *fixture,
                      gconstpointer  user_data)
{
  const char *names[] = { "echo", "wait", NULL };
  const char *arguments[] = { "{\"text\":\"first\"}", "{\"ms\":60000}", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Wait a minute");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GPtrArray *messages;
  gint64 start;

  queue_tool_calls (fixture, names, arguments);
  queue_answer (fixture, "never sent");
  g_signal_connect (fixture->agent, "tool-started", G_CALLBACK (tool_started_cb), cancellable);

  start = g_get_monotonic_time ();
  run_turn (fixture, request, 0, cancellable);

  g_assert_no_error (fixture->error);
  g_assert_true (fixture->ok);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_STOPPED);
  /* Not a minute: the waiting tool stopped with the turn. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  g_assert_cmpuint (fixture->wait->running, ==, 0);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);

  /* Everything so far is kept: the reply, the finished echo, the stopped
   * wait. */
  messages = confab_agent_get_messages (fixture->agent);
  g_assert_cmpuint (messages->len, ==, 3);
  g_assert_cmpint (confab_message_get_state (g_ptr_array_index (messages, 1)), ==, CONFAB_MESSAGE_COMPLETE);
  g_assert_cmpint (confab_message_get_state (g_ptr_array_index (messages, 2)), ==, CONFAB_MESSAGE_STOPPED);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_cancel_while_asking (Fixture       *fixture,
                          gconstpointer  user_data)
{
  const char *names[] = { "guarded", NULL };
  const char *arguments[] = { "{\"text\":\"x\"}", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Ask me");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ConfabMessage *message;

  fixture->answer_later = TRUE;
  g_signal_connect (fixture->agent, "approval-requested", G_CALLBACK (approval_cb), fixture);
  queue_tool_calls (fixture, names, arguments);

  /* The question waits for the user: nothing polls, the loop sleeps. */
  confab_agent_run_async (fixture->agent, request, 0, cancellable, run_done_cb, fixture);
  while (fixture->pending->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (fixture->done);
  {
    gboolean waited = FALSE;
    guint wakeups = 0;

    /* Let what the reply left behind settle, then count the main loop's
     * wake-ups over half a second of waiting: only the timer's own. */
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_timeout_add (500, set_flag_cb, &waited);
    while (!waited)
      {
        g_main_context_iteration (NULL, TRUE);
        wakeups++;
      }
    g_assert_cmpuint (wakeups, <=, 3);
  }

  g_cancellable_cancel (cancellable);
  while (!fixture->done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_STOPPED);
  g_assert_true (confab_approval_get_resolved (g_ptr_array_index (fixture->pending, 0)));
  g_assert_cmpuint (fixture->guarded->n_calls, ==, 0);
  message = g_ptr_array_index (confab_agent_get_messages (fixture->agent), 1);
  g_assert_cmpint (confab_message_get_state (message), ==, CONFAB_MESSAGE_STOPPED);

  /* A late answer changes nothing. */
  confab_approval_answer (g_ptr_array_index (fixture->pending, 0), CONFAB_APPROVAL_ALLOW_ONCE, NULL);
  g_assert_cmpuint (fixture->guarded->n_calls, ==, 0);
}

static void
test_reply_error (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(ConfabChatRequest) request = new_request ("Fail");
  ConfabTestResponse *resp = confab_test_server_add_response (fixture->server, confab_test_chat_path (fixture->api), 400);

  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"model is sleeping\",\"type\":\"invalid_request_error\"}}");

  run_turn (fixture, request, 0, NULL);

  g_assert_false (fixture->ok);
  g_assert_error (fixture->error, CONFAB_ERROR, CONFAB_ERROR_BAD_REQUEST);
  assert_contains (fixture->error->message, "model is sleeping");
  g_assert_cmpint (confab_message_get_state (g_ptr_array_index (confab_agent_get_messages (fixture->agent), 0)), ==,
                   CONFAB_MESSAGE_FAILED);
}

/* Storage */

static void
store_opened_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ConfabStore **store = user_data;
  g_autoptr(GError) error = NULL;

  *store = confab_store_new_finish (result, &error);
  g_assert_no_error (error);
}

static void
conversation_created_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  ConfabConversation **conversation = user_data;
  g_autoptr(GError) error = NULL;

  *conversation = confab_store_create_conversation_finish (CONFAB_STORE (object), result, &error);
  g_assert_no_error (error);
}

static void
message_added_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  gint64 *id = user_data;
  g_autoptr(GError) error = NULL;

  *id = confab_store_add_message_finish (CONFAB_STORE (object), result, &error);
  g_assert_no_error (error);
}

static void
messages_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GPtrArray **messages = user_data;
  g_autoptr(GError) error = NULL;

  *messages = confab_store_load_messages_finish (CONFAB_STORE (object), result, &error);
  g_assert_no_error (error);
}

/* What is on disk right now, read by a separate connection as a restarted
 * app would: "role:state" per message of the conversation, in order. */
static char *
rows_on_disk (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT role, state, "
                                           "(SELECT count(*) FROM tool_calls t WHERE t.message_id = m.id) "
                                           "FROM messages m ORDER BY id", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s%s:%s:%d", out->len > 0 ? " " : "",
                            (const char *) sqlite3_column_text (stmt, 0),
                            (const char *) sqlite3_column_text (stmt, 1),
                            sqlite3_column_int (stmt, 2));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

static void
crash_check_tool_started_cb (ConfabAgent   *agent,
                             ConfabMessage *message,
                             gpointer       user_data)
{
  Fixture *fixture = user_data;
  char **seen = g_object_get_data (G_OBJECT (agent), "seen");

  /* The wait tool starts right after echo (whose result comes in a later
   * main-loop iteration). Had the app died now, a restarted one would
   * find the user's message, the reply with both calls and the places of
   * both results, still marked as running. */
  if (g_str_equal (confab_message_get_tool_name (message), "wait"))
    *seen = rows_on_disk (fixture->db_path);
}

static void
test_stored_steps (Fixture       *fixture,
                   gconstpointer  user_data)
{
  const char *names[] = { "echo", "wait", NULL };
  const char *arguments[] = { "{\"text\":\"kept\"}", "{\"ms\":300}", NULL };
  g_autofree char *dir = g_dir_make_tmp ("confab-agent-XXXXXX", NULL);
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(ConfabConversation) conversation = NULL;
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, "Store every step");
  g_autoptr(ConfabChatRequest) request = confab_chat_request_new ("test");
  g_autofree char *during = NULL;
  g_autofree char *after = NULL;
  gint64 user_id = 0;

  fixture->db_path = g_build_filename (dir, "confab.db", NULL);
  confab_store_new_async (fixture->db_path, NULL, store_opened_cb, &store);
  while (store == NULL)
    g_main_context_iteration (NULL, TRUE);
  confab_store_create_conversation_async (store, draft, NULL, conversation_created_cb, &conversation);
  while (conversation == NULL)
    g_main_context_iteration (NULL, TRUE);
  confab_store_add_message_async (store, confab_conversation_get_id (conversation), user, NULL,
                                  message_added_cb, &user_id);
  while (user_id == 0)
    g_main_context_iteration (NULL, TRUE);
  confab_chat_request_add_message (request, user);

  confab_agent_set_store (fixture->agent, store, confab_conversation_get_id (conversation));
  queue_tool_calls (fixture, names, arguments);
  queue_answer (fixture, "Stored.");
  g_object_set_data (G_OBJECT (fixture->agent), "seen", &during);
  g_signal_connect (fixture->agent, "tool-started", G_CALLBACK (crash_check_tool_started_cb), fixture);

  run_turn (fixture, request, user_id, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpstr (during, ==, "user:complete:0 assistant:complete:2 tool:streaming:0 tool:streaming:0");

  /* The final answer's row exists at once; its text and state follow
   * through the store's queue, which a load waits behind. */
  {
    g_autoptr(GPtrArray) loaded = NULL;

    confab_store_load_messages_async (store, confab_conversation_get_id (conversation), NULL,
                                      messages_loaded_cb, &loaded);
    while (loaded == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_cmpuint (loaded->len, ==, 5);
    g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (loaded, 2)), ==, "echo: kept");
    g_assert_cmpstr (confab_message_get_tool_call_id (g_ptr_array_index (loaded, 3)), !=, NULL);
    g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (loaded, 4)), ==, "Stored.");
  }
  after = rows_on_disk (fixture->db_path);
  g_assert_cmpstr (after, ==, "user:complete:0 assistant:complete:2 tool:complete:0 tool:complete:0 assistant:complete:0");
}

/* Stopping a turn while the real run_command runs: the command's whole
 * process group dies, the grandchild it started in the background too. */

typedef struct
{
  char         *pid_file;
  GCancellable *cancellable;
} StopWhenStarted;

static gboolean
stop_when_started_cb (gpointer user_data)
{
  StopWhenStarted *stop = user_data;

  /* The grandchild wrote its pid: the command is really running. */
  if (!g_file_test (stop->pid_file, G_FILE_TEST_EXISTS))
    return G_SOURCE_CONTINUE;
  g_cancellable_cancel (stop->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
test_cancel_kills_command (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autofree char *dir = g_dir_make_tmp ("confab-agent-cmd-XXXXXX", NULL);
  g_autofree char *pid_file = g_build_filename (dir, "grandchild.pid", NULL);
  g_autofree char *command = g_strdup_printf ("{\"command\":\"sleep 300 & echo $! > grandchild.pid; wait\"}");
  const char *names[] = { "run_command", NULL };
  const char *arguments[] = { command, NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Run something long");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(ConfabTool) run_command = confab_builtin_tool_new ("run_command");
  g_autofree char *contents = NULL;
  StopWhenStarted stop = { pid_file, cancellable };
  guint poll_id;
  pid_t grandchild;

  confab_toolbox_add (fixture->toolbox, run_command);
  confab_toolbox_set_policy (fixture->toolbox, "run_command", CONFAB_TOOL_POLICY_ALLOW);
  g_assert_true (confab_tool_context_add_allowed_dir (confab_agent_get_context (fixture->agent), dir, NULL));
  queue_tool_calls (fixture, names, arguments);
  queue_answer (fixture, "never sent");

  poll_id = g_timeout_add (10, stop_when_started_cb, &stop);
  run_turn (fixture, request, 0, cancellable);
  g_clear_handle_id (&poll_id, g_source_remove);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_STOPPED);
  g_assert_cmpint (confab_message_get_state (g_ptr_array_index (confab_agent_get_messages (fixture->agent), 1)), ==,
                   CONFAB_MESSAGE_STOPPED);

  g_assert_true (g_file_get_contents (pid_file, &contents, NULL, NULL));
  grandchild = (pid_t) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (grandchild, >, 1);

  /* The kill was sent when the turn stopped; delivery is the kernel's:
   * wait for it on the main loop, bounded. */
  g_assert_true (confab_test_wait_for_process_death (grandchild, 5000));

  g_unlink (pid_file);
  g_rmdir (dir);
}

/* Older llama.cpp cannot stream a reply when tools are offered (HTTP 500
 * "Cannot use tools with stream"): the step is asked again without
 * streaming, and the turn goes on. */
static void
test_server_cannot_stream_tools (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  const char *keys[] = { "call_0", NULL };
  const char *contains[] = { "echo: whole", NULL };
  g_autoptr(ConfabChatRequest) request = new_request ("Use a tool");
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  ConfabTestResponse *resp;

  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 500);
  confab_test_response_set_body_string (resp, "{\"error\":{\"code\":500,\"message\":\"Cannot use tools with stream\","
                                              "\"type\":\"server_error\"}}");
  resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 200);
  confab_test_response_set_content_type (resp, "application/json");
  confab_test_response_set_body_string (resp, "{\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\",\"message\":"
                                              "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_0\","
                                              "\"type\":\"function\",\"function\":{\"name\":\"echo\","
                                              "\"arguments\":\"{\\\"text\\\":\\\"whole\\\"}\"}}]}}]}");
  confab_test_response_expect_tool_results (queue_answer (fixture, "Echoed."), "openai", keys, contains);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 3);
  first = request_json (fixture, 0);
  second = request_json (fixture, 1);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (first), "stream"));
  g_assert_false (json_object_get_boolean_member (json_node_get_object (second), "stream"));
  g_assert_true (json_object_has_member (json_node_get_object (second), "tools"));
  /* One reply message for the step, not a failed one and another. */
  g_assert_cmpuint (confab_agent_get_messages (fixture->agent)->len, ==, 3);
  g_assert_cmpstr (confab_message_get_content (g_ptr_array_index (confab_agent_get_messages (fixture->agent), 2)),
                   ==, "Echoed.");
}

static void
notice_cb (ConfabAgent *agent,
           const char  *text,
           gpointer     user_data)
{
  *(char **) user_data = g_strdup (text);
}

/* A model whose server takes no tools (Ollama: "does not support tools"):
 * the step is asked again without them, the user is told, and the next
 * turns don't offer them. */
static void
test_server_refuses_tools (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(ConfabChatRequest) request = new_request ("Hello");
  g_autoptr(ConfabChatRequest) again = new_request ("Hello again");
  g_autofree char *notice = NULL;
  g_autoptr(JsonNode) retried = NULL;
  g_autoptr(JsonNode) later = NULL;
  ConfabTestResponse *resp;

  resp = confab_test_server_add_response (fixture->server, confab_test_chat_path (fixture->api), 400);
  confab_test_response_set_body_string (resp, "{\"error\":\"registry.ollama.ai/library/gemma:2b does not support tools\"}");
  queue_answer (fixture, "Hi without tools.");
  g_signal_connect (fixture->agent, "notice", G_CALLBACK (notice_cb), &notice);

  run_turn (fixture, request, 0, NULL);

  g_assert_no_error (fixture->error);
  g_assert_cmpint (fixture->outcome, ==, CONFAB_AGENT_FINAL);
  g_assert_nonnull (notice);
  g_assert_nonnull (strstr (notice, "does not support tools"));
  retried = request_json (fixture, 1);
  g_assert_false (json_object_has_member (json_node_get_object (retried), "tools"));

  run_turn (fixture, again, 0, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 3);
  later = request_json (fixture, 2);
  g_assert_false (json_object_has_member (json_node_get_object (later), "tools"));
}

/* An error that mentions tools without refusing them is the turn's
 * error, not a reason to ask again without tools. */
static void
test_tool_error_is_not_refusal (Fixture       *fixture,
                                gconstpointer  user_data)
{
  g_autoptr(ConfabChatRequest) request = new_request ("Hello");
  ConfabTestResponse *resp = confab_test_server_add_response (fixture->server, "/v1/chat/completions", 400);

  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"messages with role 'tool' must follow "
                                              "tool_calls\",\"type\":\"invalid_request_error\"}}");

  run_turn (fixture, request, 0, NULL);

  g_assert_false (fixture->ok);
  g_assert_error (fixture->error, CONFAB_ERROR, CONFAB_ERROR_BAD_REQUEST);
  g_assert_cmpuint (confab_test_server_get_n_requests (fixture->server), ==, 1);
}

static void
add_api_tests (const char *api)
{
#define ADD(name, func)                                                               \
  G_STMT_START {                                                                      \
    g_autofree char *path_ = g_strdup_printf ("/agent/%s/%s", api, name);             \
    g_test_add (path_, Fixture, api, fixture_set_up, func, fixture_tear_down);        \
  } G_STMT_END

  ADD ("single-call", test_single_call);
  ADD ("parallel", test_parallel);
  ADD ("chained", test_chained);
  ADD ("tool-errors", test_tool_errors);
  ADD ("denied", test_denied);
#undef ADD
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_api_tests ("openai");
  add_api_tests ("ollama");
  add_api_tests ("anthropic");

  g_test_add ("/agent/step-limit", Fixture, NULL, fixture_set_up, test_step_limit, fixture_tear_down);
  g_test_add ("/agent/allowed-for-conversation", Fixture, NULL, fixture_set_up, test_allowed_for_conversation,
              fixture_tear_down);
  g_test_add ("/agent/nobody-to-ask", Fixture, NULL, fixture_set_up, test_nobody_to_ask, fixture_tear_down);
  g_test_add ("/agent/cancel-mid-tool", Fixture, NULL, fixture_set_up, test_cancel_mid_tool, fixture_tear_down);
  g_test_add ("/agent/cancel-while-asking", Fixture, NULL, fixture_set_up, test_cancel_while_asking,
              fixture_tear_down);
  g_test_add ("/agent/cancel-kills-command", Fixture, NULL, fixture_set_up, test_cancel_kills_command,
              fixture_tear_down);
  g_test_add ("/agent/server-cannot-stream-tools", Fixture, NULL, fixture_set_up, test_server_cannot_stream_tools,
              fixture_tear_down);
  g_test_add ("/agent/ollama/server-refuses-tools", Fixture, "ollama", fixture_set_up, test_server_refuses_tools,
              fixture_tear_down);
  g_test_add ("/agent/tool-error-is-not-refusal", Fixture, NULL, fixture_set_up, test_tool_error_is_not_refusal,
              fixture_tear_down);
  g_test_add ("/agent/reply-error", Fixture, NULL, fixture_set_up, test_reply_error, fixture_tear_down);
  g_test_add ("/agent/stored-steps", Fixture, NULL, fixture_set_up, test_stored_steps, fixture_tear_down);

  return g_test_run ();
}
