/* agent-bench.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* What the agent loop costs the main loop, measured side by side in one
 * run (bench/run-agent-bench.sh):
 *
 *  1. stall: a turn whose tool is CPU-bound for 2 s on a GTask worker
 *     thread (the way every blocking tool runs), against an idle control
 *     of the same length. A 1 ms g_timeout on the main loop records the
 *     longest gap between its wake-ups; the turn's HTTP, parsing, storage
 *     of every step and the tool's start and end all happen on that loop.
 *  2. parallel: one reply asking for N tools that each wait 1 s (the way
 *     I/O-bound tools wait: nothing on the main thread), against the same
 *     N run one after another: the tool phase's wall time.
 *
 * Usage: agent-bench [CPU_SECONDS] [N_PARALLEL]
 */

#include "config.h"

#include <glib/gstdio.h>

#include "confab-engine.h"
#include "confab-test-server.h"

/* A tool that keeps one core busy for a while on a worker thread. */

#define BENCH_TYPE_CPU_TOOL (bench_cpu_tool_get_type ())
G_DECLARE_FINAL_TYPE (BenchCpuTool, bench_cpu_tool, BENCH, CPU_TOOL, ConfabTool)

struct _BenchCpuTool
{
  ConfabTool parent_instance;
  double     seconds;
};

G_DEFINE_FINAL_TYPE (BenchCpuTool, bench_cpu_tool, CONFAB_TYPE_TOOL)

static void
burn_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  BenchCpuTool *self = source;
  gint64 end = g_get_monotonic_time () + (gint64) (self->seconds * G_USEC_PER_SEC);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 block[4096] = { 0 };
  guint64 rounds = 0;

  while (g_get_monotonic_time () < end && !g_cancellable_is_cancelled (cancellable))
    {
      g_checksum_update (checksum, block, sizeof block);
      rounds++;
    }
  g_task_return_pointer (task, confab_tool_result_new (g_checksum_get_string (checksum)), g_object_unref);
  (void) rounds;
}

static void
bench_cpu_tool_run_async (ConfabTool          *tool,
                          ConfabToolContext   *context,
                          JsonObject          *arguments,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (tool, cancellable, callback, user_data);

  g_task_run_in_thread (task, burn_thread);
}

