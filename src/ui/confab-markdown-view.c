/* confab-markdown-view.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <adwaita.h>
#include <gtksourceview/gtksource.h>

#include "confab-markdown-parser-private.h"
#include "confab-markdown-view.h"
#include "confab-text-block.h"

/* How a streamed reply stays cheap to show:
 *
 * The source text only grows. Everything before `tail_start` has been
 * rendered for good: those top-level blocks are final and their widgets
 * are never looked at again. The tail, from `tail_start` on, is the last
 * block or few, which may still be growing; it is kept as a tree of
 * ConfabMdNode next to its widgets.
 *
 * Appending only adds bytes and asks for one tick of the frame clock. The
 * tick (or a flush) lets the splitter read the new complete lines and
 * propose a later boundary; md4c parses the tail, split at that boundary
 * if a second parse of the whole tail agrees; the new tree is compared
 * with the old one block by block. Equal blocks keep their widgets, a
 * growing paragraph gets new markup in its label, a growing code block
 * gets only its new text inserted into its GtkSourceBuffer, anything else
 * is rebuilt. Blocks before the boundary are then frozen.
 *
 * So the work per frame is proportional to the last block plus what
 * arrived, never to the whole reply. Two things keep even that small:
 * a paragraph longer than PIECE_BYTES is a column of labels, one per
 * piece, so a growing paragraph re-lays out its last piece only (Pango
 * shapes a label's whole text again whenever it changes, several times
 * per measure); and a frame renders at most RENDER_BUDGET new bytes,
 * leaving the rest of a burst to the next frames.
 *
 * While text streams in (from the first append until
 * confab_markdown_view_finish()), paragraphs without links are
 * ConfabTextBlocks, which lay their text out once per change instead of
 * GtkLabel's three or four times: a frame's work drops from about 8 ms
 * to under 2 (docs/benchmarks.md). They look the same as labels and are
 * exactly as tall. Once the text is complete, a text block becomes a
 * selectable GtkLabel when the pointer moves over it or the keyboard
 * focus reaches it: one label at a time, when the user may want to
 * select, instead of a few milliseconds per paragraph for every reply.
 */
struct _ConfabMarkdownView
{
  GtkWidget         parent_instance;

  GtkWidget        *box;
  GString          *text;
  gsize             valid_len;    /* the prefix of text that is complete UTF-8 */
  gsize             rendered_len; /* how much of that is on screen */
  gsize             tail_start;   /* start of the blocks that may still change */
  gsize             rejected;     /* a boundary md4c disagreed with */
  ConfabMdSplitter  splitter;
  GPtrArray        *tail;         /* ConfabMdNode, the blocks from tail_start on */
  guint             tick_id;
  guint             settle_id;
  GtkWidget        *settle_block; /* weak: a text block to make a label */
  guint             n_renders;
  gboolean          live;         /* text is streaming in */
  gboolean          finishing;    /* finished, with text still to render */
};

G_DEFINE_FINAL_TYPE (ConfabMarkdownView, confab_markdown_view, GTK_TYPE_WIDGET)

#define BLOCK_SPACING 12
#define TIGHT_SPACING 4

/* Markup bytes from which a paragraph is cut into pieces (at a line break;
 * see _confab_md_split_markup()). */
#define PIECE_BYTES 500
/* New source bytes one frame renders while text streams in: 60 frames of
 * it is far more than any model writes per second. */
#define RENDER_BUDGET 4096
/* The narrowest a text label asks to be, in characters. Without it GTK
 * measures a wrapping label's minimum width by laying it out one
 * character per line, which costs more than everything else a frame
 * does. */
#define MIN_WIDTH_CHARS 20
/* How long after a reply ends the text block under the pointer becomes a
 * label. */
#define SETTLE_DELAY_MS 100

/* Helpers */

/* Fence info strings as models write them, mapped to GtkSourceView ids;
 * the first one the language manager knows wins. */
static const struct
{
  const char *alias;
  const char *ids[3];
} language_aliases[] = {
  { "js", { "js", "javascript", NULL } },
  { "javascript", { "js", "javascript", NULL } },
  { "node", { "js", "javascript", NULL } },
  { "mjs", { "js", "javascript", NULL } },
  { "ts", { "typescript", NULL } },
  { "tsx", { "typescript-jsx", "typescript", NULL } },
  { "py", { "python3", "python", NULL } },
  { "python", { "python3", "python", NULL } },
  { "python3", { "python3", "python", NULL } },
  { "sh", { "sh", NULL } },
  { "bash", { "sh", NULL } },
  { "shell", { "sh", NULL } },
  { "zsh", { "sh", NULL } },
  { "console", { "sh", NULL } },
  { "shell-session", { "sh", NULL } },
  { "c++", { "cpp", NULL } },
  { "cpp", { "cpp", NULL } },
  { "cxx", { "cpp", NULL } },
  { "cc", { "cpp", NULL } },
  { "hpp", { "cpphdr", "cpp", NULL } },
  { "h", { "chdr", "c", NULL } },
  { "rs", { "rust", NULL } },
  { "yml", { "yaml", NULL } },
  { "md", { "markdown", NULL } },
  { "html", { "html", NULL } },
  { "htm", { "html", NULL } },
  { "json", { "json", NULL } },
  { "jsonc", { "json", NULL } },
  { "golang", { "go", NULL } },
  { "rb", { "ruby", NULL } },
  { "kt", { "kotlin", NULL } },
  { "cs", { "c-sharp", NULL } },
  { "csharp", { "c-sharp", NULL } },
  { "c#", { "c-sharp", NULL } },
  { "fs", { "fsharp", NULL } },
  { "ps1", { "powershell", NULL } },
  { "pwsh", { "powershell", NULL } },
  { "dockerfile", { "docker", NULL } },
  { "make", { "makefile", NULL } },
  { "mk", { "makefile", NULL } },
  { "tex", { "latex", NULL } },
  { "diff", { "diff", NULL } },
  { "patch", { "diff", NULL } },
  { "objective-c", { "objc", NULL } },
  { "hs", { "haskell", NULL } },
  { "pl", { "perl", NULL } },
  { "toml", { "toml", NULL } },
  { "ini", { "ini", NULL } },
  { "xml", { "xml", NULL } },
  { "svg", { "xml", NULL } },
  { "sql", { "sql", NULL } },
  { "vue", { "html", NULL } },
};

