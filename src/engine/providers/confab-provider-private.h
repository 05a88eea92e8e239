/* confab-provider-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-provider.h"

G_BEGIN_DECLS

/* Watches one operation for stalls: every byte that arrives calls
 * _confab_watchdog_touch(); when nothing arrived for the timeout, the
 * watchdog cancels its cancellable and remembers that it did. Main
 * context of its creator only.
 */
typedef struct _ConfabWatchdog ConfabWatchdog;

ConfabWatchdog *_confab_watchdog_new        (guint           timeout_seconds,
                                             GCancellable   *user_cancellable);
void            _confab_watchdog_free       (ConfabWatchdog *self);
GCancellable   *_confab_watchdog_get_cancellable (ConfabWatchdog *self);
void            _confab_watchdog_touch      (ConfabWatchdog *self);
void            _confab_watchdog_pause      (ConfabWatchdog *self,
                                             gboolean        paused);
gboolean        _confab_watchdog_timed_out  (ConfabWatchdog *self);
guint           _confab_watchdog_get_timeout (ConfabWatchdog *self);
/* Turns an I/O error of the watched operation into a Confab error:
 * TIMEOUT when the watchdog fired, CANCELLED when the caller cancelled,
 * NETWORK otherwise. @what says what was being done, already
 * translated, such as “reading the reply”. */
GError         *_confab_watchdog_map_error  (ConfabWatchdog *self,
                                             const GError   *io_error,
                                             const char     *what);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConfabWatchdog, _confab_watchdog_free)

GSource *_confab_timeout_add  (guint        interval_ms,
                               GSourceFunc  func,
                               gpointer     data);
void      _confab_source_clear (GSource    **source);

typedef SoupMessage *(*ConfabMessageBuilder) (ConfabProvider  *provider,
                                              gpointer         data,
                                              GError         **error);

/* Sends the request @build makes (once per try) and completes with the
 * body stream of a 2xx response. Connection failures and HTTP 429, 502,
 * 503 and 504 are retried with exponential backoff, honouring
 * Retry-After; other statuses become a Confab error carrying the
 * server's own message. */
void          _confab_provider_send_async  (ConfabProvider        *self,
                                            ConfabMessageBuilder   build,
                                            gpointer               build_data,
                                            ConfabWatchdog        *watchdog,
                                            GAsyncReadyCallback    callback,
                                            gpointer               user_data);
GInputStream *_confab_provider_send_finish (ConfabProvider        *self,
                                            GAsyncResult          *result,
                                            SoupMessage          **message,
                                            GError               **error);
gsize         _confab_provider_get_max_line_length (ConfabProvider *self);
/* Test hook: the first backoff delay in milliseconds (default 1000). */
void          _confab_provider_set_retry_delay     (ConfabProvider *self,
                                                    guint           milliseconds);
char         *_confab_error_message_from_body      (GBytes         *body);
void          _confab_add_function_tools           (JsonBuilder    *builder,
                                                    GPtrArray      *tools);
void          _confab_provider_add_bearer          (ConfabProvider *self,
                                                    SoupMessage    *message);
/* Model ids out of {"ARRAY":[{"ID":...}, ...]}. */
GStrv         _confab_parse_model_list             (JsonNode       *root,
                                                    const char     *array_member,
                                                    const char     *id_member,
                                                    GError        **error);

G_END_DECLS
