/* confab-file-tools.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "confab-builtin-tools-private.h"
#include "confab-error.h"
#include "confab-file-tools.h"

/* Confinement: a path (relative to the first granted folder, or absolute)
 * is resolved to its real path with realpath(), and used only when that
 * lies inside a granted folder. Real paths have no `..` and no symbolic
 * links left, so neither can lead out. Files are then opened with
 * O_NOFOLLOW and the opened file's own path is checked again, which
 * closes most of the window for a symbolic link swapped in between.
 *
 * The work runs on a GTask worker thread, with the arguments copied on the
 * main thread first, and checks the cancellable between steps.
 */

#define DEFAULT_TIMEOUT       30
#define DEFAULT_READ_MAX_SIZE (256 * 1024)
#define READ_CHUNK            (64 * 1024)
#define MAX_ENTRIES           1000
#define MAX_MATCHES           200
#define MAX_SEARCH_FILE_SIZE  (1024 * 1024)
/* Bytes of a matching line shown; minified files have huge lines. */
#define MAX_MATCH_LINE        300

typedef struct _FileRequest FileRequest;

typedef ConfabToolResult *(*FileWorker) (FileRequest   *request,
                                         GCancellable  *cancellable,
                                         GError       **error);

struct _FileRequest
{
  FileWorker   worker;
  char       **dirs;        /* the granted folders' real paths */
  char        *path;        /* as the model gave it; NULL for "." */
  char        *pattern;
  char        *glob;
  gint64       offset;
  gint64       limit;
  gsize        max_size;
  gboolean     ignore_case;
};

static void
file_request_free (gpointer data)
{
  FileRequest *request = data;

  g_strfreev (request->dirs);
  g_free (request->path);
  g_free (request->pattern);
  g_free (request->glob);
  g_free (request);
}

/* Paths */

static gboolean
path_is_inside (const char *path,
                const char *dir)
{
  gsize len = strlen (dir);

  if (len == 1 && dir[0] == '/')
    return path[0] == '/';
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static gboolean
path_is_granted (char       **dirs,
                 const char  *path)
{
  for (guint i = 0; dirs[i] != NULL; i++)
    if (path_is_inside (path, dirs[i]))
      return TRUE;
  return FALSE;
}

/* How the model sees @real: relative to the first granted folder (which
 * is what relative paths are resolved against), else absolute. Valid
 * UTF-8. */
static char *
display_path (char       **dirs,
              const char  *real)
{
  const char *first = dirs[0];
  gsize len = strlen (first);

  if (g_str_equal (real, first))
    return g_strdup (".");
  if (path_is_inside (real, first))
    return g_filename_display_name (real + len + (len == 1 ? 0 : 1));
  return g_filename_display_name (real);
}

static char *
join_dirs (char **dirs)
{
  g_autoptr(GString) joined = g_string_new (NULL);

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *name = g_filename_display_name (dirs[i]);

      if (i > 0)
        g_string_append (joined, ", ");
      g_string_append (joined, name);
    }
  return g_string_free (g_steal_pointer (&joined), FALSE);
}

/* Returns the real path of @path, or NULL and a clear error when it does
 * not exist or is not inside a granted folder. */
static char *
resolve_path (char       **dirs,
              const char  *path,
              GError     **error)
{
  g_autofree char *full = NULL;
  g_autofree char *lexical = NULL;
  g_autofree char *real = NULL;
  g_autofree char *shown = NULL;
  int saved_errno;

  if (dirs[0] == NULL)
    {
      g_set_error_literal (error, CONFAB_ERROR, CONFAB_ERROR_DENIED,
                           _("The user has not granted any folder to this conversation, so no file "
                             "can be read; they can grant one with “Grant a Folder to Tools” in the "
                             "window's menu (Ctrl+Shift+O), or --allow-dir in confab-cli"));
      return NULL;
    }

  if (path == NULL || path[0] == '\0')
    path = ".";
  shown = g_filename_display_name (path);
  full = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (dirs[0], path, NULL);
  lexical = g_canonicalize_filename (full, NULL);
  real = realpath (full, NULL);
  saved_errno = errno;

  /* Checked before telling whether it exists: nothing is learnt about
   * places outside the granted folders. */
  if (!path_is_granted (dirs, lexical))
    {
      g_autofree char *granted = join_dirs (dirs);

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_DENIED,
                   _("“%s” is outside the folders the user granted (%s)"), shown, granted);
      return NULL;
    }

  if (real == NULL)
    {
      switch (saved_errno)
        {
        case ENOENT:
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_NOT_FOUND, _("“%s” does not exist"), shown);
          break;
        case ENOTDIR:
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_NOT_FOUND,
                       _("“%s” does not exist: part of the path is not a folder"), shown);
          break;
        case ELOOP:
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                       _("“%s” cannot be opened: its symbolic links form a loop"), shown);
          break;
        default:
          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                       _("“%s” cannot be opened: %s"), shown, g_strerror (saved_errno));
          break;
        }
      return NULL;
    }

  if (!path_is_granted (dirs, real))
    {
      g_autofree char *granted = join_dirs (dirs);

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_DENIED,
                   _("“%s” leads outside the folders the user granted (%s) through a symbolic link"),
                   shown, granted);
      return NULL;
    }

  return g_steal_pointer (&real);
}

