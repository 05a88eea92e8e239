/* confab-mcp-config.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-error.h"
#include "confab-json.h"
#include "confab-mcp-config.h"

/* mcp.json has the shape Claude Desktop and LM Studio use, so a file
 * written for them works as it is:
 *
 *   {"mcpServers": {"NAME": {"command": "...", "args": [...],
 *                            "env": {...}, "disabled": false}}}
 *
 * The parsed document is kept: rewriting the file changes the members
 * Confab knows and leaves every other one (of the root or of a server)
 * where it was. */

struct _ConfabMcpServerConfig
{
  GObject     parent_instance;

  char       *name;
  char       *command;
  GStrv       args;
  GHashTable *env;        /* name → value */
  gboolean    enabled;
  /* The entry as read, with members Confab does not know; NULL for a
   * new entry. */
  JsonObject *object;
};

G_DEFINE_FINAL_TYPE (ConfabMcpServerConfig, confab_mcp_server_config, G_TYPE_OBJECT)

struct _ConfabMcpConfig
{
  GObject     parent_instance;

  char       *path;
  JsonObject *root;       /* the document as read; never NULL */
  GPtrArray  *servers;    /* ConfabMcpServerConfig, in file order */
  JsonObject *remote;     /* entries for servers over HTTP: kept, not run */
};

G_DEFINE_FINAL_TYPE (ConfabMcpConfig, confab_mcp_config, G_TYPE_OBJECT)

/* Server entries */

static void
confab_mcp_server_config_finalize (GObject *object)
{
  ConfabMcpServerConfig *self = (ConfabMcpServerConfig *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->command, g_free);
  g_clear_pointer (&self->args, g_strfreev);
  g_clear_pointer (&self->env, g_hash_table_unref);
  g_clear_pointer (&self->object, json_object_unref);

  G_OBJECT_CLASS (confab_mcp_server_config_parent_class)->finalize (object);
}

static void
confab_mcp_server_config_class_init (ConfabMcpServerConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_mcp_server_config_finalize;
}

static void
confab_mcp_server_config_init (ConfabMcpServerConfig *self)
{
  self->env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->enabled = TRUE;
}

gboolean
confab_mcp_server_name_validate (const char  *name,
                                 GError     **error)
{
  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                           _("An MCP server needs a name"));
      return FALSE;
    }

  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        {
          g_autofree char *shown = g_utf8_make_valid (name, -1);

          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a valid MCP server name: its tools are named after it, so use only "
                         "letters, digits, “-” and “_”"),
                       shown);
          return FALSE;
        }
    }

  if (strlen (name) > CONFAB_MCP_SERVER_NAME_MAX)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("The MCP server name “%s” is too long (at most %d characters)"),
                   name, CONFAB_MCP_SERVER_NAME_MAX);
      return FALSE;
    }

  return TRUE;
}

ConfabMcpServerConfig *
confab_mcp_server_config_new (const char         *name,
                              const char         *command,
                              const char * const *args)
{
  ConfabMcpServerConfig *self;

  g_return_val_if_fail (confab_mcp_server_name_validate (name, NULL), NULL);
  g_return_val_if_fail (command != NULL, NULL);

  self = g_object_new (CONFAB_TYPE_MCP_SERVER_CONFIG, NULL);
  self->name = g_strdup (name);
  self->command = g_strdup (command);
  self->args = args != NULL ? g_strdupv ((char **)args) : g_new0 (char *, 1);

  return self;
}

const char *
confab_mcp_server_config_get_name (ConfabMcpServerConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self), NULL);
  return self->name;
}

const char *
confab_mcp_server_config_get_command (ConfabMcpServerConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self), NULL);
  return self->command;
}

const char * const *
confab_mcp_server_config_get_args (ConfabMcpServerConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self), NULL);
  return (const char * const *)self->args;
}

GHashTable *
confab_mcp_server_config_get_env (ConfabMcpServerConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self), NULL);
  return self->env;
}

void
confab_mcp_server_config_set_env (ConfabMcpServerConfig *self,
                                  const char            *name,
                                  const char            *value)
{
  g_return_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self));
  g_return_if_fail (name != NULL && name[0] != '\0' && strchr (name, '=') == NULL);

  if (value == NULL)
    g_hash_table_remove (self->env, name);
  else
    g_hash_table_insert (self->env, g_strdup (name), g_strdup (value));
}

