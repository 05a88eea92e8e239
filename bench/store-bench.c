/* store-bench.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* How fast the conversation store opens, lists and searches a large
 * database, and whether the main loop stays responsive meanwhile. Run by
 * bench/run-store-bench.sh; see bench/README.md.
 *
 *   store-bench populate DB N_CONVERSATIONS MESSAGES_PER_CONVERSATION
 *   store-bench startup DB
 *   store-bench search DB QUERY...
 *   store-bench version            the generator, schema, SQLite and GLib versions
 *
 * Everything goes through the public asynchronous API of ConfabStore, as
 * the app uses it: SQLite runs on the store's worker thread and this
 * program's main thread only iterates its main loop. A 1 ms timeout on
 * that loop records the longest gap between two of its runs (how long the
 * main thread was unable to draw a frame or take input), and the main
 * thread's own CPU time is read around each measurement.
 *
 * Results are printed as one "RESULT" line per measurement (key=value
 * pairs, times in milliseconds) for the script to parse; progress and
 * errors go to stderr.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "confab-store.h"

/* Bump when the generated text changes, so that cached databases made by
 * an older generator are not reused (the script puts it in the file name). */
#define GENERATOR_VERSION 1

#define SEED 20260101u
#define CONVERSATIONS_IN_FLIGHT 8
#define SEARCH_RUNS 10
#define SEARCH_LIMIT 20
#define LIST_LIMIT 50

/* Main-loop responsiveness */

typedef struct
{
  gint64 last;
  gint64 max_gap;
  guint  source_id;
} StallMonitor;

static StallMonitor monitor;

static gboolean
monitor_tick_cb (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  monitor.max_gap = MAX (monitor.max_gap, now - monitor.last);
  monitor.last = now;
  return G_SOURCE_CONTINUE;
}

static void
monitor_start (void)
{
  if (monitor.source_id == 0)
    monitor.source_id = g_timeout_add (1, monitor_tick_cb, NULL);
  monitor.last = g_get_monotonic_time ();
  monitor.max_gap = 0;
}

/* The longest the main loop went without running the timeout, up to now
 * (a gap still open counts too). About 1 ms when it is never blocked. */
static double
monitor_max_gap_ms (void)
{
  gint64 open_gap = g_get_monotonic_time () - monitor.last;

  return MAX (monitor.max_gap, open_gap) / 1000.0;
}

/* Waiting for a result while the main loop runs */

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

/* CPU time of the calling thread: what the main thread itself spent,
 * whatever the scheduler did to its wall time. */
static double
thread_cpu_ms (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

static ConfabStore *
open_store (const char *path,
            double     *open_ms)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  ConfabStore *store;
  gint64 start = g_get_monotonic_time ();

  confab_store_new_async (path, NULL, store_result_cb, &result);
  store = confab_store_new_finish (wait_for (&result), &error);
  if (open_ms != NULL)
    *open_ms = ms_since (start);

  if (store == NULL)
    g_error ("Could not open %s: %s", path, error->message);
  if (confab_store_get_mode (store) != CONFAB_STORE_READ_WRITE)
    g_error ("%s did not open read-write: %s", path,
             confab_store_get_open_error (store) != NULL
             ? confab_store_get_open_error (store)->message : "unknown reason");
  return store;
}

static void
close_store (ConfabStore *store)
{
  gpointer alive = store;

  /* Finished tasks still hold the store until the worker releases them on
   * this context; the last reference closes the database (checkpointing
   * the WAL into it) and joins the worker. */
  g_object_add_weak_pointer (G_OBJECT (store), &alive);
  g_object_unref (store);
  while (alive != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a;
  double y = *(const double *)b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* The lower middle one for an even count, like the script. */
static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof (double), compare_doubles);
  return values[(n - 1) / 2];
}

/* Text generator: deterministic, English-like, Zipf-distributed words of
 * a programming chat, with rare words (each in about 0.02 % of messages)
 * so that searches have selective and common terms, and code blocks. */

