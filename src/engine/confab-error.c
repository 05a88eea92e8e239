/* confab-error.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "confab-error.h"

G_DEFINE_QUARK (confab-error-quark, confab_error)

/**
 * confab_error_code_to_nick:
 * @code: a #ConfabError code
 *
 * Returns: (transfer none): a short stable name for @code ("auth",
 *   "timeout", ...), used in machine-readable output. Any thread.
 */
const char *
confab_error_code_to_nick (int code)
{
  switch ((ConfabError) code)
    {
    case CONFAB_ERROR_AUTH: return "auth";
    case CONFAB_ERROR_NOT_FOUND: return "not-found";
    case CONFAB_ERROR_RATE_LIMITED: return "rate-limited";
    case CONFAB_ERROR_SERVER: return "server";
    case CONFAB_ERROR_BAD_REQUEST: return "bad-request";
    case CONFAB_ERROR_NETWORK: return "network";
    case CONFAB_ERROR_TIMEOUT: return "timeout";
    case CONFAB_ERROR_PROTOCOL: return "protocol";
    case CONFAB_ERROR_CANCELLED: return "cancelled";
    case CONFAB_ERROR_INVALID_ARGUMENT: return "invalid-argument";
    case CONFAB_ERROR_DENIED: return "denied";
    case CONFAB_ERROR_TOOL: return "tool";
    default: return "unknown";
    }
}

/* The Confab error code for an HTTP status (or a status-like code a
 * server puts in an error report). */
int
_confab_error_code_for_status (guint status)
{
  if (status == 401 || status == 403)
    return CONFAB_ERROR_AUTH;
  if (status == 404)
    return CONFAB_ERROR_NOT_FOUND;
  if (status == 429)
    return CONFAB_ERROR_RATE_LIMITED;
  if (status == 408)
    return CONFAB_ERROR_TIMEOUT;
  if (status >= 400 && status < 500)
    return CONFAB_ERROR_BAD_REQUEST;
  return CONFAB_ERROR_SERVER;
}
