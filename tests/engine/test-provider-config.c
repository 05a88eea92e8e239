/* test-provider-config.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Provider configurations (validation, headers, the providers table of a
 * real store in a temporary directory, the providers they make, checked
 * against a ConfabTestServer) and the discovery of local servers, against
 * several test servers at once. No test sleeps: each iterates the main
 * context until what it waits for has happened.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "confab-engine.h"
#include "confab-test-server.h"

/* Server-side delay of the discovery test's answers: every probe must
 * have arrived before the first answer can leave. */
#define DISCOVERY_DELAY_MS 250

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert_null (wait->result);
  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Wait *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

static void
wait_clear (Wait *wait)
{
  g_clear_object (&wait->result);
}

/* Runs what is queued (libsoup's cleanup). */
static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The worker drops its last task reference on the main context: wait for
 * it, so the store (and its thread) really ends here. */
static void
close_store (ConfabStore *store)
{
  g_object_add_weak_pointer (G_OBJECT (store), (gpointer *)&store);
  g_object_unref (store);
  while (store != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Validation */

static void
assert_invalid (ConfabProviderConfig *config,
                int                   code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (confab_provider_config_validate (config, &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, code);
  g_assert_nonnull (error->message);
}

static void
test_validate_name (void)
{
  const char *bad[] = { "", "a b", "a/b", "caf\xc3\xa9", "tab\t", "a:b", "x=y" };
  g_autofree char *longest = g_strnfill (64, 'a');
  g_autofree char *too_long = g_strnfill (65, 'a');
  g_autoptr(GError) error = NULL;

  g_assert_true (confab_provider_config_validate_name ("a", NULL));
  g_assert_true (confab_provider_config_validate_name ("Open-Router_2.eu", NULL));
  g_assert_true (confab_provider_config_validate_name (longest, NULL));

  g_assert_false (confab_provider_config_validate_name (NULL, &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME);
  g_clear_error (&error);

  g_assert_false (confab_provider_config_validate_name (too_long, &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME);
  g_assert_nonnull (strstr (error->message, "64"));
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(ConfabProviderConfig) config = confab_provider_config_new (bad[i], "openai", "http://h");

      g_assert_false (confab_provider_config_validate_name (bad[i], &error));
      g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);

      assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME);
    }
}

static void
test_validate_api_and_url (void)
{
  const char *good_apis[] = { "openai", "ollama", "anthropic" };
  const char *bad_apis[] = { "", "OpenAI", "gemini", "openai " };
  const char *good_urls[] = { "http://127.0.0.1:8080/v1", "https://api.anthropic.com", "HTTP://[::1]:11434",
                              "https://openrouter.ai/api/v1/" };
  const char *bad_urls[] = { "", "127.0.0.1:8080", "ftp://example.com", "http://", "http:///v1",
                             "file:///etc/passwd", "not a url", "https://user:secret@example.com/v1" };
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("local", NULL, "http://h");
  g_autoptr(GError) error = NULL;

  assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API);

  for (guint i = 0; i < G_N_ELEMENTS (good_apis); i++)
    {
      confab_provider_config_set_api (config, good_apis[i]);
      g_assert_true (confab_provider_config_validate (config, NULL));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_apis); i++)
    {
      confab_provider_config_set_api (config, bad_apis[i]);
      assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API);
    }

  confab_provider_config_set_api (config, "openai");
  confab_provider_config_set_base_url (config, NULL);
  assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL);

  for (guint i = 0; i < G_N_ELEMENTS (good_urls); i++)
    {
      confab_provider_config_set_base_url (config, good_urls[i]);
      g_assert_true (confab_provider_config_validate (config, NULL));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_urls); i++)
    {
      confab_provider_config_set_base_url (config, bad_urls[i]);
      assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL);
    }

  /* A password in the URL is never repeated in the message. */
  confab_provider_config_set_base_url (config, "https://user:secret@example.com/v1");
  g_assert_false (confab_provider_config_validate (config, &error));
  g_assert_null (strstr (error->message, "secret"));
}

