#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every ```c block of README.md is in tests/readme-examples.cc, which
check-cxx.sh compiles as C++ with g++ and clang++: each line of each block
appears there, in order (whitespace aside, so clang-format may reflow it).
A block that is a whole program of examples/ (the first daemon) is that
file, which check-first-daemon.sh runs and check-cxx.sh compiles as C++.

Usage: check-readme-examples.py SOURCE_ROOT
"""

import glob
import re
import sys


def squash(text):
    return re.sub(r"\s+", "", text)


def main():
    root = sys.argv[1]
    readme = open(f"{root}/README.md", encoding="utf-8").read()
    examples = squash(open(f"{root}/tests/readme-examples.cc", encoding="utf-8").read())
    status = 0
    programs = {
        squash(re.sub(r"\A/\* SPDX-License-Identifier:[^\n]*\n", "", open(f, encoding="utf-8").read()))
        for f in glob.glob(f"{root}/examples/*.c")
    }
    blocks = re.findall(r"^```c\n(.*?)^```", readme, re.S | re.M)
    for n, block in enumerate(blocks, 1):
        if squash(block) in programs:
            continue
        at = 0
        for line in block.splitlines():
            want = squash(line)
            if not want:
                continue
            found = examples.find(want, at)
            if found < 0:
                print(f"README.md, C block {n}: not in tests/readme-examples.cc "
                      f"(or out of order): {line.strip()}")
                status = 1
                break
            at = found + len(want)
    if not blocks:
        print("README.md has no ```c block")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