/* Opens the regular file @real (a resolved path) for reading; -1 and an
 * error for anything else or when the opened file is not where it was
 * resolved to be. */
static int
open_file (char       **dirs,
           const char  *real,
           struct stat *st,
           GError     **error)
{
  g_autofree char *shown = display_path (dirs, real);
  g_autofree char *proc_path = NULL;
  g_autofree char *opened = NULL;
  int fd;

  /* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
  fd = open (real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                   _("“%s” cannot be opened: %s"), shown, g_strerror (saved_errno));
      return -1;
    }

  if (fstat (fd, st) != 0 || !S_ISREG (st->st_mode))
    {
      gboolean is_dir = S_ISDIR (st->st_mode);

      close (fd);
      if (is_dir)
        g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                     _("“%s” is a folder, not a file (list_directory shows what it holds)"), shown);
      else
        g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                     _("“%s” is not a regular file"), shown);
      return -1;
    }

  proc_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  opened = g_file_read_link (proc_path, NULL);
  if (opened != NULL && !path_is_granted (dirs, opened))
    {
      close (fd);
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_DENIED,
                   _("“%s” was moved outside the granted folders while it was opened"), shown);
      return -1;
    }

  return fd;
}

static ssize_t
read_retrying (int    fd,
               char  *buffer,
               gsize  size)
{
  ssize_t n;

  do
    n = read (fd, buffer, size);
  while (n < 0 && errno == EINTR);
  return n;
}

static void
set_binary_error (GError     **error,
                  const char  *shown,
                  goffset      size)
{
  g_autofree char *size_text = g_strdup_printf ("%" G_GOFFSET_FORMAT, size);

  g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
               g_dngettext (GETTEXT_PACKAGE,
                            "“%s” is a binary file (%s byte); only text files can be read",
                            "“%s” is a binary file (%s bytes); only text files can be read",
                            (gulong) MIN (size, G_MAXLONG)),
               shown, size_text);
}

static gboolean
run_worker_cancelled (GCancellable  *cancellable,
                      GError       **error)
{
  return g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* read_file */

typedef struct
{
  GString  *text;
  guint64   line;        /* the line the next byte belongs to */
  guint64   first_line;  /* of the text; 0 when none */
  guint64   last_line;
  goffset   total;       /* bytes read */
  gboolean  cut;         /* the size cap was reached */
  gboolean  more;        /* the line limit was reached */
  gboolean  ends_in_newline;
} LineReader;

/* Takes what lines [offset, offset + limit) of @data need; FALSE when
 * nothing more is wanted. */
static gboolean
line_reader_feed (LineReader  *reader,
                  FileRequest *request,
                  const char  *data,
                  gsize        len)
{
  const char *p = data;
  const char *end = data + len;

  while (p < end)
    {
      const char *newline = memchr (p, '\n', end - p);
      const char *segment_end = newline != NULL ? newline + 1 : end;
      gsize segment_len = segment_end - p;

      if ((gint64) reader->line >= request->offset)
        {
          if (request->limit > 0 && (gint64) reader->line >= request->offset + request->limit)
            {
              reader->more = TRUE;
              return FALSE;
            }
          if (reader->first_line == 0)
            reader->first_line = reader->line;
          reader->last_line = reader->line;
          if (reader->text->len + segment_len > request->max_size)
            {
              g_string_append_len (reader->text, p, request->max_size - reader->text->len);
              reader->cut = TRUE;
              return FALSE;
            }
          g_string_append_len (reader->text, p, segment_len);
        }
      if (newline != NULL)
        reader->line++;
      p = segment_end;
    }
  return TRUE;
}

static ConfabToolResult *
read_file_worker (FileRequest   *request,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree char *real = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *buffer = NULL;
  g_autoptr(GString) text = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) structured = NULL;
  LineReader reader = { NULL, 1, 0, 0, 0, FALSE, FALSE, FALSE };
  ConfabToolResult *result;
  struct stat st;
  gsize text_len;
  int fd;

  real = resolve_path (request->dirs, request->path, error);
  if (real == NULL)
    return NULL;
  fd = open_file (request->dirs, real, &st, error);
  if (fd < 0)
    return NULL;
  shown = display_path (request->dirs, real);

  buffer = g_malloc (READ_CHUNK);
  reader.text = g_string_new (NULL);
  for (;;)
    {
      ssize_t n;

      if (run_worker_cancelled (cancellable, error))
        break;
      n = read_retrying (fd, buffer, READ_CHUNK);
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                       _("“%s” cannot be read: %s"), shown, g_strerror (saved_errno));
          break;
        }
      if (n == 0)
        break;

      if (reader.total < CONFAB_BINARY_SNIFF_SIZE &&
          memchr (buffer, '\0', MIN ((gsize) n, (gsize) (CONFAB_BINARY_SNIFF_SIZE - reader.total))) != NULL)
        {
          set_binary_error (error, shown, st.st_size);
          break;
        }
      reader.total += n;
      reader.ends_in_newline = buffer[n - 1] == '\n';
      if (!line_reader_feed (&reader, request, buffer, n))
        break;
    }
  close (fd);

  text = g_steal_pointer (&reader.text);
  if (error != NULL && *error != NULL)
    return NULL;

  /* A cut in the middle of a character is not binary. */
  text_len = reader.cut ? _confab_utf8_complete_length (text->str, text->len) : text->len;
  g_string_truncate (text, text_len);
  if (!g_utf8_validate_len (text->str, text->len, NULL))
    {
      set_binary_error (error, shown, st.st_size);
      return NULL;
    }

  if (reader.total == 0)
    g_string_append (text, _("[empty file]"));
  else if (reader.first_line == 0)
    {
      guint64 n_lines = reader.ends_in_newline ? reader.line - 1 : reader.line;

      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "[the file has only %llu line]",
                                           "[the file has only %llu lines]",
                                           (gulong) MIN (n_lines, G_MAXULONG)),
                              (unsigned long long) n_lines);
    }
  else if (reader.cut || reader.more)
    {
      if (text->len > 0 && text->str[text->len - 1] != '\n')
        g_string_append_c (text, '\n');
      if (reader.cut)
        {
          g_autofree char *cap = g_format_size (request->max_size);
          g_autofree char *size = g_format_size (st.st_size);

          g_string_append_printf (text,
                                  _("[cut at %s: lines %llu–%llu of a %s file are shown; read on with offset %llu]"),
                                  cap, (unsigned long long) reader.first_line, (unsigned long long) reader.last_line,
                                  size, (unsigned long long) reader.last_line + 1);
        }
      else
        g_string_append_printf (text,
                                _("[lines %llu–%llu are shown; the file goes on: read on with offset %llu]"),
                                (unsigned long long) reader.first_line, (unsigned long long) reader.last_line,
                                (unsigned long long) reader.last_line + 1);
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, shown);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, st.st_size);
  json_builder_set_member_name (builder, "first_line");
  json_builder_add_int_value (builder, reader.first_line);
  json_builder_set_member_name (builder, "last_line");
  json_builder_add_int_value (builder, reader.last_line);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, reader.cut || reader.more);
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  result = confab_tool_result_new (text->str);
  confab_tool_result_set_structured (result, structured);
  return result;
}

