/* confab-markdown-parser.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <md4c.h>

#include "confab-markdown-parser-private.h"

/* CommonMark plus what models write: GitHub tables, ~~strikethrough~~,
 * task lists, bare URLs. Raw HTML is shown as the text it is. */
#define CONFAB_MD_FLAGS (MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_TASKLISTS | \
                         MD_FLAG_PERMISSIVEAUTOLINKS | MD_FLAG_NOHTML)

#define REPLACEMENT_CHARACTER "\xEF\xBF\xBD"

/* The background of inline code: grey at low alpha reads in both the light
 * and the dark style. Spans cannot carry CSS classes. */
#define INLINE_CODE_OPEN "<span font_family=\"monospace\" background=\"#80808030\">"

typedef struct
{
  GPtrArray    *roots;
  GPtrArray    *stack;   /* open containers: QUOTE, LIST, ITEM, TABLE, ROW */
  ConfabMdNode *leaf;    /* PARAGRAPH, HEADING, CELL or CODE receiving text */
  GString      *buf;     /* the leaf's text so far */
  GArray       *spans;   /* per open link or image: gsize, buf->len after its tag, or 0 if no tag */
  gboolean      in_head;
} Builder;

/* Named entities models actually write; others stay as typed. */
static const struct
{
  const char *name;
  const char *utf8;
} entities[] = {
  { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
  { "nbsp", "\xC2\xA0" }, { "copy", "©" }, { "reg", "®" }, { "trade", "™" },
  { "hellip", "…" }, { "mdash", "—" }, { "ndash", "–" }, { "lsquo", "‘" },
  { "rsquo", "’" }, { "ldquo", "“" }, { "rdquo", "”" }, { "laquo", "«" },
  { "raquo", "»" }, { "times", "×" }, { "divide", "÷" }, { "deg", "°" },
  { "plusmn", "±" }, { "middot", "·" }, { "bull", "•" }, { "euro", "€" },
  { "pound", "£" }, { "yen", "¥" }, { "cent", "¢" }, { "sect", "§" },
  { "para", "¶" }, { "larr", "←" }, { "rarr", "→" }, { "uarr", "↑" },
  { "darr", "↓" }, { "harr", "↔" }, { "rArr", "⇒" }, { "lArr", "⇐" },
  { "le", "≤" }, { "ge", "≥" }, { "ne", "≠" }, { "infin", "∞" },
  { "check", "✓" }, { "shy", "\xC2\xAD" }, { "zwj", "\xE2\x80\x8D" },
};

/* Nodes */

static ConfabMdNode *
node_new (ConfabMdKind kind)
{
  ConfabMdNode *node = g_new0 (ConfabMdNode, 1);

  node->kind = kind;
  return node;
}

static GPtrArray *
block_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)_confab_md_node_free);
}

void
_confab_md_node_free (ConfabMdNode *node)
{
  if (node == NULL)
    return;

  g_free (node->text);
  g_free (node->lang);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node);
}

gboolean
_confab_md_node_equal (const ConfabMdNode *a,
                       const ConfabMdNode *b)
{
  guint n_a, n_b;

  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  if (a->kind != b->kind || a->level != b->level || a->start != b->start ||
      a->ordered != b->ordered || a->tight != b->tight || a->header != b->header ||
      a->align != b->align || g_strcmp0 (a->text, b->text) != 0 ||
      g_strcmp0 (a->lang, b->lang) != 0)
    return FALSE;

  n_a = a->children != NULL ? a->children->len : 0;
  n_b = b->children != NULL ? b->children->len : 0;
  if (n_a != n_b)
    return FALSE;

  for (guint i = 0; i < n_a; i++)
    if (!_confab_md_node_equal (g_ptr_array_index (a->children, i),
                                g_ptr_array_index (b->children, i)))
      return FALSE;

  return TRUE;
}

static void
describe_text (GString    *out,
               const char *text)
{
  g_string_append_c (out, '{');
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    {
      if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '\\' || *p == '}')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '}');
}

void
_confab_md_node_describe (const ConfabMdNode *node,
                          GString            *out)
{
  static const char *const align_names[] = { "", ",left", ",center", ",right" };

  switch (node->kind)
    {
    case CONFAB_MD_PARAGRAPH:
      g_string_append (out, "P");
      break;

    case CONFAB_MD_HEADING:
      g_string_append_printf (out, "H%u", node->level);
      break;

    case CONFAB_MD_QUOTE:
      g_string_append (out, "QUOTE");
      break;

    case CONFAB_MD_LIST:
      if (node->ordered)
        g_string_append_printf (out, "OL(%u,%s,%u)", node->level,
                                node->tight ? "tight" : "loose", node->start);
      else
        g_string_append_printf (out, "UL(%u,%s)", node->level,
                                node->tight ? "tight" : "loose");
      break;

    case CONFAB_MD_ITEM:
      g_string_append (out, "LI");
      break;

    case CONFAB_MD_RULE:
      g_string_append (out, "HR");
      break;

    case CONFAB_MD_CODE:
      g_string_append_printf (out, "CODE(%s)", node->lang != NULL ? node->lang : "");
      break;

    case CONFAB_MD_TABLE:
      g_string_append (out, "TABLE");
      break;

    case CONFAB_MD_ROW:
      g_string_append (out, node->header ? "TH" : "TR");
      break;

    case CONFAB_MD_CELL:
      g_string_append_printf (out, "CELL(%s%s)", node->header ? "h" : "d",
                              align_names[node->align]);
      break;

    default:
      g_assert_not_reached ();
    }

  if (node->text != NULL)
    describe_text (out, node->text);

  if (node->children != NULL)
    {
      g_string_append_c (out, '[');
      for (guint i = 0; i < node->children->len; i++)
        {
          if (i > 0)
            g_string_append_c (out, ' ');
          _confab_md_node_describe (g_ptr_array_index (node->children, i), out);
        }
      g_string_append_c (out, ']');
    }
}

