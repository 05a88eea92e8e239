#!/usr/bin/env python3
# check-po.py: checks the translations in po/ against the sources (TAP).
#
# Copyright 2026 The Confab developers
# SPDX-License-Identifier: GPL-3.0-or-later
#
#  1. every file under src/ that marks a string for translation (_(), N_(),
#     C_(), NC_(), ngettext(), g_dngettext(), translatable="yes"), and every
#     translatable file in data/, is listed in po/POTFILES.in;
#  2. every file POTFILES.in lists exists;
#  3. every translation in po/ passes msgfmt --check, and LINGUAS names
#     exactly the .po files there;
#  4. no translation has untranslated or fuzzy messages, neither as it is
#     nor merged with a template extracted from the sources as they are now
#     (so a new or changed string fails here until it is translated).

import argparse
import os
import re
import subprocess
import sys
import tempfile

# The same extraction as i18n.gettext(preset: 'glib') in po/meson.build.
XGETTEXT_ARGS = [
    '--from-code=UTF-8',
    '--add-comments',
    '--keyword=_',
    '--keyword=N_',
    '--keyword=C_:1c,2',
    '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2',
    '--keyword=g_dngettext:2,3',
    '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format',
    '--flag=C_:2:pass-c-format',
    '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format',
    '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format',
    '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format',
    '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format',
    '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format',
    '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format',
    '--flag=g_snprintf:3:c-format',
]

MARKER = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_|ngettext|g_dngettext|g_dpgettext2|g_dcgettext)\s*\('
                    r'|translatable\s*=\s*"(?:yes|true|1)"')
# Files in data/ that are translatable by their kind, markers or not.
DATA_KINDS = ('.desktop.in', '.metainfo.xml.in', '.appdata.xml.in', '.gschema.xml')

ENV = dict(os.environ, LC_ALL='C', LANGUAGE='')


class Tap:
    def __init__(self, n):
        self.n = 0
        self.failed = False
        print('1..%d' % n)

    def result(self, name, problems):
        self.n += 1
        print('%s %d - %s' % ('not ok' if problems else 'ok', self.n, name))
        for problem in problems:
            for line in problem.splitlines() or ['']:
                print('# ' + line)
        self.failed = self.failed or bool(problems)


def read_potfiles(po_dir):
    listed = []
    with open(os.path.join(po_dir, 'POTFILES.in'), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            # intltool's “[type: gettext/glade] file” form
            line = re.sub(r'^\[[^]]*\]\s*', '', line)
            listed.append(line)
    return listed


def read_linguas(po_dir):
    langs = []
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0]
            langs += line.split()
    return langs


def marks_strings(path):
    try:
        with open(path, encoding='utf-8') as f:
            return MARKER.search(f.read()) is not None
    except (UnicodeDecodeError, OSError):
        return False  # not text: images and such


def translatable_sources(root):
    found = []
    for top in ('src', 'data'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, '/')
                if top == 'data':
                    if dirpath != os.path.join(root, 'data'):
                        continue
                    if name.endswith(DATA_KINDS) or (name.endswith('.in') and marks_strings(path)):
                        found.append(rel)
                elif marks_strings(path):
                    found.append(rel)
    return found


def statistics(msgfmt, po):
    """(translated, fuzzy, untranslated, errors) from msgfmt --statistics."""
    proc = subprocess.run([msgfmt, '--check', '--statistics', '-o', os.devnull, po],
                          env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    counts = {}
    for kind in ('translated', 'fuzzy', 'untranslated'):
        m = re.search(r'(\d+) %s' % kind, proc.stderr)
        counts[kind] = int(m.group(1)) if m else 0
    errors = proc.stderr.strip() if proc.returncode != 0 else None
    return counts['translated'], counts['fuzzy'], counts['untranslated'], errors


def unfinished(msgattrib, po, flag):
    """The msgids msgattrib selects with @flag, for the report."""
    proc = subprocess.run([msgattrib, flag, '--no-wrap', '--no-location', po],
                          env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    found = []
    for first, rest in re.findall(r'^msgid "(.*)"\n(?:"(.*)"\n)?', proc.stdout, re.M):
        if first or rest:
            found.append(first or rest + ' …')
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--source-root', required=True)
    parser.add_argument('--msgfmt', default='msgfmt')
    parser.add_argument('--msgmerge', default='msgmerge')
    parser.add_argument('--msgattrib', default='msgattrib')
    parser.add_argument('--xgettext', default='xgettext')
    args = parser.parse_args()

    root = os.path.abspath(args.source_root)
    po_dir = os.path.join(root, 'po')
    tap = Tap(4)

    listed = read_potfiles(po_dir)
    listed_set = set(listed)

    # 1. Everything that marks strings is listed.
    problems = ['%s marks strings for translation but is not in po/POTFILES.in' % path
                for path in translatable_sources(root) if path not in listed_set]
    tap.result('every file with translatable strings is in po/POTFILES.in', problems)

    # 2. Everything listed exists.
    problems = ['po/POTFILES.in lists %s, which does not exist' % path
                for path in listed if not os.path.isfile(os.path.join(root, path))]
    problems += ['po/POTFILES.in lists %s twice' % path
                 for path in sorted(listed_set) if listed.count(path) > 1]
    tap.result('every file in po/POTFILES.in exists', problems)

    # 3. Every translation compiles.
    langs = read_linguas(po_dir)
    po_files = sorted(name[:-3] for name in os.listdir(po_dir) if name.endswith('.po'))
    problems = ['po/LINGUAS names %s, but there is no po/%s.po' % (lang, lang)
                for lang in langs if lang not in po_files]
    problems += ['po/%s.po is not in po/LINGUAS' % lang for lang in po_files if lang not in langs]
    for lang in po_files:
        errors = statistics(args.msgfmt, os.path.join(po_dir, lang + '.po'))[3]
        if errors:
            problems.append('msgfmt --check po/%s.po failed:\n%s' % (lang, errors))
    tap.result('msgfmt --check accepts every translation', problems)

    # 4. Every translation is complete, also for the sources as they are now.
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'confab.pot')
        proc = subprocess.run([args.xgettext, '--package-name=confab', '-f',
                               os.path.join(po_dir, 'POTFILES.in'), '-D', root,
                               '-o', pot] + XGETTEXT_ARGS,
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not os.path.exists(pot):
            problems.append('xgettext could not extract the strings:\n' + proc.stderr.strip())
        for lang in po_files:
            po = os.path.join(po_dir, lang + '.po')
            translated, fuzzy, untranslated, errors = statistics(args.msgfmt, po)
            if fuzzy or untranslated:
                problems.append('po/%s.po has %d fuzzy and %d untranslated messages' %
                                (lang, fuzzy, untranslated))
            if proc.returncode != 0:
                continue
            merged = os.path.join(tmp, lang + '.po')
            subprocess.run([args.msgmerge, '--quiet', '-o', merged, po, pot], env=ENV, check=True)
            translated, fuzzy, untranslated, errors = statistics(args.msgfmt, merged)
            if fuzzy or untranslated:
                missing = (unfinished(args.msgattrib, merged, '--untranslated') +
                           unfinished(args.msgattrib, merged, '--only-fuzzy'))
                problems.append('po/%s.po lacks %d of the current strings (%d changed, %d new); '
                                'run “meson compile -C BUILDDIR confab-update-po” and translate:\n  %s' %
                                (lang, fuzzy + untranslated, fuzzy, untranslated,
                                 '\n  '.join(m for m in missing if m)))
    tap.result('every translation is complete', problems)

    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
