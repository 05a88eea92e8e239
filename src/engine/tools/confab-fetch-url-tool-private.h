/* confab-fetch-url-tool-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-fetch-url-tool.h"

G_BEGIN_DECLS

typedef gboolean (*ConfabAddressFilter) (GInetAddress *address);

/* Whether fetch_url must not reach @address without the user's
 * permission: loopback, private (10/8, 172.16/12, 192.168/16, shared
 * 100.64/10), link-local, "this network" 0/8, multicast, reserved and
 * broadcast; ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8; and the
 * IPv6 forms that carry such an IPv4 address (IPv4-mapped and -compatible,
 * NAT64 64:ff9b::/96, 6to4 2002::/16). Any thread. */
gboolean _confab_inet_address_is_private       (GInetAddress        *address);

/* A web page as readable text: script, style and the like dropped, tags
 * removed, block elements on lines of their own, entities decoded,
 * whitespace collapsed (kept inside <pre>). @html is valid UTF-8 of @len
 * bytes. @title (optional) receives the page's <title>, or NULL. Returns
 * (transfer full) valid UTF-8. Any thread. */
char    *_confab_html_to_text                  (const char          *html,
                                                gsize                len,
                                                char               **title);

/* For tests, where every server is on 127.0.0.1: @is_private replaces
 * the address classification (NULL restores it), and @skip_lookup_check
 * leaves only the check of the address actually connected to. */
void     _confab_fetch_url_tool_set_test_hooks (ConfabFetchUrlTool  *self,
                                                ConfabAddressFilter  is_private,
                                                gboolean             skip_lookup_check);

G_END_DECLS