/* The GtkSourceView language for a fence's info word: alias table, then
 * the id itself, then the word as a file extension. NULL for plain text. */
static GtkSourceLanguage *
lookup_language (const char *lang)
{
  GtkSourceLanguageManager *manager = gtk_source_language_manager_get_default ();
  GtkSourceLanguage *language = NULL;
  g_autofree char *word = NULL;
  g_autofree char *filename = NULL;

  if (lang == NULL || lang[0] == '\0')
    return NULL;

  /* "{.python}" and ".py" are seen in the wild too. */
  word = g_ascii_strdown (lang + strspn (lang, "{."), -1);
  word[strcspn (word, "{}, ")] = '\0';
  if (word[0] == '\0')
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (language_aliases); i++)
    if (strcmp (language_aliases[i].alias, word) == 0)
      for (guint j = 0; language_aliases[i].ids[j] != NULL; j++)
        if ((language = gtk_source_language_manager_get_language (manager, language_aliases[i].ids[j])))
          return language;

  if ((language = gtk_source_language_manager_get_language (manager, word)))
    return language;

  filename = g_strconcat ("file.", word, NULL);
  return gtk_source_language_manager_guess_language (manager, filename, NULL);
}

static void
update_style_scheme (GtkSourceBuffer *buffer)
{
  GtkSourceStyleSchemeManager *schemes = gtk_source_style_scheme_manager_get_default ();
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GtkSourceStyleScheme *scheme;

  scheme = gtk_source_style_scheme_manager_get_scheme (schemes, dark ? "Adwaita-dark" : "Adwaita");
  if (scheme != NULL && scheme != gtk_source_buffer_get_style_scheme (buffer))
    gtk_source_buffer_set_style_scheme (buffer, scheme);
}

/* Callbacks */

static void
dark_changed_cb (AdwStyleManager *style_manager,
                 GParamSpec      *pspec,
                 GtkSourceBuffer *buffer)
{
  update_style_scheme (buffer);
}

static void
copy_clicked_cb (GtkButton     *button,
                 GtkTextBuffer *buffer)
{
  GtkTextIter start, end;
  g_autofree char *code = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  code = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), code);
}

/* Model output is not trusted to open anything but web pages and mail.
 * Returning FALSE lets GtkLabel's default handler open the link. */
static gboolean
activate_link_cb (GtkLabel   *label,
                  const char *uri,
                  gpointer    user_data)
{
  g_autofree char *scheme = g_uri_parse_scheme (uri);

  if (scheme != NULL &&
      (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0 ||
       g_ascii_strcasecmp (scheme, "mailto") == 0))
    return FALSE;

  g_debug ("Not opening link %s from a reply", uri);
  return TRUE;
}

/* Building widgets */

static GtkWidget *
text_label_new (GtkAccessibleRole role)
{
  GtkWidget *label = g_object_new (GTK_TYPE_LABEL,
                                   "accessible-role", role,
                                   "use-markup", TRUE,
                                   "wrap", TRUE,
                                   "wrap-mode", PANGO_WRAP_WORD_CHAR,
                                   "selectable", TRUE,
                                   "xalign", 0.0f,
                                   "yalign", 0.0f,
                                   "valign", GTK_ALIGN_START,
                                   NULL);

  g_signal_connect (label, "activate-link", G_CALLBACK (activate_link_cb), NULL);
  return label;
}

/* A label for running text (not a table cell, which may be narrow). */
static GtkWidget *
prose_label_new (GtkAccessibleRole role,
                 const char       *markup)
{
  GtkWidget *label = text_label_new (role);

  /* Running text always sits in a column as tall as it: aligning it to
   * the top would only cost GTK another measure. */
  gtk_widget_set_valign (label, GTK_ALIGN_FILL);
  gtk_label_set_width_chars (GTK_LABEL (label), MIN_WIDTH_CHARS);
  gtk_label_set_markup (GTK_LABEL (label), markup != NULL ? markup : "");
  return label;
}

/* Links need a GtkLabel (which opens them) even while text streams. */
static gboolean
has_link (const char *markup)
{
  return markup != NULL && strstr (markup, "<a href=") != NULL;
}

static void selection_wanted_cb (ConfabTextBlock *block,
                                 gpointer         user_data);