char *
_confab_md_describe_blocks (GPtrArray *blocks)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < blocks->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, '\n');
      _confab_md_node_describe (g_ptr_array_index (blocks, i), out);
    }

  return g_string_free (out, FALSE);
}

/* Building the tree from md4c's callbacks */

static ConfabMdNode *
builder_top (Builder *b)
{
  return b->stack->len > 0 ? g_ptr_array_index (b->stack, b->stack->len - 1) : NULL;
}

static void
builder_end_leaf (Builder *b)
{
  if (b->leaf == NULL)
    return;

  /* md4c ends every code line with a newline; a view would show the last
   * one as an empty line. */
  if (b->leaf->kind == CONFAB_MD_CODE && b->buf->len > 0 && b->buf->str[b->buf->len - 1] == '\n')
    g_string_truncate (b->buf, b->buf->len - 1);

  b->leaf->text = g_strndup (b->buf->str, b->buf->len);
  g_string_truncate (b->buf, 0);
  g_array_set_size (b->spans, 0);
  b->leaf = NULL;
}

static void
builder_add (Builder      *b,
             ConfabMdNode *node)
{
  ConfabMdNode *parent = builder_top (b);

  /* A block inside a tight list item ends the item's text before it. */
  builder_end_leaf (b);
  g_ptr_array_add (parent != NULL ? parent->children : b->roots, node);
}

static void
builder_push (Builder      *b,
              ConfabMdNode *node)
{
  node->children = block_array_new ();
  builder_add (b, node);
  g_ptr_array_add (b->stack, node);
}

static void
builder_pop (Builder *b)
{
  builder_end_leaf (b);
  if (b->stack->len > 0)
    g_ptr_array_set_size (b->stack, b->stack->len - 1);
}

static void
builder_begin_leaf (Builder      *b,
                    ConfabMdNode *node)
{
  builder_add (b, node);
  b->leaf = node;
}

/* Text directly in an item of a tight list has no paragraph of its own:
 * give it one, so that every piece of inline text lives in a leaf. */
static void
builder_ensure_leaf (Builder *b)
{
  if (b->leaf == NULL)
    builder_begin_leaf (b, node_new (CONFAB_MD_PARAGRAPH));
}

static guint
builder_list_depth (Builder *b)
{
  guint depth = 0;

  for (guint i = 0; i < b->stack->len; i++)
    if (((ConfabMdNode *)g_ptr_array_index (b->stack, i))->kind == CONFAB_MD_LIST)
      depth++;

  return depth;
}

static void
append_escaped (GString    *out,
                const char *text,
                gsize       len)
{
  g_autofree char *escaped = NULL;

  if (len == 0)
    return;

  escaped = g_markup_escape_text (text, len);
  g_string_append (out, escaped);
}

/* Appends the character an entity such as "&amp;", "&#233;" or "&#x1F600;"
 * stands for, or the entity itself when unknown. Not escaped. */
