/* confab-ollama-provider.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-cjson-private.h"
#include "confab-error.h"
#include "confab-ollama-provider.h"
#include "confab-provider-private.h"
#include "confab-stream-parser-private.h"

/* Ollama's native /api/chat: one JSON object per line, "done": true on
 * the last; tool calls arrive whole with their arguments as an object.
 */
struct _ConfabOllamaProvider
{
  ConfabProvider parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabOllamaProvider, confab_ollama_provider, CONFAB_TYPE_PROVIDER)

/* Decoder */

static gboolean
ollama_decode_tool_calls (ConfabStreamDecoder  *decoder,
                          const cJSON          *tool_calls,
                          GError              **error)
{
  const cJSON *item;

  cJSON_ArrayForEach (item, tool_calls)
    {
      const cJSON *function = confab_cjson_object (item, "function");
      const char *name = confab_cjson_string (function, "name");
      const cJSON *arguments = cJSON_GetObjectItemCaseSensitive (function, "arguments");
      g_autoptr(ConfabToolCall) call = NULL;
      g_autofree char *arguments_text = NULL;

      if (name == NULL || name[0] == '\0' || !g_utf8_validate (name, -1, NULL))
        {
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                       _("The server sent a tool call without a valid name"));
          return FALSE;
        }

      /* Arguments are an object; some models' templates produce a string
       * holding JSON instead. */
      if (cJSON_IsString (arguments))
        arguments_text = g_strdup (arguments->valuestring);
      else if (arguments != NULL && !cJSON_IsNull (arguments))
        arguments_text = cJSON_PrintUnformatted (arguments);

      call = confab_tool_call_new_from_json_text (confab_cjson_string (item, "id"), name, arguments_text);
      _confab_stream_decoder_emit_tool_call (decoder, call);
    }

  return TRUE;
}

static gboolean
ollama_decoder_message (ConfabStreamDecoder  *decoder,
                        const char           *event_type,
                        const char           *data,
                        gsize                 len,
                        GError              **error)
{
  g_autoptr(cJSON) root = NULL;
  const cJSON *error_item;
  const cJSON *message;

  if (!(root = _confab_cjson_parse_object (data, len, error)))
    return FALSE;

  error_item = cJSON_GetObjectItemCaseSensitive (root, "error");
  if (error_item != NULL && !cJSON_IsNull (error_item))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_SERVER,
                   _("The server reported an error during the reply: %s"),
                   _confab_cjson_error_message (error_item));
      return FALSE;
    }

  message = confab_cjson_object (root, "message");
  if (message != NULL)
    {
      const char *thinking = confab_cjson_string (message, "thinking");
      const char *content = confab_cjson_string (message, "content");
      const cJSON *tool_calls = confab_cjson_array (message, "tool_calls");

      if (thinking != NULL &&
          !_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_REASONING_DELTA,
                                             thinking, strlen (thinking), error))
        return FALSE;
      if (content != NULL &&
          !_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_TEXT_DELTA,
                                             content, strlen (content), error))
        return FALSE;
      if (tool_calls != NULL && !ollama_decode_tool_calls (decoder, tool_calls, error))
        return FALSE;
    }

  if (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (root, "done")))
    {
      ConfabUsage usage = CONFAB_USAGE_INIT;

      usage.prompt_tokens = confab_cjson_count (root, "prompt_eval_count");
      usage.completion_tokens = confab_cjson_count (root, "eval_count");
      if (usage.prompt_tokens >= 0 || usage.completion_tokens >= 0)
        _confab_stream_decoder_emit_usage (decoder, &usage);
      _confab_stream_decoder_emit_finished (decoder, confab_cjson_string (root, "done_reason"));
    }

  return TRUE;
}

static gboolean
ollama_decoder_end (ConfabStreamDecoder  *decoder,
                    GError              **error)
{
  return _confab_stream_decoder_ended_early (decoder, error);
}

static void
ollama_decoder_free (ConfabStreamDecoder *decoder)
{
  g_free (decoder);
}

static const ConfabStreamDecoderClass ollama_decoder_class = {
  ollama_decoder_message,
  ollama_decoder_end,
  ollama_decoder_free,
};

ConfabStreamDecoder *
_confab_ollama_decoder_new (ConfabEventFunc emit,
                            gpointer        emit_data,
                            gsize           max_bytes)
{
  ConfabStreamDecoder *self = g_new0 (ConfabStreamDecoder, 1);

  self->klass = &ollama_decoder_class;
  self->emit = emit;
  self->emit_data = emit_data;

  return self;
}

