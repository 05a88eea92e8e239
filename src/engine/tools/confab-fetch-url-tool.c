/* confab-fetch-url-tool.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "confab-builtin-tools-private.h"
#include "confab-error.h"
#include "confab-fetch-url-tool-private.h"

/* A GET on the main loop with the tool's own SoupSession. Unless the
 * context allows the private network, every hop is checked three times
 * against _confab_inet_address_is_private(): the host's addresses are
 * looked up first (a page cannot send the model to 192.168.1.1 or to
 * localhost), the address actually connected to is checked from the
 * message's "network-event" (a DNS answer that changed in between, "DNS
 * rebinding", is caught there), and redirects are followed by hand so
 * each new host goes through the same checks. Behind a proxy the
 * connection goes to the proxy, which the user chose; only the lookup
 * check applies then.
 */

#define DEFAULT_TIMEOUT  30
#define DEFAULT_MAX_SIZE (2 * 1024 * 1024)
#define READ_SIZE        (64 * 1024)
#define MAX_REDIRECTS    10
/* Bytes of an error page's text given with a non-2xx status. */
#define MAX_ERROR_TEXT   4096

struct _ConfabFetchUrlTool
{
  ConfabTool           parent_instance;

  SoupSession         *session;
  guint64              max_size;
  ConfabAddressFilter  is_private;
  gboolean             skip_lookup_check;
};

G_DEFINE_FINAL_TYPE (ConfabFetchUrlTool, confab_fetch_url_tool, CONFAB_TYPE_TOOL)