static void
append_entity (GString    *out,
               const char *text,
               gsize       len)
{
  g_autofree char *name = NULL;

  if (len < 3 || text[0] != '&' || text[len - 1] != ';')
    {
      g_string_append_len (out, text, len);
      return;
    }

  name = g_strndup (text + 1, len - 2);

  if (name[0] == '#')
    {
      gboolean hex = name[1] == 'x' || name[1] == 'X';
      const char *digits = name + (hex ? 2 : 1);
      char *end = NULL;
      guint64 value = g_ascii_strtoull (digits, &end, hex ? 16 : 10);
      char utf8[6];

      if (*digits == '\0' || end == NULL || *end != '\0' || value == 0 || value > 0x10FFFF ||
          (value >= 0xD800 && value <= 0xDFFF))
        {
          g_string_append (out, REPLACEMENT_CHARACTER);
          return;
        }

      g_string_append_len (out, utf8, g_unichar_to_utf8 ((gunichar)value, utf8));
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    if (strcmp (entities[i].name, name) == 0)
      {
        g_string_append (out, entities[i].utf8);
        return;
      }

  g_string_append_len (out, text, len);
}

/* The plain value of an attribute (a link's URL, say), entities decoded. */
static char *
attribute_value (const MD_ATTRIBUTE *attr)
{
  GString *out = g_string_new (NULL);

  if (attr->text == NULL || attr->size == 0)
    return g_string_free (out, FALSE);

  for (guint i = 0; attr->substr_offsets[i] < attr->size; i++)
    {
      const char *piece = attr->text + attr->substr_offsets[i];
      gsize len = attr->substr_offsets[i + 1] - attr->substr_offsets[i];

      switch (attr->substr_types[i])
        {
        case MD_TEXT_ENTITY:
          append_entity (out, piece, len);
          break;

        case MD_TEXT_NULLCHAR:
          g_string_append (out, REPLACEMENT_CHARACTER);
          break;

        case MD_TEXT_NORMAL:
        case MD_TEXT_BR:
        case MD_TEXT_SOFTBR:
        case MD_TEXT_CODE:
        case MD_TEXT_HTML:
        case MD_TEXT_LATEXMATH:
        default:
          g_string_append_len (out, piece, len);
          break;
        }
    }

  return g_string_free (out, FALSE);
}

static char *
item_marker (ConfabMdNode        *list,
             MD_BLOCK_LI_DETAIL  *detail)
{
  /* Bullets change with depth, as in most renderers. */
  static const char *const bullets[] = { "•", "◦", "▪" };

  if (detail->is_task)
    return g_strdup (detail->task_mark == ' ' ? "☐" : "☑");
  if (list == NULL || list->kind != CONFAB_MD_LIST)
    return g_strdup (bullets[0]);
  if (list->ordered)
    return g_strdup_printf ("%u.", list->start + list->children->len);

  return g_strdup (bullets[list->level % G_N_ELEMENTS (bullets)]);
}

static int
enter_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  Builder *b = user_data;
  ConfabMdNode *node;

  switch (type)
    {
    case MD_BLOCK_QUOTE:
      builder_push (b, node_new (CONFAB_MD_QUOTE));
      break;

    case MD_BLOCK_UL:
      node = node_new (CONFAB_MD_LIST);
      node->level = builder_list_depth (b);
      node->tight = ((MD_BLOCK_UL_DETAIL *)detail)->is_tight != 0;
      builder_push (b, node);
      break;

    case MD_BLOCK_OL:
      node = node_new (CONFAB_MD_LIST);
      node->level = builder_list_depth (b);
      node->ordered = TRUE;
      node->start = ((MD_BLOCK_OL_DETAIL *)detail)->start;
      node->tight = ((MD_BLOCK_OL_DETAIL *)detail)->is_tight != 0;
      builder_push (b, node);
      break;

    case MD_BLOCK_LI:
      node = node_new (CONFAB_MD_ITEM);
      node->text = item_marker (builder_top (b), detail);
      builder_push (b, node);
      break;

    case MD_BLOCK_HR:
      builder_add (b, node_new (CONFAB_MD_RULE));
      break;

    case MD_BLOCK_H:
      node = node_new (CONFAB_MD_HEADING);
      node->level = CLAMP (((MD_BLOCK_H_DETAIL *)detail)->level, 1, 6);
      builder_begin_leaf (b, node);
      break;

    case MD_BLOCK_CODE:
      {
        MD_BLOCK_CODE_DETAIL *code = detail;

        node = node_new (CONFAB_MD_CODE);
        if (code->lang.text != NULL && code->lang.size > 0)
          node->lang = attribute_value (&code->lang);
        builder_begin_leaf (b, node);
      }
      break;

    case MD_BLOCK_HTML:
    case MD_BLOCK_P:
      builder_begin_leaf (b, node_new (CONFAB_MD_PARAGRAPH));
      break;

    case MD_BLOCK_TABLE:
      builder_push (b, node_new (CONFAB_MD_TABLE));
      break;

    case MD_BLOCK_THEAD:
      b->in_head = TRUE;
      break;

    case MD_BLOCK_TBODY:
      b->in_head = FALSE;
      break;

    case MD_BLOCK_TR:
      node = node_new (CONFAB_MD_ROW);
      node->header = b->in_head;
      builder_push (b, node);
      break;

    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      node = node_new (CONFAB_MD_CELL);
      node->header = type == MD_BLOCK_TH;
      switch (((MD_BLOCK_TD_DETAIL *)detail)->align)
        {
        case MD_ALIGN_LEFT:
          node->align = CONFAB_MD_ALIGN_LEFT;
          break;
        case MD_ALIGN_CENTER:
          node->align = CONFAB_MD_ALIGN_CENTER;
          break;
        case MD_ALIGN_RIGHT:
          node->align = CONFAB_MD_ALIGN_RIGHT;
          break;
        case MD_ALIGN_DEFAULT:
        default:
          node->align = CONFAB_MD_ALIGN_DEFAULT;
          break;
        }
      builder_begin_leaf (b, node);
      if (node->header)
        g_string_append (b->buf, "<b>");
      break;

    case MD_BLOCK_DOC:
    default:
      break;
    }

  return 0;
}

static int
leave_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  Builder *b = user_data;

  switch (type)
    {
    case MD_BLOCK_QUOTE:
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
    case MD_BLOCK_LI:
    case MD_BLOCK_TABLE:
    case MD_BLOCK_TR:
      builder_pop (b);
      break;

    case MD_BLOCK_TH:
      if (b->leaf != NULL)
        g_string_append (b->buf, "</b>");
      builder_end_leaf (b);
      break;

    case MD_BLOCK_H:
    case MD_BLOCK_CODE:
    case MD_BLOCK_HTML:
    case MD_BLOCK_P:
    case MD_BLOCK_TD:
      builder_end_leaf (b);
      break;

    case MD_BLOCK_THEAD:
      b->in_head = FALSE;
      break;

    case MD_BLOCK_DOC:
    case MD_BLOCK_HR:
    case MD_BLOCK_TBODY:
    default:
      break;
    }

  return 0;
}