gboolean
confab_mcp_server_config_get_enabled (ConfabMcpServerConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self), FALSE);
  return self->enabled;
}

void
confab_mcp_server_config_set_enabled (ConfabMcpServerConfig *self,
                                      gboolean               enabled)
{
  g_return_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (self));
  self->enabled = !!enabled;
}

gboolean
confab_mcp_server_config_equal (ConfabMcpServerConfig *a,
                                ConfabMcpServerConfig *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (a), FALSE);
  g_return_val_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (b), FALSE);

  if (!g_str_equal (a->name, b->name) ||
      !g_str_equal (a->command, b->command) ||
      !g_strv_equal ((const char * const *)a->args, (const char * const *)b->args) ||
      g_hash_table_size (a->env) != g_hash_table_size (b->env))
    return FALSE;

  g_hash_table_iter_init (&iter, a->env);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, g_hash_table_lookup (b->env, key)) != 0)
      return FALSE;

  return TRUE;
}

/* Reads one entry of "mcpServers"; every error names the server and
 * the file. */
static ConfabMcpServerConfig *
server_config_new_from_json (const char  *name,
                             JsonNode    *node,
                             const char  *path,
                             GError     **error)
{
  g_autoptr(ConfabMcpServerConfig) self = NULL;
  g_autoptr(GError) name_error = NULL;
  JsonObject *object;
  JsonNode *member;
  static const char * const flags[] = { "disabled", "enabled" };

  if (!confab_mcp_server_name_validate (name, &name_error))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: the first %s is a file, the second why a name is wrong. */
                   _("%s: %s"), path, name_error->message);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("%s: the MCP server “%s” is not a JSON object"), path, name);
      return NULL;
    }
  object = json_node_get_object (node);

  self = g_object_new (CONFAB_TYPE_MCP_SERVER_CONFIG, NULL);
  self->name = g_strdup (name);
  self->object = json_object_ref (object);

  member = json_object_get_member (object, "command");
  if (member == NULL || JSON_NODE_HOLDS_NULL (member))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("%s: the MCP server “%s” has no “command” (Confab starts local servers: "
                     "give the program to run)"),
                   path, name);
      return NULL;
    }
  if (json_node_get_value_type (member) != G_TYPE_STRING || json_node_get_string (member)[0] == '\0')
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("%s: the “command” of the MCP server “%s” must be a non-empty string"), path, name);
      return NULL;
    }
  self->command = g_strdup (json_node_get_string (member));

  member = json_object_get_member (object, "args");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      JsonArray *array = JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;

      for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (json_node_get_value_type (element) != G_TYPE_STRING)
            {
              array = NULL;
              break;
            }
          g_strv_builder_add (builder, json_node_get_string (element));
        }
      if (array == NULL)
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("%s: the “args” of the MCP server “%s” must be a list of strings"), path, name);
          return NULL;
        }
      self->args = g_strv_builder_end (builder);
    }
  else
    self->args = g_new0 (char *, 1);

  member = json_object_get_member (object, "env");
  if (member != NULL && !JSON_NODE_HOLDS_NULL (member))
    {
      JsonObject *env = JSON_NODE_HOLDS_OBJECT (member) ? json_node_get_object (member) : NULL;
      g_autoptr(GList) names = env != NULL ? json_object_get_members (env) : NULL;

      for (const GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (env, l->data);

          if (json_node_get_value_type (value) != G_TYPE_STRING ||
              ((const char *)l->data)[0] == '\0' || strchr (l->data, '=') != NULL)
            {
              env = NULL;
              break;
            }
          g_hash_table_insert (self->env, g_strdup (l->data), g_strdup (json_node_get_string (value)));
        }
      if (env == NULL)
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("%s: the “env” of the MCP server “%s” must be an object of variable names "
                         "and string values"),
                       path, name);
          return NULL;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      member = json_object_get_member (object, flags[i]);
      if (member == NULL || JSON_NODE_HOLDS_NULL (member))
        continue;
      if (json_node_get_value_type (member) != G_TYPE_BOOLEAN)
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                       _("%s: “%s” of the MCP server “%s” must be true or false"), path, flags[i], name);
          return NULL;
        }
      /* "disabled": true or "enabled": false turns the server off. */
      if (json_node_get_boolean (member) == (i == 0))
        self->enabled = FALSE;
    }

  return g_steal_pointer (&self);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* The entry as it will be written: the original object, with the
 * members Confab knows set from @self. */
