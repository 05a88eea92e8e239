/* test-markdown-view.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Markdown view. Without a display: where blocks end in a growing
 * document, and md4c's tree, checked against one whole parse at every
 * boundary. With one (Xvfb): the widgets built for every construct, a
 * reply streamed in 5,000 pieces ending up exactly as the same text set
 * at once while earlier blocks are never rebuilt, one render per frame,
 * the copy button and the dark style.
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <gtksourceview/gtksource.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

#include "confab-markdown-parser-private.h"
#include "confab-markdown-view.h"
#include "confab-text-block.h"

#define MARK "\xC2\xA6" /* "¦" marks an expected boundary in the cases below */

static gboolean
timeout_cb (gpointer data)
{
  g_error ("Timed out waiting for %s", (const char *)data);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @check holds, failing after 20 s. */
#define WAIT_FOR(check)                                                      \
  G_STMT_START {                                                             \
    guint _guard = g_timeout_add_seconds (20, timeout_cb, (gpointer)#check); \
    while (!(check))                                                         \
      g_main_context_iteration (NULL, TRUE);                                 \
    g_source_remove (_guard);                                                \
  } G_STMT_END

/* Boundaries, without a display */

/* Strips the marks from @marked; returns the text and the offsets where
 * the marks were. */
static char *
unmark (const char  *marked,
        GArray     **offsets)
{
  GString *text = g_string_new (NULL);
  const char *p = marked;
  const char *mark;

  *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  while ((mark = strstr (p, MARK)) != NULL)
    {
      g_string_append_len (text, p, mark - p);
      g_array_append_val (*offsets, text->len);
      p = mark + strlen (MARK);
    }
  g_string_append (text, p);

  return g_string_free (text, FALSE);
}

/* Feeds @text a line at a time, as a stream would, and records each new
 * boundary and how much text there was when it was found. */
static GArray *
boundaries_of (const char *text,
               GArray    **seen_at)
{
  GArray *found = g_array_new (FALSE, FALSE, sizeof (gsize));
  ConfabMdSplitter splitter;
  gsize len = strlen (text);
  gsize last = 0;

  if (seen_at != NULL)
    *seen_at = g_array_new (FALSE, FALSE, sizeof (gsize));

  _confab_md_splitter_init (&splitter);
  for (gsize end = 0; end < len;)
    {
      const char *nl = strchr (text + end, '\n');
      gsize boundary;

      end = nl != NULL ? (gsize)(nl - text) + 1 : len;
      boundary = _confab_md_splitter_feed (&splitter, text, end);
      g_assert_cmpuint (boundary, >=, last);
      if (boundary > last)
        {
          g_array_append_val (found, boundary);
          if (seen_at != NULL)
            g_array_append_val (*seen_at, end);
          last = boundary;
        }
    }

  return found;
}

static char *
describe_offsets (GArray *offsets)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < offsets->len; i++)
    g_string_append_printf (out, "%s%" G_GSIZE_FORMAT, i > 0 ? "," : "",
                            g_array_index (offsets, gsize, i));

  return g_string_free (out, FALSE);
}

/* Each boundary the splitter proposed must be one md4c agrees with, both
 * when it was proposed and once the whole text is there. */
static gboolean
boundaries_hold (const char *text,
                 gboolean    verbose)
{
  g_autoptr(GArray) seen_at = NULL;
  g_autoptr(GArray) found = boundaries_of (text, &seen_at);
  gboolean ok = TRUE;

  for (guint i = 0; i < found->len; i++)
    {
      gsize at = g_array_index (found, gsize, i);
      gsize when = g_array_index (seen_at, gsize, i);
      gsize lens[2] = { when, strlen (text) };

      for (guint j = 0; j < G_N_ELEMENTS (lens); j++)
        {
          g_autoptr(GPtrArray) blocks = NULL;
          guint n_head;

          if (!_confab_md_parse_split (text, lens[j], at, &blocks, &n_head))
            {
              if (verbose)
                g_test_message ("Boundary %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                                " bytes does not hold in:\n%s\n---- after it:\n%s",
                                at, lens[j], text, text + at);
              ok = FALSE;
            }
        }
    }

  return ok;
}

static const char *const boundary_cases[] = {
  "Hello\n\n" MARK "World\n",
  "a\nb\n\n" MARK "c\n\n\n" MARK "d\n",
  "```py\nx\n\ny\n```\n" MARK "Next\n",
  "Intro:\n" MARK "```\ncode\n\nmore\n```\n\n" MARK "After\n",
  "~~~\na\n\n```\n\nb\n~~~\n\n" MARK "c\n",
  "````\n```\n\nx\n````\n\n" MARK "y\n",
  "Start\n\n" MARK "```\ncode\n\nmore\n\nstill code\n",
  "Text\n\n" MARK "~~~ sh\n$ ls\n\n~~~ not a closer\n\nstill\n",
  "Para\n\n    code\n\n    more\n\n" MARK "Text\n",
  "- a\n\n- b\n\n  cont\n\n- c\n\n" MARK "After\n",
  "1. Step\n\n   ```sh\n   ls\n\n   ```\n\n2. Next\n\n" MARK "Done\n",
  "- a\n  ```\n  code\n\n  ```\n- b\n\n" MARK "x\n",
  "- a\nlazy\n  ```\n  code\n\n  ```\n\n" MARK "x\n",
  "> a\n>\n> b\n\n" MARK "> c\n\n" MARK "d\n",
  "> ```\n> code\n\n" MARK "x\n",
  "| a | b |\n|---|---|\n| 1 | 2 |\n```\nx\n\n" MARK "y\n" MARK "```\n\nz\n",
  "| a | b |\n| --- | :-: |\n| 1 | 2 |\n\n" MARK "After\n",
  "# Title\nText\n\n" MARK "---\n\n" MARK "## Sub\n",
  "a\r\n\r\n" MARK "b\r\n",
  "Title\n=====\n\n" MARK "Para\n",
  "Text\n2. not a list\n" MARK "   ```\n   x\n\ny\n   ```\n",
  "Para\n\n- item\n",
  "Para\n\n1) item\n\n   more\n",
  "``` not `a fence`\n\n" MARK "text\n",
  "  ```\n  indented fence\n\nstill in it\n  ```\n\n" MARK "out\n",
  "- ```\n  x\n\n  ```\n\n" MARK "p\n",
  "* * *\n\n" MARK "Para\n",
  /* Lazy lines of a quote start no table, so the fence after them opens. */
  "> quote\n| a |\n|---|\n" MARK "~~~\nx\n\n```\n",
  "> quote\nlazy\n===\n| a |\n|---|\n" MARK "```\nx\n\ny\n",
  /* A quote ending in a fence leaves nothing to continue: a table follows. */
  "> ```\n> x\n> ```\n| a |\n|---|\n| 1 |\n```\nz\n\n" MARK "w\n",
  "Para\n***\n\n" MARK "Next\n",
  /* Lines that begin with a space, as streamed tokens often do. */
  " Hello\n\n" MARK " World\n\n" MARK "   again\n",
  "- a\n\n" MARK " b\n",
  "Para\n\n    code\n\n" MARK "  Text\n",
};

static void
test_boundaries_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (boundary_cases); i++)
    {
      g_autoptr(GArray) expected = NULL;
      g_autofree char *text = unmark (boundary_cases[i], &expected);
      g_autoptr(GArray) found = boundaries_of (text, NULL);
      g_autofree char *want = describe_offsets (expected);
      g_autofree char *got = describe_offsets (found);
      gsize last = expected->len > 0 ? g_array_index (expected, gsize, expected->len - 1) : 0;

      g_test_message ("case %u: %s", i, boundary_cases[i]);
      g_assert_cmpstr (got, ==, want);
      /* Fed at once, the splitter ends up at the same place. */
      g_assert_cmpuint (_confab_md_last_block_start (text, strlen (text)), ==, last);
      g_assert_true (boundaries_hold (text, TRUE));
    }
}

static void
test_boundaries_fence_open (void)
{
  static const struct
  {
    const char *text;
    gboolean    open;
  } cases[] = {
    { "```\ncode\n", TRUE },
    { "```\ncode\n```\n", FALSE },
    { "~~~\n```\n", TRUE },
    { "~~~\n```\n~~~\n", FALSE },
    { "````\n```\n", TRUE },
    { "```\n````\n", FALSE },
    { "```js\n``` x\n", TRUE },
    { "    ```\n", FALSE },
    { "text ``` inline ```\n", FALSE },
    { "``` a ` b\n", FALSE },
    { "- ```\n  code\n", FALSE }, /* in a list item: not top-level */
    { "```\n", TRUE },
    { "```", FALSE },              /* an incomplete line is not judged yet */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i].text);
      g_assert_cmpint (_confab_md_fence_is_open (cases[i].text, strlen (cases[i].text)), ==,
                       cases[i].open);
    }
}

/* Feeding a document in pieces of any size finds the same last boundary
 * as feeding it whole. */
static void
test_boundaries_chunked (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (boundary_cases); i++)
    {
      g_autoptr(GArray) expected = NULL;
      g_autofree char *text = unmark (boundary_cases[i], &expected);
      gsize len = strlen (text);
      gsize whole = _confab_md_last_block_start (text, len);

      for (gsize step = 1; step <= 7; step++)
        {
          ConfabMdSplitter splitter;
          gsize at = 0;

          _confab_md_splitter_init (&splitter);
          for (gsize end = step; end < len + step; end += step)
            at = _confab_md_splitter_feed (&splitter, text, MIN (end, len));
          g_assert_cmpuint (at, ==, whole);
        }
    }
}

/* Documents made of what models write, at random, including the shapes
 * that are easy to get wrong: fences in lists, tables, lazy lines, blocks
 * without a blank line between them. */