static gboolean
builder_in_link (Builder *b)
{
  for (guint i = 0; i < b->spans->len; i++)
    if (g_array_index (b->spans, gsize, i) != 0)
      return TRUE;

  return FALSE;
}

/* Opens <a> for a link or an image, unless already inside one: Pango does
 * not nest links. Records whether it did. */
static void
builder_open_link (Builder            *b,
                   const MD_ATTRIBUTE *href,
                   const MD_ATTRIBUTE *title)
{
  g_autofree char *url = attribute_value (href);
  g_autofree char *tip = title != NULL ? attribute_value (title) : NULL;
  gsize mark = 0;

  if (!builder_in_link (b) && url[0] != '\0')
    {
      g_string_append (b->buf, "<a href=\"");
      append_escaped (b->buf, url, strlen (url));
      if (tip != NULL && tip[0] != '\0')
        {
          g_string_append (b->buf, "\" title=\"");
          append_escaped (b->buf, tip, strlen (tip));
        }
      g_string_append (b->buf, "\">");
      mark = b->buf->len;
    }

  g_array_append_val (b->spans, mark);
}

static int
enter_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  Builder *b = user_data;

  if (b->leaf != NULL && b->leaf->kind == CONFAB_MD_CODE)
    return 0;
  builder_ensure_leaf (b);

  switch (type)
    {
    case MD_SPAN_EM:
      g_string_append (b->buf, "<i>");
      break;

    case MD_SPAN_STRONG:
      g_string_append (b->buf, "<b>");
      break;

    case MD_SPAN_DEL:
      g_string_append (b->buf, "<s>");
      break;

    case MD_SPAN_U:
      g_string_append (b->buf, "<u>");
      break;

    case MD_SPAN_CODE:
      g_string_append (b->buf, INLINE_CODE_OPEN);
      break;

    case MD_SPAN_A:
      {
        MD_SPAN_A_DETAIL *a = detail;

        builder_open_link (b, &a->href, &a->title);
      }
      break;

    case MD_SPAN_IMG:
      {
        MD_SPAN_IMG_DETAIL *img = detail;

        /* No images from the network in a chat: the alt text links to it. */
        builder_open_link (b, &img->src, &img->title);
      }
      break;

    case MD_SPAN_LATEXMATH:
    case MD_SPAN_LATEXMATH_DISPLAY:
    case MD_SPAN_WIKILINK:
    default:
      break;
    }

  return 0;
}

static int
leave_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  Builder *b = user_data;

  if (b->leaf == NULL || b->leaf->kind == CONFAB_MD_CODE)
    return 0;

  switch (type)
    {
    case MD_SPAN_EM:
      g_string_append (b->buf, "</i>");
      break;

    case MD_SPAN_STRONG:
      g_string_append (b->buf, "</b>");
      break;

    case MD_SPAN_DEL:
      g_string_append (b->buf, "</s>");
      break;

    case MD_SPAN_U:
      g_string_append (b->buf, "</u>");
      break;

    case MD_SPAN_CODE:
      g_string_append (b->buf, "</span>");
      break;

    case MD_SPAN_A:
    case MD_SPAN_IMG:
      if (b->spans->len > 0)
        {
          gsize mark = g_array_index (b->spans, gsize, b->spans->len - 1);

          g_array_set_size (b->spans, b->spans->len - 1);
          if (mark != 0)
            {
              /* An image without alt text shows its address. */
              if (type == MD_SPAN_IMG && b->buf->len == mark)
                {
                  g_autofree char *src = attribute_value (&((MD_SPAN_IMG_DETAIL *)detail)->src);

                  append_escaped (b->buf, src, strlen (src));
                }
              g_string_append (b->buf, "</a>");
            }
        }
      break;

    case MD_SPAN_LATEXMATH:
    case MD_SPAN_LATEXMATH_DISPLAY:
    case MD_SPAN_WIKILINK:
    default:
      break;
    }

  return 0;
}

static int
text_cb (MD_TEXTTYPE    type,
         const MD_CHAR *text,
         MD_SIZE        size,
         void          *user_data)
{
  Builder *b = user_data;
  g_autoptr(GString) entity = NULL;

  if (b->leaf != NULL && b->leaf->kind == CONFAB_MD_CODE)
    {
      if (type == MD_TEXT_NULLCHAR)
        g_string_append (b->buf, REPLACEMENT_CHARACTER);
      else
        g_string_append_len (b->buf, text, size);
      return 0;
    }

  builder_ensure_leaf (b);

  switch (type)
    {
    case MD_TEXT_NULLCHAR:
      g_string_append (b->buf, REPLACEMENT_CHARACTER);
      break;

    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
      /* Models mean their single newlines: keep them. */
      g_string_append_c (b->buf, '\n');
      break;

    case MD_TEXT_ENTITY:
      entity = g_string_new (NULL);
      append_entity (entity, text, size);
      append_escaped (b->buf, entity->str, entity->len);
      break;

    case MD_TEXT_NORMAL:
    case MD_TEXT_CODE:
    case MD_TEXT_HTML:
    case MD_TEXT_LATEXMATH:
    default:
      append_escaped (b->buf, text, size);
      break;
    }

  return 0;
}

