/* ui-bench.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window with a long chat and a fast stream, in one process (run it
 * with bench/run-ui-bench.sh, under Xvfb):
 *
 * 1. open: a stored conversation of N messages (default 5,000) is opened
 *    with confab_window_show_conversation(); timed from the call to the
 *    first frame painted (GdkFrameClock::after-paint) that shows the
 *    message list (the window draws it once it is at its end) with the
 *    newest page of the N items. Then peak RSS (VmHWM) and the number
 *    of ConfabMessageRow widgets, after opening and after scrolling to the
 *    end.
 * 2. stream: a reply of T tokens (default 20,000) streamed by the test
 *    server, on its own thread, at about 5,000 tokens/s; the frame times
 *    and the longest main-loop stall (a 1 ms timeout) during the stream.
 *    Then that chat is opened again (after a new chat): the time to its
 *    first frame, and the stalls of the 30 frames after.
 *
 * 3. paste: 1 MB of text (lines of 80 characters, then one 1 MB line)
 *    pasted into the composer as Ctrl+V does (the clipboard, then
 *    GtkTextView::paste-clipboard); the time until the text is in and a
 *    frame is painted, and the longest main-loop stall. The text in lines
 *    is then sent: the time until the user's row with it is drawn.
 *
 * `ui-bench startup DIR` is the fourth measurement, a process of its own
 * each time (bench/run-ui-bench.sh runs it): the first time it fills
 * DIR/confab.db with 1,000 conversations and exits; after that it starts
 * the app on it and reports the time from main() to the first frame that
 * shows the conversation list.
 *
 * It prints RESULT key=value lines, times in milliseconds.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confab-application.h"
#include "confab-message-row.h"
#include "confab-store-private.h"
#include "confab-test-server.h"
#include "confab-window.h"

static ConfabApplication *app;
static ConfabWindow *window;

/* Frame and main-loop recording. */
static GArray *frame_times;       /* gint64 µs, frame clock's frame time */
static GArray *paint_times;       /* gint64 µs, monotonic at after-paint */
static GArray *tick_gaps;         /* gint64 µs between 1 ms timeouts */
static gint64 last_tick;
static gboolean recording;
static guint n_paints;
/* Per frame: update (tick callbacks) + layout, and paint, in µs. */
static GArray *layout_times;
static GArray *paint_work_times;
static gint64 frame_began;
static gint64 layout_done;

/* Opening. */
static guint open_target;
static gint64 open_start;
static gint64 open_model_full;
static gint64 open_painted;

static gboolean
timeout_cb (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *)data);
  return G_SOURCE_REMOVE;
}

#define WAIT_FOR(check)                                                 \
  G_STMT_START {                                                        \
    guint _guard = g_timeout_add_seconds (120, timeout_cb, (gpointer)#check); \
    while (!(check))                                                    \
      g_main_context_iteration (NULL, TRUE);                            \
    g_source_remove (_guard);                                           \
  } G_STMT_END

static GObject *
child (const char *name)
{
  return gtk_widget_get_template_child (GTK_WIDGET (window), CONFAB_TYPE_WINDOW, name);
}

static guint
n_messages (void)
{
  GtkListView *list = GTK_LIST_VIEW (child ("message_list"));

  return g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list)));
}

static ConfabMessage *
message_at (guint position)
{
  GtkListView *list = GTK_LIST_VIEW (child ("message_list"));
  g_autoptr(ConfabMessage) message = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);

  return message;
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static double
vm_hwm_mb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmHWM:");
  if (line == NULL)
    return -1;
  return g_ascii_strtod (line + 6, NULL) / 1024.0;
}

static double
vm_rss_mb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  if (line == NULL)
    return -1;
  return g_ascii_strtod (line + 6, NULL) / 1024.0;
}

static guint
count_rows (GtkWidget *widget)
{
  guint n = CONFAB_IS_MESSAGE_ROW (widget) ? 1 : 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    n += count_rows (c);
  return n;
}

static void
before_paint_cb (GdkFrameClock *clock,
                 gpointer       user_data)
{
  frame_began = g_get_monotonic_time ();
  layout_done = 0;
}

/* Connected after GTK's own handlers, so these run when the window's
 * layout and paint are done. */
