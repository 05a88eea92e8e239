#!/bin/sh
# Builds Confab (installing the Debian packages it needs) and launches it.
# Arguments are passed on to the program.
set -eu
cd "$(dirname "$0")/.."

./build-aux/install-deps.sh
if [ ! -f _build/build.ninja ]; then
  meson setup _build
fi
meson compile -C _build

# The window arrives with the chat-window issue; until then the headless
# client is the app.
if [ $# -eq 0 ]; then
  set -- --help
fi
exec ./_build/src/cli/confab-cli "$@"
