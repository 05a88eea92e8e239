#!/usr/bin/env bash
# Streaming benchmark: confab-cli against peer clients, side by side, in one run.
#
# One local server (tests/support/confab-test-server) streams N tokens as
# OpenAI SSE (POST /v1/chat/completions) and as Ollama NDJSON (POST /api/chat).
# Every client reads the same stream R times under /usr/bin/time; the median
# run is reported as tokens/s, CPU seconds per 100k tokens and peak RSS, and
# every client's output is checked byte for byte (sha256) against the text the
# server says it sent.  See bench/README.md.
#
# Environment (all optional):
#   BENCH_TOKENS=200000       tokens per stream (N)
#   BENCH_RUNS=3              timed runs per client and format (R)
#   BENCH_WARMUP=1            untimed runs before those (output still checked)
#   BENCH_CLIENTS=...         comma list out of: confab-cli,openai-node,
#                             ollama-node,aiohttp,httpx,curl (default: all)
#   BENCH_ALLOW_MISSING=1     skip a client that is not built / not installed
#                             instead of failing
#   BENCH_RESULTS_DIR=DIR     where raw numbers go (default bench/results)
#   CONFAB_CLI=PATH           default _build/src/cli/confab-cli
#   CONFAB_TEST_SERVER=PATH   default _build/tests/support/confab-test-server
#   BENCH_PYTHON=PATH         default /usr/bin/python3 (Debian's aiohttp, httpx)
#   BENCH_NODE=PATH           default node

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")

if [[ $# -gt 0 ]]; then
  case $1 in
    -h|--help)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0 ;;
    *)
      echo "run-stream-bench.sh: takes no arguments (settings are environment variables; see --help)" >&2
      exit 2 ;;
  esac
fi

# The exact command line, with the settings given in the environment
# (captured before the defaults below are filled in).
cmdline=""
for v in BENCH_TOKENS BENCH_RUNS BENCH_WARMUP BENCH_CLIENTS BENCH_ALLOW_MISSING \
         BENCH_RESULTS_DIR CONFAB_CLI CONFAB_TEST_SERVER BENCH_PYTHON BENCH_NODE; do
  if [[ -n ${!v+x} ]]; then
    cmdline+="$v=$(printf '%q' "${!v}") "
  fi
done
cmdline+=$(printf '%q' "$0")

TOKENS=${BENCH_TOKENS:-200000}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
ALLOW_MISSING=${BENCH_ALLOW_MISSING:-0}
CLIENTS=${BENCH_CLIENTS:-confab-cli,openai-node,ollama-node,aiohttp,httpx,curl}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}
CONFAB_CLI=${CONFAB_CLI:-$ROOT/_build/src/cli/confab-cli}
CONFAB_TEST_SERVER=${CONFAB_TEST_SERVER:-$ROOT/_build/tests/support/confab-test-server}
PYTHON=${BENCH_PYTHON:-/usr/bin/python3}
NODE=${BENCH_NODE:-node}
TIME=/usr/bin/time
PROMPT="Stream the benchmark text."
MODEL=bench-model

die() {
  echo >&2
  echo "run-stream-bench.sh: ERROR: $*" >&2
  exit 1
}

# meson_build_info FILE: the build type of the meson build dir holding FILE.
meson_build_info() {
  local dir
  dir=$(cd "$(dirname "$1")" && pwd)
  while [[ $dir != / && ! -f $dir/meson-info/intro-buildoptions.json ]]; do dir=$(dirname "$dir"); done
  [[ -f $dir/meson-info/intro-buildoptions.json ]] || { echo "not a meson build"; return; }
  "$PYTHON" -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print("buildtype=%s optimization=%s b_sanitize=%s" % (o.get("buildtype"), o.get("optimization"), o.get("b_sanitize")))
' "$dir/meson-info/intro-buildoptions.json" 2>/dev/null || echo "unknown build"
}