static void
layout_cb (GdkFrameClock *clock,
           gpointer       user_data)
{
  layout_done = g_get_monotonic_time ();
  if (recording && frame_began != 0)
    {
      gint64 d = layout_done - frame_began;

      g_array_append_val (layout_times, d);
    }
}

static void
paint_cb (GdkFrameClock *clock,
          gpointer       user_data)
{
  if (recording && layout_done != 0)
    {
      gint64 d = g_get_monotonic_time () - layout_done;

      g_array_append_val (paint_work_times, d);
    }
}

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  gint64 now = g_get_monotonic_time ();

  n_paints++;
  if (recording)
    {
      gint64 t = gdk_frame_clock_get_frame_time (clock);

      g_array_append_val (frame_times, t);
      g_array_append_val (paint_times, now);
    }
  /* The window draws an opened chat once it is scrolled to its end (the
   * list is transparent until then). */
  if (open_start != 0 && open_painted == 0 && n_messages () == open_target &&
      gtk_widget_get_opacity (GTK_WIDGET (child ("message_list"))) > 0)
    open_painted = now;
}

static gboolean
tick_cb (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (recording && last_tick != 0)
    {
      gint64 gap = now - last_tick;

      g_array_append_val (tick_gaps, gap);
    }
  last_tick = now;
  if (open_start != 0 && open_model_full == 0 && n_messages () == open_target)
    open_model_full = now;
  return G_SOURCE_CONTINUE;
}

static void
wait_paints (guint n)
{
  guint target = n_paints + n;

  WAIT_FOR (n_paints >= target);
}

static int
cmp_int64 (gconstpointer a,
           gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

/* Max and 99th percentile (nearest rank) of @values, in ms. */
static void
stats (GArray *values,
       double *max,
       double *p99,
       double *median)
{
  g_autoptr(GArray) sorted = NULL;
  guint rank;

  *max = *p99 = *median = 0;
  if (values->len == 0)
    return;
  sorted = g_array_copy (values);
  g_array_sort (sorted, cmp_int64);
  rank = (guint) ((99 * (guint64) sorted->len + 99) / 100);
  *max = g_array_index (sorted, gint64, sorted->len - 1) / 1000.0;
  *p99 = g_array_index (sorted, gint64, MAX (rank, 1) - 1) / 1000.0;
  *median = g_array_index (sorted, gint64, (sorted->len - 1) / 2) / 1000.0;
}

static GArray *
diffs (GArray *times)
{
  GArray *d = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 1; i < times->len; i++)
    {
      gint64 v = g_array_index (times, gint64, i) - g_array_index (times, gint64, i - 1);

      g_array_append_val (d, v);
    }
  return d;
}

static void
start_recording (void)
{
  g_array_set_size (frame_times, 0);
  g_array_set_size (paint_times, 0);
  g_array_set_size (tick_gaps, 0);
  g_array_set_size (layout_times, 0);
  g_array_set_size (paint_work_times, 0);
  /* last_tick is kept: the first gap counts a stall that began just before. */
  recording = TRUE;
}

static void
print_recording (const char *prefix)
{
  g_autoptr(GArray) frame_gaps = diffs (frame_times);
  g_autoptr(GArray) paint_gaps = diffs (paint_times);
  double max, p99, median;

  recording = FALSE;
  printf ("RESULT %s_frames=%u\n", prefix, frame_times->len);
  stats (frame_gaps, &max, &p99, &median);
  printf ("RESULT %s_frame_gap_max=%.1f %s_frame_gap_p99=%.1f %s_frame_gap_median=%.1f\n",
          prefix, max, prefix, p99, prefix, median);
  stats (paint_gaps, &max, &p99, &median);
  printf ("RESULT %s_paint_gap_max=%.1f %s_paint_gap_p99=%.1f %s_paint_gap_median=%.1f\n",
          prefix, max, prefix, p99, prefix, median);
  stats (tick_gaps, &max, &p99, &median);
  printf ("RESULT %s_loop_gap_max=%.1f %s_loop_gap_p99=%.1f %s_loop_gap_median=%.1f %s_loop_ticks=%u\n",
          prefix, max, prefix, p99, prefix, median, prefix, tick_gaps->len);
  stats (layout_times, &max, &p99, &median);
  printf ("RESULT %s_layout_max=%.1f %s_layout_p99=%.1f %s_layout_median=%.1f\n",
          prefix, max, prefix, p99, prefix, median);
  stats (paint_work_times, &max, &p99, &median);
  printf ("RESULT %s_paint_max=%.1f %s_paint_p99=%.1f %s_paint_median=%.1f\n",
          prefix, max, prefix, p99, prefix, median);
}