static const char * const common_words[] = {
  "the", "to", "a", "of", "and", "is", "in", "you", "that", "it", "for", "this", "can", "be", "with",
  "on", "as", "if", "are", "use", "not", "or", "by", "your", "function", "code", "data", "an", "from",
  "will", "value", "file", "when", "which", "we", "have", "at", "so", "but", "each", "error", "one",
  "all", "example", "then", "set", "need", "way", "also", "more", "like", "should", "type", "string",
  "list", "memory", "thread", "return", "call", "time", "new", "make", "first", "test", "using", "how",
  "these", "there", "their", "other", "any", "because", "only", "what", "where", "into", "than",
  "server", "request", "buffer", "cache", "loop", "main", "user", "could", "would", "instead", "does",
  "do", "case", "check", "run", "build", "library", "object", "pointer", "array", "size", "number",
  "result", "query", "database", "index", "table", "key", "variable", "method", "class", "model",
  "input", "output", "line", "system", "process", "update", "change", "version", "problem", "issue",
  "leak", "free", "allocate", "performance", "optimize", "option", "configure", "path", "directory",
  "network", "socket", "event", "signal", "handler", "callback", "async", "task", "queue", "lock",
  "mutex", "race", "condition", "safe", "compile", "compiler", "warning", "flag", "link", "header",
  "module", "package", "install", "dependency", "project", "script", "shell", "command", "argument",
  "parameter", "default", "format", "parse", "parser", "token", "stream", "chunk", "json", "http",
  "response", "status", "client", "api", "endpoint", "service", "container", "image", "deploy",
  "release", "debug", "log", "trace", "profile", "benchmark", "measure", "latency", "throughput",
  "fast", "slow", "small", "large", "simple", "complex", "good", "better", "best", "important",
  "different", "same", "easy", "hard", "common", "specific", "general", "right", "wrong", "true",
  "false", "null", "empty", "full", "start", "stop", "open", "close", "read", "write", "save", "load",
  "delete", "insert", "select", "sort", "search", "find", "match", "filter", "map", "reduce", "group",
  "merge", "split", "join", "copy", "move", "keep", "let", "see", "look", "think", "know", "want",
  "try", "work", "works", "working", "help", "understand", "explain", "describe", "show", "note",
  "remember", "consider", "suggest", "recommend", "happen", "cause", "reason", "answer", "question",
  "idea", "approach", "solution", "step", "part", "point", "detail", "section", "word", "sentence",
  "paragraph", "text", "story", "history", "book", "recipe", "garden", "travel", "music", "weather",
  "health", "exercise", "sleep", "coffee", "water", "energy", "money", "budget", "plan", "schedule",
  "meeting", "email", "letter", "team", "manager", "customer", "product", "design", "color", "font",
  "layout", "window", "button", "dialog", "widget", "screen", "keyboard", "mouse", "battery",
  "kernel", "driver", "device", "disk", "partition", "backup", "restore", "password", "security",
  "encryption", "certificate", "permission", "account", "login", "session", "cookie", "browser",
  "page", "website", "translation", "language", "grammar", "french", "german", "spanish", "english",
  "math", "equation", "matrix", "vector", "graph", "probability", "statistics", "average", "median",
  "variance", "sum", "integer", "float", "double", "char", "struct", "enum", "union", "macro",
  "template", "generic", "trait", "interface", "implementation", "inheritance", "closure", "lambda",
  "recursion", "iterator", "generator", "exception", "panic", "assert", "undefined", "behavior",
  "overflow", "underflow", "segmentation", "fault", "crash", "core", "dump", "stack", "heap",
  "garbage", "collector", "reference", "count", "borrow", "ownership", "lifetime", "optimization",
  "optimal", "optimizer", "schema", "migration", "transaction", "commit", "rollback", "snapshot",
  "replica", "shard", "partitioning", "vacuum", "checkpoint", "journal", "wal", "fsync",
};

/* Each rare word lands in a few dozen of 100,000 messages. */
static const char * const rare_words[] = {
  "quokka", "zeugma", "palimpsest", "syzygy", "defenestration", "kerfuffle", "sesquipedalian",
  "borborygmus", "callipygian", "floccinaucinihilipilification", "gobbledygook", "hullabaloo",
  "lollygag", "nudiustertian", "ossify", "pettifogger", "quincunx", "rambunctious", "skullduggery",
  "tatterdemalion", "ululate", "vexillology", "wabbit", "xertz", "yarborough", "zenzizenzizenzic",
  "abecedarian", "bumfuzzle", "cattywampus", "dongle", "erinaceous", "fartlek", "gardyloo",
  "hemidemisemiquaver", "impignorate", "jentacular", "kakorrhaphiophobia", "lamprophony",
  "meldrop", "nimbleness",
};