/* list_directory */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The entries of @path, sorted; NULL and an error when it cannot be read. */
static GPtrArray *
read_dir_sorted (const char    *path,
                 const char    *shown,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  GDir *dir;
  const char *name;

  dir = g_dir_open (path, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                   _("The folder “%s” cannot be read: %s"), shown, local_error->message);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (names->len % 256 == 255 && run_worker_cancelled (cancellable, error))
        {
          g_dir_close (dir);
          return NULL;
        }
      g_ptr_array_add (names, g_strdup (name));
    }
  g_dir_close (dir);

  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

static ConfabToolResult *
list_directory_worker (FileRequest   *request,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autofree char *real = NULL;
  g_autofree char *shown = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) structured = NULL;
  ConfabToolResult *result;
  struct stat st;
  guint shown_entries;

  real = resolve_path (request->dirs, request->path, error);
  if (real == NULL)
    return NULL;
  shown = display_path (request->dirs, real);
  if (stat (real, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL,
                   _("“%s” is not a folder (read_file reads a file)"), shown);
      return NULL;
    }

  names = read_dir_sorted (real, shown, cancellable, error);
  if (names == NULL)
    return NULL;
  shown_entries = MIN (names->len, MAX_ENTRIES);

  g_string_append_printf (text,
                          g_dngettext (GETTEXT_PACKAGE, "%s: %u entry", "%s: %u entries", names->len),
                          shown, names->len);
  g_string_append_c (text, '\n');

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, shown);
  json_builder_set_member_name (builder, "entries");
  json_builder_begin_array (builder);

  for (guint i = 0; i < shown_entries; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *full = g_build_filename (real, name, NULL);
      g_autofree char *name_shown = g_filename_display_name (name);
      g_autofree char *target = NULL;
      const char *type = "other";
      struct stat lst;
      gint64 size = -1;

      if (i % 256 == 255 && run_worker_cancelled (cancellable, error))
        return NULL;

      g_string_append (text, name_shown);
      if (lstat (full, &lst) == 0)
        {
          if (S_ISLNK (lst.st_mode))
            {
              g_autofree char *target_raw = g_file_read_link (full, NULL);

              type = "link";
              target = target_raw != NULL ? g_filename_display_name (target_raw) : g_strdup ("?");
              if (stat (full, &st) == 0 && S_ISDIR (st.st_mode))
                g_string_append_c (text, '/');
              g_string_append_printf (text, " -> %s", target);
            }
          else if (S_ISDIR (lst.st_mode))
            {
              type = "folder";
              g_string_append_c (text, '/');
            }
          else if (S_ISREG (lst.st_mode))
            {
              g_autofree char *size_text = g_format_size (lst.st_size);

              type = "file";
              size = lst.st_size;
              g_string_append_printf (text, " (%s)", size_text);
            }
        }
      g_string_append_c (text, '\n');

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name_shown);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, type);
      if (size >= 0)
        {
          json_builder_set_member_name (builder, "size");
          json_builder_add_int_value (builder, size);
        }
      if (target != NULL)
        {
          json_builder_set_member_name (builder, "target");
          json_builder_add_string_value (builder, target);
        }
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "total");
  json_builder_add_int_value (builder, names->len);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, names->len > shown_entries);
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  if (names->len > shown_entries)
    {
      guint rest = names->len - shown_entries;

      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "[%u more entry not shown]",
                                           "[%u more entries not shown]",
                                           rest),
                              rest);
      g_string_append_c (text, '\n');
    }

  result = confab_tool_result_new (text->str);
  confab_tool_result_set_structured (result, structured);
  return result;
}