/* The long conversation --------------------------------------------------- */

static const char * const words[] = {
  "the", "buffer", "is", "allocated", "once", "and", "reused", "for", "every", "frame", "so",
  "that", "the", "renderer", "never", "waits", "on", "memory", "which", "keeps", "latency",
  "low", "even", "when", "many", "widgets", "change", "at", "the", "same", "time", "in",
  "a", "long", "list", "of", "messages", "with", "code", "and", "tables",
};

static void
append_sentence (GString *s,
                 guint32 *seed,
                 guint    n_words)
{
  for (guint i = 0; i < n_words; i++)
    {
      const char *w;

      *seed = *seed * 1103515245u + 12345u;
      w = words[(*seed >> 16) % G_N_ELEMENTS (words)];
      if (i == 0)
        g_string_append_printf (s, "%c%s", g_ascii_toupper (w[0]), w + 1);
      else if ((*seed >> 8) % 17 == 0)
        g_string_append_printf (s, " **%s**", w);
      else if ((*seed >> 8) % 19 == 0)
        g_string_append_printf (s, " `%s()`", w);
      else
        g_string_append_printf (s, " %s", w);
    }
  g_string_append (s, ". ");
}

static char *
make_reply (guint i)
{
  GString *s = g_string_new (NULL);
  guint32 seed = i * 2654435761u;

  /* Two or three paragraphs. */
  for (guint p = 0; p < 2 + i % 2; p++)
    {
      for (guint k = 0; k < 3; k++)
        append_sentence (s, &seed, 8 + (seed >> 20) % 10);
      g_string_append (s, "\n\n");
    }
  /* A list every other reply. */
  if (i % 2 == 0)
    {
      for (guint k = 0; k < 4; k++)
        {
          g_string_append (s, "- ");
          append_sentence (s, &seed, 5 + k);
          g_string_append (s, "\n");
        }
      g_string_append (s, "\n");
    }
  /* A code block every third reply. */
  if (i % 3 == 0)
    g_string_append_printf (s,
                            "```c\n"
                            "static int\n"
                            "sum_%u (const int *values, size_t n)\n"
                            "{\n"
                            "  int total = 0;\n"
                            "\n"
                            "  for (size_t i = 0; i < n; i++)\n"
                            "    total += values[i];\n"
                            "  return total;\n"
                            "}\n"
                            "```\n\n",
                            i);
  append_sentence (s, &seed, 12);
  return g_string_free (s, FALSE);
}

static void
populate_job (ConfabStore *store,
              GTask       *task,
              gpointer     data)
{
  guint n = GPOINTER_TO_UINT (data);
  g_autoptr(ConfabConversation) conversation = confab_conversation_new (0);
  GError *error = NULL;
  gint64 id;

  confab_conversation_set_title (conversation, "A very long chat");
  if (!_confab_store_exec (store, "BEGIN IMMEDIATE", &error))
    goto fail;
  id = _confab_store_insert_conversation (store, conversation, &error);
  if (id == 0)
    goto fail;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ConfabMessage) message = NULL;
      g_autofree char *text = NULL;

      if (i % 2 == 0)
        {
          guint32 seed = i;
          GString *s = g_string_new ("Question ");

          g_string_append_printf (s, "%u: ", i / 2);
          append_sentence (s, &seed, 10 + i % 7);
          text = g_string_free (s, FALSE);
          message = confab_message_new (CONFAB_ROLE_USER, text);
        }
      else
        {
          text = make_reply (i);
          message = confab_message_new (CONFAB_ROLE_ASSISTANT, text);
          confab_message_set_model (message, "test-model");
        }
      confab_message_set_state (message, CONFAB_MESSAGE_COMPLETE);
      confab_message_set_created_at (message, 1700000000000 + i);
      if (_confab_store_insert_message (store, id, message, &error) == 0)
        goto fail;
    }
  if (!_confab_store_exec (store, "COMMIT", &error))
    goto fail;
  g_task_return_int (task, id);
  return;