static void
random_block (GRand   *rand,
              GString *out,
              guint    depth)
{
  static const char *const words[] = {
    "the", "reply", "**bold**", "*it*", "`code`", "~~gone~~", "https://example.com",
    "[link](https://gnome.org)", "é", "naïve", "—", "日本", "a&b", "<tag>", "x_y", "1.",
  };
  static const char *const langs[] = { "", "python", "js", "sh", "c++", "rs", "unknown" };
  const char *indent = depth > 0 ? "   " : "";
  guint kind = g_rand_int_range (rand, 0, 14);
  guint n = g_rand_int_range (rand, 1, 4);

  switch (kind)
    {
    case 0:
    case 1:
    case 2:
      for (guint line = 0; line < n; line++)
        {
          g_string_append (out, line > 0 ? indent : "");
          for (guint w = 0; w < 6; w++)
            g_string_append_printf (out, "%s%s", w > 0 ? " " : "",
                                    words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
          g_string_append_c (out, '\n');
        }
      break;

    case 3:
      g_string_append_printf (out, "%.*s Heading %u\n", (int)n, "###", n);
      break;

    case 4:
    case 5:
      {
        const char *fence = g_rand_boolean (rand) ? "```" : "~~~";

        g_string_append_printf (out, "%s%s\n", fence,
                                langs[g_rand_int_range (rand, 0, G_N_ELEMENTS (langs))]);
        for (guint line = 0; line < n + 1; line++)
          {
            if (g_rand_int_range (rand, 0, 3) == 0)
              g_string_append (out, "\n");
            g_string_append_printf (out, "%sx = %u\n", line % 2 ? "" : indent, line);
          }
        if (g_rand_int_range (rand, 0, 8) != 0)
          g_string_append_printf (out, "%s%s\n", indent, fence);
      }
      break;

    case 6:
      /* Not straight after a list: md4c 0.4.8 reads a list item followed
       * by two blank lines and indented text differently depending on the
       * byte offset (its "two blank lines" check looks at line data as if
       * it were a block), so no split could be checked against it. */
      g_string_append (out, "Code:\n\n    indented code\n\n    more\n");
      break;

    case 7:
    case 8:
      {
        gboolean ordered = g_rand_boolean (rand);
        gboolean loose = g_rand_boolean (rand);

        for (guint item = 0; item < n + 1; item++)
          {
            if (ordered)
              g_string_append_printf (out, "%u. item %u\n", item + 1, item);
            else
              g_string_append_printf (out, "- item %u\n", item);
            if (loose)
              g_string_append_c (out, '\n');
            if (depth == 0 && g_rand_int_range (rand, 0, 3) == 0)
              {
                g_string_append (out, ordered ? "   ```\n   code\n\n   more\n   ```\n"
                                              : "  - nested\n  - more\n");
                if (loose)
                  g_string_append_c (out, '\n');
              }
            if (g_rand_int_range (rand, 0, 6) == 0)
              g_string_append (out, "lazy continuation\n");
          }
      }
      break;

    case 9:
      g_string_append (out, "> quoted *text*\n> more\n");
      if (g_rand_boolean (rand))
        g_string_append (out, ">\n> - a\n> - b\n");
      if (g_rand_boolean (rand))
        g_string_append (out, "> ```\n> in quote\n> ```\n");
      break;

    case 10:
      g_string_append (out, "| Name | Value |\n|:-----|------:|\n");
      for (guint row = 0; row < n; row++)
        g_string_append_printf (out, "| r%u | **%u** |\n", row, row * 7);
      break;

    case 11:
      g_string_append (out, g_rand_boolean (rand) ? "---\n" : "* * *\n");
      break;

    case 12:
      g_string_append (out, "Setext title\n============\n");
      break;

    case 13:
    default:
      g_string_append (out, "- [ ] task\n- [x] done\n");
      break;
    }
}

static char *
random_document (guint32 seed)
{
  static const char *const separators[] = { "\n", "\n", "\n", "\n\n", "", "\n\n\n" };
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  GString *out = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 3, 16);

  for (guint i = 0; i < n; i++)
    {
      random_block (rand, out, 0);
      g_string_append (out, separators[g_rand_int_range (rand, 0, G_N_ELEMENTS (separators))]);
    }

  return g_string_free (out, FALSE);
}

static void
test_boundaries_random (void)
{
  guint n_docs = g_test_slow () ? 5000 : 800;
  guint n_boundaries = 0;

  for (guint seed = 1; seed <= n_docs; seed++)
    {
      g_autofree char *text = random_document (seed);
      g_autoptr(GArray) found = boundaries_of (text, NULL);

      n_boundaries += found->len;
      if (!boundaries_hold (text, TRUE))
        g_error ("A proposed boundary does not hold in document %u", seed);
    }

  /* The splitter is useful only if it finds boundaries at all. */
  g_test_message ("%u boundaries in %u documents", n_boundaries, n_docs);
  g_assert_cmpuint (n_boundaries, >, n_docs);
}

/* A wrong boundary is caught: md4c's whole parse disagrees. */
static void
test_parse_split_rejects (void)
{
  static const struct
  {
    const char *text;
    const char *at;  /* the split is at the start of this substring */
  } cases[] = {
    { "```\ncode\n\nmore\n```\n", "more" },
    { "- a\n\n- b\n", "- b" },
    { "| a |\n|---|\n| 1 |\n```\n", "```" },
    { "Title\n---\n", "---" },
    { "    code\n\n    more\n", "    more" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) blocks = NULL;
      g_autoptr(GPtrArray) whole = _confab_md_parse (cases[i].text, strlen (cases[i].text));
      g_autofree char *want = _confab_md_describe_blocks (whole);
      g_autofree char *got = NULL;
      gsize at = strstr (cases[i].text, cases[i].at) - cases[i].text;
      guint n_head = 99;

      g_assert_false (_confab_md_parse_split (cases[i].text, strlen (cases[i].text), at,
                                              &blocks, &n_head));
      g_assert_cmpuint (n_head, ==, 0);
      got = _confab_md_describe_blocks (blocks);
      g_assert_cmpstr (got, ==, want);
    }
}

/* The tree md4c gives */

static char *
describe (const char *markdown)
{
  g_autoptr(GPtrArray) blocks = _confab_md_parse (markdown, strlen (markdown));

  return _confab_md_describe_blocks (blocks);
}

