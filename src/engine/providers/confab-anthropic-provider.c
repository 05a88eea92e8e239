/* confab-anthropic-provider.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-anthropic-provider.h"
#include "confab-cjson-private.h"
#include "confab-error.h"
#include "confab-provider-private.h"
#include "confab-stream-parser-private.h"

#define ANTHROPIC_VERSION "2023-06-01"
/* The Messages API requires max_tokens; this is used when none is set. */
#define DEFAULT_MAX_TOKENS 8192

/* Anthropic's Messages API: named SSE events over content blocks (text,
 * thinking, tool_use with its input streamed as JSON fragments).
 */
struct _ConfabAnthropicProvider
{
  ConfabProvider parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabAnthropicProvider, confab_anthropic_provider, CONFAB_TYPE_PROVIDER)

/* Decoder */

typedef struct
{
  ConfabStreamDecoder      parent;
  ConfabToolCallAssembler  calls;
  ConfabUsage              usage;
  char                    *stop_reason;
} AnthropicDecoder;

static const char *
map_stop_reason (const char *reason)
{
  if (reason == NULL || g_str_equal (reason, "end_turn") || g_str_equal (reason, "stop_sequence"))
    return "stop";
  if (g_str_equal (reason, "max_tokens"))
    return "length";
  if (g_str_equal (reason, "tool_use"))
    return "tool_calls";
  if (g_str_equal (reason, "refusal"))
    return "content_filter";
  return reason;
}

static int
map_error_type (const char *type)
{
  if (type == NULL)
    return CONFAB_ERROR_SERVER;
  if (g_str_equal (type, "authentication_error") || g_str_equal (type, "permission_error"))
    return CONFAB_ERROR_AUTH;
  if (g_str_equal (type, "not_found_error"))
    return CONFAB_ERROR_NOT_FOUND;
  if (g_str_equal (type, "rate_limit_error"))
    return CONFAB_ERROR_RATE_LIMITED;
  if (g_str_equal (type, "invalid_request_error") || g_str_equal (type, "request_too_large"))
    return CONFAB_ERROR_BAD_REQUEST;
  return CONFAB_ERROR_SERVER;
}

static gint64
block_index (const cJSON *root)
{
  gint64 index = confab_cjson_count (root, "index");

  return MIN (index, CONFAB_MAX_TOOL_CALLS);
}

static gboolean
anthropic_flush_tool_calls (AnthropicDecoder  *self,
                            GError           **error)
{
  g_autoptr(GPtrArray) calls = NULL;

  if (_confab_tool_call_assembler_is_empty (&self->calls))
    return TRUE;

  calls = _confab_tool_call_assembler_finish (&self->calls, error);
  if (calls == NULL)
    return FALSE;
  for (guint i = 0; i < calls->len; i++)
    _confab_stream_decoder_emit_tool_call (&self->parent, g_ptr_array_index (calls, i));
  return TRUE;
}

/* A server that ignored "stream" sends the whole message at once. */
static gboolean
anthropic_decode_whole_message (AnthropicDecoder  *self,
                                const cJSON       *root,
                                GError           **error)
{
  ConfabStreamDecoder *decoder = &self->parent;
  const cJSON *usage = confab_cjson_object (root, "usage");
  const cJSON *block;
  gint64 index = 0;

  cJSON_ArrayForEach (block, confab_cjson_array (root, "content"))
    {
      const char *block_type = confab_cjson_string (block, "type");
      const char *text;

      if (block_type == NULL)
        continue;

      if (g_str_equal (block_type, "text") && (text = confab_cjson_string (block, "text")))
        {
          if (!_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_TEXT_DELTA, text, strlen (text), error))
            return FALSE;
        }
      else if (g_str_equal (block_type, "thinking") && (text = confab_cjson_string (block, "thinking")))
        {
          if (!_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_REASONING_DELTA, text, strlen (text), error))
            return FALSE;
        }
      else if (g_str_equal (block_type, "tool_use"))
        {
          const cJSON *input = cJSON_GetObjectItemCaseSensitive (block, "input");
          g_autofree char *arguments = input != NULL ? cJSON_PrintUnformatted (input) : NULL;

          if (!_confab_tool_call_assembler_add (&self->calls, index++,
                                                confab_cjson_string (block, "id"),
                                                confab_cjson_string (block, "name"),
                                                arguments, arguments != NULL ? strlen (arguments) : 0,
                                                error))
            return FALSE;
        }
    }

  if (!anthropic_flush_tool_calls (self, error))
    return FALSE;

  if (usage != NULL)
    {
      self->usage.prompt_tokens = confab_cjson_count (usage, "input_tokens");
      self->usage.completion_tokens = confab_cjson_count (usage, "output_tokens");
      _confab_stream_decoder_emit_usage (decoder, &self->usage);
    }

  _confab_stream_decoder_emit_finished (decoder, map_stop_reason (confab_cjson_string (root, "stop_reason")));
  return TRUE;
}

