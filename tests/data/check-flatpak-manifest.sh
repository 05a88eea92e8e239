#!/bin/sh
# Checks the Flatpak manifest offline: flatpak-builder must parse it with
# no unknown or mistyped property (G_DEBUG=fatal-warnings turns its warnings
# into a crash), every downloaded source must be pinned by sha256, and the
# sandbox must stay narrow (see flatpak/README.md).
# Exit 77 (skip) only when flatpak-builder is missing; build-aux/install-deps.sh
# installs it, so CI always runs this.
set -eu

manifest=$1

if ! command -v flatpak-builder >/dev/null 2>&1; then
  echo "flatpak-builder not found: skipped (build-aux/install-deps.sh installs it)"
  exit 77
fi

# flatpak-builder writes a .flatpak-builder/ state directory into the
# current directory, even for --show-manifest: keep it out of the tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && G_DEBUG=fatal-warnings flatpak-builder --show-manifest "$manifest" >"$tmp/manifest.out")

python3 - "$tmp/manifest.out" <<'PY'
import json, re, sys

manifest = json.load(open(sys.argv[1]))
errors = []

if manifest.get("id") != "io.github.confab.Confab":
    errors.append("id is not io.github.confab.Confab")
if manifest.get("command") != "confab":
    errors.append("command is not confab")

forbidden = [
    r"--filesystem=(home|host|host-os|host-etc|~)",
    r"--filesystem=/",
    r"--filesystem=xdg-",
    r"--talk-name=org\.freedesktop\.Flatpak",
    r"--socket=x11$",
    r"--socket=session-bus",
    r"--socket=system-bus",
    r"--device=all",
    r"--talk-name=\*",
    r"--talk-name=org\.freedesktop\.\*",
]
for arg in manifest.get("finish-args", []):
    for pattern in forbidden:
        if re.match(pattern, arg):
            errors.append("finish-arg %s widens the sandbox (see flatpak/README.md)" % arg)

def walk(modules):
    for module in modules:
        if isinstance(module, str):
            continue
        for source in module.get("sources", []):
            if isinstance(source, str):
                continue
            if source.get("type") in ("archive", "file") and "url" in source:
                if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
                    errors.append("module %s: %s has no valid sha256"
                                  % (module.get("name"), source["url"]))
            if source.get("type") == "git" and not source.get("commit") and not source.get("tag"):
                errors.append("module %s: git source not pinned" % module.get("name"))
        walk(module.get("modules", []))

walk(manifest.get("modules", []))

for error in errors:
    print(error, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "manifest ok"