[[ $TOKENS =~ ^[1-9][0-9]*$ ]] || die "BENCH_TOKENS must be a positive integer (got '$TOKENS')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer (got '$WARMUP')"
[[ -x $TIME ]] || die "$TIME not found: install it with 'apt-get install time' (Debian package 'time')"
[[ -x $CONFAB_TEST_SERVER ]] ||
  die "test server not found at $CONFAB_TEST_SERVER (build it: meson setup _build && meson compile -C _build; or set CONFAB_TEST_SERVER)"

# ---------------------------------------------------------------- results dir
mkdir -p "$RESULTS_DIR"
RUN_DIR=$(mktemp -d "$RESULTS_DIR/stream-$(date +%Y%m%d-%H%M%S)-XXXX")
chmod 755 "$RUN_DIR"
REPORT=$RUN_DIR/report.md
RAW=$RUN_DIR/raw.tsv
SUMMARY=$RUN_DIR/summary.tsv
printf 'format\tclient\trun\twall_s\tcpu_s\tmax_rss_kb\ttime_e\ttime_u\ttime_s\n' >"$RAW"
printf 'format\tclient\tstatus\twall_s\tcpu_s\ttokens_per_s\tcpu_s_per_100k\tmax_rss_mb\n' >"$SUMMARY"

say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

say "# Confab streaming benchmark"
say ""
say "Command:     \`$cmdline\`  (cwd: $(pwd))"
say "Date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "Machine:     nproc=$(nproc), CPU: $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*:[[:space:]]*//' || echo unknown)"
say "Kernel:      $(uname -srm)"
say "Load:        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min averages at start; other work on the machine skews wall times)"
# Every client must write the UTF-8 text as is; a C/POSIX locale would make
# GLib's g_print() convert it to ASCII, for example.
if [[ $(locale charmap 2>/dev/null || echo unknown) != UTF-8 ]]; then
  export LC_ALL=C.UTF-8
  say "Locale:      LC_ALL=C.UTF-8 (the caller's locale was not UTF-8)"
fi
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
  if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then rev+=" (dirty)"; fi
  say "Source:      $rev"
fi
say "Settings:    N=$TOKENS tokens per stream, $RUNS timed runs per client (median reported), $WARMUP warm-up run(s)"
say "Server:      $CONFAB_TEST_SERVER ($(meson_build_info "$CONFAB_TEST_SERVER"))"

# ---------------------------------------------------------- client set-up
want() { [[ ,$CLIENTS, == *,"$1",* ]]; }