/* search_files */

typedef struct
{
  FileRequest  *request;
  GCancellable *cancellable;
  GPatternSpec *glob;
  char         *needle;          /* case-folded when ignoring case */
  GString      *text;
  JsonBuilder  *builder;         /* inside the "matches" array */
  guint         n_matches;
  guint         n_files;
  guint         n_files_matching;
  guint         n_binary;
  guint         n_large;
  gboolean      truncated;
} Search;

static gboolean
line_matches (Search     *search,
              const char *line,
              gsize       len)
{
  g_autofree char *folded = NULL;

  if (!search->request->ignore_case)
    return g_strstr_len (line, len, search->needle) != NULL;

  folded = g_utf8_casefold (line, len);
  return strstr (folded, search->needle) != NULL;
}

static void
add_match (Search     *search,
           const char *shown,
           guint       line_number,
           const char *line,
           gsize       len)
{
  g_autofree char *excerpt = NULL;

  if (len > MAX_MATCH_LINE)
    {
      g_autofree char *cut = g_strndup (line, _confab_utf8_complete_length (line, MAX_MATCH_LINE));

      excerpt = g_strconcat (cut, "…", NULL);
    }
  else
    excerpt = g_strndup (line, len);

  g_string_append_printf (search->text, "%s:%u: %s\n", shown, line_number, excerpt);

  json_builder_begin_object (search->builder);
  json_builder_set_member_name (search->builder, "path");
  json_builder_add_string_value (search->builder, shown);
  json_builder_set_member_name (search->builder, "line");
  json_builder_add_int_value (search->builder, line_number);
  json_builder_set_member_name (search->builder, "text");
  json_builder_add_string_value (search->builder, excerpt);
  json_builder_end_object (search->builder);
}