static const char * const models[] = {
  "llama3.1:8b", "qwen2.5-coder:7b", "gpt-4o-mini", "mistral-nemo", "gemma2:9b",
};

static double word_cdf[G_N_ELEMENTS (common_words)];

static void
init_words (void)
{
  double total = 0;

  /* Zipf's law, s = 1 */
  for (guint i = 0; i < G_N_ELEMENTS (common_words); i++)
    {
      total += 1.0 / (i + 1);
      word_cdf[i] = total;
    }
  for (guint i = 0; i < G_N_ELEMENTS (common_words); i++)
    word_cdf[i] /= total;
}

static const char *
random_word (GRand *rand)
{
  double u;
  guint lo = 0;
  guint hi = G_N_ELEMENTS (common_words) - 1;

  /* About one word in 20,000 is rare. */
  if (g_rand_int_range (rand, 0, 20000) == 0)
    return rare_words[g_rand_int_range (rand, 0, G_N_ELEMENTS (rare_words))];

  u = g_rand_double (rand);
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (word_cdf[mid] < u)
        lo = mid + 1;
      else
        hi = mid;
    }
  return common_words[lo];
}

/* Words, not counting the very common ones: for titles and identifiers. */
static const char *
random_content_word (GRand *rand)
{
  return common_words[g_rand_int_range (rand, 40, G_N_ELEMENTS (common_words))];
}

static guint
append_sentence (GString    *text,
                 GRand      *rand,
                 const char *end)
{
  guint n = g_rand_int_range (rand, 6, 21);

  for (guint i = 0; i < n; i++)
    {
      const char *word = random_word (rand);

      if (i == 0)
        {
          g_string_append_c (text, g_ascii_toupper (word[0]));
          g_string_append (text, word + 1);
        }
      else
        {
          g_string_append_c (text, ' ');
          g_string_append (text, word);
          if (i < n - 1 && g_rand_int_range (rand, 0, 12) == 0)
            g_string_append_c (text, ',');
        }
    }
  g_string_append (text, end);
  return n;
}

static guint
append_code_block (GString *text,
                   GRand   *rand)
{
  const char *a = random_content_word (rand);
  const char *b = random_content_word (rand);
  const char *c = random_content_word (rand);

  switch (g_rand_int_range (rand, 0, 3))
    {
    case 0:
      g_string_append_printf (text,
                              "\n\n```c\n"
                              "static gboolean\n"
                              "%s_%s (Confab%s *self,\n"
                              "        GError **error)\n"
                              "{\n"
                              "  g_autoptr(GBytes) %s = NULL;\n"
                              "\n"
                              "  if (self->%s == NULL)\n"
                              "    return FALSE;\n"
                              "  return %s_%s_finish (self, error);\n"
                              "}\n"
                              "```\n\n",
                              a, b, c, c, a, b, c);
      return 24;
    case 1:
      g_string_append_printf (text,
                              "\n\n```python\n"
                              "def %s_%s(%s, limit=10):\n"
                              "    for item in %s:\n"
                              "        if item.%s is None:\n"
                              "            continue\n"
                              "        yield item.%s\n"
                              "```\n\n",
                              a, b, c, c, a, b);
      return 18;
    default:
      g_string_append_printf (text,
                              "\n\n```sh\n"
                              "meson setup _build -D%s=true\n"
                              "meson compile -C _build %s-%s\n"
                              "```\n\n",
                              a, b, c);
      return 10;
    }
}

/* About @n_words words of prose in paragraphs, sometimes a list, with a
 * code block in a quarter of the calls that ask for one. */
static char *
generate_text (GRand      *rand,
               guint       n_words,
               gboolean    may_have_code,
               const char *end)
{
  GString *text = g_string_new (NULL);
  gboolean has_code = may_have_code && g_rand_int_range (rand, 0, 4) == 0;
  guint words = 0;
  guint sentences = 0;

  while (words < n_words)
    {
      if (sentences > 0)
        {
          if (sentences % 4 == 0)
            g_string_append (text, "\n\n");
          else
            g_string_append_c (text, ' ');
        }

      if (sentences == 3 && g_rand_int_range (rand, 0, 5) == 0)
        {
          for (guint i = 0; i < 3; i++)
            {
              g_string_append (text, "\n- ");
              words += append_sentence (text, rand, ";");
            }
          g_string_append (text, "\n\n");
        }

      words += append_sentence (text, rand, sentences == 0 ? end : ".");
      sentences++;

      if (has_code && words >= n_words / 2)
        {
          words += append_code_block (text, rand);
          has_code = FALSE;
          sentences = 0;
        }
    }

  return g_string_free (text, FALSE);
}

