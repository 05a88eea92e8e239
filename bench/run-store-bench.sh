#!/usr/bin/env bash
# Store benchmark: start-up (open the database and list the 50 most recent
# conversations) and full-text search, on a database of 10,000
# conversations x 10 messages, through ConfabStore's public async API.
#
# Builds bench/store-bench in a release tree, populates the database once
# (cached under the results folder; about a minute), runs the start-up R
# times, each in a fresh process (page cache warm, process cold), then
# after dropping the page cache (needs root), then the searches, and
# prints Markdown tables.  See bench/README.md.
#
# Environment (all optional):
#   BENCH_CONVERSATIONS=10000  conversations in the database
#   BENCH_MESSAGES=10          messages per conversation (user/assistant)
#   BENCH_STARTUP_RUNS=10      start-up runs with a warm page cache (R)
#   BENCH_COLD_RUNS=1          start-up runs after dropping the page cache
#                              (0: none; needs write access to
#                              /proc/sys/vm/drop_caches)
#   BENCH_BUILD_DIR=DIR        default _build-release (set up with
#                              --buildtype=release when missing)
#   BENCH_RESULTS_DIR=DIR      default bench/results
#   BENCH_DB=PATH              use this database instead of the cached one
#                              (no row changes; the store adds PATH.lock)

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")

if [[ $# -gt 0 ]]; then
  case $1 in
    -h|--help)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0 ;;
    *)
      echo "run-store-bench.sh: takes no arguments (settings are environment variables; see --help)" >&2
      exit 2 ;;
  esac
fi

cmdline=""
for v in BENCH_CONVERSATIONS BENCH_MESSAGES BENCH_STARTUP_RUNS BENCH_COLD_RUNS \
         BENCH_BUILD_DIR BENCH_RESULTS_DIR BENCH_DB; do
  if [[ -n ${!v+x} ]]; then
    cmdline+="$v=$(printf '%q' "${!v}") "
  fi
done
cmdline+=$(printf '%q' "$0")

N_CONVERSATIONS=${BENCH_CONVERSATIONS:-10000}
N_MESSAGES=${BENCH_MESSAGES:-10}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-10}
COLD_RUNS=${BENCH_COLD_RUNS:-1}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/_build-release}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}

# The searches: kind, then what is typed. The store makes every word a
# required term and the last one a prefix ("the" matches then, there, ...).
QUERY_KINDS=("rare word" "common word" "two words" "prefix" "one letter (first keystroke)")
QUERIES=("quokka" "the" "memory leak" "optim" "t")

kv() { # kv KEY LINE: the value of KEY=... in a RESULT line
  sed -n "s/.* $1=\\(\"[^\"]*\"\\|[^ ]*\\).*/\\1/p" <<<" $2" | sed 's/^"//; s/"$//'
}

die() {
  echo >&2
  echo "run-store-bench.sh: ERROR: $*" >&2
  exit 1
}

for pair in CONVERSATIONS:N_CONVERSATIONS MESSAGES:N_MESSAGES STARTUP_RUNS:STARTUP_RUNS COLD_RUNS:COLD_RUNS; do
  var=${pair#*:}
  [[ ${!var} =~ ^[0-9]+$ ]] || die "BENCH_${pair%%:*} must be a number, not '${!var}'"
done
((STARTUP_RUNS > 0)) || die "BENCH_STARTUP_RUNS must be at least 1"

cd "$ROOT"

# Build

if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  echo "Setting up $BUILD_DIR (release)..." >&2
  meson setup "$BUILD_DIR" --buildtype=release >&2
fi
# A build tree configured before bench/meson.build had store-bench does not
# know the target until meson runs again.
if ! meson compile -C "$BUILD_DIR" store-bench >&2; then
  echo "Reconfiguring $BUILD_DIR and trying again..." >&2
  meson setup --reconfigure "$BUILD_DIR" >&2
  meson compile -C "$BUILD_DIR" store-bench >&2
fi
BENCH=$BUILD_DIR/bench/store-bench
[[ -x $BENCH ]] || die "$BENCH was not built"

buildtype=$(python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print("%s (optimization=%s, debug=%s)" % (o.get("buildtype"), o.get("optimization"), o.get("debug")))
' "$BUILD_DIR/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
case $buildtype in
  release*) ;;
  *) echo "run-store-bench.sh: WARNING: $BUILD_DIR is a '$buildtype' build, not release" >&2 ;;