static ConfabToolResult *
bench_tool_run_finish (ConfabTool    *tool,
                       GAsyncResult  *result,
                       GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bench_cpu_tool_class_init (BenchCpuToolClass *klass)
{
  CONFAB_TOOL_CLASS (klass)->run_async = bench_cpu_tool_run_async;
  CONFAB_TOOL_CLASS (klass)->run_finish = bench_tool_run_finish;
}

static void
bench_cpu_tool_init (BenchCpuTool *self)
{
}

/* A tool that waits without using the main thread (a network call, a
 * subprocess): a main-loop timeout. */

#define BENCH_TYPE_WAIT_TOOL (bench_wait_tool_get_type ())
G_DECLARE_FINAL_TYPE (BenchWaitTool, bench_wait_tool, BENCH, WAIT_TOOL, ConfabTool)

struct _BenchWaitTool
{
  ConfabTool parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchWaitTool, bench_wait_tool, CONFAB_TYPE_TOOL)

static gboolean
waited_cb (gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_pointer (task, confab_tool_result_new ("waited"), g_object_unref);
  return G_SOURCE_REMOVE;
}

static void
bench_wait_tool_run_async (ConfabTool          *tool,
                           ConfabToolContext   *context,
                           JsonObject          *arguments,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (tool, cancellable, callback, user_data);

  g_timeout_add_full (G_PRIORITY_DEFAULT, 1000, waited_cb, task, g_object_unref);
}

static void
bench_wait_tool_class_init (BenchWaitToolClass *klass)
{
  CONFAB_TOOL_CLASS (klass)->run_async = bench_wait_tool_run_async;
  CONFAB_TOOL_CLASS (klass)->run_finish = bench_tool_run_finish;
}

static void
bench_wait_tool_init (BenchWaitTool *self)
{
}

/* The main loop's heartbeat */

typedef struct
{
  gint64 last;
  gint64 max_gap;
  guint  beats;
} Heartbeat;

static gboolean
heartbeat_cb (gpointer user_data)
{
  Heartbeat *heartbeat = user_data;
  gint64 now = g_get_monotonic_time ();

  if (heartbeat->last > 0)
    heartbeat->max_gap = MAX (heartbeat->max_gap, now - heartbeat->last);
  heartbeat->last = now;
  heartbeat->beats++;
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  gboolean           done;
  ConfabAgentOutcome outcome;
  GError            *error;
} Run;

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;

  confab_agent_run_finish (CONFAB_AGENT (object), result, &run->outcome, &run->error);
  run->done = TRUE;
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* One turn: tool calls @names, then a final answer; every step stored. */
static gint64
run_turn (ConfabToolbox      *toolbox,
          ConfabStore        *store,
          gint64              conversation_id,
          const char * const *names,
          const char * const *arguments)
{
  /* A server of its own: its two replies are this turn's. */
  g_autoptr(ConfabTestServer) server = confab_test_server_new ();
  g_autofree char *base_url = g_strconcat (confab_test_server_get_url (server), "/v1", NULL);
  g_autoptr(ConfabProvider) provider = confab_provider_new_for_api ("openai", base_url, NULL);
  g_autoptr(GBytes) calls = confab_test_generate_tool_call_stream ("openai", "Working on it.", names, arguments);
  g_autoptr(GBytes) answer = confab_test_generate_text_reply ("openai", "Done.");
  g_autoptr(ConfabAgent) agent = confab_agent_new (provider, toolbox);
  g_autoptr(ConfabChatRequest) request = confab_chat_request_new ("bench");
  g_autoptr(ConfabMessage) user = confab_message_new (CONFAB_ROLE_USER, "Run the tools");
  g_autoptr(GAsyncResult) added = NULL;
  Run run = { FALSE, };
  gint64 user_id;

  confab_test_response_set_body (confab_test_server_add_response (server, "/v1/chat/completions", 200), calls);
  confab_test_response_set_body (confab_test_server_add_response (server, "/v1/chat/completions", 200), answer);

  confab_store_add_message_async (store, conversation_id, user, NULL, store_cb, &added);
  user_id = confab_store_add_message_finish (store, wait_result (&added), NULL);
  confab_chat_request_add_message (request, user);

  confab_agent_set_store (agent, store, conversation_id);
  confab_agent_run_async (agent, request, user_id, NULL, run_done_cb, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  if (run.error != NULL || run.outcome != CONFAB_AGENT_FINAL)
    g_error ("The turn failed: %s", run.error != NULL ? run.error->message : "not final");

  return confab_agent_get_tool_time (agent);
}

static gint64
idle_for (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  double cpu_seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;
  guint n_parallel = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 8;
  g_autoptr(ConfabToolbox) toolbox = confab_toolbox_new ();
  g_autoptr(BenchCpuTool) cpu = g_object_new (BENCH_TYPE_CPU_TOOL, "name", "burn", NULL);
  g_autoptr(BenchWaitTool) wait = g_object_new (BENCH_TYPE_WAIT_TOOL, "name", "wait", NULL);
  g_autofree char *dir = g_dir_make_tmp ("confab-agent-bench-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "confab.db", NULL);
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GAsyncResult) created = NULL;
  g_autoptr(ConfabStore) store = NULL;
  g_autoptr(ConfabConversation) draft = confab_conversation_new (0);
  g_autoptr(ConfabConversation) conversation = NULL;
  const char *burn_names[] = { "burn", NULL };
  const char *burn_arguments[] = { "{}", NULL };
  g_autoptr(GPtrArray) wait_names = g_ptr_array_new ();
  g_autoptr(GPtrArray) wait_arguments = g_ptr_array_new ();
  const char *one_name[] = { "wait", NULL };
  const char *one_argument[] = { "{}", NULL };
  Heartbeat control = { 0, };
  Heartbeat during = { 0, };
  guint heartbeat_id;
  gint64 parallel_us;
  gint64 serial_us = 0;
  gint64 start;

  cpu->seconds = cpu_seconds;
  confab_toolbox_add (toolbox, CONFAB_TOOL (cpu));
  confab_toolbox_add (toolbox, CONFAB_TOOL (wait));

  confab_store_new_async (db, NULL, store_cb, &opened);
  store = confab_store_new_finish (wait_result (&opened), NULL);
  confab_store_create_conversation_async (store, draft, NULL, store_cb, &created);
  conversation = confab_store_create_conversation_finish (store, wait_result (&created), NULL);

  /* 1. The main loop while a CPU-bound tool runs, against idling. */
  heartbeat_id = g_timeout_add (1, heartbeat_cb, &control);
  idle_for (cpu_seconds);
  g_source_remove (heartbeat_id);

  heartbeat_id = g_timeout_add (1, heartbeat_cb, &during);
  start = g_get_monotonic_time ();
  run_turn (toolbox, store, confab_conversation_get_id (conversation), burn_names, burn_arguments);
  g_source_remove (heartbeat_id);

  g_print ("stall: CPU-bound tool for %.1f s on a worker thread, whole turn stored\n", cpu_seconds);
  g_print ("  turn wall time            %8.3f s\n", (g_get_monotonic_time () - start) / 1e6);
  g_print ("  main-loop wake-ups        %8u (idle control: %u)\n", during.beats, control.beats);
  g_print ("  longest main-loop gap     %8.2f ms (idle control: %.2f ms)\n",
           during.max_gap / 1000.0, control.max_gap / 1000.0);

  /* 2. N waits at once against N one after the other. */
  for (guint i = 0; i < n_parallel; i++)
    {
      g_ptr_array_add (wait_names, (gpointer) "wait");
      g_ptr_array_add (wait_arguments, (gpointer) "{}");
    }
  g_ptr_array_add (wait_names, NULL);
  g_ptr_array_add (wait_arguments, NULL);

  parallel_us = run_turn (toolbox, store, confab_conversation_get_id (conversation),
                          (const char * const *) wait_names->pdata, (const char * const *) wait_arguments->pdata);
  for (guint i = 0; i < n_parallel; i++)
    serial_us += run_turn (toolbox, store, confab_conversation_get_id (conversation),
                           one_name, one_argument);

  g_print ("parallel: %u tools that each wait 1 s\n", n_parallel);
  g_print ("  tool phase, one reply asking for all %u   %8.3f s\n", n_parallel, parallel_us / 1e6);
  g_print ("  tool phases, %u replies asking for one     %8.3f s\n", n_parallel, serial_us / 1e6);
  g_print ("  ratio                                    %8.2fx\n", (double) serial_us / parallel_us);

  g_clear_object (&store);
  {
    static const char * const suffixes[] = { "", "-wal", "-shm", ".lock" };

    for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        g_autofree char *path = g_strconcat (db, suffixes[i], NULL);
        g_unlink (path);
      }
    g_rmdir (dir);
  }
  return 0;
}