/* Requests */

static void
add_message (JsonBuilder   *builder,
             ConfabMessage *message)
{
  ConfabRole role = confab_message_get_role (message);
  GPtrArray *calls = confab_message_get_tool_calls (message);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, confab_role_to_string (role));
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, confab_message_get_content (message));

  if (role == CONFAB_ROLE_TOOL && confab_message_get_tool_name (message) != NULL)
    {
      json_builder_set_member_name (builder, "tool_name");
      json_builder_add_string_value (builder, confab_message_get_tool_name (message));
    }

  if (role == CONFAB_ROLE_ASSISTANT && calls->len > 0)
    {
      json_builder_set_member_name (builder, "tool_calls");
      json_builder_begin_array (builder);
      for (guint i = 0; i < calls->len; i++)
        {
          ConfabToolCall *call = g_ptr_array_index (calls, i);
          JsonNode *arguments = confab_tool_call_get_arguments (call);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "function");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, confab_tool_call_get_name (call));
          json_builder_set_member_name (builder, "arguments");
          if (arguments != NULL)
            json_builder_add_value (builder, json_node_copy (arguments));
          else
            {
              json_builder_begin_object (builder);
              json_builder_end_object (builder);
            }
          json_builder_end_object (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }

  json_builder_end_object (builder);
}

static SoupMessage *
confab_ollama_provider_build_chat_message (ConfabProvider     *provider,
                                           ConfabChatRequest  *request,
                                           GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  GPtrArray *messages = confab_chat_request_get_messages (request);
  GPtrArray *tools = confab_chat_request_get_tools (request);
  SoupMessage *message;
  double temperature;
  gboolean has_temperature;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, confab_chat_request_get_model (request));
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, confab_chat_request_get_stream (request));

  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < messages->len; i++)
    add_message (builder, g_ptr_array_index (messages, i));
  json_builder_end_array (builder);

  _confab_add_function_tools (builder, tools);

  has_temperature = confab_chat_request_get_temperature (request, &temperature);
  if (has_temperature || confab_chat_request_get_max_tokens (request) > 0)
    {
      json_builder_set_member_name (builder, "options");
      json_builder_begin_object (builder);
      if (has_temperature)
        {
          json_builder_set_member_name (builder, "temperature");
          json_builder_add_double_value (builder, temperature);
        }
      if (confab_chat_request_get_max_tokens (request) > 0)
        {
          json_builder_set_member_name (builder, "num_predict");
          json_builder_add_int_value (builder, confab_chat_request_get_max_tokens (request));
        }
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  message = confab_provider_new_json_message (provider, "POST", "/api/chat", body, error);
  if (message == NULL)
    return NULL;

  /* Ollama behind an authenticating proxy takes a bearer token. */
  _confab_provider_add_bearer (provider, message);

  return message;
}

static ConfabStreamParser *
confab_ollama_provider_create_stream_parser (ConfabProvider  *provider,
                                             ConfabEventFunc  emit,
                                             gpointer         emit_data)
{
  gsize max = _confab_provider_get_max_line_length (provider);

  return _confab_stream_parser_new (CONFAB_STREAM_FORMAT_NDJSON, max,
                                    _confab_ollama_decoder_new (emit, emit_data, max));
}

static SoupMessage *
confab_ollama_provider_build_models_message (ConfabProvider  *provider,
                                             GError         **error)
{
  return confab_provider_new_json_message (provider, "GET", "/api/tags", NULL, error);
}

static GStrv
confab_ollama_provider_parse_models (ConfabProvider  *provider,
                                     JsonNode        *root,
                                     GError         **error)
{
  return _confab_parse_model_list (root, "models", "name", error);
}

static void
confab_ollama_provider_class_init (ConfabOllamaProviderClass *klass)
{
  ConfabProviderClass *provider_class = CONFAB_PROVIDER_CLASS (klass);

  provider_class->api_name = "ollama";
  provider_class->default_base_url = "http://127.0.0.1:11434";
  provider_class->build_chat_message = confab_ollama_provider_build_chat_message;
  provider_class->create_stream_parser = confab_ollama_provider_create_stream_parser;
  provider_class->build_models_message = confab_ollama_provider_build_models_message;
  provider_class->parse_models = confab_ollama_provider_parse_models;
}

static void
confab_ollama_provider_init (ConfabOllamaProvider *self)
{
}
