/* confab-builtin-tools.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-builtin-tools.h"
#include "confab-builtin-tools-private.h"

/* The tools Confab ships, by the name the model calls them. */
static const struct
{
  const char *name;
  ConfabTool *(*create) (void);
} builtin_tools[] = {
  { "current_datetime", confab_datetime_tool_new },
  { "fetch_url", confab_fetch_url_tool_new },
  { "list_directory", confab_list_directory_tool_new },
  { "read_file", confab_read_file_tool_new },
  { "run_command", confab_run_command_tool_new },
  { "search_files", confab_search_files_tool_new },
};

gsize
_confab_utf8_complete_length (const char *text,
                              gsize       len)
{
  gsize start = len;
  gsize needed;
  guchar lead;

  /* Back over continuation bytes (at most three) to the lead byte. */
  while (start > 0 && len - start < 3 && ((guchar) text[start - 1] & 0xC0) == 0x80)
    start--;
  if (start == 0)
    return len;

  lead = (guchar) text[start - 1];
  if (lead < 0x80)
    return len;
  else if ((lead & 0xE0) == 0xC0)
    needed = 2;
  else if ((lead & 0xF0) == 0xE0)
    needed = 3;
  else if ((lead & 0xF8) == 0xF0)
    needed = 4;
  else
    return len;

  return len - (start - 1) < needed ? start - 1 : len;
}

void
confab_builtin_tools_add_all (ConfabToolbox *toolbox)
{
  g_return_if_fail (CONFAB_IS_TOOLBOX (toolbox));

  for (guint i = 0; i < G_N_ELEMENTS (builtin_tools); i++)
    {
      g_autoptr(ConfabTool) tool = builtin_tools[i].create ();

      confab_toolbox_add (toolbox, tool);
    }
}

ConfabTool *
confab_builtin_tool_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (builtin_tools); i++)
    if (g_str_equal (name, builtin_tools[i].name))
      return builtin_tools[i].create ();
  return NULL;
}
