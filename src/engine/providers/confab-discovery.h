/* confab-discovery.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * ConfabDiscoveredServer:
 * @name: the candidate's name ("Ollama", "llama.cpp", ...)
 * @api: the API it was asked with ("openai", "ollama")
 * @base_url: where it answered
 * @models: the model ids it listed, in its order (maybe none)
 *
 * A local model server that answered its model list.
 */
typedef struct
{
  char  *name;
  char  *api;
  char  *base_url;
  GStrv  models;
} ConfabDiscoveredServer;

void                confab_discovered_server_free              (ConfabDiscoveredServer  *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfabDiscoveredServer, confab_discovered_server_free)

/* Each probe gets one try and this long to answer. */
#define CONFAB_DISCOVERY_TIMEOUT_S 2

const char * const *confab_discovery_get_default_candidates   (void);
void                confab_discover_local_servers_async        (const char * const      *candidates,
                                                                GCancellable            *cancellable,
                                                                GAsyncReadyCallback      callback,
                                                                gpointer                 user_data);
GPtrArray          *confab_discover_local_servers_finish       (GAsyncResult            *result,
                                                                GError                 **error);

G_END_DECLS
