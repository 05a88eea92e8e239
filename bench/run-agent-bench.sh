#!/bin/sh
# The agent loop's cost to the main loop, and parallel tool calls against
# one-by-one (see bench/agent-bench.c). Prints the machine, then the
# numbers; paste both into docs/benchmarks.md.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-_build-release}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" --buildtype=release >/dev/null
else
  meson setup "$build" --buildtype=release >/dev/null
fi
meson compile -C "$build" agent-bench >/dev/null
echo "Machine: $(nproc) CPUs, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Command: bench/run-agent-bench.sh (CPU_SECONDS=${CPU_SECONDS:-2}, N_PARALLEL=${N_PARALLEL:-8})"
GIO_USE_PROXY_RESOLVER=dummy "$build/bench/agent-bench" "${CPU_SECONDS:-2}" "${N_PARALLEL:-8}"