esac

versions=$("$BENCH" version)
generator=$(kv generator "$versions")
schema=$(kv schema "$versions")

mkdir -p "$RESULTS_DIR"
RUN_DIR=$(mktemp -d "$RESULTS_DIR/store-$(date +%Y%m%d-%H%M%S)-XXXX")
REPORT=$RUN_DIR/report.md
RAW=$RUN_DIR/raw.txt
: >"$RAW"

say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

# The database, populated once

if [[ -n ${BENCH_DB:-} ]]; then
  DB=$BENCH_DB
  [[ -f $DB ]] || die "BENCH_DB=$DB does not exist"
  populate_line="(given database, not populated by this script)"
else
  DB_DIR=$RESULTS_DIR/store-db
  DB=$DB_DIR/confab-gen$generator-schema$schema-${N_CONVERSATIONS}x$N_MESSAGES.db
  mkdir -p "$DB_DIR"
  if [[ ! -f $DB ]]; then
    echo "Populating $DB (once; later runs reuse it)..." >&2
    rm -f "$DB.partial" "$DB.partial-wal" "$DB.partial-shm" "$DB.partial.lock"
    "$BENCH" populate "$DB.partial" "$N_CONVERSATIONS" "$N_MESSAGES" >"$DB.populate.txt" \
      || die "populating failed"
    [[ ! -e $DB.partial-wal ]] || die "the store left a WAL file behind after closing"
    mv "$DB.partial" "$DB"
    # The store's lock file (DATABASE.lock), named after the old name.
    rm -f "$DB.partial.lock"
  fi
  populate_line=$(grep '^RESULT populate' "$DB.populate.txt" 2>/dev/null || echo "(no populate record)")
fi

# stats: min median max of the numbers on stdin (median: the lower middle)
stats() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
    printf "%.1f %.1f %.1f\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
stats3() { # stats3 FILE: min median max of a column file, as "a | b | c"
  stats <"$1" | awk '{ printf "%s | %s | %s", $1, $2, $3 }'
}

