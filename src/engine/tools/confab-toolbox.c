/* confab-toolbox.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "confab-toolbox.h"

struct _ConfabToolbox
{
  GObject     parent_instance;

  GPtrArray  *tools;     /* ConfabTool, sorted by name */
  GHashTable *policies;  /* name → ConfabToolPolicy */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConfabToolbox, confab_toolbox, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
confab_toolbox_get_item_type (GListModel *model)
{
  return CONFAB_TYPE_TOOL;
}

static guint
confab_toolbox_get_n_items (GListModel *model)
{
  return CONFAB_TOOLBOX (model)->tools->len;
}

static gpointer
confab_toolbox_get_item (GListModel *model,
                         guint       position)
{
  ConfabToolbox *self = CONFAB_TOOLBOX (model);

  if (position >= self->tools->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->tools, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = confab_toolbox_get_item_type;
  iface->get_n_items = confab_toolbox_get_n_items;
  iface->get_item = confab_toolbox_get_item;
}

static void
confab_toolbox_finalize (GObject *object)
{
  ConfabToolbox *self = (ConfabToolbox *)object;

  g_clear_pointer (&self->tools, g_ptr_array_unref);
  g_clear_pointer (&self->policies, g_hash_table_unref);

  G_OBJECT_CLASS (confab_toolbox_parent_class)->finalize (object);
}

static void
confab_toolbox_class_init (ConfabToolboxClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = confab_toolbox_finalize;
}

static void
confab_toolbox_init (ConfabToolbox *self)
{
  self->tools = g_ptr_array_new_with_free_func (g_object_unref);
  self->policies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

ConfabToolbox *
confab_toolbox_new (void)
{
  return g_object_new (CONFAB_TYPE_TOOLBOX, NULL);
}

/* The position of @name, or where it would go. */
static guint
find_position (ConfabToolbox *self,
               const char    *name,
               gboolean      *found)
{
  guint lo = 0, hi = self->tools->len;

  *found = FALSE;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = strcmp (confab_tool_get_name (g_ptr_array_index (self->tools, mid)), name);

      if (cmp == 0)
        {
          *found = TRUE;
          return mid;
        }
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

void
confab_toolbox_add (ConfabToolbox *self,
                    ConfabTool    *tool)
{
  gboolean found;
  guint position;

  g_return_if_fail (CONFAB_IS_TOOLBOX (self));
  g_return_if_fail (CONFAB_IS_TOOL (tool));

  position = find_position (self, confab_tool_get_name (tool), &found);
  if (found)
    {
      g_object_unref (g_ptr_array_index (self->tools, position));
      g_ptr_array_index (self->tools, position) = g_object_ref (tool);
    }
  else
    g_ptr_array_insert (self->tools, position, g_object_ref (tool));

  g_list_model_items_changed (G_LIST_MODEL (self), position, found ? 1 : 0, 1);
}

gboolean
confab_toolbox_remove (ConfabToolbox *self,
                       const char    *name)
{
  gboolean found;
  guint position;

  g_return_val_if_fail (CONFAB_IS_TOOLBOX (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  position = find_position (self, name, &found);
  if (!found)
    return FALSE;

  g_ptr_array_remove_index (self->tools, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  return TRUE;
}

ConfabTool *
confab_toolbox_lookup (ConfabToolbox *self,
                       const char    *name)
{
  gboolean found;
  guint position;

  g_return_val_if_fail (CONFAB_IS_TOOLBOX (self), NULL);

  if (name == NULL)
    return NULL;
  position = find_position (self, name, &found);
  return found ? g_ptr_array_index (self->tools, position) : NULL;
}

guint
confab_toolbox_get_n_tools (ConfabToolbox *self)
{
  g_return_val_if_fail (CONFAB_IS_TOOLBOX (self), 0);
  return self->tools->len;
}

ConfabToolPolicy
confab_toolbox_get_policy (ConfabToolbox *self,
                           const char    *name)
{
  gpointer value;
  ConfabTool *tool;

  g_return_val_if_fail (CONFAB_IS_TOOLBOX (self), CONFAB_TOOL_POLICY_ASK);
  g_return_val_if_fail (name != NULL, CONFAB_TOOL_POLICY_ASK);

  if (g_hash_table_lookup_extended (self->policies, name, NULL, &value))
    return (ConfabToolPolicy) GPOINTER_TO_INT (value);

  tool = confab_toolbox_lookup (self, name);
  if (tool == NULL || confab_tool_get_needs_approval (tool))
    return CONFAB_TOOL_POLICY_ASK;
  return CONFAB_TOOL_POLICY_ALLOW;
}

void
confab_toolbox_set_policy (ConfabToolbox    *self,
                           const char       *name,
                           ConfabToolPolicy  policy)
{
  g_return_if_fail (CONFAB_IS_TOOLBOX (self));
  g_return_if_fail (name != NULL);

  g_hash_table_insert (self->policies, g_strdup (name), GINT_TO_POINTER (policy));
}

void
confab_toolbox_reset_policy (ConfabToolbox *self,
                             const char    *name)
{
  g_return_if_fail (CONFAB_IS_TOOLBOX (self));
  g_return_if_fail (name != NULL);

  g_hash_table_remove (self->policies, name);
}

void
confab_toolbox_clear_policies (ConfabToolbox *self)
{
  g_return_if_fail (CONFAB_IS_TOOLBOX (self));

  g_hash_table_remove_all (self->policies);
}

GPtrArray *
confab_toolbox_dup_specs (ConfabToolbox *self)
{
  GPtrArray *specs;

  g_return_val_if_fail (CONFAB_IS_TOOLBOX (self), NULL);

  specs = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->tools->len; i++)
    {
      ConfabTool *tool = g_ptr_array_index (self->tools, i);

      if (confab_toolbox_get_policy (self, confab_tool_get_name (tool)) != CONFAB_TOOL_POLICY_NEVER)
        g_ptr_array_add (specs, confab_tool_dup_spec (tool));
    }
  return specs;
}
