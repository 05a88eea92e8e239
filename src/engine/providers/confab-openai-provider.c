/* confab-openai-provider.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "confab-cjson-private.h"
#include "confab-error.h"
#include "confab-openai-provider.h"
#include "confab-provider-private.h"
#include "confab-stream-parser-private.h"

/* OpenAI-compatible chat completions: the one API that OpenAI,
 * OpenRouter, Groq, vLLM, llama.cpp's server, LM Studio and Ollama's /v1
 * all serve. Replies stream as SSE "data:" chunks ending with [DONE].
 */
struct _ConfabOpenAIProvider
{
  ConfabProvider parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabOpenAIProvider, confab_openai_provider, CONFAB_TYPE_PROVIDER)

/* Decoder */

typedef struct
{
  ConfabStreamDecoder      parent;
  ConfabToolCallAssembler  calls;
  char                    *finish_reason;
} OpenAIDecoder;

static gboolean
openai_flush_tool_calls (OpenAIDecoder  *self,
                         GError        **error)
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

static gboolean
openai_decode_tool_calls (OpenAIDecoder  *self,
                          const cJSON    *tool_calls,
                          gboolean        whole,
                          GError        **error)
{
  const cJSON *item;
  gint64 position = 0;

  cJSON_ArrayForEach (item, tool_calls)
    {
      const cJSON *function = confab_cjson_object (item, "function");
      const cJSON *index = cJSON_GetObjectItemCaseSensitive (item, "index");
      const char *arguments = confab_cjson_string (function, "arguments");
      gint64 idx = -1;

      if (cJSON_IsNumber (index))
        {
          if (index->valuedouble < 0)
            {
              g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                           _("The server sent a tool call with a negative index"));
              return FALSE;
            }
          idx = index->valuedouble >= CONFAB_MAX_TOOL_CALLS ? CONFAB_MAX_TOOL_CALLS : (gint64)index->valuedouble;
        }
      else if (whole)
        idx = position;
      position++;

      if (!_confab_tool_call_assembler_add (&self->calls, idx,
                                            confab_cjson_string (item, "id"),
                                            confab_cjson_string (function, "name"),
                                            arguments,
                                            arguments != NULL ? strlen (arguments) : 0,
                                            error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
openai_decoder_message (ConfabStreamDecoder  *decoder,
                        const char           *event_type,
                        const char           *data,
                        gsize                 len,
                        GError              **error)
{
  OpenAIDecoder *self = (OpenAIDecoder *)decoder;
  g_autoptr(cJSON) root = NULL;
  const cJSON *error_item;
  const cJSON *choices;
  const cJSON *usage;

  if (len == 6 && memcmp (data, "[DONE]", 6) == 0)
    {
      if (!openai_flush_tool_calls (self, error))
        return FALSE;
      _confab_stream_decoder_emit_finished (decoder, self->finish_reason);
      return TRUE;
    }

  if (!(root = _confab_cjson_parse_object (data, len, error)))
    return FALSE;

  /* OpenRouter and others report failures mid-stream as a chunk. */
  error_item = cJSON_GetObjectItemCaseSensitive (root, "error");
  if (error_item != NULL && !cJSON_IsNull (error_item))
    {
      const cJSON *code = cJSON_GetObjectItemCaseSensitive (error_item, "code");
      int error_code = cJSON_IsNumber (code) ? _confab_error_code_for_status (code->valueint)
                                             : CONFAB_ERROR_SERVER;

      g_set_error (error, CONFAB_ERROR, error_code,
                   _("The server reported an error during the reply: %s"),
                   _confab_cjson_error_message (error_item));
      return FALSE;
    }

  choices = confab_cjson_array (root, "choices");
  if (choices != NULL && cJSON_GetArraySize (choices) > 0)
    {
      const cJSON *choice = cJSON_GetArrayItem (choices, 0);
      const cJSON *delta = confab_cjson_object (choice, "delta");
      const char *reason = confab_cjson_string (choice, "finish_reason");

      gboolean whole = FALSE;

      /* A server that ignored "stream" sends the whole message at once. */
      if (delta == NULL && (delta = confab_cjson_object (choice, "message")) != NULL)
        whole = TRUE;

      if (delta != NULL)
        {
          const char *reasoning = confab_cjson_string (delta, "reasoning_content");
          const char *content = confab_cjson_string (delta, "content");
          const cJSON *tool_calls = confab_cjson_array (delta, "tool_calls");

          if (reasoning == NULL)
            reasoning = confab_cjson_string (delta, "reasoning");
          if (reasoning != NULL &&
              !_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_REASONING_DELTA,
                                                 reasoning, strlen (reasoning), error))
            return FALSE;
          if (content != NULL &&
              !_confab_stream_decoder_emit_text (decoder, CONFAB_EVENT_TEXT_DELTA,
                                                 content, strlen (content), error))
            return FALSE;
          if (tool_calls != NULL && !openai_decode_tool_calls (self, tool_calls, whole, error))
            return FALSE;
        }

      if (reason != NULL)
        {
          g_free (self->finish_reason);
          self->finish_reason = g_strdup (reason);
          if (!openai_flush_tool_calls (self, error))
            return FALSE;
        }
    }

  usage = confab_cjson_object (root, "usage");
  if (usage != NULL)
    {
      ConfabUsage counts = CONFAB_USAGE_INIT;

      counts.prompt_tokens = confab_cjson_count (usage, "prompt_tokens");
      counts.completion_tokens = confab_cjson_count (usage, "completion_tokens");
      counts.reasoning_tokens = confab_cjson_count (confab_cjson_object (usage, "completion_tokens_details"),
                                                    "reasoning_tokens");
      _confab_stream_decoder_emit_usage (decoder, &counts);
    }

  return TRUE;
}

static gboolean
openai_decoder_end (ConfabStreamDecoder  *decoder,
                    GError              **error)
{
  OpenAIDecoder *self = (OpenAIDecoder *)decoder;

  /* A few servers end without [DONE]; once the model said why it
   * stopped, the reply is complete all the same. */
  if (self->finish_reason == NULL)
    return _confab_stream_decoder_ended_early (decoder, error);

  if (!openai_flush_tool_calls (self, error))
    return FALSE;
  _confab_stream_decoder_emit_finished (decoder, self->finish_reason);
  return TRUE;
}

static void
openai_decoder_free (ConfabStreamDecoder *decoder)
{
  OpenAIDecoder *self = (OpenAIDecoder *)decoder;

  _confab_tool_call_assembler_clear (&self->calls);
  g_free (self->finish_reason);
  g_free (self);
}

static const ConfabStreamDecoderClass openai_decoder_class = {
  openai_decoder_message,
  openai_decoder_end,
  openai_decoder_free,
};

ConfabStreamDecoder *
_confab_openai_decoder_new (ConfabEventFunc emit,
                            gpointer        emit_data,
                            gsize           max_bytes)
{
  OpenAIDecoder *self = g_new0 (OpenAIDecoder, 1);

  self->parent.klass = &openai_decoder_class;
  self->parent.emit = emit;
  self->parent.emit_data = emit_data;
  _confab_tool_call_assembler_init (&self->calls, max_bytes);

  return &self->parent;
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
  if (role == CONFAB_ROLE_ASSISTANT && calls->len > 0 && confab_message_get_content (message)[0] == '\0')
    json_builder_add_null_value (builder);
  else
    json_builder_add_string_value (builder, confab_message_get_content (message));

  if (role == CONFAB_ROLE_TOOL)
    {
      json_builder_set_member_name (builder, "tool_call_id");
      json_builder_add_string_value (builder, confab_message_get_tool_call_id (message));
    }

  if (role == CONFAB_ROLE_ASSISTANT && calls->len > 0)
    {
      json_builder_set_member_name (builder, "tool_calls");
      json_builder_begin_array (builder);
      for (guint i = 0; i < calls->len; i++)
        {
          ConfabToolCall *call = g_ptr_array_index (calls, i);
          g_autofree char *arguments = confab_tool_call_dup_arguments_json (call);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, confab_tool_call_get_id (call));
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "function");
          json_builder_set_member_name (builder, "function");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, confab_tool_call_get_name (call));
          json_builder_set_member_name (builder, "arguments");
          json_builder_add_string_value (builder, arguments);
          json_builder_end_object (builder);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }

  json_builder_end_object (builder);
}