static gboolean
anthropic_decoder_message (ConfabStreamDecoder  *decoder,
                           const char           *event_type,
                           const char           *data,
                           gsize                 len,
                           GError              **error)
{
  AnthropicDecoder *self = (AnthropicDecoder *)decoder;
  g_autoptr(cJSON) root = NULL;
  const char *type;

  if (!(root = _confab_cjson_parse_object (data, len, error)))
    return FALSE;

  type = confab_cjson_string (root, "type");
  if (type == NULL)
    type = event_type;

  if (g_str_equal (type, "content_block_delta"))
    {
      const cJSON *delta = confab_cjson_object (root, "delta");
      const char *delta_type = confab_cjson_string (delta, "type");
      const char *text;

      if (delta_type == NULL)
        return TRUE;

      if (g_str_equal (delta_type, "text_delta") && (text = confab_cjson_string (delta, "text")))
        return _confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_TEXT_DELTA, text, strlen (text), error);

      if (g_str_equal (delta_type, "thinking_delta") && (text = confab_cjson_string (delta, "thinking")))
        return _confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_REASONING_DELTA, text, strlen (text), error);

      if (g_str_equal (delta_type, "input_json_delta") && (text = confab_cjson_string (delta, "partial_json")))
        return _confab_tool_call_assembler_add (&self->calls, block_index (root), NULL, NULL,
                                                text, strlen (text), error);

      /* signature_delta and future kinds carry nothing to show. */
      return TRUE;
    }

  if (g_str_equal (type, "content_block_start"))
    {
      const cJSON *block = confab_cjson_object (root, "content_block");
      const char *block_type = confab_cjson_string (block, "type");
      const char *text;

      if (block_type == NULL)
        return TRUE;

      if (g_str_equal (block_type, "text") && (text = confab_cjson_string (block, "text")))
        return _confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_TEXT_DELTA, text, strlen (text), error);

      if (g_str_equal (block_type, "thinking") && (text = confab_cjson_string (block, "thinking")))
        return _confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_REASONING_DELTA, text, strlen (text), error);

      if (g_str_equal (block_type, "tool_use"))
        {
          const cJSON *input = confab_cjson_object (block, "input");
          g_autofree char *initial = NULL;

          if (!_confab_tool_call_assembler_add (&self->calls, block_index (root),
                                                confab_cjson_string (block, "id"),
                                                confab_cjson_string (block, "name"),
                                                NULL, 0, error))
            return FALSE;

          /* The input usually streams as fragments after an empty {}; a
           * block that arrives with its input filled in (and no
           * fragments) keeps it. */
          if (input == NULL || input->child == NULL)
            return TRUE;
          initial = cJSON_PrintUnformatted (input);
          return _confab_tool_call_assembler_set_default (&self->calls, block_index (root), initial, error);
        }

      return TRUE;
    }

  if (g_str_equal (type, "content_block_stop"))
    return anthropic_flush_tool_calls (self, error);

  if (g_str_equal (type, "message_start"))
    {
      const cJSON *usage = confab_cjson_object (confab_cjson_object (root, "message"), "usage");

      self->usage.prompt_tokens = confab_cjson_count (usage, "input_tokens");
      self->usage.completion_tokens = confab_cjson_count (usage, "output_tokens");
      return TRUE;
    }

  if (g_str_equal (type, "message_delta"))
    {
      const cJSON *delta = confab_cjson_object (root, "delta");
      const cJSON *usage = confab_cjson_object (root, "usage");
      const char *reason = confab_cjson_string (delta, "stop_reason");

      if (reason != NULL)
        {
          g_free (self->stop_reason);
          self->stop_reason = g_strdup (reason);
        }
      if (usage != NULL)
        {
          gint64 input = confab_cjson_count (usage, "input_tokens");
          gint64 output = confab_cjson_count (usage, "output_tokens");

          if (input >= 0)
            self->usage.prompt_tokens = input;
          if (output >= 0)
            self->usage.completion_tokens = output;
          _confab_stream_decoder_emit_usage (decoder, &self->usage);
        }
      return TRUE;
    }

  if (g_str_equal (type, "message_stop"))
    {
      if (!anthropic_flush_tool_calls (self, error))
        return FALSE;
      _confab_stream_decoder_emit_finished (decoder, map_stop_reason (self->stop_reason));
      return TRUE;
    }

  if (g_str_equal (type, "message"))
    return anthropic_decode_whole_message (self, root, error);

  if (g_str_equal (type, "error"))
    {
      const cJSON *error_item = confab_cjson_object (root, "error");
      const char *error_type = confab_cjson_string (error_item, "type");

      if (error_type != NULL)
        {
          g_set_error (error, CONFAB_ERROR, map_error_type (error_type),
                       /* Translators: the first %s is the server's own message, the
                        * second its error type, such as “overloaded_error”. */
                       _("The server reported an error during the reply: %s (%s)"),
                       _confab_cjson_error_message (error_item), error_type);
        }
      else
        {
          g_set_error (error, CONFAB_ERROR, map_error_type (error_type),
                       /* Translators: %s is the server's own message, often in English. */
                       _("The server reported an error during the reply: %s"),
                       _confab_cjson_error_message (error_item));
        }
      return FALSE;
    }

  /* ping, and event types added after this was written. */
  return TRUE;
}