static void
test_parse_blocks (void)
{
  static const struct
  {
    const char *markdown;
    const char *tree;
  } cases[] = {
    { "", "" },
    { "Hello *world*", "P{Hello <i>world</i>}" },
    { "# One\n## Two\n###### Six", "H1{One}\nH2{Two}\nH6{Six}" },
    { "Line one\nline two", "P{Line one\\nline two}" },
    { "> quoted\n> more\n\n> again", "QUOTE[P{quoted\\nmore}]\nQUOTE[P{again}]" },
    { "- a\n- b\n  - c", "UL(0,tight)[LI{•}[P{a}] LI{•}[P{b} UL(1,tight)[LI{◦}[P{c}]]]]" },
    { "3. x\n4. y\n\n5. z", "OL(0,loose,3)[LI{3.}[P{x}] LI{4.}[P{y}] LI{5.}[P{z}]]" },
    { "- [ ] todo\n- [x] done", "UL(0,tight)[LI{☐}[P{todo}] LI{☑}[P{done}]]" },
    { "---", "HR" },
    { "```Python extra\nprint(1)\n\n```", "CODE(Python){print(1)\\n}" },
    { "~~~\nplain\n~~~", "CODE(){plain}" },
    { "    indented\n      more", "CODE(){indented\\n  more}" },
    { "```\n```", "CODE(){}" },
    { "| a | b |\n|:--|--:|\n| 1 | *2* |",
      "TABLE[TH[CELL(h,left){<b>a</b>} CELL(h,right){<b>b</b>}] "
      "TR[CELL(d,left){1} CELL(d,right){<i>2</i>}]]" },
    { "Setext\n===", "H1{Setext}" },
    { "<div>raw</div>", "P{&lt;div&gt;raw&lt;/div&gt;}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *tree = describe (cases[i].markdown);

      g_assert_cmpstr (tree, ==, cases[i].tree);
    }
}

static void
test_parse_inline (void)
{
  static const struct
  {
    const char *markdown;
    const char *markup;
  } cases[] = {
    { "**b** *i* ~~s~~ `c<d>`",
      "P{<b>b</b> <i>i</i> <s>s</s> <span font_family=\"monospace\" "
      "background=\"#80808030\">c&lt;d&gt;</span>}" },
    { "[GNOME](https://gnome.org \"The \\\"site\\\"\")",
      "P{<a href=\"https://gnome.org\" title=\"The &quot;site&quot;\">GNOME</a>}" },
    { "<https://a.example/x?y=1&z=2>",
      "P{<a href=\"https://a.example/x?y=1&amp;z=2\">https://a.example/x?y=1&amp;z=2</a>}" },
    { "see https://example.com.", "P{see <a href=\"https://example.com\">https://example.com</a>.}" },
    { "www.gnome.org", "P{<a href=\"http://www.gnome.org\">www.gnome.org</a>}" },
    { "mail me@example.com", "P{mail <a href=\"mailto:me@example.com\">me@example.com</a>}" },
    { "&copy; &#65; &#x1F600; &bogus; &#0;", "P{© A 😀 &amp;bogus; \xEF\xBF\xBD}" },
    { "5 < 6 & \"q\" 'a'", "P{5 &lt; 6 &amp; &quot;q&quot; &apos;a&apos;}" },
    { "![alt *text*](https://img/x.png)", "P{<a href=\"https://img/x.png\">alt <i>text</i></a>}" },
    { "![](https://img/x.png)", "P{<a href=\"https://img/x.png\">https://img/x.png</a>}" },
    { "[a ![b](u2)](u1)", "P{<a href=\"u1\">a b</a>}" },
    { "hard  \nbreak", "P{hard\\nbreak}" },
    { "a\\*b", "P{a*b}" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *tree = describe (cases[i].markdown);

      g_assert_cmpstr (tree, ==, cases[i].markup);
    }
}

/* Every piece of markup the parser makes is valid Pango markup, whatever
 * the input. */
static void
check_markup (ConfabMdNode *node)
{
  if (node->text != NULL && node->kind != CONFAB_MD_CODE && node->kind != CONFAB_MD_ITEM)
    {
      g_autoptr(GError) error = NULL;

      if (!pango_parse_markup (node->text, -1, 0, NULL, NULL, NULL, &error))
        {
          /* GtkLabel's <a> is not Pango's: check the rest. */
          g_autoptr(GRegex) links = g_regex_new ("<a [^>]*>|</a>", 0, 0, NULL);
          g_autofree char *stripped = g_regex_replace_literal (links, node->text, -1, 0, "", 0, NULL);

          g_clear_error (&error);
          if (!pango_parse_markup (stripped, -1, 0, NULL, NULL, NULL, &error))
            g_error ("Invalid markup %s: %s", node->text, error->message);
        }
    }

  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    check_markup (g_ptr_array_index (node->children, i));
}

static void
test_parse_markup_valid (void)
{
  static const char *const inputs[] = {
    "*a **b** c* `x` ~~y~~ [l](u) <x> &amp; &lt;b&gt; \x01\x02 \x7f \xC2\x85",
    "**unclosed *mixed _emph",
    "[link with `code` and **bold**](https://x.y/?a=<b>&c=\"d\")",
    "| a | <b> |\n|---|---|\n| &#0; | `|` |",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GPtrArray) blocks = _confab_md_parse (inputs[i], strlen (inputs[i]));

      for (guint j = 0; j < blocks->len; j++)
        check_markup (g_ptr_array_index (blocks, j));
    }

  for (guint seed = 1; seed <= 200; seed++)
    {
      g_autofree char *text = random_document (seed);
      g_autoptr(GPtrArray) blocks = _confab_md_parse (text, strlen (text));

      for (guint j = 0; j < blocks->len; j++)
        check_markup (g_ptr_array_index (blocks, j));
    }
}

/* Long paragraphs are cut into pieces: the pieces and the separators
 * between them give back exactly the markup; cuts fall after a newline
 * first, never inside a tag or an entity, and stay put as the text grows. */
static void
test_split_markup (void)
{
  g_autoptr(GString) markup = g_string_new (NULL);
  g_autoptr(GArray) final = NULL;

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (markup, "Line %u with <b>bold\ntext</b> &amp; more words here%s", i,
                            i % 7 == 6 ? "\n" : ". ");
  for (guint i = 0; i < 400; i++)
    g_string_append (markup, "A sentence without a break. ");
  g_string_append (markup, "<i>end</i>");
  final = _confab_md_split_markup (markup->str, markup->len, 100);
  g_assert_cmpuint (final->len, >, 10);

  for (gsize len = 0; len <= markup->len; len += 37)
    {
      g_autoptr(GArray) cuts = _confab_md_split_markup (markup->str, len, 100);
      g_autoptr(GString) joined = g_string_new (NULL);
      gsize start = 0;

      for (guint i = 0; i <= cuts->len; i++)
        {
          gsize end = i < cuts->len ? g_array_index (cuts, gsize, i) - 1 : len;
          g_autofree char *piece = g_strndup (markup->str + start, end - start);
          int depth = 0;

          g_assert_cmpuint (end, >=, start);
          /* Tags open and close inside a piece. */
          for (const char *p = piece; *p != '\0'; p++)
            if (*p == '<')
              depth += p[1] == '/' ? -1 : 1;
          if (i < cuts->len)
            {
              char separator = markup->str[end];

              g_assert_cmpint (depth, ==, 0);
              g_assert_true (separator == '\n' || separator == ' ');
              g_assert_cmpuint (end - start, >=, 100);
              g_assert_cmpuint (end - start, <, 900);
              /* A cut made once is made again with more text. */
              g_assert_cmpuint (g_array_index (cuts, gsize, i), ==, g_array_index (final, gsize, i));
            }
          g_string_append (joined, piece);
          if (i < cuts->len)
            g_string_append_c (joined, markup->str[end]);
          start = end + 1;
        }
      g_assert_cmpuint (joined->len, ==, len);
      g_assert_true (memcmp (joined->str, markup->str, len) == 0);
    }

  /* Short text, and text inside one tag, are not cut. */
  g_clear_pointer (&final, g_array_unref);
  final = _confab_md_split_markup ("short\ntext", 10, 100);
  g_assert_cmpuint (final->len, ==, 0);
  g_clear_pointer (&final, g_array_unref);
  g_string_assign (markup, "<b>");
  for (guint i = 0; i < 100; i++)
    g_string_append (markup, "bold line\n");
  g_string_append (markup, "</b>");
  final = _confab_md_split_markup (markup->str, markup->len, 100);
  g_assert_cmpuint (final->len, ==, 0);
}

static void
test_sanitize (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  const char *euro = "\xE2\x82\xAC";
  gsize valid;

  /* A character split between appends waits for its end. */
  g_string_append (text, "a");
  g_string_append_len (text, euro, 1);
  valid = _confab_md_sanitize (text, 0);
  g_assert_cmpuint (valid, ==, 1);
  g_string_append_len (text, euro + 1, 1);
  valid = _confab_md_sanitize (text, valid);
  g_assert_cmpuint (valid, ==, 1);
  g_string_append_len (text, euro + 2, 1);
  valid = _confab_md_sanitize (text, valid);
  g_assert_cmpuint (valid, ==, 4);
  g_assert_cmpstr (text->str, ==, "a€");

  /* Invalid bytes and NULs become U+FFFD, one per byte. */
  g_string_truncate (text, 0);
  g_string_append_len (text, "x\xFFy\0z\xC3(", 7);
  valid = _confab_md_sanitize (text, 0);
  g_assert_cmpuint (valid, ==, text->len);
  g_assert_cmpstr (text->str, ==, "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBD(");
  g_assert_true (g_utf8_validate (text->str, -1, NULL));

  /* Not a possible start: replaced at once, not kept waiting. */
  g_string_truncate (text, 0);
  g_string_append (text, "ok\xED\xA0");
  valid = _confab_md_sanitize (text, 0);
  g_assert_cmpuint (valid, ==, text->len);
  g_assert_true (g_utf8_validate (text->str, -1, NULL));

  /* Only bytes from @from on are looked at. */
  g_string_truncate (text, 0);
  g_string_append (text, "é and more");
  g_assert_cmpuint (_confab_md_sanitize (text, 2), ==, text->len);
}

/* The view, with a display */

static void
describe_widget (GtkWidget *widget,
                 GString   *out,
                 guint      depth)
{
  g_auto(GStrv) classes = gtk_widget_get_css_classes (widget);

  /* Text that streams in is in a text block until the view is finished;
   * it stands for the label it becomes (/markdown-view/settle checks that
   * it does). */
  if (CONFAB_IS_TEXT_BLOCK (widget))
    {
      g_string_append_printf (out, "%*sGtkLabel", depth * 2, "");
      for (guint i = 0; classes[i] != NULL; i++)
        g_string_append_printf (out, ".%s", classes[i]);
      g_string_append_printf (out, " \"%s\"\n", confab_text_block_get_markup (CONFAB_TEXT_BLOCK (widget)));
      return;
    }

  g_string_append_printf (out, "%*s%s", depth * 2, "", G_OBJECT_TYPE_NAME (widget));
  for (guint i = 0; classes[i] != NULL; i++)
    g_string_append_printf (out, ".%s", classes[i]);
  if (gtk_widget_get_margin_start (widget) != 0)
    g_string_append_printf (out, " margin-start=%d", gtk_widget_get_margin_start (widget));

  if (GTK_IS_LABEL (widget))
    {
      g_string_append_printf (out, " \"%s\"", gtk_label_get_label (GTK_LABEL (widget)));
      if (GTK_IS_GRID (gtk_widget_get_parent (widget)))
        {
          int col, row, width, height;

          gtk_grid_query_child (GTK_GRID (gtk_widget_get_parent (widget)), widget,
                                &col, &row, &width, &height);
          g_string_append_printf (out, " at %d,%d", col, row);
        }
      g_string_append_c (out, '\n');
      return;
    }

  if (GTK_SOURCE_IS_VIEW (widget))
    {
      GtkSourceBuffer *buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)));
      GtkSourceLanguage *language = gtk_source_buffer_get_language (buffer);
      GtkTextIter start, end;
      g_autofree char *code = NULL;

      gtk_text_buffer_get_bounds (GTK_TEXT_BUFFER (buffer), &start, &end);
      code = gtk_text_buffer_get_text (GTK_TEXT_BUFFER (buffer), &start, &end, FALSE);
      g_string_append_printf (out, " lang=%s scheme=%s \"%s\"\n",
                              language != NULL ? gtk_source_language_get_id (language) : "none",
                              gtk_source_style_scheme_get_id (gtk_source_buffer_get_style_scheme (buffer)),
                              code);
      return;
    }

  if (GTK_IS_BUTTON (widget))
    {
      g_string_append_printf (out, " icon=%s tooltip=%s\n",
                              gtk_button_get_icon_name (GTK_BUTTON (widget)),
                              gtk_widget_get_tooltip_text (widget));
      return;
    }

  if (GTK_IS_BOX (widget))
    g_string_append_printf (out, " spacing=%d", gtk_box_get_spacing (GTK_BOX (widget)));
  g_string_append_c (out, '\n');

  if (GTK_IS_SCROLLED_WINDOW (widget))
    {
      describe_widget (gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (widget)), out, depth + 1);
      return;
    }

  if (GTK_IS_VIEWPORT (widget))
    {
      describe_widget (gtk_viewport_get_child (GTK_VIEWPORT (widget)), out, depth + 1);
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    describe_widget (child, out, depth + 1);
}

static char *
describe_view (ConfabMarkdownView *view)
{
  GString *out = g_string_new (NULL);

  describe_widget (GTK_WIDGET (view), out, 0);
  return g_string_free (out, FALSE);
}

static GtkWidget *
view_box (ConfabMarkdownView *view)
{
  GtkWidget *box = gtk_widget_get_first_child (GTK_WIDGET (view));

  g_assert_true (GTK_IS_BOX (box));
  return box;
}

