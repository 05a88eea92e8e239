/* confab-builtin-tools-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Bytes looked at for NUL bytes to tell a binary file from text. */
#define CONFAB_BINARY_SNIFF_SIZE 8192

/* The length of @text (@len bytes) without a UTF-8 sequence cut short at
 * its end, as happens when output is cut at a byte limit. Any thread. */
gsize _confab_utf8_complete_length (const char *text,
                                    gsize       len);

G_END_DECLS
