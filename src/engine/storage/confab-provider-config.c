/* confab-provider-config.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "confab-json.h"
#include "confab-provider-config.h"
#include "confab-store-private.h"

struct _ConfabProviderConfig
{
  GObject     parent_instance;

  char       *name;
  char       *api;
  char       *base_url;
  char       *default_model;
  /* name → value; names compare without case, as in HTTP */
  GHashTable *headers;
  gint64      created_at;
};

G_DEFINE_FINAL_TYPE (ConfabProviderConfig, confab_provider_config, G_TYPE_OBJECT)

G_DEFINE_QUARK (confab-provider-config-error-quark, confab_provider_config_error)

enum {
  PROP_0,
  PROP_NAME,
  PROP_API,
  PROP_BASE_URL,
  PROP_DEFAULT_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Headers that carry credentials: those belong in the keyring. */
static const char * const credential_headers[] = {
  "Authorization",
  "Proxy-Authorization",
  "X-Api-Key",
  "Api-Key",
  "X-Goog-Api-Key",
  "Cookie",
};

/* Helpers */

static guint
header_name_hash (gconstpointer key)
{
  guint hash = 5381;

  for (const char *p = key; *p != '\0'; p++)
    hash = (hash << 5) + hash + (guchar)g_ascii_tolower (*p);

  return hash;
}

static gboolean
header_name_equal (gconstpointer a,
                   gconstpointer b)
{
  return g_ascii_strcasecmp (a, b) == 0;
}

static GHashTable *
headers_new (void)
{
  return g_hash_table_new_full (header_name_hash, header_name_equal, g_free, g_free);
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* RFC 9110 token characters */
static gboolean
is_token (const char *text)
{
  if (text == NULL || text[0] == '\0')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && strchr ("!#$%&'*+-.^_`|~", *p) == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
validate_header (const char  *name,
                 const char  *value,
                 GError     **error)
{
  if (!is_token (name))
    {
      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                   _("“%s” is not a valid HTTP header name"), name);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (credential_headers); i++)
    {
      if (g_ascii_strcasecmp (name, credential_headers[i]) == 0)
        {
          g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                       /* Translators: %s is an HTTP header name, such as “Authorization”. */
                       _("The header “%s” carries credentials, which are kept in the keyring, not in "
                         "the configuration: set the API key instead"),
                       name);
          return FALSE;
        }
    }

  if (strpbrk (value, "\r\n") != NULL || !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                   /* Translators: %s is an HTTP header name. */
                   _("The value of the header “%s” must be one line of text"), name);
      return FALSE;
    }

  return TRUE;
}

/* Reads a JSON object of strings into a new table. Any thread. */
static GHashTable *
parse_headers_json (const char  *json,
                    GError     **error)
{
  g_autoptr(GHashTable) headers = headers_new ();
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObjectIter iter;
  JsonObject *object;
  const char *name;
  JsonNode *node;

  if (!confab_json_parse (json, -1, &root, &parse_error))
    {
      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                   /* Translators: %s says where the JSON is wrong and how. */
                   _("The headers are not valid JSON: %s"), parse_error->message);
      return NULL;
    }

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                           _("The headers are not a JSON object"));
      return NULL;
    }

  object = json_node_get_object (root);
  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &node))
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_HEADER,
                       /* Translators: %s is an HTTP header name. */
                       _("The value of the header “%s” is not a string"), name);
          return NULL;
        }
      g_hash_table_replace (headers, g_strdup (name), g_strdup (json_node_get_string (node)));
    }

  return g_steal_pointer (&headers);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_ascii_strcasecmp (*(const char * const *)a, *(const char * const *)b);
}

/* GObject */

static void
confab_provider_config_finalize (GObject *object)
{
  ConfabProviderConfig *self = (ConfabProviderConfig *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->api, g_free);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->default_model, g_free);
  g_clear_pointer (&self->headers, g_hash_table_unref);

  G_OBJECT_CLASS (confab_provider_config_parent_class)->finalize (object);
}