static SoupMessage *
confab_openai_provider_build_chat_message (ConfabProvider     *provider,
                                           ConfabChatRequest  *request,
                                           GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  GPtrArray *messages = confab_chat_request_get_messages (request);
  GPtrArray *tools = confab_chat_request_get_tools (request);
  SoupMessage *message;
  double temperature;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, confab_chat_request_get_model (request));
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, confab_chat_request_get_stream (request));
  if (confab_chat_request_get_stream (request))
    {
      json_builder_set_member_name (builder, "stream_options");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "include_usage");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < messages->len; i++)
    add_message (builder, g_ptr_array_index (messages, i));
  json_builder_end_array (builder);

  _confab_add_function_tools (builder, tools);

  if (confab_chat_request_get_temperature (request, &temperature))
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, temperature);
    }

  if (confab_chat_request_get_max_tokens (request) > 0)
    {
      json_builder_set_member_name (builder, "max_tokens");
      json_builder_add_int_value (builder, confab_chat_request_get_max_tokens (request));
    }

  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  message = confab_provider_new_json_message (provider, "POST", "/chat/completions", body, error);
  if (message == NULL)
    return NULL;

  soup_message_headers_replace (soup_message_get_request_headers (message), "Accept",
                                confab_chat_request_get_stream (request) ? "text/event-stream" : "application/json");
  _confab_provider_add_bearer (provider, message);

  return message;
}

