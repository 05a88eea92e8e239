/* confab-mcp-tool.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "confab-error.h"
#include "confab-mcp-tool.h"

/* The longest tool name OpenAI and Anthropic accept. */
#define TOOL_NAME_MAX 64

struct _ConfabMcpTool
{
  ConfabTool       parent_instance;

  ConfabMcpServer *server;
  char            *mcp_name;
};

G_DEFINE_FINAL_TYPE (ConfabMcpTool, confab_mcp_tool, CONFAB_TYPE_TOOL)

/* Helpers */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && json_node_get_value_type (node) == G_TYPE_STRING ? json_node_get_string (node) : NULL;
}

static JsonObject *
member_object (JsonObject *object,
               const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The size of what a base64 text decodes to, without decoding it. */
static gsize
base64_size (const char *data)
{
  gsize chars = 0, padding = 0;

  for (const char *p = data; p != NULL && *p != '\0'; p++)
    {
      if (*p == '=')
        padding++;
      else if (!g_ascii_isspace (*p))
        chars++;
    }
  return (chars + padding) / 4 * 3 - MIN (padding, 2);
}

/* "[image: image/png, 1024 bytes]": what the model can know of content
 * it cannot read as text. Not translated: the model reads it. */
static void
append_binary (GString    *text,
               const char *kind,
               const char *what,
               const char *mime_type,
               const char *data)
{
  g_string_append_printf (text, "[%s: ", kind);
  if (what != NULL)
    g_string_append_printf (text, "%s, ", what);
  g_string_append_printf (text, "%s, %" G_GSIZE_FORMAT " bytes]",
                          mime_type != NULL ? mime_type : "application/octet-stream", base64_size (data));
}

static void
append_content (GString    *text,
                JsonObject *item)
{
  const char *type = member_string (item, "type");

  if (text->len > 0)
    g_string_append_c (text, '\n');

  if (g_strcmp0 (type, "text") == 0)
    g_string_append (text, member_string (item, "text") != NULL ? member_string (item, "text") : "");
  else if (g_strcmp0 (type, "image") == 0 || g_strcmp0 (type, "audio") == 0)
    append_binary (text, type, NULL, member_string (item, "mimeType"), member_string (item, "data"));
  else if (g_strcmp0 (type, "resource") == 0)
    {
      JsonObject *resource = member_object (item, "resource");
      const char *uri = member_string (resource, "uri");
      const char *resource_text = member_string (resource, "text");

      if (resource_text != NULL)
        g_string_append_printf (text, "[resource: %s]\n%s", uri != NULL ? uri : "", resource_text);
      else
        append_binary (text, "resource", uri != NULL ? uri : "", member_string (resource, "mimeType"),
                       member_string (resource, "blob"));
    }
  else if (g_strcmp0 (type, "resource_link") == 0)
    {
      const char *name = member_string (item, "name");
      const char *uri = member_string (item, "uri");

      g_string_append_printf (text, "[resource link: %s", uri != NULL ? uri : "");
      if (name != NULL)
        g_string_append_printf (text, " (%s)", name);
      g_string_append_c (text, ']');
    }
  else
    g_string_append_printf (text, "[%s content]", type != NULL ? type : "unknown");
}

/* ConfabTool */

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonObject) call_result = NULL;
  GError *error = NULL;

  call_result = confab_mcp_server_call_tool_finish (CONFAB_MCP_SERVER (object), result, &error);
  if (call_result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, confab_mcp_tool_result_new_from_json (call_result), g_object_unref);
}

static void
confab_mcp_tool_run_async (ConfabTool          *tool,
                           ConfabToolContext   *context,
                           JsonObject          *arguments,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  ConfabMcpTool *self = CONFAB_MCP_TOOL (tool);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, confab_mcp_tool_run_async);

  /* The base class owns the timeout: it cancels @cancellable, which
   * sends the server notifications/cancelled. */
  confab_mcp_server_call_tool_async (self->server, self->mcp_name, arguments, 0, cancellable,
                                     call_cb, g_steal_pointer (&task));
}