static void
test_validate_headers (void)
{
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("or", "openai", "https://h/v1");
  const char *credentials[] = { "Authorization", "authorization", "X-API-Key", "api-key", "Proxy-Authorization",
                                "Cookie" };

  confab_provider_config_set_header (config, "HTTP-Referer", "https://confab.example");
  confab_provider_config_set_header (config, "X-Title", "Confab");
  g_assert_true (confab_provider_config_validate (config, NULL));

  confab_provider_config_set_header (config, "Bad Header", "x");
  assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER);
  confab_provider_config_set_header (config, "Bad Header", NULL);

  confab_provider_config_set_header (config, "X-Split", "a\r\nInjected: yes");
  assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER);
  confab_provider_config_set_header (config, "x-split", NULL);
  g_assert_true (confab_provider_config_validate (config, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (credentials); i++)
    {
      confab_provider_config_set_header (config, credentials[i], "Bearer sk-test");
      assert_invalid (config, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER);
      confab_provider_config_set_header (config, credentials[i], NULL);
    }
  g_assert_true (confab_provider_config_validate (config, NULL));
}

static void
test_headers_json (void)
{
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("or", "openai", "https://h/v1");
  g_autoptr(ConfabProviderConfig) copy = confab_provider_config_new ("or", "openai", "https://h/v1");
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *empty = NULL;
  g_auto(GStrv) names = NULL;
  const char * const expected_names[] = { "HTTP-Referer", "X-Title", NULL };

  empty = confab_provider_config_dup_headers_json (config);
  g_assert_cmpstr (empty, ==, "{}");

  confab_provider_config_set_header (config, "X-Title", "Con\"fab");
  confab_provider_config_set_header (config, "HTTP-Referer", "https://example.com");
  /* Names compare without case: this replaces. */
  confab_provider_config_set_header (config, "x-title", "Confab \xe2\x9c\x93");
  g_assert_cmpstr (confab_provider_config_get_header (config, "X-TITLE"), ==, "Confab \xe2\x9c\x93");

  names = confab_provider_config_dup_header_names (config);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, expected_names[0]);
  g_assert_cmpint (g_ascii_strcasecmp (names[1], "x-title"), ==, 0);

  json = confab_provider_config_dup_headers_json (config);
  g_assert_true (confab_provider_config_set_headers_json (copy, json, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (confab_provider_config_get_header (copy, "http-referer"), ==, "https://example.com");
  g_assert_cmpstr (confab_provider_config_get_header (copy, "X-Title"), ==, "Confab \xe2\x9c\x93");

  /* A bad document leaves the headers as they were. */
  g_assert_false (confab_provider_config_set_headers_json (copy, "[\"a\"]", &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (confab_provider_config_set_headers_json (copy, "{\"a\": 1}", &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (confab_provider_config_set_headers_json (copy, "{", &error));
  g_assert_nonnull (error);
  g_assert_cmpstr (confab_provider_config_get_header (copy, "X-Title"), ==, "Confab \xe2\x9c\x93");
}

/* The store */

typedef struct
{
  char        *dir;
  char        *path;
  ConfabStore *store;
} StoreFixture;

static void
store_fixture_set_up (StoreFixture  *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL };

  fixture->dir = g_dir_make_tmp ("confab-providers-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "confab.db", NULL);

  confab_store_new_async (fixture->path, NULL, wait_cb, &wait);
  fixture->store = confab_store_new_finish (wait_result (&wait), &error);
  g_assert_no_error (error);
  g_assert_null (confab_store_get_open_error (fixture->store));
  wait_clear (&wait);
}

static void
store_fixture_tear_down (StoreFixture  *fixture,
                         gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  close_store (g_steal_pointer (&fixture->store));

  dir = g_dir_open (fixture->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (fixture->dir, name, NULL);
      g_assert_cmpint (g_remove (file), ==, 0);
    }
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);

  g_free (fixture->path);
  g_free (fixture->dir);
}

static GPtrArray *
list_providers (ConfabStore *store)
{
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL };
  GPtrArray *configs;

  confab_store_list_providers_async (store, NULL, wait_cb, &wait);
  configs = confab_store_list_providers_finish (store, wait_result (&wait), &error);
  g_assert_no_error (error);
  g_assert_nonnull (configs);
  wait_clear (&wait);

  return configs;
}

static gboolean
save_provider (ConfabStore           *store,
               ConfabProviderConfig  *config,
               GError               **error)
{
  Wait wait = { NULL };
  gboolean ok;

  confab_store_save_provider_async (store, config, NULL, wait_cb, &wait);
  ok = confab_store_save_provider_finish (store, wait_result (&wait), error);
  wait_clear (&wait);

  return ok;
}

static gboolean
remove_provider (ConfabStore  *store,
                 const char   *name,
                 GError      **error)
{
  Wait wait = { NULL };
  gboolean ok;

  confab_store_remove_provider_async (store, name, NULL, wait_cb, &wait);
  ok = confab_store_remove_provider_finish (store, wait_result (&wait), error);
  wait_clear (&wait);

  return ok;
}

static void
test_store_round_trip (StoreFixture  *fixture,
                       gconstpointer  data)
{
  g_autoptr(ConfabProviderConfig) router = confab_provider_config_new ("openrouter", "openai",
                                                                      "https://openrouter.ai/api/v1");
  g_autoptr(ConfabProviderConfig) local = confab_provider_config_new ("local", "ollama", "http://127.0.0.1:11434");
  g_autoptr(ConfabProviderConfig) bad = confab_provider_config_new ("bad name", "openai", "http://h");
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *headers = NULL;
  ConfabProviderConfig *config;
  gint64 created_at;

  configs = list_providers (fixture->store);
  g_assert_cmpuint (configs->len, ==, 0);
  g_clear_pointer (&configs, g_ptr_array_unref);

  confab_provider_config_set_default_model (router, "anthropic/claude-sonnet-4");
  confab_provider_config_set_header (router, "HTTP-Referer", "https://confab.example");
  confab_provider_config_set_header (router, "X-Title", "Confab");
  g_assert_true (save_provider (fixture->store, router, &error));
  g_assert_no_error (error);
  g_assert_true (save_provider (fixture->store, local, &error));
  g_assert_no_error (error);

  /* Invalid configurations never reach the table. */
  g_assert_false (save_provider (fixture->store, bad, &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME);
  g_clear_error (&error);

  /* Sorted by name. */
  configs = list_providers (fixture->store);
  g_assert_cmpuint (configs->len, ==, 2);
  config = g_ptr_array_index (configs, 0);
  g_assert_cmpstr (confab_provider_config_get_name (config), ==, "local");
  g_assert_cmpstr (confab_provider_config_get_api (config), ==, "ollama");
  g_assert_cmpstr (confab_provider_config_get_base_url (config), ==, "http://127.0.0.1:11434");
  g_assert_null (confab_provider_config_get_default_model (config));
  headers = confab_provider_config_dup_headers_json (config);
  g_assert_cmpstr (headers, ==, "{}");
  config = g_ptr_array_index (configs, 1);
  g_assert_cmpstr (confab_provider_config_get_name (config), ==, "openrouter");
  g_assert_cmpstr (confab_provider_config_get_api (config), ==, "openai");
  g_assert_cmpstr (confab_provider_config_get_base_url (config), ==, "https://openrouter.ai/api/v1");
  g_assert_cmpstr (confab_provider_config_get_default_model (config), ==, "anthropic/claude-sonnet-4");
  g_assert_cmpstr (confab_provider_config_get_header (config, "HTTP-Referer"), ==, "https://confab.example");
  g_assert_cmpstr (confab_provider_config_get_header (config, "X-Title"), ==, "Confab");
  created_at = confab_provider_config_get_created_at (config);
  g_assert_cmpint (created_at, >, 0);
  g_clear_pointer (&configs, g_ptr_array_unref);

  /* Saving under the same name replaces, keeping the creation time. */
  confab_provider_config_set_base_url (router, "https://eu.openrouter.ai/api/v1");
  confab_provider_config_set_default_model (router, NULL);
  confab_provider_config_set_header (router, "X-Title", NULL);
  g_assert_true (save_provider (fixture->store, router, &error));
  g_assert_no_error (error);

  configs = list_providers (fixture->store);
  g_assert_cmpuint (configs->len, ==, 2);
  config = g_ptr_array_index (configs, 1);
  g_assert_cmpstr (confab_provider_config_get_name (config), ==, "openrouter");
  g_assert_cmpstr (confab_provider_config_get_base_url (config), ==, "https://eu.openrouter.ai/api/v1");
  g_assert_null (confab_provider_config_get_default_model (config));
  g_assert_null (confab_provider_config_get_header (config, "X-Title"));
  g_assert_cmpstr (confab_provider_config_get_header (config, "HTTP-Referer"), ==, "https://confab.example");
  g_assert_cmpint (confab_provider_config_get_created_at (config), ==, created_at);
  g_clear_pointer (&configs, g_ptr_array_unref);

  /* Remove, then remove again. */
  g_assert_true (remove_provider (fixture->store, "local", &error));
  g_assert_no_error (error);
  g_assert_false (remove_provider (fixture->store, "local", &error));
  g_assert_error (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "local"));
  g_clear_error (&error);

  configs = list_providers (fixture->store);
  g_assert_cmpuint (configs->len, ==, 1);
  g_assert_cmpstr (confab_provider_config_get_name (g_ptr_array_index (configs, 0)), ==, "openrouter");
}

/* What a later process sees: the rows are in the file. */
static void
test_store_reopen (StoreFixture  *fixture,
                   gconstpointer  data)
{
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("vllm", "openai", "http://127.0.0.1:8000/v1");
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL };

  confab_provider_config_set_header (config, "X-Route", "gpu-1");
  g_assert_true (save_provider (fixture->store, config, &error));
  g_assert_no_error (error);

  close_store (g_steal_pointer (&fixture->store));

  confab_store_new_async (fixture->path, NULL, wait_cb, &wait);
  fixture->store = confab_store_new_finish (wait_result (&wait), &error);
  g_assert_no_error (error);
  wait_clear (&wait);

  configs = list_providers (fixture->store);
  g_assert_cmpuint (configs->len, ==, 1);
  g_assert_cmpstr (confab_provider_config_get_header (g_ptr_array_index (configs, 0), "x-route"), ==, "gpu-1");
}

/* Providers made from configurations */

static void
test_create_provider (void)
{
  g_autofree char *path = confab_test_fixture_path ("openai", "models.json");
  ConfabTestServer *server = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (server, "/v1/models", 200);
  g_autofree char *base_url = g_strconcat (confab_test_server_get_url (server), "/v1", NULL);
  g_autoptr(ConfabProviderConfig) config = confab_provider_config_new ("local", "openai", base_url);
  g_autoptr(ConfabProviderConfig) invalid = confab_provider_config_new ("local", "gemini", base_url);
  const char * const expected[] = { "gpt-4o-mini", "gpt-4o", NULL };
  ConfabProvider *provider;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  Wait wait = { NULL };

  confab_test_response_set_body_file (resp, path);
  confab_provider_config_set_header (config, "HTTP-Referer", "https://confab.example");
  confab_provider_config_set_header (config, "X-Title", "Confab");

  provider = confab_provider_config_create_provider (config, "sk-from-keyring", &error);
  g_assert_no_error (error);
  g_assert_true (CONFAB_IS_OPENAI_PROVIDER (provider));
  g_assert_cmpstr (confab_provider_get_api_name (provider), ==, "openai");
  g_assert_cmpstr (confab_provider_get_base_url (provider), ==, base_url);
  g_assert_cmpstr (confab_provider_get_api_key (provider), ==, "sk-from-keyring");

  confab_provider_list_models_async (provider, NULL, wait_cb, &wait);
  models = confab_provider_list_models_finish (provider, wait_result (&wait), &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (models, expected);
  wait_clear (&wait);

  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpstr (confab_test_server_get_request_path (server, 0), ==, "/v1/models");
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "Authorization"), ==, "Bearer sk-from-keyring");
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "HTTP-Referer"), ==, "https://confab.example");
  g_assert_cmpstr (confab_test_server_get_request_header (server, 0, "X-Title"), ==, "Confab");
  g_assert_finalize_object (provider);

  /* Without a key: no Authorization at all. */
  provider = confab_provider_config_create_provider (config, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (confab_provider_get_api_key (provider));
  confab_provider_list_models_async (provider, NULL, wait_cb, &wait);
  g_clear_pointer (&models, g_strfreev);
  models = confab_provider_list_models_finish (provider, wait_result (&wait), &error);
  g_assert_no_error (error);
  wait_clear (&wait);
  g_assert_cmpuint (confab_test_server_get_n_requests (server), ==, 2);
  g_assert_null (confab_test_server_get_request_header (server, 1, "Authorization"));
  g_assert_cmpstr (confab_test_server_get_request_header (server, 1, "X-Title"), ==, "Confab");
  g_assert_finalize_object (provider);

  /* Each API gets its own class. */
  confab_provider_config_set_api (config, "ollama");
  provider = confab_provider_config_create_provider (config, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (CONFAB_IS_OLLAMA_PROVIDER (provider));
  g_assert_finalize_object (provider);
  confab_provider_config_set_api (config, "anthropic");
  provider = confab_provider_config_create_provider (config, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (CONFAB_IS_ANTHROPIC_PROVIDER (provider));
  g_assert_finalize_object (provider);

  g_assert_null (confab_provider_config_create_provider (invalid, "sk", &error));
  g_assert_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API);

  drain_main_context ();
  g_assert_finalize_object (server);
}

/* Discovery */

/* A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
static guint16
closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  return port;
}

static GPtrArray *
discover (const char * const  *candidates,
          GCancellable        *cancellable,
          GError             **error)
{
  Wait wait = { NULL };
  GPtrArray *servers;

  confab_discover_local_servers_async (candidates, cancellable, wait_cb, &wait);
  servers = confab_discover_local_servers_finish (wait_result (&wait), error);
  wait_clear (&wait);
  drain_main_context ();

  return servers;
}

static void
test_discovery (void)
{
  g_autofree char *models_path = confab_test_fixture_path ("openai", "models.json");
  g_autofree char *tags_path = confab_test_fixture_path ("ollama", "tags.json");
  ConfabTestServer *openai = confab_test_server_new ();
  ConfabTestServer *ollama = confab_test_server_new ();
  ConfabTestServer *failing = confab_test_server_new ();
  ConfabTestServer *servers[] = { openai, ollama, failing };
  ConfabTestResponse *resp;
  g_autofree char *openai_url = g_strconcat (confab_test_server_get_url (openai), "/v1", NULL);
  g_autofree char *candidate_openai = g_strconcat ("llama.cpp=openai=", openai_url, NULL);
  g_autofree char *candidate_ollama = g_strconcat ("Ollama=ollama=", confab_test_server_get_url (ollama), NULL);
  g_autofree char *candidate_failing = g_strconcat ("vLLM=openai=", confab_test_server_get_url (failing), "/v1", NULL);
  g_autofree char *candidate_closed = g_strdup_printf ("LM Studio=openai=http://127.0.0.1:%u/v1", closed_port ());
  const char * const candidates[] = { candidate_openai, candidate_closed, candidate_ollama, candidate_failing, NULL };
  const char * const openai_models[] = { "gpt-4o-mini", "gpt-4o", NULL };
  const char * const ollama_models[] = { "llama3.2:latest", NULL };
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  ConfabDiscoveredServer *server;
  gint64 first_request = G_MAXINT64;
  gint64 last_request = 0;

  /* The first candidate answers last: the result keeps candidate order. */
  resp = confab_test_server_add_response (openai, "/v1/models", 200);
  confab_test_response_set_body_file (resp, models_path);
  confab_test_response_set_delay (resp, 2 * DISCOVERY_DELAY_MS);
  resp = confab_test_server_add_response (ollama, "/api/tags", 200);
  confab_test_response_set_body_file (resp, tags_path);
  confab_test_response_set_delay (resp, DISCOVERY_DELAY_MS);
  resp = confab_test_server_add_response (failing, "/v1/models", 500);
  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"model loading failed\"}}");
  confab_test_response_set_delay (resp, DISCOVERY_DELAY_MS);

  found = discover (candidates, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  g_assert_cmpuint (found->len, ==, 2);

  server = g_ptr_array_index (found, 0);
  g_assert_cmpstr (server->name, ==, "llama.cpp");
  g_assert_cmpstr (server->api, ==, "openai");
  g_assert_cmpstr (server->base_url, ==, openai_url);
  g_assert_cmpstrv (server->models, openai_models);

  server = g_ptr_array_index (found, 1);
  g_assert_cmpstr (server->name, ==, "Ollama");
  g_assert_cmpstr (server->api, ==, "ollama");
  g_assert_cmpstr (server->base_url, ==, confab_test_server_get_url (ollama));
  g_assert_cmpstrv (server->models, ollama_models);

  /* One try each, and all at once: every server had its request before
   * the earliest answer could leave any of them (each holds its body back
   * for at least DISCOVERY_DELAY_MS after its request). Probes made one
   * after the other would have each request wait for the previous
   * answer. */
  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      gint64 t;

      g_assert_cmpuint (confab_test_server_get_n_requests (servers[i]), ==, 1);
      t = confab_test_server_get_request_time (servers[i], 0);
      first_request = MIN (first_request, t);
      last_request = MAX (last_request, t);
    }
  g_assert_cmpint (last_request, <, first_request + DISCOVERY_DELAY_MS * 1000);

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    g_assert_cmpuint (confab_test_server_get_n_active (servers[i]), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    g_assert_finalize_object (servers[i]);
}

