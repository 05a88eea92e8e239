/* fuzz-html-to-text.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fetch_url's HTML reducer on any page (made valid UTF-8 first, as the
 * tool does): the text and the title are valid UTF-8, and no longer
 * than the page could make them (an entity or a list item expands by at
 * most a few bytes).
 */

#include "config.h"

#include "confab-fetch-url-tool-private.h"
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *html = NULL;
  g_autofree char *text = NULL;
  g_autofree char *title = NULL;
  gsize len;

  fuzz_init ();

  html = g_utf8_make_valid ((const char *) data, size);
  len = strlen (html);
  text = _confab_html_to_text (html, len, &title);

  fuzz_check (g_utf8_validate (text, -1, NULL));
  fuzz_check (strlen (text) <= 2 * len);
  fuzz_check (title == NULL || g_utf8_validate (title, -1, NULL));
  fuzz_check (title == NULL || strlen (title) <= len);

  return 0;
}