static guint
n_children (GtkWidget *widget)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;

  return n;
}

static GtkWidget *
nth_child (GtkWidget *widget,
           guint      n)
{
  GtkWidget *child = gtk_widget_get_first_child (widget);

  while (child != NULL && n-- > 0)
    child = gtk_widget_get_next_sibling (child);

  g_assert_nonnull (child);
  return child;
}

static GtkWidget *
find_widget (GtkWidget *widget,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static const char *
label_text (GtkWidget *widget)
{
  if (CONFAB_IS_TEXT_BLOCK (widget))
    return confab_text_block_get_markup (CONFAB_TEXT_BLOCK (widget));
  g_assert_true (GTK_IS_LABEL (widget));
  return gtk_label_get_label (GTK_LABEL (widget));
}

/* The text a label or a text block shows, without markup. */
static const char *
shown_text (GtkWidget *widget)
{
  if (CONFAB_IS_TEXT_BLOCK (widget))
    return confab_text_block_get_text (CONFAB_TEXT_BLOCK (widget));
  g_assert_true (GTK_IS_LABEL (widget));
  return gtk_label_get_text (GTK_LABEL (widget));
}

static char *
code_of (GtkWidget *code_block)
{
  GtkWidget *view = find_widget (code_block, GTK_SOURCE_TYPE_VIEW);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static const char *
language_of (GtkWidget *code_block)
{
  GtkWidget *view = find_widget (code_block, GTK_SOURCE_TYPE_VIEW);
  GtkSourceBuffer *buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)));
  GtkSourceLanguage *language = gtk_source_buffer_get_language (buffer);

  return language != NULL ? gtk_source_language_get_id (language) : NULL;
}

static ConfabMarkdownView *
view_new (void)
{
  return g_object_ref_sink (CONFAB_MARKDOWN_VIEW (confab_markdown_view_new ()));
}

/* The text the labels under @widget show, one label after another with
 * @separators[i] between label i and i + 1 (or "\n" throughout). */
static void
collect_label_texts (GtkWidget *widget,
                     GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget))
    g_ptr_array_add (texts, g_strdup (gtk_label_get_text (GTK_LABEL (widget))));
  else if (CONFAB_IS_TEXT_BLOCK (widget))
    g_ptr_array_add (texts, g_strdup (confab_text_block_get_text (CONFAB_TEXT_BLOCK (widget))));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_label_texts (child, texts);
}

/* A long paragraph streams into a column of labels; only its last piece
 * changes as it grows, and the pieces show all of its text, once. */
static void
test_view_long_paragraph (void)
{
  ConfabMarkdownView *streamed = view_new ();
  ConfabMarkdownView *whole = view_new ();
  g_autoptr(GString) source = g_string_new (NULL);
  g_autoptr(GPtrArray) blocks = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) whole_texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) cuts = NULL;
  g_autoptr(GString) joined = g_string_new (NULL);
  GtkWidget *reference = gtk_label_new (NULL);
  GtkWidget *paragraph;
  GtkWidget *first_piece = NULL;
  const char *markup;
  gsize done = 0;
  guint32 seed = 3;

  g_object_ref_sink (reference);
  for (guint i = 0; i < 120; i++)
    g_string_append_printf (source, "Line %u has **bold** words, `code` and &amp; an entity%s",
                            i, i % 3 == 2 ? "\n" : ". ");
  for (guint i = 0; i < 600; i++)
    g_string_append (source, "Then one very long line goes on. ");
  g_string_append (source, "\n");

  /* Streamed in pieces of 1 to 200 bytes, rendered after each. */
  while (done < source->len)
    {
      gsize n;

      seed = seed * 1103515245u + 12345u;
      n = MIN (source->len - done, 1 + (seed >> 8) % 200);

      confab_markdown_view_append (streamed, source->str + done, (gssize) n);
      confab_markdown_view_flush (streamed);
      done += n;

      /* The first piece, once there, stays the same widget. */
      paragraph = gtk_widget_get_first_child (view_box (streamed));
      if (first_piece == NULL && GTK_IS_BOX (paragraph))
        first_piece = gtk_widget_get_first_child (paragraph);
      else if (first_piece != NULL)
        g_assert_true (gtk_widget_get_first_child (paragraph) == first_piece);
    }
  g_assert_nonnull (first_piece);
  g_assert_true (g_str_equal (confab_markdown_view_get_text (streamed), source->str));

  /* One paragraph, shown as many labels. */
  paragraph = gtk_widget_get_first_child (view_box (streamed));
  g_assert_cmpuint (n_children (view_box (streamed)), ==, 1);
  g_assert_true (GTK_IS_BOX (paragraph));
  g_assert_cmpuint (n_children (paragraph), >, 10);

  /* Its labels' text with the separators between them is exactly what one
   * label with the paragraph's whole markup shows. */
  blocks = _confab_md_parse (source->str, source->len);
  markup = ((ConfabMdNode *) g_ptr_array_index (blocks, 0))->text;
  cuts = _confab_md_split_markup (markup, strlen (markup), 500);
  collect_label_texts (paragraph, texts);
  g_assert_cmpuint (texts->len, ==, cuts->len + 1);
  for (guint i = 0; i < texts->len; i++)
    {
      g_string_append (joined, g_ptr_array_index (texts, i));
      if (i < cuts->len)
        g_string_append_c (joined, markup[g_array_index (cuts, gsize, i) - 1]);
    }
  gtk_label_set_markup (GTK_LABEL (reference), markup);
  g_assert_cmpstr (joined->str, ==, gtk_label_get_text (GTK_LABEL (reference)));

  /* The same pieces as the whole text set at once. */
  confab_markdown_view_set_text (whole, source->str);
  collect_label_texts (view_box (whole), whole_texts);
  g_assert_cmpuint (whole_texts->len, ==, texts->len);
  for (guint i = 0; i < texts->len; i++)
    g_assert_cmpstr (g_ptr_array_index (whole_texts, i), ==, g_ptr_array_index (texts, i));

  g_object_unref (reference);
  g_assert_finalize_object (streamed);
  g_assert_finalize_object (whole);
}

static const char every_construct[] =
  "# Title\n"
  "## Second\n"
  "### Third\n"
  "#### Fourth\n"
  "##### Fifth\n"
  "\n"
  "Some **bold**, *italic*, ~~struck~~, `inline <code>` and a [link](https://gnome.org).\n"
  "\n"
  "> A quote\n"
  "> - with a list\n"
  "\n"
  "- one\n"
  "- two\n"
  "  1. nested\n"
  "  2. again\n"
  "\n"
  "7. seven\n"
  "8. eight\n"
  "\n"
  "---\n"
  "\n"
  "| Name | Value |\n"
  "|------|------:|\n"
  "| a    | 1     |\n"
  "| b    | 2     |\n"
  "\n"
  "```python\n"
  "def f():\n"
  "    return 1\n"
  "```\n"
  "\n"
  "    indented code\n";