declare -A MISSING=()   # client id -> reason it cannot run
declare -A LABEL=(
  [confab-cli]="confab-cli"
  [openai-node]="openai (Node)"
  [ollama-node]="ollama (Node)"
  [aiohttp]="aiohttp (Python)"
  [httpx]="httpx (Python)"
  [curl]="curl -sN (floor)"
)
for c in ${CLIENTS//,/ }; do
  [[ -n ${LABEL[$c]+x} ]] || die "unknown client '$c' in BENCH_CLIENTS (known: ${!LABEL[*]})"
done

if want confab-cli && [[ ! -x $CONFAB_CLI ]]; then
  MISSING[confab-cli]="not built: $CONFAB_CLI"
fi

node_version=""
if want openai-node || want ollama-node; then
  if ! command -v "$NODE" >/dev/null 2>&1; then
    MISSING[openai-node]="not installed: node"; MISSING[ollama-node]="not installed: node"
  else
    node_version=$("$NODE" --version)
    if [[ ! -d $BENCH_DIR/node_modules/openai || ! -d $BENCH_DIR/node_modules/ollama ]]; then
      say "Note:        bench/node_modules missing: running 'npm ci' in $BENCH_DIR"
      (cd "$BENCH_DIR" && npm ci --no-audit --no-fund >"$RUN_DIR/npm-ci.log" 2>&1) ||
        echo "npm ci failed, see $RUN_DIR/npm-ci.log" >&2
    fi
    for p in openai ollama; do
      if [[ ! -f $BENCH_DIR/node_modules/$p/package.json ]]; then
        MISSING[$p-node]="not installed: npm package $p (run: cd bench && npm ci)"
      fi
    done
  fi
fi

for p in aiohttp httpx; do
  if want $p && ! "$PYTHON" -c "import $p" >/dev/null 2>&1; then
    MISSING[$p]="not installed: $PYTHON cannot import $p (apt-get install python3-$p)"
  fi
done

if want curl && ! command -v curl >/dev/null 2>&1; then
  MISSING[curl]="not installed: curl"
fi

# Versions of what is measured.
versions=()
if want confab-cli && [[ -z ${MISSING[confab-cli]+x} ]]; then
  confab_build=$(meson_build_info "$CONFAB_CLI")
  versions+=("confab-cli $("$CONFAB_CLI" --version 2>/dev/null | head -n1 || true) ($CONFAB_CLI, $confab_build)")
fi
[[ -n $node_version ]] && versions+=("node $node_version")
for p in openai ollama; do
  if [[ -f $BENCH_DIR/node_modules/$p/package.json ]] && { want $p-node; }; then
    versions+=("npm $p $("$NODE" -p "require('$BENCH_DIR/node_modules/$p/package.json').version" 2>/dev/null || echo '?')")
  fi
done
if want aiohttp || want httpx; then
  versions+=("python $("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?') ($PYTHON)")
fi
for p in aiohttp httpx; do
  if want $p && [[ -z ${MISSING[$p]+x} ]]; then
    versions+=("$p $("$PYTHON" -c "import $p; print($p.__version__)")")
  fi
done
want curl && [[ -z ${MISSING[curl]+x} ]] && versions+=("$(curl --version | head -n1 | cut -d' ' -f1-2)")
clients_line=$(IFS=';'; echo "${versions[*]}")
say "Clients:     ${clients_line//;/; }"

if [[ ${confab_build:-} == *buildtype=* && ${confab_build:-} != *optimization=[23s]* ]]; then
  say "WARNING:     confab-cli is an unoptimized build ($confab_build): for numbers to publish use"
  say "             meson setup _build-release --buildtype=release, then CONFAB_CLI=_build-release/src/cli/confab-cli"
fi

for c in "${!MISSING[@]}"; do
  if [[ $ALLOW_MISSING != 1 ]]; then
    die "client $c: ${MISSING[$c]}  (set BENCH_ALLOW_MISSING=1 to skip it, or BENCH_CLIENTS to choose clients)"
  fi
done

# ---------------------------------------------------------------- server
TMP=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench.XXXXXX")
SERVER_PID=""
SERVER_STDIN=""
cleanup() {
  local rc=$?
  if [[ -n $SERVER_STDIN ]]; then exec {SERVER_STDIN}>&-; fi
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

EXPECTED=$RUN_DIR/expected.txt
mkfifo "$TMP/server.stdin"
# The server exits when its stdin reaches EOF: give it a pipe that this
# script holds open for the whole run (clients get it closed, see run_client).
"$CONFAB_TEST_SERVER" --openai-tokens "$TOKENS" --ollama-tokens "$TOKENS" \
  --expected-text "$EXPECTED" <"$TMP/server.stdin" >"$TMP/server.out" 2>"$RUN_DIR/server.stderr" &
SERVER_PID=$!
exec {SERVER_STDIN}>"$TMP/server.stdin"

URL=""
for _ in $(seq 1 600); do
  if [[ -s $TMP/server.out ]] && IFS= read -r URL <"$TMP/server.out" && [[ -n $URL ]]; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null ||
    die "test server exited before printing its URL; its stderr: $(tail -n 20 "$RUN_DIR/server.stderr")"
  sleep 0.1
done
[[ $URL =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "test server printed '$URL', expected http://127.0.0.1:PORT"
for _ in $(seq 1 100); do [[ -s $EXPECTED ]] && break; sleep 0.1; done
[[ -s $EXPECTED ]] || die "test server did not write the expected text to $EXPECTED"
EXPECTED_SHA=$(sha256sum "$EXPECTED" | cut -d' ' -f1)
say "Server URL:  $URL (pid $SERVER_PID); expected text $(stat -c %s "$EXPECTED") bytes, sha256 ${EXPECTED_SHA:0:16}…"
say "Results:     $RUN_DIR"
say ""

# ------------------------------------------------------------- running
# client_cmd FORMAT CLIENT: sets CMD to the command line, or returns 1 when the
# client does not speak FORMAT.
client_cmd() {
  local fmt=$1 client=$2 base
  if [[ $fmt == openai ]]; then base=$URL/v1; else base=$URL; fi
  case $client in
    confab-cli)  CMD=("$CONFAB_CLI" --api "$fmt" --base-url "$base" --model "$MODEL" "$PROMPT") ;;
    openai-node) [[ $fmt == openai ]] || return 1
                 CMD=("$NODE" "$BENCH_DIR/peers/openai-node.mjs" "$base" "$PROMPT") ;;
    ollama-node) [[ $fmt == ollama ]] || return 1
                 CMD=("$NODE" "$BENCH_DIR/peers/ollama-node.mjs" "$base" "$PROMPT") ;;
    aiohttp)     CMD=("$PYTHON" "$BENCH_DIR/peers/aiohttp_client.py" --format "$fmt" "$base" "$PROMPT") ;;
    httpx)       CMD=("$PYTHON" "$BENCH_DIR/peers/httpx_client.py" --format "$fmt" "$base" "$PROMPT") ;;
    curl)
      local body path
      body=$(printf '{"model":"%s","messages":[{"role":"user","content":"%s"}],"stream":true}' "$MODEL" "$PROMPT")
      if [[ $fmt == openai ]]; then path=/chat/completions; else path=/api/chat; fi
      # Raw bytes to /dev/null; stdout gets only the byte count (checked > 0).
      CMD=(curl -sN --fail -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer bench'
           --data-binary "$body" -o /dev/null -w '%{size_download}' "$base$path") ;;
  esac
}