GPtrArray *
_confab_md_parse (const char *text,
                  gsize       len)
{
  const MD_PARSER parser = {
    .abi_version = 0,
    .flags = CONFAB_MD_FLAGS,
    .enter_block = enter_block_cb,
    .leave_block = leave_block_cb,
    .enter_span = enter_span_cb,
    .leave_span = leave_span_cb,
    .text = text_cb,
    .debug_log = NULL,
    .syntax = NULL,
  };
  Builder b = { 0 };

  g_return_val_if_fail (text != NULL || len == 0, NULL);

  b.roots = block_array_new ();
  b.stack = g_ptr_array_new ();
  b.buf = g_string_new (NULL);
  b.spans = g_array_new (FALSE, FALSE, sizeof (gsize));

  /* md4c counts in unsigned int; a 4 GiB reply is not a chat message. */
  if (len > 0)
    md_parse (text, (MD_SIZE)MIN (len, G_MAXUINT), &parser, &b);
  builder_end_leaf (&b);

  g_ptr_array_unref (b.stack);
  g_string_free (b.buf, TRUE);
  g_array_unref (b.spans);

  return b.roots;
}

static gboolean
blocks_equal (GPtrArray *a,
              guint      a_from,
              GPtrArray *b,
              guint      b_from,
              guint      n)
{
  for (guint i = 0; i < n; i++)
    if (!_confab_md_node_equal (g_ptr_array_index (a, a_from + i),
                                g_ptr_array_index (b, b_from + i)))
      return FALSE;

  return TRUE;
}

gboolean
_confab_md_parse_split (const char  *text,
                        gsize        len,
                        gsize        at,
                        GPtrArray  **blocks,
                        guint       *n_head)
{
  g_autoptr(GPtrArray) head = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  g_autoptr(GPtrArray) whole = NULL;

  g_return_val_if_fail (blocks != NULL, FALSE);
  g_return_val_if_fail (n_head != NULL, FALSE);

  *n_head = 0;
  if (at == 0 || at >= len)
    {
      *blocks = _confab_md_parse (text, len);
      return at == 0;
    }

  head = _confab_md_parse (text, at);
  tail = _confab_md_parse (text + at, len - at);
  whole = _confab_md_parse (text, len);

  if (whole->len != head->len + tail->len ||
      !blocks_equal (whole, 0, head, 0, head->len) ||
      !blocks_equal (whole, head->len, tail, 0, tail->len))
    {
      *blocks = g_steal_pointer (&whole);
      return FALSE;
    }

  *n_head = head->len;
  g_ptr_array_extend_and_steal (head, g_steal_pointer (&tail));
  *blocks = g_steal_pointer (&head);
  return TRUE;
}

/* UTF-8 */

/* Whether the @n bytes at @p, the end of the text, are the start of a
 * valid sequence that more bytes could complete. */
static gboolean
incomplete_sequence (const guchar *p,
                     gsize         n)
{
  guint need;
  guchar lo = 0x80, hi = 0xBF;

  if (n == 0)
    return FALSE;

  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    need = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    need = 3;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    need = 4;
  else
    return FALSE;

  if (n >= need)
    return FALSE;

  if (p[0] == 0xE0)
    lo = 0xA0;
  else if (p[0] == 0xED)
    hi = 0x9F;
  else if (p[0] == 0xF0)
    lo = 0x90;
  else if (p[0] == 0xF4)
    hi = 0x8F;

  if (n >= 2 && (p[1] < lo || p[1] > hi))
    return FALSE;
  if (n >= 3 && (p[2] & 0xC0) != 0x80)
    return FALSE;

  return TRUE;
}

gsize
_confab_md_sanitize (GString *text,
                     gsize    from)
{
  g_autoptr(GString) fixed = NULL;
  const char *p;
  const char *stop;
  const char *end;
  gsize valid;

  g_return_val_if_fail (text != NULL, 0);
  g_return_val_if_fail (from <= text->len, text->len);

  /* The usual case: all good, no copy. */
  if (g_utf8_validate_len (text->str + from, text->len - from, &end))
    return text->len;
  if (incomplete_sequence ((const guchar *)end, text->str + text->len - end))
    return end - text->str;

  /* Rebuild the rest in one pass, so garbage input costs linear time. */
  fixed = g_string_sized_new (text->len - from + 16);
  p = text->str + from;
  stop = text->str + text->len;
  valid = G_MAXSIZE;

  while (p < stop)
    {
      if (g_utf8_validate_len (p, stop - p, &end))
        {
          g_string_append_len (fixed, p, stop - p);
          break;
        }

      g_string_append_len (fixed, p, end - p);
      if (incomplete_sequence ((const guchar *)end, stop - end))
        {
          valid = from + fixed->len;
          g_string_append_len (fixed, end, stop - end);
          break;
        }

      g_string_append (fixed, REPLACEMENT_CHARACTER);
      p = end + 1;
    }

  g_string_truncate (text, from);
  g_string_append_len (text, fixed->str, fixed->len);

  return valid != G_MAXSIZE ? valid : text->len;
}