enum {
  PROP_0,
  PROP_MAX_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Addresses */

static gboolean
ipv4_is_private (const guint8 *b)
{
  return b[0] == 0 ||                             /* "this network" */
         b[0] == 10 ||
         b[0] == 127 ||                           /* loopback */
         (b[0] == 100 && (b[1] & 0xC0) == 64) ||  /* shared, carrier-grade NAT */
         (b[0] == 169 && b[1] == 254) ||          /* link-local */
         (b[0] == 172 && (b[1] & 0xF0) == 16) ||
         (b[0] == 192 && b[1] == 168) ||
         b[0] >= 224;                             /* multicast, reserved, broadcast */
}

gboolean
_confab_inet_address_is_private (GInetAddress *address)
{
  static const guint8 zeros[12] = { 0, };
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
  static const guint8 nat64[12] = { 0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0 };
  const guint8 *b;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), TRUE);

  b = g_inet_address_to_bytes (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return ipv4_is_private (b);

  /* ::, ::1 and IPv4-compatible ::a.b.c.d */
  if (memcmp (b, zeros, 12) == 0)
    return b[12] == 0 || ipv4_is_private (b + 12);
  if (memcmp (b, mapped, 12) == 0 || memcmp (b, nat64, 12) == 0)
    return ipv4_is_private (b + 12);
  if (b[0] == 0x20 && b[1] == 0x02)               /* 6to4 */
    return ipv4_is_private (b + 2);
  return (b[0] & 0xFE) == 0xFC ||                 /* unique local fc00::/7 */
         (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||  /* link-local fe80::/10 */
         (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) ||  /* site-local fec0::/10 */
         b[0] == 0xFF;                            /* multicast */
}

/* HTML to text */

typedef struct
{
  GString  *out;
  guint     breaks;  /* line breaks owed before the next text, at most 2 */
  gboolean  space;   /* a space owed before the next text */
  guint     pre;     /* inside <pre>: whitespace is kept */
} TextSink;

static void
sink_break (TextSink *sink,
            guint     breaks)
{
  sink->breaks = MAX (sink->breaks, breaks);
}

static void
sink_append (TextSink   *sink,
             const char *text,
             gsize       len)
{
  if (sink->out->len > 0)
    {
      if (sink->breaks > 0)
        {
          /* No trailing spaces before a line break. */
          while (sink->out->len > 0 && sink->out->str[sink->out->len - 1] == ' ')
            g_string_truncate (sink->out, sink->out->len - 1);
          for (guint i = 0; i < sink->breaks; i++)
            g_string_append_c (sink->out, '\n');
        }
      else if (sink->space && sink->out->str[sink->out->len - 1] != '\n')
        g_string_append_c (sink->out, ' ');
    }
  sink->breaks = 0;
  sink->space = FALSE;
  g_string_append_len (sink->out, text, len);
}

static gboolean
is_html_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Where the ASCII @needle starts in [@p, @end), ignoring case; NULL if
 * nowhere. */
static const char *
find_ascii_nocase (const char *p,
                   const char *end,
                   const char *needle)
{
  gsize len = strlen (needle);

  for (; p + len <= end; p++)
    if (g_ascii_strncasecmp (p, needle, len) == 0)
      return p;
  return NULL;
}

static const struct
{
  const char *name;
  const char *text;
} named_entities[] = {
  { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
  { "nbsp", " " }, { "mdash", "—" }, { "ndash", "–" }, { "hellip", "…" },
  { "lsquo", "‘" }, { "rsquo", "’" }, { "ldquo", "“" }, { "rdquo", "”" },
  { "laquo", "«" }, { "raquo", "»" }, { "copy", "©" }, { "reg", "®" },
  { "trade", "™" }, { "middot", "·" }, { "bull", "•" }, { "euro", "€" },
};

/* Decodes the entity at @p ('&'); the bytes used, or 0 when it is not a
 * known entity (the '&' is then text). */
static gsize
decode_entity (const char *p,
               const char *end,
               char        out[8])
{
  const char *semicolon = memchr (p, ';', MIN (end - p, 32));
  gsize name_len;

  if (semicolon == NULL || semicolon == p + 1)
    return 0;
  name_len = semicolon - (p + 1);

  if (p[1] == '#')
    {
      gboolean hex = name_len > 1 && (p[2] == 'x' || p[2] == 'X');
      const char *digits = p + (hex ? 3 : 2);
      guint64 value = 0;
      gunichar c;

      if (digits == semicolon)
        return 0;
      for (const char *d = digits; d < semicolon; d++)
        {
          int digit = hex ? g_ascii_xdigit_value (*d) : g_ascii_digit_value (*d);

          if (digit < 0)
            return 0;
          value = MIN (value * (hex ? 16 : 10) + digit, (guint64) G_MAXUINT32);
        }
      c = (gunichar) value;
      if (c == 0 || !g_unichar_validate (c))
        c = 0xFFFD;
      out[g_unichar_to_utf8 (c, out)] = '\0';
      return semicolon + 1 - p;
    }

  for (guint i = 0; i < G_N_ELEMENTS (named_entities); i++)
    if (strlen (named_entities[i].name) == name_len &&
        memcmp (named_entities[i].name, p + 1, name_len) == 0)
      {
        g_strlcpy (out, named_entities[i].text, 8);
        return semicolon + 1 - p;
      }
  return 0;
}

/* Elements whose content is not text for a reader. */
static gboolean
is_dropped_element (const char *name)
{
  static const char * const dropped[] = {
    "script", "style", "title", "noscript", "template", "svg", "iframe", "object", "canvas",
  };

  for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
    if (g_str_equal (name, dropped[i]))
      return TRUE;
  return FALSE;
}

/* Line breaks around an element: 2 for paragraphs, 1 for lines. */
static guint
element_breaks (const char *name)
{
  static const char * const paragraphs[] = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre",
    "section", "article", "header", "footer", "nav", "aside", "main", "figure", "form", "hr",
    "address", "details", "fieldset",
  };
  static const char * const lines[] = {
    "br", "div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary", "option", "legend",
    "body",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paragraphs); i++)
    if (g_str_equal (name, paragraphs[i]))
      return 2;
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    if (g_str_equal (name, lines[i]))
      return 1;
  return 0;
}

/* The '>' that ends the tag whose name ends at @p, skipping quoted
 * attribute values; @end if there is none. */
static const char *
find_tag_end (const char *p,
              const char *end)
{
  char quote = '\0';

  for (; p < end; p++)
    {
      if (quote != '\0')
        {
          if (*p == quote)
            quote = '\0';
        }
      else if (*p == '"' || *p == '\'')
        quote = *p;
      else if (*p == '>')
        return p;
    }
  return end;
}