static char *
generate_title (GRand *rand)
{
  GString *title = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 2, 6);

  for (guint i = 0; i < n; i++)
    {
      const char *word = random_content_word (rand);

      if (i > 0)
        g_string_append_c (title, ' ');
      g_string_append (title, word);
    }
  title->str[0] = g_ascii_toupper (title->str[0]);
  return g_string_free (title, FALSE);
}

/* populate */

typedef struct
{
  ConfabStore *store;
  guint        n_conversations;
  guint        n_messages;
  guint        next;          /* the next conversation to create */
  guint        in_flight;     /* conversations not yet fully written */
  guint        done;
  guint64      n_bytes;
  gint64       start;
  gint64       last_report;
  GError      *error;
} Populate;

typedef struct
{
  Populate *populate;
  guint     index;
  guint     pending;          /* messages queued and not yet saved */
} PopulateConversation;

static void create_next_conversation (Populate *populate);

static GRand *
conversation_rand (guint index)
{
  return g_rand_new_with_seed (SEED ^ (index * 2654435761u));
}

/* Created over the last 400 days, oldest first, like a year of use. */
static gint64
conversation_time (Populate *populate,
                   guint     index)
{
  gint64 now = g_get_real_time () / 1000;
  gint64 span = (gint64)400 * 24 * 3600 * 1000;

  return now - span + span * index / MAX (populate->n_conversations, 1);
}

static void
message_added_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PopulateConversation *conversation = user_data;
  Populate *populate = conversation->populate;
  g_autoptr(GError) error = NULL;

  if (confab_store_add_message_finish (CONFAB_STORE (source), result, &error) == 0 &&
      populate->error == NULL)
    populate->error = g_steal_pointer (&error);

  if (--conversation->pending > 0)
    return;

  populate->in_flight--;
  populate->done++;
  g_free (conversation);

  if (populate->done % 500 == 0 || populate->done == populate->n_conversations)
    {
      gint64 now = g_get_monotonic_time ();
      double seconds = (now - populate->start) / (double)G_USEC_PER_SEC;

      g_printerr ("  %u/%u conversations, %.1f s, %.0f messages/s\n",
                  populate->done, populate->n_conversations, seconds,
                  populate->done * (double)populate->n_messages / MAX (seconds, 1e-6));
      populate->last_report = now;
    }

  create_next_conversation (populate);
}

static void
conversation_created_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  PopulateConversation *conversation = user_data;
  Populate *populate = conversation->populate;
  g_autoptr(ConfabConversation) created = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  const char *model;
  gint64 time;

  created = confab_store_create_conversation_finish (CONFAB_STORE (source), result, &error);
  if (created == NULL)
    {
      if (populate->error == NULL)
        populate->error = g_steal_pointer (&error);
      populate->in_flight--;
      g_free (conversation);
      return;
    }

  /* Its own seed: the text does not depend on the order jobs finish in. */
  rand = conversation_rand (conversation->index);
  model = confab_conversation_get_model (created);
  time = conversation_time (populate, conversation->index);

  for (guint i = 0; i < populate->n_messages; i++)
    {
      g_autoptr(ConfabMessage) message = NULL;
      g_autofree char *text = NULL;
      gboolean assistant = i % 2 == 1;

      if (assistant)
        text = generate_text (rand, g_rand_int_range (rand, 150, 451), TRUE, ".");
      else
        text = generate_text (rand, g_rand_int_range (rand, 10, 60), g_rand_int_range (rand, 0, 4) == 0, "?");

      message = confab_message_new (assistant ? CONFAB_ROLE_ASSISTANT : CONFAB_ROLE_USER, text);
      populate->n_bytes += strlen (text);
      time += g_rand_int_range (rand, 5000, 120000);
      confab_message_set_created_at (message, time);
      if (assistant)
        {
          g_autofree char *reasoning = NULL;

          if (g_rand_int_range (rand, 0, 7) == 0)
            {
              reasoning = generate_text (rand, g_rand_int_range (rand, 40, 120), FALSE, ".");
              confab_message_set_reasoning (message, reasoning);
              populate->n_bytes += strlen (reasoning);
            }
          confab_message_set_model (message, model);
          confab_message_set_usage (message, g_rand_int_range (rand, 50, 4000), g_rand_int_range (rand, 100, 900));
          confab_message_set_finished_at (message, time + g_rand_int_range (rand, 500, 30000));
        }

      conversation->pending++;
      confab_store_add_message_async (populate->store, confab_conversation_get_id (created), message,
                                      NULL, message_added_cb, conversation);
    }

  if (conversation->pending == 0)
    {
      populate->in_flight--;
      populate->done++;
      g_free (conversation);
      create_next_conversation (populate);
    }
}

