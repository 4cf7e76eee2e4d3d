#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The file-level call graph of lib/, from the objects of libtrail.

Usage: check-callgraph.py [--shared ARCHIVE_OR_OBJECT]... ARCHIVE_OR_OBJECT...

For each object file (an archive's members, or objects given directly), nm
gives the global symbols it defines and those it leaves undefined; an edge
A -> B means A uses a symbol that B defines (calls and data alike). Symbols
nothing here defines (libc, libestr, gnutls...) are not edges.

Fails, and prints why, on
  - a strongly connected component (Tarjan) of more than one file: a cycle,
    printed with the edges inside it and the symbols behind each edge;
  - an edge from a lib/shared/ object into one that is not: shared code
    never calls up. An object is a shared one if it comes from an input
    given with --shared, or if its path says it was compiled from shared/
    (an object of lib/shared/'s own target sits in a directory shared/;
    meson names lib/shared/util.c "shared_util.c.o" in a lib/ target).
With --strict-layers it also fails on an edge that runs up the LAYERS table
below; without it, such edges are printed as information only.
"""

import argparse
import collections
import os
import subprocess
import sys

# The intended order, lowest first (issue 16; the architecture review's
# target layout). A file may use files of its own rank or below. Files not
# listed are reported as unranked and take no part in the upward-edge check.
LAYERS = [
    ["shared/*"],
    ["fork"],
    ["scratch", "record", "fieldname"],
    ["settings", "level"],
    ["filter", "grace", "flow", "redact", "backtrace", "context", "correlation"],
    ["format"],
    ["format-text", "format-json", "format-logfmt", "format-rfc5424", "format-rfc3164"],
    ["format-registry"],
    ["handler", "record-copy"],
    [
        "handler-stream",
        "handler-journald",
        "handler-syslog",
        "syslog-queue",
        "syslog-tls",
        "syslog-relp",
        "handler-async",
        "handler-custom",
        "handler-file",
        "handler-capture",
        "handler-memory",
    ],
    ["handler-auto"],
    ["logger"],
    ["log"],
    ["config-parse"],
    ["config-memory"],
    ["config-build"],
    ["config-env"],
    ["config"],
    ["trail", "api"],
    ["trail-tool"],
]

DEFINED = set("TDBRVWGSCiu")  # global definitions (upper case: global; i, u: GNU ifunc/unique)
UNDEFINED = set("Uwv")


def unit_name(member):
    """config.c.o -> config; shared_util.c.o, .../lib/shared/<target>.p/util.c.o
    (meson's thin archives name members by path) -> shared/util."""
    in_shared = "shared" in member.replace("\\", "/").split("/")[:-1]
    name = os.path.basename(member)
    for suffix in (".o", ".obj"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    for suffix in (".c", ".cc"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.startswith("shared_"):
        name = "shared/" + name[len("shared_") :]
    elif in_shared:
        name = "shared/" + name
    return name


def read_symbols(path, nm):
    """{unit: (defined set, undefined set)} for every object in path."""
    out = subprocess.run(
        [nm, "-A", "--format=posix", path], check=True, capture_output=True, text=True
    ).stdout
    units = collections.defaultdict(lambda: (set(), set()))
    for line in out.splitlines():
        # "archive[member.o]: sym T value size" or "file.o: sym U"
        head, _, rest = line.rpartition(": ")
        if not head:
            continue
        fields = rest.split()
        if len(fields) < 2:
            continue
        sym, kind = fields[0], fields[1]
        member = head[head.index("[") + 1 : -1] if head.endswith("]") else head
        d, u = units[unit_name(member)]
        if kind in DEFINED:
            d.add(sym)
        elif kind in UNDEFINED:
            u.add(sym)
    return units


def tarjan(nodes, edges):
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            sccs.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sccs


def rank_of(unit):
    for i, layer in enumerate(LAYERS):
        for pattern in layer:
            if pattern.endswith("/*") and unit.startswith(pattern[:-1]):
                return i
            if unit == pattern:
                return i
    return None


def short(symbols, n=4):
    s = sorted(symbols)
    return ", ".join(s[:n]) + (f", ... ({len(s)} symbols)" if len(s) > n else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--shared", action="append", default=[], help="objects of lib/shared/")
    ap.add_argument("--strict-layers", action="store_true", help="fail on upward edges too")
    ap.add_argument("--nm", default=os.environ.get("NM", "nm"))
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()

    units, shared = {}, set()
    for path, is_shared in [(p, True) for p in args.shared] + [(p, False) for p in args.inputs]:
        for unit, syms in read_symbols(path, args.nm).items():
            if is_shared and not unit.startswith("shared/"):
                unit = "shared/" + unit
            if unit in units:  # the same object twice (e.g. given both ways)
                continue
            units[unit] = syms
            if unit.startswith("shared/"):
                shared.add(unit)

    definer = {}
    for unit, (defined, _) in units.items():
        for sym in defined:
            definer.setdefault(sym, unit)
    edges = {u: set() for u in units}
    because = collections.defaultdict(set)
    for unit, (_, undefined) in units.items():
        for sym in undefined:
            to = definer.get(sym)
            if to and to != unit:
                edges[unit].add(to)
                because[(unit, to)].add(sym)

    n_edges = sum(len(e) for e in edges.values())
    print(f"{len(units)} files, {n_edges} file-to-file edges, {len(shared)} in shared/")
    failed = False

    sccs = tarjan(units, edges)
    cycles = [s for s in sccs if len(s) > 1]
    for scc in sorted(cycles, key=len, reverse=True):
        failed = True
        members = set(scc)
        print(f"\nFAIL: cycle: {len(scc)} files call each other: {' '.join(scc)}")
        print("  edges inside it (the file on the left uses these symbols of the right):")
        for a in scc:
            for b in sorted(edges[a] & members):
                ra, rb = rank_of(a), rank_of(b)
                up = "  [up]" if ra is not None and rb is not None and rb > ra else ""
                print(f"    {a} -> {b}: {short(because[(a, b)])}{up}")
    if not cycles:
        print("no cycles: one strongly connected component per file")

    for a in sorted(shared):
        for b in sorted(edges[a] - shared):
            failed = True
            print(f"FAIL: shared/ calls up: {a} -> {b}: {short(because[(a, b)], 8)}")

    upward = []
    for a in sorted(units):
        for b in sorted(edges[a]):
            ra, rb = rank_of(a), rank_of(b)
            if ra is not None and rb is not None and rb > ra:
                upward.append((a, b))
    if upward:
        label = "FAIL" if args.strict_layers else "note"
        print(f"\n{label}: {len(upward)} edges run up the LAYERS table of {sys.argv[0]}:")
        for a, b in upward:
            print(f"    {a} (layer {rank_of(a)}) -> {b} (layer {rank_of(b)}): {short(because[(a, b)])}")
        failed = failed or args.strict_layers
    unranked = sorted(u for u in units if rank_of(u) is None)
    if unranked:
        print(f"\nnote: not in the LAYERS table (no upward-edge check): {' '.join(unranked)}")

    print("\nFAILED" if failed else "\nOK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
