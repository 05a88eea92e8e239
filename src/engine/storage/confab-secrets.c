/* confab-secrets.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include <libsecret/secret.h>

#include "confab-secrets.h"

/* A key is never logged, and every copy this file makes is wiped before
 * it is freed (explicit_bzero, which the compiler may not drop). libsecret
 * keeps its own copies in non-pageable memory and wipes them too. */

typedef struct
{
  char       *provider;
  char       *key;
  GHashTable *attributes;
  /* clear: the key was in session memory (and is gone from it) */
  gboolean    had_session_key;
} SecretsData;

G_DEFINE_QUARK (confab-secrets-error-quark, confab_secrets_error)

/* Keys that could not go to a Secret Service: provider name → key, for
 * the rest of the process's life. */
static GMutex session_lock;
static GHashTable *session_keys;

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    CONFAB_SECRETS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
      { "provider", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

static void
wipe_free (char *key)
{
  if (key == NULL)
    return;
  explicit_bzero (key, strlen (key));
  g_free (key);
}

static void
secrets_data_free (gpointer data)
{
  SecretsData *secrets = data;

  g_free (secrets->provider);
  wipe_free (secrets->key);
  g_clear_pointer (&secrets->attributes, g_hash_table_unref);
  g_free (secrets);
}

static GTask *
new_task (const char          *provider,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  SecretsData *secrets = g_new0 (SecretsData, 1);

  g_task_set_source_tag (task, source_tag);
  secrets->provider = g_strdup (provider);
  /* The attributes point into @secrets, which outlives the call. */
  secrets->attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (secrets->attributes, (gpointer)"provider", secrets->provider);
  g_task_set_task_data (task, secrets, secrets_data_free);

  return task;
}

/* Session memory */

static void
session_put (const char *provider,
             const char *key)
{
  g_mutex_lock (&session_lock);
  if (session_keys == NULL)
    session_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)wipe_free);
  g_hash_table_insert (session_keys, g_strdup (provider), g_strdup (key));
  g_mutex_unlock (&session_lock);
}

static char *
session_dup (const char *provider)
{
  char *key = NULL;

  g_mutex_lock (&session_lock);
  if (session_keys != NULL)
    key = g_strdup (g_hash_table_lookup (session_keys, provider));
  g_mutex_unlock (&session_lock);

  return key;
}

static gboolean
session_remove (const char *provider)
{
  gboolean removed = FALSE;

  g_mutex_lock (&session_lock);
  if (session_keys != NULL)
    removed = g_hash_table_remove (session_keys, provider);
  g_mutex_unlock (&session_lock);

  return removed;
}

/* Errors */

/* Whether @error means there is no usable Secret Service: no session bus
 * (a GIOError from connecting), nothing owning or able to start
 * org.freedesktop.secrets, a keyring that stays locked (its unlock prompt
 * could not be shown or was dismissed). Our own cancellation has been
 * handled before this is asked. */
static gboolean
is_unavailable (const GError *error)
{
  if (error->domain == G_IO_ERROR)
    return TRUE;

  if (error->domain == SECRET_ERROR)
    return error->code == SECRET_ERROR_IS_LOCKED || error->code == SECRET_ERROR_NO_SUCH_OBJECT;

  if (error->domain == G_DBUS_ERROR)
    {
      switch (error->code)
        {
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_NO_SERVER:
        case G_DBUS_ERROR_NO_REPLY:
        case G_DBUS_ERROR_IO_ERROR:
        case G_DBUS_ERROR_BAD_ADDRESS:
        case G_DBUS_ERROR_NO_NETWORK:
        case G_DBUS_ERROR_DISCONNECTED:
        case G_DBUS_ERROR_TIMEOUT:
        case G_DBUS_ERROR_TIMED_OUT:
        case G_DBUS_ERROR_ACCESS_DENIED:
        case G_DBUS_ERROR_AUTH_FAILED:
        case G_DBUS_ERROR_UNKNOWN_METHOD:
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
        case G_DBUS_ERROR_UNKNOWN_INTERFACE:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
        case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
          return TRUE;

        default:
          return FALSE;
        }
    }

  return FALSE;
}

/* Returns whether @task was completed here: cancelled by its caller. */
static gboolean
return_if_cancelled (GTask *task)
{
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (cancellable == NULL || !g_cancellable_is_cancelled (cancellable))
    return FALSE;

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
  return TRUE;
}

/* Store */

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  SecretsData *secrets = g_task_get_task_data (task);

  if (secret_password_store_finish (result, &error))
    {
      /* The keyring has it now: no second copy in memory. */
      session_remove (secrets->provider);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (return_if_cancelled (task))
    return;

  if (is_unavailable (error))
    {
      g_debug ("No Secret Service for the key of “%s”: %s", secrets->provider, error->message);
      session_put (secrets->provider, secrets->key);
      g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE,
                               /* Translators: %s is the name of a provider. */
                               _("No keyring (Secret Service) is available, so the key for “%s” is kept "
                                 "in memory for this session only; install and unlock GNOME Keyring or "
                                 "KeePassXC to keep it"),
                               secrets->provider);
      return;
    }

  g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_FAILED,
                           /* Translators: the first %s is the name of a provider,
                            * the second the keyring's explanation. */
                           _("Could not store the key for “%s” in the keyring: %s"),
                           secrets->provider, error->message);
}

/**
 * confab_secrets_store_key_async:
 * @provider: the provider configuration's name
 * @key: the API key, not empty; copied
 *
 * Stores (or replaces) @provider's key in the default keyring collection.
 * When no Secret Service is available, fails with
 * %CONFAB_SECRETS_ERROR_UNAVAILABLE and keeps the key in memory for the
 * rest of the process, where confab_secrets_lookup_key_async() finds it.
 */
