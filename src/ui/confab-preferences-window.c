/* confab-preferences-window.c
 *
 * Copyright 2026 The Confab developers
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "confab-application.h"
#include "confab-form-private.h"
#include "confab-mcp-page.h"
#include "confab-preferences-window.h"
#include "confab-tools-page.h"

/* Two pages. "Providers" lists the stored provider configurations, one
 * expander row each, editable in place (saved on apply), with a test of
 * the connection and removal; a form below adds one. "Chat" holds the
 * defaults for new conversations and how messages look, all GSettings.
 * In the app, two more follow: "Tools" (confab-tools-page.c) and "MCP
 * Servers" (confab-mcp-page.c).
 *
 * Every store, keyring and network call is asynchronous and uses
 * self->cancellable, cancelled in dispose. A call holds a reference on
 * the window (and on its row), and its callback returns at once when the
 * window was disposed meanwhile, so no callback touches a widget that is
 * gone. API keys only ever travel from an entry to the keyring: the
 * entries are emptied once the key is handed over, and the window shows
 * whether a key is stored, never the key. */

#define SETTINGS_SCHEMA_ID "io.github.confab.Confab"

/* A test of the connection gives up after this long, and tries once. */
#define TEST_TIMEOUT_S 10

/* How many model names a successful test shows. */
#define TEST_SHOWN_MODELS 5

#define PROVIDER_ROW_KEY "confab-provider-row"

typedef struct
{
  const char *id;
  const char *label;
  gboolean    translatable;
  const char *api;
  const char *base_url;
  gboolean    needs_key;
} Preset;

/* Kept in step with confab_preferences_window_add_provider_template(). */
static const Preset presets[] = {
  { "ollama", "Ollama", FALSE, "ollama", "http://127.0.0.1:11434", FALSE },
  { "llamacpp", "llama.cpp", FALSE, "openai", "http://127.0.0.1:8080/v1", FALSE },
  { "openai", "OpenAI", FALSE, "openai", "https://api.openai.com/v1", TRUE },
  { "openrouter", "OpenRouter", FALSE, "openai", "https://openrouter.ai/api/v1", TRUE },
  { "groq", "Groq", FALSE, "openai", "https://api.groq.com/openai/v1", TRUE },
  { "anthropic", "Anthropic", FALSE, "anthropic", "https://api.anthropic.com", TRUE },
  /* Translators: a preset for a provider that is none of the known ones */
  { "custom", N_("Custom"), TRUE, "openai", "", FALSE },
};

/* The APIs of confab_provider_config_validate(), in combo row order. */
static const struct
{
  const char *id;
  const char *label;
  gboolean    translatable;
} apis[] = {
  /* Translators: the API that OpenAI defined and many servers speak */
  { "openai", N_("OpenAI-compatible"), TRUE },
  { "ollama", "Ollama", FALSE },
  { "anthropic", "Anthropic", FALSE },
};

typedef enum
{
  KEY_CHECKING,
  KEY_NONE,
  KEY_STORED,
  KEY_SESSION,
  KEY_UNAVAILABLE,
  KEY_UNKNOWN,
} KeyStatus;

struct _ConfabPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  ConfabStore          *store;
  GSettings            *settings;
  GCancellable         *cancellable;
  /* provider name → its AdwExpanderRow, owned by providers_list */
  GHashTable           *rows;
  GtkStringList        *api_names;
  /* "Automatic", then the provider names: the default provider combo */
  GtkStringList        *provider_choices;
  /* The name the preset filled in, replaced when the preset changes. */
  char                 *auto_name;
  /* Set while widgets are filled from code, not by the user. */
  gboolean              syncing;
  /* A provider from the form is being saved. */
  gboolean              adding;

  AdwPreferencesPage   *providers_page;
  GtkListBox           *providers_list;
  GtkLabel             *providers_message_label;
  AdwComboRow          *preset_row;
  AdwEntryRow          *add_name_row;
  AdwComboRow          *add_api_row;
  AdwEntryRow          *add_url_row;
  AdwEntryRow          *add_model_row;
  AdwEntryRow          *add_key_row;
  GtkLabel             *add_message_label;
  GtkButton            *add_button;
  AdwPreferencesGroup  *add_group;

  AdwPreferencesGroup  *settings_missing_group;
  AdwPreferencesGroup  *defaults_group;
  AdwPreferencesGroup  *prompt_group;
  AdwPreferencesGroup  *composer_group;
  AdwPreferencesGroup  *messages_group;
  AdwComboRow          *default_provider_row;
  AdwEntryRow          *default_model_row;
  GtkTextView          *system_prompt_view;
  GtkSwitch            *ctrl_enter_switch;
  AdwActionRow         *font_row;
  GtkButton            *font_reset_button;
  GtkFontButton        *font_button;
  GtkAdjustment        *scale_adjustment;
};

