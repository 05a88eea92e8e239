#!/bin/sh
# bench/run-ui-bench.sh: the window with a 5,000-message chat and a
# 5,000 tokens/s stream, reopening that chat, a 1 MB paste into the composer, and start-up
# with 1,000 stored conversations (bench/ui-bench.c), under Xvfb, with the
# cairo renderer and with GTK's default (GL) renderer. Prints a Markdown
# report.
#
# Settings (environment): BENCH_BUILD_DIR (default _build-release),
# BENCH_MESSAGES (5000), BENCH_OPENS (3), BENCH_TOKENS (20000),
# BENCH_TOKENS_PER_EVENT (6), BENCH_DELAY_MS (1), BENCH_RENDERERS
# ("cairo default").
set -eu

cd "$(dirname "$0")/.."
build=${BENCH_BUILD_DIR:-_build-release}
renderers=${BENCH_RENDERERS:-cairo default}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release >/dev/null
fi
meson compile -C "$build" ui-bench >/dev/null
# The GSettings schema the app needs (built by default, not by the line above).
ninja -C "$build" data/gschemas.compiled >/dev/null

export GSETTINGS_SCHEMA_DIR="$PWD/$build/data" GSETTINGS_BACKEND=memory
export NO_AT_BRIDGE=1 GTK_A11Y=none GDK_BACKEND=x11 GIO_USE_PROXY_RESOLVER=dummy

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for r in $renderers; do
  if [ "$r" = default ]; then
    renderer="env -u GSK_RENDERER"
  else
    renderer="env GSK_RENDERER=$r"
  fi
  $renderer xvfb-run -a -s '-screen 0 1280x800x24' "$build/bench/ui-bench" >"$out/$r.txt" 2>"$out/$r.err" ||
    { echo "ui-bench failed with renderer $r:"; cat "$out/$r.err"; exit 1; }
  # Start-up: the first run fills the database, then 3 fresh processes.
  rm -rf "$out/startup"
  mkdir "$out/startup"
  for i in 0 1 2 3; do
    $renderer xvfb-run -a -s '-screen 0 1280x800x24' "$build/bench/ui-bench" startup "$out/startup" >>"$out/$r.txt" 2>"$out/$r.err" ||
      { echo "ui-bench startup failed with renderer $r:"; cat "$out/$r.err"; exit 1; }
  done
done

# v FILE KEY: the value of KEY in FILE's RESULT lines (the last one).
v() {
  tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | tail -n 1
}
# vs FILE KEY: all its values, "/"-separated.
vs() {
  tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | paste -sd/ -
}

echo "Command: \`bench/run-ui-bench.sh\` (BENCH_MESSAGES=${BENCH_MESSAGES:-5000}, BENCH_TOKENS=${BENCH_TOKENS:-20000}, BENCH_TOKENS_PER_EVENT=${BENCH_TOKENS_PER_EVENT:-6}, BENCH_DELAY_MS=${BENCH_DELAY_MS:-1})"
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr); Xvfb 1280x800x24;" \
     "GTK $(pkg-config --modversion gtk4), libadwaita $(pkg-config --modversion libadwaita-1);" \
     "build: $(meson introspect --buildoptions "$build" 2>/dev/null | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null || echo '?');" \
     "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

printf '| measure | target |'
for r in $renderers; do printf ' %s |' "$r"; done
echo
printf '|---|---|'
for r in $renderers; do printf -- '---:|'; done
echo
row() { # LABEL TARGET KEY
  printf '| %s | %s |' "$1" "$2"
  for r in $renderers; do printf ' %s |' "$(v "$out/$r.txt" "$3")"; done
  echo
}
rows() { # LABEL TARGET KEY: every value of KEY
  printf '| %s | %s |' "$1" "$2"
  for r in $renderers; do printf ' %s |' "$(vs "$out/$r.txt" "$3")"; done
  echo
}
row "GSK renderer in use" "" renderer
row "populate 5,000 messages, ms (one transaction)" "" populate_ms
row "open, 1st: model filled, ms" "" open0_model_ms
row "**open, 1st: first frame with all items, ms**" "< 150" open0_first_frame_ms
row "open, 2nd: first frame, ms" "< 150" open1_first_frame_ms
row "open, 3rd: first frame, ms" "< 150" open2_first_frame_ms
row "open: longest main-loop gap, ms" "" open0_loop_gap_max
row "ConfabMessageRow widgets after opening" "near viewport" open0_rows
row "**peak RSS (VmHWM) after opening, MB**" "< 200" open0_hwm_mb
row "scroll to end: ms" "" scroll_end_ms
row "ConfabMessageRow widgets at the end" "near viewport" scrolled_rows
row "**peak RSS after scrolling to the end, MB**" "< 200" scrolled_hwm_mb
row "page through all of it (40 jumps): ms" "" page40_ms
row "page: longest main-loop gap, ms" "" page_loop_gap_max
row "peak RSS after paging, MB" "< 200" paged_hwm_mb
row "stream: tokens" "" stream_tokens
row "stream: events" "" stream_events
row "**stream: tokens/s achieved**" ">= 5000" stream_tokens_per_s
row "stream: frames painted" "" stream_frames
row "stream: frame gap median, ms" "" stream_frame_gap_median
row "stream: frame gap p99, ms" "" stream_frame_gap_p99
row "stream: frame gap max, ms" "" stream_frame_gap_max
row "stream: frame work (update + layout) median, ms" "" stream_layout_median
row "stream: frame work (update + layout) max, ms" "" stream_layout_max
row "stream: paint median, ms" "" stream_paint_median
row "stream: paint max, ms" "" stream_paint_max
row "stream: main-loop gap median, ms" "" stream_loop_gap_median
row "stream: main-loop gap p99, ms" "" stream_loop_gap_p99
row "**stream: main-loop gap max, ms**" "<= 16" stream_loop_gap_max
row "2 s after the stream: main-loop wake-ups" "~1800" after_stream_loop_ticks
row "2 s after the stream: main-loop gap max, ms" "<= 16" after_stream_loop_gap_max
row "idle control: main-loop gap max, ms" "" idle_loop_gap_max
row "peak RSS after the stream, MB" "< 200" stream_hwm_mb
row "**reopen that chat (one reply of 93 KB): first frame, ms**" "< 150" reopen_first_frame_ms
row "reopen: main-loop gap max over 30 frames, ms" "" reopen_loop_gap_max
row "paste 1 MB in 80-character lines: text in, ms" "" paste_lines_in_ms
row "**paste 1 MB in lines: next frame, ms**" "instant" paste_lines_frame_ms
row "paste 1 MB in lines: main-loop gap max, ms" "" paste_lines_loop_gap_max
row "**send the 1 MB in lines: its row drawn, ms**" "instant" send_big_frame_ms
row "send the 1 MB in lines: main-loop gap max, ms" "" send_big_loop_gap_max
row "paste 1 MB as one line: text in, ms" "" paste_one_line_in_ms
row "**paste 1 MB as one line: next frame, ms**" "instant" paste_one_line_frame_ms
row "paste 1 MB as one line: main-loop gap max, ms" "" paste_one_line_loop_gap_max
row "start-up: fill 1,000 conversations, ms" "" startup_populate_ms
rows "**start-up with 1,000 conversations: main() to first frame with the list, ms** (3 runs)" "< 300" startup_first_frame_ms
rows "start-up: activate to that frame, ms" "" startup_from_activate_ms
echo
echo "Raw RESULT lines:"
for r in $renderers; do
  echo
  echo "$r:"
  echo '```'
  grep '^RESULT' "$out/$r.txt"
  echo '```'
done
