/* confab-file-tools.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool.h"

G_BEGIN_DECLS

/* The built-in file tools: read_file, list_directory and search_files.
 * They never ask for approval, and they only reach what lies inside the
 * folders granted in the call's ConfabToolContext (real paths, so no `..`
 * or symbolic link leads out). They work on a worker thread; create and
 * run them from the main thread. */

#define CONFAB_TYPE_READ_FILE_TOOL (confab_read_file_tool_get_type ())
G_DECLARE_FINAL_TYPE (ConfabReadFileTool, confab_read_file_tool, CONFAB, READ_FILE_TOOL, ConfabTool)

#define CONFAB_TYPE_LIST_DIRECTORY_TOOL (confab_list_directory_tool_get_type ())
G_DECLARE_FINAL_TYPE (ConfabListDirectoryTool, confab_list_directory_tool, CONFAB, LIST_DIRECTORY_TOOL, ConfabTool)

#define CONFAB_TYPE_SEARCH_FILES_TOOL (confab_search_files_tool_get_type ())
G_DECLARE_FINAL_TYPE (ConfabSearchFilesTool, confab_search_files_tool, CONFAB, SEARCH_FILES_TOOL, ConfabTool)

/* "read_file": a text file, or some of its lines. Its "max-size"
 * property (bytes, 256 KiB by default) caps what one call returns. */
ConfabTool *confab_read_file_tool_new      (void);
/* "list_directory": a folder's entries, sorted, at most 1000. */
ConfabTool *confab_list_directory_tool_new (void);
/* "search_files": lines containing a text, in a folder and below; at
 * most 200 matches. */
ConfabTool *confab_search_files_tool_new   (void);

G_END_DECLS