static void
test_view_constructs (void)
{
  ConfabMarkdownView *view = view_new ();
  GtkWidget *box = view_box (view);
  GtkWidget *block, *item, *grid, *child;
  g_autofree char *code = NULL;
  int col, row, width, height, max_col = 0, max_row = 0;
  guint n_cells = 0;

  confab_markdown_view_set_text (view, every_construct);
  g_assert_cmpstr (confab_markdown_view_get_text (view), ==, every_construct);
  g_assert_cmpuint (n_children (box), ==, 13);

  /* Headings */
  g_assert_cmpstr (label_text (nth_child (box, 0)), ==, "Title");
  g_assert_true (gtk_widget_has_css_class (nth_child (box, 0), "title-1"));
  g_assert_true (gtk_widget_has_css_class (nth_child (box, 1), "title-2"));
  g_assert_true (gtk_widget_has_css_class (nth_child (box, 2), "title-3"));
  g_assert_true (gtk_widget_has_css_class (nth_child (box, 3), "title-4"));
  g_assert_true (gtk_widget_has_css_class (nth_child (box, 4), "heading"));

  /* A paragraph with inline markup: a wrapping, selectable label. */
  block = nth_child (box, 5);
  g_assert_cmpstr (label_text (block), ==,
                   "Some <b>bold</b>, <i>italic</i>, <s>struck</s>, "
                   "<span font_family=\"monospace\" background=\"#80808030\">inline &lt;code&gt;</span> "
                   "and a <a href=\"https://gnome.org\">link</a>.");
  g_assert_true (gtk_label_get_wrap (GTK_LABEL (block)));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (block)));
  g_assert_true (gtk_label_get_use_markup (GTK_LABEL (block)));
  g_assert_cmpfloat (gtk_label_get_xalign (GTK_LABEL (block)), ==, 0.0f);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (block)), ==,
                   "Some bold, italic, struck, inline <code> and a link.");

  /* A quote holding a paragraph and a list */
  block = nth_child (box, 6);
  g_assert_true (GTK_IS_BOX (block));
  g_assert_true (gtk_widget_has_css_class (block, "quote"));
  g_assert_cmpint (gtk_widget_get_margin_start (block), >, 0);
  g_assert_cmpstr (label_text (nth_child (block, 0)), ==, "A quote");
  g_assert_true (gtk_widget_has_css_class (nth_child (block, 1), "markdown-list"));

  /* A bullet list with a nested ordered list */
  block = nth_child (box, 7);
  g_assert_true (gtk_widget_has_css_class (block, "markdown-list"));
  g_assert_cmpuint (n_children (block), ==, 2);
  item = nth_child (block, 1);
  g_assert_true (gtk_widget_has_css_class (item, "list-item"));
  g_assert_cmpstr (label_text (nth_child (item, 0)), ==, "•");
  child = nth_child (item, 1);
  g_assert_cmpstr (label_text (nth_child (child, 0)), ==, "two");
  child = nth_child (child, 1);
  g_assert_true (gtk_widget_has_css_class (child, "markdown-list"));
  g_assert_cmpstr (label_text (nth_child (nth_child (child, 0), 0)), ==, "1.");
  g_assert_cmpstr (label_text (nth_child (nth_child (nth_child (child, 1), 1), 0)), ==, "again");

  /* An ordered list keeps its start */
  block = nth_child (box, 8);
  g_assert_cmpstr (label_text (nth_child (nth_child (block, 0), 0)), ==, "7.");
  g_assert_cmpstr (label_text (nth_child (nth_child (block, 1), 0)), ==, "8.");

  g_assert_true (GTK_IS_SEPARATOR (nth_child (box, 9)));

  /* The table: a 2 x 3 grid, bold header */
  grid = find_widget (nth_child (box, 10), GTK_TYPE_GRID);
  g_assert_nonnull (grid);
  for (child = gtk_widget_get_first_child (grid); child; child = gtk_widget_get_next_sibling (child))
    {
      gtk_grid_query_child (GTK_GRID (grid), child, &col, &row, &width, &height);
      max_col = MAX (max_col, col);
      max_row = MAX (max_row, row);
      n_cells++;
    }
  g_assert_cmpuint (n_cells, ==, 6);
  g_assert_cmpint (max_col, ==, 1);
  g_assert_cmpint (max_row, ==, 2);
  g_assert_cmpstr (label_text (gtk_grid_get_child_at (GTK_GRID (grid), 0, 0)), ==, "<b>Name</b>");
  g_assert_cmpstr (label_text (gtk_grid_get_child_at (GTK_GRID (grid), 1, 2)), ==, "2");
  g_assert_cmpfloat (gtk_label_get_xalign (GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (grid), 1, 2))),
                     ==, 1.0f);

  /* Fenced code: header with the language and a copy button, then a
   * read-only, monospace, unwrapped source view scrolling sideways only. */
  block = nth_child (box, 11);
  g_assert_true (gtk_widget_has_css_class (block, "code-block"));
  child = nth_child (block, 0);
  g_assert_true (gtk_widget_has_css_class (child, "code-header"));
  g_assert_cmpstr (label_text (nth_child (child, 0)), ==, "Python");
  g_assert_true (GTK_IS_BUTTON (nth_child (child, 1)));
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (nth_child (child, 1))), ==, "edit-copy-symbolic");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (nth_child (child, 1)), ==, "Copy code");
  child = nth_child (block, 1);
  g_assert_true (GTK_IS_SCROLLED_WINDOW (child));
  {
    GtkPolicyType hpolicy, vpolicy;
    GtkWidget *source = find_widget (child, GTK_SOURCE_TYPE_VIEW);

    gtk_scrolled_window_get_policy (GTK_SCROLLED_WINDOW (child), &hpolicy, &vpolicy);
    g_assert_cmpint (hpolicy, ==, GTK_POLICY_AUTOMATIC);
    g_assert_cmpint (vpolicy, ==, GTK_POLICY_NEVER);
    g_assert_true (gtk_scrolled_window_get_propagate_natural_height (GTK_SCROLLED_WINDOW (child)));
    g_assert_false (gtk_text_view_get_editable (GTK_TEXT_VIEW (source)));
    g_assert_true (gtk_text_view_get_monospace (GTK_TEXT_VIEW (source)));
    g_assert_cmpint (gtk_text_view_get_wrap_mode (GTK_TEXT_VIEW (source)), ==, GTK_WRAP_NONE);
  }
  code = code_of (block);
  g_assert_cmpstr (code, ==, "def f():\n    return 1");
  g_assert_cmpstr (language_of (block), ==, "python3");
  g_clear_pointer (&code, g_free);

  /* Indented code: plain text */
  block = nth_child (box, 12);
  code = code_of (block);
  g_assert_cmpstr (code, ==, "indented code");
  g_assert_null (language_of (block));
  g_assert_cmpstr (label_text (nth_child (nth_child (block, 0), 0)), ==, "Text");

  g_assert_finalize_object (view);
}

static void
test_view_languages (void)
{
  static const struct
  {
    const char *info;
    const char *id;
  } cases[] = {
    { "js", "js" }, { "javascript", "js" }, { "ts", "typescript" }, { "py", "python3" },
    { "Python", "python3" }, { "sh", "sh" }, { "bash", "sh" }, { "shell", "sh" },
    { "zsh", "sh" }, { "c++", "cpp" }, { "cpp", "cpp" }, { "rs", "rust" },
    { "yml", "yaml" }, { "md", "markdown" }, { "html", "html" }, { "json", "json" },
    { "c", "c" }, { "rb", "ruby" }, { "go", "go" }, { "{.python}", "python3" },
    { "diff", "diff" }, { "no-such-language", NULL },
  };
  ConfabMarkdownView *view = view_new ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *markdown = g_strdup_printf ("```%s\ncode\n```\n", cases[i].info);

      confab_markdown_view_set_text (view, markdown);
      g_assert_cmpstr (language_of (gtk_widget_get_first_child (view_box (view))), ==, cases[i].id);
    }

  /* An unknown language is named as written. */
  g_assert_cmpstr (label_text (nth_child (nth_child (nth_child (view_box (view), 0), 0), 0)),
                   ==, "no-such-language");

  g_assert_finalize_object (view);
}

/* A long reply of the kind models write, with every character class a
 * stream may split. */
static char *
streamed_document (void)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < 200; i++)
    {
      switch (i % 8)
        {
        case 0:
          g_string_append_printf (out, "## Part %u: naïve café — 日本語 ✓\n\n", i);
          break;

        case 1:
        case 4:
          g_string_append_printf (out,
                                  "Paragraph %u has **bold**, *italic*, `code`, a "
                                  "[link](https://example.com/%u) and some plain words that "
                                  "go on for a while so the line wraps; émoji 😀 too.\n"
                                  "A second line of the same paragraph.\n\n", i, i);
          break;

        case 2:
          g_string_append_printf (out,
                                  "```python\n"
                                  "def part_%u(x):\n"
                                  "    \"\"\"Docstring with ``` inside.\"\"\"\n"
                                  "\n"
                                  "    return x * %u  # é\n"
                                  "```\n\n", i, i);
          break;

        case 3:
          g_string_append (out, "- first item\n- second item with `code`\n  - nested\n\n");
          break;

        case 5:
          g_string_append_printf (out, "| Col | Val |\n|-----|----:|\n| a | %u |\n| b | %u |\n\n",
                                  i, i * 2);
          break;

        case 6:
          g_string_append (out, "> Quoted text\n> over two lines\n\n");
          break;

        case 7:
        default:
          g_string_append (out, "~~~\nplain fence\n\nwith a blank line\n~~~\n"
                                "Text right after the fence.\n\n");
          break;
        }
    }

  return g_string_free (out, FALSE);
}

static void
test_view_streaming (void)
{
  const guint n_appends = 5000;
  g_autofree char *document = streamed_document ();
  gsize len = strlen (document);
  ConfabMarkdownView *streamed = view_new ();
  ConfabMarkdownView *whole = view_new ();
  g_autoptr(GPtrArray) frozen = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *streamed_tree = NULL;
  g_autofree char *whole_tree = NULL;
  GtkWidget *first_block = NULL;
  guint renders_before, renders;
  gsize done = 0;

  g_assert_cmpuint (len, >, 2 * n_appends);

  renders_before = confab_markdown_view_get_n_renders (streamed);
  for (guint i = 1; i <= n_appends; i++)
    {
      /* Even pieces: many split a UTF-8 character. */
      gsize end = len * i / n_appends;

      confab_markdown_view_append (streamed, document + done, (gssize)(end - done));
      done = end;

      if (i % 50 == 0)
        confab_markdown_view_flush (streamed);

      if (i == n_appends / 2)
        {
          GtkWidget *box = view_box (streamed);
          guint n = n_children (box);

          /* All but the last few blocks are final by now: keep them. */
          g_assert_cmpuint (n, >, 10);
          first_block = gtk_widget_get_first_child (box);
          g_object_add_weak_pointer (G_OBJECT (first_block), (gpointer *)&first_block);
          for (guint j = 0; j + 4 < n; j++)
            g_ptr_array_add (frozen, g_object_ref (nth_child (box, j)));
        }
    }
  confab_markdown_view_flush (streamed);
  renders = confab_markdown_view_get_n_renders (streamed) - renders_before;

  confab_markdown_view_set_text (whole, document);
  g_assert_cmpstr (confab_markdown_view_get_text (streamed), ==, document);

  /* The same widgets as one parse of the whole reply... */
  streamed_tree = describe_view (streamed);
  whole_tree = describe_view (whole);
  g_assert_cmpstr (streamed_tree, ==, whole_tree);

  /* ...for far less work than a render per append... */
  g_test_message ("%u appends, %u block renders (set_text: %u)", n_appends, renders,
                  confab_markdown_view_get_n_renders (whole));
  g_assert_cmpuint (renders, <, n_appends / 10);

  /* ...and the blocks that were done were never rebuilt. */
  g_assert_nonnull (first_block);
  g_assert_true (first_block == gtk_widget_get_first_child (view_box (streamed)));
  for (guint j = 0; j < frozen->len; j++)
    g_assert_true (g_ptr_array_index (frozen, j) == nth_child (view_box (streamed), j));
  g_object_remove_weak_pointer (G_OBJECT (first_block), (gpointer *)&first_block);
  g_clear_pointer (&frozen, g_ptr_array_unref);

  g_assert_finalize_object (streamed);
  g_assert_finalize_object (whole);
}

