#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails on an #include of a higher layer's header.

Usage: check-includes.py SOURCE_ROOT

Every "quoted" #include of the C files and headers under lib/ and tools/ is
resolved as the compiler would (the including file's directory, then lib/)
and checked against RULES below: the first rule whose pattern matches the
including file says which headers it may include. <system> headers are
always allowed. A quoted include that resolves to no file of the tree is an
error too (a header moved or deleted).
"""

import fnmatch
import os
import re
import sys

# The private headers of lib/, lowest first, and the files of each layer
# (a layer's header included); see docs/architecture.md.
HEADERS = [
    "record-private.h",
    "pipeline-private.h",
    "format-private.h",
    "resolve.h",
    "handler-private.h",
    "handler-syslog-private.h",
    "logger-private.h",
    "config-private.h",
    "trail-tool.h",
]
LIB_LAYERS = [
    ["record-private.h", "fork.c", "record.c"],
    ["pipeline-private.h", "settings.c", "level.c", "filter.c", "grace.c", "flow.c",
     "redact.c", "backtrace.c", "context.c", "correlation.c"],
    ["format-private.h", "format.c", "format-*.c"],
    ["resolve.h", "resolve.c"],
    ["handler-private.h", "handler.c", "handler-async.c", "handler-auto.c", "handler-capture.c",
     "handler-custom.c", "handler-file.c", "handler-journald.c", "handler-memory.c",
     "handler-stream.c", "record-copy.c"],
    ["handler-syslog-private.h", "handler-syslog.c", "syslog-*.c"],
    ["logger-private.h", "logger.c", "log.c"],
    ["config-private.h", "config*.c"],
    ["trail-tool.h", "trail.c", "trail-tool.c"],
]

# (files, the headers they may include), first match wins; paths from the
# source root. Lower layers first: a layer never includes a higher one.
RULES = [
    # lib/shared/: generic code, built as its own static library. It sees
    # nothing of the library above it (issue 16).
    ("lib/shared/*", ["lib/shared/*.h"]),
    # trail(1) is a program like any other: the public header, the private
    # interface made for it (LIBTRAIL_PRIVATE) and the header-only macros.
    ("tools/*", ["lib/trail.h", "lib/trail-tool.h", "lib/shared/macro.h"]),
    # The library, one private header per layer (docs/architecture.md), each
    # including the one below: a file includes its own layer's header or a
    # lower one's, never a higher one's.
] + [
    (f"lib/{f}", ["lib/trail.h", "lib/shared/*.h"] + [f"lib/{h}" for h in HEADERS[: i + 1]])
    for i, files in enumerate(LIB_LAYERS)
    for f in files
] + [
    # A header not listed above (none today): the public one and shared/.
    ("lib/*", ["lib/trail.h", "lib/shared/*.h"]),
]

SCANNED = ["lib", "tools"]
SEARCH_PATH = ["lib"]  # include_directories of the targets, after the file's own directory
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def rule_for(path):
    for pattern, allowed in RULES:
        if fnmatch.fnmatch(path, pattern):
            return pattern, allowed
    return None, None


def resolve(root, including, name):
    for d in [os.path.dirname(including)] + SEARCH_PATH:
        candidate = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    errors, n_files, n_includes = [], 0, 0
    for top in SCANNED:
        for dirpath, _, names in sorted(os.walk(os.path.join(root, top))):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                pattern, allowed = rule_for(path)
                n_files += 1
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) == "<":
                            continue
                        n_includes += 1
                        target = resolve(root, path, m.group(2))
                        where = f"{path}:{lineno}: #include \"{m.group(2)}\""
                        if target is None:
                            errors.append(f"{where}: no such header in the tree")
                        elif allowed is None:
                            errors.append(f"{where}: {path} matches no rule of RULES")
                        elif not any(fnmatch.fnmatch(target, a) for a in allowed):
                            errors.append(
                                f"{where}: {target} is above {pattern} "
                                f"(allowed: {', '.join(allowed)}; system headers)"
                            )
    for e in errors:
        print("FAIL:", e)
    print(f"{n_files} files, {n_includes} quoted includes, {len(errors)} against the layers")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