static JsonNode *
server_config_to_json (ConfabMcpServerConfig *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();
  JsonObject *object;
  JsonObject *env;
  JsonObject *old_env = NULL;
  JsonArray *args;
  GHashTableIter iter;
  gpointer key;

  if (self->object != NULL)
    {
      g_autoptr(JsonNode) original = json_node_init_object (json_node_alloc (), self->object);

      node = json_node_copy (original);
    }
  else
    node = json_node_init_object (json_node_alloc (), json_object_new ());
  object = json_node_get_object (node);

  json_object_set_string_member (object, "command", self->command);

  if (self->args[0] != NULL || json_object_has_member (object, "args"))
    {
      args = json_array_new ();
      for (guint i = 0; self->args[i] != NULL; i++)
        json_array_add_string_element (args, self->args[i]);
      json_object_set_array_member (object, "args", args);
    }

  if (g_hash_table_size (self->env) > 0 || json_object_has_member (object, "env"))
    {
      /* Variables keep their order; new ones follow, sorted. */
      if (self->object != NULL && json_object_has_member (self->object, "env") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (self->object, "env")))
        old_env = json_object_get_object_member (self->object, "env");

      env = json_object_new ();
      if (old_env != NULL)
        {
          g_autoptr(GList) names = json_object_get_members (old_env);

          for (const GList *l = names; l != NULL; l = l->next)
            {
              const char *value = g_hash_table_lookup (self->env, l->data);

              if (value != NULL)
                json_object_set_string_member (env, l->data, value);
            }
        }
      g_hash_table_iter_init (&iter, self->env);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!json_object_has_member (env, key))
          g_ptr_array_add (rest, key);
      g_ptr_array_sort (rest, compare_names);
      for (guint i = 0; i < rest->len; i++)
        json_object_set_string_member (env, g_ptr_array_index (rest, i),
                                       g_hash_table_lookup (self->env, g_ptr_array_index (rest, i)));
      json_object_set_object_member (object, "env", env);
    }

  /* The flag the file used; "disabled", as Claude Desktop writes it, for
   * a new one. */
  if (json_object_has_member (object, "enabled") && !json_object_has_member (object, "disabled"))
    json_object_set_boolean_member (object, "enabled", self->enabled);
  else if (json_object_has_member (object, "disabled") || !self->enabled)
    {
      json_object_set_boolean_member (object, "disabled", !self->enabled);
      if (json_object_has_member (object, "enabled"))
        json_object_set_boolean_member (object, "enabled", self->enabled);
    }

  return g_steal_pointer (&node);
}

/* Configurations */

static void
confab_mcp_config_finalize (GObject *object)
{
  ConfabMcpConfig *self = (ConfabMcpConfig *)object;

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->root, json_object_unref);
  g_clear_pointer (&self->servers, g_ptr_array_unref);
  g_clear_pointer (&self->remote, json_object_unref);

  G_OBJECT_CLASS (confab_mcp_config_parent_class)->finalize (object);
}

static void
confab_mcp_config_class_init (ConfabMcpConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_mcp_config_finalize;
}

static void
confab_mcp_config_init (ConfabMcpConfig *self)
{
  self->servers = g_ptr_array_new_with_free_func (g_object_unref);
  self->remote = json_object_new ();
}

char *
confab_mcp_config_get_default_path (void)
{
  const char *path = g_getenv ("CONFAB_MCP_CONFIG");

  if (path != NULL && path[0] != '\0')
    return g_strdup (path);
  return g_build_filename (g_get_user_config_dir (), "confab", "mcp.json", NULL);
}

char *
confab_mcp_config_get_claude_desktop_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "Claude", "claude_desktop_config.json", NULL);
}

