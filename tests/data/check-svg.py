#!/usr/bin/env python3
# Checks the app icons: each file is well-formed SVG with the size GNOME
# expects (128x128 for the app icon, 16x16 for the symbolic one), and the
# symbolic icon uses one colour only.
import re
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
failed = False

for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print("%s: not well-formed: %s" % (path, e), file=sys.stderr)
        failed = True
        continue
    if root.tag != SVG + "svg":
        print("%s: root element is %s, not svg" % (path, root.tag), file=sys.stderr)
        failed = True
        continue
    symbolic = path.endswith("-symbolic.svg")
    size = "16" if symbolic else "128"
    view_box = "0 0 %s %s" % (size, size)
    if root.get("viewBox") != view_box:
        print("%s: viewBox is %r, expected %r" % (path, root.get("viewBox"), view_box), file=sys.stderr)
        failed = True
    if symbolic:
        colours = set()
        for element in root.iter():
            for attribute in ("fill", "stroke"):
                value = element.get(attribute)
                if value and value != "none":
                    colours.add(value.lower())
            for value in re.findall(r"(?:fill|stroke)\s*:\s*([^;]+)", element.get("style", "")):
                if value.strip() != "none":
                    colours.add(value.strip().lower())
        if colours - {"#241f31"}:
            print("%s: symbolic icon uses %s; only #241f31 is allowed" % (path, sorted(colours)), file=sys.stderr)
            failed = True

sys.exit(1 if failed else 0)
