/* confab-tool-call.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "confab-error.h"
#include "confab-json.h"
#include "confab-tool-call.h"

/* A tool call the model asked for: an id that ties its result to it, the
 * tool's name and the arguments as parsed JSON. Arguments the model sent
 * as broken JSON are kept as text, with an error naming the tool, so the
 * caller can answer the model with that error instead of failing the turn.
 */
struct _ConfabToolCall
{
  GObject   parent_instance;

  char     *id;
  char     *name;
  JsonNode *arguments;
  char     *raw_arguments;
  GError   *arguments_error;
};

G_DEFINE_FINAL_TYPE (ConfabToolCall, confab_tool_call, G_TYPE_OBJECT)

static void
confab_tool_call_finalize (GObject *object)
{
  ConfabToolCall *self = (ConfabToolCall *)object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->arguments, json_node_unref);
  g_clear_pointer (&self->raw_arguments, g_free);
  g_clear_error (&self->arguments_error);

  G_OBJECT_CLASS (confab_tool_call_parent_class)->finalize (object);
}

static void
confab_tool_call_class_init (ConfabToolCallClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_tool_call_finalize;
}

static void
confab_tool_call_init (ConfabToolCall *self)
{
}

/**
 * confab_tool_call_generate_id:
 *
 * Returns: (transfer full): a fresh id ("call_" and 24 random hex digits)
 *   for servers that send tool calls without one. Any thread.
 */
char *
confab_tool_call_generate_id (void)
{
  return g_strdup_printf ("call_%08x%08x%08x",
                          g_random_int (), g_random_int (), g_random_int ());
}

/**
 * confab_tool_call_new:
 * @id: (nullable): the call id; %NULL or "" generates one
 * @name: the tool's name
 * @arguments: (nullable): the arguments; %NULL means an empty object
 *
 * Returns: (transfer full): a new tool call. Any thread.
 */
ConfabToolCall *
confab_tool_call_new (const char *id,
                      const char *name,
                      JsonNode   *arguments)
{
  ConfabToolCall *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (CONFAB_TYPE_TOOL_CALL, NULL);
  self->id = (id != NULL && id[0] != '\0') ? g_strdup (id) : confab_tool_call_generate_id ();
  self->name = g_strdup (name);
  if (arguments != NULL)
    self->arguments = json_node_copy (arguments);
  else
    {
      self->arguments = json_node_alloc ();
      json_node_take_object (self->arguments, json_object_new ());
    }
  self->raw_arguments = json_to_string (self->arguments, FALSE);

  return self;
}

/**
 * confab_tool_call_new_from_json_text:
 * @id: (nullable): the call id; %NULL or "" generates one
 * @name: the tool's name
 * @arguments_json: (nullable): the arguments as JSON text; %NULL, "" or
 *   only white space mean an empty object
 *
 * Parses @arguments_json. When it is not a JSON object the call keeps the
 * text and carries an error (see confab_tool_call_get_arguments_error())
 * that names the tool.
 *
 * Returns: (transfer full): a new tool call. Any thread.
 */
ConfabToolCall *
confab_tool_call_new_from_json_text (const char *id,
                                     const char *name,
                                     const char *arguments_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  ConfabToolCall *self;
  const char *p = arguments_json;

  g_return_val_if_fail (name != NULL, NULL);

  while (p != NULL && g_ascii_isspace (*p))
    p++;
  if (p == NULL || *p == '\0')
    return confab_tool_call_new (id, name, NULL);

  self = g_object_new (CONFAB_TYPE_TOOL_CALL, NULL);
  self->id = (id != NULL && id[0] != '\0') ? g_strdup (id) : confab_tool_call_generate_id ();
  self->name = g_strdup (name);
  self->raw_arguments = g_strdup (arguments_json);

  /* Text that is not UTF-8 is an error with its place, as any other. */
  if (!confab_json_parse (arguments_json, -1, &root, &error))
    self->arguments_error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                         /* Translators: the first %s is the name of a tool, such
                                          * as “get_weather”, the second says where the JSON is
                                          * wrong and how. */
                                         _("The arguments for tool “%s” are not valid JSON: %s"),
                                         name, error->message);
  else if (!JSON_NODE_HOLDS_OBJECT (root))
    self->arguments_error = g_error_new (CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                         /* Translators: %s is the name of a tool, such as “get_weather”. */
                                         _("The arguments for tool “%s” are not a JSON object"),
                                         name);
  else
    self->arguments = g_steal_pointer (&root);

  return self;
}

const char *
confab_tool_call_get_id (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);
  return self->id;
}

const char *
confab_tool_call_get_name (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);
  return self->name;
}

/**
 * confab_tool_call_get_arguments:
 *
 * Returns: (transfer none) (nullable): the arguments, a JSON object, or
 *   %NULL when the model sent arguments that do not parse.
 */
JsonNode *
confab_tool_call_get_arguments (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);
  return self->arguments;
}

/**
 * confab_tool_call_get_raw_arguments:
 *
 * Returns: (transfer none): the arguments as the model sent them.
 */
const char *
confab_tool_call_get_raw_arguments (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);
  return self->raw_arguments;
}

/**
 * confab_tool_call_get_arguments_error:
 *
 * Returns: (transfer none) (nullable): why the arguments could not be
 *   used, or %NULL when they are a valid JSON object.
 */
const GError *
confab_tool_call_get_arguments_error (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);
  return self->arguments_error;
}

/**
 * confab_tool_call_dup_arguments_json:
 *
 * Returns: (transfer full): compact JSON text of the arguments (the raw
 *   text when they did not parse), for APIs that send arguments as a string.
 */
char *
confab_tool_call_dup_arguments_json (ConfabToolCall *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_CALL (self), NULL);

  if (self->arguments != NULL)
    return json_to_string (self->arguments, FALSE);
  return g_strdup (self->raw_arguments);
}