G_DEFINE_FINAL_TYPE (ConfabPreferencesWindow, confab_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  PROVIDERS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The widgets of one stored provider, owned by its expander row. */
typedef struct
{
  ConfabPreferencesWindow *self;
  ConfabProviderConfig    *config;
  AdwExpanderRow          *row;
  AdwComboRow             *api_row;
  AdwEntryRow             *url_row;
  AdwEntryRow             *model_row;
  AdwEntryRow             *key_row;
  GtkLabel                *key_status;
  GtkLabel                *status_label;
  GtkLabel                *result_label;
  GtkSpinner              *test_spinner;
  GtkButton               *test_button;
  GtkButton               *remove_button;
  /* Busy flags: the buttons stay sensitive, so keyboard focus stays
   * where it is, but do nothing twice. */
  gboolean                 testing;
  gboolean                 removing;
  /* Out of the list: its widgets may still emit while they go. */
  gboolean                 removed;
} ProviderRow;

/* One asynchronous call and what its callback needs. */
typedef struct
{
  ConfabPreferencesWindow *self;
  GtkWidget               *row;
  ConfabProviderConfig    *config;
  ConfabProvider          *provider;
  char                    *key;
} Op;

static void load_providers (ConfabPreferencesWindow *self);

/* Helpers */

static Op *
op_new (ConfabPreferencesWindow *self,
        GtkWidget               *row,
        ConfabProviderConfig    *config)
{
  Op *op = g_new0 (Op, 1);

  op->self = g_object_ref (self);
  op->row = row != NULL ? g_object_ref (row) : NULL;
  op->config = config != NULL ? g_object_ref (config) : NULL;
  return op;
}

static void
op_free (Op *op)
{
  g_clear_object (&op->self);
  g_clear_object (&op->row);
  g_clear_object (&op->config);
  g_clear_object (&op->provider);
  g_clear_pointer (&op->key, confab_secrets_key_free);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

/* Whether the window went away while the call ran. */
static gboolean
op_cancelled (Op *op)
{
  return g_cancellable_is_cancelled (op->self->cancellable);
}

static gboolean
is_disposed (ConfabPreferencesWindow *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

static void
provider_row_free (gpointer data)
{
  ProviderRow *pr = data;

  g_clear_object (&pr->config);
  g_free (pr);
}

static ProviderRow *
provider_row_get (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), PROVIDER_ROW_KEY);
}

static const Preset *
find_preset (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    if (g_strcmp0 (presets[i].id, id) == 0)
      return &presets[i];

  return NULL;
}

static guint
api_position (const char *api)
{
  for (guint i = 0; i < G_N_ELEMENTS (apis); i++)
    if (g_strcmp0 (apis[i].id, api) == 0)
      return i;

  return GTK_INVALID_LIST_POSITION;
}

static const char *
api_at (guint position)
{
  return position < G_N_ELEMENTS (apis) ? apis[position].id : NULL;
}

static const char *
api_label (const char *api)
{
  guint position = api_position (api);

  if (position == GTK_INVALID_LIST_POSITION)
    return api;

  return apis[position].translatable ? _(apis[position].label) : apis[position].label;
}

static void
emit_providers_changed (ConfabPreferencesWindow *self)
{
  g_signal_emit (self, signals[PROVIDERS_CHANGED], 0);
}

static void
toast (ConfabPreferencesWindow *self,
       const char              *text)
{
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
}

/* A name no stored provider has: @base, else @base-2, @base-3, ... */
static char *
unique_name (ConfabPreferencesWindow *self,
             const char              *base)
{
  if (!g_hash_table_contains (self->rows, base))
    return g_strdup (base);

  for (guint i = 2;; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", base, i);

      if (!g_hash_table_contains (self->rows, name))
        return g_steal_pointer (&name);
    }
}

/* The settings, or %NULL when their schema is not installed (a binary
 * run straight from a build tree): the Chat page then says so. */
static GSettings *
settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SETTINGS_SCHEMA_ID, TRUE);
  if (schema == NULL)
    {
      g_debug ("The %s settings schema is not installed", SETTINGS_SCHEMA_ID);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

/* Default provider (Chat page) */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

static void
sync_default_provider (ConfabPreferencesWindow *self)
{
  g_autofree char *current = NULL;
  g_autoptr(GPtrArray) names = NULL;
  GHashTableIter iter;
  gpointer name;
  guint selected = 0;

  if (is_disposed (self))
    return;

  current = self->settings != NULL ? g_settings_get_string (self->settings, "default-provider") : g_strdup ("");

  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, name);
  /* A provider that is not stored (one found running on this computer,
   * one removed meanwhile) stays the setting until the user picks. */
  if (current[0] != '\0' && !g_hash_table_contains (self->rows, current))
    g_ptr_array_add (names, current);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  for (guint i = 0; names->pdata[i] != NULL; i++)
    if (g_str_equal (names->pdata[i], current))
      selected = i + 1;

  self->syncing = TRUE;
  gtk_string_list_splice (self->provider_choices, 1,
                          g_list_model_get_n_items (G_LIST_MODEL (self->provider_choices)) - 1,
                          (const char * const *)names->pdata);
  adw_combo_row_set_selected (self->default_provider_row, selected);
  self->syncing = FALSE;
}

static void
default_provider_selected_cb (ConfabPreferencesWindow *self)
{
  guint selected = adw_combo_row_get_selected (self->default_provider_row);
  const char *name = "";

  if (self->syncing || is_disposed (self) || self->settings == NULL || selected == GTK_INVALID_LIST_POSITION)
    return;

  if (selected > 0)
    name = gtk_string_list_get_string (self->provider_choices, selected);

  g_settings_set_string (self->settings, "default-provider", name);
}

/* Message font (Chat page) */

static void
sync_font (ConfabPreferencesWindow *self)
{
  g_autofree char *font = NULL;

  if (is_disposed (self))
    return;

  font = self->settings != NULL ? g_settings_get_string (self->settings, "message-font") : g_strdup ("");
  if (font[0] == '\0')
    {
      g_autofree char *system_font = NULL;

      /* Shows the system font without choosing it: "" follows it. */
      g_object_get (gtk_settings_get_default (), "gtk-font-name", &system_font, NULL);
      if (system_font != NULL)
        gtk_font_chooser_set_font (GTK_FONT_CHOOSER (self->font_button), system_font);
      adw_action_row_set_subtitle (self->font_row, _("The system font"));
      gtk_widget_set_visible (GTK_WIDGET (self->font_reset_button), FALSE);
    }
  else
    {
      gtk_font_chooser_set_font (GTK_FONT_CHOOSER (self->font_button), font);
      adw_action_row_set_subtitle (self->font_row, "");
      gtk_widget_set_visible (GTK_WIDGET (self->font_reset_button), TRUE);
    }
}

static void
font_set_cb (ConfabPreferencesWindow *self)
{
  g_autofree char *font = gtk_font_chooser_get_font (GTK_FONT_CHOOSER (self->font_button));

  if (!is_disposed (self) && self->settings != NULL && font != NULL)
    g_settings_set_string (self->settings, "message-font", font);
}

static void
font_reset_clicked_cb (ConfabPreferencesWindow *self)
{
  if (self->settings != NULL)
    g_settings_reset (self->settings, "message-font");
  gtk_widget_grab_focus (GTK_WIDGET (self->font_button));
}

/* Stored providers: keys */