db_bytes=$(stat -c %s "$DB")
db_mib=$(awk -v b="$db_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
fs=$(df -PT "$(dirname "$DB")" | awk 'NR == 2 { print $2 }')
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  rev+=" (with uncommitted changes)"
fi

say "# Store benchmark"
say ""
say "- Command: \`$cmdline\`"
say "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), source $rev"
say "- Machine: nproc=$(nproc), CPU: $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*:[[:space:]]*//' || echo unknown), RAM $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
say "- Kernel: $(uname -srm); file system of the database: $fs"
say "- Load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other work skews the times)"
say "- Build: $BENCH, $buildtype; $versions"
say "- Database: $DB, $N_CONVERSATIONS conversations x $N_MESSAGES messages, $db_mib MiB ($db_bytes bytes) on disk"
say "- Populated: $populate_line"
say ""

# Start-up

run_startup() { # run_startup LABEL: one fresh process; appends to RAW
  local line w0 w1
  w0=$EPOCHREALTIME
  line=$("$BENCH" startup "$DB")
  w1=$EPOCHREALTIME
  line+=" process_ms=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')"
  printf '%s %s\n' "$1" "$line" >>"$RAW"
  echo "  $1: $line" >&2
}

echo "Start-up: 1 untimed run to warm the page cache, then $STARTUP_RUNS timed runs..." >&2
"$BENCH" startup "$DB" >/dev/null
for ((i = 1; i <= STARTUP_RUNS; i++)); do
  run_startup warm
done

cold_note=""
cold_done=0
for ((i = 1; i <= COLD_RUNS; i++)); do
  sync
  if ! err=$( { echo 3 >/proc/sys/vm/drop_caches; } 2>&1); then
    cold_note="dropping the page cache failed (echo 3 > /proc/sys/vm/drop_caches: ${err##*: }); no cold run"
    break
  fi
  run_startup cold
  cold_done=$((cold_done + 1))
done

startup_row() { # startup_row LABEL WHICH KEY RUNS
  local f=$RUN_DIR/col.txt
  grep "^$2 " "$RAW" | while read -r l; do kv "$3" "$l"; done >"$f"
  say "| $1 | $4 | $(stats3 "$f") |"
}

say "## Start-up: open the store and list the 50 most recent of $N_CONVERSATIONS conversations"
say ""
say "Each run is a fresh process: \`store-bench startup DB\` measures from before"
say "\`confab_store_new_async()\` to the completion of"
say "\`confab_store_list_conversations_async (limit 50)\` on the main loop."
say ""
say "| measurement (ms) | runs | min | median | max |"
say "|---|---:|---:|---:|---:|"
startup_row "**open + list 50** (page cache warm)" warm total_ms "$STARTUP_RUNS"
startup_row "of which: open (\`confab_store_new_async\`)" warm open_ms "$STARTUP_RUNS"
startup_row "of which: list 50" warm list_ms "$STARTUP_RUNS"
startup_row "second list 50 (same process)" warm warm_list_ms "$STARTUP_RUNS"
startup_row "whole process, exec to exit" warm process_ms "$STARTUP_RUNS"
startup_row "longest main-loop gap during open + list" warm max_main_gap_ms "$STARTUP_RUNS"
startup_row "main-thread CPU during open + list" warm main_cpu_ms "$STARTUP_RUNS"
if ((cold_done > 0)); then
  startup_row "**open + list 50** (page cache dropped)" cold total_ms "$cold_done"
  startup_row "of which: open" cold open_ms "$cold_done"
  startup_row "of which: list 50" cold list_ms "$cold_done"
  startup_row "whole process, exec to exit" cold process_ms "$cold_done"
fi
say ""
if [[ -n $cold_note ]]; then
  say "Cold run: $cold_note."
  say ""
fi
say "Target: open + list 50 under 50 ms."
say ""

# Search

echo "Search: ${#QUERIES[@]} queries, 1 + 10 runs each..." >&2
"$BENCH" search "$DB" "${QUERIES[@]}" | tee -a "$RAW" >&2

say "## Full-text search (\`confab_store_search_async\`, limit 20)"
say ""
say "One process; per query 1 first run, then 10 timed runs (median, min, max), then"
say "one run with no limit to count every match. *list behind* is how long a"
say "list of 50 conversations (about 0.2 ms alone) takes when queued right behind the"
say "search; *cancelled* is the same when the search is cancelled as soon as its"
say "statement has started on the worker (search-as-you-type, next key typed)."
say "The last two columns cover the 11 limited runs and the unlimited one:"
say "the longest gap between two runs of a 1 ms main-loop timeout, and the main"
say "thread's own CPU time as a share of that wall time."
say ""
say "| query | kind | hits | all matches | median ms | min ms | max ms | first run ms | no limit ms | list behind ms | list behind, cancelled ms | longest main-loop gap ms | main-thread CPU % |"
say "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for i in "${!QUERIES[@]}"; do
  line=$(grep -F "RESULT search query=\"${QUERIES[$i]}\" " "$RAW" | head -n1) || die "no result for query '${QUERIES[$i]}'"
  row="| \`${QUERIES[$i]}\` | ${QUERY_KINDS[$i]} | $(kv hits "$line") | $(kv matches "$line")"
  for k in median_ms min_ms max_ms first_ms all_ms list_behind_ms list_behind_cancelled_ms max_main_gap_ms main_cpu_pct; do
    row+=" | $(awk -v x="$(kv $k "$line")" 'BEGIN { printf (x < 10 ? "%.2f" : "%.0f"), x }')"
  done
  say "$row |"
done
say ""
idle=$(grep '^RESULT idle ' "$RAW" | head -n1)
say "The control: an idle main loop, 0.5 s in the same process, had a longest gap of"
say "$(awk -v x="$(kv max_main_gap_ms "$idle")" 'BEGIN { printf "%.1f", x }') ms and used $(kv main_cpu_pct "$idle") % of a CPU (the 1 ms timeout itself)."
say ""
say "Load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

ln -sfn "$(basename "$RUN_DIR")" "$RESULTS_DIR/store-latest"
echo >&2
echo "Report: $REPORT (raw numbers: $RAW)" >&2