/* Block boundaries */

/* Columns of leading whitespace from column @col (tabs stop every four),
 * and the first other character in *@first. */
static guint
measure_indent (const char  *p,
                const char  *eol,
                guint        col,
                const char **first)
{
  while (p < eol && (*p == ' ' || *p == '\t'))
    {
      col = *p == '\t' ? col + 4 - col % 4 : col + 1;
      p++;
    }

  *first = p;
  return col;
}

static gboolean
only_blanks (const char *p,
             const char *eol)
{
  for (; p < eol; p++)
    if (*p != ' ' && *p != '\t')
      return FALSE;

  return TRUE;
}

static gboolean
fence_opener (const char *p,
              const char *eol,
              char       *ch,
              guint      *len)
{
  const char *q = p;

  if (p >= eol || (*p != '`' && *p != '~'))
    return FALSE;

  while (q < eol && *q == *p)
    q++;
  if (q - p < 3)
    return FALSE;

  /* A backtick fence's info string cannot hold a backtick: that line is
   * inline code in a paragraph. */
  if (*p == '`' && memchr (q, '`', eol - q) != NULL)
    return FALSE;

  *ch = *p;
  *len = q - p;
  return TRUE;
}

static gboolean
fence_closer (const char *p,
              const char *eol,
              char        ch,
              guint       len)
{
  const char *q = p;

  while (q < eol && *q == ch)
    q++;

  return (guint)(q - p) >= len && only_blanks (q, eol);
}

static gboolean
thematic_break (const char *p,
                const char *eol)
{
  guint count = 0;
  char ch;

  if (p >= eol || (*p != '-' && *p != '*' && *p != '_'))
    return FALSE;

  ch = *p;
  for (; p < eol; p++)
    {
      if (*p == ch)
        count++;
      else if (*p != ' ' && *p != '\t')
        return FALSE;
    }

  return count >= 3;
}

static gboolean
setext_underline (const char *p,
                  const char *eol)
{
  const char *q = p;

  if (p >= eol || (*p != '=' && *p != '-'))
    return FALSE;

  while (q < eol && *q == *p)
    q++;

  return only_blanks (q, eol);
}

static gboolean
atx_heading (const char *p,
             const char *eol)
{
  const char *q = p;

  while (q < eol && *q == '#')
    q++;

  return q > p && q - p <= 6 && (q == eol || *q == ' ' || *q == '\t');
}

/* md4c's table delimiter row: cells of at least three of "-" with optional
 * colons, separated by pipes, with at least one pipe. */
static gboolean
table_underline (const char *p,
                 const char *eol)
{
  gboolean pipe = FALSE;

  if (p < eol && *p == '|')
    {
      pipe = TRUE;
      p++;
      while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    }

  for (;;)
    {
      const char *cell = p;
      gboolean delimited = FALSE;

      if (p < eol && *p == ':')
        p++;
      while (p < eol && *p == '-')
        p++;
      if (p < eol && *p == ':')
        p++;
      if (p - cell < 3)
        return FALSE;

      while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
      if (p < eol && *p == '|')
        {
          pipe = delimited = TRUE;
          p++;
          while (p < eol && (*p == ' ' || *p == '\t'))
            p++;
        }

      if (p >= eol)
        break;
      if (!delimited)
        return FALSE;
    }

  return pipe;
}

/* A list item marker at @p (after @indent columns): "-", "+", "*", or one
 * to nine digits and "." or ")", followed by a blank or the end of line. */
static gboolean
list_marker (const char *p,
             const char *eol,
             guint       indent,
             guint      *content_col,
             gboolean   *empty,
             gboolean   *ordered,
             guint64    *number,
             const char **content)
{
  const char *q = p;
  guint col;
  guint after;

  *number = 0;
  if (q < eol && (*q == '-' || *q == '+' || *q == '*'))
    {
      *ordered = FALSE;
      q++;
    }
  else
    {
      while (q < eol && g_ascii_isdigit (*q) && q - p < 10)
        {
          *number = *number * 10 + (guint64)(*q - '0');
          q++;
        }
      if (q == p || q - p > 9 || q >= eol || (*q != '.' && *q != ')'))
        return FALSE;
      *ordered = TRUE;
      q++;
    }

  if (q < eol && *q != ' ' && *q != '\t')
    return FALSE;

  col = indent + (guint)(q - p);
  after = measure_indent (q, eol, col, content);
  *empty = *content == eol;

  /* More than four spaces after the marker start indented code in the item. */
  if (*empty || after - col > 4)
    *content_col = col + 1;
  else
    *content_col = after;

  return TRUE;
}

static void
start_item (ConfabMdSplitter *self,
            guint             content_col,
            gboolean          empty,
            const char       *content,
            const char       *eol)
{
  char ch;
  guint len;

  self->item_indent = content_col;
  self->in_item_fence = FALSE;
  self->in_table = FALSE;

  if (!empty && fence_opener (content, eol, &ch, &len))
    {
      self->in_item_fence = TRUE;
      self->item_fence_char = ch;
      self->item_fence_len = len;
    }

  self->prev_para = !empty && !self->in_item_fence && !atx_heading (content, eol) &&
                    !thematic_break (content, eol);
  self->para_lines = self->prev_para ? 1 : 0;
}

