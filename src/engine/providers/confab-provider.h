/* confab-provider.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "confab-chat-request.h"
#include "confab-event.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_PROVIDER (confab_provider_get_type ())

G_DECLARE_DERIVABLE_TYPE (ConfabProvider, confab_provider, CONFAB, PROVIDER, GObject)

typedef struct _ConfabStreamParser ConfabStreamParser;

/**
 * ConfabProviderClass:
 * @api_name: the API's short name ("openai", "ollama", "anthropic")
 * @default_base_url: where the API usually is
 * @build_chat_message: turns a request into a streaming HTTP request
 * @create_stream_parser: a parser for one reply's body; events go to @emit
 * @build_models_message: the HTTP request that lists models
 * @parse_models: model ids out of the parsed model list
 *
 * An API speaking to a model server. The base class does the HTTP work
 * (retries, timeouts, errors, cancellation); subclasses only translate.
 */
struct _ConfabProviderClass
{
  GObjectClass parent_class;

  const char         *api_name;
  const char         *default_base_url;

  SoupMessage        *(*build_chat_message)   (ConfabProvider     *self,
                                               ConfabChatRequest  *request,
                                               GError            **error);
  ConfabStreamParser *(*create_stream_parser) (ConfabProvider     *self,
                                               ConfabEventFunc     emit,
                                               gpointer            emit_data);
  SoupMessage        *(*build_models_message) (ConfabProvider     *self,
                                               GError            **error);
  GStrv               (*parse_models)         (ConfabProvider     *self,
                                               JsonNode           *root,
                                               GError            **error);

  /*< private >*/
  gpointer _reserved[8];
};

ConfabProvider *confab_provider_new_for_api         (const char           *api,
                                                     const char           *base_url,
                                                     GError              **error);
const char     *confab_provider_get_default_base_url_for_api (const char  *api);
const char     *confab_provider_get_api_name        (ConfabProvider       *self);
const char     *confab_provider_get_base_url        (ConfabProvider       *self);
void            confab_provider_set_base_url        (ConfabProvider       *self,
                                                     const char           *base_url);
void            confab_provider_set_api_key         (ConfabProvider       *self,
                                                     const char           *api_key);
const char     *confab_provider_get_api_key         (ConfabProvider       *self);
guint           confab_provider_get_timeout         (ConfabProvider       *self);
void            confab_provider_set_timeout         (ConfabProvider       *self,
                                                     guint                 seconds);
void            confab_provider_set_max_tries       (ConfabProvider       *self,
                                                     guint                 tries);
void            confab_provider_set_header          (ConfabProvider       *self,
                                                     const char           *name,
                                                     const char           *value);
char           *confab_provider_build_url           (ConfabProvider       *self,
                                                     const char           *path);
SoupMessage    *confab_provider_new_json_message    (ConfabProvider       *self,
                                                     const char           *method,
                                                     const char           *path,
                                                     JsonNode             *body,
                                                     GError              **error);
void            confab_provider_list_models_async   (ConfabProvider       *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
GStrv           confab_provider_list_models_finish  (ConfabProvider       *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

G_END_DECLS
