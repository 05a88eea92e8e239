/* confab-markdown-view.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CONFAB_TYPE_MARKDOWN_VIEW (confab_markdown_view_get_type ())

G_DECLARE_FINAL_TYPE (ConfabMarkdownView, confab_markdown_view, CONFAB, MARKDOWN_VIEW, GtkWidget)

/* Shows Markdown as widgets: labels for text, GtkSourceView for code,
 * a grid for tables. Made for replies that stream in: appending is cheap,
 * rendering happens at most once per frame and only touches the last
 * block. All functions are for the main thread only.
 */

/* Returns a new, empty view (floating, like any widget). */
GtkWidget  *confab_markdown_view_new           (void);

/* Replaces the whole text with @markdown (NULL means empty) and renders
 * it at once. */
void        confab_markdown_view_set_text      (ConfabMarkdownView *self,
                                                const char         *markdown);

/* Replaces the whole text with @markdown (NULL means empty) without
 * holding the window however long it is: it is shown as if it had
 * streamed in, one frame's rendering at once and the rest over the next
 * frames once the view is mapped. @complete: nothing will be appended
 * (the view finishes by itself, see confab_markdown_view_finish());
 * otherwise appending goes on and finish() follows. */
void        confab_markdown_view_load_text     (ConfabMarkdownView *self,
                                                const char         *markdown,
                                                gboolean            complete);

/* Appends @len bytes of @text (all of it up to its nul when @len is -1).
 * The text may end anywhere, even inside a UTF-8 character. Nothing is
 * rendered here: one render per frame picks up everything appended since
 * the last, or the view renders when it is next mapped. */
void        confab_markdown_view_append        (ConfabMarkdownView *self,
                                                const char         *text,
                                                gssize              len);

/* The Markdown source as set and appended, invalid UTF-8 replaced.
 * Owned by the view, valid until it next changes. */
const char *confab_markdown_view_get_text      (ConfabMarkdownView *self);

/* Renders whatever was appended and not shown yet, now. */
void        confab_markdown_view_flush         (ConfabMarkdownView *self);

/* The text is complete: renders it, and lets the text that streamed in
 * become selectable (while it streams it is shown by widgets that lay
 * text out more cheaply; each becomes a selectable label when the
 * pointer or the keyboard focus comes to it). More than a frame's
 * rendering left (the view was hidden while text came in) is rendered
 * over the next frames once the view is mapped, as while streaming. */
void        confab_markdown_view_finish        (ConfabMarkdownView *self);

/* How many top-level blocks were built or updated since the view was
 * created: a measure of rendering work, for tests. */
guint       confab_markdown_view_get_n_renders (ConfabMarkdownView *self);

G_END_DECLS