char *
_confab_html_to_text (const char  *html,
                      gsize        len,
                      char       **title)
{
  TextSink sink = { g_string_sized_new (len / 2), 0, FALSE, 0 };
  const char *p = html;
  const char *end = html + len;

  if (title != NULL)
    *title = NULL;

  while (p < end)
    {
      if (*p == '<')
        {
          const char *name_start = p + 1;
          const char *name_end;
          const char *tag_end;
          char name[16];
          gboolean closing = FALSE;
          guint breaks;

          if (end - p >= 4 && memcmp (p, "<!--", 4) == 0)
            {
              const char *comment_end = find_ascii_nocase (p + 4, end, "-->");

              p = comment_end != NULL ? comment_end + 3 : end;
              continue;
            }
          if (p + 1 < end && (p[1] == '!' || p[1] == '?'))
            {
              tag_end = memchr (p, '>', end - p);
              p = tag_end != NULL ? tag_end + 1 : end;
              continue;
            }
          if (name_start < end && *name_start == '/')
            {
              closing = TRUE;
              name_start++;
            }
          for (name_end = name_start; name_end < end && g_ascii_isalnum (*name_end); name_end++)
            ;
          if (name_end == name_start || !g_ascii_isalpha (*name_start))
            {
              /* A lone '<' ("a < b") is text. */
              sink_append (&sink, "<", 1);
              p++;
              continue;
            }

          tag_end = find_tag_end (name_end, end);
          g_strlcpy (name, name_start, MIN ((gsize) (name_end - name_start) + 1, sizeof name));
          for (char *c = name; *c != '\0'; c++)
            *c = g_ascii_tolower (*c);
          p = tag_end < end ? tag_end + 1 : end;

          if (!closing && is_dropped_element (name) && !(tag_end > name_end && tag_end[-1] == '/'))
            {
              g_autofree char *close_tag = g_strconcat ("</", name, NULL);
              const char *content_end = find_ascii_nocase (p, end, close_tag);

              if (g_str_equal (name, "title") && title != NULL && *title == NULL)
                *title = _confab_html_to_text (p, (content_end != NULL ? content_end : end) - p, NULL);
              p = content_end != NULL ? find_tag_end (content_end, end) : end;
              p = p < end ? p + 1 : end;
              continue;
            }

          /* <head> holds no text but the title, dropped above with the
           * scripts and styles; its end may well be missing. */
          if (g_str_equal (name, "pre"))
            {
              sink.pre = closing ? (sink.pre > 0 ? sink.pre - 1 : 0) : sink.pre + 1;
              /* As in browsers, a line break right after <pre> is not shown. */
              if (!closing && p < end && *p == '\n')
                p++;
            }
          if (g_str_equal (name, "td") || g_str_equal (name, "th"))
            sink.space = TRUE;
          breaks = element_breaks (name);
          if (breaks > 0)
            sink_break (&sink, breaks);
          if (!closing && g_str_equal (name, "li"))
            sink_append (&sink, "- ", 2);
          continue;
        }

      if (*p == '&')
        {
          char decoded[8];
          gsize used = decode_entity (p, end, decoded);

          if (used == 0)
            {
              sink_append (&sink, "&", 1);
              p++;
            }
          else
            {
              if (decoded[0] == ' ' && sink.pre == 0)
                sink.space = TRUE;
              else
                sink_append (&sink, decoded, strlen (decoded));
              p += used;
            }
          continue;
        }

      if (is_html_space (*p))
        {
          if (sink.pre > 0)
            {
              if (*p == '\n')
                {
                  sink_append (&sink, "", 0);
                  g_string_append_c (sink.out, '\n');
                }
              else if (*p != '\r')
                sink_append (&sink, p, 1);
            }
          else
            sink.space = TRUE;
          p++;
          continue;
        }

      {
        const char *run_end = p;

        while (run_end < end && *run_end != '<' && *run_end != '&' && !is_html_space (*run_end))
          run_end++;
        sink_append (&sink, p, run_end - p);
        p = run_end;
      }
    }

  while (sink.out->len > 0 && g_ascii_isspace (sink.out->str[sink.out->len - 1]))
    g_string_truncate (sink.out, sink.out->len - 1);
  return g_string_free (sink.out, FALSE);
}

/* Fetching */

typedef struct
{
  GCancellable *cancellable;
  GUri         *uri;
  SoupMessage  *message;
  gulong        network_event_id;
  GInputStream *stream;
  GByteArray   *body;
  char         *refusal;        /* why a connection was refused */
  guint         redirects;
  gboolean      allow_private;
  gboolean      check_peer;     /* connected to the server itself, no proxy */
  gboolean      truncated;
} Fetch;