/* Running text: a text block while it streams (@live), else a label. */
static GtkWidget *
prose_new (gboolean    live,
           const char *markup)
{
  GtkWidget *block;

  if (!live || has_link (markup))
    return prose_label_new (GTK_ACCESSIBLE_ROLE_LABEL, markup);

  block = confab_text_block_new (GTK_ACCESSIBLE_ROLE_LABEL);
  g_signal_connect (block, "selection-wanted", G_CALLBACK (selection_wanted_cb), NULL);
  gtk_widget_set_valign (block, GTK_ALIGN_FILL);
  confab_text_block_set_width_chars (CONFAB_TEXT_BLOCK (block), MIN_WIDTH_CHARS);
  confab_text_block_set_markup (CONFAB_TEXT_BLOCK (block), markup);
  return block;
}

/* Gives running text @markup; FALSE when @widget cannot show it (a text
 * block and a link) and has to be replaced. */
static gboolean
prose_set_markup (GtkWidget  *widget,
                  const char *markup)
{
  if (CONFAB_IS_TEXT_BLOCK (widget))
    {
      if (has_link (markup))
        return FALSE;
      confab_text_block_set_markup (CONFAB_TEXT_BLOCK (widget), markup);
    }
  else
    gtk_label_set_markup (GTK_LABEL (widget), markup);
  return TRUE;
}

/* Puts @replacement where @widget is in its box. */
static void
replace_in_box (GtkWidget *widget,
                GtkWidget *replacement)
{
  GtkBox *box = GTK_BOX (gtk_widget_get_parent (widget));

  gtk_box_insert_child_after (box, replacement, widget);
  gtk_box_remove (box, widget);
}

/* Makes the labels in @box show the pieces of @markup, touching only
 * those that differ from the pieces of @old_markup (NULL: none yet). */
static void
sync_pieces (GtkWidget  *box,
             const char *old_markup,
             const char *markup,
             gboolean    live)
{
  gsize old_len = old_markup != NULL ? strlen (old_markup) : 0;
  gsize len = strlen (markup);
  g_autoptr(GArray) old_cuts = _confab_md_split_markup (old_markup != NULL ? old_markup : "", old_len, PIECE_BYTES);
  g_autoptr(GArray) cuts = _confab_md_split_markup (markup, len, PIECE_BYTES);
  GtkWidget *child = gtk_widget_get_first_child (box);

  for (guint i = 0; i <= cuts->len; i++)
    {
      gsize start = i == 0 ? 0 : g_array_index (cuts, gsize, i - 1);
      gsize end = i < cuts->len ? g_array_index (cuts, gsize, i) - 1 : len;
      g_autofree char *piece = g_strndup (markup + start, end - start);

      if (child == NULL)
        {
          gtk_box_append (GTK_BOX (box), prose_new (live, piece));
          continue;
        }

      /* Unchanged pieces (all but the last, while the paragraph grows)
       * keep their layout. */
      if (old_markup == NULL || i > old_cuts->len ||
          (i == 0 ? 0 : g_array_index (old_cuts, gsize, i - 1)) != start ||
          (i < old_cuts->len ? g_array_index (old_cuts, gsize, i) - 1 : old_len) != end ||
          memcmp (old_markup + start, piece, end - start) != 0)
        {
          if (!prose_set_markup (child, piece))
            {
              GtkWidget *label = prose_new (FALSE, piece);

              replace_in_box (child, label);
              child = label;
            }
        }
      child = gtk_widget_get_next_sibling (child);
    }

  while (child != NULL)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);

      gtk_box_remove (GTK_BOX (box), child);
      child = next;
    }
}

static gboolean
needs_pieces (const char *markup)
{
  g_autoptr(GArray) cuts = NULL;

  if (markup == NULL || strlen (markup) <= PIECE_BYTES)
    return FALSE;
  cuts = _confab_md_split_markup (markup, strlen (markup), PIECE_BYTES);
  return cuts->len > 0;
}

/* A paragraph: one label, or once it is long, a column of labels, one per
 * piece. */
static GtkWidget *
paragraph_new (ConfabMdNode *node,
               gboolean      live)
{
  GtkWidget *box;

  if (!needs_pieces (node->text))
    return prose_new (live, node->text);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (box, "paragraph");
  sync_pieces (box, NULL, node->text, live);
  node->container = box;
  return box;
}

static void
set_code_language (GtkWidget         *code_block,
                   GtkSourceBuffer   *buffer,
                   const char        *lang)
{
  GtkSourceLanguage *language = lookup_language (lang);
  GtkWidget *header = gtk_widget_get_first_child (code_block);
  GtkLabel *title = GTK_LABEL (gtk_widget_get_first_child (header));

  gtk_source_buffer_set_language (buffer, language);
  gtk_source_buffer_set_highlight_syntax (buffer, language != NULL);

  if (language != NULL)
    gtk_label_set_text (title, gtk_source_language_get_name (language));
  else if (lang != NULL && lang[0] != '\0')
    gtk_label_set_text (title, lang);
  else
    gtk_label_set_text (title, _("Text"));
}

/* A header with the language and a copy button over a GtkSourceView that
 * scrolls sideways and is always as tall as its code. */
