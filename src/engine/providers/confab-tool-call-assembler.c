/* confab-tool-call-assembler.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-error.h"
#include "confab-tool-call-assembler-private.h"

typedef struct
{
  gint64   index;
  GString *id;
  GString *name;
  GString *arguments;
  char    *default_arguments;
} Slot;

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  g_string_free (slot->id, TRUE);
  g_string_free (slot->name, TRUE);
  g_string_free (slot->arguments, TRUE);
  g_free (slot->default_arguments);
  g_free (slot);
}

void
_confab_tool_call_assembler_init (ConfabToolCallAssembler *self,
                                  gsize                    max_bytes)
{
  memset (self, 0, sizeof *self);
  self->slots = g_ptr_array_new_with_free_func (slot_free);
  self->max_bytes = max_bytes;
}

void
_confab_tool_call_assembler_clear (ConfabToolCallAssembler *self)
{
  g_clear_pointer (&self->slots, g_ptr_array_unref);
}

gboolean
_confab_tool_call_assembler_is_empty (ConfabToolCallAssembler *self)
{
  return self->slots->len == 0;
}

static Slot *
find_slot (ConfabToolCallAssembler *self,
           gint64                   index,
           const char              *id)
{
  if (index < 0)
    {
      Slot *last = self->slots->len > 0 ? g_ptr_array_index (self->slots, self->slots->len - 1) : NULL;

      if (id == NULL || id[0] == '\0')
        return last;
      for (guint i = 0; i < self->slots->len; i++)
        {
          Slot *slot = g_ptr_array_index (self->slots, i);
          if (strcmp (slot->id->str, id) == 0)
            return slot;
        }
      return NULL;
    }

  for (guint i = 0; i < self->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (self->slots, i);
      if (slot->index == index)
        return slot;
    }
  return NULL;
}

gboolean
_confab_tool_call_assembler_set_default (ConfabToolCallAssembler  *self,
                                         gint64                    index,
                                         const char               *arguments,
                                         GError                  **error)
{
  Slot *slot;

  if (!_confab_tool_call_assembler_add (self, index, NULL, NULL, NULL, 0, error))
    return FALSE;

  slot = find_slot (self, index, NULL);
  g_assert (slot != NULL);
  g_free (slot->default_arguments);
  slot->default_arguments = g_strdup (arguments);
  return TRUE;
}

gboolean
_confab_tool_call_assembler_add (ConfabToolCallAssembler  *self,
                                 gint64                    index,
                                 const char               *id,
                                 const char               *name,
                                 const char               *arguments,
                                 gsize                     arguments_len,
                                 GError                  **error)
{
  Slot *slot;

  if (index >= CONFAB_MAX_TOOL_CALLS)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                   /* Translators: the first number is the index the server gave, the
                    * second the most tool calls one reply may have. */
                   _("The server sent a tool call with index %lld; "
                     "at most %d tool calls are accepted in one reply"),
                   (long long)index, CONFAB_MAX_TOOL_CALLS);
      return FALSE;
    }

  slot = find_slot (self, index, id);
  if (slot == NULL)
    {
      if (self->slots->len >= CONFAB_MAX_TOOL_CALLS)
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       _("The server sent more than %d tool calls in one reply"),
                       CONFAB_MAX_TOOL_CALLS);
          return FALSE;
        }
      slot = g_new0 (Slot, 1);
      if (index >= 0)
        slot->index = index;
      else if (self->slots->len > 0)
        slot->index = ((Slot *)g_ptr_array_index (self->slots, self->slots->len - 1))->index + 1;
      slot->id = g_string_new (NULL);
      slot->name = g_string_new (NULL);
      slot->arguments = g_string_new (NULL);
      g_ptr_array_add (self->slots, slot);
    }

  if (id != NULL && slot->id->len == 0)
    g_string_assign (slot->id, id);

  /* Most servers send the name once; some repeat it whole in every
   * fragment, a few split it. Only a different text is appended. */
  if (name != NULL && name[0] != '\0' && strcmp (slot->name->str, name) != 0)
    g_string_append (slot->name, name);

  if (arguments_len > 0)
    {
      self->total_bytes += arguments_len;
      if (self->total_bytes > self->max_bytes)
        {
          g_autofree char *limit = g_format_size_full (self->max_bytes, G_FORMAT_SIZE_IEC_UNITS);
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       /* Translators: %s is a size, such as “16 MiB”. */
                       _("The server sent tool call arguments larger than %s"), limit);
          return FALSE;
        }
      g_string_append_len (slot->arguments, arguments, arguments_len);
    }

  return TRUE;
}

static int
compare_slots (gconstpointer a,
               gconstpointer b)
{
  const Slot *sa = *(const Slot * const *)a;
  const Slot *sb = *(const Slot * const *)b;

  return (sa->index > sb->index) - (sa->index < sb->index);
}

GPtrArray *
_confab_tool_call_assembler_finish (ConfabToolCallAssembler  *self,
                                    GError                  **error)
{
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) slots = g_steal_pointer (&self->slots);

  self->slots = g_ptr_array_new_with_free_func (slot_free);
  self->total_bytes = 0;

  g_ptr_array_sort (slots, compare_slots);

  for (guint i = 0; i < slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (slots, i);

      if (slot->name->len == 0 || !g_utf8_validate (slot->name->str, slot->name->len, NULL))
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       _("The server sent a tool call without a valid name (call %u)"), i + 1);
          return NULL;
        }

      g_ptr_array_add (calls, confab_tool_call_new_from_json_text (slot->id->str,
                                                                  slot->name->str,
                                                                  slot->arguments->len > 0 || slot->default_arguments == NULL
                                                                  ? slot->arguments->str
                                                                  : slot->default_arguments));
    }

  return g_steal_pointer (&calls);
}