static gboolean
anthropic_decoder_end (ConfabStreamDecoder  *decoder,
                       GError              **error)
{
  return _confab_stream_decoder_ended_early (decoder, error);
}

static void
anthropic_decoder_free (ConfabStreamDecoder *decoder)
{
  AnthropicDecoder *self = (AnthropicDecoder *)decoder;

  _confab_tool_call_assembler_clear (&self->calls);
  g_free (self->stop_reason);
  g_free (self);
}

static const ConfabStreamDecoderClass anthropic_decoder_class = {
  anthropic_decoder_message,
  anthropic_decoder_end,
  anthropic_decoder_free,
};

ConfabStreamDecoder *
_confab_anthropic_decoder_new (ConfabEventFunc emit,
                               gpointer        emit_data,
                               gsize           max_bytes)
{
  AnthropicDecoder *self = g_new0 (AnthropicDecoder, 1);
  ConfabUsage usage = CONFAB_USAGE_INIT;

  self->parent.klass = &anthropic_decoder_class;
  self->parent.emit = emit;
  self->parent.emit_data = emit_data;
  self->usage = usage;
  _confab_tool_call_assembler_init (&self->calls, max_bytes);

  return &self->parent;
}

/* Requests */

static void
add_text_block (JsonBuilder *builder,
                const char  *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "text");
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

/* Anthropic has no tool role: results are tool_result blocks of a user
 * message, and consecutive results (and the user's next words) share
 * one message, since roles must alternate. */
static void
add_messages (JsonBuilder *builder,
              GPtrArray   *messages)
{
  const char *open_role = NULL;

  json_builder_begin_array (builder);

  for (guint i = 0; i < messages->len; i++)
    {
      ConfabMessage *message = g_ptr_array_index (messages, i);
      ConfabRole role = confab_message_get_role (message);
      const char *content = confab_message_get_content (message);
      const char *wire_role;

      if (role == CONFAB_ROLE_SYSTEM)
        continue;

      wire_role = role == CONFAB_ROLE_ASSISTANT ? "assistant" : "user";
      if (g_strcmp0 (open_role, wire_role) != 0)
        {
          if (open_role != NULL)
            {
              json_builder_end_array (builder);
              json_builder_end_object (builder);
            }
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "role");
          json_builder_add_string_value (builder, wire_role);
          json_builder_set_member_name (builder, "content");
          json_builder_begin_array (builder);
          open_role = wire_role;
        }

      if (role == CONFAB_ROLE_TOOL)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "tool_result");
          json_builder_set_member_name (builder, "tool_use_id");
          json_builder_add_string_value (builder, confab_message_get_tool_call_id (message));
          json_builder_set_member_name (builder, "content");
          json_builder_add_string_value (builder, content);
          if (confab_message_get_is_error (message))
            {
              json_builder_set_member_name (builder, "is_error");
              json_builder_add_boolean_value (builder, TRUE);
            }
          json_builder_end_object (builder);
          continue;
        }

      if (content[0] != '\0')
        add_text_block (builder, content);

      if (role == CONFAB_ROLE_ASSISTANT)
        {
          GPtrArray *calls = confab_message_get_tool_calls (message);

          for (guint j = 0; j < calls->len; j++)
            {
              ConfabToolCall *call = g_ptr_array_index (calls, j);
              JsonNode *arguments = confab_tool_call_get_arguments (call);

              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "type");
              json_builder_add_string_value (builder, "tool_use");
              json_builder_set_member_name (builder, "id");
              json_builder_add_string_value (builder, confab_tool_call_get_id (call));
              json_builder_set_member_name (builder, "name");
              json_builder_add_string_value (builder, confab_tool_call_get_name (call));
              json_builder_set_member_name (builder, "input");
              if (arguments != NULL)
                json_builder_add_value (builder, json_node_copy (arguments));
              else
                {
                  json_builder_begin_object (builder);
                  json_builder_end_object (builder);
                }
              json_builder_end_object (builder);
            }
        }
    }

  if (open_role != NULL)
    {
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
}

