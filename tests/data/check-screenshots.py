#!/usr/bin/env python3
# Checks that the screenshots the metainfo and README.md show are in
# data/screenshots (build-aux/take-screenshots.sh makes them): each is a
# PNG of a sensible size, so a renamed or missing one cannot go unnoticed
# until AppStream or a reader finds a broken image.
#   check-screenshots.py SOURCE_ROOT METAINFO README
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET

root, metainfo, readme = sys.argv[1:4]
prefix = "https://raw.githubusercontent.com/confab/confab/main/"
failed = False


def fail(message):
    global failed
    print(message, file=sys.stderr)
    failed = True


def check_png(where, path):
    try:
        with open(os.path.join(root, path), "rb") as f:
            header = f.read(24)
    except OSError as e:
        fail("%s: %s: %s" % (where, path, e.strerror))
        return
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        fail("%s: %s is not a PNG" % (where, path))
        return
    width, height = struct.unpack(">II", header[16:24])
    if not (320 <= width <= 1920 and 240 <= height <= 1200):
        fail("%s: %s is %dx%d" % (where, path, width, height))


images = [image.text.strip() for image in ET.parse(metainfo).getroot().iter("image")]
if not images:
    fail("%s: no screenshots" % metainfo)
for url in images:
    if not url.startswith(prefix + "data/screenshots/"):
        fail("%s: %s is not in %sdata/screenshots/" % (metainfo, url, prefix))
    else:
        check_png(metainfo, url[len(prefix):])

with open(readme, encoding="utf-8") as f:
    shown = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", f.read())
if not shown:
    fail("%s: no screenshots" % readme)
for path in shown:
    check_png(readme, path)

sys.exit(1 if failed else 0)
