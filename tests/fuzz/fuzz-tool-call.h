/* fuzz-tool-call.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool-call.h"
#include "fuzz-common.h"

/* Checks what every tool call handed out promises: an id, a valid name,
 * and either arguments that are a JSON object or the reason why not.
 * Appends a line describing it to @transcript, when not %NULL. */
static inline void
fuzz_check_tool_call (ConfabToolCall *call,
                      GString        *transcript)
{
  const char *id;
  const char *name;
  const char *raw;
  JsonNode *arguments;
  const GError *arguments_error;
  g_autofree char *json = NULL;

  fuzz_check (CONFAB_IS_TOOL_CALL (call));

  id = confab_tool_call_get_id (call);
  name = confab_tool_call_get_name (call);
  raw = confab_tool_call_get_raw_arguments (call);
  arguments = confab_tool_call_get_arguments (call);
  arguments_error = confab_tool_call_get_arguments_error (call);

  fuzz_check (id != NULL && id[0] != '\0');
  fuzz_check (name != NULL && name[0] != '\0');
  fuzz_check (g_utf8_validate (name, -1, NULL));
  fuzz_check (raw != NULL);
  /* Either usable arguments (an object) or the reason they are not. */
  fuzz_check ((arguments != NULL) != (arguments_error != NULL));
  fuzz_check (arguments == NULL || JSON_NODE_HOLDS_OBJECT (arguments));
  fuzz_check (arguments_error == NULL || arguments_error->message != NULL);

  json = confab_tool_call_dup_arguments_json (call);
  fuzz_check (json != NULL);

  /* Ids the server left out are random: not part of the transcript. */
  if (transcript != NULL)
    g_string_append_printf (transcript, "tool_call:%s:%s:%s\n", name, raw,
                            arguments_error != NULL ? arguments_error->message : json);
}