static void
create_next_conversation (Populate *populate)
{
  while (populate->error == NULL &&
         populate->next < populate->n_conversations &&
         populate->in_flight < CONVERSATIONS_IN_FLIGHT)
    {
      g_autoptr(ConfabConversation) conversation = confab_conversation_new (0);
      g_autoptr(GRand) rand = NULL;
      g_autofree char *title = NULL;
      PopulateConversation *data;
      guint index = populate->next++;

      /* A different seed from the messages' (the index's complement). */
      rand = conversation_rand (~index);
      title = generate_title (rand);
      confab_conversation_set_title (conversation, title);
      confab_conversation_set_provider (conversation, index % 3 == 0 ? "openai" : "ollama");
      confab_conversation_set_model (conversation, models[g_rand_int_range (rand, 0, G_N_ELEMENTS (models))]);
      confab_conversation_set_created_at (conversation, conversation_time (populate, index));
      confab_conversation_set_updated_at (conversation, conversation_time (populate, index));
      /* A few pinned (old ones, so pinning matters), one in ten archived. */
      confab_conversation_set_pinned (conversation, index % 2500 == 100);
      confab_conversation_set_archived (conversation, index % 10 == 7);
      if (index % 5 == 0)
        confab_conversation_set_system_prompt (conversation, "You are a helpful assistant. Answer briefly.");

      data = g_new0 (PopulateConversation, 1);
      data->populate = populate;
      data->index = index;
      populate->in_flight++;
      confab_store_create_conversation_async (populate->store, conversation, NULL,
                                              conversation_created_cb, data);
    }
}

static int
run_populate (const char *path,
              guint       n_conversations,
              guint       n_messages)
{
  Populate populate = { 0, };
  double seconds;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr ("%s exists; populate writes a new database\n", path);
      return 1;
    }

  populate.store = open_store (path, NULL);
  populate.n_conversations = n_conversations;
  populate.n_messages = n_messages;
  populate.start = g_get_monotonic_time ();

  g_printerr ("Populating %s: %u conversations x %u messages, one transaction per call "
              "(confab_store_create_conversation_async, confab_store_add_message_async)\n",
              path, n_conversations, n_messages);

  create_next_conversation (&populate);
  while (populate.in_flight > 0)
    g_main_context_iteration (NULL, TRUE);

  seconds = (g_get_monotonic_time () - populate.start) / (double)G_USEC_PER_SEC;
  close_store (populate.store);

  if (populate.error != NULL)
    {
      g_printerr ("Populating failed: %s\n", populate.error->message);
      g_error_free (populate.error);
      return 1;
    }

  printf ("RESULT populate conversations=%u messages=%u text_bytes=%" G_GUINT64_FORMAT
           " seconds=%.1f messages_per_s=%.0f method=public-async generator=%d\n",
           n_conversations, n_conversations * n_messages, populate.n_bytes, seconds,
           n_conversations * (double)n_messages / MAX (seconds, 1e-6), GENERATOR_VERSION);
  return 0;
}

/* startup */

static GPtrArray *
list_conversations (ConfabStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *conversations;

  confab_store_list_conversations_async (store, LIST_LIMIT, FALSE, NULL, store_result_cb, &result);
  conversations = confab_store_list_conversations_finish (store, wait_for (&result), &error);
  if (conversations == NULL)
    g_error ("Listing failed: %s", error->message);
  return conversations;
}