static void
confab_provider_config_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  ConfabProviderConfig *self = CONFAB_PROVIDER_CONFIG (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_API:
      g_value_set_string (value, self->api);
      break;

    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;

    case PROP_DEFAULT_MODEL:
      g_value_set_string (value, self->default_model);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_provider_config_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  ConfabProviderConfig *self = CONFAB_PROVIDER_CONFIG (object);

  switch (prop_id)
    {
    case PROP_NAME:
      confab_provider_config_set_name (self, g_value_get_string (value));
      break;

    case PROP_API:
      confab_provider_config_set_api (self, g_value_get_string (value));
      break;

    case PROP_BASE_URL:
      confab_provider_config_set_base_url (self, g_value_get_string (value));
      break;

    case PROP_DEFAULT_MODEL:
      confab_provider_config_set_default_model (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_provider_config_class_init (ConfabProviderConfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = confab_provider_config_finalize;
  object_class->get_property = confab_provider_config_get_property;
  object_class->set_property = confab_provider_config_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_API] =
    g_param_spec_string ("api", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_DEFAULT_MODEL] =
    g_param_spec_string ("default-model", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
confab_provider_config_init (ConfabProviderConfig *self)
{
  self->headers = headers_new ();
}

/* Public API */

/**
 * confab_provider_config_new:
 * @name: (nullable): the configuration's name
 * @api: (nullable): "openai", "ollama" or "anthropic"
 * @base_url: (nullable): the server
 *
 * Nothing is checked here: see confab_provider_config_validate().
 *
 * Returns: (transfer full): a new configuration. Any thread.
 */
ConfabProviderConfig *
confab_provider_config_new (const char *name,
                            const char *api,
                            const char *base_url)
{
  return g_object_new (CONFAB_TYPE_PROVIDER_CONFIG,
                       "name", name,
                       "api", api,
                       "base-url", base_url,
                       NULL);
}

const char *
confab_provider_config_get_name (ConfabProviderConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);
  return self->name;
}

void
confab_provider_config_set_name (ConfabProviderConfig *self,
                                 const char           *name)
{
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (self));

  if (set_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
confab_provider_config_get_api (ConfabProviderConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);
  return self->api;
}

void
confab_provider_config_set_api (ConfabProviderConfig *self,
                                const char           *api)
{
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (self));

  if (set_string (&self->api, api))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API]);
}

const char *
confab_provider_config_get_base_url (ConfabProviderConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);
  return self->base_url;
}

void
confab_provider_config_set_base_url (ConfabProviderConfig *self,
                                     const char           *base_url)
{
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (self));

  if (set_string (&self->base_url, base_url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

/**
 * confab_provider_config_get_default_model:
 *
 * Returns: (nullable): the model to use when none is chosen.
 */
const char *
confab_provider_config_get_default_model (ConfabProviderConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);
  return self->default_model;
}

/**
 * confab_provider_config_set_default_model:
 * @default_model: (nullable): a model id; %NULL or "" for none
 */
void
confab_provider_config_set_default_model (ConfabProviderConfig *self,
                                          const char           *default_model)
{
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (self));

  if (default_model != NULL && default_model[0] == '\0')
    default_model = NULL;
  if (set_string (&self->default_model, default_model))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_MODEL]);
}

/**
 * confab_provider_config_get_header:
 * @name: a header name, in any case
 *
 * Returns: (nullable): the header's value.
 */
const char *
confab_provider_config_get_header (ConfabProviderConfig *self,
                                   const char           *name)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (self->headers, name);
}

/**
 * confab_provider_config_set_header:
 * @name: a header name; replaces a header of the same name in any case
 * @value: (nullable): its value, %NULL to remove the header
 *
 * Adds an HTTP header sent with every request (OpenRouter's
 * HTTP-Referer, a proxy's routing header). Checked by
 * confab_provider_config_validate().
 */
void
confab_provider_config_set_header (ConfabProviderConfig *self,
                                   const char           *name,
                                   const char           *value)
{
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (self));
  g_return_if_fail (name != NULL);

  if (value == NULL)
    g_hash_table_remove (self->headers, name);
  else
    g_hash_table_replace (self->headers, g_strdup (name), g_strdup (value));
}