/* A 503 is worth retrying for a chat; a probe gets one try only. */
static void
test_discovery_one_try (void)
{
  ConfabTestServer *busy = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (busy, "/v1/models", 503);
  g_autofree char *candidate = g_strconcat ("busy=openai=", confab_test_server_get_url (busy), "/v1", NULL);
  const char * const candidates[] = { candidate, NULL };
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;

  confab_test_response_set_body_string (resp, "{\"error\":{\"message\":\"loading\"}}");

  found = discover (candidates, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
  g_assert_cmpuint (confab_test_server_get_n_requests (busy), ==, 1);

  g_assert_finalize_object (busy);
}

/* A server that takes the request and never answers is given up on after
 * the probe timeout. */
static void
test_discovery_timeout (void)
{
  ConfabTestServer *silent = confab_test_server_new ();
  g_autofree char *models_path = confab_test_fixture_path ("openai", "models.json");
  ConfabTestServer *quick = confab_test_server_new ();
  ConfabTestResponse *resp;
  g_autofree char *candidate_silent = g_strconcat ("silent=openai=", confab_test_server_get_url (silent), "/v1", NULL);
  g_autofree char *candidate_quick = g_strconcat ("quick=openai=", confab_test_server_get_url (quick), "/v1", NULL);
  const char * const candidates[] = { candidate_silent, candidate_quick, NULL };
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  gint64 elapsed;

  resp = confab_test_server_add_response (silent, "/v1/models", 200);
  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_NO_RESPONSE, 0);
  resp = confab_test_server_add_response (quick, "/v1/models", 200);
  confab_test_response_set_body_file (resp, models_path);

  start = g_get_monotonic_time ();
  found = discover (candidates, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((ConfabDiscoveredServer *)g_ptr_array_index (found, 0))->name, ==, "quick");
  g_assert_cmpuint (confab_test_server_get_n_requests (silent), ==, 1);

  /* It waited for the silent one, and only about as long as the timeout
   * (the watchdog looks every half second). */
  g_assert_cmpint (elapsed, >=, CONFAB_DISCOVERY_TIMEOUT_S * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);

  g_assert_finalize_object (silent);
  g_assert_finalize_object (quick);
}

