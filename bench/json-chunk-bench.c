/* json-chunk-bench.c: the cost of parsing one OpenAI stream chunk.
 *
 * Parses one typical ~250-byte (254 bytes) chat.completion.chunk ITERATIONS times
 * (default 1,000,000) with json-glib (JsonParser + json_parser_load_from_data)
 * and with cJSON (cJSON_ParseWithLength), extracting choices[0].delta.content
 * each time, and prints the time per parse.  This is the per-token work a
 * streaming client does, and the reason Confab parses stream chunks with
 * cJSON (docs/benchmarks.md, "Why cJSON for stream chunks").
 *
 * Hand-run, not part of the build:
 *
 *   cc -O2 -o /tmp/json-chunk-bench bench/json-chunk-bench.c \
 *      $(pkg-config --cflags --libs json-glib-1.0 libcjson)
 *   /tmp/json-chunk-bench [ITERATIONS]
 */

#include <cjson/cJSON.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char chunk[] =
  "{\"id\":\"chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012\",\"object\":\"chat.completion.chunk\","
  "\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_0ba0d124f1\","
  "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" streaming\"},\"logprobs\":null,"
  "\"finish_reason\":null}]}";

static const char expected_content[] = " streaming";

typedef struct
{
  double wall_s;
  double cpu_s;
} Timing;

static double
now (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
check (const char *who, const char *content)
{
  if (content == NULL || strcmp (content, expected_content) != 0)
    {
      fprintf (stderr, "%s: wrong content '%s'\n", who, content ? content : "(null)");
      exit (1);
    }
}

/* json-glib, one JsonParser reused for every chunk (the cheapest way to use it). */
static size_t
parse_json_glib_reused (JsonParser *parser)
{
  GError *error = NULL;
  JsonObject *obj, *choice, *delta;
  JsonArray *choices;
  const char *content;

  if (!json_parser_load_from_data (parser, chunk, sizeof chunk - 1, &error))
    {
      fprintf (stderr, "json-glib: %s\n", error->message);
      exit (1);
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  choices = json_object_get_array_member (obj, "choices");
  choice = json_array_get_object_element (choices, 0);
  delta = json_object_get_object_member (choice, "delta");
  content = json_object_get_string_member (delta, "content");
  check ("json-glib", content);
  return strlen (content);
}

/* json-glib, a new JsonParser per chunk (what most callers write). */
static size_t
parse_json_glib_new (void)
{
  JsonParser *parser = json_parser_new ();
  size_t n = parse_json_glib_reused (parser);

  g_object_unref (parser);
  return n;
}

static size_t
parse_cjson (void)
{
  cJSON *root = cJSON_ParseWithLength (chunk, sizeof chunk - 1);
  const cJSON *choices, *choice, *delta, *content;
  size_t n;

  if (root == NULL)
    {
      fprintf (stderr, "cJSON: parse error\n");
      exit (1);
    }
  choices = cJSON_GetObjectItemCaseSensitive (root, "choices");
  choice = cJSON_GetArrayItem (choices, 0);
  delta = cJSON_GetObjectItemCaseSensitive (choice, "delta");
  content = cJSON_GetObjectItemCaseSensitive (delta, "content");
  check ("cJSON", cJSON_IsString (content) ? content->valuestring : NULL);
  n = strlen (content->valuestring);
  cJSON_Delete (root);
  return n;
}

enum { JSON_GLIB_REUSED, JSON_GLIB_NEW, CJSON };

static Timing
run (int which, long iterations, JsonParser *parser, size_t *sink)
{
  Timing t;
  double w0 = now (CLOCK_MONOTONIC), c0 = now (CLOCK_PROCESS_CPUTIME_ID);

  for (long i = 0; i < iterations; i++)
    {
      switch (which)
        {
        case JSON_GLIB_REUSED: *sink += parse_json_glib_reused (parser); break;
        case JSON_GLIB_NEW:    *sink += parse_json_glib_new (); break;
        case CJSON:            *sink += parse_cjson (); break;
        default: break;
        }
    }
  t.wall_s = now (CLOCK_MONOTONIC) - w0;
  t.cpu_s = now (CLOCK_PROCESS_CPUTIME_ID) - c0;
  return t;
}

int
main (int argc, char **argv)
{
  long iterations = argc > 1 ? strtol (argv[1], NULL, 10) : 1000000;
  const char *names[] = {
    "json-glib (JsonParser reused)",
    "json-glib (new JsonParser per chunk)",
    "cJSON (cJSON_ParseWithLength)",
  };
  double per_parse[3];
  JsonParser *parser = json_parser_new ();
  size_t sink = 0;

  if (iterations <= 0)
    {
      fprintf (stderr, "usage: %s [ITERATIONS]\n", argv[0]);
      return 2;
    }

  printf ("chunk: %zu bytes, %ld parses each, extracting choices[0].delta.content\n",
          sizeof chunk - 1, iterations);
  printf ("json-glib %d.%d.%d, cJSON %s\n",
          JSON_MAJOR_VERSION, JSON_MINOR_VERSION, JSON_MICRO_VERSION, cJSON_Version ());

  for (int which = 0; which < 3; which++)
    {
      Timing t;

      run (which, iterations / 100 + 1, parser, &sink); /* warm up */
      t = run (which, iterations, parser, &sink);
      per_parse[which] = t.cpu_s * 1e6 / (double) iterations;
      printf ("%-38s %7.3f us/parse CPU  (%7.3f us wall, %.2f s total)\n",
              names[which], per_parse[which], t.wall_s * 1e6 / (double) iterations, t.wall_s);
    }
  printf ("json-glib reused / cJSON: %.1fx   json-glib new parser / cJSON: %.1fx\n",
          per_parse[JSON_GLIB_REUSED] / per_parse[CJSON],
          per_parse[JSON_GLIB_NEW] / per_parse[CJSON]);

  g_object_unref (parser);
  return sink == 0; /* keeps the work observable */
}