/* While a fence is open, new code goes into the same buffer. */
static void
test_view_open_fence (void)
{
  ConfabMarkdownView *view = view_new ();
  GtkWidget *block, *source;
  GtkTextBuffer *buffer;
  g_autofree char *code = NULL;
  guint renders;

  confab_markdown_view_set_text (view, "Intro\n\n```c\nint a;\n");
  g_assert_cmpuint (n_children (view_box (view)), ==, 2);
  block = nth_child (view_box (view), 1);
  source = find_widget (block, GTK_SOURCE_TYPE_VIEW);
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (source));
  g_object_add_weak_pointer (G_OBJECT (block), (gpointer *)&block);
  g_object_add_weak_pointer (G_OBJECT (buffer), (gpointer *)&buffer);

  renders = confab_markdown_view_get_n_renders (view);
  for (guint i = 0; i < 100; i++)
    {
      confab_markdown_view_append (view, "int b;\n\n", -1);
      confab_markdown_view_flush (view);
    }
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view) - renders, ==, 100);

  confab_markdown_view_append (view, "```\n\nAfter\n", -1);
  confab_markdown_view_flush (view);

  g_assert_nonnull (block);
  g_assert_nonnull (buffer);
  g_assert_true (nth_child (view_box (view), 1) == block);
  g_assert_cmpstr (language_of (block), ==, "c");
  code = code_of (block);
  g_assert_true (g_str_has_prefix (code, "int a;\nint b;\n\nint b;\n"));
  g_assert_true (g_str_has_suffix (code, "int b;\n"));
  g_assert_cmpstr (label_text (nth_child (view_box (view), 2)), ==, "After");

  g_object_remove_weak_pointer (G_OBJECT (block), (gpointer *)&block);
  g_object_remove_weak_pointer (G_OBJECT (buffer), (gpointer *)&buffer);
  g_assert_finalize_object (view);
}

/* Blocks change shape as text arrives: a paragraph becomes a heading, a
 * line becomes a table, a reference gets its link. Each state matches a
 * fresh render. */
static void
test_view_reshape (void)
{
  static const char *const pieces[] = {
    "Title", "\n", "===", "\n\n", "| a |", "\n", "|---|", "\n", "| 1 |\n", "\n",
    "- x", "\n", "- y\n", "\n  more\n", "\n", "text `co", "de` end", "\n\n* * *\n",
    /* The definition changes the paragraph before it, so the boundary
     * the splitter proposes before the definition must be turned down. */
    "\nSee [the docs].\n", "\n", "[the docs]: https://gnome.org\n", "\n", "After\n",
    /* A table growing cell by cell, a row shorter than the header. */
    "\n| x | y |\n|---|:-:|\n", "| 1 ", "| 2 |\n", "| 3 | *4", "* |\n", "| 5 |\n", "\nEnd\n",
  };
  ConfabMarkdownView *view = view_new ();
  ConfabMarkdownView *fresh = view_new ();

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      g_autofree char *got = NULL;
      g_autofree char *want = NULL;

      confab_markdown_view_append (view, pieces[i], -1);
      confab_markdown_view_flush (view);
      confab_markdown_view_set_text (fresh, confab_markdown_view_get_text (view));
      got = describe_view (view);
      want = describe_view (fresh);
      g_assert_cmpstr (got, ==, want);
    }

  g_assert_finalize_object (view);
  g_assert_finalize_object (fresh);
}

/* Invalid UTF-8 from a server does not reach the labels. */
static void
test_view_invalid_utf8 (void)
{
  ConfabMarkdownView *view = view_new ();

  confab_markdown_view_append (view, "bad \xFF byte and half a \xE2\x82", -1);
  confab_markdown_view_flush (view);
  g_assert_cmpstr (shown_text (gtk_widget_get_first_child (view_box (view))),
                   ==, "bad \xEF\xBF\xBD byte and half a");
  confab_markdown_view_append (view, "\xAC!", -1);
  confab_markdown_view_flush (view);
  g_assert_cmpstr (shown_text (gtk_widget_get_first_child (view_box (view))),
                   ==, "bad \xEF\xBF\xBD byte and half a €!");

  confab_markdown_view_set_text (view, NULL);
  g_assert_cmpstr (confab_markdown_view_get_text (view), ==, "");
  g_assert_null (gtk_widget_get_first_child (view_box (view)));

  g_assert_finalize_object (view);
}

static gboolean
frame_seen_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  (*(guint *)user_data)++;
  return G_SOURCE_CONTINUE;
}

/* A new view in a presented 600×400 window of its own, hidden if
 * @visible is FALSE. The window (returned, with a reference) holds it. */
static GtkWidget *
view_in_window (gboolean             visible,
                ConfabMarkdownView **view)
{
  GtkWidget *window = gtk_window_new ();

  *view = CONFAB_MARKDOWN_VIEW (confab_markdown_view_new ());
  g_object_ref (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 600, 400);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (*view));
  gtk_widget_set_visible (GTK_WIDGET (*view), visible);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (gtk_widget_get_mapped (window));
  return window;
}

/* 40 paragraphs of 400 bytes (with the blank line): four frames' worth
 * of rendering. */
static GString *
forty_paragraphs (void)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < 40; i++)
    {
      g_string_append_printf (text, "Paragraph %02u ", i);
      while (text->len % 400 < 398)
        g_string_append (text, i % 2 ? "y" : "x");
      g_string_append (text, "\n\n");
    }
  return text;
}

/* A reply that went on streaming while its view was hidden (scrolled out
 * of sight) and then ended: finishing renders nothing at once, and once
 * shown it comes in a frame's budget at a time, as while streaming. A
 * small rest is rendered at once. */
static void
test_view_finish_hidden (void)
{
  ConfabMarkdownView *view;
  GtkWidget *window = view_in_window (FALSE, &view);
  g_autoptr(GString) text = forty_paragraphs ();
  guint frames = 0;

  gtk_widget_add_tick_callback (window, frame_seen_cb, &frames, NULL);
  confab_markdown_view_append (view, text->str, -1);
  confab_markdown_view_finish (view);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view), ==, 0);
  g_assert_null (gtk_widget_get_first_child (view_box (view)));

  gtk_widget_set_visible (GTK_WIDGET (view), TRUE);
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (view)));
  frames = 0;
  WAIT_FOR (n_children (view_box (view)) > 0);
  g_assert_cmpuint (n_children (view_box (view)), <=, 11);
  WAIT_FOR (n_children (view_box (view)) == 40);
  g_assert_cmpuint (frames, >=, 4);
  g_assert_cmpstr (confab_markdown_view_get_text (view), ==, text->str);

  /* Finished with a little left: all of it at once. */
  confab_markdown_view_append (view, "One more line.", -1);
  confab_markdown_view_finish (view);
  g_assert_cmpuint (n_children (view_box (view)), ==, 41);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

/* Appending in a mapped view renders once, on the next frame; a hidden
 * view renders on the first frame after it is shown. */
static void
test_view_frame_clock (void)
{
  ConfabMarkdownView *view;
  GtkWidget *window = view_in_window (FALSE, &view);
  guint frames = 0;
  guint renders;

  /* Hidden: appends wait, however many. */
  for (guint i = 0; i < 1000; i++)
    confab_markdown_view_append (view, "word ", -1);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view), ==, 0);
  g_assert_null (gtk_widget_get_first_child (view_box (view)));

  /* Shown: rendered on its first frame. */
  gtk_widget_add_tick_callback (window, frame_seen_cb, &frames, NULL);
  gtk_widget_set_visible (GTK_WIDGET (view), TRUE);
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (view)));
  frames = 0;
  WAIT_FOR (confab_markdown_view_get_n_renders (view) == 1);
  g_assert_cmpuint (frames, <=, 1);

  /* Mapped: a hundred appends, then one render on the next frame. */
  renders = confab_markdown_view_get_n_renders (view);
  for (guint i = 0; i < 100; i++)
    confab_markdown_view_append (view, i % 50 == 49 ? "\n\n" : "more ", -1);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view), ==, renders);

  frames = 0;
  WAIT_FOR (confab_markdown_view_get_n_renders (view) > renders);
  g_assert_cmpuint (frames, <=, 1);
  /* The paragraph that grew and a new one, in one go. */
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view) - renders, ==, 2);
  g_assert_cmpuint (n_children (view_box (view)), ==, 2);
  renders = confab_markdown_view_get_n_renders (view);

  /* A burst larger than one frame renders (4,096 bytes) goes over the
   * next frames, each cut after a line: 8 paragraphs of 497 bytes, then
   * the ninth. */
  frames = 0;
  for (guint i = 0; i < 900; i++)
    confab_markdown_view_append (view, i % 100 == 99 ? "\n\n" : "more ", -1);
  WAIT_FOR (confab_markdown_view_get_n_renders (view) > renders);
  g_assert_cmpuint (frames, <=, 1);
  g_assert_cmpuint (n_children (view_box (view)), ==, 2 + 8);
  WAIT_FOR (n_children (view_box (view)) == 2 + 9);
  g_assert_cmpuint (frames, <=, 2);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view) - renders, ==, 9);
  renders = confab_markdown_view_get_n_renders (view);

  /* Nothing pending: more frames render nothing. */
  WAIT_FOR (frames >= 5);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view), ==, renders);
  g_assert_cmpuint (n_children (view_box (view)), ==, 11);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

static void
read_text_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);
  g_assert_no_error (error);
}

static void
test_view_copy (void)
{
  GtkWidget *window = gtk_window_new ();
  ConfabMarkdownView *view = CONFAB_MARKDOWN_VIEW (confab_markdown_view_new ());
  GtkWidget *button;
  g_autofree char *copied = NULL;

  g_object_ref (window);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (view)));

  confab_markdown_view_set_text (view, "Code:\n\n```sh\necho \"hi\" && ls ~\n\nexit 0\n```\n");
  button = find_widget (nth_child (view_box (view), 1), GTK_TYPE_BUTTON);
  g_assert_nonnull (button);

  g_signal_emit_by_name (button, "clicked");
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (button), NULL, read_text_cb, &copied);
  WAIT_FOR (copied != NULL);
  g_assert_cmpstr (copied, ==, "echo \"hi\" && ls ~\n\nexit 0");

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

static const char *
scheme_of (GtkWidget *code_block)
{
  GtkWidget *view = find_widget (code_block, GTK_SOURCE_TYPE_VIEW);
  GtkSourceBuffer *buffer = GTK_SOURCE_BUFFER (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)));

  return gtk_source_style_scheme_get_id (gtk_source_buffer_get_style_scheme (buffer));
}