static void
fetch_drop_message (Fetch *fetch)
{
  if (fetch->message != NULL && fetch->network_event_id != 0)
    g_signal_handler_disconnect (fetch->message, fetch->network_event_id);
  fetch->network_event_id = 0;
  g_clear_object (&fetch->message);
  g_clear_object (&fetch->stream);
}

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  fetch_drop_message (fetch);
  g_clear_object (&fetch->cancellable);
  g_clear_pointer (&fetch->uri, g_uri_unref);
  g_clear_pointer (&fetch->body, g_byte_array_unref);
  g_free (fetch->refusal);
  g_free (fetch);
}

static char *
uri_to_display (GUri *uri)
{
  return g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD);
}

static gboolean
address_is_private (ConfabFetchUrlTool *self,
                    GInetAddress       *address)
{
  return self->is_private != NULL ? self->is_private (address) : _confab_inet_address_is_private (address);
}

static char *
refusal_message (const char   *host,
                 GInetAddress *address)
{
  g_autofree char *address_text = g_inet_address_to_string (address);

  return g_strdup_printf (_("“%s” is at %s, a private, loopback or link-local address: fetch_url only "
                            "reaches public addresses unless the user allows the private network for "
                            "this conversation"),
                          host, address_text);
}

static void
network_event_cb (SoupMessage        *message,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  GTask *task = user_data;
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GSocketAddress) remote = NULL;
  GInetAddress *address = NULL;

  if (event != G_SOCKET_CLIENT_CONNECTING)
    return;

  /* The address about to be connected to. If it cannot be told, or is
   * private, the socket is closed before the connection is made (the
   * client then tries the host's other addresses, if any). */
  if (G_IS_SOCKET_CONNECTION (connection))
    remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  if (address != NULL && !address_is_private (self, address))
    return;

  g_free (fetch->refusal);
  if (address != NULL)
    fetch->refusal = refusal_message (g_uri_get_host (fetch->uri), address);
  else
    fetch->refusal = g_strdup_printf (_("The address of “%s” could not be checked"), g_uri_get_host (fetch->uri));
  if (G_IS_SOCKET_CONNECTION (connection))
    g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)), NULL);
}

static gboolean
is_text_type (const char *type)
{
  static const char * const types[] = {
    "application/json", "application/xml", "application/javascript", "application/ecmascript",
    "application/x-javascript", "application/yaml", "application/x-yaml", "application/toml",
    "application/x-sh", "application/sql", "application/xhtml+xml",
  };

  if (g_str_has_prefix (type, "text/") || g_str_has_suffix (type, "+json") || g_str_has_suffix (type, "+xml"))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_equal (type, types[i]))
      return TRUE;
  return FALSE;
}