/**
 * confab_provider_config_dup_header_names:
 *
 * Returns: (transfer full): the header names, sorted without case.
 */
GStrv
confab_provider_config_dup_header_names (ConfabProviderConfig *self)
{
  GStrv names;
  guint n;

  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);

  names = (GStrv)g_hash_table_get_keys_as_array (self->headers, &n);
  for (guint i = 0; i < n; i++)
    names[i] = g_strdup (names[i]);
  qsort (names, n, sizeof (char *), compare_names);

  return names;
}

/**
 * confab_provider_config_dup_headers_json:
 *
 * Returns: (transfer full): the headers as a JSON object of strings,
 *   names sorted, as stored in the database.
 */
char *
confab_provider_config_dup_headers_json (ConfabProviderConfig *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) names = NULL;

  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);

  names = confab_provider_config_dup_header_names (self);
  json_builder_begin_object (builder);
  for (guint i = 0; names[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, names[i]);
      json_builder_add_string_value (builder, g_hash_table_lookup (self->headers, names[i]));
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/**
 * confab_provider_config_set_headers_json:
 * @json: a JSON object whose members are strings
 *
 * Replaces all headers with those of @json; on error, leaves them as
 * they were.
 */
gboolean
confab_provider_config_set_headers_json (ConfabProviderConfig  *self,
                                         const char            *json,
                                         GError               **error)
{
  GHashTable *headers;

  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  if (!(headers = parse_headers_json (json, error)))
    return FALSE;

  g_hash_table_unref (self->headers);
  self->headers = headers;
  return TRUE;
}

/**
 * confab_provider_config_get_created_at:
 *
 * Returns: when the configuration was first saved, in milliseconds since
 *   1970 (UTC); 0 for one that was not read from the store.
 */
gint64
confab_provider_config_get_created_at (ConfabProviderConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), 0);
  return self->created_at;
}

/**
 * confab_provider_config_validate_name:
 * @name: (nullable): a proposed name
 *
 * Checks a name: 1 to 64 ASCII letters, digits, '-', '_' and '.'. Names
 * are used on command lines and as keyring attributes, so they stay
 * plain. Any thread.
 *
 * Returns: %TRUE, or %FALSE with %CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME
 */
gboolean
confab_provider_config_validate_name (const char  *name,
                                      GError     **error)
{
  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME,
                           _("A provider needs a name"));
      return FALSE;
    }

  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
        {
          g_autofree char *shown = g_utf8_make_valid (name, -1);

          g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME,
                       _("“%s” is not a valid provider name: use only letters, digits, “-”, “_” and “.”"),
                       shown);
          return FALSE;
        }
    }

  if (strlen (name) > CONFAB_PROVIDER_CONFIG_MAX_NAME_LENGTH)
    {
      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME,
                   _("The provider name “%s” is too long (at most %d characters)"),
                   name, CONFAB_PROVIDER_CONFIG_MAX_NAME_LENGTH);
      return FALSE;
    }

  return TRUE;
}

/**
 * confab_provider_config_validate:
 *
 * Checks the name, the API, the base URL (http or https, with a host, no
 * user or password in it) and the headers, in that order.
 *
 * Returns: %TRUE, or %FALSE with a #ConfabProviderConfigError for the
 *   first problem
 */