static void
add_headers (ConfabProvider *provider,
             SoupMessage    *message)
{
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);
  const char *api_key = confab_provider_get_api_key (provider);

  if (soup_message_headers_get_one (headers, "anthropic-version") == NULL)
    soup_message_headers_replace (headers, "anthropic-version", ANTHROPIC_VERSION);
  if (api_key != NULL)
    soup_message_headers_replace (headers, "x-api-key", api_key);
}

static SoupMessage *
confab_anthropic_provider_build_chat_message (ConfabProvider     *provider,
                                              ConfabChatRequest  *request,
                                              GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GString) system = g_string_new (NULL);
  GPtrArray *messages = confab_chat_request_get_messages (request);
  GPtrArray *tools = confab_chat_request_get_tools (request);
  guint max_tokens = confab_chat_request_get_max_tokens (request);
  SoupMessage *message;
  double temperature;

  for (guint i = 0; i < messages->len; i++)
    {
      ConfabMessage *m = g_ptr_array_index (messages, i);

      if (confab_message_get_role (m) != CONFAB_ROLE_SYSTEM)
        continue;
      if (system->len > 0)
        g_string_append (system, "\n\n");
      g_string_append (system, confab_message_get_content (m));
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, confab_chat_request_get_model (request));
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, max_tokens > 0 ? max_tokens : DEFAULT_MAX_TOKENS);
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, confab_chat_request_get_stream (request));

  if (system->len > 0)
    {
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, system->str);
    }

  json_builder_set_member_name (builder, "messages");
  add_messages (builder, messages);

  if (tools->len > 0)
    {
      json_builder_set_member_name (builder, "tools");
      json_builder_begin_array (builder);
      for (guint i = 0; i < tools->len; i++)
        {
          ConfabToolSpec *tool = g_ptr_array_index (tools, i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, confab_tool_spec_get_name (tool));
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, confab_tool_spec_get_description (tool));
          json_builder_set_member_name (builder, "input_schema");
          json_builder_add_value (builder, json_node_copy (confab_tool_spec_get_parameters (tool)));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }

  if (confab_chat_request_get_temperature (request, &temperature))
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, temperature);
    }

  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  message = confab_provider_new_json_message (provider, "POST", "/v1/messages", body, error);
  if (message == NULL)
    return NULL;

  soup_message_headers_replace (soup_message_get_request_headers (message),
                                "Accept", "text/event-stream");
  add_headers (provider, message);

  return message;
}

static ConfabStreamParser *
confab_anthropic_provider_create_stream_parser (ConfabProvider  *provider,
                                                ConfabEventFunc  emit,
                                                gpointer         emit_data)
{
  gsize max = _confab_provider_get_max_line_length (provider);

  return _confab_stream_parser_new (CONFAB_STREAM_FORMAT_SSE, max,
                                    _confab_anthropic_decoder_new (emit, emit_data, max));
}

static SoupMessage *
confab_anthropic_provider_build_models_message (ConfabProvider  *provider,
                                                GError         **error)
{
  SoupMessage *message = confab_provider_new_json_message (provider, "GET", "/v1/models?limit=1000", NULL, error);

  if (message != NULL)
    add_headers (provider, message);
  return message;
}

static GStrv
confab_anthropic_provider_parse_models (ConfabProvider  *provider,
                                        JsonNode        *root,
                                        GError         **error)
{
  return _confab_parse_model_list (root, "data", "id", error);
}

static void
confab_anthropic_provider_class_init (ConfabAnthropicProviderClass *klass)
{
  ConfabProviderClass *provider_class = CONFAB_PROVIDER_CLASS (klass);

  provider_class->api_name = "anthropic";
  provider_class->default_base_url = "https://api.anthropic.com";
  provider_class->build_chat_message = confab_anthropic_provider_build_chat_message;
  provider_class->create_stream_parser = confab_anthropic_provider_create_stream_parser;
  provider_class->build_models_message = confab_anthropic_provider_build_models_message;
  provider_class->parse_models = confab_anthropic_provider_parse_models;
}

static void
confab_anthropic_provider_init (ConfabAnthropicProvider *self)
{
}