# children_cpu FILE: user+sys seconds of this shell's reaped children, from
# the output of the `times` builtin (millisecond resolution).
children_cpu() {
  tr ',' '.' <"$1" | awk 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.3f", t }'
}

# run_client FORMAT CLIENT LABEL: one run under /usr/bin/time.  Sets
#   T_E T_U T_S T_RSS  GNU time's %e %U %S (0.01 s steps) and %M (KB)
#   T_WALL T_CPU       the same run's wall and user+sys CPU seconds with
#                      millisecond resolution ($EPOCHREALTIME and the change
#                      in the shell's children times; both include the few
#                      milliseconds /usr/bin/time itself takes)
run_client() {
  local fmt=$1 client=$2 what=$3 out=$TMP/out err=$TMP/err tf=$TMP/time rc=0 w0 w1
  times >"$TMP/times0"
  w0=$EPOCHREALTIME
  "$TIME" -f '%e %U %S %M' -o "$tf" "${CMD[@]}" </dev/null >"$out" 2>"$err" {SERVER_STDIN}>&- || rc=$?
  w1=$EPOCHREALTIME
  times >"$TMP/times1"
  if [[ $rc -ne 0 ]]; then
    cp "$err" "$RUN_DIR/$fmt-$client.stderr" 2>/dev/null || true
    die "$fmt / $client ($what) exited with status $rc; command: ${CMD[*]}
stderr (also in $RUN_DIR/$fmt-$client.stderr):
$(tail -n 20 "$err")"
  fi
  # (No process substitution here: its child could be reaped during the next
  # run and add to that run's children times.)
  read -r T_E T_U T_S T_RSS <<<"$(tail -n 1 "$tf")"
  T_WALL=$(awk -v a="${w0/,/.}" -v b="${w1/,/.}" 'BEGIN { printf "%.3f", b - a }')
  T_CPU=$(awk -v a="$(children_cpu "$TMP/times0")" -v b="$(children_cpu "$TMP/times1")" 'BEGIN { printf "%.3f", b - a }')
  if [[ $client == curl ]]; then
    local bytes
    bytes=$(cat "$out")
    [[ $bytes =~ ^[0-9]+$ && $bytes -gt 0 ]] || die "$fmt / curl ($what) downloaded nothing ('$bytes')"
    CURL_BYTES[$fmt]=$bytes
  else
    local sha
    sha=$(sha256sum "$out" | cut -d' ' -f1)
    if [[ $sha != "$EXPECTED_SHA" ]]; then
      local kept=$RUN_DIR/$fmt-$client.mismatch.txt
      cp "$out" "$kept"
      echo >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      echo "!!! OUTPUT MISMATCH: $fmt / $client ($what)" >&2
      echo "!!!   expected $(stat -c %s "$EXPECTED") bytes, sha256 $EXPECTED_SHA" >&2
      echo "!!!   got      $(stat -c %s "$out") bytes, sha256 $sha" >&2
      echo "!!!   first difference: $(cmp "$EXPECTED" "$kept" 2>&1 | head -n1 || true)" >&2
      echo "!!!   output kept in $kept" >&2
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
      die "output of $fmt / $client does not match the expected text"
    fi
  fi
}

