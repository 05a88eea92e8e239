#!/bin/sh
# Builds Confab and runs the whole test suite: a normal build, then an
# ASan+UBSan build (clang), then the fuzz targets for a bounded number of
# runs. Warnings fail the build. This is what CI runs (.ci/run).
set -eu
cd "$(dirname "$0")/.."

./build-aux/install-deps.sh

setup () {
  dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

# Tests get a private data dir, runtime dir, session bus and an unlocked
# keyring of their own, so nothing of the user's (keyring, settings,
# conversations) is touched. The keyring tests fail, not skip, without it.
run_tests () {
  dir=$1
  shift
  tmp=$(mktemp -d)
  mkdir -m 700 "$tmp/runtime"
  XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
  XDG_RUNTIME_DIR="$tmp/runtime" CONFAB_REQUIRE_KEYRING=1 CONFAB_REQUIRE_DISPLAY=1 \
    xvfb-run -a -s '-screen 0 1280x800x24' \
    dbus-run-session -- sh -c '
      printf ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
      gdbus wait --session --timeout 10 org.freedesktop.secrets &&
      exec meson test -C "$0" --print-errorlogs --no-rebuild "$@"' "$dir" "$@"
  rm -rf "$tmp"
}

echo "== Normal build"
setup _build -Dwerror=true
meson compile -C _build
run_tests _build

echo "== ASan + UBSan build"
CC=clang setup _build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C _build-asan
run_tests _build-asan

echo "== Fuzz targets"
./build-aux/run-fuzzers.sh

echo "All tests passed."