fail:
  _confab_store_exec (store, "ROLLBACK", NULL);
  g_task_return_error (task, error);
}

/* The server thread -------------------------------------------------------- */

typedef struct
{
  guint      n_tokens;
  guint      tokens_per_event;
  guint      delay_ms;
  GMutex     lock;
  GCond      cond;
  char      *url;
  GMainLoop *loop;
  ConfabTestServer *server;
  gsize      body_size;
  guint      n_events;
} ServerThread;

/* The generator's stream, re-framed with @per tokens in each event: one
 * event per 1 ms step is what the server can pace, so more tokens per
 * event gives a faster stream. */
static GBytes *
make_stream (guint  n_tokens,
             guint  per,
             guint *n_events)
{
  g_autoptr(GBytes) generated = confab_test_generate_openai_stream (n_tokens, NULL);
  const char *data = g_bytes_get_data (generated, NULL);
  GString *body = g_string_new (NULL);
  GString *content = g_string_new (NULL);
  const char *p = data;
  guint in_event = 0;
  static const char prefix[] =
    "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
  static const char suffix[] = "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";

  *n_events = 0;
  while ((p = strstr (p, "\"delta\":{\"content\":\"")) != NULL)
    {
      const char *start = p + strlen ("\"delta\":{\"content\":\"");
      const char *end = strstr (start, "\"},\"logprobs\"");

      g_assert (end != NULL);
      if (end > start)
        {
          g_string_append_len (content, start, end - start);
          if (++in_event == per)
            {
              g_string_append_printf (body, "%s%s%s", prefix, content->str, suffix);
              g_string_truncate (content, 0);
              in_event = 0;
              (*n_events)++;
            }
        }
      p = end;
    }
  if (in_event > 0)
    {
      g_string_append_printf (body, "%s%s%s", prefix, content->str, suffix);
      (*n_events)++;
    }
  g_string_append (body,
                   "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                   "\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                   "\"finish_reason\":\"stop\"}]}\n\n"
                   "data: [DONE]\n\n");
  g_string_free (content, TRUE);
  return g_string_free_to_bytes (body);
}

static gpointer
server_thread (gpointer data)
{
  ServerThread *st = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  ConfabTestResponse *response;
  g_autoptr(GBytes) stream = NULL;

  g_main_context_push_thread_default (context);
  st->server = confab_test_server_new ();
  response = confab_test_server_add_response (st->server, "/v1/models", 200);
  confab_test_response_set_body_string (response, "{\"object\":\"list\",\"data\":[{\"id\":\"test-model\"}]}");
  stream = make_stream (st->n_tokens, st->tokens_per_event, &st->n_events);
  st->body_size = g_bytes_get_size (stream);
  response = confab_test_server_add_response (st->server, "/v1/chat/completions", 200);
  confab_test_response_set_body (response, stream);
  confab_test_response_set_content_type (response, "text/event-stream");
  confab_test_response_set_framing (response, CONFAB_TEST_FRAMING_EVENT);
  confab_test_response_set_delay (response, st->delay_ms);

  st->loop = g_main_loop_new (context, FALSE);
  g_mutex_lock (&st->lock);
  st->url = g_strdup (confab_test_server_get_url (st->server));
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);

  g_main_loop_run (st->loop);

  g_clear_object (&st->server);
  g_main_loop_unref (st->loop);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static gboolean
quit_loop_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static guint
env_uint (const char *name,
          guint       fallback)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? (guint) g_ascii_strtoull (value, NULL, 10) : fallback;
}

/* Start-up with many conversations ---------------------------------------- */