/* A line of a top-level block quote, from just after its ">": only
 * whether it leaves a paragraph open (which a following line without ">"
 * may continue lazily) matters here. */
static void
scan_quote_line (ConfabMdSplitter *self,
                 const char       *p,
                 const char       *eol,
                 gboolean          para_open)
{
  const char *first;
  guint indent;
  char ch;
  guint len;

  if (p < eol && (*p == ' ' || *p == '\t'))
    p++;
  indent = measure_indent (p, eol, 0, &first);

  if (self->in_quote_fence)
    {
      if (first < eol && indent <= 3 &&
          fence_closer (first, eol, self->quote_fence_char, self->quote_fence_len))
        self->in_quote_fence = FALSE;
      self->prev_para = FALSE;
    }
  else if (first == eol)
    self->prev_para = FALSE;
  else if (indent <= 3 && fence_opener (first, eol, &ch, &len))
    {
      self->in_quote_fence = TRUE;
      self->quote_fence_char = ch;
      self->quote_fence_len = len;
      self->prev_para = FALSE;
    }
  else if (indent <= 3 && (atx_heading (first, eol) || thematic_break (first, eol)))
    self->prev_para = FALSE;
  else if (indent >= 4 && !para_open)
    self->prev_para = FALSE; /* indented code */
  else
    self->prev_para = TRUE;
}

/* One complete line [line, eol) starting at offset @line_start; the next
 * one starts at @next_start. Mirrors md4c's line analysis for what matters
 * here: top-level fences, list items (one level deep), tables, paragraph
 * continuation. Where it cannot tell, it proposes fewer boundaries. */
static void
scan_line (ConfabMdSplitter *self,
           const char       *line,
           const char       *eol,
           gsize             line_start,
           gsize             next_start)
{
  const char *first;
  const char *content = NULL;
  guint indent;
  gboolean was_blank, was_quote;
  gboolean hr, marker, opener;
  gboolean empty = FALSE, ordered = FALSE;
  guint content_col = 0;
  guint64 number = 0;
  char ch = 0;
  guint len = 0;

  if (eol > line && eol[-1] == '\r')
    eol--;

  indent = measure_indent (line, eol, 0, &first);

  if (self->in_fence)
    {
      if (first < eol && indent <= 3 &&
          fence_closer (first, eol, self->fence_char, self->fence_len))
        {
          self->in_fence = FALSE;
          /* Whether the next block really starts after the fence shows
           * with the next non-blank line. */
          self->pending = next_start;
        }
      self->prev_blank = FALSE;
      self->prev_para = FALSE;
      self->para_lines = 0;
      return;
    }

  if (first == eol)
    {
      self->prev_blank = TRUE;
      self->prev_para = FALSE;
      self->prev_quote = FALSE;
      self->in_quote_fence = FALSE;
      self->in_table = FALSE;
      self->para_lines = 0;
      return;
    }

  if (self->pending != 0)
    {
      self->boundary = self->pending;
      self->pending = 0;
    }

  was_blank = self->prev_blank;
  was_quote = self->prev_quote;
  self->prev_blank = FALSE;
  self->prev_quote = FALSE;
  /* Only a quote line can go on with a fence inside the quote. */
  if (!(indent <= 3 && *first == '>'))
    self->in_quote_fence = FALSE;

  /* Inside the open list item: its content is never a top-level block. */
  if (self->item_indent > 0 && indent >= self->item_indent)
    {
      guint rel = indent - self->item_indent;

      if (self->in_item_fence)
        {
          if (rel <= 3 && fence_closer (first, eol, self->item_fence_char, self->item_fence_len))
            self->in_item_fence = FALSE;
          self->prev_para = FALSE;
        }
      else if (rel >= 4 && !self->prev_para)
        self->prev_para = FALSE;
      else if (rel <= 3 && fence_opener (first, eol, &ch, &len))
        {
          self->in_item_fence = TRUE;
          self->item_fence_char = ch;
          self->item_fence_len = len;
          self->prev_para = FALSE;
        }
      else
        self->prev_para = !atx_heading (first, eol) && !thematic_break (first, eol);
      return;
    }

  hr = indent <= 3 && thematic_break (first, eol);
  marker = indent <= 3 && !hr &&
           list_marker (first, eol, indent, &content_col, &empty, &ordered, &number, &content);
  opener = indent <= 3 && fence_opener (first, eol, &ch, &len);

  /* A top-level table takes every line up to a blank one, a rule or a new
   * container, fences and headings included. */
  if (self->in_table)
    {
      if (!hr && !marker && !(indent <= 3 && *first == '>'))
        return;
      self->in_table = FALSE;
    }

  if (self->item_indent > 0)
    {
      /* Too little indentation for the open item: a sibling item, a lazy
       * continuation of its paragraph, or the end of the list. */
      if (marker)
        {
          start_item (self, content_col, empty, content, eol);
          return;
        }

      if (self->prev_para && !was_blank && !self->in_item_fence && !hr && !opener &&
          !atx_heading (first, eol) && !(indent <= 3 && *first == '>'))
        return;

      self->item_indent = 0;
      self->in_item_fence = FALSE;
    }

  if (marker)
    {
      /* An empty item, or a numbered one not starting at 1, cannot
       * interrupt a paragraph: then it is more of the paragraph. (A
       * quote's paragraph does not count: the quote ends first.) */
      if (self->prev_para && !was_quote && (empty || (ordered && number != 1)))
        {
          self->para_lines++;
          return;
        }
      /* Never a boundary: the line may continue a list above. */
      start_item (self, content_col, empty, content, eol);
      return;
    }

  if (opener)
    {
      self->boundary = line_start;
      self->in_fence = TRUE;
      self->fence_char = ch;
      self->fence_len = len;
      self->prev_para = FALSE;
      self->para_lines = 0;
      return;
    }

  /* (Not under a quote's paragraph: that line would be lazy text.) */
  if (self->prev_para && !was_quote && indent <= 3 && setext_underline (first, eol))
    {
      self->prev_para = FALSE;
      self->para_lines = 0;
      return;
    }

  /* After a blank line, a line indented less than indented code starts a
   * new block: nothing above can take it (models often begin every line
   * with a space). */
  if (was_blank && indent <= 3)
    self->boundary = line_start;

  if (indent <= 3 && *first == '>')
    {
      /* A quote's paragraph may go on lazily, but no table starts there. */
      scan_quote_line (self, first + 1, eol, was_quote && self->prev_para);
      self->prev_quote = TRUE;
      self->para_lines = 0;
    }
  else if (hr || (indent <= 3 && atx_heading (first, eol)))
    {
      self->prev_para = FALSE;
      self->para_lines = 0;
    }
  else if (indent >= 4 && !self->prev_para)
    {
      /* Indented code. */
      self->para_lines = 0;
    }
  else if (self->prev_para && self->para_lines == 1 && table_underline (first, eol))
    {
      self->in_table = TRUE;
      self->prev_para = FALSE;
      self->para_lines = 0;
    }
  else if (self->prev_para && was_quote)
    {
      /* Lazy continuation of the quote's paragraph: still the quote's,
       * so no table header either. */
      self->prev_quote = TRUE;
    }
  else
    {
      self->para_lines = self->prev_para ? self->para_lines + 1 : 1;
      self->prev_para = TRUE;
    }
}