static ConfabToolResult *
build_result (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);
  SoupMessageHeaders *headers = soup_message_get_response_headers (fetch->message);
  guint status = soup_message_get_status (fetch->message);
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) structured = NULL;
  g_autofree char *url = uri_to_display (fetch->uri);
  g_autofree char *body_text = NULL;
  g_autofree char *title = NULL;
  const char *data = (const char *) fetch->body->data;
  const char *type = soup_message_headers_get_content_type (headers, &params);
  const char *type_header = soup_message_headers_get_one (headers, "Content-Type");
  const char *charset = params != NULL ? g_hash_table_lookup (params, "charset") : NULL;
  gsize len = fetch->body->len;
  gboolean is_text;
  ConfabToolResult *result;

  if (fetch->truncated)
    len = _confab_utf8_complete_length (data, len);

  /* Some servers send text as application/octet-stream, or no type. */
  is_text = type != NULL ? is_text_type (type) : FALSE;
  if (!is_text && (type == NULL || g_str_equal (type, "application/octet-stream")))
    is_text = memchr (data, '\0', MIN (len, CONFAB_BINARY_SNIFF_SIZE)) == NULL && g_utf8_validate_len (data, len, NULL);

  if (is_text)
    {
      g_autofree char *converted = NULL;
      g_autofree char *valid = NULL;

      if (charset != NULL && g_ascii_strcasecmp (charset, "utf-8") != 0 &&
          g_ascii_strcasecmp (charset, "utf8") != 0 && g_ascii_strcasecmp (charset, "us-ascii") != 0)
        converted = g_convert (data, len, "UTF-8", charset, NULL, NULL, NULL);
      valid = converted != NULL ? g_utf8_make_valid (converted, -1) : g_utf8_make_valid (data, len);

      if (type != NULL && (g_str_equal (type, "text/html") || g_str_equal (type, "application/xhtml+xml")))
        body_text = _confab_html_to_text (valid, strlen (valid), &title);
      else
        body_text = g_steal_pointer (&valid);
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    g_string_append_printf (text, "HTTP %u %s\n", status, soup_message_get_reason_phrase (fetch->message));
  g_string_append_printf (text, _("URL: %s"), url);
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("Content type: %s"), type_header != NULL ? type_header : _("unknown"));
  g_string_append_c (text, '\n');
  if (title != NULL && title[0] != '\0')
    {
      g_string_append_printf (text, _("Title: %s"), title);
      g_string_append_c (text, '\n');
    }
  g_string_append_c (text, '\n');

  if (body_text == NULL)
    {
      g_autofree char *size = g_format_size (fetch->body->len);

      g_string_append_printf (text, _("[binary content of %s, not shown]"), size);
    }
  else if (!SOUP_STATUS_IS_SUCCESSFUL (status) && strlen (body_text) > MAX_ERROR_TEXT)
    {
      g_string_append_len (text, body_text, _confab_utf8_complete_length (body_text, MAX_ERROR_TEXT));
      g_string_append (text, "…");
    }
  else
    g_string_append (text, body_text);

  if (fetch->truncated)
    {
      g_autofree char *cap = g_format_size (fetch->body->len);

      if (text->len > 0 && text->str[text->len - 1] != '\n')
        g_string_append_c (text, '\n');
      g_string_append_printf (text, _("[cut: only the first %s were read]"), cap);
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  json_builder_set_member_name (builder, "content_type");
  if (type_header != NULL)
    json_builder_add_string_value (builder, type_header);
  else
    json_builder_add_null_value (builder);
  if (title != NULL)
    {
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, title);
    }
  json_builder_set_member_name (builder, "bytes");
  json_builder_add_int_value (builder, fetch->body->len);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, fetch->truncated);
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  result = SOUP_STATUS_IS_SUCCESSFUL (status) ? confab_tool_result_new (text->str)
                                              : confab_tool_result_new_error (text->str);
  confab_tool_result_set_structured (result, structured);
  return result;
}

static void fetch_hop (GTask *task);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        {
          g_autofree char *url = uri_to_display (fetch->uri);

          g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_NETWORK,
                                   _("Reading %s failed: %s"), url, error->message);
        }
      return;
    }

  size = g_bytes_get_size (bytes);
  if (size > 0)
    {
      gsize room = self->max_size - MIN (fetch->body->len, self->max_size);

      g_byte_array_append (fetch->body, g_bytes_get_data (bytes, NULL), MIN (size, room));
      if (size <= room)
        {
          g_input_stream_read_bytes_async (fetch->stream, READ_SIZE, G_PRIORITY_DEFAULT, fetch->cancellable,
                                           read_cb, g_steal_pointer (&task));
          return;
        }
      /* Past the cap: the rest is not read; the connection is dropped. */
      fetch->truncated = TRUE;
    }

  g_task_return_pointer (task, build_result (task), g_object_unref);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *url = uri_to_display (fetch->uri);
  const char *location;
  guint status;

  fetch->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (fetch->stream == NULL)
    {
      if (g_cancellable_is_cancelled (fetch->cancellable))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (fetch->refusal != NULL)
        g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_DENIED, "%s", fetch->refusal);
      else
        g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_NETWORK,
                                 _("%s could not be fetched: %s"), url, error->message);
      return;
    }

  status = soup_message_get_status (fetch->message);
  location = soup_message_headers_get_one (soup_message_get_response_headers (fetch->message), "Location");
  if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308) && location != NULL)
    {
      g_autoptr(GUri) next = g_uri_parse_relative (fetch->uri, location, SOUP_HTTP_URI_FLAGS, NULL);

      if (next == NULL)
        {
          g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                   _("%s redirects to “%s”, which is not a valid address"), url, location);
          return;
        }
      if (++fetch->redirects > MAX_REDIRECTS)
        {
          g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_PROTOCOL,
                                   _("%s redirects more than %u times"), url, MAX_REDIRECTS);
          return;
        }
      fetch_drop_message (fetch);
      g_uri_unref (fetch->uri);
      fetch->uri = g_steal_pointer (&next);
      fetch_hop (g_steal_pointer (&task));
      return;
    }

  g_input_stream_read_bytes_async (fetch->stream, READ_SIZE, G_PRIORITY_DEFAULT, fetch->cancellable,
                                   read_cb, g_steal_pointer (&task));
}