static void
test_discovery_cancel (void)
{
  ConfabTestServer *silent = confab_test_server_new ();
  ConfabTestResponse *resp = confab_test_server_add_response (silent, "/api/tags", 200);
  g_autofree char *candidate = g_strconcat ("silent=ollama=", confab_test_server_get_url (silent), NULL);
  const char * const candidates[] = { candidate, NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { NULL };

  confab_test_response_set_fault (resp, CONFAB_TEST_FAULT_NO_RESPONSE, 0);

  confab_discover_local_servers_async (candidates, cancellable, wait_cb, &wait);
  while (confab_test_server_get_n_requests (silent) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);

  found = confab_discover_local_servers_finish (wait_result (&wait), &error);
  g_assert_null (found);
  g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_CANCELLED);
  wait_clear (&wait);

  drain_main_context ();
  g_assert_finalize_object (silent);
}

static void
test_discovery_invalid (void)
{
  const char *bad[] = { "nope", "=openai=http://127.0.0.1:1/v1", "x=gemini=http://127.0.0.1:1",
                        "x=openai=ftp://127.0.0.1:1", "x=openai" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char * const candidates[] = { "ok=openai=http://127.0.0.1:1/v1", bad[i], NULL };
      g_autoptr(GPtrArray) found = NULL;
      g_autoptr(GError) error = NULL;

      found = discover (candidates, NULL, &error);
      g_assert_null (found);
      g_assert_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_discovery_empty_and_defaults (void)
{
  const char * const none[] = { NULL };
  const char * const expected[] = {
    "Ollama=ollama=http://127.0.0.1:11434",
    "llama.cpp=openai=http://127.0.0.1:8080/v1",
    "vLLM=openai=http://127.0.0.1:8000/v1",
    "LM Studio=openai=http://127.0.0.1:1234/v1",
    NULL
  };
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstrv (confab_discovery_get_default_candidates (), expected);

  found = discover (none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/provider-config/validate/name", test_validate_name);
  g_test_add_func ("/provider-config/validate/api-and-url", test_validate_api_and_url);
  g_test_add_func ("/provider-config/validate/headers", test_validate_headers);
  g_test_add_func ("/provider-config/headers-json", test_headers_json);
  g_test_add ("/provider-config/store/round-trip", StoreFixture, NULL,
              store_fixture_set_up, test_store_round_trip, store_fixture_tear_down);
  g_test_add ("/provider-config/store/reopen", StoreFixture, NULL,
              store_fixture_set_up, test_store_reopen, store_fixture_tear_down);
  g_test_add_func ("/provider-config/create-provider", test_create_provider);
  g_test_add_func ("/discovery/servers", test_discovery);
  g_test_add_func ("/discovery/one-try", test_discovery_one_try);
  g_test_add_func ("/discovery/timeout", test_discovery_timeout);
  g_test_add_func ("/discovery/cancel", test_discovery_cancel);
  g_test_add_func ("/discovery/invalid", test_discovery_invalid);
  g_test_add_func ("/discovery/empty-and-defaults", test_discovery_empty_and_defaults);

  return g_test_run ();
}