static void
set_key_status (ProviderRow *pr,
                KeyStatus    status,
                const char  *detail)
{
  const char *text = NULL;

  switch (status)
    {
    case KEY_CHECKING:
      /* Translators: the keyring is being asked whether it has a key */
      text = _("Checking…");
      break;

    case KEY_NONE:
      /* Translators: no API key is stored for this provider */
      text = _("No key");
      break;

    case KEY_STORED:
      /* Translators: an API key is stored for this provider */
      text = _("Stored in the keyring");
      break;

    case KEY_SESSION:
      /* Translators: the API key is only in memory until Confab quits */
      text = _("Kept for this session only");
      break;

    case KEY_UNAVAILABLE:
      text = _("Keyring unavailable");
      break;

    case KEY_UNKNOWN:
    default:
      /* Translators: whether a key is stored could not be found out */
      text = _("Unknown");
      break;
    }

  gtk_label_set_text (pr->key_status, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (pr->key_status), detail);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pr->key_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text,
                                  -1);
}

static void
key_status_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) key = NULL;
  ProviderRow *pr;

  key = confab_secrets_lookup_key_finish (result, &error);
  if (op_cancelled (op))
    return;

  pr = provider_row_get (op->row);
  if (error != NULL && g_error_matches (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE))
    set_key_status (pr, KEY_UNAVAILABLE, error->message);
  else if (error != NULL)
    set_key_status (pr, KEY_UNKNOWN, error->message);
  else if (key == NULL)
    set_key_status (pr, KEY_NONE, NULL);
  else if (confab_secrets_has_session_key (confab_provider_config_get_name (pr->config)))
    set_key_status (pr, KEY_SESSION, NULL);
  else
    set_key_status (pr, KEY_STORED, NULL);
}

static void
check_key (ProviderRow *pr)
{
  set_key_status (pr, KEY_CHECKING, NULL);
  confab_secrets_lookup_key_async (confab_provider_config_get_name (pr->config), pr->self->cancellable,
                                   key_status_cb, op_new (pr->self, GTK_WIDGET (pr->row), NULL));
}

static void
key_stored_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  ProviderRow *pr;

  confab_secrets_store_key_finish (result, &error);
  if (op_cancelled (op))
    return;

  pr = provider_row_get (op->row);

  if (error == NULL)
    {
      set_key_status (pr, KEY_STORED, NULL);
      _confab_form_hide_message (pr->status_label);
      toast (op->self, _("The key is stored in the keyring"));
      emit_providers_changed (op->self);
    }
  else if (g_error_matches (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE))
    {
      /* The engine's message says the key lives until Confab quits. */
      set_key_status (pr, KEY_SESSION, NULL);
      _confab_form_show_message (pr->status_label, CONFAB_FORM_WARNING, error->message);
      emit_providers_changed (op->self);
    }
  else
    {
      check_key (pr);
      _confab_form_show_message (pr->status_label, CONFAB_FORM_ERROR, error->message);
    }
}

static void
key_cleared_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  ProviderRow *pr;

  confab_secrets_clear_key_finish (result, &error);
  if (op_cancelled (op))
    return;

  pr = provider_row_get (op->row);

  if (error == NULL)
    {
      set_key_status (pr, KEY_NONE, NULL);
      _confab_form_hide_message (pr->status_label);
      toast (op->self, _("The key is removed"));
      emit_providers_changed (op->self);
    }
  else
    {
      check_key (pr);
      _confab_form_show_message (pr->status_label, CONFAB_FORM_ERROR, error->message);
    }
}

/* Apply on the key entry: a key goes to the keyring, an empty entry
 * removes the stored key. */
static void
key_apply_cb (AdwEntryRow *key_row,
              ProviderRow *pr)
{
  ConfabPreferencesWindow *self = pr->self;
  const char *name = confab_provider_config_get_name (pr->config);
  g_autofree char *key = _confab_form_dup_entry_text (key_row);

  if (pr->removed || is_disposed (self))
    return;

  /* The entry never keeps a key it handed over. */
  gtk_editable_set_text (GTK_EDITABLE (key_row), "");
  set_key_status (pr, KEY_CHECKING, NULL);

  if (key[0] != '\0')
    confab_secrets_store_key_async (name, key, self->cancellable, key_stored_cb,
                                    op_new (self, GTK_WIDGET (pr->row), NULL));
  else
    confab_secrets_clear_key_async (name, self->cancellable, key_cleared_cb,
                                    op_new (self, GTK_WIDGET (pr->row), NULL));

  confab_secrets_key_free (g_steal_pointer (&key));
}

/* Stored providers: edits */

static void
update_row_subtitle (ProviderRow *pr)
{
  g_autofree char *subtitle = NULL;

  /* Translators: the API of a provider, then its base URL */
  subtitle = g_strdup_printf (_("%s · %s"),
                              api_label (confab_provider_config_get_api (pr->config)),
                              confab_provider_config_get_base_url (pr->config));
  adw_expander_row_set_subtitle (pr->row, subtitle);
}

/* A copy of the row's configuration with what its fields say now. */
static ConfabProviderConfig *
config_from_row (ProviderRow *pr)
{
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *headers = confab_provider_config_dup_headers_json (pr->config);
  g_autofree char *url = _confab_form_dup_entry_text (pr->url_row);
  g_autofree char *model = _confab_form_dup_entry_text (pr->model_row);

  config = confab_provider_config_new (confab_provider_config_get_name (pr->config),
                                       api_at (adw_combo_row_get_selected (pr->api_row)),
                                       url);
  confab_provider_config_set_default_model (config, model);
  /* Headers are not edited here, and must survive an edit. */
  if (!confab_provider_config_set_headers_json (config, headers, &error))
    g_critical ("Could not copy the headers of “%s”: %s",
                confab_provider_config_get_name (pr->config), error->message);

  return g_steal_pointer (&config);
}

