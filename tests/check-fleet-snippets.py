#!/usr/bin/env python3
"""trail-fleet(7) shows only collector configurations the suite runs: each
file named here appears, whole and verbatim (a backslash doubled, as scdoc
needs it), as a literal block of the page, and the page has no other.

Usage: check-fleet-snippets.py SOURCE_ROOT"""

import os
import sys

SNIPPETS = [
    "tests/conf/syslog-ng.conf",
    "tests/conf/journal-remote.sh",
    "tests/conf/rsyslog-imjournal.conf",
]


def blocks(text):
    out, cur = [], None
    for line in text.splitlines(keepends=True):
        if line.rstrip("\n") == "```":
            if cur is None:
                cur = []
            else:
                out.append("".join(cur))
                cur = None
        elif cur is not None:
            cur.append(line)
    return out


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "man", "trail-fleet.7.scd"), encoding="utf-8") as f:
        page = blocks(f.read())
    bad = 0
    for rel in SNIPPETS:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            # scdoc reads a backslash as an escape even in a literal block
            want = f.read().replace("\\", "\\\\")
        if want not in page:
            print(f"man/trail-fleet.7.scd: no block is {rel} verbatim", file=sys.stderr)
            bad += 1
    if len(page) != len(SNIPPETS):
        print(f"man/trail-fleet.7.scd: {len(page)} blocks, {len(SNIPPETS)} files the suite runs",
              file=sys.stderr)
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
