/* confab-secrets.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* API keys live in the Secret Service (GNOME Keyring, KeePassXC, ...),
 * never in the database, the settings or a log. Each key is an item of
 * the schema "io.github.confab.Confab.ApiKey" with one attribute,
 * "provider", the provider configuration's name.
 *
 * Without a Secret Service (no session bus, nothing owns or can start
 * org.freedesktop.secrets, a locked keyring whose prompt was dismissed),
 * storing fails with %CONFAB_SECRETS_ERROR_UNAVAILABLE and the key is
 * kept in this process's memory instead, for the rest of the session:
 * a lookup finds it there first. The app then still works, and the
 * error says why the key will have to be given again next time.
 *
 * All functions run on the caller's thread-default main context and
 * complete there; the session memory is shared by every thread.
 */

#define CONFAB_SECRETS_SCHEMA_NAME "io.github.confab.Confab.ApiKey"

#define CONFAB_SECRETS_ERROR (confab_secrets_error_quark ())

/**
 * ConfabSecretsError:
 * @CONFAB_SECRETS_ERROR_UNAVAILABLE: no Secret Service could be reached
 *   or unlocked; a stored key is kept in memory for this session only
 * @CONFAB_SECRETS_ERROR_FAILED: the Secret Service failed otherwise
 */
typedef enum
{
  CONFAB_SECRETS_ERROR_UNAVAILABLE,
  CONFAB_SECRETS_ERROR_FAILED,
} ConfabSecretsError;

/* A key as returned by confab_secrets_lookup_key_finish(): a plain
 * NUL-terminated string to be freed with confab_secrets_key_free(), which
 * wipes it. g_auto(ConfabSecretKey) does that at the end of a scope. */
typedef char *ConfabSecretKey;

GQuark   confab_secrets_error_quark        (void);

void     confab_secrets_key_free           (char                *key);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (ConfabSecretKey, confab_secrets_key_free, NULL)

void     confab_secrets_store_key_async    (const char          *provider,
                                            const char          *key,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean confab_secrets_store_key_finish   (GAsyncResult        *result,
                                            GError             **error);
void     confab_secrets_lookup_key_async   (const char          *provider,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
char    *confab_secrets_lookup_key_finish  (GAsyncResult        *result,
                                            GError             **error);
void     confab_secrets_clear_key_async    (const char          *provider,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean confab_secrets_clear_key_finish   (GAsyncResult        *result,
                                            GError             **error);
gboolean confab_secrets_has_session_key    (const char          *provider);

G_END_DECLS
