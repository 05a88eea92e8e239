/* confab-tool-spec.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-tool-spec.h"

/* What the model is told about a tool: its name, what it does and its
 * parameters as a JSON Schema object.
 */
struct _ConfabToolSpec
{
  GObject   parent_instance;

  char     *name;
  char     *description;
  JsonNode *parameters;
};

G_DEFINE_FINAL_TYPE (ConfabToolSpec, confab_tool_spec, G_TYPE_OBJECT)

static void
confab_tool_spec_finalize (GObject *object)
{
  ConfabToolSpec *self = (ConfabToolSpec *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->parameters, json_node_unref);

  G_OBJECT_CLASS (confab_tool_spec_parent_class)->finalize (object);
}

static void
confab_tool_spec_class_init (ConfabToolSpecClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_tool_spec_finalize;
}

static void
confab_tool_spec_init (ConfabToolSpec *self)
{
}

/**
 * confab_tool_spec_new:
 * @name: the tool's name as the model calls it
 * @description: what it does, for the model
 * @parameters: (nullable): JSON Schema of the arguments; %NULL means an
 *   object schema without properties
 *
 * Returns: (transfer full): a new tool description. Any thread.
 */
ConfabToolSpec *
confab_tool_spec_new (const char *name,
                      const char *description,
                      JsonNode   *parameters)
{
  ConfabToolSpec *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (CONFAB_TYPE_TOOL_SPEC, NULL);
  self->name = g_strdup (name);
  self->description = g_strdup (description != NULL ? description : "");
  if (parameters != NULL)
    self->parameters = json_node_copy (parameters);
  else
    self->parameters = json_from_string ("{\"type\":\"object\",\"properties\":{}}", NULL);

  return self;
}

const char *
confab_tool_spec_get_name (ConfabToolSpec *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_SPEC (self), NULL);
  return self->name;
}

const char *
confab_tool_spec_get_description (ConfabToolSpec *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_SPEC (self), NULL);
  return self->description;
}

JsonNode *
confab_tool_spec_get_parameters (ConfabToolSpec *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOL_SPEC (self), NULL);
  return self->parameters;
}