static int
run_startup (const char *path)
{
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  ConfabStore *store;
  gint64 start;
  double open_ms;
  double total_ms;
  double warm_ms;
  double gap_ms;
  double cpu_ms;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("No database %s\n", path);
      return 1;
    }

  /* What the app does at start-up: open, then list the most recent. */
  monitor_start ();
  cpu_ms = thread_cpu_ms ();
  start = g_get_monotonic_time ();
  store = open_store (path, &open_ms);
  first = list_conversations (store);
  total_ms = ms_since (start);
  gap_ms = monitor_max_gap_ms ();
  cpu_ms = thread_cpu_ms () - cpu_ms;

  start = g_get_monotonic_time ();
  second = list_conversations (store);
  warm_ms = ms_since (start);

  if (first->len != LIST_LIMIT || second->len != LIST_LIMIT)
    g_printerr ("warning: listed %u and %u conversations, not %d\n", first->len, second->len, LIST_LIMIT);

  printf ("RESULT startup total_ms=%.3f open_ms=%.3f list_ms=%.3f warm_list_ms=%.3f rows=%u "
           "max_main_gap_ms=%.3f main_cpu_ms=%.3f statements=%u first=\"%s\" first_pinned=%d\n",
           total_ms, open_ms, total_ms - open_ms, warm_ms, first->len, gap_ms, cpu_ms,
           confab_store_get_n_statements (store),
           first->len > 0 ? confab_conversation_get_title (g_ptr_array_index (first, 0)) : "",
           first->len > 0 ? confab_conversation_get_pinned (g_ptr_array_index (first, 0)) : 0);

  close_store (store);
  return 0;
}

/* search */

static GPtrArray *
search (ConfabStore *store,
        const char  *query,
        guint        limit,
        double      *ms)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *hits;
  gint64 start = g_get_monotonic_time ();

  confab_store_search_async (store, query, limit, NULL, store_result_cb, &result);
  hits = confab_store_search_finish (store, wait_for (&result), &error);
  *ms = ms_since (start);
  if (hits == NULL)
    g_error ("Searching for %s failed: %s", query, error->message);
  return hits;
}

/* The store runs one job at a time: how long a quick job (listing the
 * conversations, 0.2 ms alone) waits when queued right behind a search,
 * and behind a search that is cancelled as soon as it has started on the
 * worker, as search-as-you-type does when the next key is typed. */
static void
measure_queued_behind (ConfabStore *store,
                       const char  *query,
                       double      *behind_ms,
                       double      *cancelled_behind_ms)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) search_result = NULL;
      g_autoptr(GAsyncResult) list_result = NULL;
      g_autoptr(GPtrArray) hits = NULL;
      g_autoptr(GPtrArray) conversations = NULL;
      guint n_statements;
      gint64 start;

      n_statements = confab_store_get_n_statements (store);
      confab_store_search_async (store, query, SEARCH_LIMIT, cancellable, store_result_cb, &search_result);
      if (i == 1)
        {
          /* Once its statement runs on the worker (the store counts
           * statements as they start), cancel it. */
          while (confab_store_get_n_statements (store) == n_statements && search_result == NULL)
            g_main_context_iteration (NULL, FALSE);
          g_cancellable_cancel (cancellable);
        }

      start = g_get_monotonic_time ();
      confab_store_list_conversations_async (store, LIST_LIMIT, FALSE, NULL, store_result_cb, &list_result);
      conversations = confab_store_list_conversations_finish (store, wait_for (&list_result), NULL);
      *(i == 0 ? behind_ms : cancelled_behind_ms) = ms_since (start);

      hits = confab_store_search_finish (store, wait_for (&search_result), NULL);
    }
}

static char *
escape_value (const char *value)
{
  g_autoptr(GString) escaped = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (escaped, '\\');
      g_string_append_c (escaped, *p == '\n' ? ' ' : *p);
    }
  return g_string_free (g_steal_pointer (&escaped), FALSE);
}

