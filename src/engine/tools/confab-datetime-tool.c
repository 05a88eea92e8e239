/* confab-datetime-tool.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "confab-datetime-tool.h"

/* Models do not know what day it is. The answer is the computer's local
 * time, as ISO 8601 with its UTC offset, the time zone and the weekday. */

#define DEFAULT_TIMEOUT 5

struct _ConfabDatetimeTool
{
  ConfabTool parent_instance;
};

G_DEFINE_FINAL_TYPE (ConfabDatetimeTool, confab_datetime_tool, CONFAB_TYPE_TOOL)

static void
confab_datetime_tool_run_async (ConfabTool          *tool,
                                ConfabToolContext   *context,
                                JsonObject          *arguments,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  /* In English in the structured form, whatever the user's language. */
  static const char * const weekdays[] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
  };
  g_autoptr(GTask) task = g_task_new (tool, cancellable, callback, user_data);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) structured = NULL;
  g_autofree char *iso = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S%:z");
  g_autofree char *offset = g_date_time_format (now, "%:z");
  g_autofree char *weekday = g_date_time_format (now, "%A");
  g_autofree char *text = NULL;
  GTimeZone *zone = g_date_time_get_timezone (now);
  const char *zone_id = g_time_zone_get_identifier (zone);
  const char *abbreviation = g_date_time_get_timezone_abbreviation (now);
  ConfabToolResult *result;

  g_task_set_source_tag (task, confab_datetime_tool_run_async);

  /* Translators: “2026-11-23T14:05:09+01:00, Monday, time zone
   * Europe/Paris (CET, UTC+01:00)” */
  text = g_strdup_printf (_("%s, %s, time zone %s (%s, UTC%s)"), iso, weekday, zone_id, abbreviation, offset);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "datetime");
  json_builder_add_string_value (builder, iso);
  json_builder_set_member_name (builder, "weekday");
  json_builder_add_string_value (builder, weekdays[g_date_time_get_day_of_week (now) - 1]);
  json_builder_set_member_name (builder, "time_zone");
  json_builder_add_string_value (builder, zone_id);
  json_builder_set_member_name (builder, "abbreviation");
  json_builder_add_string_value (builder, abbreviation);
  json_builder_set_member_name (builder, "utc_offset");
  json_builder_add_string_value (builder, offset);
  json_builder_set_member_name (builder, "unix_time");
  json_builder_add_int_value (builder, g_date_time_to_unix (now));
  json_builder_end_object (builder);
  structured = json_builder_get_root (builder);

  result = confab_tool_result_new (text);
  confab_tool_result_set_structured (result, structured);
  g_task_return_pointer (task, result, g_object_unref);
}

static ConfabToolResult *
confab_datetime_tool_run_finish (ConfabTool    *tool,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
confab_datetime_tool_class_init (ConfabDatetimeToolClass *klass)
{
  ConfabToolClass *tool_class = CONFAB_TOOL_CLASS (klass);

  tool_class->run_async = confab_datetime_tool_run_async;
  tool_class->run_finish = confab_datetime_tool_run_finish;
}

static void
confab_datetime_tool_init (ConfabDatetimeTool *self)
{
}

ConfabTool *
confab_datetime_tool_new (void)
{
  g_autoptr(JsonNode) parameters =
    confab_tool_schema_from_string ("{\"type\": \"object\", \"properties\": {}}");

  return g_object_new (CONFAB_TYPE_DATETIME_TOOL,
                       "name", "current_datetime",
                       "description",
                       "Get the current local date and time of the user's computer: ISO 8601 with the UTC "
                       "offset, the weekday and the time zone.",
                       "parameters", parameters,
                       "needs-approval", FALSE,
                       "timeout", DEFAULT_TIMEOUT,
                       NULL);
}
