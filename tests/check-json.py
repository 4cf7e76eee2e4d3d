#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs gen-records (random records: random bytes, random field types) in the
# json format and reads every line back with python's json module: each line
# one object, no key twice, the built-in keys with their types, and every
# value round-trips as trail_formatter_new(3) promises (strings: the bytes
# with invalid UTF-8 replaced by U+FFFD per maximal subpart; BYTES: base64;
# integers exact; doubles exact, non-finite ones as "nan", "inf", "-inf").
# Usage: check-json.py GEN-RECORDS FORMAT COUNT
import base64, json, math, re, struct, sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from readback import read_back  # noqa: E402

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


def check(expect, line):
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


sys.exit(read_back(check))
