/* confab-test-server.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a client sees (libsoup 3.2 on Linux):
 *
 * - Headers go out as soon as the request has been read; a delay only holds
 *   back the body.
 * - RESET: reading the body fails with G_IO_ERROR_CONNECTION_CLOSED
 *   ("Connection reset by peer"). A RST makes the kernel drop whatever the
 *   client had not read yet, so the bytes before the fault are only certain
 *   to arrive if the client read them first: a client in the same main loop
 *   does (writes are scheduled at idle priority, after its I/O); for a
 *   client in another process, set a delay.
 * - A plain close between two chunks (the server freed mid-response, or
 *   libsoup giving up on a connection) ends the body cleanly for a libsoup
 *   3.2 client, with no error: only the stream's own end marker ("[DONE]",
 *   "done":true, a finish_reason) tells a complete stream from a cut one.
 * - STALL and NO_RESPONSE end when the client closes its connection (EOF or
 *   error on the socket, also a half-close) or the server is freed; the
 *   client needs its own timeout.
 */

/**
 * ConfabTestFraming:
 * @CONFAB_TEST_FRAMING_BULK: the whole body (up to a fault) in one write
 * @CONFAB_TEST_FRAMING_EVENT: one write per event: split after each blank
 *   line ("\n\n", "\r\n\r\n", "\r\r"); a body without any blank line
 *   (NDJSON) is split after each "\n"
 * @CONFAB_TEST_FRAMING_BYTE: one write per byte
 *
 * How a response body is cut into writes. Each write goes to the socket as
 * its own HTTP chunk before the next one is scheduled.
 */
typedef enum
{
  CONFAB_TEST_FRAMING_BULK,
  CONFAB_TEST_FRAMING_EVENT,
  CONFAB_TEST_FRAMING_BYTE,
} ConfabTestFraming;

/**
 * ConfabTestFault:
 * @CONFAB_TEST_FAULT_NONE: serve the whole body
 * @CONFAB_TEST_FAULT_RESET: after fault_offset body bytes, abort the TCP
 *   connection with a RST (SO_LINGER 0, then close)
 * @CONFAB_TEST_FAULT_STALL: after fault_offset body bytes, send nothing more
 *   but keep the connection open until the client goes away or the server
 *   is freed
 * @CONFAB_TEST_FAULT_TRUNCATE: after fault_offset body bytes, end the
 *   response cleanly (terminating chunk), as if the body ended there
 * @CONFAB_TEST_FAULT_NO_RESPONSE: read the request and never send a status
 *   line or headers
 *
 * A fault injected into a response. Any fault makes the response chunked.
 */
typedef enum
{
  CONFAB_TEST_FAULT_NONE,
  CONFAB_TEST_FAULT_RESET,
  CONFAB_TEST_FAULT_STALL,
  CONFAB_TEST_FAULT_TRUNCATE,
  CONFAB_TEST_FAULT_NO_RESPONSE,
} ConfabTestFault;

#define CONFAB_TYPE_TEST_SERVER (confab_test_server_get_type ())

G_DECLARE_FINAL_TYPE (ConfabTestServer, confab_test_server, CONFAB, TEST_SERVER, GObject)

/**
 * ConfabTestResponse:
 *
 * A canned response. A plain struct owned by the #ConfabTestServer that
 * returned it; it lives as long as the server. Configure it right after
 * adding it, before a request can use it.
 */
typedef struct _ConfabTestResponse ConfabTestResponse;

/* All functions must be called on the thread whose thread-default main
 * context was current when the server was created; the server serves from
 * that context, and only while it is iterated. */

/* Starts listening on 127.0.0.1 on a free port; aborts if it cannot. */
ConfabTestServer   *confab_test_server_new                (void);
/* "http://127.0.0.1:PORT", no trailing slash; owned by @self. */
const char         *confab_test_server_get_url            (ConfabTestServer   *self);
guint16             confab_test_server_get_port           (ConfabTestServer   *self);

/* Queues a response with HTTP status @status for requests to @path (exact
 * match on the URI path, any method). Responses queued for a path are used
 * in order, one per request; the last one is reused for every further
 * request. A path with nothing queued answers 404 with
 * {"error":{"message":"no response queued for PATH"}}. Returns (transfer
 * none) a response with an empty body, BULK framing, no delay, no fault. */
ConfabTestResponse *confab_test_server_add_response       (ConfabTestServer   *self,
                                                           const char         *path,
                                                           guint               status);

/* Sets the body; @body is referenced. */
void                confab_test_response_set_body         (ConfabTestResponse *resp,
                                                           GBytes             *body);
/* Sets the body to a copy of the NUL-terminated @body. */
void                confab_test_response_set_body_string  (ConfabTestResponse *resp,
                                                           const char         *body);
/* Sets the body to the contents of @filename; aborts if it cannot be read. */
void                confab_test_response_set_body_file    (ConfabTestResponse *resp,
                                                           const char         *filename);
/* Appends a response header. A Content-Type header replaces the content
 * type instead. */
void                confab_test_response_add_header       (ConfabTestResponse *resp,
                                                           const char         *name,
                                                           const char         *value);
/* Default: "text/event-stream" if the body starts with "data:", "event:" or
 * ":", else "application/json". */
void                confab_test_response_set_content_type (ConfabTestResponse *resp,
                                                           const char         *type);