ConfabMcpConfig *
confab_mcp_config_new (const char *path)
{
  ConfabMcpConfig *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (CONFAB_TYPE_MCP_CONFIG, NULL);
  self->path = g_strdup (path);
  self->root = json_object_new ();

  return self;
}

ConfabMcpConfig *
confab_mcp_config_new_from_data (const char  *path,
                                 const char  *data,
                                 gssize       length,
                                 GError     **error)
{
  g_autoptr(ConfabMcpConfig) self = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GList) names = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonNode *servers;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);

  self = confab_mcp_config_new (path);

  if (length < 0)
    length = strlen (data);
  if (!confab_json_parse (data, length, &root, &parse_error))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s is a file, then where its JSON is wrong and how. */
                   _("%s is not valid JSON: %s"), path, parse_error->message);
      return NULL;
    }

  /* An empty file is an empty configuration. */
  if (root == NULL)
    return g_steal_pointer (&self);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("%s must hold a JSON object with “mcpServers”"), path);
      return NULL;
    }
  g_clear_pointer (&self->root, json_object_unref);
  self->root = json_object_ref (json_node_get_object (root));

  servers = json_object_get_member (self->root, "mcpServers");
  if (servers == NULL || JSON_NODE_HOLDS_NULL (servers))
    return g_steal_pointer (&self);
  if (!JSON_NODE_HOLDS_OBJECT (servers))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   _("%s: “mcpServers” must be a JSON object of servers by name"), path);
      return NULL;
    }

  names = json_object_get_members (json_node_get_object (servers));
  for (const GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (json_node_get_object (servers), l->data);
      ConfabMcpServerConfig *server;

      /* A server reached over HTTP ("url", as LM Studio and Claude
       * Desktop allow) is not one Confab starts: it stays in the file,
       * listed as unsupported, and the others still run. */
      if (JSON_NODE_HOLDS_OBJECT (node) &&
          !json_object_has_member (json_node_get_object (node), "command") &&
          (json_object_has_member (json_node_get_object (node), "url") ||
           json_object_has_member (json_node_get_object (node), "serverUrl")))
        {
          json_object_set_member (self->remote, l->data, json_node_copy (node));
          continue;
        }

      server = server_config_new_from_json (l->data, node, path, error);

      if (server == NULL)
        return NULL;
      g_ptr_array_add (self->servers, server);
    }

  return g_steal_pointer (&self);
}

ConfabMcpConfig *
confab_mcp_config_load (const char  *path,
                        GError     **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) read_error = NULL;
  gsize length;

  if (path == NULL)
    path = default_path = confab_mcp_config_get_default_path ();

  if (!g_file_get_contents (path, &contents, &length, &read_error))
    {
      if (g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return confab_mcp_config_new (path);

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s says why. */
                   _("The MCP configuration cannot be read: %s"), read_error->message);
      return NULL;
    }

  return confab_mcp_config_new_from_data (path, contents, length, error);
}

const char *
confab_mcp_config_get_path (ConfabMcpConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), NULL);
  return self->path;
}

GPtrArray *
confab_mcp_config_get_servers (ConfabMcpConfig *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), NULL);
  return self->servers;
}

static guint
find_server (ConfabMcpConfig *self,
             const char      *name)
{
  for (guint i = 0; i < self->servers->len; i++)
    {
      ConfabMcpServerConfig *server = g_ptr_array_index (self->servers, i);

      if (g_str_equal (server->name, name))
        return i;
    }
  return G_MAXUINT;
}

ConfabMcpServerConfig *
confab_mcp_config_lookup (ConfabMcpConfig *self,
                          const char      *name)
{
  guint i;

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  i = find_server (self, name);
  return i != G_MAXUINT ? g_ptr_array_index (self->servers, i) : NULL;
}

void
confab_mcp_config_add_server (ConfabMcpConfig       *self,
                              ConfabMcpServerConfig *server)
{
  guint i;

  g_return_if_fail (CONFAB_IS_MCP_CONFIG (self));
  g_return_if_fail (CONFAB_IS_MCP_SERVER_CONFIG (server));

  i = find_server (self, server->name);
  if (i == G_MAXUINT)
    g_ptr_array_add (self->servers, g_object_ref (server));
  else if (g_ptr_array_index (self->servers, i) != server)
    {
      g_object_unref (g_ptr_array_index (self->servers, i));
      g_ptr_array_index (self->servers, i) = g_object_ref (server);
    }
}