/* Searches the file @path (resolved, inside a granted folder); FALSE
 * when the search is over (enough matches). */
static gboolean
search_file (Search     *search,
             const char *path,
             const char *shown)
{
  g_autofree char *contents = NULL;
  struct stat st;
  gsize len = 0;
  guint line_number = 0;
  guint before = search->n_matches;
  const char *p;
  const char *end;
  int fd;

  fd = open_file (search->request->dirs, path, &st, NULL);
  if (fd < 0)
    return TRUE;
  if (st.st_size > MAX_SEARCH_FILE_SIZE)
    {
      close (fd);
      search->n_large++;
      return TRUE;
    }

  /* One byte more than allowed: a file that grew since fstat() is cut. */
  contents = g_malloc (MAX_SEARCH_FILE_SIZE + 1);
  while (len < MAX_SEARCH_FILE_SIZE + 1)
    {
      ssize_t n = read_retrying (fd, contents + len, MAX_SEARCH_FILE_SIZE + 1 - len);

      if (n <= 0)
        break;
      len += n;
    }
  close (fd);
  search->n_files++;

  if (len > MAX_SEARCH_FILE_SIZE)
    {
      search->n_large++;
      return TRUE;
    }
  if (memchr (contents, '\0', MIN (len, CONFAB_BINARY_SNIFF_SIZE)) != NULL ||
      !g_utf8_validate_len (contents, len, NULL))
    {
      search->n_binary++;
      return TRUE;
    }

  for (p = contents, end = contents + len; p < end; )
    {
      const char *newline = memchr (p, '\n', end - p);
      const char *line_end = newline != NULL ? newline : end;
      gsize line_len = line_end - p;

      line_number++;
      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;
      if (line_matches (search, p, line_len))
        {
          /* One match past the cap tells that there were more. */
          if (search->n_matches == MAX_MATCHES)
            {
              search->truncated = TRUE;
              break;
            }
          add_match (search, shown, line_number, p, line_len);
          search->n_matches++;
        }
      p = newline != NULL ? newline + 1 : end;
    }

  if (search->n_matches > before)
    search->n_files_matching++;
  return !search->truncated;
}

static gboolean
is_skipped_folder (const char *name)
{
  return g_str_equal (name, ".git") || g_str_equal (name, ".hg") || g_str_equal (name, ".svn");
}

/* Walks the folder @root depth first in sorted order, without following
 * symbolic links to folders (they could lead out, or loop). Symbolic
 * links to files are searched when their target is in a granted folder. */
static gboolean
search_tree (Search      *search,
             const char  *root,
             GError     **error)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (stack, g_strdup (root));
  while (stack->len > 0)
    {
      g_autofree char *dir = g_ptr_array_steal_index (stack, stack->len - 1);
      g_autofree char *dir_shown = display_path (search->request->dirs, dir);
      g_autoptr(GPtrArray) names = NULL;
      g_autoptr(GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_free);

      if (run_worker_cancelled (search->cancellable, error))
        return FALSE;

      /* An unreadable folder below the root is skipped. */
      names = read_dir_sorted (dir, dir_shown, search->cancellable, NULL);
      if (names == NULL)
        continue;

      for (guint i = 0; i < names->len; i++)
        {
          const char *name = g_ptr_array_index (names, i);
          g_autofree char *full = g_build_filename (dir, name, NULL);
          g_autofree char *real = NULL;
          g_autofree char *shown = NULL;
          struct stat st;

          if (run_worker_cancelled (search->cancellable, error))
            return FALSE;
          if (lstat (full, &st) != 0)
            continue;

          if (S_ISDIR (st.st_mode))
            {
              if (!is_skipped_folder (name))
                g_ptr_array_add (subdirs, g_steal_pointer (&full));
              continue;
            }
          if (search->glob != NULL && !g_pattern_spec_match_string (search->glob, name))
            continue;
          if (S_ISLNK (st.st_mode))
            {
              real = realpath (full, NULL);
              if (real == NULL || !path_is_granted (search->request->dirs, real) ||
                  stat (real, &st) != 0 || !S_ISREG (st.st_mode))
                continue;
            }
          else if (!S_ISREG (st.st_mode))
            continue;

          shown = display_path (search->request->dirs, full);
          if (!search_file (search, real != NULL ? real : full, shown))
            return TRUE;
        }

      /* Reversed, so the stack hands them back in sorted order. */
      for (guint i = subdirs->len; i > 0; i--)
        g_ptr_array_add (stack, g_ptr_array_steal_index (subdirs, i - 1));
    }
  return TRUE;
}

