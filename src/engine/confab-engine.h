/* confab-engine.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#define CONFAB_ENGINE_INSIDE

#include "confab-error.h"
#include "confab-json.h"
#include "agent/confab-agent.h"
#include "agent/confab-message.h"
#include "agent/confab-tool-call.h"
#include "tools/confab-tool.h"
#include "tools/confab-tool-spec.h"
#include "tools/confab-toolbox.h"
#include "tools/confab-builtin-tools.h"
#include "mcp/confab-mcp-config.h"
#include "mcp/confab-mcp-manager.h"
#include "mcp/confab-mcp-server.h"
#include "mcp/confab-mcp-tool.h"
#include "providers/confab-chat-request.h"
#include "providers/confab-discovery.h"
#include "providers/confab-event.h"
#include "providers/confab-provider.h"
#include "providers/confab-openai-provider.h"
#include "providers/confab-ollama-provider.h"
#include "providers/confab-anthropic-provider.h"
#include "providers/confab-reply.h"
#include "storage/confab-conversation.h"
#include "storage/confab-reply-recorder.h"
#include "storage/confab-store.h"
#include "storage/confab-provider-config.h"
#include "storage/confab-secrets.h"
#include "storage/confab-store-export.h"

#undef CONFAB_ENGINE_INSIDE