static GtkWidget *
code_block_new (ConfabMdNode *node)
{
  GtkWidget *block = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  GtkWidget *scroller = gtk_scrolled_window_new ();
  g_autoptr(GtkSourceBuffer) buffer = gtk_source_buffer_new (NULL);
  GtkWidget *view = gtk_source_view_new_with_buffer (buffer);

  gtk_widget_add_css_class (block, "code-block");
  gtk_widget_set_overflow (block, GTK_OVERFLOW_HIDDEN);

  gtk_widget_add_css_class (header, "code-header");
  gtk_label_set_xalign (GTK_LABEL (title), 0.0f);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_widget_add_css_class (title, "dim-label");
  gtk_box_append (GTK_BOX (header), title);

  gtk_widget_add_css_class (copy, "flat");
  gtk_widget_set_tooltip_text (copy, _("Copy code"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (copy),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy code"),
                                  -1);
  g_signal_connect_object (copy, "clicked", G_CALLBACK (copy_clicked_cb), buffer, 0);
  gtk_box_append (GTK_BOX (header), copy);
  gtk_box_append (GTK_BOX (block), header);

  gtk_text_buffer_set_enable_undo (GTK_TEXT_BUFFER (buffer), FALSE);
  gtk_source_buffer_set_highlight_matching_brackets (buffer, FALSE);
  gtk_text_buffer_set_text (GTK_TEXT_BUFFER (buffer), node->text != NULL ? node->text : "", -1);
  update_style_scheme (buffer);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (dark_changed_cb), buffer, 0);

  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_NONE);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 10);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 10);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller),
                                  GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), view);
  gtk_box_append (GTK_BOX (block), scroller);

  set_code_language (block, buffer, node->lang);
  node->container = view;

  return block;
}

static GtkWidget *
table_cell_new (ConfabMdNode *cell)
{
  GtkWidget *label = text_label_new (cell->header ? GTK_ACCESSIBLE_ROLE_COLUMN_HEADER
                                                  : GTK_ACCESSIBLE_ROLE_CELL);

  gtk_label_set_markup (GTK_LABEL (label), cell->text != NULL ? cell->text : "");
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  if (cell->align == CONFAB_MD_ALIGN_CENTER)
    gtk_label_set_xalign (GTK_LABEL (label), 0.5f);
  else if (cell->align == CONFAB_MD_ALIGN_RIGHT)
    gtk_label_set_xalign (GTK_LABEL (label), 1.0f);
  cell->widget = label;

  return label;
}

static void
attach_row (GtkGrid      *grid,
            ConfabMdNode *row,
            guint         index)
{
  for (guint col = 0; row->children != NULL && col < row->children->len; col++)
    gtk_grid_attach (grid, table_cell_new (g_ptr_array_index (row->children, col)),
                     (int)col, (int)index, 1, 1);
}

static void
detach_cells (GtkGrid   *grid,
              GPtrArray *cells,
              guint      from)
{
  for (guint col = from; cells != NULL && col < cells->len; col++)
    gtk_grid_remove (grid, ((ConfabMdNode *)g_ptr_array_index (cells, col))->widget);
  if (cells != NULL && from < cells->len)
    g_ptr_array_remove_range (cells, from, cells->len - from);
}

static GtkWidget *
table_new (ConfabMdNode *node)
{
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *grid = gtk_grid_new ();

  gtk_widget_add_css_class (grid, "markdown-table");
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 18);

  for (guint row = 0; row < node->children->len; row++)
    attach_row (GTK_GRID (grid), g_ptr_array_index (node->children, row), row);

  /* Wide tables scroll sideways instead of widening the chat. */
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller),
                                  GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), grid);
  node->container = grid;

  return scroller;
}

/* A table grows a row at a time: keep the cells that did not change. */
static void
update_table (ConfabMdNode *old,
              ConfabMdNode *fresh)
{
  GtkGrid *grid = old->container;
  guint row;

  for (row = 0; row < fresh->children->len; row++)
    {
      ConfabMdNode *fresh_row = g_ptr_array_index (fresh->children, row);
      ConfabMdNode *old_row = row < old->children->len ? g_ptr_array_index (old->children, row) : NULL;

      if (old_row == NULL)
        {
          attach_row (grid, fresh_row, row);
          g_ptr_array_add (old->children, fresh_row);
          fresh->children->pdata[row] = NULL;
          continue;
        }

      if (_confab_md_node_equal (old_row, fresh_row))
        continue;

      for (guint col = 0; fresh_row->children != NULL && col < fresh_row->children->len; col++)
        {
          ConfabMdNode *fresh_cell = g_ptr_array_index (fresh_row->children, col);
          ConfabMdNode *old_cell = col < old_row->children->len
                                   ? g_ptr_array_index (old_row->children, col) : NULL;

          if (old_cell != NULL && _confab_md_node_equal (old_cell, fresh_cell))
            continue;

          if (old_cell != NULL)
            gtk_grid_remove (grid, old_cell->widget);
          gtk_grid_attach (grid, table_cell_new (fresh_cell), (int)col, (int)row, 1, 1);

          /* Swap, so that the replaced cell is freed with the leftovers. */
          if (old_cell != NULL)
            old_row->children->pdata[col] = fresh_cell;
          else
            g_ptr_array_add (old_row->children, fresh_cell);
          fresh_row->children->pdata[col] = old_cell;
        }

      detach_cells (grid, old_row->children, fresh_row->children->len);
      old_row->header = fresh_row->header;
    }

  for (guint extra = row; extra < old->children->len; extra++)
    detach_cells (grid, ((ConfabMdNode *)g_ptr_array_index (old->children, extra))->children, 0);
  if (row < old->children->len)
    g_ptr_array_remove_range (old->children, row, old->children->len - row);
}

static void build_children (ConfabMdNode *node,
                            gboolean      live);

/* Builds the widget for @node and its children, and records them in the
 * nodes. */
