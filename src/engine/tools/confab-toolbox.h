/* confab-toolbox.h
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "confab-tool.h"

G_BEGIN_DECLS

#define CONFAB_TYPE_TOOLBOX (confab_toolbox_get_type ())
G_DECLARE_FINAL_TYPE (ConfabToolbox, confab_toolbox, CONFAB, TOOLBOX, GObject)

/* The tools a turn may use, as a GListModel of ConfabTool sorted by
 * name, and the user's policy for each. */
ConfabToolbox    *confab_toolbox_new        (void);
/* Adds @tool, replacing a tool of the same name. */
void              confab_toolbox_add        (ConfabToolbox    *self,
                                             ConfabTool       *tool);
gboolean          confab_toolbox_remove     (ConfabToolbox    *self,
                                             const char       *name);
ConfabTool       *confab_toolbox_lookup     (ConfabToolbox    *self,
                                             const char       *name);
guint             confab_toolbox_get_n_tools (ConfabToolbox   *self);
/* The policy set for @name, or the tool's default: ask if it needs
 * approval, allow otherwise (ask for a name no tool has). */
ConfabToolPolicy  confab_toolbox_get_policy (ConfabToolbox    *self,
                                             const char       *name);
void              confab_toolbox_set_policy (ConfabToolbox    *self,
                                             const char       *name,
                                             ConfabToolPolicy  policy);
/* Forgets the policy set for @name: the tool's default applies again. */
void              confab_toolbox_reset_policy (ConfabToolbox  *self,
                                               const char     *name);
/* Forgets every policy set: the tools' defaults apply again. */
void              confab_toolbox_clear_policies (ConfabToolbox *self);
/* What the model is told: one spec per tool whose policy is not never. */
GPtrArray        *confab_toolbox_dup_specs  (ConfabToolbox    *self);

G_END_DECLS
