#!/bin/sh
# Takes the screenshots of README.md and the AppStream metainfo from the
# real app: Confab under its own Xvfb and session bus, with private data,
# settings and keyring, talking to confab-test-server. A few conversations
# are seeded with `confab-cli --save` against that server first; the
# newest one, a Markdown reply with a heading, a list and C code, is shown.
#
#   build-aux/take-screenshots.sh [BUILD_DIR]      (default: _build)
#
# Writes data/screenshots/confab-chat.png and confab-preferences.png.
# Needs what build-aux/install-deps.sh installs (xvfb, xdotool,
# imagemagick, gnome-keyring); GNOME's font, Cantarell (fonts-cantarell),
# and pngcrush are used when they are installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
build=${1:-_build}
out=data/screenshots

if [ -z "${CONFAB_SCREENSHOTS_DISPLAY:-}" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build"
  meson compile -C "$build" >/dev/null
  fc-list Cantarell | grep -q . ||
    echo "take-screenshots: Cantarell is not installed (fonts-cantarell): GNOME's font will be missing" >&2
  exec env CONFAB_SCREENSHOTS_DISPLAY=1 \
    xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- "$here/take-screenshots.sh" "$build"
fi

build=$(cd "$build" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/confab-screenshots-XXXXXX")
server_pid=
app_pid=

cleanup () {
  for pid in $app_pid $server_pid; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail () {
  echo "take-screenshots: $*" >&2
  exit 1
}

# wait_for WHAT SECONDS COMMAND...: every 0.2 s until COMMAND succeeds.
wait_for () {
  what=$1
  tries=$(($2 * 5))
  shift 2
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}

mkdir -p "$tmp/data" "$tmp/config/glib-2.0/settings" "$tmp/config/gtk-4.0" "$tmp/cache"
mkdir -m 700 "$tmp/runtime"
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export XDG_RUNTIME_DIR="$tmp/runtime"
export GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1 GTK_A11Y=none GIO_USE_PROXY_RESOLVER=dummy
export GSETTINGS_SCHEMA_DIR="$build/data" GSETTINGS_BACKEND=keyfile

# A window of a good size for a README; nothing that moves or blinks.
cat >"$tmp/config/glib-2.0/settings/keyfile" <<'EOF'
[io/github/confab/Confab]
window-width=1100
window-height=780
notify-when-done=false
EOF
cat >"$tmp/config/gtk-4.0/settings.ini" <<'EOF'
[Settings]
gtk-font-name=Cantarell 11
gtk-cursor-blink=false
gtk-enable-animations=false
EOF

# The provider is configured, as a user would have it: its (absent) key is
# looked up in a keyring of this run's own.
printf screenshots | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gdbus wait --session --timeout 10 org.freedesktop.secrets

model=qwen2.5-coder-7b-instruct
printf '{"object":"list","data":[{"id":"%s","object":"model","owned_by":"llamacpp"}]}\n' "$model" \
  >"$tmp/models.json"

# sse FILE: the Markdown on stdin as an OpenAI chat completion stream, a
# chunk per word, with the usage a server reports.
sse () {
  python3 -c '
import json, re, sys
text = sys.stdin.read()
words = re.findall(r"\S+\s*|\s+", text)
def chunk(delta, finish=None):
    return {"id": "chatcmpl-shot", "object": "chat.completion.chunk", "created": 1731000000,
            "model": sys.argv[2], "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
with open(sys.argv[1], "w") as out:
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": w}) for w in words]
    events.append(chunk({}, "stop"))
    events.append({"id": "chatcmpl-shot", "object": "chat.completion.chunk", "created": 1731000000,
                   "model": sys.argv[2], "choices": [],
                   "usage": {"prompt_tokens": 24, "completion_tokens": len(words),
                             "total_tokens": 24 + len(words)}})
    for event in events:
        out.write("data: " + json.dumps(event, ensure_ascii=False) + "\n\n")
    out.write("data: [DONE]\n\n")
' "$1" "$model"
}

# The conversations, oldest first; the last one is shown.
set -- \
  "Plan a three-day trip to Lisbon" \
  "What is the difference between TCP and UDP?" \
  "Write a haiku about compilers" \
  "Explain Rust lifetimes to a C programmer" \
  "How do I read a file line by line in C?"

sse "$tmp/reply1.sse" <<'EOF'
**Day 1:** Alfama and the castle, then dinner with fado. **Day 2:** Belém, the tower and the monastery, and a pastel de nata. **Day 3:** a train to Sintra.
EOF
sse "$tmp/reply2.sse" <<'EOF'
TCP gives you an ordered, reliable byte stream over a connection; UDP sends independent datagrams that may be lost, duplicated or reordered, with less overhead and latency.
EOF
sse "$tmp/reply3.sse" <<'EOF'
Tokens fall like rain,
the parser finds the meaning —
warnings, then silence.
EOF
sse "$tmp/reply4.sse" <<'EOF'
A lifetime is the part of the program in which a pointer is known to be valid. Where C trusts you, the Rust compiler checks that no reference outlives what it points to.
EOF
sse "$tmp/reply5.sse" <<'EOF'
## Reading a file line by line

Use POSIX `getline()`: it grows the buffer as needed, so lines of any length work.

1. Open the file with `fopen()` and check the result.
2. Call `getline()` until it returns `-1`.
3. Free the buffer and close the file.

```c
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char *argv[])
{
  FILE *file = fopen (argv[1], "r");
  char *line = NULL;
  size_t size = 0;

  while (file != NULL && getline (&line, &size, file) != -1)
    fputs (line, stdout);

  free (line);
  return file != NULL && fclose (file) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
```
EOF

# Words 20 ms apart: about fifty tokens a second, as a local model writes.
"$build/tests/support/confab-test-server" --log-requests \
  --route "/v1/models=$tmp/models.json" \
  --route "/v1/chat/completions=$tmp/reply1.sse,framing=event,delay=20" \
  --route "/v1/chat/completions=$tmp/reply2.sse,framing=event,delay=20" \
  --route "/v1/chat/completions=$tmp/reply3.sse,framing=event,delay=20" \
  --route "/v1/chat/completions=$tmp/reply4.sse,framing=event,delay=20" \
  --route "/v1/chat/completions=$tmp/reply5.sse,framing=event,delay=20" \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
wait_for "confab-test-server" 10 grep -q '^http://' "$tmp/server.log"
url=$(head -n 1 "$tmp/server.log")

cli="$build/src/cli/confab-cli"
"$cli" providers add llama.cpp --api openai --base-url "$url/v1" --model "$model" >/dev/null
for prompt in "$@"; do
  "$cli" --provider llama.cpp --save "$prompt" >/dev/null 2>&1 || fail "confab-cli could not save \"$prompt\""
done
[ "$("$cli" conversations list | wc -l)" -eq $# ] || fail "the store does not hold $# conversations"

# All were written a moment ago; spread the older ones over the past days,
# as a sidebar would be after some use: exported, shifted, imported again.
"$cli" conversations export --all --format json >"$tmp/export.json"
python3 - "$tmp/export.json" "$tmp/older.json" <<'EOF'
import datetime, json, sys
with open(sys.argv[1]) as f:
    export = json.load(f)
def shift(value, delta):
    if value is None:
        return None
    when = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ") - delta
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
older = export["conversations"][:-1]
for conversation, days in zip(reversed(older), (1, 3, 6, 12)):
    delta = datetime.timedelta(days=days, hours=2 * days, minutes=17 * days)
    for key in ("created_at", "updated_at"):
        conversation[key] = shift(conversation[key], delta)
    for message in conversation["messages"]:
        for key in ("created_at", "finished_at"):
            message[key] = shift(message[key], delta)
export["conversations"] = older
with open(sys.argv[2], "w") as f:
    json.dump(export, f)
EOF
"$cli" conversations list | cut -f 1 | tail -n +2 | while read -r id; do
  "$cli" conversations delete "$id" >/dev/null
done
"$cli" conversations import "$tmp/older.json" >/dev/null 2>&1
[ "$("$cli" conversations list | wc -l)" -eq $# ] || fail "the store does not hold $# conversations"

"$build/src/confab" >"$tmp/app.log" 2>&1 &
app_pid=$!
win=$(timeout 20 xdotool search --sync --all --onlyvisible --pid "$app_pid" --name '^Confab$' | head -n 1)
[ -n "$win" ] || fail "confab's window did not appear"
wait_for "confab to list the models" 20 grep -q '^GET /v1/models$' "$tmp/server.log"
xdotool windowfocus --sync "$win"

# capture WINDOW FILE: once two captures 0.3 s apart are the same, the
# window has finished drawing.
capture () {
  tries=50
  import -window "$1" "$tmp/a.png"
  while :; do
    sleep 0.3
    import -window "$1" "$tmp/b.png"
    [ "$(identify -format %# "$tmp/a.png")" = "$(identify -format %# "$tmp/b.png")" ] && break
    mv "$tmp/b.png" "$tmp/a.png"
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || fail "the window never stopped changing"
  done
  mkdir -p "$out"
  convert "$tmp/b.png" -strip "$2"
  if command -v pngcrush >/dev/null 2>&1; then
    pngcrush -q -ow "$2"
  fi
  echo "$2: $(identify -format '%wx%h' "$2"), $(($(wc -c <"$2") / 1024)) KiB"
}

# The newest conversation, opened from the keyboard (Alt+Down: next).
xdotool key alt+Down
capture "$win" "$out/confab-chat.png"

# Preferences, on the page that says which tools ask first.
xdotool key ctrl+comma
prefs=$(timeout 20 xdotool search --sync --all --onlyvisible --pid "$app_pid" --name '^Preferences$' | head -n 1)
[ -n "$prefs" ] || fail "the Preferences window did not appear"
xdotool windowfocus --sync "$prefs"
xdotool key Right Right space
capture "$prefs" "$out/confab-preferences.png"

xdotool key ctrl+q
wait_for "confab to quit" 20 sh -c '! kill -0 "$0"' "$app_pid"
wait "$app_pid" || fail "confab exited with status $?"
app_pid=