static GtkWidget *
build_node (ConfabMdNode *node,
            gboolean      live)
{
  GtkWidget *widget = NULL;

  switch (node->kind)
    {
    case CONFAB_MD_PARAGRAPH:
      widget = paragraph_new (node, live);
      break;

    case CONFAB_MD_HEADING:
      {
        static const char *const classes[] = { "title-1", "title-2", "title-3", "title-4", "heading", "heading" };

        widget = prose_label_new (GTK_ACCESSIBLE_ROLE_HEADING, node->text);
        gtk_widget_add_css_class (widget, classes[CLAMP (node->level, 1, 6) - 1]);
        gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                        GTK_ACCESSIBLE_PROPERTY_LEVEL, (int)node->level,
                                        -1);
      }
      break;

    case CONFAB_MD_QUOTE:
      widget = gtk_box_new (GTK_ORIENTATION_VERTICAL, BLOCK_SPACING);
      gtk_widget_add_css_class (widget, "quote");
      gtk_widget_set_margin_start (widget, 6);
      node->container = widget;
      break;

    case CONFAB_MD_LIST:
      widget = gtk_box_new (GTK_ORIENTATION_VERTICAL, node->tight ? TIGHT_SPACING : BLOCK_SPACING);
      gtk_widget_add_css_class (widget, "markdown-list");
      node->container = widget;
      break;

    case CONFAB_MD_ITEM:
      {
        GtkWidget *marker = gtk_label_new (node->text);
        GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, TIGHT_SPACING);

        widget = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
        gtk_widget_add_css_class (widget, "list-item");

        /* Right-aligned in three characters' width, so "9." and "10." line up. */
        gtk_label_set_width_chars (GTK_LABEL (marker), 3);
        gtk_label_set_xalign (GTK_LABEL (marker), 1.0f);
        gtk_widget_set_valign (marker, GTK_ALIGN_START);
        gtk_widget_add_css_class (marker, "list-marker");
        gtk_widget_add_css_class (marker, "numeric");
        gtk_box_append (GTK_BOX (widget), marker);

        gtk_widget_set_hexpand (content, TRUE);
        gtk_box_append (GTK_BOX (widget), content);
        node->container = content;
      }
      break;

    case CONFAB_MD_RULE:
      widget = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
      gtk_widget_set_margin_top (widget, 6);
      gtk_widget_set_margin_bottom (widget, 6);
      break;

    case CONFAB_MD_CODE:
      widget = code_block_new (node);
      break;

    case CONFAB_MD_TABLE:
      widget = table_new (node);
      break;

    case CONFAB_MD_ROW:
    case CONFAB_MD_CELL:
    default:
      g_assert_not_reached ();
    }

  node->widget = widget;
  if (node->kind == CONFAB_MD_QUOTE || node->kind == CONFAB_MD_LIST || node->kind == CONFAB_MD_ITEM)
    build_children (node, live);

  return widget;
}

static void
build_children (ConfabMdNode *node,
                gboolean      live)
{
  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    gtk_box_append (GTK_BOX (node->container), build_node (g_ptr_array_index (node->children, i), live));
}

/* Updating */

static guint sync_blocks (GtkBox    *container,
                          GPtrArray *old_blocks,
                          GPtrArray *new_blocks,
                          gboolean   live);

static void
take_text (ConfabMdNode *old,
           ConfabMdNode *fresh)
{
  g_free (old->text);
  old->text = g_steal_pointer (&fresh->text);
}

/* Brings @old and its widgets in line with @fresh without rebuilding
 * them, where that is cheap; FALSE if it has to be rebuilt. */
static gboolean
update_node (ConfabMdNode *old,
             ConfabMdNode *fresh,
             gboolean      live)
{
  if (old->kind != fresh->kind)
    return FALSE;

  switch (old->kind)
    {
    case CONFAB_MD_PARAGRAPH:
      /* A paragraph that grows past one piece is rebuilt once as a column
       * of pieces; from then on only the pieces that change are set. */
      if ((old->container != NULL) != needs_pieces (fresh->text))
        return FALSE;
      if (old->container != NULL)
        sync_pieces (old->container, old->text, fresh->text != NULL ? fresh->text : "", live);
      else if (!prose_set_markup (old->widget, fresh->text != NULL ? fresh->text : ""))
        return FALSE;
      take_text (old, fresh);
      return TRUE;

    case CONFAB_MD_HEADING:
      if (old->level != fresh->level)
        return FALSE;
      gtk_label_set_markup (GTK_LABEL (old->widget), fresh->text != NULL ? fresh->text : "");
      take_text (old, fresh);
      return TRUE;

    case CONFAB_MD_CODE:
      {
        GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (old->container));
        const char *text = fresh->text != NULL ? fresh->text : "";
        gsize old_len = old->text != NULL ? strlen (old->text) : 0;

        if (g_strcmp0 (old->lang, fresh->lang) != 0)
          {
            set_code_language (old->widget, GTK_SOURCE_BUFFER (buffer), fresh->lang);
            g_free (old->lang);
            old->lang = g_steal_pointer (&fresh->lang);
          }

        /* The usual case while a fence streams: only new code at the end,
         * inserted without touching what is highlighted already. */
        if (old_len > 0 && strncmp (text, old->text, old_len) == 0)
          {
            GtkTextIter end;

            gtk_text_buffer_get_end_iter (buffer, &end);
            gtk_text_buffer_insert (buffer, &end, text + old_len, -1);
          }
        else
          gtk_text_buffer_set_text (buffer, text, -1);

        take_text (old, fresh);
      }
      return TRUE;

    case CONFAB_MD_QUOTE:
      sync_blocks (GTK_BOX (old->container), old->children, fresh->children, live);
      return TRUE;

    case CONFAB_MD_LIST:
      if (old->ordered != fresh->ordered || old->start != fresh->start ||
          old->level != fresh->level)
        return FALSE;
      if (old->tight != fresh->tight)
        {
          gtk_box_set_spacing (GTK_BOX (old->widget), fresh->tight ? TIGHT_SPACING : BLOCK_SPACING);
          old->tight = fresh->tight;
        }
      sync_blocks (GTK_BOX (old->container), old->children, fresh->children, live);
      return TRUE;

    case CONFAB_MD_ITEM:
      if (g_strcmp0 (old->text, fresh->text) != 0)
        {
          gtk_label_set_text (GTK_LABEL (gtk_widget_get_first_child (old->widget)), fresh->text);
          take_text (old, fresh);
        }
      sync_blocks (GTK_BOX (old->container), old->children, fresh->children, live);
      return TRUE;

    case CONFAB_MD_TABLE:
      update_table (old, fresh);
      return TRUE;

    case CONFAB_MD_RULE:
    case CONFAB_MD_ROW:
    case CONFAB_MD_CELL:
    default:
      return FALSE;
    }
}

