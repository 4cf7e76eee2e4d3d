#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs gen-records (random records: random bytes, random field types) in the
# json format and reads every line back with python's json module: each line
# one object, no key twice, the built-in keys with their types, and every
# value round-trips as trail_formatter_new(3) promises (strings: the bytes
# with invalid UTF-8 replaced by U+FFFD per maximal subpart; BYTES: base64;
# integers exact; doubles exact, non-finite ones as "nan", "inf", "-inf").
# Usage: check-json.py GEN-RECORDS FORMAT COUNT
import base64, json, math, re, struct, subprocess, sys

LEVELS = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"]
BUILTIN = ["time", "level", "priority", "logger", "message", "ident", "file", "line",
           "func", "pid", "tid"]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return pairs


def expect_double(hexbits):
    return struct.unpack("<d", bytes.fromhex(hexbits))[0]


def check(expect, line, n):
    pairs = json.loads(line, object_pairs_hook=no_duplicates)
    keys = [k for k, _ in pairs]
    obj = dict(pairs)
    assert keys[:len(BUILTIN)] == BUILTIN, keys
    assert TIME.match(obj["time"]), obj["time"]
    assert obj["priority"] == expect["level"] and type(obj["priority"]) is int
    assert obj["level"] == LEVELS[expect["level"]]
    assert obj["logger"] == "gen.records"
    for k in ("line", "pid", "tid"):
        assert type(obj[k]) is int and obj[k] > 0, k
    want_msg = bytes.fromhex(expect["message"]).decode("utf-8", "replace")
    assert obj["message"] == want_msg, (obj["message"], want_msg)
    fields = pairs[len(BUILTIN):]
    assert [k for k, _ in fields] == [f[0] for f in expect["fields"]], (fields, expect)
    for (name, got), (_, kind, want) in zip(fields, expect["fields"]):
        if kind == "str":
            assert got == bytes.fromhex(want).decode("utf-8", "replace"), (name, got, want)
        elif kind == "bytes":
            assert base64.b64decode(got, validate=True) == bytes.fromhex(want), (name, got)
        elif kind in ("int", "uint"):
            assert type(got) is int and got == int(want), (name, got, want)
        elif kind == "bool":
            assert got is (want == "1"), (name, got, want)
        elif kind == "double":
            d = expect_double(want)
            if math.isnan(d):
                assert got == "nan", (name, got)
            elif math.isinf(d):
                assert got == ("inf" if d > 0 else "-inf"), (name, got)
            else:
                assert type(got) is float, (name, got)
                assert got == d and math.copysign(1, got) == math.copysign(1, d), (name, got, d)
        else:
            raise AssertionError("unknown kind " + kind)


def main():
    gen, fmt, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = subprocess.run([gen, fmt, str(count)], stdout=subprocess.PIPE, check=True).stdout
    lines = out.split(b"\n")
    assert lines[-1] == b"", "output does not end with a newline"
    lines = lines[:-1]
    assert len(lines) == 2 * count, "expected %d lines, got %d" % (2 * count, len(lines))
    for i in range(count):
        e, line = lines[2 * i], lines[2 * i + 1]
        assert e.startswith(b"E "), e
        try:
            # the output must be UTF-8 whatever went in
            check(json.loads(e[2:]), line.decode("utf-8", "strict"), i)
        except Exception as ex:
            print("record %d: %r\n%r" % (i, ex, line[:2000]), file=sys.stderr)
            return 1
    print("%d records read back" % count)
    return 0


sys.exit(main())