/* Default: CONFAB_TEST_FRAMING_BULK. Anything else makes the response
 * chunked. */
void                confab_test_response_set_framing      (ConfabTestResponse *resp,
                                                           ConfabTestFraming   framing);
/* Delay before the first body write and between writes; default 0 (each
 * write from an idle after the previous one reached the socket). A delay
 * makes the response chunked. */
void                confab_test_response_set_delay        (ConfabTestResponse *resp,
                                                           guint               delay_ms);
/* Injects @fault after @fault_offset body bytes (ignored for NO_RESPONSE).
 * The fault happens where the next write would have (after the delay). */
void                confab_test_response_set_fault        (ConfabTestResponse *resp,
                                                           ConfabTestFault     fault,
                                                           gsize               fault_offset);

/* Makes the response a step of a scripted exchange: the server first
 * checks that the request carries the results of the tool calls @call_ids
 * (NULL-terminated), in that order, in the shape of @api ("openai",
 * "ollama" or "anthropic"; Ollama's results carry tool names, not ids, so
 * pass the names there), each containing the matching string of
 * @contains (NULL, or as many strings, "" for any). When the check fails
 * the server answers 400 with a JSON error naming what is wrong, so the
 * client's error says it. */
void                confab_test_response_expect_tool_results (ConfabTestResponse *resp,
                                                              const char         *api,
                                                              const char * const *call_ids,
                                                              const char * const *contains);

/* Requests received so far (recorded when the request, body included, has
 * been read), oldest first. Returned pointers are owned by @self. The
 * ::request-received signal (a guint, the request's index) says when one
 * has been recorded, before it is answered. */
guint               confab_test_server_get_n_requests     (ConfabTestServer   *self);
const char         *confab_test_server_get_request_path   (ConfabTestServer   *self,
                                                           guint               i);
const char         *confab_test_server_get_request_method (ConfabTestServer   *self,
                                                           guint               i);
/* NULL if absent; several headers of the same name are joined with ", ". */
const char         *confab_test_server_get_request_header (ConfabTestServer   *self,
                                                           guint               i,
                                                           const char         *name);
/* Transfer none; never NULL (empty for a request without a body). */
GBytes             *confab_test_server_get_request_body   (ConfabTestServer   *self,
                                                           guint               i);
/* g_get_monotonic_time() when the request had been read. */
gint64              confab_test_server_get_request_time   (ConfabTestServer   *self,
                                                           guint               i);

/* Queued responses being served right now: from the request until the
 * response finished, the connection went away (client closed it, RESET) or
 * the server was freed. 404s for unqueued paths are not counted. */
guint               confab_test_server_get_n_active       (ConfabTestServer   *self);

/* Deterministic streams of @n_tokens tokens for benchmarks and tests. Token
 * i is a word from a fixed list of 64 (some non-ASCII, some needing JSON
 * escapes); both generators use the same tokens, so the same @n_tokens gives
 * the same text. @out_text (optional) receives the assembled text (free with
 * g_free()). Return (transfer full) the body. Any thread. */

/* OpenAI chat.completion.chunk SSE: a role chunk, one "data: {...}\n\n"
 * chunk per token, a finish_reason "stop" chunk, a usage chunk with empty
 * choices, then "data: [DONE]\n\n". */
GBytes             *confab_test_generate_openai_stream    (guint               n_tokens,
                                                           char              **out_text);
/* Ollama /api/chat NDJSON: one "done":false line per token, then a
 * "done":true line with done_reason, counts and durations. */
GBytes             *confab_test_generate_ollama_stream    (guint               n_tokens,
                                                           char              **out_text);

/* A streamed reply in the format of @api ("openai", "ollama",
 * "anthropic") asking for the tools @names (NULL-terminated) with the JSON
 * argument texts @arguments, in that order, after the text @preamble (may
 * be NULL). Call ids are "call_0", "call_1", ... ("toolu_0", ... for
 * Anthropic; Ollama sends none). */
GBytes             *confab_test_generate_tool_call_stream (const char         *api,
                                                           const char         *preamble,
                                                           const char * const *names,
                                                           const char * const *arguments);
/* A streamed final answer @text in the format of @api, in one piece. */
GBytes             *confab_test_generate_text_reply       (const char         *api,
                                                           const char         *text);
/* The path a provider of @api posts chat requests to on this server
 * ("/v1/chat/completions", "/api/chat", "/v1/messages"), and the base
 * URL to give it. */
const char         *confab_test_chat_path                 (const char         *api);
char               *confab_test_server_dup_base_url       (ConfabTestServer   *self,
                                                           const char         *api);

/* Dead: no such process, or a zombie nobody reaps (a killed grandchild
 * is reparented, and PID 1 of a container may never reap it). */
gboolean            confab_test_process_is_dead           (GPid                pid);
/* Polls confab_test_process_is_dead() every 10 ms on the thread-default
 * main context, for at most @timeout_ms; returns what it found last. */
gboolean            confab_test_wait_for_process_death    (GPid                pid,
                                                           guint               timeout_ms);

/* The recorded fixtures under tests/fixtures (G_TEST_SRCDIR is tests/). */
char               *confab_test_fixture_path              (const char         *dir,
                                                           const char         *name);
char               *confab_test_fixture_contents          (const char         *dir,
                                                           const char         *name,
                                                           gsize              *len);

G_END_DECLS