static void
populate_many_job (ConfabStore *store,
                   GTask       *task,
                   gpointer     data)
{
  guint n = GPOINTER_TO_UINT (data);
  GError *error = NULL;

  if (!_confab_store_exec (store, "BEGIN IMMEDIATE", &error))
    goto fail;
  for (guint c = 0; c < n; c++)
    {
      g_autoptr(ConfabConversation) conversation = confab_conversation_new (0);
      g_autofree char *title = g_strdup_printf ("Conversation %u about buffers and frames", c);
      gint64 id;

      confab_conversation_set_title (conversation, title);
      confab_conversation_set_model (conversation, "test-model");
      if ((id = _confab_store_insert_conversation (store, conversation, &error)) == 0)
        goto fail;
      for (guint i = 0; i < 6; i++)
        {
          g_autofree char *text = make_reply (c * 6 + i);
          g_autoptr(ConfabMessage) message = confab_message_new (i % 2 ? CONFAB_ROLE_ASSISTANT : CONFAB_ROLE_USER, text);

          confab_message_set_state (message, CONFAB_MESSAGE_COMPLETE);
          confab_message_set_created_at (message, 1700000000000 + c * 10 + i);
          if (_confab_store_insert_message (store, id, message, &error) == 0)
            goto fail;
        }
    }
  if (!_confab_store_exec (store, "COMMIT", &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  _confab_store_exec (store, "ROLLBACK", NULL);
  g_task_return_error (task, error);
}

static gint64 startup_painted;

static void
startup_paint_cb (GdkFrameClock *clock,
                  gpointer       user_data)
{
  GtkListView *list = GTK_LIST_VIEW (child ("conversation_list"));

  if (startup_painted == 0 && g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list))) > 0)
    startup_painted = g_get_monotonic_time ();
}

static int
startup_main (const char *dir,
              gint64      t_main)
{
  g_autofree char *db_path = g_build_filename (dir, "confab.db", NULL);
  g_autoptr(GError) error = NULL;
  gint64 t_activate;
  GtkListView *list;

  if (!g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(ConfabStore) store = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      guint n = env_uint ("BENCH_CONVERSATIONS", 1000);
      GTask *task;
      gint64 t0 = g_get_monotonic_time ();

      confab_store_new_async (db_path, NULL, result_cb, &result);
      WAIT_FOR (result != NULL);
      store = confab_store_new_finish (result, &error);
      g_assert_no_error (error);
      g_clear_object (&result);
      task = g_task_new (store, NULL, result_cb, &result);
      _confab_store_run (store, task, populate_many_job, GUINT_TO_POINTER (n), NULL);
      g_object_unref (task);
      WAIT_FOR (result != NULL);
      g_assert_true (g_task_propagate_boolean (G_TASK (result), &error));
      g_assert_no_error (error);
      printf ("RESULT startup_populate_ms=%.0f conversations=%u\n", (g_get_monotonic_time () - t0) / 1000.0, n);
      return 0;
    }

  app = confab_application_new ();
  {
    g_autofree char *id = g_strdup_printf ("io.github.confab.Confab.UiBench.S%d", (int)getpid ());

    g_application_set_application_id (G_APPLICATION (app), id);
  }
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  confab_application_set_store_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  t_activate = g_get_monotonic_time ();
  g_application_activate (G_APPLICATION (app));
  window = CONFAB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  WAIT_FOR (gtk_widget_get_realized (GTK_WIDGET (window)));
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                    G_CALLBACK (startup_paint_cb), NULL);
  WAIT_FOR (startup_painted != 0);
  list = GTK_LIST_VIEW (child ("conversation_list"));
  printf ("RESULT startup_first_frame_ms=%.1f startup_from_activate_ms=%.1f startup_listed=%u\n",
          (startup_painted - t_main) / 1000.0, (startup_painted - t_activate) / 1000.0,
          g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list))));
  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&app);
  return 0;
}