static void
fetch_send (GTask *task)
{
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);

  fetch->message = soup_message_new_from_uri (SOUP_METHOD_GET, fetch->uri);
  soup_message_add_flags (fetch->message, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_headers_replace (soup_message_get_request_headers (fetch->message), "Accept",
                                "text/html, text/plain;q=0.9, */*;q=0.8");
  if (!fetch->allow_private && fetch->check_peer)
    {
      /* A kept-alive connection was checked under another conversation's
       * rules, or for another host name: every checked request connects
       * anew. */
      soup_message_add_flags (fetch->message, SOUP_MESSAGE_NEW_CONNECTION);
      fetch->network_event_id = g_signal_connect (fetch->message, "network-event",
                                                  G_CALLBACK (network_event_cb), task);
    }
  g_clear_pointer (&fetch->refusal, g_free);

  soup_session_send_async (self->session, fetch->message, G_PRIORITY_DEFAULT, fetch->cancellable,
                           send_cb, task);
}

/* Returns FALSE after failing @task when an address is private. */
static gboolean
check_addresses (GTask *task,
                 GList *addresses)
{
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);

  for (GList *l = addresses; l != NULL; l = l->next)
    if (address_is_private (self, l->data))
      {
        g_autofree char *message = refusal_message (g_uri_get_host (fetch->uri), l->data);

        g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_DENIED, "%s", message);
        g_object_unref (task);
        return FALSE;
      }
  return TRUE;
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);
  if (addresses == NULL)
    {
      /* Behind a proxy the proxy looks names up; it may know more. */
      if (!fetch->check_peer && !g_cancellable_is_cancelled (fetch->cancellable))
        {
          fetch_send (task);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_NETWORK,
                                 _("The address of “%s” could not be found: %s"),
                                 g_uri_get_host (fetch->uri), error->message);
      g_object_unref (task);
      return;
    }

  if (check_addresses (task, addresses))
    fetch_send (task);
  g_resolver_free_addresses (addresses);
}

static void
check_host (GTask *task)
{
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr(GInetAddress) literal = g_inet_address_new_from_string (g_uri_get_host (fetch->uri));
  g_autoptr(GResolver) resolver = NULL;

  if (literal != NULL)
    {
      GList single = { literal, NULL, NULL };

      if (check_addresses (task, &single))
        fetch_send (task);
      return;
    }
  if (self->skip_lookup_check)
    {
      fetch_send (task);
      return;
    }

  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, g_uri_get_host (fetch->uri), fetch->cancellable, lookup_cb, task);
}

static void
proxy_lookup_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  g_auto(GStrv) proxies = NULL;

  /* Unless known to be direct, the peer is checked (failing closed). */
  proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (object), result, NULL);
  fetch->check_peer = proxies == NULL || proxies[0] == NULL || g_str_equal (proxies[0], "direct://");

  if (g_cancellable_is_cancelled (fetch->cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", _("Stopped"));
      g_object_unref (task);
      return;
    }
  check_host (task);
}

/* One request: the first, or one after a redirect. Takes @task's
 * reference. */
static void
fetch_hop (GTask *task)
{
  ConfabFetchUrlTool *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);
  const char *scheme = g_uri_get_scheme (fetch->uri);
  const char *host = g_uri_get_host (fetch->uri);
  GProxyResolver *proxy_resolver;
  g_autofree char *url = NULL;

  if (scheme == NULL || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_DENIED,
                               _("fetch_url only fetches http and https addresses, not “%s:” ones"),
                               scheme != NULL ? scheme : "");
      g_object_unref (task);
      return;
    }
  if (host == NULL || host[0] == '\0')
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                               _("The address has no host name"));
      g_object_unref (task);
      return;
    }

  if (fetch->allow_private)
    {
      fetch_send (task);
      return;
    }

  proxy_resolver = soup_session_get_proxy_resolver (self->session);
  if (proxy_resolver == NULL)
    {
      fetch->check_peer = TRUE;
      check_host (task);
      return;
    }
  url = g_uri_to_string (fetch->uri);
  g_proxy_resolver_lookup_async (proxy_resolver, url, fetch->cancellable, proxy_lookup_cb, task);
}