static void
test_view_dark (void)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  ConfabMarkdownView *view = view_new ();
  GtkWidget *block;

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  confab_markdown_view_set_text (view, "```\nx\n```\n");
  block = gtk_widget_get_first_child (view_box (view));
  g_assert_cmpstr (scheme_of (block), ==, "Adwaita");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  g_assert_true (adw_style_manager_get_dark (style));
  g_assert_cmpstr (scheme_of (block), ==, "Adwaita-dark");

  /* Built while dark: dark from the start. */
  confab_markdown_view_set_text (view, "```\ny\n```\n");
  g_assert_cmpstr (scheme_of (gtk_widget_get_first_child (view_box (view))), ==, "Adwaita-dark");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  g_assert_cmpstr (scheme_of (gtk_widget_get_first_child (view_box (view))), ==, "Adwaita");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  g_assert_finalize_object (view);
}

/* Only web and mail links open. */
static void
test_view_links (void)
{
  ConfabMarkdownView *view = view_new ();
  GtkWidget *label;
  gboolean handled = FALSE;

  confab_markdown_view_set_text (view, "[x](file:///etc/passwd)");
  label = gtk_widget_get_first_child (view_box (view));
  g_signal_emit_by_name (label, "activate-link", "file:///etc/passwd", &handled);
  g_assert_true (handled);

  g_assert_finalize_object (view);
}


static void
count_widgets (GtkWidget *widget,
               guint     *n_blocks,
               guint     *n_selectable)
{
  if (CONFAB_IS_TEXT_BLOCK (widget))
    (*n_blocks)++;
  if (GTK_IS_LABEL (widget) && gtk_label_get_selectable (GTK_LABEL (widget)))
    (*n_selectable)++;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    count_widgets (child, n_blocks, n_selectable);
}

/* While a reply streams, its paragraphs are text blocks that lay their
 * text out once per change; they are as tall as the labels they stand
 * for, and the reply looks the same to the pixel. Paragraphs with links are labels all along, so links work while
 * the reply streams. Once the reply is finished, a block becomes the
 * selectable label it stands for when the user may select it (the
 * pointer over it, the keyboard focus on it), and not before: finishing
 * costs nothing. All of them settled, the tree is the one of the whole
 * reply set at once. */
static void
unselect_all (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_label_get_selectable (GTK_LABEL (widget)))
    gtk_label_select_region (GTK_LABEL (widget), 0, 0);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    unselect_all (child);
}

static void
wait_frames (GtkWidget *window,
             guint      n)
{
  guint frames = 0;
  guint id = gtk_widget_add_tick_callback (window, frame_seen_cb, &frames, NULL);

  WAIT_FOR (frames >= n);
  gtk_widget_remove_tick_callback (window, id);
}

/* What @widget draws, as pixels. */
static GBytes *
render_pixels (GtkWidget *widget)
{
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  gsize stride = (gsize)width * 4;
  guchar *data;

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  data = g_malloc (stride * height);
  gdk_texture_download (texture, data, stride);
  return g_bytes_new_take (data, stride * height);
}

/* Moves the real pointer to the middle of @widget's first line, with
 * xdotool on the X display; FALSE where that cannot be done. */
static gboolean
move_pointer_to (GtkWidget *widget)
{
#ifdef GDK_WINDOWING_X11
  GtkNative *native = gtk_widget_get_native (widget);
  GdkSurface *surface = gtk_native_get_surface (native);
  g_autofree char *xdotool = g_find_program_in_path ("xdotool");
  g_autofree char *command = NULL;
  g_autoptr(GError) error = NULL;
  graphene_point_t point;
  double dx, dy;
  int status;

  if (!GDK_IS_X11_SURFACE (surface) || xdotool == NULL)
    return FALSE;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native),
                                           &GRAPHENE_POINT_INIT (gtk_widget_get_width (widget) / 4.0, 8),
                                           &point));
  gtk_native_get_surface_transform (native, &dx, &dy);
  command = g_strdup_printf ("%s mousemove --sync --window %lu %d %d", xdotool,
                             (unsigned long)gdk_x11_surface_get_xid (surface),
                             (int)(point.x + dx), (int)(point.y + dy));
  g_spawn_command_line_sync (command, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL);
#else
  return FALSE;
#endif
}

/* Asks @block to become a label, as the pointer does, and waits until
 * it is gone. */
static void
want_selection (GtkWidget *block)
{
  g_object_ref (block);
  g_signal_emit_by_name (block, "selection-wanted");
  WAIT_FOR (gtk_widget_get_parent (block) == NULL);
  g_object_unref (block);
}

/* Loading a long stored reply holds the window no longer than a frame's
 * rendering: text blocks, the first 4,096 bytes at once, the rest over
 * the next frames; then the view is finished, so a block becomes a label
 * when it is wanted. Loading a reply that still streams leaves the view
 * streaming. */
static void
test_view_load_text (void)
{
  ConfabMarkdownView *view;
  GtkWidget *window = view_in_window (TRUE, &view);
  g_autoptr(GString) text = forty_paragraphs ();
  guint frames = 0, n_blocks = 0, n_selectable = 0;
  GtkWidget *block;

  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (view)));
  gtk_widget_add_tick_callback (window, frame_seen_cb, &frames, NULL);
  confab_markdown_view_load_text (view, text->str, TRUE);
  g_assert_cmpstr (confab_markdown_view_get_text (view), ==, text->str);
  g_assert_cmpuint (n_children (view_box (view)), >, 0);
  g_assert_cmpuint (n_children (view_box (view)), <=, 11);
  g_assert_true (CONFAB_IS_TEXT_BLOCK (nth_child (view_box (view), 0)));

  frames = 0;
  WAIT_FOR (n_children (view_box (view)) == 40);
  g_assert_cmpuint (frames, >=, 3);
  count_widgets (view_box (view), &n_blocks, &n_selectable);
  g_assert_cmpuint (n_blocks, ==, 40);

  /* Finished: wanted, a block becomes its label. */
  block = nth_child (view_box (view), 39);
  want_selection (block);
  g_assert_true (GTK_IS_LABEL (nth_child (view_box (view), 39)));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (nth_child (view_box (view), 39))));

  /* A reply still streaming: what came so far, and it goes on. */
  confab_markdown_view_load_text (view, "So far", FALSE);
  confab_markdown_view_append (view, " and on.", -1);
  confab_markdown_view_flush (view);
  g_assert_cmpuint (n_children (view_box (view)), ==, 1);
  block = nth_child (view_box (view), 0);
  g_assert_true (CONFAB_IS_TEXT_BLOCK (block));
  /* Still streaming: wanting a selection changes nothing yet. */
  g_signal_emit_by_name (block, "selection-wanted");
  frames = 0;
  WAIT_FOR (frames >= 3);
  g_assert_true (nth_child (view_box (view), 0) == block);
  confab_markdown_view_finish (view);
  want_selection (block);
  g_assert_true (GTK_IS_LABEL (nth_child (view_box (view), 0)));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

