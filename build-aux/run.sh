#!/bin/sh
# Builds Confab (installing the Debian packages it needs) and launches it.
# Arguments are passed on to the app.
set -eu
cd "$(dirname "$0")/.."

./build-aux/install-deps.sh
if [ ! -f _build/build.ninja ]; then
  meson setup _build
fi
meson compile -C _build

# Run from the build tree: the settings schema compiled there.
GSETTINGS_SCHEMA_DIR="$PWD/_build/data" exec ./_build/src/confab "$@"