static void
mark_row_fields (ProviderRow  *pr,
                 const GError *error)
{
  _confab_form_mark_field (GTK_WIDGET (pr->api_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (pr->url_row), NULL);

  if (error == NULL || error->domain != CONFAB_PROVIDER_CONFIG_ERROR)
    return;

  switch (error->code)
    {
    case CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API:
      _confab_form_mark_field (GTK_WIDGET (pr->api_row), error->message);
      break;

    case CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL:
      _confab_form_mark_field (GTK_WIDGET (pr->url_row), error->message);
      break;

    default:
      break;
    }
}

static void
row_saved_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  ProviderRow *pr;

  confab_store_save_provider_finish (CONFAB_STORE (object), result, &error);
  if (op_cancelled (op))
    return;

  pr = provider_row_get (op->row);
  if (error != NULL)
    {
      _confab_form_show_message (pr->status_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  g_set_object (&pr->config, op->config);
  update_row_subtitle (pr);
  _confab_form_hide_message (pr->status_label);
  toast (op->self, _("Saved"));
  emit_providers_changed (op->self);
}

static void
save_row (ProviderRow *pr)
{
  ConfabPreferencesWindow *self = pr->self;
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (self->syncing || pr->removed || is_disposed (self))
    return;

  config = config_from_row (pr);
  mark_row_fields (pr, NULL);
  if (!confab_provider_config_validate (config, &error))
    {
      mark_row_fields (pr, error);
      _confab_form_show_message (pr->status_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  confab_store_save_provider_async (self->store, config, self->cancellable, row_saved_cb,
                                    op_new (self, GTK_WIDGET (pr->row), config));
}

static void
row_apply_cb (AdwEntryRow *entry,
              ProviderRow *pr)
{
  save_row (pr);
}

static void
row_api_selected_cb (AdwComboRow *combo,
                     GParamSpec  *pspec,
                     ProviderRow *pr)
{
  save_row (pr);
}

/* Stored providers: test the connection */

static void
show_test_result (ProviderRow *pr,
                  ConfabFormMessageKind  kind,
                  const char  *text)
{
  gtk_spinner_stop (pr->test_spinner);
  gtk_widget_set_visible (GTK_WIDGET (pr->test_spinner), FALSE);
  pr->testing = FALSE;
  _confab_form_show_message (pr->result_label, kind, text);
}

static void
models_listed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  g_autofree char *text = NULL;
  ProviderRow *pr;
  guint n;

  models = confab_provider_list_models_finish (CONFAB_PROVIDER (object), result, &error);
  if (op_cancelled (op))
    return;

  pr = provider_row_get (op->row);
  if (models == NULL)
    {
      /* The engine's message, as it is: it carries the server's own. */
      show_test_result (pr, CONFAB_FORM_ERROR, error->message);
      return;
    }

  n = g_strv_length (models);
  if (n == 0)
    {
      show_test_result (pr, CONFAB_FORM_INFO, _("Connected, but the server offers no models"));
      return;
    }

  {
    g_autofree char *shown = NULL;
    char *saved = NULL;

    /* The first few names, then an ellipsis. */
    if (n > TEST_SHOWN_MODELS)
      {
        saved = models[TEST_SHOWN_MODELS];
        models[TEST_SHOWN_MODELS] = NULL;
      }
    shown = g_strjoinv (", ", models);
    if (saved != NULL)
      models[TEST_SHOWN_MODELS] = saved;

    if (n > TEST_SHOWN_MODELS)
      /* Translators: %u is the number of models, %s the first few of
       * their names, separated by commas */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Connected: %u model: %s, …",
                                           "Connected: %u models: %s, …", n),
                              n, shown);
    else
      /* Translators: %u is the number of models, %s their names,
       * separated by commas */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Connected: %u model: %s",
                                           "Connected: %u models: %s", n),
                              n, shown);
  }

  show_test_result (pr, CONFAB_FORM_INFO, text);
}

static void
list_models (Op         *op,
             const char *key)
{
  g_autoptr(GError) error = NULL;
  ProviderRow *pr = provider_row_get (op->row);

  op->provider = confab_provider_config_create_provider (op->config, key, &error);
  if (op->provider == NULL)
    {
      show_test_result (pr, CONFAB_FORM_ERROR, error->message);
      op_free (op);
      return;
    }

  confab_provider_set_timeout (op->provider, TEST_TIMEOUT_S);
  confab_provider_set_max_tries (op->provider, 1);
  confab_provider_list_models_async (op->provider, op->self->cancellable, models_listed_cb, op);
}

static void
test_key_found_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Op *op = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(ConfabSecretKey) key = NULL;

  key = confab_secrets_lookup_key_finish (result, &error);
  if (op_cancelled (op))
    {
      op_free (op);
      return;
    }

  /* Without a keyring, try without a key: a local server needs none, and
   * a server that does says so. */
  if (error != NULL)
    g_debug ("Testing %s without a key: %s", confab_provider_config_get_name (op->config), error->message);

  list_models (op, key);
}

static void
test_clicked_cb (GtkButton   *button,
                 ProviderRow *pr)
{
  ConfabPreferencesWindow *self = pr->self;
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *typed_key = NULL;
  Op *op;

  if (pr->testing || pr->removed || is_disposed (self))
    return;

  config = config_from_row (pr);
  mark_row_fields (pr, NULL);
  if (!confab_provider_config_validate (config, &error))
    {
      mark_row_fields (pr, error);
      _confab_form_show_message (pr->result_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  pr->testing = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (pr->test_spinner), TRUE);
  gtk_spinner_start (pr->test_spinner);
  _confab_form_show_message (pr->result_label, CONFAB_FORM_INFO, _("Connecting…"));

  op = op_new (self, GTK_WIDGET (pr->row), config);

  /* A key typed but not yet applied is tried as it is; otherwise the
   * stored one. */
  typed_key = _confab_form_dup_entry_text (pr->key_row);
  if (typed_key[0] != '\0')
    {
      list_models (op, typed_key);
      confab_secrets_key_free (g_steal_pointer (&typed_key));
      return;
    }

  confab_secrets_lookup_key_async (confab_provider_config_get_name (config), self->cancellable,
                                   test_key_found_cb, op);
}

/* Stored providers: removal */

static void
remove_provider_row (ConfabPreferencesWindow *self,
                     GtkWidget               *row)
{
  ProviderRow *pr = provider_row_get (row);
  const char *name = confab_provider_config_get_name (pr->config);

  if (pr->removed)
    return;

  pr->removed = TRUE;
  if (g_hash_table_lookup (self->rows, name) == row)
    g_hash_table_remove (self->rows, name);
  gtk_list_box_remove (self->providers_list, row);
}

static void
removed_key_cleared_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  confab_secrets_clear_key_finish (result, &error);
  if (op_cancelled (op))
    return;

  if (error != NULL)
    /* Translators: %s is the name of a provider, then the keyring's
     * explanation follows */
    message = g_strdup_printf (_("Removed “%s”, but not its key: %s"),
                               confab_provider_config_get_name (op->config), error->message);
  else
    /* Translators: %s is the name of a provider */
    message = g_strdup_printf (_("Removed “%s”"), confab_provider_config_get_name (op->config));

  toast (op->self, message);
  emit_providers_changed (op->self);
}

