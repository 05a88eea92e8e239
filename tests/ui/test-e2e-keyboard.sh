#!/bin/sh
# test-e2e-keyboard.sh CONFAB CONFAB_CLI CONFAB_TEST_SERVER FIXTURES_DIR
#
# Copyright 2026 The Confab developers
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The real confab binary driven with real X key events (xdotool, through
# XTEST) on the display of build-aux/test.sh, against confab-test-server:
# first run finds the server, a question typed and sent with Enter is
# answered and stored, Ctrl+N and an Enter in the empty message field
# create nothing, Ctrl+K, a word of the reply and Enter reopen the chat
# (a follow-up lands in it), a screenshot shows the window, Ctrl+Q quits.
# The store is read with confab-cli. Without xdotool or a display the
# test is skipped, or fails when CONFAB_REQUIRE_DISPLAY=1 (CI).
set -u

confab=$1
confab_cli=$2
test_server=$3
fixtures=$4

question="What does a minimal C program look like?"
follow_up="And how do I compile it?"

say () {
  printf '# %s\n' "$*"
}

fail () {
  printf 'FAIL: %s\n' "$*"
  if [ -n "${win:-}" ] && command -v import >/dev/null 2>&1; then
    shot="$PWD/test-e2e-keyboard-failure.png"
    import -window root "$shot" 2>/dev/null && printf '# the screen is in %s\n' "$shot"
  fi
  if [ -s "${tmp:-/nonexistent}/app.log" ]; then
    say "confab's output:"
    sed 's/^/#   /' "$tmp/app.log"
  fi
  exit 1
}

unavailable () {
  if [ "${CONFAB_REQUIRE_DISPLAY:-0}" = 1 ]; then
    fail "$* (CONFAB_REQUIRE_DISPLAY=1)"
  fi
  printf 'SKIP: %s\n' "$*"
  exit 77
}

for tool in xdotool import convert identify timeout dbus-run-session; do
  command -v "$tool" >/dev/null 2>&1 || unavailable "$tool is not installed (build-aux/install-deps.sh installs it)"
done
[ -n "${DISPLAY:-}" ] || unavailable "no display (DISPLAY is not set; run under xvfb-run)"
screen=$(timeout 10 xdotool getdisplaygeometry 2>/dev/null) || unavailable "cannot open display $DISPLAY"
# A window manager that knows the active window means a desktop someone
# may be typing on: only Xvfb (build-aux/test.sh), unless CI insists.
if [ "${CONFAB_REQUIRE_DISPLAY:-0}" != 1 ] && timeout 10 xdotool getactivewindow >/dev/null 2>&1; then
  printf 'SKIP: %s is a desktop with a window manager; run build-aux/test.sh (Xvfb)\n' "$DISPLAY"
  exit 77
fi

# Everything of the app's is private to this run.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/confab-e2e-XXXXXX") || fail "mktemp failed"
server_pid=
session_pid=
app_pid=
quitting_pid=
win=

# confab goes first: dbus-run-session, once its child has gone, ends the
# bus it started (killing dbus-run-session itself would leave the bus).
cleanup () {
  for pid in $app_pid $quitting_pid; do
    kill "$pid" 2>/dev/null
    kill_tries=50
    while kill -0 "$pid" 2>/dev/null && [ "$kill_tries" -gt 0 ]; do
      sleep 0.1
      kill_tries=$((kill_tries - 1))
    done
    kill -KILL "$pid" 2>/dev/null
  done
  # confab never started: dbus-run-session may still be waiting.
  if [ -z "$app_pid$quitting_pid" ] && [ -n "$session_pid" ]; then
    kill "$session_pid" 2>/dev/null
  fi
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export GSETTINGS_BACKEND=memory GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1 GTK_A11Y=none
export GIO_USE_PROXY_RESOLVER=dummy
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# wait_for WHAT SECONDS COMMAND...: runs COMMAND every 0.2 s until it
# succeeds; fails the test after SECONDS, or at once if confab died.
wait_for () {
  wait_what=$1
  wait_tries=$(($2 * 5))
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    if [ -n "$app_pid" ] && ! kill -0 "$app_pid" 2>/dev/null; then
      fail "confab exited while waiting for $wait_what"
    fi
    wait_tries=$((wait_tries - 1))
    [ "$wait_tries" -gt 0 ] || fail "timed out waiting for $wait_what"
    sleep 0.2
  done
}

# The stored conversations, "ID<TAB>updated<TAB>title<TAB>model<TAB>messages".
conversations () {
  "$confab_cli" conversations list >"$tmp/list.txt" 2>"$tmp/list.err"
}

# conversations_are N MESSAGES: N conversations, the newest with MESSAGES.
conversations_are () {
  conversations &&
    [ "$(wc -l <"$tmp/list.txt")" -eq "$1" ] &&
    [ "$(head -n 1 "$tmp/list.txt" | cut -f 5)" = "$2" ]
}

# shows ID TEXT...: conversation ID, as Markdown, holds each line of the
# fixture reply and each TEXT as a line.
shows () {
  "$confab_cli" conversations show "$1" >"$tmp/show.txt" 2>&1 || return 1
  shift
  while IFS= read -r line || [ -n "$line" ]; do
    grep -Fqx -- "$line" "$tmp/show.txt" || return 1
  done <"$fixtures/openai/stream-text.expected.txt"
  for text in "$@"; do
    grep -Fqx -- "$text" "$tmp/show.txt" || return 1
  done
}

# Without a window manager (Xvfb) windowactivate cannot work; the input
# focus is set directly then.
is_focused () {
  [ "$(xdotool getwindowfocus 2>/dev/null)" = "$win" ]
}

focus () {
  focus_tries=25
  while ! is_focused; do
    timeout 5 xdotool windowactivate --sync "$win" >/dev/null 2>&1 ||
      timeout 5 xdotool windowfocus --sync "$win" >/dev/null 2>&1
    focus_tries=$((focus_tries - 1))
    [ "$focus_tries" -gt 0 ] || fail "could not give the keyboard focus to confab's window"
    is_focused || sleep 0.2
  done
}

# keys: xdotool's "key" or "type" into the window, which must have the focus.
keys () {
  focus
  xdotool "$@" || fail "xdotool $* failed"
}

say "starting confab-test-server"
"$test_server" --log-requests \
  --route "/v1/chat/completions=$fixtures/openai/stream-text.sse,framing=event,content-type=text/event-stream" \
  --route "/v1/models=$fixtures/llamacpp/v1_models.json" \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
wait_for "confab-test-server's URL" 10 grep -q '^http://127\.0\.0\.1:[0-9][0-9]*$' "$tmp/server.log"
url=$(head -n 1 "$tmp/server.log")
say "server at $url"

# Its own session bus: on a desktop, no running Confab takes the launch.
say "starting confab"
CONFAB_LOCAL_SERVERS="Test=openai=$url/v1" \
  dbus-run-session -- sh -c 'echo $$ >"$0" && exec "$@"' "$tmp/app.pid" "$confab" \
  >"$tmp/app.log" 2>&1 &
session_pid=$!
wait_for "confab to start" 10 test -s "$tmp/app.pid"
app_pid=$(cat "$tmp/app.pid")

win=$(timeout 20 xdotool search --sync --all --onlyvisible --pid "$app_pid" --name '^Confab$' 2>/dev/null | head -n 1)
[ -n "$win" ] || fail "timed out waiting for confab's window"
say "window $win"

# First run: no provider configured, so the app asks CONFAB_LOCAL_SERVERS.
wait_for "confab to ask the test server for its models" 20 grep -q '^GET /v1/models$' "$tmp/server.log"

say "typing a question; the message field has the focus at start"
keys type --delay 20 "$question"
keys key Return
# Enter before the model list arrived only shows a notice and keeps the
# text; Enter in an empty message field does nothing. So until the
# message is stored, Enter again every 2 s: a second message is impossible.
enter_tries=10
until conversations_are 1 2; do
  enter_tries=$((enter_tries - 1))
  [ "$enter_tries" -gt 0 ] || fail "the question was not stored: $(cat "$tmp/list.txt" "$tmp/list.err")"
  sleep 2
  if ! conversations_are 1 2; then
    say "no conversation yet: Enter again"
    keys key Return
  fi
done
id=$(cut -f 1 "$tmp/list.txt")
wait_for "the reply to be stored in conversation $id" 20 shows "$id" "$question"

say "Ctrl+N, then Enter in the empty message field"
keys key ctrl+n
keys key Return

say "Ctrl+K, a word of the reply, Enter: the conversation opens"
keys key ctrl+k
keys type --delay 20 "quoted"
keys key Return
# The message field has the focus again: a follow-up goes to the
# conversation that opened, not to a new one.
keys type --delay 20 "$follow_up"
keys key Return
wait_for "the follow-up to be stored in conversation $id" 20 conversations_are 1 4
[ "$(cut -f 1 "$tmp/list.txt")" = "$id" ] || fail "the follow-up went to another conversation: $(cat "$tmp/list.txt")"
wait_for "the second reply to be stored" 20 shows "$id" "$question" "$follow_up"

say "screenshot"
import -window root "$tmp/shot.png" || fail "import could not take a screenshot"
size=$(identify -format '%wx%h' "$tmp/shot.png") || fail "the screenshot is not an image"
[ "$size" = "$(echo "$screen" | tr ' ' x)" ] || fail "the screenshot is $size, the screen $screen"
colours=$(convert "$tmp/shot.png" -format %k info:) || fail "convert cannot read the screenshot"
[ "$colours" -gt 50 ] || fail "the screenshot has only $colours colours: nothing was drawn"
say "screenshot $size, $colours colours"

say "Ctrl+Q quits"
keys key ctrl+q
quitting_pid=$app_pid
app_pid=
wait_for "confab to quit" 20 sh -c '! kill -0 "$0" 2>/dev/null' "$quitting_pid"
# dbus-run-session exits with confab's status.
wait "$session_pid"
status=$?
session_pid=
[ "$status" -eq 0 ] || fail "confab exited with status $status"
conversations_are 1 4 || fail "after quitting the store holds: $(cat "$tmp/list.txt" "$tmp/list.err")"

echo "PASS"
exit 0