declare -A CURL_BYTES=()
declare -A M_WALL=() M_CPU=() M_RSS=() STATUS=()

calc() { awk "BEGIN { printf \"$1\", $2 }"; }
tps() { awk -v w="$1" -v n="$TOKENS" 'BEGIN { if (w + 0 > 0) printf "%.0f", n / w; else printf "n/a" }'; }

bench_one() {
  local fmt=$1 client=$2 label=${LABEL[$2]} i
  if [[ -n ${MISSING[$client]+x} ]]; then
    STATUS[$fmt.$client]="SKIPPED: ${MISSING[$client]}"
    say "  $(printf '%-18s' "$label") SKIPPED: ${MISSING[$client]}"
    printf '%s\t%s\tskipped\t\t\t\t\t\n' "$fmt" "$client" >>"$SUMMARY"
    return
  fi
  client_cmd "$fmt" "$client" || return 0
  for ((i = 1; i <= WARMUP; i++)); do run_client "$fmt" "$client" "warm-up $i"; done
  local runs=() shown=()
  for ((i = 1; i <= RUNS; i++)); do
    run_client "$fmt" "$client" "run $i"
    printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fmt" "$client" "$i" \
      "$T_WALL" "$T_CPU" "$T_RSS" "$T_E" "$T_U" "$T_S" >>"$RAW"
    runs+=("$T_WALL $T_CPU $T_RSS")
    shown+=("$T_WALL/$T_CPU/$(calc '%.0f' "$T_RSS / 1024")")
  done
  # The median run: the run with the median wall time (lower middle for even R).
  local med wall cpu rss
  med=$(printf '%s\n' "${runs[@]}" | sort -n -k1,1 | sed -n "$(((RUNS + 1) / 2))p")
  read -r wall cpu rss <<<"$med"
  M_WALL[$fmt.$client]=$wall
  M_CPU[$fmt.$client]=$cpu
  M_RSS[$fmt.$client]=$rss
  STATUS[$fmt.$client]=ok
  local rate per100k mb check=sha256\ OK
  [[ $client == curl ]] && check="${CURL_BYTES[$fmt]} bytes read, not checked"
  rate=$(tps "$wall")
  per100k=$(calc '%.3f' "$cpu * 100000 / $TOKENS")
  mb=$(calc '%.1f' "$rss / 1024")
  printf '%s\t%s\tok\t%s\t%s\t%s\t%s\t%s\n' "$fmt" "$client" "$wall" "$cpu" "$rate" "$per100k" "$mb" >>"$SUMMARY"
  say "  $(printf '%-18s' "$label") wall/CPU s/RSS MB: ${shown[*]} -> median wall ${wall} s, CPU ${cpu} s; $check"
}