static void
provider_removed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Op *op = user_data;
  g_autoptr(GError) error = NULL;
  ConfabPreferencesWindow *self = op->self;
  const char *name = confab_provider_config_get_name (op->config);
  ProviderRow *pr;

  confab_store_remove_provider_finish (CONFAB_STORE (object), result, &error);
  if (op_cancelled (op))
    {
      op_free (op);
      return;
    }

  pr = provider_row_get (op->row);
  if (error != NULL && !g_error_matches (error, CONFAB_STORE_ERROR, CONFAB_STORE_ERROR_NOT_FOUND))
    {
      pr->removing = FALSE;
      _confab_form_show_message (pr->status_label, CONFAB_FORM_ERROR, error->message);
      op_free (op);
      return;
    }

  remove_provider_row (self, op->row);
  sync_default_provider (self);

  confab_secrets_clear_key_async (name, self->cancellable, removed_key_cleared_cb, op);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  ConfabPreferencesWindow *self = user_data;
  GtkWidget *row = g_object_get_data (G_OBJECT (dialog), PROVIDER_ROW_KEY);
  ProviderRow *pr;

  if (is_disposed (self) || row == NULL || g_strcmp0 (response, "remove") != 0)
    return;

  pr = provider_row_get (row);
  if (pr->removing || pr->removed)
    return;

  pr->removing = TRUE;
  confab_store_remove_provider_async (self->store, confab_provider_config_get_name (pr->config),
                                      self->cancellable, provider_removed_cb,
                                      op_new (self, row, pr->config));
}

static void
remove_clicked_cb (GtkButton   *button,
                   ProviderRow *pr)
{
  ConfabPreferencesWindow *self = pr->self;
  AdwMessageDialog *dialog;

  if (pr->removing || pr->removed || is_disposed (self))
    return;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL));
  adw_message_dialog_format_heading (dialog,
                                     /* Translators: %s is the name of a provider */
                                     _("Remove “%s”?"),
                                     confab_provider_config_get_name (pr->config));
  adw_message_dialog_set_body (dialog,
                               _("Its settings and its API key are removed. Conversations held "
                                 "with it are kept."));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), PROVIDER_ROW_KEY, g_object_ref (pr->row), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Stored providers: the list */

static int
compare_rows (GtkListBoxRow *a,
              GtkListBoxRow *b,
              gpointer       user_data)
{
  return g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (a)),
                    adw_preferences_row_get_title (ADW_PREFERENCES_ROW (b)));
}

static GtkWidget *
new_entry_row (const char *title,
               const char *widget_name)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
  gtk_widget_set_name (row, widget_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  return row;
}

static GtkWidget *
new_message_label (const char *widget_name)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_visible (label, FALSE);
  gtk_widget_set_name (label, widget_name);
  return label;
}

/* Builds the expander row of @config, adds it to the list and asks the
 * keyring whether it has a key. */
static GtkWidget *
add_provider_row (ConfabPreferencesWindow *self,
                  ConfabProviderConfig    *config)
{
  const char *name = confab_provider_config_get_name (config);
  ProviderRow *pr = g_new0 (ProviderRow, 1);
  GtkWidget *expander;
  GtkWidget *row;
  GtkWidget *box;
  GtkWidget *buttons;

  pr->self = self;
  pr->config = g_object_ref (config);

  expander = adw_expander_row_new ();
  pr->row = ADW_EXPANDER_ROW (expander);
  g_object_set_data_full (G_OBJECT (expander), PROVIDER_ROW_KEY, pr, provider_row_free);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (expander), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (expander), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  update_row_subtitle (pr);

  /* API */
  row = adw_combo_row_new ();
  pr->api_row = ADW_COMBO_ROW (row);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("API"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, _("API"), -1);
  gtk_widget_set_name (row, "api-row");
  adw_combo_row_set_model (pr->api_row, G_LIST_MODEL (self->api_names));
  self->syncing = TRUE;
  adw_combo_row_set_selected (pr->api_row, api_position (confab_provider_config_get_api (config)));
  self->syncing = FALSE;
  g_signal_connect (row, "notify::selected", G_CALLBACK (row_api_selected_cb), pr);
  adw_expander_row_add_row (pr->row, row);

  /* Base URL */
  row = new_entry_row (_("Base URL"), "url-row");
  pr->url_row = ADW_ENTRY_ROW (row);
  adw_entry_row_set_input_purpose (pr->url_row, GTK_INPUT_PURPOSE_URL);
  gtk_editable_set_text (GTK_EDITABLE (row), confab_provider_config_get_base_url (config));
  g_signal_connect (row, "apply", G_CALLBACK (row_apply_cb), pr);
  adw_expander_row_add_row (pr->row, row);

  /* Default model */
  row = new_entry_row (_("Default Model"), "model-row");
  pr->model_row = ADW_ENTRY_ROW (row);
  gtk_editable_set_text (GTK_EDITABLE (row),
                         confab_provider_config_get_default_model (config) != NULL
                           ? confab_provider_config_get_default_model (config) : "");
  g_signal_connect (row, "apply", G_CALLBACK (row_apply_cb), pr);
  adw_expander_row_add_row (pr->row, row);

  /* API key: what the keyring has is shown as a status, never the key. */
  row = adw_password_entry_row_new ();
  pr->key_row = ADW_ENTRY_ROW (row);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("API Key"));
  adw_entry_row_set_show_apply_button (pr->key_row, TRUE);
  gtk_widget_set_name (row, "key-row");
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, _("API Key"), -1);
  pr->key_status = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_name (GTK_WIDGET (pr->key_status), "key-status");
  gtk_widget_add_css_class (GTK_WIDGET (pr->key_status), "dim-label");
  adw_entry_row_add_suffix (pr->key_row, GTK_WIDGET (pr->key_status));
  g_signal_connect (row, "apply", G_CALLBACK (key_apply_cb), pr);
  adw_expander_row_add_row (pr->row, row);

  /* Messages, test and removal */
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  pr->status_label = GTK_LABEL (new_message_label ("status-label"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (pr->status_label));
  pr->result_label = GTK_LABEL (new_message_label ("result-label"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (pr->result_label));

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  pr->test_spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_name (GTK_WIDGET (pr->test_spinner), "test-spinner");
  gtk_widget_set_visible (GTK_WIDGET (pr->test_spinner), FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (pr->test_spinner), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (pr->test_spinner), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (pr->test_spinner));

  pr->test_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Test Connection")));
  gtk_widget_set_name (GTK_WIDGET (pr->test_button), "test-button");
  gtk_widget_set_halign (GTK_WIDGET (pr->test_button), GTK_ALIGN_END);
  gtk_widget_set_hexpand (GTK_WIDGET (pr->test_button), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pr->test_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Test Connection"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, _("Lists the models the server offers"),
                                  -1);
  g_signal_connect (pr->test_button, "clicked", G_CALLBACK (test_clicked_cb), pr);
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (pr->test_button));

  pr->remove_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Remove")));
  gtk_widget_set_name (GTK_WIDGET (pr->remove_button), "remove-button");
  gtk_widget_add_css_class (GTK_WIDGET (pr->remove_button), "destructive-action");
  {
    /* Translators: %s is the name of a provider */
    g_autofree char *label = g_strdup_printf (_("Remove “%s”"), name);

    gtk_accessible_update_property (GTK_ACCESSIBLE (pr->remove_button),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                    -1);
  }
  g_signal_connect (pr->remove_button, "clicked", G_CALLBACK (remove_clicked_cb), pr);
  gtk_box_append (GTK_BOX (buttons), GTK_WIDGET (pr->remove_button));
  gtk_box_append (GTK_BOX (box), buttons);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  adw_expander_row_add_row (pr->row, row);

  gtk_list_box_append (self->providers_list, expander);
  g_hash_table_replace (self->rows, g_strdup (name), expander);

  check_key (pr);

  return expander;
}

