#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SECURITY.md names, for each promise, the test that proves it: every
`tests/FILE` it names must exist, and every test name given after it
(`name`, or `prefix*suffix` for a family) must be a test function there.
A promise whose test was renamed or removed fails this check."""
import fnmatch
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
text = open(os.path.join(root, "SECURITY.md"), encoding="utf-8").read()
errors = []
checked = 0

# "`tests/test-x.c`: `a`, `b`; `tests/test-y.c`: ..." and
# "`test-x.c`, `test-y.c`: `*_z`" (short names are in tests/)
for line in text.splitlines():
    for group in re.finditer(r"((?:`[^`]+\.(?:c|sh|py)`(?:, | and )?)+)(?::\s*((?:`[^`]+`(?:, )?)+))?", line):
        files = re.findall(r"`([^`]+)`", group.group(1))
        names = re.findall(r"`([^`]+)`", group.group(2) or "")
        paths = []
        for f in files:
            p = f if "/" in f else "tests/" + f
            if "*" in p:
                continue
            if not os.path.exists(os.path.join(root, p)):
                errors.append(f"{p}: named in SECURITY.md, does not exist")
                continue
            paths.append(p)
            checked += 1
        if not names or not paths:
            continue
        funcs = set()
        for p in paths:
            src = open(os.path.join(root, p), encoding="utf-8", errors="replace").read()
            funcs |= set(re.findall(r"^static void (\w+)\(void \*\*state\)", src, re.M))
        for n in names:
            if not re.fullmatch(r"[\w*]+", n):
                continue
            if not fnmatch.filter(funcs, n):
                errors.append(f"{', '.join(paths)}: no test {n} (named in SECURITY.md)")
            checked += 1

for e in errors:
    print(e, file=sys.stderr)
if checked < 40:
    print(f"only {checked} references found: the parser no longer understands SECURITY.md", file=sys.stderr)
    sys.exit(1)
print(f"{checked} references checked")
sys.exit(1 if errors else 0)