gboolean
confab_mcp_config_remove_server (ConfabMcpConfig *self,
                                 const char      *name)
{
  guint i;

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  i = find_server (self, name);
  if (i == G_MAXUINT)
    return FALSE;
  g_ptr_array_remove_index (self->servers, i);
  return TRUE;
}

char *
confab_mcp_config_to_data (ConfabMcpConfig *self)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) original = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  JsonObject *servers;
  char *data;
  char *text;

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), NULL);

  original = json_node_init_object (json_node_alloc (), self->root);
  root = json_node_copy (original);

  /* Setting a member keeps its place in the object. */
  servers = json_object_new ();
  for (guint i = 0; i < self->servers->len; i++)
    {
      ConfabMcpServerConfig *server = g_ptr_array_index (self->servers, i);

      json_object_set_member (servers, server->name, server_config_to_json (server));
    }
  {
    g_autoptr(GList) remote = json_object_get_members (self->remote);

    for (const GList *l = remote; l != NULL; l = l->next)
      if (!json_object_has_member (servers, l->data))
        json_object_set_member (servers, l->data, json_node_copy (json_object_get_member (self->remote, l->data)));
  }
  json_object_set_object_member (json_node_get_object (root), "mcpServers", servers);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  data = json_generator_to_data (generator, NULL);

  text = g_strconcat (data, "\n", NULL);
  g_free (data);
  return text;
}

gboolean
confab_mcp_config_save (ConfabMcpConfig  *self,
                        GError          **error)
{
  g_autofree char *data = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GError) write_error = NULL;

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), FALSE);

  data = confab_mcp_config_to_data (self);
  dir = g_path_get_dirname (self->path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: the first %s is a folder, the second says why. */
                   _("The MCP configuration cannot be saved: the folder %s cannot be created: %s"),
                   dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_file_set_contents_full (self->path, data, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &write_error))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s says why. */
                   _("The MCP configuration cannot be saved: %s"), write_error->message);
      return FALSE;
    }

  return TRUE;
}

gboolean
confab_mcp_config_import (ConfabMcpConfig  *self,
                          const char       *path,
                          gboolean          replace,
                          GPtrArray       **imported,
                          GPtrArray       **skipped,
                          GError          **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) read_error = NULL;
  g_autoptr(ConfabMcpConfig) source = NULL;
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  gsize length;

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), FALSE);

  if (path == NULL)
    path = default_path = confab_mcp_config_get_claude_desktop_path ();

  if (!g_file_get_contents (path, &contents, &length, &read_error))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s says why. */
                   _("Nothing to import: %s"), read_error->message);
      return FALSE;
    }

  source = confab_mcp_config_new_from_data (path, contents, length, error);
  if (source == NULL)
    return FALSE;

  for (guint i = 0; i < source->servers->len; i++)
    {
      ConfabMcpServerConfig *server = g_ptr_array_index (source->servers, i);

      if (!replace && confab_mcp_config_lookup (self, server->name) != NULL)
        {
          g_ptr_array_add (kept, g_strdup (server->name));
          continue;
        }
      confab_mcp_config_add_server (self, server);
      g_ptr_array_add (added, g_strdup (server->name));
    }

  if (imported != NULL)
    *imported = g_steal_pointer (&added);
  if (skipped != NULL)
    *skipped = g_steal_pointer (&kept);

  return TRUE;
}

/**
 * confab_mcp_config_dup_unsupported:
 *
 * Returns: (transfer full): the names of the servers in the file that
 *   Confab does not start (reached over HTTP, not stdio), in file order;
 *   never %NULL.
 */
GStrv
confab_mcp_config_dup_unsupported (ConfabMcpConfig *self)
{
  g_autoptr(GList) names = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (CONFAB_IS_MCP_CONFIG (self), NULL);

  names = json_object_get_members (self->remote);
  for (const GList *l = names; l != NULL; l = l->next)
    g_strv_builder_add (builder, l->data);
  return g_strv_builder_end (builder);
}