static void
clear_provider_rows (ConfabPreferencesWindow *self)
{
  g_autoptr(GList) rows = g_hash_table_get_values (self->rows);

  for (GList *l = rows; l != NULL; l = l->next)
    remove_provider_row (self, l->data);
}

static void
fill_preset (ConfabPreferencesWindow *self,
             gboolean                 replace_name);

static void
providers_listed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  ConfabPreferencesWindow *self = op->self;
  g_autoptr(GPtrArray) configs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;

  configs = confab_store_list_providers_finish (CONFAB_STORE (object), result, &error);
  if (op_cancelled (op))
    return;

  if (configs == NULL)
    {
      _confab_form_show_message (self->providers_message_label, CONFAB_FORM_ERROR, error->message);
      return;
    }

  _confab_form_hide_message (self->providers_message_label);
  clear_provider_rows (self);
  for (guint i = 0; i < configs->len; i++)
    add_provider_row (self, g_ptr_array_index (configs, i));

  sync_default_provider (self);

  /* The preset's name may be taken now that the names are known. */
  name = _confab_form_dup_entry_text (self->add_name_row);
  if (self->auto_name != NULL && g_str_equal (name, self->auto_name))
    fill_preset (self, TRUE);
}

static void
load_providers (ConfabPreferencesWindow *self)
{
  if (self->store == NULL)
    {
      _confab_form_show_message (self->providers_message_label, CONFAB_FORM_ERROR,
                    _("The conversation store is not open, so providers cannot be shown or changed"));
      gtk_widget_set_sensitive (GTK_WIDGET (self->add_group), FALSE);
      return;
    }

  confab_store_list_providers_async (self->store, self->cancellable, providers_listed_cb,
                                     op_new (self, NULL, NULL));
}

/* Add Provider form */

static void
fill_preset (ConfabPreferencesWindow *self,
             gboolean                 replace_name)
{
  guint position = adw_combo_row_get_selected (self->preset_row);
  const Preset *preset;
  g_autofree char *name = NULL;

  if (position >= G_N_ELEMENTS (presets))
    return;

  preset = &presets[position];
  name = _confab_form_dup_entry_text (self->add_name_row);

  self->syncing = TRUE;

  /* The user's own name stays. */
  if (replace_name || name[0] == '\0' || g_strcmp0 (name, self->auto_name) == 0)
    {
      g_free (self->auto_name);
      self->auto_name = g_str_equal (preset->id, "custom") ? g_strdup ("") : unique_name (self, preset->id);
      gtk_editable_set_text (GTK_EDITABLE (self->add_name_row), self->auto_name);
    }

  adw_combo_row_set_selected (self->add_api_row, api_position (preset->api));
  gtk_editable_set_text (GTK_EDITABLE (self->add_url_row), preset->base_url);
  gtk_editable_set_text (GTK_EDITABLE (self->add_model_row), "");

  self->syncing = FALSE;

  _confab_form_mark_field (GTK_WIDGET (self->add_name_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_api_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_url_row), NULL);
}

static void
preset_selected_cb (ConfabPreferencesWindow *self)
{
  if (self->syncing || is_disposed (self))
    return;

  fill_preset (self, FALSE);
  _confab_form_hide_message (self->add_message_label);
}

/* Editing a field clears its error mark. */
static void
add_field_changed_cb (GtkWidget               *field,
                      GParamSpec              *pspec,
                      ConfabPreferencesWindow *self)
{
  if (self->syncing || is_disposed (self))
    return;

  _confab_form_mark_field (field, NULL);
}

static void
finish_add (Op *op)
{
  ConfabPreferencesWindow *self = op->self;
  g_autofree char *message = NULL;

  self->adding = FALSE;

  /* Translators: %s is the name of a provider */
  message = g_strdup_printf (_("Added “%s”"), confab_provider_config_get_name (op->config));
  toast (self, message);
  emit_providers_changed (self);
}

static void
add_key_stored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;
  ConfabPreferencesWindow *self = op->self;
  GtkWidget *row;

  confab_secrets_store_key_finish (result, &error);
  if (op_cancelled (op))
    return;

  row = g_hash_table_lookup (self->rows, confab_provider_config_get_name (op->config));
  if (error != NULL)
    {
      /* The provider is saved either way; the message says what became
       * of the key (for an unavailable keyring: kept for this session). */
      _confab_form_show_message (self->add_message_label,
                    g_error_matches (error, CONFAB_SECRETS_ERROR, CONFAB_SECRETS_ERROR_UNAVAILABLE)
                      ? CONFAB_FORM_WARNING : CONFAB_FORM_ERROR,
                    error->message);
    }

  if (row != NULL)
    check_key (provider_row_get (row));

  finish_add (op);
}