static ConfabStreamParser *
confab_openai_provider_create_stream_parser (ConfabProvider  *provider,
                                             ConfabEventFunc  emit,
                                             gpointer         emit_data)
{
  gsize max = _confab_provider_get_max_line_length (provider);

  return _confab_stream_parser_new (CONFAB_STREAM_FORMAT_SSE, max,
                                    _confab_openai_decoder_new (emit, emit_data, max));
}

static SoupMessage *
confab_openai_provider_build_models_message (ConfabProvider  *provider,
                                             GError         **error)
{
  SoupMessage *message = confab_provider_new_json_message (provider, "GET", "/models", NULL, error);

  if (message != NULL)
    _confab_provider_add_bearer (provider, message);

  return message;
}

/* Shared by the APIs whose lists are {"data":[{"id":...}]}. */
GStrv
_confab_parse_model_list (JsonNode    *root,
                          const char  *array_member,
                          const char  *id_member,
                          GError     **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array = NULL;

  if (JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *node = json_object_get_member (json_node_get_object (root), array_member);
      if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
        array = json_node_get_array (node);
    }

  if (array == NULL)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                   /* Translators: %s is the name of a JSON member, such as “data”. */
                   _("The server's model list has no “%s” array"), array_member);
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *id = NULL;

      if (JSON_NODE_HOLDS_OBJECT (element))
        id = json_object_get_string_member_with_default (json_node_get_object (element), id_member, NULL);
      if (id != NULL && id[0] != '\0')
        g_strv_builder_add (builder, id);
    }

  return g_strv_builder_end (builder);
}

static GStrv
confab_openai_provider_parse_models (ConfabProvider  *provider,
                                     JsonNode        *root,
                                     GError         **error)
{
  return _confab_parse_model_list (root, "data", "id", error);
}

static void
confab_openai_provider_class_init (ConfabOpenAIProviderClass *klass)
{
  ConfabProviderClass *provider_class = CONFAB_PROVIDER_CLASS (klass);

  provider_class->api_name = "openai";
  provider_class->default_base_url = "http://127.0.0.1:8080/v1";
  provider_class->build_chat_message = confab_openai_provider_build_chat_message;
  provider_class->create_stream_parser = confab_openai_provider_create_stream_parser;
  provider_class->build_models_message = confab_openai_provider_build_models_message;
  provider_class->parse_models = confab_openai_provider_parse_models;
}

static void
confab_openai_provider_init (ConfabOpenAIProvider *self)
{
}