static ConfabToolResult *
search_files_worker (FileRequest   *request,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autofree char *real = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *needle = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) structured = NULL;
  g_autoptr(GPatternSpec) glob = NULL;
  ConfabToolResult *result;
  Search search = { 0, };
  struct stat st;
  gboolean ok;

  real = resolve_path (request->dirs, request->path, error);
  if (real == NULL)
    return NULL;
  shown = display_path (request->dirs, real);
  if (stat (real, &st) != 0)
    {
      g_set_error (error, CONFAB_ERROR, CONFAB_ERROR_TOOL, _("“%s” cannot be read"), shown);
      return NULL;
    }

  needle = request->ignore_case ? g_utf8_casefold (request->pattern, -1) : g_strdup (request->pattern);
  if (request->glob != NULL && request->glob[0] != '\0')
    glob = g_pattern_spec_new (request->glob);

  search.request = request;
  search.cancellable = cancellable;
  search.glob = glob;
  search.needle = needle;
  search.text = text;
  search.builder = builder;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "matches");
  json_builder_begin_array (builder);

  if (S_ISDIR (st.st_mode))
    ok = search_tree (&search, real, error);
  else
    {
      search_file (&search, real, shown);
      ok = !run_worker_cancelled (cancellable, error);
    }
  if (!ok)
    return NULL;

  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "truncated");
  json_builder_add_boolean_value (builder, search.truncated);
  json_builder_set_member_name (builder, "files_searched");
  json_builder_add_int_value (builder, search.n_files);
  json_builder_set_member_name (builder, "skipped_binary");
  json_builder_add_int_value (builder, search.n_binary);
  json_builder_set_member_name (builder, "skipped_large");
  json_builder_add_int_value (builder, search.n_large);
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  if (search.n_matches == 0)
    g_string_append_printf (text, _("[no line contains “%s”]"), request->pattern);
  else if (search.truncated)
    g_string_append_printf (text,
                            _("[stopped at %u matches; narrow the search with “path” or “glob”]"),
                            search.n_matches);
  else
    {
      g_autofree char *matches = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u match", "%u matches",
                                                               search.n_matches),
                                                  search.n_matches);
      g_autofree char *files = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file", "%u files",
                                                             search.n_files_matching),
                                                search.n_files_matching);

      /* Translators: “[3 matches in 2 files]” */
      g_string_append_printf (text, _("[%s in %s]"), matches, files);
    }
  g_string_append_c (text, '\n');
  if (search.n_binary > 0)
    {
      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "[%u binary file skipped]",
                                           "[%u binary files skipped]",
                                           search.n_binary),
                              search.n_binary);
      g_string_append_c (text, '\n');
    }
  if (search.n_large > 0)
    {
      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "[%u file over 1 MiB skipped]",
                                           "[%u files over 1 MiB skipped]",
                                           search.n_large),
                              search.n_large);
      g_string_append_c (text, '\n');
    }

  result = confab_tool_result_new (text->str);
  confab_tool_result_set_structured (result, structured);
  return result;
}

/* Running */

static void
file_worker_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  FileRequest *request = task_data;
  GError *error = NULL;
  ConfabToolResult *result;

  result = request->worker (request, cancellable, &error);
  if (result != NULL)
    g_task_return_pointer (task, result, g_object_unref);
  else
    g_task_return_error (task, error);
}

/* Takes @request; fails at once with @error when it is set. */
static void
file_tool_start (ConfabTool          *tool,
                 ConfabToolContext   *context,
                 FileRequest         *request,
                 GError              *error,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (tool, cancellable, callback, user_data);

  g_task_set_source_tag (task, file_tool_start);
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, request, file_request_free);

  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  request->dirs = g_strdupv ((char **) confab_tool_context_get_allowed_dirs (context));
  g_task_run_in_thread (task, file_worker_thread);
}