static void
add_saved_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Op *op = user_data;
  g_autoptr(GError) error = NULL;
  ConfabPreferencesWindow *self = op->self;
  const char *name = confab_provider_config_get_name (op->config);

  confab_store_save_provider_finish (CONFAB_STORE (object), result, &error);
  if (op_cancelled (op))
    {
      op_free (op);
      return;
    }

  if (error != NULL)
    {
      self->adding = FALSE;
      _confab_form_show_message (self->add_message_label, CONFAB_FORM_ERROR, error->message);
      op_free (op);
      return;
    }

  if (!g_hash_table_contains (self->rows, name))
    add_provider_row (self, op->config);
  sync_default_provider (self);

  /* A fresh form for the next one, with the same preset. */
  self->syncing = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->add_key_row), "");
  self->syncing = FALSE;
  fill_preset (self, TRUE);
  _confab_form_hide_message (self->add_message_label);

  if (op->key != NULL)
    {
      confab_secrets_store_key_async (name, op->key, self->cancellable, add_key_stored_cb, op);
      return;
    }

  finish_add (op);
  op_free (op);
}

static void
add_provider (ConfabPreferencesWindow *self)
{
  g_autoptr(ConfabProviderConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *url = NULL;
  g_autofree char *model = NULL;
  g_autofree char *key = NULL;
  GtkWidget *field = NULL;
  Op *op;

  if (is_disposed (self) || self->store == NULL || self->adding)
    return;

  name = _confab_form_dup_entry_text (self->add_name_row);
  url = _confab_form_dup_entry_text (self->add_url_row);
  model = _confab_form_dup_entry_text (self->add_model_row);

  config = confab_provider_config_new (name, api_at (adw_combo_row_get_selected (self->add_api_row)), url);
  confab_provider_config_set_default_model (config, model);

  _confab_form_mark_field (GTK_WIDGET (self->add_name_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_api_row), NULL);
  _confab_form_mark_field (GTK_WIDGET (self->add_url_row), NULL);

  if (confab_provider_config_validate (config, &error) && g_hash_table_contains (self->rows, name))
    g_set_error (&error, CONFAB_PROVIDER_CONFIG_ERROR, CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME,
                 /* Translators: %s is the name of a provider */
                 _("There already is a provider named “%s”: choose another name"), name);

  if (error != NULL)
    {
      /* Nothing is saved; the field at fault says so and takes the focus. */
      switch (error->code)
        {
        case CONFAB_PROVIDER_CONFIG_ERROR_INVALID_NAME:
          field = GTK_WIDGET (self->add_name_row);
          break;

        case CONFAB_PROVIDER_CONFIG_ERROR_UNKNOWN_API:
          field = GTK_WIDGET (self->add_api_row);
          break;

        case CONFAB_PROVIDER_CONFIG_ERROR_INVALID_URL:
          field = GTK_WIDGET (self->add_url_row);
          break;

        default:
          break;
        }

      _confab_form_show_message (self->add_message_label, CONFAB_FORM_ERROR, error->message);
      if (field != NULL)
        {
          _confab_form_mark_field (field, error->message);
          if (ADW_IS_ENTRY_ROW (field))
            _confab_form_focus_entry (ADW_ENTRY_ROW (field));
          else
            gtk_widget_grab_focus (field);
        }
      return;
    }

  _confab_form_hide_message (self->add_message_label);
  self->adding = TRUE;

  op = op_new (self, NULL, config);
  key = _confab_form_dup_entry_text (self->add_key_row);
  if (key[0] != '\0')
    op->key = g_steal_pointer (&key);
  else
    g_clear_pointer (&key, confab_secrets_key_free);

  confab_store_save_provider_async (self->store, config, self->cancellable, add_saved_cb, op);
}

static void
add_clicked_cb (ConfabPreferencesWindow *self)
{
  add_provider (self);
}

/* Enter in a field of the form adds the provider. */
static void
add_entry_activated_cb (ConfabPreferencesWindow *self)
{
  add_provider (self);
}

/* GObject */

static void
confab_preferences_window_constructed (GObject *object)
{
  ConfabPreferencesWindow *self = CONFAB_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (confab_preferences_window_parent_class)->constructed (object);

  load_providers (self);

  /* The tools and MCP servers of the application it belongs to. */
  {
    GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
    GtkApplication *app = parent != NULL ? gtk_window_get_application (parent) : NULL;

    if (CONFAB_IS_APPLICATION (app))
      {
        ConfabApplication *confab = CONFAB_APPLICATION (app);

        adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self),
                                    ADW_PREFERENCES_PAGE (confab_tools_page_new (confab_application_get_toolbox (confab),
                                                                                 self->settings)));
        if (confab_application_get_mcp_manager (confab) != NULL)
          adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self),
                                      ADW_PREFERENCES_PAGE (confab_mcp_page_new (confab_application_get_mcp_manager (confab),
                                                                                 confab_application_get_mcp_error (confab))));
      }
  }
}

static void
confab_preferences_window_dispose (GObject *object)
{
  ConfabPreferencesWindow *self = CONFAB_PREFERENCES_WINDOW (object);

  /* First: every callback and handler from here on returns at once. */
  g_cancellable_cancel (self->cancellable);

  if (self->settings != NULL && self->default_model_row != NULL)
    {
      g_settings_unbind (self->default_model_row, "text");
      g_settings_unbind (gtk_text_view_get_buffer (self->system_prompt_view), "text");
      g_settings_unbind (self->ctrl_enter_switch, "active");
      g_settings_unbind (self->scale_adjustment, "value");
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), CONFAB_TYPE_PREFERENCES_WINDOW);

  g_clear_object (&self->store);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (confab_preferences_window_parent_class)->dispose (object);
}

static void
confab_preferences_window_finalize (GObject *object)
{
  ConfabPreferencesWindow *self = CONFAB_PREFERENCES_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_object (&self->api_names);
  g_clear_object (&self->provider_choices);
  g_clear_pointer (&self->auto_name, g_free);

  G_OBJECT_CLASS (confab_preferences_window_parent_class)->finalize (object);
}

