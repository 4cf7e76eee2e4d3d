#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No file in lib/ over 800 lines, no function over 100 lines.

Usage: check-size.py SOURCE_ROOT

A function's length runs from the line of its name to the line of its
closing brace (as ctags counts it), found by matching braces in the source
with comments, strings and character constants blanked out. A function may
be longer if a comment right above it (or on the line of its name) says why,
starting with "long-function:", e.g.

    /* long-function: one switch over every key of a section; split, the
     * cases would only pass the same six locals around. */
    static int build(...) {
"""

import os
import re
import sys

FILE_MAX = 800
FUNCTION_MAX = 100
SCANNED = ["lib"]
EXEMPT = re.compile(r"long-function:\s*\S", re.IGNORECASE)
NOT_FUNCTION = re.compile(r"=")  # an initialiser, not a definition
NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\($")


def blank(text):
    """Comments, strings and char constants replaced by spaces, newlines
    kept; preprocessor lines blanked too (their braces are not code)."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#" or (at_line_start and c in " \t" and text[i:].lstrip(" \t").startswith("#")):
            j = i
            while j < n:  # a directive, with its continuation lines
                if text[j] == "\n" and text[j - 1] != "\\":
                    break
                j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            at_line_start = False
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + c)
            i = j
            at_line_start = False
            continue
        out.append(c)
        at_line_start = c == "\n" or (at_line_start and c in " \t")
        i += 1
    return "".join(out)


def functions(text):
    """(name, first line, last line) of each function definition."""
    code = blank(text)
    found, depth, stmt_start, linkage = [], 0, 0, 0
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        if c == "{" and depth == 0 and re.search(r'extern\s*"[^"]*"\s*$', code[stmt_start:i]):
            linkage += 1  # extern "C" { ... }: its contents stay at the top level
            stmt_start = i + 1
        elif c == "}" and depth == 0 and linkage:
            linkage -= 1
            stmt_start = i + 1
        elif c == "{":
            if depth == 0:
                head = code[stmt_start:i].strip()
                # the header ends with the parameter list's ')' (maybe followed
                # by attributes); find the name before the list's '('
                m = re.search(r"\)\s*(__attribute__\s*\(\(.*\)\)\s*)?$", head, re.S)
                if m and not NOT_FUNCTION.search(head):
                    close = m.start()
                    level, k = 0, close
                    while k >= 0:
                        if head[k] == ")":
                            level += 1
                        elif head[k] == "(":
                            level -= 1
                            if level == 0:
                                break
                        k -= 1
                    nm = NAME.search(head[: k + 1]) if k >= 0 else None
                    if nm:
                        name_pos = stmt_start + (len(code[stmt_start:i]) - len(code[stmt_start:i].lstrip())) + nm.start(1)
                        found.append([nm.group(1), code.count("\n", 0, name_pos) + 1, i])
                    else:
                        found.append(None)
                else:
                    found.append(None)
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                entry = found[-1] if found else None
                if entry is not None and len(entry) == 3:
                    entry[2] = code.count("\n", 0, i) + 1
                    entry.append(True)
                stmt_start = i + 1
            if depth < 0:
                depth = 0
        elif c == ";" and depth == 0:
            stmt_start = i + 1
        i += 1
    return [(f[0], f[1], f[2]) for f in found if f is not None and len(f) == 4]


def exempted(lines, first):
    """A long-function: comment on the name's line or in the comment block
    right above the function's first line (attributes and return type lines
    included)."""
    k = first - 1  # index of the name's line
    if EXEMPT.search(lines[k]):
        return True
    k -= 1
    # step over the rest of the declaration (return type on its own line)
    while k >= 0 and lines[k].strip() and not lines[k].rstrip().endswith(("*/", ";", "}")):
        k -= 1
    if k < 0 or not lines[k].rstrip().endswith("*/"):
        return False
    block = []
    while k >= 0:
        block.append(lines[k])
        if "/*" in lines[k]:
            break
        k -= 1
    return bool(EXEMPT.search(" ".join(block)))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = sys.argv[1]
    failures, n_files, n_functions, exempt = [], 0, 0, []
    for top in SCANNED:
        for dirpath, _, names in sorted(os.walk(os.path.join(root, top))):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    text = f.read()
                lines = text.split("\n")
                n_lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
                n_files += 1
                if n_lines > FILE_MAX:
                    failures.append(f"{path}: {n_lines} lines (at most {FILE_MAX})")
                for fn, first, last in functions(text):
                    n_functions += 1
                    length = last - first + 1
                    if length <= FUNCTION_MAX:
                        continue
                    where = f"{path}:{first}: {fn}(): {length} lines (at most {FUNCTION_MAX})"
                    if exempted(lines, first):
                        exempt.append(where)
                    else:
                        failures.append(where)
    for e in exempt:
        print("long, with a long-function: comment saying why:", e)
    for f in failures:
        print("FAIL:", f)
    if failures:
        print(f'(a function may be longer with a comment "long-function: why" right above it)')
    print(f"{n_files} files, {n_functions} functions, {len(failures)} over the limits")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