/* Makes @old_blocks, whose widgets are the last children of @container,
 * show @new_blocks: equal blocks are kept, others updated or replaced.
 * Afterwards @old_blocks holds the current nodes and @new_blocks the
 * leftovers to free. Returns how many blocks were built or changed. */
static guint
sync_blocks (GtkBox    *container,
             GPtrArray *old_blocks,
             GPtrArray *new_blocks,
             gboolean   live)
{
  guint changed = 0;
  guint i;

  for (i = 0; i < new_blocks->len; i++)
    {
      ConfabMdNode *fresh = g_ptr_array_index (new_blocks, i);
      ConfabMdNode *old = i < old_blocks->len ? g_ptr_array_index (old_blocks, i) : NULL;

      if (old != NULL && _confab_md_node_equal (old, fresh))
        continue;

      changed++;

      if (old != NULL && update_node (old, fresh, live))
        continue;

      build_node (fresh, live);
      if (old != NULL)
        {
          gtk_box_insert_child_after (container, fresh->widget, old->widget);
          gtk_box_remove (container, old->widget);
          /* Swap, so that the replaced node is freed with the leftovers. */
          old_blocks->pdata[i] = fresh;
          new_blocks->pdata[i] = old;
        }
      else
        {
          gtk_box_append (container, fresh->widget);
          g_ptr_array_add (old_blocks, fresh);
          new_blocks->pdata[i] = NULL;
        }
    }

  for (guint j = i; j < old_blocks->len; j++)
    gtk_box_remove (container, ((ConfabMdNode *)g_ptr_array_index (old_blocks, j))->widget);
  if (i < old_blocks->len)
    g_ptr_array_remove_range (old_blocks, i, old_blocks->len - i);

  return changed;
}