static void
confab_preferences_window_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  ConfabPreferencesWindow *self = CONFAB_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_preferences_window_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  ConfabPreferencesWindow *self = CONFAB_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_set_object (&self->store, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
confab_preferences_window_class_init (ConfabPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = confab_preferences_window_constructed;
  object_class->dispose = confab_preferences_window_dispose;
  object_class->finalize = confab_preferences_window_finalize;
  object_class->get_property = confab_preferences_window_get_property;
  object_class->set_property = confab_preferences_window_set_property;

  /**
   * ConfabPreferencesWindow:store:
   *
   * Where the provider configurations are; %NULL while it is not open,
   * which leaves the Providers page read-only.
   */
  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         CONFAB_TYPE_STORE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * ConfabPreferencesWindow::providers-changed:
   *
   * A provider was added, saved or removed, or its key stored or
   * removed: whoever lists providers should read them again.
   */
  signals[PROVIDERS_CHANGED] =
    g_signal_new ("providers-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/confab/Confab/ui/confab-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, providers_page);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, providers_list);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, providers_message_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, preset_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_name_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_api_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_url_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_model_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_key_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_message_label);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, add_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, settings_missing_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, defaults_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, prompt_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, composer_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, messages_group);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, default_provider_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, default_model_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, system_prompt_view);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, ctrl_enter_switch);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, font_row);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, font_reset_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, font_button);
  gtk_widget_class_bind_template_child (widget_class, ConfabPreferencesWindow, scale_adjustment);
}

static void
confab_preferences_window_init (ConfabPreferencesWindow *self)
{
  g_autoptr(GtkStringList) preset_names = gtk_string_list_new (NULL);

  self->cancellable = g_cancellable_new ();
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->settings = settings_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  /* Providers page */
  gtk_list_box_set_sort_func (self->providers_list, compare_rows, NULL, NULL);

  self->api_names = gtk_string_list_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (apis); i++)
    gtk_string_list_append (self->api_names, apis[i].translatable ? _(apis[i].label) : apis[i].label);
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    gtk_string_list_append (preset_names, presets[i].translatable ? _(presets[i].label) : presets[i].label);

  adw_combo_row_set_model (self->add_api_row, G_LIST_MODEL (self->api_names));
  adw_combo_row_set_model (self->preset_row, G_LIST_MODEL (preset_names));
  fill_preset (self, TRUE);

  g_signal_connect_object (self->preset_row, "notify::selected",
                           G_CALLBACK (preset_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_name_row, "notify::text",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_api_row, "notify::selected",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_url_row, "notify::text",
                           G_CALLBACK (add_field_changed_cb), self, 0);
  g_signal_connect_object (self->add_name_row, "entry-activated",
                           G_CALLBACK (add_entry_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_url_row, "entry-activated",
                           G_CALLBACK (add_entry_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_model_row, "entry-activated",
                           G_CALLBACK (add_entry_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_key_row, "entry-activated",
                           G_CALLBACK (add_entry_activated_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->add_button, "clicked",
                           G_CALLBACK (add_clicked_cb), self, G_CONNECT_SWAPPED);

  /* Chat page */
  self->provider_choices = gtk_string_list_new ((const char * const[]) { _("Automatic"), NULL });
  adw_combo_row_set_model (self->default_provider_row, G_LIST_MODEL (self->provider_choices));
  sync_default_provider (self);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self->font_row), FALSE);
  sync_font (self);

  if (self->settings == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->settings_missing_group), TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->defaults_group), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->prompt_group), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->composer_group), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->messages_group), FALSE);
      return;
    }

  g_signal_connect_object (self->default_provider_row, "notify::selected",
                           G_CALLBACK (default_provider_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::default-provider",
                           G_CALLBACK (sync_default_provider), self, G_CONNECT_SWAPPED);

  g_settings_bind (self->settings, "default-model", self->default_model_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "default-system-prompt",
                   gtk_text_view_get_buffer (self->system_prompt_view), "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "send-with-ctrl-enter",
                   self->ctrl_enter_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "message-font-scale",
                   self->scale_adjustment, "value", G_SETTINGS_BIND_DEFAULT);

  g_signal_connect_object (self->settings, "changed::message-font",
                           G_CALLBACK (sync_font), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->font_button, "font-set",
                           G_CALLBACK (font_set_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->font_reset_button, "clicked",
                           G_CALLBACK (font_reset_clicked_cb), self, G_CONNECT_SWAPPED);
}

/* Public API */

/**
 * confab_preferences_window_new:
 * @parent: (nullable): the window it belongs to
 * @store: (nullable): the store of the provider configurations; %NULL
 *   while it is not open
 *
 * Creates the preferences window, modal for @parent; present it with
 * gtk_window_present(). Main thread.
 *
 * Returns: (transfer none): the new window, owned by GTK's list of
 *   toplevels until it is closed.
 */
ConfabPreferencesWindow *
confab_preferences_window_new (GtkWindow   *parent,
                               ConfabStore *store)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (store == NULL || CONFAB_IS_STORE (store), NULL);

  return g_object_new (CONFAB_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "store", store,
                       NULL);
}

/**
 * confab_preferences_window_add_provider_template:
 * @template_id: "ollama", "llamacpp", "openai", "openrouter", "groq",
 *   "anthropic" or "custom"
 *
 * Shows the Providers page with the Add Provider form filled in for
 * @template_id (its API and base URL, a free name), and focuses the
 * field the user most likely has to fill: the API key for a hosted
 * service, the name for a custom server, else the Add button. Main
 * thread.
 */
void
confab_preferences_window_add_provider_template (ConfabPreferencesWindow *self,
                                                 const char              *template_id)
{
  const Preset *preset;

  g_return_if_fail (CONFAB_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (template_id != NULL);

  preset = find_preset (template_id);
  g_return_if_fail (preset != NULL);

  adw_preferences_window_set_visible_page (ADW_PREFERENCES_WINDOW (self), self->providers_page);

  self->syncing = TRUE;
  adw_combo_row_set_selected (self->preset_row, (guint)(preset - presets));
  self->syncing = FALSE;
  fill_preset (self, TRUE);
  _confab_form_hide_message (self->add_message_label);

  if (preset->needs_key)
    _confab_form_focus_entry (self->add_key_row);
  else if (g_str_equal (preset->id, "custom"))
    _confab_form_focus_entry (self->add_name_row);
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->add_button));
}
