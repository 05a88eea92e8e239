#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan in
# _build-fuzz (or $FUZZ_BUILDDIR) and runs each for a bounded number of
# inputs over its seed corpus. Extra arguments go to `meson test`, e.g.
#   build-aux/run-fuzzers.sh fuzz-sse-parser
# Findings are written to <builddir>/tests/fuzz/artifacts/<target>/;
# replay one with  <builddir>/tests/fuzz/<target> <file>.

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${FUZZ_BUILDDIR:-"$srcdir/_build-fuzz"}

if ! command -v clang >/dev/null 2>&1; then
  echo "run-fuzzers: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

set -- --suite fuzz --print-errorlogs "$@"
options="-Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false"

if [ -f "$builddir/meson-private/coredata.dat" ]; then
  # shellcheck disable=SC2086 # $options is a list of words
  meson setup --reconfigure "$builddir" "$srcdir" $options
else
  # shellcheck disable=SC2086
  CC=clang meson setup "$builddir" "$srcdir" $options
fi

# Only the fuzz targets: the rest of the project need not build here.
targets=""
for source in "$srcdir"/tests/fuzz/fuzz-*.c; do
  targets="$targets tests/fuzz/$(basename "$source" .c)"
done
# shellcheck disable=SC2086 # $targets is a list of words
ninja -C "$builddir" $targets

exec meson test -C "$builddir" --no-rebuild "$@"