FORMATS=(openai ollama)
declare -A FORMAT_TITLE=(
  [openai]="OpenAI SSE (\`POST /v1/chat/completions\`, stream)"
  [ollama]="Ollama NDJSON (\`POST /api/chat\`, stream)"
)
ORDER=(confab-cli openai-node ollama-node aiohttp httpx curl)
PEERS=(openai-node ollama-node aiohttp httpx)

for fmt in "${FORMATS[@]}"; do
  say "Running $fmt:"
  for client in "${ORDER[@]}"; do
    want "$client" || continue
    bench_one "$fmt" "$client"
  done
  say ""
done

# ------------------------------------------------------------- report
ratio() { # ratio NUM DEN -> "x.xx" or "n/a"
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'
}

for fmt in "${FORMATS[@]}"; do
  say "## ${FORMAT_TITLE[$fmt]}"
  say ""
  say "N = $TOKENS tokens, median of $RUNS runs."
  say ""
  say "| client | tokens/s | wall s | CPU s (user+sys) | CPU s / 100k tokens | peak RSS MB | CPU × confab-cli |"
  say "|---|---:|---:|---:|---:|---:|---:|"
  confab_cpu=${M_CPU[$fmt.confab-cli]:-}
  for client in "${ORDER[@]}"; do
    want "$client" || continue
    key=$fmt.$client
    [[ -n ${STATUS[$key]+x} ]] || continue
    if [[ ${STATUS[$key]} != ok ]]; then
      say "| ${LABEL[$client]} | ${STATUS[$key]} | | | | | |"
      continue
    fi
    wall=${M_WALL[$key]} cpu=${M_CPU[$key]} rss=${M_RSS[$key]}
    rel="n/a"
    [[ -n $confab_cpu ]] && rel=$(ratio "$cpu" "$confab_cpu")
    say "| ${LABEL[$client]} | $(tps "$wall") | $wall | $cpu | $(calc '%.3f' "$cpu * 100000 / $TOKENS") | $(calc '%.1f' "$rss / 1024") | $rel |"
  done
  say ""
  best="" best_cpu=""
  for client in "${PEERS[@]}"; do
    key=$fmt.$client
    [[ ${STATUS[$key]:-} == ok ]] || continue
    if [[ -z $best_cpu ]] || awk -v a="${M_CPU[$key]}" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
      best=$client best_cpu=${M_CPU[$key]}
    fi
  done
  curl_cpu=""
  [[ ${STATUS[$fmt.curl]:-} == ok ]] && curl_cpu=${M_CPU[$fmt.curl]}
  if [[ -n $confab_cpu && -n $best ]]; then
    say "- best peer CPU / confab-cli CPU = **$(ratio "$best_cpu" "$confab_cpu")** (best peer: ${LABEL[$best]}, ${best_cpu} s vs ${confab_cpu} s)"
  else
    say "- best peer CPU / confab-cli CPU = n/a (confab-cli or every peer skipped)"
  fi
  if [[ -n $confab_cpu && -n $curl_cpu && $(ratio "$confab_cpu" "$curl_cpu") == n/a ]]; then
    say "- confab-cli CPU / curl CPU = n/a (curl CPU measured as 0)"
  elif [[ -n $confab_cpu && -n $curl_cpu ]]; then
    say "- confab-cli CPU / curl CPU = **$(ratio "$confab_cpu" "$curl_cpu")** (${confab_cpu} s vs ${curl_cpu} s; curl only moves the bytes)"
  else
    say "- confab-cli CPU / curl CPU = n/a (confab-cli or curl skipped)"
  fi
  say ""
done

say "Each run is measured with /usr/bin/time (peak RSS from its %M; its %e %U %S are in raw.tsv). Wall and CPU"
# shellcheck disable=SC2016 # literal text
say 'seconds above are of the same runs at 1 ms resolution (bash $EPOCHREALTIME and `times`), since GNU time'
say "rounds to 0.01 s; they include the ~1-2 ms that /usr/bin/time itself takes. The median run is the run with"
say "the median wall time."
say "Load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
say "Raw numbers: $RAW"
ln -sfn "$(basename "$RUN_DIR")" "$RESULTS_DIR/latest"