static void
remove_tick (ConfabMarkdownView *self)
{
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

/* Settling: once the text is complete, text blocks become labels */

/* Nodes of the tail that point at @old point at @widget instead. */
static void
retarget_nodes (GPtrArray *nodes,
                GtkWidget *old,
                GtkWidget *widget)
{
  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    {
      ConfabMdNode *node = g_ptr_array_index (nodes, i);

      if (node->widget == old)
        node->widget = widget;
      retarget_nodes (node->children, old, widget);
    }
}

/* Puts the selectable label @block stands for in its place. */
static GtkWidget *
settle_block (ConfabMarkdownView *self,
              GtkWidget          *block)
{
  GtkWidget *label = prose_label_new (GTK_ACCESSIBLE_ROLE_LABEL,
                                      confab_text_block_get_markup (CONFAB_TEXT_BLOCK (block)));
  GtkBox *box = GTK_BOX (gtk_widget_get_parent (block));

  retarget_nodes (self->tail, block, label);
  gtk_box_insert_child_after (box, label, block);
  /* The focus moves before the block goes, so it never falls out of the
   * reply. */
  if (gtk_widget_has_focus (block))
    gtk_widget_grab_focus (label);
  gtk_box_remove (box, block);
  return label;
}

static void
forget_settle (ConfabMarkdownView *self)
{
  g_clear_handle_id (&self->settle_id, g_source_remove);
  g_clear_weak_pointer (&self->settle_block);
}

static gboolean
settle_idle_cb (gpointer user_data)
{
  ConfabMarkdownView *self = user_data;
  GtkWidget *block = self->settle_block;

  self->settle_id = 0;
  g_clear_weak_pointer (&self->settle_block);
  if (block != NULL && !self->live && gtk_widget_is_ancestor (block, GTK_WIDGET (self)))
    settle_block (self, block);

  return G_SOURCE_REMOVE;
}

/* Not in the handler: the block is in the middle of a pointer or focus
 * event, and GTK still uses it afterwards. */
static void
selection_wanted_cb (ConfabTextBlock *block,
                     gpointer         user_data)
{
  GtkWidget *view = gtk_widget_get_ancestor (GTK_WIDGET (block), CONFAB_TYPE_MARKDOWN_VIEW);
  ConfabMarkdownView *self;

  /* While the text streams in, a label would cost every frame again. */
  if (view == NULL || CONFAB_MARKDOWN_VIEW (view)->live)
    return;

  self = CONFAB_MARKDOWN_VIEW (view);
  g_set_weak_pointer (&self->settle_block, GTK_WIDGET (block));
  if (self->settle_id == 0)
    self->settle_id = g_idle_add (settle_idle_cb, self);
}

static gboolean tick_cb (GtkWidget     *widget,
                         GdkFrameClock *frame_clock,
                         gpointer       user_data);
static void     complete_finish (ConfabMarkdownView *self);

/* Renders the source up to @end (at most valid_len, at a character
 * boundary). */
static void
render_to (ConfabMarkdownView *self,
           gsize               end)
{
  g_autoptr(GPtrArray) blocks = NULL;
  const char *tail;
  gsize boundary;
  guint n_final = 0;

  remove_tick (self);

  if (self->rendered_len >= end)
    return;

  boundary = _confab_md_splitter_feed (&self->splitter, self->text->str, end);
  tail = self->text->str + self->tail_start;

  if (boundary > self->tail_start && boundary != self->rejected)
    {
      /* Freeze the blocks before the boundary only if md4c agrees that
       * they end there. */
      if (_confab_md_parse_split (tail, end - self->tail_start,
                                  boundary - self->tail_start, &blocks, &n_final))
        self->tail_start = boundary;
      else
        {
          g_debug ("Markdown block boundary at %" G_GSIZE_FORMAT " rejected", boundary);
          self->rejected = boundary;
        }
    }
  else
    blocks = _confab_md_parse (tail, end - self->tail_start);

  self->n_renders += sync_blocks (GTK_BOX (self->box), self->tail, blocks, self->live);

  /* Final blocks leave the tail; their widgets stay as they are. */
  if (n_final > 0)
    g_ptr_array_remove_range (self->tail, 0, MIN (n_final, self->tail->len));

  self->rendered_len = end;
}

static void
render_pending (ConfabMarkdownView *self)
{
  render_to (self, self->valid_len);
}

/* How far one frame renders: everything, unless a burst arrived; then
 * RENDER_BUDGET bytes, cut after a line when there is one. */
static gsize
frame_end (ConfabMarkdownView *self)
{
  const char *str = self->text->str;
  gsize end;

  if (self->valid_len - self->rendered_len <= RENDER_BUDGET)
    return self->valid_len;

  end = self->rendered_len + RENDER_BUDGET;
  for (gsize i = end; i > self->rendered_len; i--)
    if (str[i - 1] == '\n')
      return i;
  while (end > self->rendered_len && (str[end] & 0xC0) == 0x80)
    end--;
  return end;
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *frame_clock,
         gpointer       user_data)
{
  ConfabMarkdownView *self = CONFAB_MARKDOWN_VIEW (widget);

  self->tick_id = 0;
  render_to (self, frame_end (self));

  /* The rest of a burst in the next frames. */
  if (self->rendered_len < self->valid_len)
    self->tick_id = gtk_widget_add_tick_callback (widget, tick_cb, NULL, NULL);
  else if (self->finishing)
    complete_finish (self);

  return G_SOURCE_REMOVE;
}

/* What is not rendered yet goes in the next frames, RENDER_BUDGET bytes
 * each. A hidden view has no frame clock to wait for: it goes on when it
 * is mapped. */
static void
schedule_render (ConfabMarkdownView *self)
{
  if (self->tick_id == 0 && self->rendered_len < self->valid_len &&
      gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
}

static void
clear (ConfabMarkdownView *self)
{
  GtkWidget *child;

  remove_tick (self);
  forget_settle (self);
  self->live = FALSE;
  self->finishing = FALSE;
  g_ptr_array_set_size (self->tail, 0);

  while ((child = gtk_widget_get_first_child (self->box)) != NULL)
    gtk_box_remove (GTK_BOX (self->box), child);

  g_string_truncate (self->text, 0);
  self->valid_len = 0;
  self->rendered_len = 0;
  self->tail_start = 0;
  self->rejected = 0;
  _confab_md_splitter_init (&self->splitter);
}

/* GObject and GtkWidget */

static void
confab_markdown_view_map (GtkWidget *widget)
{
  ConfabMarkdownView *self = CONFAB_MARKDOWN_VIEW (widget);

  GTK_WIDGET_CLASS (confab_markdown_view_parent_class)->map (widget);

  /* Text appended while hidden shows up now, a frame's budget at a time:
   * a reply that streamed on while scrolled out of view may be long. */
  schedule_render (self);
}

static void
confab_markdown_view_unmap (GtkWidget *widget)
{
  ConfabMarkdownView *self = CONFAB_MARKDOWN_VIEW (widget);

  remove_tick (self);

  GTK_WIDGET_CLASS (confab_markdown_view_parent_class)->unmap (widget);
}

static void
confab_markdown_view_dispose (GObject *object)
{
  ConfabMarkdownView *self = CONFAB_MARKDOWN_VIEW (object);

  remove_tick (self);
  forget_settle (self);
  if (self->tail != NULL)
    g_ptr_array_set_size (self->tail, 0);
  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (confab_markdown_view_parent_class)->dispose (object);
}

static void
confab_markdown_view_finalize (GObject *object)
{
  ConfabMarkdownView *self = CONFAB_MARKDOWN_VIEW (object);

  g_clear_pointer (&self->tail, g_ptr_array_unref);
  g_string_free (self->text, TRUE);

  G_OBJECT_CLASS (confab_markdown_view_parent_class)->finalize (object);
}

static void
confab_markdown_view_class_init (ConfabMarkdownViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = confab_markdown_view_dispose;
  object_class->finalize = confab_markdown_view_finalize;

  widget_class->map = confab_markdown_view_map;
  widget_class->unmap = confab_markdown_view_unmap;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "markdownview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  /* Idempotent; makes the view usable whether or not the application
   * initialised GtkSourceView itself. */
  gtk_source_init ();
}

static void
confab_markdown_view_init (ConfabMarkdownView *self)
{
  self->text = g_string_new (NULL);
  self->tail = g_ptr_array_new_with_free_func ((GDestroyNotify)_confab_md_node_free);
  _confab_md_splitter_init (&self->splitter);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, BLOCK_SPACING);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

/* Public API */

GtkWidget *
confab_markdown_view_new (void)
{
  return g_object_new (CONFAB_TYPE_MARKDOWN_VIEW, NULL);
}

void
confab_markdown_view_set_text (ConfabMarkdownView *self,
                               const char         *markdown)
{
  g_return_if_fail (CONFAB_IS_MARKDOWN_VIEW (self));

  clear (self);
  if (markdown != NULL)
    g_string_append (self->text, markdown);
  self->valid_len = _confab_md_sanitize (self->text, 0);
  render_pending (self);
}

void
confab_markdown_view_load_text (ConfabMarkdownView *self,
                                const char         *markdown,
                                gboolean            complete)
{
  g_return_if_fail (CONFAB_IS_MARKDOWN_VIEW (self));

  clear (self);
  if (markdown != NULL)
    g_string_append (self->text, markdown);
  self->valid_len = _confab_md_sanitize (self->text, 0);

  /* As if it had streamed in: text blocks, one frame's budget now (so the
   * first frame shows the text's beginning), the rest in the next ones. */
  self->live = TRUE;
  render_to (self, frame_end (self));
  if (complete)
    {
      if (self->rendered_len == self->valid_len)
        complete_finish (self);
      else
        self->finishing = TRUE;
    }
  schedule_render (self);
}

void
confab_markdown_view_append (ConfabMarkdownView *self,
                             const char         *text,
                             gssize              len)
{
  g_return_if_fail (CONFAB_IS_MARKDOWN_VIEW (self));
  g_return_if_fail (text != NULL || len == 0);

  if (len < 0)
    len = (gssize)strlen (text);
  if (len == 0)
    return;

  g_string_append_len (self->text, text, len);
  self->valid_len = _confab_md_sanitize (self->text, self->valid_len);
  self->live = TRUE;

  /* One render per frame, whatever the token rate. */
  schedule_render (self);
}

const char *
confab_markdown_view_get_text (ConfabMarkdownView *self)
{
  g_return_val_if_fail (CONFAB_IS_MARKDOWN_VIEW (self), NULL);

  return self->text->str;
}

void
confab_markdown_view_flush (ConfabMarkdownView *self)
{
  g_return_if_fail (CONFAB_IS_MARKDOWN_VIEW (self));

  render_pending (self);
  if (self->finishing)
    complete_finish (self);
}

/* The text block under the pointer, if the pointer is over this view. */
static GtkWidget *
text_block_under_pointer (ConfabMarkdownView *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GdkSurface *surface = native != NULL ? gtk_native_get_surface (native) : NULL;
  GdkSeat *seat = gdk_display_get_default_seat (gtk_widget_get_display (GTK_WIDGET (self)));
  GdkDevice *pointer = seat != NULL ? gdk_seat_get_pointer (seat) : NULL;
  GtkWidget *picked;
  double x, y, dx, dy;

  if (surface == NULL || pointer == NULL ||
      !gdk_surface_get_device_position (surface, pointer, &x, &y, NULL))
    return NULL;

  gtk_native_get_surface_transform (native, &dx, &dy);
  picked = gtk_widget_pick (GTK_WIDGET (native), x - dx, y - dy, GTK_PICK_DEFAULT);
  if (CONFAB_IS_TEXT_BLOCK (picked) && gtk_widget_is_ancestor (picked, GTK_WIDGET (self)))
    return picked;
  return NULL;
}

/* The text is complete and on screen: new blocks are labels, and the
 * text the keyboard or the pointer is on already may be selected now,
 * without waiting for the pointer to move. The one under the pointer a
 * little later: the frame that ends a reply has enough to do. */
static void
complete_finish (ConfabMarkdownView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  GtkWidget *hovered;

  self->finishing = FALSE;
  self->live = FALSE;

  if (CONFAB_IS_TEXT_BLOCK (focus) && gtk_widget_is_ancestor (focus, GTK_WIDGET (self)))
    settle_block (self, focus);
  if ((hovered = text_block_under_pointer (self)) != NULL)
    {
      g_set_weak_pointer (&self->settle_block, hovered);
      g_clear_handle_id (&self->settle_id, g_source_remove);
      self->settle_id = g_timeout_add (SETTLE_DELAY_MS, settle_idle_cb, self);
    }
}

void
confab_markdown_view_finish (ConfabMarkdownView *self)
{
  g_return_if_fail (CONFAB_IS_MARKDOWN_VIEW (self));

  /* What little is left is rendered now. A long rest (the reply went on
   * streaming while scrolled out of view, say) keeps going a frame's
   * budget at a time, as it streamed: rendering it at once would hold
   * the window for as long as it takes. */
  if (self->valid_len - self->rendered_len <= RENDER_BUDGET)
    {
      render_pending (self);
      complete_finish (self);
      return;
    }

  self->finishing = TRUE;
  schedule_render (self);
}

guint
confab_markdown_view_get_n_renders (ConfabMarkdownView *self)
{
  g_return_val_if_fail (CONFAB_IS_MARKDOWN_VIEW (self), 0);

  return self->n_renders;
}
