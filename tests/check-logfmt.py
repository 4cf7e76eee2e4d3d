#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs gen-records in the logfmt format and reads every line back with a small
# reference parser of the go-logfmt convention: KEY=VALUE pairs separated by
# one space, VALUE bare (no space, '=', '"', '\', control or non-ASCII
# bytes) or a double-quoted string with JSON escapes. Checks the keys and that
# each value round-trips as trail_formatter_new(3) promises.
# Usage: check-logfmt.py GEN-RECORDS FORMAT COUNT
import base64, json, math, re, struct, sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from readback import read_back  # noqa: E402

LEVELS = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")
KEY = re.compile(r"[^ =\"]+")


def parse(line):
    """[(key, value, quoted)] of a logfmt line; raises ValueError."""
    pairs, i = [], 0
    while i < len(line):
        if pairs:
            if line[i] != " ":
                raise ValueError("no space before pair at %d" % i)
            i += 1
        m = KEY.match(line, i)
        if not m or m.end() >= len(line) or line[m.end()] != "=":
            raise ValueError("bad key at %d" % i)
        key, i = m.group(), m.end() + 1
        if i < len(line) and line[i] == '"':
            j = i + 1
            while True:
                if j >= len(line):
                    raise ValueError("unterminated quote")
                if line[j] == "\\":
                    j += 2
                elif line[j] == '"':
                    break
                else:
                    j += 1
            value = json.loads(line[i:j + 1])
            pairs.append((key, value, True))
            i = j + 1
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            value = line[i:j]
            if value == "" or any(c in value for c in '="\\') or \
                    any(ord(c) < 0x20 or ord(c) >= 0x7f for c in value):
                raise ValueError("bare value %r should be quoted" % value)
            pairs.append((key, value, False))
            i = j
    return pairs


def check(expect, line):
    pairs = parse(line)
    keys = [k for k, _, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    assert keys[:4] == ["time", "level", "logger", "msg"], keys
    v = {k: val for k, val, _ in pairs}
    assert TIME.match(v["time"]), v["time"]
    assert v["level"] == LEVELS[expect["level"]]
    assert v["logger"] == "gen.records"
    assert v["msg"] == bytes.fromhex(expect["message"]).decode("utf-8", "replace")
    fields = pairs[4:]
    assert [k for k, _, _ in fields] == [f[0] for f in expect["fields"]], (fields, expect)
    for (name, got, quoted), (_, kind, want) in zip(fields, expect["fields"]):
        if kind == "str":
            assert got == bytes.fromhex(want).decode("utf-8", "replace"), (name, got, want)
        elif kind == "bytes":
            assert base64.b64decode(got, validate=True) == bytes.fromhex(want), (name, got)
        elif kind in ("int", "uint"):
            assert not quoted and got == want, (name, got, want)
        elif kind == "bool":
            assert not quoted and got == ("true" if want == "1" else "false"), (name, got)
        elif kind == "double":
            d = struct.unpack("<d", bytes.fromhex(want))[0]
            assert not quoted, (name, got)
            if math.isnan(d):
                assert got == "nan", (name, got)
            else:
                f = float(got)
                assert f == d and math.copysign(1, f) == math.copysign(1, d), (name, got, d)
        else:
            raise AssertionError("unknown kind " + kind)


sys.exit(read_back(check))
