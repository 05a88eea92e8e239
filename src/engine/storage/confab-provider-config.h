/* confab-provider-config.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "confab-provider.h"
#include "confab-store.h"

G_BEGIN_DECLS

/* A configured model server: a name the user picked, the API it speaks,
 * where it is, the model to use by default and extra HTTP headers. The
 * API key is not part of it: keys live in the Secret Service
 * (confab-secrets.h), under the configuration's name.
 *
 * Configurations are stored in the conversation database (the providers
 * table), not in GSettings:
 * - it is the one file the user already backs up and exports, so the
 *   conversations and the servers they were held with travel together;
 * - saving is transactional, like everything else in it, and the app and
 *   confab-cli see the same rows at once;
 * - confab-cli works from a build tree or a bare install, where no
 *   GSettings schema is installed (GSettings aborts without its schema).
 * Keys are never there: the headers refuse credentials (Authorization,
 * X-Api-Key, ...), so no secret reaches the file.
 */

#define CONFAB_PROVIDER_CONFIG_ERROR (confab_provider_config_error_quark ())

/**
 * ConfabProviderConfigError:
 * @CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME: the name is empty, longer
 *   than 64 characters or has a character other than ASCII letters,
 *   digits, '-', '_' and '.'
 * @CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API: the API is not openai,
 *   ollama or anthropic
 * @CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL: the base URL is not an
 *   http:// or https:// URL with a host
 * @CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER: a header name is not an
 *   HTTP token, a value has a line break, or the header carries
 *   credentials (which belong in the keyring)
 */
typedef enum
{
  CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME,
  CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API,
  CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL,
  CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
} ConfabProviderConfigError;

#define CONFAB_PROVIDER_CONFIG_MAX_NAME_LENGTH 64

#define CONFAB_TYPE_PROVIDER_CONFIG (confab_provider_config_get_type ())

G_DECLARE_FINAL_TYPE (ConfabProviderConfig, confab_provider_config, CONFAB, PROVIDER_CONFIG, GObject)

/* The object is not locked: use it from one thread at a time. The store
 * copies what it saves before the call returns. */

GQuark                confab_provider_config_error_quark          (void);

ConfabProviderConfig *confab_provider_config_new                  (const char            *name,
                                                                   const char            *api,
                                                                   const char            *base_url);
const char           *confab_provider_config_get_name             (ConfabProviderConfig  *self);
void                  confab_provider_config_set_name             (ConfabProviderConfig  *self,
                                                                   const char            *name);
const char           *confab_provider_config_get_api              (ConfabProviderConfig  *self);
void                  confab_provider_config_set_api              (ConfabProviderConfig  *self,
                                                                   const char            *api);
const char           *confab_provider_config_get_base_url         (ConfabProviderConfig  *self);
void                  confab_provider_config_set_base_url         (ConfabProviderConfig  *self,
                                                                   const char            *base_url);
const char           *confab_provider_config_get_default_model    (ConfabProviderConfig  *self);
void                  confab_provider_config_set_default_model    (ConfabProviderConfig  *self,
                                                                   const char            *default_model);
const char           *confab_provider_config_get_header           (ConfabProviderConfig  *self,
                                                                   const char            *name);
void                  confab_provider_config_set_header           (ConfabProviderConfig  *self,
                                                                   const char            *name,
                                                                   const char            *value);
GStrv                 confab_provider_config_dup_header_names     (ConfabProviderConfig  *self);
char                 *confab_provider_config_dup_headers_json     (ConfabProviderConfig  *self);
gboolean              confab_provider_config_set_headers_json     (ConfabProviderConfig  *self,
                                                                   const char            *json,
                                                                   GError               **error);
gint64                confab_provider_config_get_created_at       (ConfabProviderConfig  *self);

gboolean              confab_provider_config_validate_name        (const char            *name,
                                                                   GError               **error);
gboolean              confab_provider_config_validate             (ConfabProviderConfig  *self,
                                                                   GError               **error);
ConfabProvider       *confab_provider_config_create_provider      (ConfabProviderConfig  *self,
                                                                   const char            *api_key,
                                                                   GError               **error);

/* Stored configurations: jobs on the store's worker thread, completing on
 * the caller's thread-default main context. */
void                  confab_store_list_providers_async           (ConfabStore           *store,
                                                                   GCancellable          *cancellable,
                                                                   GAsyncReadyCallback    callback,
                                                                   gpointer               user_data);
GPtrArray            *confab_store_list_providers_finish          (ConfabStore           *store,
                                                                   GAsyncResult          *result,
                                                                   GError               **error);
void                  confab_store_save_provider_async            (ConfabStore           *store,
                                                                   ConfabProviderConfig  *config,
                                                                   GCancellable          *cancellable,
                                                                   GAsyncReadyCallback    callback,
                                                                   gpointer               user_data);
gboolean              confab_store_save_provider_finish           (ConfabStore           *store,
                                                                   GAsyncResult          *result,
                                                                   GError               **error);
void                  confab_store_remove_provider_async          (ConfabStore           *store,
                                                                   const char            *name,
                                                                   GCancellable          *cancellable,
                                                                   GAsyncReadyCallback    callback,
                                                                   gpointer               user_data);
gboolean              confab_store_remove_provider_finish         (ConfabStore           *store,
                                                                   GAsyncResult          *result,
                                                                   GError               **error);

G_END_DECLS
