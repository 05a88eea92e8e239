#!/bin/sh
# Installs the Debian 12 packages Confab needs to build, test and run.
# Does nothing when they are all there already; uses sudo when not root.
set -eu

packages="
  build-essential meson ninja-build pkg-config gettext python3
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libcjson-dev
  libgtk-4-dev libadwaita-1-dev libgtksourceview-5-dev libsqlite3-dev
  libsecret-1-dev libmd4c-dev glib-networking libgtk-4-bin
  xvfb xauth dbus-x11 xdotool desktop-file-utils appstream imagemagick gnome-keyring librsvg2-common
  flatpak-builder libxml2-utils
  clang libclang-rt-14-dev
"

missing=""
for package in $packages; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done

if [ -z "$missing" ]; then
  exit 0
fi

echo "Installing:$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