static ConfabToolResult *
file_tool_run_finish (ConfabTool    *tool,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static FileRequest *
file_request_new (ConfabTool  *tool,
                  JsonObject  *arguments,
                  FileWorker   worker,
                  gboolean     path_required,
                  GError     **error)
{
  FileRequest *request = g_new0 (FileRequest, 1);
  const char *path;

  request->worker = worker;
  path = confab_tool_get_string_arg (tool, arguments, "path", path_required, error);
  request->path = g_strdup (path);
  return request;
}

/* ConfabReadFileTool */

struct _ConfabReadFileTool
{
  ConfabTool parent_instance;

  gsize      max_size;
};

G_DEFINE_FINAL_TYPE (ConfabReadFileTool, confab_read_file_tool, CONFAB_TYPE_TOOL)

enum {
  READ_PROP_0,
  READ_PROP_MAX_SIZE,
  READ_N_PROPS
};

static GParamSpec *read_properties[READ_N_PROPS];

static void
confab_read_file_tool_run_async (ConfabTool          *tool,
                                 ConfabToolContext   *context,
                                 JsonObject          *arguments,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  ConfabReadFileTool *self = CONFAB_READ_FILE_TOOL (tool);
  GError *error = NULL;
  FileRequest *request;

  request = file_request_new (tool, arguments, read_file_worker, TRUE, &error);
  request->max_size = self->max_size;
  if (error == NULL &&
      confab_tool_get_int_arg (tool, arguments, "offset", 1, &request->offset, &error) &&
      confab_tool_get_int_arg (tool, arguments, "limit", 0, &request->limit, &error))
    {
      if (request->offset < 0 || request->limit < 0)
        g_set_error (&error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT,
                     _("“offset” and “limit” cannot be negative"));
      request->offset = MAX (request->offset, 1);
    }

  file_tool_start (tool, context, request, error, cancellable, callback, user_data);
}

static void
confab_read_file_tool_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ConfabReadFileTool *self = CONFAB_READ_FILE_TOOL (object);

  switch (prop_id)
    {
    case READ_PROP_MAX_SIZE:
      g_value_set_uint64 (value, self->max_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_read_file_tool_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  ConfabReadFileTool *self = CONFAB_READ_FILE_TOOL (object);

  switch (prop_id)
    {
    case READ_PROP_MAX_SIZE:
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
confab_read_file_tool_class_init (ConfabReadFileToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  object_class->get_property = confab_read_file_tool_get_property;
  object_class->set_property = confab_read_file_tool_set_property;

  tool_class->run_async = confab_read_file_tool_run_async;
  tool_class->run_finish = file_tool_run_finish;

  /**
   * ConfabReadFileTool:max-size:
   *
   * Bytes of a file one call returns at most.
   */
  read_properties[READ_PROP_MAX_SIZE] =
    g_param_spec_uint64 ("max-size", NULL, NULL,
                         1, G_MAXSIZE, DEFAULT_READ_MAX_SIZE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, READ_N_PROPS, read_properties);
}

static void
confab_read_file_tool_init (ConfabReadFileTool *self)
{
  self->max_size = DEFAULT_READ_MAX_SIZE;
}

ConfabTool *
confab_read_file_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{"
      "\"type\": \"object\","
      "\"properties\": {"
        "\"path\": {"
          "\"type\": \"string\","
          "\"description\": \"The file: relative to the first granted folder, or absolute.\""
        "},"
        "\"offset\": {"
          "\"type\": \"integer\","
          "\"minimum\": 1,"
          "\"description\": \"The line to start at (1 is the first line). Default 1.\""
        "},"
        "\"limit\": {"
          "\"type\": \"integer\","
          "\"minimum\": 1,"
          "\"description\": \"How many lines to read at most. Default: to the end, up to 256 KiB.\""
        "}"
      "},"
      "\"required\": [\"path\"]"
    "}");

  return g_object_new (CONFAB_TYPE_READ_FILE_TOOL,
                       "name", "read_file",
                       "description",
                       "Read a text file inside the folders the user granted to this conversation. Returns "
                       "the file's text; at most 256 KiB per call, with a note saying where to continue "
                       "(use offset and limit to read a long file in parts). Binary files are refused. "
                       "Paths outside the granted folders, also through symbolic links, are refused.",
                       "parameters", parameters,
                       "needs-approval", FALSE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}

/* ConfabListDirectoryTool */

struct _ConfabListDirectoryTool
{
  ConfabTool parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabListDirectoryTool, confab_list_directory_tool, CONFAB_TYPE_TOOL)

static void
confab_list_directory_tool_run_async (ConfabTool          *tool,
                                      ConfabToolContext   *context,
                                      JsonObject          *arguments,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GError *error = NULL;
  FileRequest *request = file_request_new (tool, arguments, list_directory_worker, FALSE, &error);

  file_tool_start (tool, context, request, error, cancellable, callback, user_data);
}

static void
confab_list_directory_tool_class_init (ConfabListDirectoryToolClass *klass)
{
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  tool_class->run_async = confab_list_directory_tool_run_async;
  tool_class->run_finish = file_tool_run_finish;
}

static void
confab_list_directory_tool_init (ConfabListDirectoryTool *self)
{
}

ConfabTool *
confab_list_directory_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{"
      "\"type\": \"object\","
      "\"properties\": {"
        "\"path\": {"
          "\"type\": \"string\","
          "\"description\": \"The folder: relative to the first granted folder, or absolute. Default: the first granted folder.\""
        "}"
      "}"
    "}");

  return g_object_new (CONFAB_TYPE_LIST_DIRECTORY_TOOL,
                       "name", "list_directory",
                       "description",
                       "List a folder inside the folders the user granted to this conversation: one entry "
                       "a line, sorted by name, folders ending in “/”, files with their size, symbolic "
                       "links with their target. At most 1000 entries.",
                       "parameters", parameters,
                       "needs-approval", FALSE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}

/* ConfabSearchFilesTool */

struct _ConfabSearchFilesTool
{
  ConfabTool parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabSearchFilesTool, confab_search_files_tool, CONFAB_TYPE_TOOL)

static void
confab_search_files_tool_run_async (ConfabTool          *tool,
                                    ConfabToolContext   *context,
                                    JsonObject          *arguments,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GError *error = NULL;
  FileRequest *request = file_request_new (tool, arguments, search_files_worker, FALSE, &error);

  if (error == NULL)
    {
      const char *pattern = confab_tool_get_string_arg (tool, arguments, "pattern", TRUE, &error);
      const char *glob = NULL;

      if (pattern != NULL && pattern[0] == '\0')
        g_set_error (&error, CONFAB_ERROR, CONFAB_ERROR_INVALID_ARGUMENT, _("The search text is empty"));
      if (error == NULL)
        glob = confab_tool_get_string_arg (tool, arguments, "glob", FALSE, &error);
      if (error == NULL)
        confab_tool_get_bool_arg (tool, arguments, "ignore_case", FALSE, &request->ignore_case, &error);
      request->pattern = g_strdup (pattern);
      request->glob = g_strdup (glob);
    }

  file_tool_start (tool, context, request, error, cancellable, callback, user_data);
}

static void
confab_search_files_tool_class_init (ConfabSearchFilesToolClass *klass)
{
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  tool_class->run_async = confab_search_files_tool_run_async;
  tool_class->run_finish = file_tool_run_finish;
}

static void
confab_search_files_tool_init (ConfabSearchFilesTool *self)
{
}

ConfabTool *
confab_search_files_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{"
      "\"type\": \"object\","
      "\"properties\": {"
        "\"pattern\": {"
          "\"type\": \"string\","
          "\"description\": \"The text to find (plain text, not a regular expression).\""
        "},"
        "\"path\": {"
          "\"type\": \"string\","
          "\"description\": \"The folder (or one file) to search: relative to the first granted folder, or absolute. Default: the first granted folder.\""
        "},"
        "\"glob\": {"
          "\"type\": \"string\","
          "\"description\": \"Only search files whose name matches this pattern, for example *.c (* and ? as wildcards).\""
        "},"
        "\"ignore_case\": {"
          "\"type\": \"boolean\","
          "\"description\": \"Match regardless of case. Default false.\""
        "}"
      "},"
      "\"required\": [\"pattern\"]"
    "}");

  return g_object_new (CONFAB_TYPE_SEARCH_FILES_TOOL,
                       "name", "search_files",
                       "description",
                       "Find the lines that contain a text in the files of a folder and its subfolders, "
                       "inside the folders the user granted to this conversation. Returns one line per "
                       "match as “path:line: text”. At most 200 matches; binary files, files over 1 MiB, "
                       ".git folders and symbolic links to folders are skipped.",
                       "parameters", parameters,
                       "needs-approval", FALSE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}