void
_confab_md_splitter_init (ConfabMdSplitter *self)
{
  memset (self, 0, sizeof *self);
}

gsize
_confab_md_splitter_feed (ConfabMdSplitter *self,
                          const char       *text,
                          gsize             len)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (text != NULL || len == 0, self->boundary);

  while (self->scan_pos < len)
    {
      const char *start = text + self->scan_pos;
      const char *nl = memchr (start, '\n', len - self->scan_pos);
      gsize next;

      if (nl == NULL)
        break;

      next = (gsize)(nl - text) + 1;
      scan_line (self, start, nl, self->scan_pos, next);
      self->scan_pos = next;
    }

  return self->boundary;
}

gboolean
_confab_md_splitter_in_fence (const ConfabMdSplitter *self)
{
  return self->in_fence;
}

gsize
_confab_md_last_block_start (const char *text,
                             gsize       len)
{
  ConfabMdSplitter splitter;

  _confab_md_splitter_init (&splitter);
  return _confab_md_splitter_feed (&splitter, text, len);
}

gboolean
_confab_md_fence_is_open (const char *text,
                          gsize       len)
{
  ConfabMdSplitter splitter;

  _confab_md_splitter_init (&splitter);
  _confab_md_splitter_feed (&splitter, text, len);
  return _confab_md_splitter_in_fence (&splitter);
}

/* Long paragraphs */

GArray *
_confab_md_split_markup (const char *markup,
                         gsize       len,
                         gsize       target)
{
  GArray *cuts = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize start = 0;
  int depth = 0;

  g_return_val_if_fail (markup != NULL || len == 0, cuts);
  g_return_val_if_fail (target > 0, cuts);

  for (gsize i = 0; i < len; i++)
    {
      char c = markup[i];
      gsize size = i - start;
      gboolean cut = FALSE;

      if (c == '<')
        {
          const char *end = memchr (markup + i, '>', len - i);

          if (end == NULL)
            break;
          if (i + 1 < len && markup[i + 1] == '/')
            depth = MAX (depth - 1, 0);
          else if (end[-1] != '/')
            depth++;
          i = (gsize)(end - markup);
          continue;
        }
      if (c == '&')
        {
          const char *end = memchr (markup + i, ';', len - i);

          if (end == NULL)
            break;
          i = (gsize)(end - markup);
          continue;
        }
      if (depth > 0 || size < target)
        continue;

      /* The separator at i is dropped, so pieces never start or end with
       * it: a newline is a line break either way; a space at a cut
       * becomes one. */
      if (c == '\n')
        cut = TRUE;
      else if (c == ' ' && size >= 8 * target)
        cut = TRUE;
      else if (c == ' ' && size >= 4 * target && i > 0 &&
               (markup[i - 1] == '.' || markup[i - 1] == '!' || markup[i - 1] == '?' ||
                markup[i - 1] == ':' || markup[i - 1] == ';'))
        cut = TRUE;

      if (cut && i + 1 < len)
        {
          gsize next = i + 1;

          g_array_append_val (cuts, next);
          start = next;
        }
    }

  return cuts;
}