/* -------------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  guint n_messages_target = env_uint ("BENCH_MESSAGES", 5000);
  guint n_opens = MAX (1, env_uint ("BENCH_OPENS", 3));
  ServerThread st = { 0 };
  GThread *thread;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *api_url = NULL;
  gint64 conversation_id;
  GdkFrameClock *clock;
  GtkScrolledWindow *scroller;
  GtkAdjustment *vadj;
  gint64 t_main = g_get_monotonic_time ();

  if (!gtk_init_check ())
    {
      fprintf (stderr, "ui-bench: no display (run it under xvfb-run)\n");
      return 2;
    }
  if (argc == 3 && g_str_equal (argv[1], "startup"))
    return startup_main (argv[2], t_main);

  st.n_tokens = env_uint ("BENCH_TOKENS", 20000);
  st.tokens_per_event = MAX (1, env_uint ("BENCH_TOKENS_PER_EVENT", 6));
  st.delay_ms = env_uint ("BENCH_DELAY_MS", 1);
  g_mutex_init (&st.lock);
  g_cond_init (&st.cond);
  thread = g_thread_new ("bench-server", server_thread, &st);
  g_mutex_lock (&st.lock);
  while (st.url == NULL)
    g_cond_wait (&st.cond, &st.lock);
  g_mutex_unlock (&st.lock);

  dir = g_dir_make_tmp ("confab-ui-bench-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (dir, "confab.db", NULL);
  api_url = g_strconcat (st.url, "/v1", NULL);

  /* The provider, and the long conversation in one transaction. */
  {
    g_autoptr(ConfabStore) store = NULL;
    g_autoptr(ConfabProviderConfig) config = NULL;
    GTask *task;
    gint64 t0;

    confab_store_new_async (db_path, NULL, result_cb, &result);
    WAIT_FOR (result != NULL);
    store = confab_store_new_finish (result, &error);
    g_assert_no_error (error);
    g_clear_object (&result);

    config = confab_provider_config_new ("local", "openai", api_url);
    confab_store_save_provider_async (store, config, NULL, result_cb, &result);
    WAIT_FOR (result != NULL);
    g_assert_true (confab_store_save_provider_finish (store, result, &error));
    g_assert_no_error (error);
    g_clear_object (&result);

    t0 = g_get_monotonic_time ();
    task = g_task_new (store, NULL, result_cb, &result);
    _confab_store_run (store, task, populate_job, GUINT_TO_POINTER (n_messages_target), NULL);
    g_object_unref (task);
    WAIT_FOR (result != NULL);
    conversation_id = g_task_propagate_int (G_TASK (result), &error);
    g_assert_no_error (error);
    g_clear_object (&result);
    printf ("RESULT populate_ms=%.0f messages=%u\n", (g_get_monotonic_time () - t0) / 1000.0, n_messages_target);
  }

  frame_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  paint_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  tick_gaps = g_array_new (FALSE, FALSE, sizeof (gint64));
  layout_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  paint_work_times = g_array_new (FALSE, FALSE, sizeof (gint64));

  app = confab_application_new ();
  {
    g_autofree char *id = g_strdup_printf ("io.github.confab.Confab.UiBench.P%d", (int)getpid ());

    g_application_set_application_id (G_APPLICATION (app), id);
  }
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  confab_application_set_store_path (app, db_path);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = CONFAB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 780);

  WAIT_FOR (confab_application_get_store (app) != NULL &&
            g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (child ("model_dropdown")))) == 1);
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (window)));

  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), NULL);
  g_signal_connect (clock, "layout", G_CALLBACK (layout_cb), NULL);
  g_signal_connect (clock, "paint", G_CALLBACK (paint_cb), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
  g_timeout_add (1, tick_cb, NULL);
  wait_paints (3);

  printf ("RESULT renderer=%s\n", G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));
  printf ("RESULT rss_idle_mb=%.1f hwm_idle_mb=%.1f\n", vm_rss_mb (), vm_hwm_mb ());

  scroller = GTK_SCROLLED_WINDOW (child ("scroller"));
  vadj = gtk_scrolled_window_get_vadjustment (scroller);

  /* 1. Opening the long chat, n_opens times (the first one cold). */
  /* The window shows the newest 40 first and loads older ones on scrolling up. */
  open_target = MIN (n_messages_target, 40);
  for (guint run = 0; run < n_opens; run++)
    {
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-chat", NULL));
      WAIT_FOR (n_messages () == 0);
      wait_paints (3);

      start_recording ();
      open_model_full = open_painted = 0;
      open_start = g_get_monotonic_time ();
      confab_window_show_conversation (window, conversation_id);
      WAIT_FOR (open_painted != 0);
      printf ("RESULT open%u_model_ms=%.1f open%u_first_frame_ms=%.1f\n",
              run, (open_model_full - open_start) / 1000.0, run, (open_painted - open_start) / 1000.0);
      open_start = 0;
      wait_paints (5);
      print_recording (run == 0 ? "open0" : "openN");
      printf ("RESULT open%u_rows=%u open%u_hwm_mb=%.1f open%u_rss_mb=%.1f\n",
              run, count_rows (GTK_WIDGET (child ("message_list"))), run, vm_hwm_mb (), run, vm_rss_mb ());
    }

  /* Scroll to the end: the list estimates the heights of rows it has not
   * built, so the upper bound moves as it goes; repeat until it settles. */
  {
    gint64 t0 = g_get_monotonic_time ();
    guint steps = 0;

    start_recording ();
    for (; steps < 200; steps++)
      {
        double bottom = gtk_adjustment_get_upper (vadj) - gtk_adjustment_get_page_size (vadj);

        if (steps > 0 && gtk_adjustment_get_value (vadj) >= bottom - 0.5)
          break;
        gtk_adjustment_set_value (vadj, bottom);
        wait_paints (3);
      }
    printf ("RESULT scroll_end_ms=%.1f scroll_end_steps=%u\n", (g_get_monotonic_time () - t0) / 1000.0, steps);
    print_recording ("scroll");
    printf ("RESULT scrolled_rows=%u scrolled_hwm_mb=%.1f scrolled_rss_mb=%.1f\n",
            count_rows (GTK_WIDGET (child ("message_list"))), vm_hwm_mb (), vm_rss_mb ());

    /* And page through the whole chat from the top, 40 pages. */
    gtk_adjustment_set_value (vadj, 0);
    wait_paints (3);
    t0 = g_get_monotonic_time ();
    start_recording ();
    for (guint i = 0; i < 40; i++)
      {
        double upper = gtk_adjustment_get_upper (vadj) - gtk_adjustment_get_page_size (vadj);

        gtk_adjustment_set_value (vadj, upper * (i + 1) / 40.0);
        wait_paints (1);
      }
    printf ("RESULT page40_ms=%.1f\n", (g_get_monotonic_time () - t0) / 1000.0);
    print_recording ("page");
    printf ("RESULT paged_rows=%u paged_hwm_mb=%.1f paged_rss_mb=%.1f\n",
            count_rows (GTK_WIDGET (child ("message_list"))), vm_hwm_mb (), vm_rss_mb ());
  }

  /* 2. Streaming, in a new chat. */
  {
    GtkTextView *composer = GTK_TEXT_VIEW (child ("composer_view"));
    ConfabMessage *reply;
    gint64 t_send, t_first = 0, t_done;
    guint content_len;

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-chat", NULL));
    WAIT_FOR (n_messages () == 0);
    wait_paints (3);

    gtk_text_buffer_set_text (gtk_text_view_get_buffer (composer), "Stream me a long answer", -1);
    start_recording ();
    t_send = g_get_monotonic_time ();
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
    WAIT_FOR (n_messages () == 2);
    reply = g_object_ref (message_at (1));
    while (confab_message_get_state (reply) == CONFAB_MESSAGE_STREAMING)
      {
        if (t_first == 0 && confab_message_get_live_reply (reply) != NULL &&
            confab_reply_get_text (confab_message_get_live_reply (reply))[0] != '\0')
          t_first = g_get_monotonic_time ();
        g_main_context_iteration (NULL, TRUE);
      }
    t_done = g_get_monotonic_time ();
    recording = FALSE;
    content_len = strlen (confab_message_get_content (reply));
    if (t_first == 0)
      t_first = t_send;
    printf ("RESULT stream_state=%s stream_chars=%u stream_tokens=%u stream_events=%u tokens_per_event=%u delay_ms=%u\n",
            confab_message_state_to_string (confab_message_get_state (reply)), content_len, st.n_tokens,
            st.n_events, st.tokens_per_event, st.delay_ms);
    printf ("RESULT stream_first_token_ms=%.1f stream_ms=%.1f stream_tokens_per_s=%.0f\n",
            (t_first - t_send) / 1000.0, (t_done - t_first) / 1000.0,
            st.n_tokens / ((t_done - t_first) / 1e6));
    print_recording ("stream");
    printf ("RESULT stream_rows=%u stream_hwm_mb=%.1f\n",
            count_rows (GTK_WIDGET (child ("message_list"))), vm_hwm_mb ());
    g_object_unref (reply);
  }

  /* The second after the stream ended (the final render and save), then
   * an idle second as the control, same process. */
  start_recording ();
  {
    gint64 t0 = g_get_monotonic_time ();

    while (g_get_monotonic_time () < t0 + 2 * G_USEC_PER_SEC)
      g_main_context_iteration (NULL, TRUE);
  }
  print_recording ("after_stream");
  start_recording ();
  {
    gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, TRUE);
  }
  print_recording ("idle");

  /* 2b. Reopening the chat just streamed, whose reply is about 93 KB of
   * Markdown: the time to the first frame that shows it. */
  {
    GListModel *conversations = G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (child ("conversation_list"))));
    g_autoptr(ConfabConversation) streamed = g_list_model_get_item (conversations, 0);
    gint64 streamed_id = confab_conversation_get_id (streamed);

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-chat", NULL));
    WAIT_FOR (n_messages () == 0);
    wait_paints (3);

    start_recording ();
    open_target = 2;
    open_model_full = open_painted = 0;
    open_start = g_get_monotonic_time ();
    confab_window_show_conversation (window, streamed_id);
    WAIT_FOR (open_painted != 0);
    printf ("RESULT reopen_first_frame_ms=%.1f\n", (open_painted - open_start) / 1000.0);
    open_start = 0;
    wait_paints (30);
    print_recording ("reopen");
  }

  /* 3. Pasting 1 MB into the composer, as Ctrl+V does: in lines of 80
   * characters, then as one line. */
  {
    GtkTextView *composer = GTK_TEXT_VIEW (child ("composer_view"));
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (composer);
    GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (composer));
    static const char * const kinds[] = { "lines", "one_line" };

    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        g_autoptr(GString) text = g_string_sized_new (1 << 20);
        guint32 seed = 7;
        gint64 t0, t_in, t_painted;
        guint paints;
        int n_chars;

        while (text->len < (1 << 20))
          {
            gsize line_start = text->len;

            while (text->len - line_start < 80)
              append_sentence (text, &seed, 6);
            g_string_truncate (text, line_start + 79);
            g_string_append_c (text, k == 0 ? '\n' : ' ');
          }
        g_string_truncate (text, 1 << 20);
        n_chars = (int) g_utf8_strlen (text->str, -1);

        gtk_text_buffer_set_text (buffer, "", 0);
        gtk_widget_grab_focus (GTK_WIDGET (composer));
        gdk_clipboard_set_text (clipboard, text->str);
        wait_paints (3);

        start_recording ();
        t0 = g_get_monotonic_time ();
        g_signal_emit_by_name (composer, "paste-clipboard");
        WAIT_FOR (gtk_text_buffer_get_char_count (buffer) == n_chars);
        t_in = g_get_monotonic_time ();
        paints = n_paints;
        WAIT_FOR (n_paints > paints);
        t_painted = g_get_monotonic_time ();
        wait_paints (10);
        printf ("RESULT paste_%s_bytes=%u paste_%s_in_ms=%.1f paste_%s_frame_ms=%.1f\n",
                kinds[k], (guint) text->len, kinds[k], (t_in - t0) / 1000.0, kinds[k], (t_painted - t0) / 1000.0);
        print_recording (k == 0 ? "paste_lines" : "paste_one_line");

        /* Sending what was pasted in lines: the user's row with 1 MB. */
        if (k == 0)
          {
            guint before = n_messages ();

            start_recording ();
            t0 = g_get_monotonic_time ();
            g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
            WAIT_FOR (n_messages () >= before + 2);
            paints = n_paints;
            WAIT_FOR (n_paints > paints);
            t_painted = g_get_monotonic_time ();
            while (confab_message_get_state (message_at (n_messages () - 1)) == CONFAB_MESSAGE_STREAMING)
              g_main_context_iteration (NULL, TRUE);
            wait_paints (10);
            printf ("RESULT send_big_frame_ms=%.1f\n", (t_painted - t0) / 1000.0);
            print_recording ("send_big");
          }
      }
    gtk_text_buffer_set_text (buffer, "", 0);
  }

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&app);

  g_main_context_invoke (g_main_loop_get_context (st.loop), quit_loop_cb, st.loop);
  g_thread_join (thread);

  for (guint i = 0; i < 4; i++)
    {
      static const char * const suffixes[] = { "", "-wal", "-shm", ".lock" };
      g_autofree char *path = g_strconcat (db_path, suffixes[i], NULL);

      g_remove (path);
    }
  g_rmdir (dir);
  return 0;
}
