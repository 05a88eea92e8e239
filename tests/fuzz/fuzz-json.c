/* fuzz-json.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * confab_json_parse(), which reads every JSON text Confab did not write
 * (tool arguments, MCP messages, error bodies, files): it succeeds or
 * fails with a message naming a line and a column, never leaks what
 * json-glib built, and what it returns writes out as JSON that parses
 * again to the same text.
 */

#include "config.h"

#include "confab-json.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  fuzz_init ();

  ok = confab_json_parse ((const char *)data, size, &root, &error);
  fuzz_check (ok == (error == NULL));
  fuzz_check (ok || root == NULL);
  fuzz_check (ok || g_str_has_prefix (error->message, "line "));

  if (root != NULL)
    {
      g_autoptr(JsonNode) again = NULL;
      g_autoptr(GError) again_error = NULL;
      g_autofree char *text = json_to_string (root, FALSE);
      g_autofree char *text_again = NULL;

      fuzz_check (g_utf8_validate (text, -1, NULL));
      fuzz_check (confab_json_parse (text, -1, &again, &again_error));
      fuzz_check (again != NULL);
      text_again = json_to_string (again, FALSE);
      fuzz_check (g_strcmp0 (text, text_again) == 0);
    }

  return 0;
}