void
confab_secrets_store_key_async (const char          *provider,
                                const char          *key,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autofree char *label = NULL;
  SecretsData *secrets;
  GTask *task;

  g_return_if_fail (provider != NULL && provider[0] != '\0');
  g_return_if_fail (key != NULL && key[0] != '\0');
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_task (provider, confab_secrets_store_key_async, cancellable, callback, user_data);
  secrets = g_task_get_task_data (task);
  secrets->key = g_strdup (key);

  /* Translators: the label of the key in the keyring, as Passwords and
   * Keys shows it; %s is the name of a provider. */
  label = g_strdup_printf (_("Confab API key for %s"), provider);
  secret_password_storev (get_schema (), secrets->attributes, SECRET_COLLECTION_DEFAULT,
                          label, key, cancellable, store_cb, task);
}

/**
 * confab_secrets_store_key_finish:
 *
 * Returns: %TRUE when the key is in the keyring. With
 *   %CONFAB_SECRETS_ERROR_UNAVAILABLE, the key is in session memory.
 */
gboolean
confab_secrets_store_key_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_secrets_store_key_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Lookup */

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  SecretsData *secrets = g_task_get_task_data (task);
  char *password;

  password = secret_password_lookup_finish (result, &error);
  if (error == NULL)
    {
      char *key = password != NULL && password[0] != '\0' ? g_strdup (password) : NULL;

      secret_password_free (password);
      g_task_return_pointer (task, key, (GDestroyNotify)wipe_free);
      return;
    }

  if (return_if_cancelled (task))
    return;

  if (is_unavailable (error))
    {
      g_debug ("No Secret Service for the key of “%s”: %s", secrets->provider, error->message);
      g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE,
                               /* Translators: %s is the name of a provider. */
                               _("No keyring (Secret Service) is available to look up the key for “%s”"),
                               secrets->provider);
      return;
    }

  g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_FAILED,
                           /* Translators: the first %s is the name of a provider,
                            * the second the keyring's explanation. */
                           _("Could not read the key for “%s” from the keyring: %s"),
                           secrets->provider, error->message);
}

/**
 * confab_secrets_lookup_key_async:
 * @provider: the provider configuration's name
 *
 * Finds @provider's key: in session memory first (a key that could not
 * be stored), then in the Secret Service.
 */
void
confab_secrets_lookup_key_async (const char          *provider,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SecretsData *secrets;
  char *key;

  g_return_if_fail (provider != NULL && provider[0] != '\0');
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_task (provider, confab_secrets_lookup_key_async, cancellable, callback, user_data);
  secrets = g_task_get_task_data (task);

  if ((key = session_dup (provider)) != NULL)
    {
      g_task_return_pointer (task, key, (GDestroyNotify)wipe_free);
      return;
    }

  secret_password_lookupv (get_schema (), secrets->attributes, cancellable, lookup_cb,
                           g_steal_pointer (&task));
}

/**
 * confab_secrets_lookup_key_finish:
 *
 * Returns: (transfer full) (nullable): the key, or %NULL without an error
 *   when none is stored. Free it with confab_secrets_key_free(). Fails
 *   with %CONFAB_SECRETS_ERROR_UNAVAILABLE when no Secret Service could
 *   be asked and the session memory has no key either.
 */
char *
confab_secrets_lookup_key_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_secrets_lookup_key_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Clear */

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  SecretsData *secrets = g_task_get_task_data (task);

  secret_password_clear_finish (result, &error);
  if (error == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (return_if_cancelled (task))
    return;

  if (is_unavailable (error))
    {
      /* Without a keyring, the key can only have been in memory. */
      if (secrets->had_session_key)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }

      g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE,
                               /* Translators: %s is the name of a provider. */
                               _("No keyring (Secret Service) is available, so the key for “%s” "
                                 "could not be removed from it"),
                               secrets->provider);
      return;
    }

  g_task_return_new_error (task, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_FAILED,
                           /* Translators: the first %s is the name of a provider,
                            * the second the keyring's explanation. */
                           _("Could not remove the key for “%s” from the keyring: %s"),
                           secrets->provider, error->message);
}

/**
 * confab_secrets_clear_key_async:
 * @provider: the provider configuration's name
 *
 * Forgets @provider's key, in session memory and in the Secret Service.
 * Succeeds when there was none.
 */
void
confab_secrets_clear_key_async (const char          *provider,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  SecretsData *secrets;
  GTask *task;

  g_return_if_fail (provider != NULL && provider[0] != '\0');
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_task (provider, confab_secrets_clear_key_async, cancellable, callback, user_data);
  secrets = g_task_get_task_data (task);
  secrets->had_session_key = session_remove (provider);

  secret_password_clearv (get_schema (), secrets->attributes, cancellable, clear_cb, task);
}

/**
 * confab_secrets_clear_key_finish:
 *
 * Returns: %TRUE when no key for the provider is left.
 */
gboolean
confab_secrets_clear_key_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_secrets_clear_key_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * confab_secrets_has_session_key:
 * @provider: the provider configuration's name
 *
 * Returns: whether @provider's key is only in this process's memory
 *   (storing it found no Secret Service). Any thread.
 */
gboolean
confab_secrets_has_session_key (const char *provider)
{
  gboolean found = FALSE;

  g_return_val_if_fail (provider != NULL, FALSE);

  g_mutex_lock (&session_lock);
  if (session_keys != NULL)
    found = g_hash_table_contains (session_keys, provider);
  g_mutex_unlock (&session_lock);

  return found;
}

/**
 * confab_secrets_key_free:
 * @key: (nullable): a key from confab_secrets_lookup_key_finish()
 *
 * Wipes and frees @key. Any thread.
 */
void
confab_secrets_key_free (char *key)
{
  wipe_free (key);
}