static int
run_search (const char  *path,
            char       **queries)
{
  ConfabStore *store;
  double open_ms;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr ("No database %s\n", path);
      return 1;
    }

  store = open_store (path, &open_ms);
  printf ("RESULT search-open open_ms=%.3f\n", open_ms);

  /* The control: the longest gap of an idle main loop on this machine,
   * and the CPU the 1 ms timeout itself costs the main thread. */
  {
    gint64 start = g_get_monotonic_time ();
    double cpu_ms = thread_cpu_ms ();

    monitor_start ();
    while (g_get_monotonic_time () < start + 500 * 1000)
      g_main_context_iteration (NULL, TRUE);
    cpu_ms = thread_cpu_ms () - cpu_ms;
    printf ("RESULT idle seconds=0.5 max_main_gap_ms=%.3f main_cpu_pct=%.2f\n",
            monitor_max_gap_ms (), 100 * cpu_ms / ms_since (start));
  }

  for (guint q = 0; queries[q] != NULL; q++)
    {
      g_autoptr(GPtrArray) first = NULL;
      g_autoptr(GPtrArray) all = NULL;
      g_autofree char *query = escape_value (queries[q]);
      g_autofree char *snippet = NULL;
      double times[SEARCH_RUNS];
      double first_ms;
      double all_ms;
      double gap_ms;
      double min_ms;
      double max_ms;
      double behind_ms;
      double cancelled_behind_ms;
      double cpu_ms;
      double window_ms;
      gint64 window_start;
      guint hits = 0;

      monitor_start ();
      window_start = g_get_monotonic_time ();
      cpu_ms = thread_cpu_ms ();

      /* The first run pays for preparing the statement and for pages not
       * yet in SQLite's cache; reported apart. */
      first = search (store, queries[q], SEARCH_LIMIT, &first_ms);
      for (guint i = 0; i < SEARCH_RUNS; i++)
        {
          g_autoptr(GPtrArray) again = search (store, queries[q], SEARCH_LIMIT, &times[i]);

          hits = again->len;
        }

      /* Everything that matches, to count it (and what that costs). */
      all = search (store, queries[q], 0, &all_ms);
      gap_ms = monitor_max_gap_ms ();
      cpu_ms = thread_cpu_ms () - cpu_ms;
      window_ms = ms_since (window_start);

      /* Not in the two above: it busy-waits for the worker. */
      measure_queued_behind (store, queries[q], &behind_ms, &cancelled_behind_ms);

      snippet = escape_value (first->len > 0 ? ((ConfabSearchHit *)g_ptr_array_index (first, 0))->snippet : "");
      min_ms = times[0];
      max_ms = times[0];
      for (guint i = 1; i < SEARCH_RUNS; i++)
        {
          min_ms = MIN (min_ms, times[i]);
          max_ms = MAX (max_ms, times[i]);
        }

      printf ("RESULT search query=\"%s\" hits=%u matches=%u runs=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f "
               "first_ms=%.3f all_ms=%.3f list_behind_ms=%.3f list_behind_cancelled_ms=%.3f "
               "max_main_gap_ms=%.3f main_cpu_ms=%.3f main_cpu_pct=%.2f snippet=\"%s\"\n",
               query, hits, all->len, SEARCH_RUNS, median (times, SEARCH_RUNS), min_ms, max_ms,
               first_ms, all_ms, behind_ms, cancelled_behind_ms, gap_ms, cpu_ms, 100 * cpu_ms / window_ms,
               snippet);
    }

  close_store (store);
  return 0;
}

static int
usage (void)
{
  g_printerr ("Usage:\n"
              "  store-bench populate DB N_CONVERSATIONS MESSAGES_PER_CONVERSATION\n"
              "  store-bench startup DB\n"
              "  store-bench search DB QUERY...\n"
              "  store-bench version\n");
  return 2;
}

static gboolean
parse_count (const char *text,
             guint      *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT32 / 1000, &value, NULL))
    return FALSE;
  *out = (guint)value;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  /* No setlocale(): the RESULT lines keep a "." in numbers and are
   * printed with stdio, unconverted, in UTF-8. */
  init_words ();

  if (argc == 2 && g_str_equal (argv[1], "version"))
    {
      printf ("generator=%d schema=%d sqlite=%s glib=%u.%u.%u\n", GENERATOR_VERSION, CONFAB_STORE_SCHEMA_VERSION,
              sqlite3_libversion (), glib_major_version, glib_minor_version, glib_micro_version);
      return 0;
    }

  if (argc == 5 && g_str_equal (argv[1], "populate"))
    {
      guint n_conversations;
      guint n_messages;

      if (!parse_count (argv[3], &n_conversations) || !parse_count (argv[4], &n_messages))
        return usage ();
      return run_populate (argv[2], n_conversations, n_messages);
    }

  if (argc == 3 && g_str_equal (argv[1], "startup"))
    return run_startup (argv[2]);

  if (argc >= 4 && g_str_equal (argv[1], "search"))
    return run_search (argv[2], argv + 3);

  return usage ();
}