static void
confab_fetch_url_tool_run_async (ConfabTool          *tool,
                                 ConfabToolContext   *context,
                                 JsonObject          *arguments,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *url;
  Fetch *fetch;

  task = g_task_new (tool, cancellable, callback, user_data);
  g_task_set_source_tag (task, confab_fetch_url_tool_run_async);
  g_task_set_check_cancellable (task, FALSE);

  url = confab_tool_get_string_arg (tool, arguments, "url", TRUE, &error);
  if (url == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL)
    {
      g_task_return_new_error (task, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not a valid address"), url);
      return;
    }

  fetch = g_new0 (Fetch, 1);
  fetch->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  fetch->uri = g_steal_pointer (&uri);
  fetch->body = g_byte_array_new ();
  fetch->allow_private = confab_tool_context_get_allow_private_network (context);
  g_task_set_task_data (task, fetch, fetch_free);

  fetch_hop (g_steal_pointer (&task));
}

static ConfabToolResult *
confab_fetch_url_tool_run_finish (ConfabTool    *tool,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
confab_fetch_url_tool_dispose (GObject *object)
{
  ConfabFetchUrlTool *self = CONFAB_FETCH_URL_TOOL (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (confab_fetch_url_tool_parent_class)->dispose (object);
}

static void
confab_fetch_url_tool_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ConfabFetchUrlTool *self = CONFAB_FETCH_URL_TOOL (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      g_value_set_uint64 (value, self->max_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_fetch_url_tool_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  ConfabFetchUrlTool *self = CONFAB_FETCH_URL_TOOL (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      if (self->max_size != g_value_get_uint64 (value))
        {
          self->max_size = g_value_get_uint64 (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_fetch_url_tool_class_init (ConfabFetchUrlToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  object_class->dispose = confab_fetch_url_tool_dispose;
  object_class->get_property = confab_fetch_url_tool_get_property;
  object_class->set_property = confab_fetch_url_tool_set_property;

  tool_class->run_async = confab_fetch_url_tool_run_async;
  tool_class->run_finish = confab_fetch_url_tool_run_finish;

  /**
   * ConfabFetchUrlTool:max-size:
   *
   * Bytes of a response body read at most; the rest is not downloaded.
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_uint64 ("max-size", NULL, NULL,
                         1, G_MAXSIZE, DEFAULT_MAX_SIZE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
confab_fetch_url_tool_init (ConfabFetchUrlTool *self)
{
  g_autofree char *user_agent = g_strdup_printf ("Confab/%s ", PACKAGE_VERSION);

  /* The tool's own timeout (the base class) stops a slow fetch. */
  self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                 "timeout", 0,
                                                 "idle-timeout", 60,
                                                 NULL);
  self->max_size = DEFAULT_MAX_SIZE;
}

ConfabTool *
confab_fetch_url_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{"
      "\"type\": \"object\","
      "\"properties\": {"
        "\"url\": {"
          "\"type\": \"string\","
          "\"description\": \"The http or https address to fetch.\""
        "}"
      "},"
      "\"required\": [\"url\"]"
    "}");

  return g_object_new (CONFAB_TYPE_FETCH_URL_TOOL,
                       "name", "fetch_url",
                       "description",
                       "Fetch a web page or file over http or https and return its content as text: an "
                       "HTML page is reduced to its readable text, with its title and content type. At "
                       "most 2 MiB are downloaded. Addresses on the local or private network (localhost, "
                       "192.168.x.x and the like) are refused unless the user allowed them.",
                       "parameters", parameters,
                       "needs-approval", FALSE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}

void
_confab_fetch_url_tool_set_test_hooks (ConfabFetchUrlTool  *self,
                                       ConfabAddressFilter  is_private,
                                       gboolean             skip_lookup_check)
{
  g_return_if_fail (CONFAB_IS_FETCH_URL_TOOL (self));

  self->is_private = is_private;
  self->skip_lookup_check = !!skip_lookup_check;
}
