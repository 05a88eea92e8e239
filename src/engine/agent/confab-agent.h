/* confab-agent.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-reply.h"
#include "confab-store.h"
#include "confab-toolbox.h"

G_BEGIN_DECLS

/**
 * ConfabAgentOutcome:
 * @CONFAB_AGENT_FINAL: the model gave an answer without asking for tools
 * @CONFAB_AGENT_STEP_LIMIT: the model still asked for tools after the
 *   last allowed step; the tools ran, their results are kept
 * @CONFAB_AGENT_STOPPED: the turn was cancelled; everything so far is kept
 *
 * How a turn that did not fail ended.
 */
typedef enum
{
  CONFAB_AGENT_FINAL,
  CONFAB_AGENT_STEP_LIMIT,
  CONFAB_AGENT_STOPPED,
} ConfabAgentOutcome;

/**
 * ConfabApprovalAnswer:
 * @CONFAB_APPROVAL_ALLOW_ONCE: run this call
 * @CONFAB_APPROVAL_ALLOW_ALWAYS: run it, and every later call of the same
 *   tool by this agent (the conversation) without asking
 * @CONFAB_APPROVAL_DENY: don't run it; the model is told so
 */
typedef enum
{
  CONFAB_APPROVAL_ALLOW_ONCE,
  CONFAB_APPROVAL_ALLOW_ALWAYS,
  CONFAB_APPROVAL_DENY,
} ConfabApprovalAnswer;

#define CONFAB_DEFAULT_MAX_STEPS 25

/* ConfabApproval: one pending question to the user. Answered once, from
 * the main thread, whenever the user gets to it: nothing waits by polling. */

#define CONFAB_TYPE_APPROVAL (confab_approval_get_type ())
G_DECLARE_FINAL_TYPE (ConfabApproval, confab_approval, CONFAB, APPROVAL, GObject)

ConfabToolCall *confab_approval_get_call     (ConfabApproval       *self);
ConfabTool     *confab_approval_get_tool     (ConfabApproval       *self);
/* The tool-result message the answer is for (shown as the tool's card). */
ConfabMessage  *confab_approval_get_message  (ConfabApproval       *self);
/* Whether it was answered or withdrawn (the turn was stopped). The
 * "resolved" signal says when. */
gboolean        confab_approval_get_resolved (ConfabApproval       *self);
/* @reason (for a denial, may be NULL) is what the model is told. Ignored
 * once resolved. */
void            confab_approval_answer       (ConfabApproval       *self,
                                              ConfabApprovalAnswer  answer,
                                              const char           *reason);

/* ConfabAgent: runs turns of one conversation. */

#define CONFAB_TYPE_AGENT (confab_agent_get_type ())
G_DECLARE_FINAL_TYPE (ConfabAgent, confab_agent, CONFAB, AGENT, GObject)

/* @toolbox may be NULL: the model is offered no tools, and a reply that
 * asks for tools anyway ends the turn (its calls are not run). */
ConfabAgent        *confab_agent_new                (ConfabProvider       *provider,
                                                     ConfabToolbox        *toolbox);
ConfabProvider     *confab_agent_get_provider       (ConfabAgent          *self);
/* For the next turn (the user picked another model's server). */
void                confab_agent_set_provider       (ConfabAgent          *self,
                                                     ConfabProvider       *provider);
ConfabToolbox      *confab_agent_get_toolbox        (ConfabAgent          *self);
/* The folders the user granted this conversation (never NULL). */
ConfabToolContext  *confab_agent_get_context        (ConfabAgent          *self);
void                confab_agent_set_context        (ConfabAgent          *self,
                                                     ConfabToolContext    *context);
guint               confab_agent_get_max_steps      (ConfabAgent          *self);
void                confab_agent_set_max_steps      (ConfabAgent          *self,
                                                     guint                 max_steps);
/* Tools the user allowed for the whole conversation. */
void                confab_agent_allow_tool         (ConfabAgent          *self,
                                                     const char           *name);
gboolean            confab_agent_is_tool_allowed    (ConfabAgent          *self,
                                                     const char           *name);
/* Every tool asks again (Preferences › Tools still applies). */
void                confab_agent_forget_allowed_tools (ConfabAgent        *self);
/* With a store, every step is stored as it happens: replies as they
 * stream, tool calls when the reply ends, each tool's result when it
 * ends (its place, in the order the model asked, is stored before the
 * tools start). */
void                confab_agent_set_store          (ConfabAgent          *self,
                                                     ConfabStore          *store,
                                                     gint64                conversation_id);

/* Runs one turn. @request holds the model, the system prompt and the
 * history up to the user's new message (its stored id is @parent_id, or
 * 0 without a store); it is given the toolbox's tools, and the turn's new
 * messages are appended to it as they happen.
 *
 * Fails with the step's error when a reply fails (its partial text is
 * kept in the message); tools that fail or are denied don't end the
 * turn: the model reads why. */
void                confab_agent_run_async          (ConfabAgent          *self,
                                                     ConfabChatRequest    *request,
                                                     gint64                parent_id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean            confab_agent_run_finish         (ConfabAgent          *self,
                                                     GAsyncResult         *result,
                                                     ConfabAgentOutcome   *outcome,
                                                     GError              **error);
/* The messages the last (or current) turn added, in order: replies and
 * tool results. */
GPtrArray          *confab_agent_get_messages       (ConfabAgent          *self);
/* Time the last turn spent in its tool phases, in microseconds. */
gint64              confab_agent_get_tool_time      (ConfabAgent          *self);

G_END_DECLS