gboolean
confab_provider_config_validate (ConfabProviderConfig  *self,
                                 GError               **error)
{
  g_autoptr(GUri) uri = NULL;
  GHashTableIter iter;
  gpointer name, value;
  const char *scheme;

  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), FALSE);

  if (!confab_provider_config_validate_name (self->name, error))
    return FALSE;

  if (self->api == NULL ||
      (!g_str_equal (self->api, "openai") && !g_str_equal (self->api, "ollama") &&
       !g_str_equal (self->api, "anthropic")))
    {
      g_autofree char *shown = self->api != NULL ? g_utf8_make_valid (self->api, -1) : NULL;

      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API,
                   /* Translators: openai, ollama and anthropic are values
                    * to type, not names to translate. */
                   _("Unknown API “%s” (expected openai, ollama or anthropic)"),
                   shown != NULL ? shown : "");
      return FALSE;
    }

  if (self->base_url == NULL || self->base_url[0] == '\0')
    {
      g_set_error_literal (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL,
                           _("A provider needs a base URL"));
      return FALSE;
    }

  uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      g_autofree char *shown = g_utf8_make_valid (self->base_url, -1);

      g_set_error (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL,
                   _("“%s” is not an http:// or https:// URL with a host name"), shown);
      return FALSE;
    }

  if (g_uri_get_userinfo (uri) != NULL)
    {
      /* Never echo it: it may be a password. */
      g_set_error_literal (error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL,
                           _("The base URL must not contain a user name or password; "
                             "keep credentials in the keyring"));
      return FALSE;
    }

  g_hash_table_iter_init (&iter, self->headers);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      if (!validate_header (name, value, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * confab_provider_config_create_provider:
 * @api_key: (nullable): the key (from the keyring), or %NULL for none
 *
 * Makes a provider for this configuration: its API, base URL, headers
 * and @api_key. Main thread (providers use libsoup).
 *
 * Returns: (transfer full) (nullable): the provider, or %NULL with the
 *   validation error.
 */
ConfabProvider *
confab_provider_config_create_provider (ConfabProviderConfig  *self,
                                        const char            *api_key,
                                        GError               **error)
{
  g_autoptr(ConfabProvider) provider = NULL;
  GHashTableIter iter;
  gpointer name, value;

  g_return_val_if_fail (CONFAB_IS_PROVIDER_CONFIG (self), NULL);

  if (!confab_provider_config_validate (self, error))
    return NULL;

  provider = confab_provider_new_for_api (self->api, self->base_url, error);
  if (provider == NULL)
    return NULL;

  g_hash_table_iter_init (&iter, self->headers);
  while (g_hash_table_iter_next (&iter, &name, &value))
    confab_provider_set_header (provider, name, value);

  if (api_key != NULL)
    confab_provider_set_api_key (provider, api_key);

  return g_steal_pointer (&provider);
}

/* Store jobs */

typedef struct
{
  char *name;
  char *api;
  char *base_url;
  char *default_model;
  char *headers_json;
} SaveData;

static void
save_data_free (gpointer data)
{
  SaveData *save = data;

  g_free (save->name);
  g_free (save->api);
  g_free (save->base_url);
  g_free (save->default_model);
  g_free (save->headers_json);
  g_free (save);
}

static GTask *
new_store_task (ConfabStore         *store,
                gpointer             source_tag,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = g_task_new (store, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

static void
list_providers_job (ConfabStore *store,
                    GTask       *task,
                    gpointer     data)
{
  g_autoptr(GPtrArray) configs = g_ptr_array_new_with_free_func (g_object_unref);
  GError *error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = _confab_store_prepare (store,
                                "SELECT name, api, base_url, default_model, headers, created_at "
                                "FROM providers ORDER BY name",
                                &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ConfabProviderConfig *config;
      g_autoptr(GError) headers_error = NULL;
      GHashTable *headers;

      config = confab_provider_config_new (_confab_store_column_text (stmt, 0),
                                           _confab_store_column_text (stmt, 1),
                                           _confab_store_column_text (stmt, 2));
      confab_provider_config_set_default_model (config, _confab_store_column_text (stmt, 3));
      config->created_at = sqlite3_column_int64 (stmt, 5);

      /* A damaged headers column loses the headers, not the provider. */
      headers = parse_headers_json (_confab_store_column_text (stmt, 4), &headers_error);
      if (headers != NULL)
        {
          g_hash_table_unref (config->headers);
          config->headers = headers;
        }
      else
        g_warning ("Ignoring the unreadable headers of the provider “%s”: %s",
                   config->name, headers_error->message);

      g_ptr_array_add (configs, config);
    }
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE)
    /* Translators: completes “… while %s” in database errors */
    g_task_return_error (task, _confab_store_error (store, rc, _("reading the providers")));
  else
    g_task_return_pointer (task, g_steal_pointer (&configs), (GDestroyNotify)g_ptr_array_unref);
}

/**
 * confab_store_list_providers_async:
 *
 * Reads every stored provider configuration. Call from the thread whose
 * main context completes the call.
 */
void
confab_store_list_providers_async (ConfabStore         *store,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (store));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_store_task (store, confab_store_list_providers_async, cancellable, callback, user_data);
  _confab_store_run (store, task, list_providers_job, NULL, NULL);
}

/**
 * confab_store_list_providers_finish:
 *
 * Returns: (transfer container) (element-type ConfabProviderConfig): the
 *   configurations, sorted by name.
 */
GPtrArray *
confab_store_list_providers_finish (ConfabStore   *store,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_store_list_providers_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
save_provider_job (ConfabStore *store,
                   GTask       *task,
                   gpointer     data)
{
  SaveData *save = data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!_confab_store_check_writable (store, &error) ||
      !(stmt = _confab_store_prepare (store,
                                      "INSERT INTO providers (name, api, base_url, default_model, headers, created_at) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                                      "ON CONFLICT (name) DO UPDATE SET api = excluded.api, "
                                      "base_url = excluded.base_url, default_model = excluded.default_model, "
                                      "headers = excluded.headers",
                                      &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_text (stmt, 1, save->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, save->api, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, save->base_url, -1, SQLITE_STATIC);
  if (save->default_model != NULL)
    sqlite3_bind_text (stmt, 4, save->default_model, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_text (stmt, 5, save->headers_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, _confab_store_now ());

  if (!_confab_store_step_done (store, stmt, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);

  /* Unbind the strings, which @save frees after the job. */
  sqlite3_clear_bindings (stmt);
}

/**
 * confab_store_save_provider_async:
 * @config: a configuration; validated, then copied before this returns
 *
 * Saves @config, replacing a stored configuration of the same name
 * (which keeps its creation time). An invalid configuration fails with
 * its #ConfabProviderConfigError.
 */
void
confab_store_save_provider_async (ConfabStore          *store,
                                  ConfabProviderConfig *config,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  SaveData *save;

  g_return_if_fail (CONFAB_IS_STORE (store));
  g_return_if_fail (CONFAB_IS_PROVIDER_CONFIG (config));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_store_task (store, confab_store_save_provider_async, cancellable, callback, user_data);

  if (!confab_provider_config_validate (config, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  save = g_new0 (SaveData, 1);
  save->name = g_strdup (config->name);
  save->api = g_strdup (config->api);
  save->base_url = g_strdup (config->base_url);
  save->default_model = g_strdup (config->default_model);
  save->headers_json = confab_provider_config_dup_headers_json (config);
  _confab_store_run (store, task, save_provider_job, save, save_data_free);
}

gboolean
confab_store_save_provider_finish (ConfabStore   *store,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_store_save_provider_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
remove_provider_job (ConfabStore *store,
                     GTask       *task,
                     gpointer     data)
{
  const char *name = data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!_confab_store_check_writable (store, &error) ||
      !(stmt = _confab_store_prepare (store, "DELETE FROM providers WHERE name = ?1", &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (!_confab_store_step_done (store, stmt, &error))
    g_task_return_error (task, error);
  else if (sqlite3_changes (_confab_store_get_db (store)) == 0)
    g_task_return_new_error (task, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND,
                             _("There is no provider “%s”"), name);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * confab_store_remove_provider_async:
 * @name: a configuration's name
 *
 * Removes the configuration (not its key: see
 * confab_secrets_clear_key_async()). Fails with
 * %CONFAB_STORE_ERROR_NOT_FOUND when there is none of that name.
 */
void
confab_store_remove_provider_async (ConfabStore         *store,
                                    const char          *name,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CONFAB_IS_STORE (store));
  g_return_if_fail (name != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = new_store_task (store, confab_store_remove_provider_async, cancellable, callback, user_data);
  _confab_store_run (store, task, remove_provider_job, g_strdup (name), g_free);
}

gboolean
confab_store_remove_provider_finish (ConfabStore   *store,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == confab_store_remove_provider_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
