/* confab-markdown-parser-private.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The pure half of ConfabMarkdownView: no GTK here, so all of it is tested
 * without a display. Three pieces:
 *
 *  - a sanitizer that keeps the source valid UTF-8 while it is appended to
 *    in arbitrary byte chunks;
 *  - a line scanner that proposes where the last top-level block of a
 *    growing document starts, looking only at lines it has not seen yet;
 *  - an md4c front end turning Markdown into a small tree of blocks with
 *    their inline content as Pango markup, which the view turns into
 *    widgets and compares to decide what to rebuild.
 *
 * Everything here runs on the main thread of whoever owns the data; no
 * global state.
 */

typedef enum
{
  CONFAB_MD_PARAGRAPH,
  CONFAB_MD_HEADING,
  CONFAB_MD_QUOTE,
  CONFAB_MD_LIST,
  CONFAB_MD_ITEM,
  CONFAB_MD_RULE,
  CONFAB_MD_CODE,
  CONFAB_MD_TABLE,
  CONFAB_MD_ROW,
  CONFAB_MD_CELL,
} ConfabMdKind;

typedef enum
{
  CONFAB_MD_ALIGN_DEFAULT,
  CONFAB_MD_ALIGN_LEFT,
  CONFAB_MD_ALIGN_CENTER,
  CONFAB_MD_ALIGN_RIGHT,
} ConfabMdAlign;

typedef struct _ConfabMdNode ConfabMdNode;

struct _ConfabMdNode
{
  ConfabMdKind   kind;
  guint          level;    /* HEADING: 1-6; LIST: nesting depth, 0 at the top */
  guint          start;    /* LIST: number of the first item when ordered */
  gboolean       ordered;  /* LIST */
  gboolean       tight;    /* LIST */
  gboolean       header;   /* ROW, CELL: part of the table's header */
  ConfabMdAlign  align;    /* CELL */
  /* PARAGRAPH, HEADING, CELL: Pango markup. CODE: the code, without a
   * final newline. ITEM: the marker shown before it ("•", "3.", "☐"). */
  char          *text;
  char          *lang;     /* CODE: first word of the info string, or NULL */
  GPtrArray     *children; /* QUOTE, LIST, ITEM, TABLE, ROW; NULL otherwise */

  /* Owned and used by the view only (borrowed widget pointers): the widget
   * built for this node and the box its children's widgets go in. */
  gpointer       widget;
  gpointer       container;
};

/* Parses @len bytes of Markdown (CommonMark with GitHub tables,
 * strikethrough, task lists and autolinks; raw HTML is shown as text).
 * @text must be valid UTF-8. Returns the top-level blocks; free with
 * g_ptr_array_unref().
 */
GPtrArray *_confab_md_parse            (const char         *text,
                                        gsize               len);

/* Parses text[0, len) the way the view renders a growing tail: split at
 * @at into [0, at) and [at, len), if and only if that gives exactly the
 * blocks one parse of the whole gives. Returns TRUE and sets *@n_head to
 * the number of blocks from [0, at) when the split holds; otherwise
 * returns FALSE, *@n_head = 0 and the blocks of one whole parse. *@blocks
 * is always set, owned by the caller. A split is only judged when
 * [at, len) holds a complete non-blank line: the callers' boundaries
 * (_confab_md_splitter_feed()) ensure that.
 */
gboolean   _confab_md_parse_split      (const char         *text,
                                        gsize               len,
                                        gsize               at,
                                        GPtrArray         **blocks,
                                        guint              *n_head);

void       _confab_md_node_free        (ConfabMdNode       *node);
gboolean   _confab_md_node_equal       (const ConfabMdNode *a,
                                        const ConfabMdNode *b);
/* Appends a one-line description of @node and its children to @out, for
 * tests and debugging. */
void       _confab_md_node_describe    (const ConfabMdNode *node,
                                        GString            *out);
/* The same for an array of nodes; returns a new string. */
char      *_confab_md_describe_blocks  (GPtrArray          *blocks);

/* Where a long paragraph's Pango markup may be cut into pieces shown one
 * under another, so that a growing paragraph re-lays out only its last
 * piece. Scans @markup (@len bytes, NUL-free) and returns the byte offsets
 * where the pieces after the first start, in order; each piece ends one
 * byte before the next starts, on a separator that is dropped: a newline
 * (shown the same either way), or, in a line longer than 4 × @target, the
 * space after a sentence (any space after 8 × @target). A cut is made at
 * the first such place once a piece has @target bytes, never inside a tag
 * or an entity, so cuts stay where they are while the text grows. Returns
 * an empty array for short markup. Free with g_array_unref().
 */
GArray    *_confab_md_split_markup     (const char         *markup,
                                        gsize               len,
                                        gsize               target);

/* Keeps @text valid UTF-8 from byte @from on: invalid sequences and NUL
 * bytes become U+FFFD, in place. An incomplete sequence at the very end is
 * left alone (the next append may complete it). Returns the length of the
 * valid prefix, which the caller passes back as @from next time.
 */
gsize      _confab_md_sanitize         (GString            *text,
                                        gsize               from);

/* Finds block boundaries in a growing document. Feed it the whole text
 * each time (it only looks at complete lines it has not seen before);
 * it returns the latest offset at which the text can be cut so that the
 * part before it is complete, final top-level blocks: the start of a
 * line that follows a blank line and cannot continue what came before, the
 * start of a top-level fenced code block, or the line after its closing
 * fence (once a non-blank line follows). Never inside a fence that is
 * still open. A boundary is a cheap proposal; the view confirms it with
 * _confab_md_parse_split() before freezing anything.
 */
typedef struct
{
  gsize    scan_pos;        /* start of the first line not yet scanned */
  gsize    boundary;        /* latest boundary, 0 if none */
  gsize    pending;         /* boundary after a closing fence, waiting */
  guint    item_indent;     /* content column of the open top-level list item, 0 if none */
  guint    fence_len;
  guint    item_fence_len;
  guint    para_lines;      /* lines of the paragraph the last line belongs to */
  char     fence_char;
  char     item_fence_char;
  gboolean in_fence;        /* a top-level fenced code block is open */
  gboolean in_item_fence;   /* a fence inside the list item is open */
  gboolean in_table;        /* the last line was a top-level table row */
  gboolean prev_blank;
  gboolean prev_para;       /* the last line was paragraph text, which may go on lazily */
  gboolean prev_quote;      /* the last line was in a block quote */
  gboolean in_quote_fence;  /* a fence inside that quote is open */
  char     quote_fence_char;
  guint    quote_fence_len;
} ConfabMdSplitter;

void       _confab_md_splitter_init    (ConfabMdSplitter   *self);
gsize      _confab_md_splitter_feed    (ConfabMdSplitter   *self,
                                        const char         *text,
                                        gsize               len);
/* TRUE when the lines fed so far leave a top-level fenced block open. */
gboolean   _confab_md_splitter_in_fence (const ConfabMdSplitter *self);

/* Convenience for one-off questions and tests. */
gsize      _confab_md_last_block_start (const char         *text,
                                        gsize               len);
gboolean   _confab_md_fence_is_open    (const char         *text,
                                        gsize               len);

G_END_DECLS
