/* confab-discovery.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-discovery.h"
#include "confab-error.h"
#include "confab-provider.h"

/* Finds model servers running on this machine by asking each usual
 * address for its model list. All probes start at once and the answer
 * comes when the last one has answered or failed, so the whole search
 * takes as long as the slowest probe (at most the timeout), not the sum.
 * A probe that fails (refused, timed out, an HTTP error, not the expected
 * JSON) only means nothing usable is there. */

typedef struct
{
  GTask          *task;
  char           *name;
  ConfabProvider *provider;
  GStrv           models;
} Probe;

typedef struct
{
  GPtrArray *probes;
  guint      pending;
} DiscoverData;

static const char * const default_candidates[] = {
  "Ollama=ollama=http://127.0.0.1:11434",
  "llama.cpp=openai=http://127.0.0.1:8080/v1",
  "vLLM=openai=http://127.0.0.1:8000/v1",
  "LM Studio=openai=http://127.0.0.1:1234/v1",
  NULL
};

static void
probe_free (gpointer data)
{
  Probe *probe = data;

  g_assert (probe->task == NULL);
  g_free (probe->name);
  g_clear_object (&probe->provider);
  g_strfreev (probe->models);
  g_free (probe);
}

static void
discover_data_free (gpointer data)
{
  DiscoverData *discover = data;

  g_ptr_array_unref (discover->probes);
  g_free (discover);
}

/* "NAME=API=URL"; the URL may itself contain '='. */
static Probe *
probe_new (const char  *candidate,
           GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (candidate, "=", 3);
  g_autoptr(GError) local_error = NULL;
  Probe *probe;

  if (g_strv_length (parts) != 3 || parts[0][0] == '\0')
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s is what the user gave; NAME, API and URL are the
                    * parts it should have, as in the command's usage text. */
                   _("“%s” is not a server to look for: expected NAME=API=URL"), candidate);
      return NULL;
    }

  probe = g_new0 (Probe, 1);
  probe->name = g_strdup (parts[0]);
  probe->provider = confab_provider_new_for_api (parts[1], parts[2], &local_error);
  if (probe->provider == NULL)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: the first %s is what the user gave, the second says
                    * what is wrong with it. */
                   _("“%s” is not a server to look for: %s"), candidate, local_error->message);
      probe_free (probe);
      return NULL;
    }

  /* A probe must be quick: nothing listening is the usual answer. */
  confab_provider_set_max_tries (probe->provider, 1);
  confab_provider_set_timeout (probe->provider, CONFAB_DISCOVERY_TIMEOUT_S);

  return probe;
}

static void
return_servers (GTask *task)
{
  DiscoverData *discover = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GPtrArray) servers = NULL;

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_CANCELLED, _("Cancelled"));
      return;
    }

  servers = g_ptr_array_new_with_free_func ((GDestroyNotify)confab_discovered_server_free);
  for (guint i = 0; i < discover->probes->len; i++)
    {
      Probe *probe = g_ptr_array_index (discover->probes, i);
      ConfabDiscoveredServer *server;

      if (probe->models == NULL)
        continue;

      server = g_new0 (ConfabDiscoveredServer, 1);
      server->name = g_strdup (probe->name);
      server->api = g_strdup (confab_provider_get_api_name (probe->provider));
      server->base_url = g_strdup (confab_provider_get_base_url (probe->provider));
      server->models = g_steal_pointer (&probe->models);
      g_ptr_array_add (servers, server);
    }

  g_task_return_pointer (task, g_steal_pointer (&servers), (GDestroyNotify)g_ptr_array_unref);
}

static void
probe_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&probe->task);
  DiscoverData *discover = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  probe->models = confab_provider_list_models_finish (CONFAB_PROVIDER (object), result, &error);
  if (probe->models == NULL)
    g_debug ("No %s at %s: %s", probe->name,
             confab_provider_get_base_url (probe->provider), error->message);

  g_assert (discover->pending > 0);
  if (--discover->pending == 0)
    return_servers (task);
}

/**
 * confab_discovery_get_default_candidates:
 *
 * Returns: (transfer none): the usual local servers, as "NAME=API=URL":
 *   Ollama, llama.cpp's server, vLLM and LM Studio on their default ports.
 */
const char * const *
confab_discovery_get_default_candidates (void)
{
  return default_candidates;
}

/**
 * confab_discover_local_servers_async:
 * @candidates: (nullable) (array zero-terminated=1): servers to try, each
 *   "NAME=API=URL"; %NULL for confab_discovery_get_default_candidates()
 *
 * Asks every candidate for its models, all at once, each with one try
 * and %CONFAB_DISCOVERY_TIMEOUT_S seconds to answer. A malformed
 * candidate fails the whole call with %CONFAB_ERROR_INVALID_ARGUMENT
 * before anything is sent. Main thread (libsoup); completes on the
 * caller's thread-default main context.
 */
void
confab_discover_local_servers_async (const char * const  *candidates,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DiscoverData *discover;

  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  if (candidates == NULL)
    candidates = default_candidates;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_discover_local_servers_async);
  g_task_set_check_cancellable (task, FALSE);

  discover = g_new0 (DiscoverData, 1);
  discover->probes = g_ptr_array_new_with_free_func (probe_free);
  g_task_set_task_data (task, discover, discover_data_free);

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      GError *error = NULL;
      Probe *probe = probe_new (candidates[i], &error);

      if (probe == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      g_ptr_array_add (discover->probes, probe);
    }

  if (discover->probes->len == 0)
    {
      return_servers (task);
      return;
    }

  /* Every request is on its way before any answer can be handled. */
  discover->pending = discover->probes->len;
  for (guint i = 0; i < discover->probes->len; i++)
    {
      Probe *probe = g_ptr_array_index (discover->probes, i);

      probe->task = g_object_ref (task);
      confab_provider_list_models_async (probe->provider, cancellable, probe_cb, probe);
    }
}

/**
 * confab_discover_local_servers_finish:
 *
 * Returns: (transfer container) (element-type ConfabDiscoveredServer):
 *   the servers that answered, in candidate order; maybe none.
 */
GPtrArray *
confab_discover_local_servers_finish (GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_discover_local_servers_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * confab_discovered_server_free:
 * @server: (nullable): a server from confab_discover_local_servers_finish()
 */
void
confab_discovered_server_free (ConfabDiscoveredServer *server)
{
  if (server == NULL)
    return;

  g_free (server->name);
  g_free (server->api);
  g_free (server->base_url);
  g_strfreev (server->models);
  g_free (server);
}
