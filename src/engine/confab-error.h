/* confab-error.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CONFAB_ERROR (confab_error_quark ())

/**
 * ConfabError:
 * @CONFAB_ERROR_AUTH: the server refused the credentials (HTTP 401/403)
 * @CONFAB_ERROR_NOT_FOUND: the endpoint or model does not exist (HTTP 404)
 * @CONFAB_ERROR_RATE_LIMITED: too many requests (HTTP 429), after retries
 * @CONFAB_ERROR_SERVER: the server failed (HTTP 5xx, or an error event in the stream)
 * @CONFAB_ERROR_BAD_REQUEST: the server rejected the request (other HTTP 4xx)
 * @CONFAB_ERROR_NETWORK: the connection failed or broke
 * @CONFAB_ERROR_TIMEOUT: no bytes arrived for longer than the stall timeout
 * @CONFAB_ERROR_PROTOCOL: the server sent something that is not the expected format
 * @CONFAB_ERROR_CANCELLED: the operation was cancelled
 * @CONFAB_ERROR_INVALID_ARGUMENT: the caller asked for something impossible
 * @CONFAB_ERROR_DENIED: the user (or a setting) did not allow a tool to run
 * @CONFAB_ERROR_TOOL: a tool ran and failed (its message says why)
 *
 * Errors of the engine. Every message is meant for a human and, where the
 * server sent one, includes the server's own message.
 */
typedef enum
{
  CONFAB_ERROR_AUTH,
  CONFAB_ERROR_NOT_FOUND,
  CONFAB_ERROR_RATE_LIMITED,
  CONFAB_ERROR_SERVER,
  CONFAB_ERROR_BAD_REQUEST,
  CONFAB_ERROR_NETWORK,
  CONFAB_ERROR_TIMEOUT,
  CONFAB_ERROR_PROTOCOL,
  CONFAB_ERROR_CANCELLED,
  CONFAB_ERROR_INVALID_ARGUMENT,
  CONFAB_ERROR_DENIED,
  CONFAB_ERROR_TOOL,
} ConfabError;

GQuark      confab_error_quark        (void);
const char *confab_error_code_to_nick (int code);
int         _confab_error_code_for_status (guint status);

G_END_DECLS
