/* test-style.c: src/ui/style.css parses, and every named colour it uses is
 * one libadwaita defines, in the light and in the dark style.
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

static const char *css_path;

static void
parsing_error_cb (GtkCssProvider *provider,
                  GtkCssSection  *section,
                  const GError   *error,
                  gpointer        user_data)
{
  guint *n_errors = user_data;
  g_autofree char *location = gtk_css_section_to_string (section);

  g_printerr ("%s: %s\n", location, error->message);
  (*n_errors)++;
}

static void
test_style_parses (void)
{
  g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();
  guint n_errors = 0;

  g_signal_connect (provider, "parsing-error", G_CALLBACK (parsing_error_cb), &n_errors);
  gtk_css_provider_load_from_path (provider, css_path);
  g_assert_cmpuint (n_errors, ==, 0);
}

static void
test_style_has_classes (void)
{
  static const char * const selectors[] = {
    ".message.user", ".message.assistant", ".reasoning",
    ".code-block", ".tool-card", ".error-card",
  };
  g_autofree char *css = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (css_path, &css, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (selectors); i++)
    {
      g_test_message ("selector %s", selectors[i]);
      g_assert_nonnull (strstr (css, selectors[i]));
    }
}

static void
check_named_colours (AdwColorScheme scheme)
{
  g_autofree char *css = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  GtkWidget *widget;
  GtkStyleContext *context;
  guint n_checked = 0;

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), scheme);

  g_file_get_contents (css_path, &css, NULL, &error);
  g_assert_no_error (error);

  widget = g_object_ref_sink (gtk_label_new (NULL));
  context = gtk_widget_get_style_context (widget);

  /* Comments may mention names too; strip them before looking. */
  regex = g_regex_new ("/\\*.*?\\*/", G_REGEX_DOTALL, 0, &error);
  g_assert_no_error (error);
  {
    g_autofree char *code = g_regex_replace_literal (regex, css, -1, 0, "", 0, &error);
    g_autoptr(GRegex) names = NULL;

    g_assert_no_error (error);
    names = g_regex_new ("@([a-z_]+)", 0, 0, &error);
    g_assert_no_error (error);

    g_regex_match (names, code, 0, &match);
    while (g_match_info_matches (match))
      {
        g_autofree char *name = g_match_info_fetch (match, 1);
        GdkRGBA colour;

        if (!gtk_style_context_lookup_color (context, name, &colour))
          g_error ("style.css uses @%s, which libadwaita does not define", name);
        n_checked++;
        g_match_info_next (match, NULL);
      }
  }

  g_assert_cmpuint (n_checked, >, 0);
  g_object_unref (widget);
}

static void
test_style_colours_light (void)
{
  check_named_colours (ADW_COLOR_SCHEME_FORCE_LIGHT);
}

static void
test_style_colours_dark (void)
{
  check_named_colours (ADW_COLOR_SCHEME_FORCE_DARK);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (argc < 2)
    g_error ("usage: test-style STYLE.CSS");
  css_path = argv[1];

  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }
  adw_init ();

  g_test_add_func ("/style/parses", test_style_parses);
  g_test_add_func ("/style/has-classes", test_style_has_classes);
  g_test_add_func ("/style/colours/light", test_style_colours_light);
  g_test_add_func ("/style/colours/dark", test_style_colours_dark);

  return g_test_run ();
}