static void
test_view_settle (void)
{
  GtkWidget *window = gtk_window_new ();
  ConfabMarkdownView *view = CONFAB_MARKDOWN_VIEW (confab_markdown_view_new ());
  ConfabMarkdownView *whole = view_new ();
  g_autofree char *document = streamed_document ();
  g_autofree char *settled_tree = NULL;
  g_autofree char *whole_tree = NULL;
  gsize len = strlen (document);
  guint n_blocks = 0, n_selectable = 0, n_whole_selectable = 0, unused = 0;
  guint renders;
  GtkWidget *block, *focused, *link, *label;
  GtkWidget *hovered = NULL;
  g_autoptr(GBytes) streaming_pixels = NULL;
  int block_height, label_height;

  g_object_ref (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 500, 400);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (gtk_widget_get_mapped (GTK_WIDGET (view)));

  for (gsize done = 0; done < len;)
    {
      gsize n = MIN (len - done, 97);

      confab_markdown_view_append (view, document + done, (gssize)n);
      confab_markdown_view_flush (view);
      done += n;
    }
  count_widgets (GTK_WIDGET (view), &n_blocks, &unused);
  g_assert_cmpuint (n_blocks, >, 10);

  block = find_widget (GTK_WIDGET (view), CONFAB_TYPE_TEXT_BLOCK);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (block)), ==, GTK_ACCESSIBLE_ROLE_LABEL);
  g_assert_true (gtk_widget_get_focusable (block));
  link = find_widget (GTK_WIDGET (view), GTK_TYPE_LABEL);
  while (link != NULL && !gtk_widget_has_css_class (link, "link"))
    link = gtk_widget_get_next_sibling (link);
  g_assert_nonnull (link);
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (link)));

  /* As tall as the label it stands for, at the same width. */
  label = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (label), confab_text_block_get_markup (CONFAB_TEXT_BLOCK (block)));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (block)), label, block);
  for (int width = 120; width <= 600; width += 160)
    {
      gtk_widget_measure (block, GTK_ORIENTATION_VERTICAL, width, &block_height, NULL, NULL, NULL);
      gtk_widget_measure (label, GTK_ORIENTATION_VERTICAL, width, &label_height, NULL, NULL, NULL);
      g_assert_cmpint (block_height, >, 0);
      g_assert_cmpint (block_height, ==, label_height);
    }
  gtk_box_remove (GTK_BOX (gtk_widget_get_parent (label)), label);

  /* Drawn exactly as the labels will be. */
  wait_frames (window, 3);
  streaming_pixels = render_pixels (GTK_WIDGET (view));

  /* While the text streams, the pointer over it changes nothing... */
  if (move_pointer_to (block))
    hovered = g_object_ref (block);
  else
    g_assert_cmpstr (g_getenv ("CONFAB_REQUIRE_DISPLAY"), !=, "1");
  g_signal_emit_by_name (block, "selection-wanted");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (find_widget (GTK_WIDGET (view), CONFAB_TYPE_TEXT_BLOCK) == block);

  /* The last paragraph, still growing, has the keyboard focus; finishing
   * makes it a label that keeps it, and leaves the others as they are. */
  focused = nth_child (view_box (view), n_children (view_box (view)) - 1);
  g_assert_true (CONFAB_IS_TEXT_BLOCK (focused));
  gtk_widget_grab_focus (focused);
  renders = confab_markdown_view_get_n_renders (view);
  confab_markdown_view_finish (view);
  g_assert_cmpuint (confab_markdown_view_get_n_renders (view), ==, renders);
  label = nth_child (view_box (view), n_children (view_box (view)) - 1);
  g_assert_true (GTK_IS_LABEL (label));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (label)));
  g_assert_true (gtk_widget_has_focus (label));

  /* ...but once finished, the one under the pointer becomes a label
   * without waiting for the pointer to move. */
  n_selectable = n_blocks;
  n_blocks = 0;
  count_widgets (GTK_WIDGET (view), &n_blocks, &unused);
  g_assert_cmpuint (n_blocks, ==, n_selectable - 1);
  if (hovered != NULL)
    {
      WAIT_FOR (gtk_widget_get_parent (hovered) == NULL);
      g_clear_object (&hovered);
      n_blocks = 0;
      count_widgets (GTK_WIDGET (view), &n_blocks, &unused);
      g_assert_cmpuint (n_blocks, ==, n_selectable - 2);
    }

  /* The pointer over a block: that one becomes a label, in its place. */
  block = nth_child (view_box (view), 0);
  while (!CONFAB_IS_TEXT_BLOCK (block))
    block = gtk_widget_get_next_sibling (block);
  {
    GtkWidget *before = gtk_widget_get_prev_sibling (block);
    g_autofree char *markup = g_strdup (confab_text_block_get_markup (CONFAB_TEXT_BLOCK (block)));

    want_selection (block);
    label = gtk_widget_get_next_sibling (before);
    g_assert_true (GTK_IS_LABEL (label));
    g_assert_true (gtk_label_get_selectable (GTK_LABEL (label)));
    g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (label)), ==, markup);
  }

  /* Tab to a block: it becomes a label, which has the focus. */
  block = find_widget (GTK_WIDGET (view), CONFAB_TYPE_TEXT_BLOCK);
  {
    GtkWidget *before = gtk_widget_get_prev_sibling (block);
    GtkWidget *parent = gtk_widget_get_parent (block);

    g_object_ref (block);
    gtk_widget_grab_focus (block);
    WAIT_FOR (gtk_widget_get_parent (block) == NULL);
    g_object_unref (block);
    label = before != NULL ? gtk_widget_get_next_sibling (before) : gtk_widget_get_first_child (parent);
    g_assert_true (GTK_IS_LABEL (label));
    g_assert_true (gtk_widget_has_focus (label));
  }

  /* All of them: the same tree as the reply set at once. */
  while ((block = find_widget (GTK_WIDGET (view), CONFAB_TYPE_TEXT_BLOCK)) != NULL)
    want_selection (block);
  n_blocks = n_selectable = 0;
  count_widgets (GTK_WIDGET (view), &n_blocks, &n_selectable);
  g_assert_cmpuint (n_blocks, ==, 0);
  confab_markdown_view_set_text (whole, document);
  count_widgets (GTK_WIDGET (whole), &unused, &n_whole_selectable);
  g_assert_cmpuint (n_selectable, ==, n_whole_selectable);
  settled_tree = describe_view (view);
  whole_tree = describe_view (whole);
  g_assert_cmpstr (settled_tree, ==, whole_tree);
  {
    g_autoptr(GBytes) settled_pixels = NULL;

    /* Without the focus ring of the label that has the focus, and the
     * selection a label makes when Tab reaches it. */
    gtk_window_set_focus (GTK_WINDOW (window), NULL);
    unselect_all (GTK_WIDGET (view));
    wait_frames (window, 3);
    settled_pixels = render_pixels (GTK_WIDGET (view));
    g_assert_cmpuint (g_bytes_get_size (settled_pixels), ==, g_bytes_get_size (streaming_pixels));
    if (!g_bytes_equal (settled_pixels, streaming_pixels))
      {
        const guchar *a = g_bytes_get_data (streaming_pixels, NULL);
        const guchar *b = g_bytes_get_data (settled_pixels, NULL);
        gsize differ = 0, first = 0;

        for (gsize i = 0; i < g_bytes_get_size (settled_pixels); i++)
          if (a[i] != b[i] && differ++ == 0)
            first = i;
        g_error ("%" G_GSIZE_FORMAT " bytes differ, the first at row %" G_GSIZE_FORMAT,
                 differ, first / (gsize)(gtk_widget_get_width (GTK_WIDGET (view)) * 4));
      }
  }

  /* Replaced text is labels at once; what streams after it is in text
   * blocks again. */
  confab_markdown_view_set_text (view, "Plain words.");
  g_assert_true (GTK_IS_LABEL (nth_child (view_box (view), 0)));
  confab_markdown_view_append (view, "\n\nMore words.", -1);
  confab_markdown_view_flush (view);
  g_assert_true (GTK_IS_LABEL (nth_child (view_box (view), 0)));
  g_assert_true (CONFAB_IS_TEXT_BLOCK (nth_child (view_box (view), 1)));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_assert_finalize_object (whole);
}


/* A text block follows the font as a label does (Preferences › font
 * size changes the CSS of the chat). */
static void
test_view_text_block_font (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *block = confab_text_block_new (GTK_ACCESSIBLE_ROLE_LABEL);
  GtkWidget *label = gtk_label_new (NULL);
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  const char *markup = "Some <b>bold</b> words that wrap over a few lines, with caf\xc3\xa9 and \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.";
  int small_block, small_label, big_block, big_label;

  g_object_ref (window);
  gtk_widget_add_css_class (box, "font-test");
  confab_text_block_set_markup (CONFAB_TEXT_BLOCK (block), markup);
  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_box_append (GTK_BOX (box), block);
  gtk_box_append (GTK_BOX (box), label);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 300, 200);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (gtk_widget_get_mapped (block));
  wait_frames (window, 2);

  gtk_widget_measure (block, GTK_ORIENTATION_VERTICAL, 200, &small_block, NULL, NULL, NULL);
  gtk_widget_measure (label, GTK_ORIENTATION_VERTICAL, 200, &small_label, NULL, NULL, NULL);
  g_assert_cmpint (small_block, ==, small_label);

  gtk_css_provider_load_from_data (css, ".font-test { font-size: 30px; }", -1);
  gtk_style_context_add_provider_for_display (gtk_widget_get_display (window), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  wait_frames (window, 2);
  gtk_widget_measure (block, GTK_ORIENTATION_VERTICAL, 200, &big_block, NULL, NULL, NULL);
  gtk_widget_measure (label, GTK_ORIENTATION_VERTICAL, 200, &big_label, NULL, NULL, NULL);
  gtk_style_context_remove_provider_for_display (gtk_widget_get_display (window), GTK_STYLE_PROVIDER (css));

  g_assert_cmpint (big_block, >, small_block);
  g_assert_cmpint (big_block, ==, big_label);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

static const struct
{
  const char *path;
  GTestFunc   func;
} view_tests[] = {
  { "/markdown-view/constructs", test_view_constructs },
  { "/markdown-view/languages", test_view_languages },
  { "/markdown-view/streaming", test_view_streaming },
  { "/markdown-view/open-fence", test_view_open_fence },
  { "/markdown-view/reshape", test_view_reshape },
  { "/markdown-view/invalid-utf8", test_view_invalid_utf8 },
  { "/markdown-view/frame-clock", test_view_frame_clock },
  { "/markdown-view/finish-hidden", test_view_finish_hidden },
  { "/markdown-view/load-text", test_view_load_text },
  { "/markdown-view/copy", test_view_copy },
  { "/markdown-view/long-paragraph", test_view_long_paragraph },
  { "/markdown-view/dark", test_view_dark },
  { "/markdown-view/links", test_view_links },
  { "/markdown-view/settle", test_view_settle },
  { "/markdown-view/text-block-font", test_view_text_block_font },
};

static void
skip_no_display (gconstpointer data)
{
  g_test_skip ("no display");
}

int
main (int   argc,
      char *argv[])
{
  gboolean display;

  /* When run by hand, the same environment meson gives. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_setenv ("NO_AT_BRIDGE", "1", FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", FALSE);

  g_test_init (&argc, &argv, NULL);

  /* The pure half needs no display. */
  g_test_add_func ("/markdown/boundaries/cases", test_boundaries_cases);
  g_test_add_func ("/markdown/boundaries/fence-open", test_boundaries_fence_open);
  g_test_add_func ("/markdown/boundaries/chunked", test_boundaries_chunked);
  g_test_add_func ("/markdown/boundaries/random", test_boundaries_random);
  g_test_add_func ("/markdown/parse/split-rejects", test_parse_split_rejects);
  g_test_add_func ("/markdown/parse/blocks", test_parse_blocks);
  g_test_add_func ("/markdown/parse/inline", test_parse_inline);
  g_test_add_func ("/markdown/parse/markup-valid", test_parse_markup_valid);
  g_test_add_func ("/markdown/sanitize", test_sanitize);
  g_test_add_func ("/markdown/split-markup", test_split_markup);

  display = gtk_init_check ();
  if (!display && g_strcmp0 (g_getenv ("CONFAB_REQUIRE_DISPLAY"), "1") == 0)
    {
      g_print ("Bail out! No display, and CONFAB_REQUIRE_DISPLAY=1\n");
      return 1;
    }

  if (display)
    {
      adw_init ();
      gtk_source_init ();
    }

  /* Without a display the widget tests are reported as skipped. */
  for (guint i = 0; i < G_N_ELEMENTS (view_tests); i++)
    {
      if (display)
        g_test_add_func (view_tests[i].path, view_tests[i].func);
      else
        g_test_add_data_func (view_tests[i].path, NULL, skip_no_display);
    }

  return g_test_run ();
}