static ConfabToolResult *
confab_mcp_tool_run_finish (ConfabTool    *tool,
                            GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* GObject */

static void
confab_mcp_tool_finalize (GObject *object)
{
  ConfabMcpTool *self = (ConfabMcpTool *)object;

  g_clear_object (&self->server);
  g_clear_pointer (&self->mcp_name, g_free);

  G_OBJECT_CLASS (confab_mcp_tool_parent_class)->finalize (object);
}

static void
confab_mcp_tool_class_init (ConfabMcpToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  object_class->finalize = confab_mcp_tool_finalize;
  tool_class->run_async = confab_mcp_tool_run_async;
  tool_class->run_finish = confab_mcp_tool_run_finish;
}

static void
confab_mcp_tool_init (ConfabMcpTool *self)
{
}

/* Public API */

char *
confab_mcp_tool_make_name (const char *server_name,
                           const char *tool_name)
{
  g_autofree char *whole = NULL;
  GString *name;

  g_return_val_if_fail (server_name != NULL, NULL);
  g_return_val_if_fail (tool_name != NULL, NULL);

  name = g_string_new (server_name);
  g_string_append (name, "__");
  for (const char *p = tool_name; *p != '\0'; p++)
    g_string_append_c (name, g_ascii_isalnum (*p) || *p == '_' || *p == '-' ? *p : '_');

  if (name->len > TOOL_NAME_MAX)
    {
      whole = g_strconcat (server_name, "__", tool_name, NULL);
      g_string_truncate (name, TOOL_NAME_MAX - 9);
      g_string_append_printf (name, "_%08x", g_str_hash (whole));
    }

  return g_string_free (name, FALSE);
}

ConfabMcpTool *
confab_mcp_tool_new (ConfabMcpServer *server,
                     JsonObject      *definition)
{
  g_autoptr(JsonNode) parameters = NULL;
  g_autofree char *name = NULL;
  JsonObject *schema;
  const char *mcp_name;
  const char *description;
  ConfabMcpTool *self;

  g_return_val_if_fail (CONFAB_IS_MCP_SERVER (server), NULL);
  g_return_val_if_fail (definition != NULL, NULL);

  mcp_name = member_string (definition, "name");
  g_return_val_if_fail (mcp_name != NULL, NULL);

  description = member_string (definition, "description");
  if (description == NULL)
    description = member_string (definition, "title");

  /* Models want an object schema; whatever else a server sends becomes
   * the schema of any object. */
  schema = member_object (definition, "inputSchema");
  parameters = json_node_init_object (json_node_alloc (), json_object_new ());
  if (schema != NULL && (member (schema, "type") == NULL || g_strcmp0 (member_string (schema, "type"), "object") == 0))
    {
      g_autoptr(JsonNode) original = json_node_init_object (json_node_alloc (), schema);

      g_clear_pointer (&parameters, json_node_unref);
      parameters = json_node_copy (original);
    }
  json_object_set_string_member (json_node_get_object (parameters), "type", "object");

  name = confab_mcp_tool_make_name (confab_mcp_server_get_name (server), mcp_name);
  self = g_object_new (CONFAB_TYPE_MCP_TOOL,
                       "name", name,
                       "description", description != NULL ? description : "",
                       "parameters", parameters,
                       "needs-approval", TRUE,
                       NULL);
  self->server = g_object_ref (server);
  self->mcp_name = g_strdup (mcp_name);

  return self;
}

ConfabMcpServer *
confab_mcp_tool_get_server (ConfabMcpTool *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_TOOL (self), NULL);
  return self->server;
}

const char *
confab_mcp_tool_get_mcp_name (ConfabMcpTool *self)
{
  g_return_val_if_fail (CONFAB_IS_MCP_TOOL (self), NULL);
  return self->mcp_name;
}

ConfabToolResult *
confab_mcp_tool_result_new_from_json (JsonObject *result)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(ConfabToolResult) tool_result = NULL;
  JsonNode *content;
  JsonNode *structured;
  JsonNode *is_error;

  g_return_val_if_fail (result != NULL, NULL);

  content = member (result, "content");
  if (content != NULL && JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *items = json_node_get_array (content);

      for (guint i = 0; i < json_array_get_length (items); i++)
        {
          JsonNode *item = json_array_get_element (items, i);

          if (JSON_NODE_HOLDS_OBJECT (item))
            append_content (text, json_node_get_object (item));
        }
    }

  /* A server should send the structured result as text too; when it
   * does not, the model gets it as JSON. */
  structured = member (result, "structuredContent");
  if (structured != NULL && text->len == 0)
    {
      g_autofree char *json = json_to_string (structured, FALSE);

      g_string_append (text, json);
    }

  is_error = member (result, "isError");
  if (is_error != NULL && json_node_get_value_type (is_error) == G_TYPE_BOOLEAN && json_node_get_boolean (is_error))
    tool_result = confab_tool_result_new_error (text->str);
  else
    tool_result = confab_tool_result_new (text->str);

  if (structured != NULL)
    confab_tool_result_set_structured (tool_result, structured);

  return g_steal_pointer (&tool_result);
}
